#!/usr/bin/env bash
# Throughput and peak memory of `perfgate analyze` on generated conductor logs.
#
#   scripts/bench.sh [RUNS]        (default 5 runs per case; prints medians)
#
# Generates, once, into $PERFGATE_BENCH_DATA (default /tmp/perfgate-bench, ~2 GiB; outside the
# repository, whose catalogs perfgate discovers by default): one 1 GiB log (seed 42) and 64 logs
# of 16 MiB (seed 43), with the generator's realistic mix of envelopes and hard cases. Reads
# them once to warm the page cache, then times each case RUNS times with /usr/bin/time
# (wall seconds, peak RSS) and compares with `grep -c` of a timing literal on the same file.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
data="${PERFGATE_BENCH_DATA:-/tmp/perfgate-bench}"
bin=target/release/perfgate

cargo build --release --quiet
if [ ! -x /usr/bin/time ]; then
  echo "needs /usr/bin/time (Debian package: time)" >&2
  exit 1
fi
if [ ! -f "$data/one/logs/run-00.log" ]; then
  "$bin" generate --out "$data/one" --seed 42 --bytes 1073741824
fi
if [ ! -f "$data/many/logs/run-63.log" ]; then
  "$bin" generate --out "$data/many" --seed 43 --files 64 --bytes 16777216
fi
cat "$data"/one/logs/*.log "$data"/many/logs/*.log > /dev/null

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

measure() { # name, bytes, command...
  local name=$1 bytes=$2
  shift 2
  local times=() rss=()
  for _ in $(seq "$runs"); do
    local out
    # Not /dev/null: GNU grep stops at the first match when its output is /dev/null.
    out=$( { /usr/bin/time -f "%e %M" "$@" > "$data/stdout"; } 2>&1 | tail -1)
    times+=("${out% *}")
    rss+=("${out#* }")
  done
  local t r
  t=$(printf '%s\n' "${times[@]}" | median)
  r=$(printf '%s\n' "${rss[@]}" | median)
  awk -v n="$name" -v t="$t" -v r="$r" -v b="$bytes" -v k="$runs" \
    'BEGIN { printf "%-44s %7.2f s  %6.2f GB/s  %7.1f MB peak RSS  (median of %d)\n", n, t, b / t / 1e9, r / 1024, k }'
}

one_bytes=$(stat -c %s "$data/one/logs/run-00.log")
many_bytes=$(cat "$data"/many/logs/*.log | wc -c)
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); perfgate $("$bin" --version | cut -d' ' -f2)"
measure "perfgate analyze, 1 file of 1 GiB" "$one_bytes" "$bin" analyze "$data/one/logs" --catalog "$data/one/json-sequences"
measure "perfgate analyze, 64 files of 16 MiB" "$many_bytes" "$bin" analyze "$data/many/logs" --catalog "$data/many/json-sequences"
measure "grep -c 'completed in', 1 file of 1 GiB" "$one_bytes" grep -c "completed in" "$data/one/logs/run-00.log"
"$bin" analyze "$data/one/logs" --catalog "$data/one/json-sequences" --format json > "$data/report.json"
samples=$(grep -m1 '"samples"' "$data/report.json" | tr -dc 0-9)
echo "samples in the 1 GiB file: $samples"

# The user-pattern path: a 1 GiB HTTP access-style log (15% timing lines, mixed units), read by
# the `http` rule of fixtures/apps/perfgate.toml.
if [ ! -f "$data/apps/access-1g.log" ]; then
  mkdir -p "$data/apps"
  python3 - "$data/apps/chunk.log" <<'PY'
import random, sys
random.seed(7)
routes = ["GET /users/%d", "POST /orders", "GET /health", "PUT /users/%d/profile", "DELETE /sessions/%d", "GET /products/%d"]
out, size = [], 0
while size < 16 * 1024 * 1024:
    r = random.choice(routes)
    if "%d" in r:
        r = r % random.randint(1, 99999)
    if random.random() < 0.15:
        unit = random.choice(["ms", " ms", "us", "s"])
        value = {"ms": random.lognormvariate(2, 0.5), " ms": random.lognormvariate(2, 0.5), "us": random.lognormvariate(6, 0.5), "s": random.lognormvariate(-3, 0.5)}[unit]
        line = "2025-11-20T10:00:%02d.%03dZ INFO %s 200 handled in %.2f%s\n" % (random.randint(0, 59), random.randint(0, 999), r, value, unit)
    else:
        line = "2025-11-20T10:00:%02d.%03dZ DEBUG cache lookup for %s key=%08x hit=%s\n" % (random.randint(0, 59), random.randint(0, 999), r, random.getrandbits(32), random.choice(["true", "false"]))
    out.append(line)
    size += len(line)
open(sys.argv[1], "w").write("".join(out))
PY
  for _ in $(seq 64); do cat "$data/apps/chunk.log"; done > "$data/apps/access-1g.log"
  rm "$data/apps/chunk.log"
fi
cat "$data/apps/access-1g.log" > /dev/null
apps_bytes=$(stat -c %s "$data/apps/access-1g.log")
measure "perfgate analyze, user pattern, 1 GiB" "$apps_bytes" "$bin" analyze --config fixtures/apps/perfgate.toml "$data/apps/access-1g.log"
