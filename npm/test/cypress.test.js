// perfgate/cypress, the support file, run by Node with stand-ins for Cypress's globals (the
// Cypress binary cannot be installed here): it wraps each loaded window's console, passes
// every call on, and after the spec writes the lines with cy.writeFile; `perfgate analyze`
// on what it wrote gives the handlers and durations that were logged. Its formatting is the
// module perfgate/playwright uses (lib/format.js), tested here directly too.
"use strict";

const assert = require("node:assert/strict");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const test = require("node:test");

const ROOT = path.resolve(__dirname, "../..");
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
const BINARY =
  process.env.PERFGATE_TEST_BINARY ||
  [path.join(TARGET, "release/perfgate"), path.join(TARGET, "debug/perfgate")].find((f) => fs.existsSync(f));
const SUPPORT = path.resolve(__dirname, "../perfgate/cypress.js");
const format = require("../perfgate/lib/format.js");

// Loads the support file as Cypress would for one spec; returns what it registered.
function loadSupport(env = {}) {
  const spec = { handlers: {}, afters: [], writes: [] };
  globalThis.Cypress = {
    spec: { name: "canvas/create.cy.js", relative: "cypress/e2e/canvas/create.cy.js" },
    env: (key) => env[key],
    on: (event, handler) => (spec.handlers[event] = handler),
  };
  globalThis.cy = { writeFile: (file, contents, options) => spec.writes.push({ file, contents, options }) };
  globalThis.after = (fn) => spec.afters.push(fn);
  delete require.cache[SUPPORT];
  require(SUPPORT);
  return spec; // the globals stay: the after hook reads Cypress and cy when it runs
}

// An application window whose console records what reaches it.
function appWindow() {
  const reached = [];
  const console = {};
  for (const m of ["log", "info", "warn", "error", "debug", "table"]) console[m] = (...args) => reached.push([m, ...args]);
  return { console, reached };
}

function conductor(win, requestId, durations) {
  const c = win.console;
  c.log(`2025-11-15T21:59:20.793Z 🎼 PluginInterfaceFacade.play(): LibraryPlugin -> library-load-symphony`);
  c.log(`2025-11-15T21:59:20.794Z 🎼 ExecutionQueue: Now executing "Library Load"`);
  c.log("%c🆔 Request ID: %s", "color: #6C757D;", `library-load-symphony-${requestId}`);
  const beats = [["Load Components", "library:components:load"], ["Notify UI", "library:components:notify-ui"]];
  beats.forEach(([title, event], i) => {
    const ms = durations[i];
    c.log(`⏱️ PerformanceTracker: Started timing beat ${i + 1} for Library Load`);
    c.log(`🎵 Beat ${i + 1} Started: ${title} (${event})`);
    c.debug({ sequence: "Library Load", beat: i + 1, timing: "immediate" });
    c.log("⏱️ PerformanceTracker: Beat %d completed in %sms", i + 1, ms.toFixed(2));
    c.log("%c✅ Completed in %sms", "color: #28A745; font-weight: bold;", ms.toFixed(2));
    c.log(`✅ BeatExecutor: Beat ${i + 1} (${event}) completed in ${Math.round(ms)}ms`);
  });
  c.warn("⚠️ Slow render detected");
  c.log(`✅ SequenceExecutor: Sequence "Library Load" completed in 9ms`);
}

test("formatLine: the Cypress envelope perfgate reads, the level kept", () => {
  const time = Date.UTC(2025, 10, 17, 16, 40, 44, 990);
  assert.equal(format.formatLine({ type: "log", text: "🎼 x", time }), "[2025-11-17T16:40:44.990Z] LOG 🎼 x\n");
  assert.equal(format.formatLine({ type: "warning", text: "w", time }), "[2025-11-17T16:40:44.990Z] WARN w\n");
  assert.equal(format.formatLine({ type: "warn", text: "w", time }), "[2025-11-17T16:40:44.990Z] WARN w\n");
  assert.equal(format.formatLine({ type: "error", text: "a\r\n  b", time }), "[2025-11-17T16:40:44.990Z] ERROR a\n  b\n");
  assert.equal(format.formatLine({ type: "trace", text: "t", time }), "[2025-11-17T16:40:44.990Z] DEBUG t\n");
  assert.equal(format.formatLine({ type: "dir", text: "d", time }), "[2025-11-17T16:40:44.990Z] LOG d\n");
});

test("formatArgs: format strings, %c, objects, as the browser prints them", () => {
  assert.equal(format.formatArgs(["%c✅ Completed in %sms", "color: #28A745;", "8.10"]), "✅ Completed in 8.10ms");
  assert.equal(format.formatArgs(["Beat %d of %i: %f %%", 2.9, "3", "1.5"]), "Beat 2 of 3: 1.5 %");
  assert.equal(format.formatArgs(["a", { b: [1, "c"] }, null, undefined, 2]), 'a {"b":[1,"c"]} null undefined 2');
  assert.equal(format.formatArgs([{ a: 1 }, "x"]), '{"a":1} x');
  assert.equal(format.formatArgs(["%s and %s", "one"]), "one and %s");
  const cyclic = { name: "c" };
  cyclic.self = cyclic;
  assert.equal(format.formatArgs([cyclic]), '{"name":"c","self":"[Circular]"}');
  assert.match(format.formatArgs([new Error("boom")]), /^Error: boom\n {4}at /);
  assert.equal(format.formatArgs([]), "");
  assert.equal(format.logFileName("canvas/create.cy.js", 1700000000000), "canvas-create.cy.js-1700000000000.log");
  assert.equal(format.logFileName("../..", 1), "console-1.log");
});

test("the support file: every window's console captured, passed on, written after the spec", { skip: !BINARY && !process.env.CI ? "no perfgate build (cargo build)" : false }, (t) => {
  const spec = loadSupport();
  assert.deepEqual(Object.keys(spec.handlers), ["window:before:load"]);
  assert.equal(spec.afters.length, 1);

  // Two page loads in one spec (a cy.visit, then a reload).
  const first = appWindow();
  spec.handlers["window:before:load"](first);
  const before = Date.now();
  conductor(first, "1763243961010-p9q8r7s6t", [4.3, 2.2]);
  const second = appWindow();
  spec.handlers["window:before:load"](second);
  conductor(second, "1763243962010-q1w2e3r4t", [5.75, 1.9]);
  second.console.table([1, 2]); // not wrapped: passes untouched
  // The application's console got every call, with its own arguments.
  assert.equal(first.reached.length, 17);
  assert.deepEqual(first.reached[2], ["log", "%c🆔 Request ID: %s", "color: #6C757D;", "library-load-symphony-1763243961010-p9q8r7s6t"]);
  assert.deepEqual(second.reached.at(-1), ["table", [1, 2]]);

  spec.afters[0]();
  assert.equal(spec.writes.length, 1);
  const { file, contents, options } = spec.writes[0];
  assert.deepEqual(options, { log: false });
  const [, ms] = file.match(/^\.logs\/canvas-create\.cy\.js-(\d+)\.log$/) || [];
  assert.ok(Number(ms) >= before, file);
  const lines = contents.split("\n");
  assert.equal(lines.length, 2 * 17 + 1);
  assert.match(lines[0], /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] LOG 2025-11-15T21:59:20\.793Z 🎼 PluginInterfaceFacade\.play\(\): LibraryPlugin -> library-load-symphony$/);
  assert.match(lines[2], /^\[[^\]]+\] LOG 🆔 Request ID: library-load-symphony-1763243961010-p9q8r7s6t$/);
  assert.match(lines[5], /^\[[^\]]+\] DEBUG \{"sequence":"Library Load","beat":1,"timing":"immediate"\}$/);
  assert.match(lines[6], /^\[[^\]]+\] LOG ⏱️ PerformanceTracker: Beat 1 completed in 4\.30ms$/);
  assert.match(lines[7], /^\[[^\]]+\] LOG ✅ Completed in 4\.30ms$/);
  assert.match(lines[15], /^\[[^\]]+\] WARN ⚠️ Slow render detected$/);
  assert.equal(lines.at(-1), "");

  // What perfgate reads from it.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "perfgate-cypress-"));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  fs.mkdirSync(path.join(tmp, ".logs"));
  fs.writeFileSync(path.join(tmp, file), contents);
  const r = spawnSync(BINARY, ["analyze", file, "--catalog", path.join(ROOT, "fixtures/packages"), "--format", "json"], { cwd: tmp, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const handlers = Object.fromEntries(report.handlers.map((h) => [`${h.plugin}.${h.name}`, h.executionList.map((e) => e.durationMs)]));
  assert.deepEqual(handlers, { "LibraryPlugin.loadComponents": [4.3, 5.75], "LibraryPlugin.notifyUi": [2.2, 1.9] });
  const d = report.diagnostics;
  assert.deepEqual([d.samples, d.failed, d.incomplete, d.orphans, d.unmappedBeats], [4, 0, 0, 0, 0]);
});

test("the support file: PERFGATE_LOGS_DIR, and nothing written for a silent spec", () => {
  const silent = loadSupport();
  silent.handlers["window:before:load"](appWindow());
  silent.afters[0]();
  assert.deepEqual(silent.writes, []);

  const spec = loadSupport({ PERFGATE_LOGS_DIR: "cypress/logs" });
  const win = appWindow();
  spec.handlers["window:before:load"](win);
  win.console.error("💥 %s", "boom");
  spec.afters[0]();
  assert.match(spec.writes[0].file, /^cypress\/logs\/canvas-create\.cy\.js-\d+\.log$/);
  assert.match(spec.writes[0].contents, /^\[[^\]]+\] ERROR 💥 boom\n$/);
});

test("a console that throws while formatting still reaches the application", () => {
  const spec = loadSupport();
  const win = appWindow();
  spec.handlers["window:before:load"](win);
  const hostile = { toJSON() { throw new Error("no"); } };
  win.console.log(hostile);
  assert.equal(win.reached.length, 1);
  spec.afters[0]();
  assert.match(spec.writes[0].contents, /^\[[^\]]+\] LOG \[object Object\]\n$/);
});
