#!/usr/bin/env python3
"""Main branches through the binary, as a user's CI records them: 24 commits of `perfgate
generate --suite 84 --executions 1000` with a 10% runner drift (log sd 0.1), one handler of at
least 50 executions a run ×1.25 from a commit on (`step`) or nothing changed (`unchanged`);
`update-baseline --commit` per commit, `trend --json` at the end. Prints a line per branch.

    scripts/trend-cli-sim.py target/release/perfgate 8 step
    scripts/trend-cli-sim.py target/release/perfgate 8 unchanged

The in-process simulation (src/trend/simulation.rs) measures the rates; this checks the same
path end to end on the generator's suite, which the simulation did not draw."""
import json, math, os, random, subprocess, sys, tempfile
P = os.path.abspath(sys.argv[1]); N = int(sys.argv[2]); scenario = sys.argv[3]
def run(args, cwd):
    r = subprocess.run([P] + args, cwd=cwd, capture_output=True, text=True)
    return r
res = []
for b in range(N):
    rng = random.Random(1000 + b)
    d = tempfile.mkdtemp()
    # the suite's handlers and their counts
    run(["generate", "--out", "probe", "--suite", "84", "--executions", "1000", "--seed", "1"], d)
    truth = json.load(open(os.path.join(d, "probe", "truth.json")))["samples"]
    eligible = sorted(k for k, v in truth.items() if len(v) >= 50)
    target = rng.choice(eligible)
    at = rng.randrange(6, 18)
    for r in range(24):
        drift = math.exp(0.1 * rng.gauss(0, 1))
        extra = ["--slow", f"{target}=1.25"] if scenario == "step" and r >= at else []
        out = f"r{r}"
        g = run(["generate", "--out", out, "--suite", "84", "--executions", "1000", "--seed", str(b * 100 + r + 2), "--drift", f"{drift:.4f}"] + extra, d)
        assert g.returncode == 0, g.stderr
        u = run(["update-baseline", f"{out}/logs", "--catalog", f"{out}/json-sequences", "--baseline", "baseline.json", "--commit", f"c{r:02}"], d)
        assert u.returncode == 0, u.stderr
        subprocess.run(["rm", "-rf", os.path.join(d, out)])
    t = run(["trend", "--catalog", "probe/json-sequences", "--baseline", "baseline.json", "--json", "out.json"], d)
    changes = json.load(open(os.path.join(d, "out.json")))["changes"]
    slower = [c for c in changes if c.get("direction") == "slower"]
    hit = [c for c in slower if c["handler"] == target]
    res.append((target, len(truth[target]), at, [(c["handler"], c["commit"]) for c in slower]))
    found = bool(hit); exact = any(c["commit"] == f"c{at:02}" for c in hit)
    print(f"branch {b} target={target} n={len(truth[target])} at=c{at:02} slower={[(c['handler'], c['commit']) for c in slower]} found={found} exact={exact}", flush=True)
    subprocess.run(["rm", "-rf", d])
