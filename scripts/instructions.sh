#!/usr/bin/env bash
# Instructions and simulated cache misses per 64 MiB of input, by function, of one or two
# perfgate binaries: the figure that does not move with the machine's load. On a shared machine
# two timings of the same binary differ by up to 2×, so a change of a few percent is seen here
# (valgrind's cachegrind: deterministic counts; it simulates no prefetching and runs the
# threads one at a time, so it says what the work is, not how long it takes — time it with
# scripts/bench.sh too).
#
#   scripts/instructions.sh SHAPE MODE BIN [BIN_B]
#     SHAPE  py | chrome | one | mixed   (inputs made by scripts/bench.sh in $PERFGATE_BENCH_DATA,
#                                         default /tmp/perfgate-bench)
#     MODE   catalog | nocatalog         (with the shape's catalog, or run in a directory where
#                                         none is discovered)
#     BIN    a perfgate binary; build one with symbols for the table by function:
#            cargo build --profile profiling  →  target/profiling/perfgate
#
# The cost of 64 MiB is the run on the file's first 128 MiB less the run on its first 64 MiB:
# what does not grow with the input (the catalog's loading, the report) cancels out.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,/^set -e/p' "$0" | sed '$d' >&2
  exit 2
fi
shape=$1 mode=$2
shift 2
command -v valgrind > /dev/null || { echo "needs valgrind (Debian package: valgrind)" >&2; exit 1; }
data="${PERFGATE_BENCH_DATA:-/tmp/perfgate-bench}"
log="$data/$shape/logs/run-00.log"
[ -f "$log" ] || { echo "$log: missing; scripts/bench.sh makes it" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for mib in 64 128; do
  mkdir -p "$work/$mib"
  head -c $((mib << 20)) "$log" > "$work/$mib/run-00.log"
done
run() { # binary, size, output
  local bin
  bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  if [ "$mode" = catalog ]; then
    (cd "$work" && valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file="$3" \
      "$bin" analyze "$2/run-00.log" --catalog "$data/$shape/json-sequences" > /dev/null 2> /dev/null)
  else
    (cd "$work/$2" && valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file="$3" \
      "$bin" analyze run-00.log > /dev/null 2> /dev/null)
  fi
}
outs=()
n=0
for bin in "$@"; do
  run "$bin" 64 "$work/$n-64.out" &
  run "$bin" 128 "$work/$n-128.out"
  wait
  outs+=("$bin" "$work/$n-64.out" "$work/$n-128.out")
  n=$((n + 1))
done
python3 - "$shape" "$mode" "${outs[@]}" << 'PY'
import collections, sys
shape, mode, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
def load(path):
    events, fn, counts = None, None, collections.Counter()
    for line in open(path):
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith("fn="):
            fn = line[3:].strip()
        elif line[:1].isdigit():
            for e, v in zip(events, map(int, line.split()[1:])):
                counts[(fn, e)] += v
    return counts
runs = []
for i in range(0, len(rest), 3):
    small, large = load(rest[i + 1]), load(rest[i + 2])
    runs.append((rest[i], collections.Counter({k: large[k] - small.get(k, 0) for k in large})))
print(f"per 64 MiB of {shape}/ ({mode}): instructions (Ir), first-level data read misses (D1mr), last-level (DLmr)")
for bin, d in runs:
    total = lambda e: sum(v for (_, ev), v in d.items() if ev == e)
    print(f"  {bin}: Ir {total('Ir') / 1e6:.0f}M  D1mr {total('D1mr') / 1e6:.2f}M  DLmr {total('DLmr') / 1e6:.2f}M")
if len(runs) == 2:
    (a, da), (b, db) = runs
    ratio = sum(v for (_, e), v in da.items() if e == "Ir") / sum(v for (_, e), v in db.items() if e == "Ir")
    print(f"  instructions, first / second: {ratio:.3f}")
bin, d = runs[0]
fns = collections.defaultdict(dict)
for (fn, e), v in d.items():
    fns[fn][e] = v
print(f"by function ({bin}; symbols only from a build with them):")
for fn, v in sorted(fns.items(), key=lambda kv: -kv[1].get("Ir", 0))[:25]:
    print(f"  {v.get('Ir', 0) / 1e6:8.1f}M Ir {v.get('D1mr', 0) / 1e3:7.0f}k D1mr  {fn[:100]}")
PY
