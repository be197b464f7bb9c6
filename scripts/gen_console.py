#!/usr/bin/env python3
"""A second, independent generator of conductor console logs, for the benchmarks.

Written from ../shared/spec/LOG-FORMATS.md alone (not from perfgate's own generator), so that
perfgate's speed is also measured on a shape it was not tuned on:

  * many handlers per GiB: SEQUENCES sequences (default 600) of 1-5 beats, each beat its own
    handler (about 1,800 handlers, under the 2,000 that make perfgate warn), played with a skewed (Zipf-like) frequency;
  * envelopes mixed per line, several of them stacked on one line (LOG-FORMATS.md §2 and §3
    step 2): Chrome `EventBus.ts:56 <ts>`, React DevTools `installHook.js:1 <ts>`, one-space
    lines, Cypress `[<ts>] LOG <ts>` with `%c` and its CSS residue, the analyser's
    `+2.385s │ EventBus.ts:56 <ts>` and `Line N: EventBus.ts:56 <ts>` in front of a Chrome
    location;
  * every beat timed by T2 (`PerformanceTracker: Beat N completed in X.XXms`), its T3
    (`BeatExecutor: Beat N (event) completed in Nms`) and T4 (`✅ Completed in`) copies, and named
    by a handler-level DataBaton line (C18, `beat=? … handler=<name> plugin=<P> req=<request>`)
    a few lines after it, so that a run without the catalog names the same handlers from the log;
  * subscriber timings and other unrelated lines between beats.

Writes OUT/logs/run-00.log (at least BYTES bytes) and the catalog OUT/json-sequences/<plugin>/
<sequence>.json; prints the number of beats (samples) written.

  scripts/gen_console.py OUT BYTES [--seed N] [--sequences N]
"""
import argparse
import json
import os
import random

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("bytes", type=int)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--sequences", type=int, default=600)
args = ap.parse_args()
rng = random.Random(args.seed)

WORDS = ["library", "canvas", "component", "control", "panel", "header", "theme", "drag", "drop", "resize",
         "select", "render", "load", "notify", "create", "update", "export", "import", "layout", "grid"]
VERBS = ["resolve", "publish", "render", "notify", "apply", "compute", "store", "fetch", "validate", "emit"]

# The app: sequences with their plugin, movement and beats (event, title, handler).
sequences = []
for s in range(args.sequences):
    a, b = rng.choice(WORDS), rng.choice(WORDS)
    plugin = "%s%sPlugin%d" % (a.capitalize(), b.capitalize(), s % 97)
    slug = "%s-%s-%d" % (a, b, s)
    name = "%s %s %d" % (a.capitalize(), b.capitalize(), s)
    beats = []
    for n in range(1, rng.randint(1, 5) + 1):
        verb = rng.choice(VERBS)
        event = "%s:%s:%s-%d" % (a, b, verb, n)
        handler = "%s%s%dB%d" % (verb, b.capitalize(), s, n)
        title = "%s %s" % (verb.capitalize(), b.capitalize())
        # Median duration per handler, log-normal spread.
        beats.append((n, event, title, handler, rng.lognormvariate(1.5, 0.8), rng.uniform(0.2, 0.7)))
    sequences.append((plugin, slug + "-symphony", name, beats))

catalog = os.path.join(args.out, "json-sequences")
for plugin, sid, name, beats in sequences:
    d = os.path.join(catalog, plugin)
    os.makedirs(d, exist_ok=True)
    doc = {"pluginId": plugin, "id": sid, "name": name, "movements": [{"id": "main", "name": "Main", "beats": [
        {"beat": n, "event": e, "title": t, "handler": h, "timing": "immediate", "kind": "pure"} for n, e, t, h, _, _ in beats]}]}
    with open(os.path.join(d, sid + ".json"), "w") as f:
        json.dump(doc, f, indent=1)

weights = [1.0 / (i + 1) ** 0.8 for i in range(len(sequences))]
order = list(range(len(sequences)))
rng.shuffle(order)

CSS = [" color: #007BFF; font-weight: bold;", " color: #28a745;", " font-weight:bold", ""]
clock = [1763200000000]  # epoch ms


def iso(ms):
    s, m = divmod(ms, 1000)
    day = s // 86400
    h, rem = divmod(s % 86400, 3600)
    mi, se = divmod(rem, 60)
    return "2025-11-%02dT%02d:%02d:%02d.%03dZ" % (15 + day - 20407, h, mi, se, m)


def envelope(no, msg, percent_c=False):
    """The message in one envelope (or several stacked), chosen per line."""
    ts = iso(clock[0])
    r = rng.random()
    if r < 0.30:
        return "EventBus.ts:56 %s %s" % (ts, msg)
    if r < 0.45:
        return "installHook.js:1 %s %s" % (ts, msg)
    if r < 0.60:
        return " " + msg
    if r < 0.80:
        if percent_c:
            return "[%s] LOG %s %%c%s%s" % (ts, ts, msg, rng.choice(CSS))
        return "[%s] LOG %s %s" % (ts, ts, msg)
    if r < 0.90:
        return "     +%d.%03ds │ EventBus.ts:56 %s %s" % (no // 1000, no % 1000, ts, msg)
    return "Line %d: EventBus.ts:56 %s %s" % (no, ts, msg)


NOISE = [
    "🕐 [EVENTBUS] Subscriber 0 sync execution took %.2fms",
    "📡 EventBus: Subscribed to \"musical-conductor:beat:started\" (%d total subscribers)",
    "[vite] hot updated: /src/components/Panel%d.tsx",
    "Download the React DevTools for a better development experience: https://react.dev/link/react-devtools",
    "🎼 PluginManager: rehydrated %d callback(s) for event app:ready",
]

path = os.path.join(args.out, "logs")
os.makedirs(path, exist_ok=True)
out = open(os.path.join(path, "run-00.log"), "w", encoding="utf-8", newline="\n")
written, lines, samples, no = 0, [], 0, 0
pending_handlers = []  # (lines to wait, text): handler lines come a few lines after their beat


def emit(msg, percent_c=False):
    global no
    no += 1
    clock[0] += rng.randint(0, 3)
    lines.append(envelope(no, msg, percent_c))


while written < args.bytes:
    plugin, sid, name, beats = sequences[rng.choices(order, weights)[0]]
    request = "%s-%d-%s" % (sid, clock[0], "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(9)))
    emit("🎼 PluginInterfaceFacade.play(): %s -> %s" % (plugin, sid))
    emit("🎼 ExecutionQueue: Enqueued \"%s\" with priority NORMAL (Queue size: 1)" % name)
    emit("🎼 ExecutionQueue: Dequeued \"%s\"" % name)
    emit("🎼 ExecutionQueue: Now executing \"%s\"" % name)
    emit("🎼 SequenceExecutor: Executing movement \"Main\" (1/1)")
    emit("🎵 MovementExecutor: Starting movement \"Main\" with %d beats" % len(beats))
    emit("🎼 Sequence: %s" % name, True)
    emit("🆔 Request ID: %s" % request, True)
    emit("🥁 Beats Count: %d" % len(beats), True)
    emit("🎼 SequenceOrchestrator: Sequence \"%s\" (id: %s) queued successfully" % (name, sid))
    for n, event, title, handler, median, sigma in beats:
        ms = median * rng.lognormvariate(0, sigma)
        emit("🥁 MovementExecutor: Executing beat %d (%d/%d)" % (n, n, len(beats)))
        emit("⏱️ PerformanceTracker: Started timing beat %d for %s" % (n, name))
        emit("🎵 Beat %d Started: %s (%s)" % (n, title, event))
        emit("🎽 DataBaton: No changes | seq=%s beat=%d event=%s handler=?" % (name, n, event))
        for _ in range(rng.randint(1, 4)):
            noise = rng.choice(NOISE)
            emit(noise % rng.randint(1, 9) if "%" in noise else noise)
        clock[0] += int(ms)
        emit("✅ BeatExecutor: Beat %d (%s) completed in %dms" % (n, event, round(ms)))
        emit("⏱️ PerformanceTracker: Beat %d completed in %.2fms" % (n, ms))
        emit("✅ Completed in %.2fms" % ms, True)
        samples += 1
        pending_handlers.append((rng.randint(0, 3), "🎽 DataBaton: +%sDone | seq=%s beat=? event=%s handler=%s plugin=%s req=%s preview={\"ok\":true,\"n\":%d}"
                                 % (handler.lower()[:8], name, event, handler, plugin, request, n)))
        # Handler lines a few lines after their beat.
        still = []
        for wait, text in pending_handlers:
            if wait == 0:
                emit(text)
            else:
                still.append((wait - 1, text))
        pending_handlers = still
    for _, text in pending_handlers:
        emit(text)
    pending_handlers = []
    emit("✅ MovementExecutor: Movement \"Main\" completed successfully")
    emit("🎼 ExecutionQueue: Marked \"%s\" as completed (Total completed: 1)" % name)
    emit("✅ SequenceExecutor: Sequence \"%s\" completed in %dms" % (name, rng.randint(1, 200)))
    if len(lines) > 20000:
        chunk = "\n".join(lines) + "\n"
        out.write(chunk)
        written += len(chunk.encode("utf-8"))
        lines = []
if lines:
    out.write("\n".join(lines) + "\n")
out.close()
print(samples)
