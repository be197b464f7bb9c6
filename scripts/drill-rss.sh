#!/usr/bin/env bash
# Peak RSS, wall and CPU of `perfgate analyze --json` (the default drill-down kept) and of the
# terminal report (no drill-down), at 1 GiB and 2 GiB on two shapes: perfgate's Chrome console
# and the second generator's (scripts/gen_console.py, 1,661 handlers per GiB). Medians of RUNS.
#
#   scripts/drill-rss.sh [RUNS]     (default 3; inputs made by scripts/bench.sh in
#                                    $PERFGATE_BENCH_DATA, default /tmp/perfgate-bench; the
#                                    2 GiB second-generator log is its 1 GiB log twice, made here)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
data="${PERFGATE_BENCH_DATA:-/tmp/perfgate-bench}"
bin="${CARGO_TARGET_DIR:-target}/release/perfgate"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ ! -f "$data/py2/done" ]; then
  mkdir -p "$data/py2/logs"
  cat "$data"/py/logs/run-00.log "$data"/py/logs/run-00.log > "$data/py2/logs/run-00.log"
  touch "$data/py2/done"
fi
if [ ! -f "$data/chrome2/logs/run-00.log" ]; then
  mkdir -p "$data/chrome2/logs"
  cat "$data"/chrome/logs/run-00.log "$data"/chrome/logs/run-00.log > "$data/chrome2/logs/run-00.log"
fi
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "machine: ${cpu:-$(uname -m)}, $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for shape in chrome chrome2 py py2; do
  catalog="$data/${shape%2}/json-sequences"
  for mode in json terminal; do
    rss=() wall=() cpus=()
    for _ in $(seq "$runs"); do
      args=()
      [ "$mode" = json ] && args=(--json "$out/out.json")
      /usr/bin/time -f '%M %e %U %S' -o "$out/time" "$bin" analyze "$data/$shape/logs" --catalog "$catalog" "${args[@]}" > /dev/null 2>&1
      read -r m e u s < "$out/time"
      rss+=("$m") wall+=("$e") cpus+=("$(echo "$u + $s" | bc)")
    done
    kept=""
    if [ "$mode" = json ]; then
      kept=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); h=r['handlers']; print(len(h), 'handlers,', sum(len(x['executionList']) for x in h), 'kept,', sum(1 for x in h if 'executionsCapped' in x), 'capped')" "$out/out.json")
    fi
    printf '%-8s %-8s peak RSS %6.1f MB  wall %5.2f s  CPU %5.2f s  %s\n' "$shape" "$mode" \
      "$(printf '%s\n' "${rss[@]}" | median | awk '{ print $1 / 1000 }')" \
      "$(printf '%s\n' "${wall[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" "$kept"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
