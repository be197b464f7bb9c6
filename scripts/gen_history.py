#!/usr/bin/env python3
"""A history of main for timing `perfgate trend`: RUNS run files of HANDLERS handlers each, in
the format of src/history.rs (one `<UTC time>-<commit>.json` per run; per handler
`[n, m, s, p50, p95, h]`: executions, mean and standard deviation of ln(ms + 0.1), p50 and p95 in
ms, and the half-octave histogram). One handler in ten steps 30% slower half way.

  scripts/gen_history.py DIR [RUNS] [HANDLERS]     (default 1,000 runs × 100 handlers)
"""
import datetime
import math
import os
import random
import sys

out = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
handlers = int(sys.argv[3]) if len(sys.argv) > 3 else 100
rng = random.Random(5)
os.makedirs(out, exist_ok=True)
C = 0.1
medians = [math.exp(rng.uniform(0, 3)) for _ in range(handlers)]
sigmas = [rng.uniform(0.2, 0.6) for _ in range(handlers)]
for r in range(runs):
    commit = "%07x" % rng.getrandbits(28)
    t = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=r, milliseconds=123)
    stamp = t.strftime("%Y%m%dT%H%M%S") + "%03dZ" % (t.microsecond // 1000)
    iso = t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (t.microsecond // 1000)
    lines = []
    for i in range(handlers):
        slow = 1.3 if (i % 10 == 0 and r >= runs // 2) else 1.0
        n = rng.randint(2, 300)
        xs = sorted(medians[i] * slow * math.exp(rng.gauss(0, sigmas[i])) for _ in range(n))
        logs = [math.log(x + C) for x in xs]
        m = sum(logs) / n
        sd = math.sqrt(sum((v - m) ** 2 for v in logs) / (n - 1)) if n > 1 else 0.0
        buckets = [math.floor(2 * math.log2(x + C)) for x in xs]
        b0 = min(buckets)
        counts = [0] * (max(buckets) - b0 + 1)
        for b in buckets:
            counts[b - b0] += 1
        p50 = xs[int(0.5 * (n - 1))]
        p95 = xs[int(0.95 * (n - 1))]
        lines.append('"h%03d":[%d,%.4f,%.3f,%.3g,%.3g,[%s]]' % (i, n, m, sd, p50, p95, ",".join(map(str, [b0] + counts))))
    text = ('{"v":1,"commit":"%s","time":"%s","fields":"n,m,s,p50,p95,h","bucket":"floor(2*log2(ms+0.1))",\n'
            '"plugins":{\n"Bench":{\n%s}\n}}\n' % (commit, iso, ",\n".join(lines)))
    with open(os.path.join(out, "%s-%s.json" % (stamp, commit)), "w") as f:
        f.write(text)
