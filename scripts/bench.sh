#!/usr/bin/env bash
# Throughput and peak memory of `perfgate analyze`, and the wall time of `perfgate check`.
#
#   scripts/bench.sh [RUNS]          (default 5 runs per case, at least 5 pairs; prints medians)
#   scripts/bench.sh --pairs [RUNS]  (only the shapes paired with `grep -c`, below)
#   scripts/bench.sh --smoke         (CI: every case once, on small inputs, nothing timed)
#
# Generates, once, into $PERFGATE_BENCH_DATA (default /tmp/perfgate-bench, ~13 GiB; outside
# the repository, whose catalogs perfgate discovers by default), with perfgate's seeded
# generator (realistic mix of envelopes and hard cases, ~15% timing lines):
#   one/     one 1 GiB log (seed 42)
#   many/    64 logs of 16 MiB (seed 43)
#   quarter/ one 256 MiB log (seed 44)                      } peak RSS against the number of
#   sparse/  one 1 GiB log with 40 noise lines per beat      } samples: bytes per sample
#   apps/    a 1 GiB HTTP access-style log (user pattern); a 1 MB one with 100 routes (check)
#   mixed/   one 1 GiB log, envelopes mixed per line (seed 42, --envelopes line)
#   chrome/  one 1 GiB log, one Chrome envelope throughout; chrome2/, chrome4/: it twice and
#            four times over (peak RSS against size; ~7 GiB more in all)
# and with a second generator written independently from the log grammar
# (scripts/gen_console.py: ~1,800 handlers, envelopes mixed per line and stacked, every beat
# named by a handler line too):
#   py/      one 1 GiB log and its catalog
# The shapes one/, mixed/, chrome/, py/ and many/ — and chrome/ and py/ again without a catalog
# (handlers named by the log's own handler lines) — are each paired with `grep -c 'completed
# in'` on the same files in every run (A B A B …): the ratios of the two wall times and of the
# two CPU times (user + sys) are the figures to watch, printed with the machine's CPU model and
# load average.
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=false pairs_only=false
if [ "${1:-}" = "--smoke" ]; then
  smoke=true
  shift
elif [ "${1:-}" = "--pairs" ]; then
  pairs_only=true
  shift
fi
runs="${1:-5}"
data="${PERFGATE_BENCH_DATA:-/tmp/perfgate-bench}"
bin="${CARGO_TARGET_DIR:-target}/release/perfgate"
gib=1073741824 mib16=16777216 files=64 apps_copies=64
if $smoke; then
  # The same cases on inputs small enough for CI, each run once: checks that the script and
  # the commands it times work, and times nothing.
  data=$(mktemp -d)
  trap 'rm -rf "$data"' EXIT
  runs=1 gib=4194304 mib16=262144 files=4 apps_copies=1
fi
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cpu=${cpu:-$(uname -m)}

cargo build --release --locked --quiet
bin=$(cd "$(dirname "$bin")" && pwd)/perfgate
echo "machine: $cpu, $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg); perfgate $("$bin" --version | cut -d' ' -f2)"
if ! $smoke && [ ! -x /usr/bin/time ]; then
  echo "needs /usr/bin/time (Debian package: time)" >&2
  exit 1
fi
generate() { # dir, generator arguments...
  local dir=$1
  shift
  if [ ! -f "$data/$dir/done" ]; then
    rm -rf "${data:?}/$dir"
    "$bin" generate --out "$data/$dir" "$@"
    touch "$data/$dir/done"
  fi
}
generate one --seed 42 --bytes "$gib"
generate many --seed 43 --files "$files" --bytes "$mib16"
if ! $pairs_only; then
generate quarter --seed 44 --bytes $((gib / 4))
generate sparse --seed 45 --bytes "$gib" --noise 40

# User patterns: an HTTP access-style log (15% timing lines, mixed units) read by the `http`
# rule of fixtures/apps/perfgate.toml; and a 1 MB one with 100 fixed routes for `check`.
access_log() { # out, bytes, routes (0: routes with ids)
  python3 - "$@" <<'PY'
import random, sys
out, size_limit, routes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(7 + routes)
shapes = ["GET /users/%d", "POST /orders", "GET /health", "PUT /users/%d/profile", "DELETE /sessions/%d", "GET /products/%d"]
lines, size = [], 0
while size < size_limit:
    r = "GET /r%02d" % random.randrange(routes) if routes else random.choice(shapes)
    if "%d" in r:
        r = r % random.randint(1, 99999)
    if routes or random.random() < 0.15:
        unit = random.choice(["ms", " ms", "us", "s"])
        value = {"ms": random.lognormvariate(2, 0.5), " ms": random.lognormvariate(2, 0.5), "us": random.lognormvariate(6, 0.5), "s": random.lognormvariate(-3, 0.5)}[unit]
        line = "2025-11-20T10:00:%02d.%03dZ INFO %s 200 handled in %.2f%s\n" % (random.randint(0, 59), random.randint(0, 999), r, value, unit)
    else:
        line = "2025-11-20T10:00:%02d.%03dZ DEBUG cache lookup for %s key=%08x hit=%s\n" % (random.randint(0, 59), random.randint(0, 999), r, random.getrandbits(32), random.choice(["true", "false"]))
    lines.append(line)
    size += len(line)
open(out, "w").write("".join(lines))
PY
}
mkdir -p "$data/apps"
if [ ! -f "$data/apps/access-1g.log" ]; then
  access_log "$data/apps/chunk.log" $((gib / 64)) 0
  for _ in $(seq "$apps_copies"); do cat "$data/apps/chunk.log"; done > "$data/apps/access-1g.log"
  rm "$data/apps/chunk.log"
fi
if [ ! -f "$data/apps/check/access-1m.log" ]; then
  mkdir -p "$data/apps/check"
  access_log "$data/apps/check/access-1m.log" 1000000 100
fi
cat "$data"/one/logs/*.log "$data"/many/logs/*.log "$data"/quarter/logs/*.log "$data"/sparse/logs/*.log "$data"/apps/*.log > /dev/null

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

measure() { # name, bytes, command...
  local name=$1 bytes=$2
  shift 2
  if $smoke; then
    "$@" > "$data/stdout"
    echo "ran: $name"
    return
  fi
  local times=() cpus=() rss=()
  for _ in $(seq "$runs"); do
    local out
    # Not /dev/null: GNU grep stops at the first match when its output is /dev/null.
    out=$( { /usr/bin/time -f "%e %U %S %M" "$@" > "$data/stdout"; } 2>&1 | tail -1)
    read -r wall user sys peak <<< "$out"
    times+=("$wall")
    cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")
    rss+=("$peak")
  done
  local t c r
  t=$(printf '%s\n' "${times[@]}" | median)
  c=$(printf '%s\n' "${cpus[@]}" | median)
  r=$(printf '%s\n' "${rss[@]}" | median)
  awk -v n="$name" -v t="$t" -v c="$c" -v r="$r" -v b="$bytes" -v k="$runs" -v cpu="$cpu" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
    'BEGIN { printf "%-46s %7.2f s  CPU %6.2f s  %6.2f GB/s  %7.1f MB peak RSS  (median of %d; %s, load %s)\n", n, t, c, b / t / 1e9, r / 1024, k, cpu, load }'
  last_rss=$r
}

samples_of() { # dir
  "$bin" analyze "$data/$1/logs" --catalog "$data/$1/json-sequences" --format json | grep -m1 '"samples"' | tr -dc 0-9
}

size_of() { cat "$@" | wc -c; }
one_bytes=$(size_of "$data"/one/logs/*.log)
measure "perfgate analyze, 1 file of 1 GiB" "$one_bytes" "$bin" analyze "$data/one/logs" --catalog "$data/one/json-sequences"
rss_one=${last_rss:-0}
measure "perfgate analyze, $files files of 16 MiB" "$(size_of "$data"/many/logs/*.log)" "$bin" analyze "$data/many/logs" --catalog "$data/many/json-sequences"
measure "grep -c 'completed in', 1 file of 1 GiB" "$one_bytes" grep -c "completed in" "$data/one/logs/run-00.log"
measure "perfgate analyze, user pattern, 1 GiB" "$(size_of "$data/apps/access-1g.log")" \
  "$bin" analyze --config fixtures/apps/perfgate.toml "$data/apps/access-1g.log"

# Peak RSS against samples: the same generator at 1/4 of the size, and at the same size with
# ten times the unrelated lines (far fewer samples).
measure "perfgate analyze, 1 file of 256 MiB" "$(size_of "$data"/quarter/logs/*.log)" \
  "$bin" analyze "$data/quarter/logs" --catalog "$data/quarter/json-sequences"
rss_quarter=${last_rss:-0}
measure "perfgate analyze, 1 GiB, 40 noise lines per beat" "$(size_of "$data"/sparse/logs/*.log)" \
  "$bin" analyze "$data/sparse/logs" --catalog "$data/sparse/json-sequences"
s_one=$(samples_of one) s_quarter=$(samples_of quarter) s_sparse=$(samples_of sparse)
echo "samples: 1 GiB $s_one, 256 MiB $s_quarter, 1 GiB sparse $s_sparse"
if ! $smoke; then
  awk -v a="$rss_one" -v b="$rss_quarter" -v sa="$s_one" -v sb="$s_quarter" \
    'BEGIN { printf "peak RSS per sample (1 GiB against 256 MiB): %.0f bytes\n", (a - b) * 1024 / (sa - sb) }'
fi

# check: a 1 MB log of 100 handlers against a baseline made from it (wall time of the whole
# process, Python's perf_counter, 20 runs).
check_dir="$data/apps/check"
rm -f "$check_dir/baseline.json"
"$bin" update-baseline --config fixtures/apps/perfgate.toml --baseline "$check_dir/baseline.json" \
  --commit bench "$check_dir/access-1m.log" > /dev/null
handlers=$(grep -c '"pooled"' "$check_dir/baseline.json" || true)
if $smoke; then
  "$bin" check --config fixtures/apps/perfgate.toml --baseline "$check_dir/baseline.json" "$check_dir/access-1m.log" > /dev/null
  echo "ran: perfgate check ($handlers handlers)"
else
  python3 - "$bin" "$check_dir" "$runs" "$handlers" <<'PY'
import statistics, subprocess, sys, time
bin, d, runs, handlers = sys.argv[1], sys.argv[2], max(20, int(sys.argv[3])), sys.argv[4]
cmd = [bin, "check", "--config", "fixtures/apps/perfgate.toml", "--baseline", d + "/baseline.json", d + "/access-1m.log"]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
print("perfgate check, 1 MB log, %s-handler baseline: %.1f ms (median of %d)" % (handlers, statistics.median(times) * 1000, runs))
PY
fi

# check on many distinct handlers (routes with ids, no `normalize`): 20,000 handlers of 3
# samples each, every report written (JSON, markdown, HTML). The gate, the reports and the
# comment's trimming are O(n log n) in handlers.
many_handlers=20000
if $smoke; then many_handlers=500; fi
wide="$data/apps/wide-$many_handlers"
if [ ! -f "$wide/now.log" ]; then
  mkdir -p "$wide"
  printf '[[sources.json]]\nhandler = "h"\nduration = "ms"\nplugin = "Api"\n' > "$wide/perfgate.toml"
  python3 - "$wide" "$many_handlers" <<'PY'
import random, sys
d, n = sys.argv[1], int(sys.argv[2])
for name, seed in [("base.log", 1), ("now.log", 2)]:
    random.seed(seed)
    with open("%s/%s" % (d, name), "w") as f:
        for _ in range(3):
            for i in range(n):
                f.write('{"h":"GET /users/%d","ms":%.2f}\n' % (i, random.lognormvariate(1, 0.4)))
PY
fi
rm -f "$wide/baseline.json"
"$bin" update-baseline --config "$wide/perfgate.toml" --baseline "$wide/baseline.json" "$wide/base.log" > /dev/null 2>&1
wide_check=("$bin" check --config "$wide/perfgate.toml" --baseline "$wide/baseline.json" "$wide/now.log"
  --json "$data/wide.json" --markdown "$data/wide.md" --html "$data/wide.html" --format markdown)
if $smoke; then
  "${wide_check[@]}" > /dev/null 2>&1
  echo "ran: perfgate check ($many_handlers handlers, every report)"
else
  python3 - "$runs" "$many_handlers" "${wide_check[@]}" <<'PY'
import statistics, subprocess, sys, time
runs, n, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
print("perfgate check, %s distinct handlers, every report: %.2f s (median of %d)" % (n, statistics.median(times), runs))
PY
fi

fi # not --pairs

# The log shapes users' consoles have, paired with `grep -c` on the same file in each run (the
# limit to chase): envelopes mixed per line (a console of several tabs and workers), and one
# Chrome envelope throughout; then peak RSS against size with the same content repeated (1, 2
# and 4 times the Chrome log), where memory should not grow with executions.
generate mixed --seed 42 --bytes "$gib" --envelopes line
generate chrome --seed 42 --bytes "$gib" --envelopes chrome
if [ ! -f "$data/py/done" ]; then
  rm -rf "${data:?}/py"
  python3 scripts/gen_console.py "$data/py" "$gib" --seed 42 > /dev/null
  touch "$data/py/done"
fi
if ! $pairs_only; then
  for k in 2 4; do
    if [ ! -f "$data/chrome$k/done" ]; then
      mkdir -p "$data/chrome$k/logs"
      for _ in $(seq "$k"); do cat "$data/chrome/logs/run-00.log"; done > "$data/chrome$k/logs/run-00.log"
      cp -r "$data/chrome/json-sequences" "$data/chrome$k/"
      touch "$data/chrome$k/done"
    fi
  done
fi
if $smoke; then
  for shape in mixed chrome chrome2 chrome4 py; do
    "$bin" analyze "$data/$shape/logs" --catalog "$data/$shape/json-sequences" > /dev/null
    echo "ran: perfgate analyze, $shape"
  done
  for shape in chrome py; do
    # No catalog: run where none is discovered (the logs' directory, outside any repository).
    (cd "$data/$shape/logs" && "$bin" analyze run-00.log > /dev/null)
    echo "ran: perfgate analyze, $shape, no catalog"
  done
else
  python3 - "$bin" "$data" "$runs" "$cpu" "$pairs_only" <<'PY'
import glob, os, statistics, subprocess, sys, time
bin, data, runs, cpu, pairs_only = sys.argv[1], sys.argv[2], max(5, int(sys.argv[3])), sys.argv[4], sys.argv[5] == "true"
def timed(cmd, cwd=None):
    """Wall and CPU (user + sys) seconds of one run. A pipe, not /dev/null: GNU grep stops at
    the first match when its output is /dev/null."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd)
    p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    if cmd[0] != "grep" and p.returncode != 0:
        sys.exit("failed: %s" % " ".join(cmd))
    return wall, ru.ru_utime + ru.ru_stime
def rss(cmd, cwd=None):
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True, cwd=cwd)
    return int(out.stderr.strip().splitlines()[-1]) / 1024
def load():
    return open("/proc/loadavg").read().split()[0]
# Each shape, then `grep -c` on the same bytes, alternately (the page cache warmed first).
# (directory, label, with its catalog)
shapes = [("one", "envelopes per execution", True), ("mixed", "envelopes mixed per line", True),
          ("chrome", "one Chrome envelope", True), ("chrome", "one Chrome envelope, no catalog", False),
          ("py", "2nd generator (stacked, mixed, 1.8k handlers)", True), ("py", "2nd generator, no catalog", False),
          ("many", "64 files of 16 MiB", True)]
print("paired with grep -c 'completed in' on the same files, A B A B ..., medians of %d pairs; CPU = user + sys" % runs)
for shape, label, with_catalog in shapes:
    logs = sorted(glob.glob(f"{data}/{shape}/logs/*.log"))
    subprocess.run(["cat"] + logs, stdout=subprocess.DEVNULL, check=True)
    if with_catalog:
        ours, cwd = [bin, "analyze", f"{data}/{shape}/logs", "--catalog", f"{data}/{shape}/json-sequences"], None
    else:
        # No catalog is discovered in the logs' directory (outside any repository).
        ours, cwd = [bin, "analyze"] + [os.path.basename(f) for f in logs], f"{data}/{shape}/logs"
    grep = ["grep", "-c", "completed in"] + logs
    pairs = [(timed(ours, cwd), timed(grep)) for _ in range(runs)]
    p = statistics.median(x[0] for x, _ in pairs)
    pc = statistics.median(x[1] for x, _ in pairs)
    g = statistics.median(y[0] for _, y in pairs)
    gc = statistics.median(y[1] for _, y in pairs)
    r = statistics.median(x[0] / y[0] for x, y in pairs)
    rc = statistics.median(x[1] / y[1] for x, y in pairs)
    size = sum(os.path.getsize(f) for f in logs)
    print("%-56s %5.2f s (CPU %5.2f s) %5.2f GB/s | grep -c %5.2f s (CPU %5.2f s) | wall %4.2f× CPU %4.2f× | %5.1f MB peak RSS | %s, load %s"
          % ("perfgate analyze, " + label, p, pc, size / p / 1e9, g, gc, r, rc, rss(ours, cwd), cpu, load()))
if not pairs_only:
    peaks = []
    for k in [1, 2, 4]:
        shape = "chrome" if k == 1 else f"chrome{k}"
        cmd = [bin, "analyze", f"{data}/{shape}/logs", "--catalog", f"{data}/{shape}/json-sequences"]
        peaks.append(statistics.median(rss(cmd) for _ in range(3)))
        print("peak RSS, the Chrome log ×%d (%d GiB): %.1f MB (median of 3)" % (k, k, peaks[-1]))
    print("peak RSS growth per GiB: 1 → 2 GiB %.1f MB, 2 → 4 GiB %.1f MB" % (peaks[1] - peaks[0], (peaks[2] - peaks[1]) / 2))
PY
fi
