// perfgate/playwright in a real browser: playwright-core drives Debian's Chromium to a page
// served from 127.0.0.1 that logs three sequence executions in the conductor's console shapes;
// captureConsole writes them, and `perfgate analyze` on the captured file gives exactly the
// handlers and durations the page logged. The Playwright Test fixture (extendTest) runs on the
// same real page. Needs Chromium (/usr/bin/chromium, or PERFGATE_CHROMIUM) and a perfgate
// build (target/release or target/debug, or PERFGATE_TEST_BINARY); skipped without, unless CI
// is set.
"use strict";

const assert = require("node:assert/strict");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const test = require("node:test");

const ROOT = path.resolve(__dirname, "../..");
const CHROMIUM = process.env.PERFGATE_CHROMIUM || "/usr/bin/chromium";
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
const BINARY =
  process.env.PERFGATE_TEST_BINARY ||
  [path.join(TARGET, "release/perfgate"), path.join(TARGET, "debug/perfgate")].find((f) => fs.existsSync(f));
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function missing() {
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}`;
  if (!BINARY) return "no perfgate build (cargo build)";
  try {
    require.resolve("playwright-core");
  } catch {
    return "no playwright-core (npm ci --prefix npm)";
  }
  return null;
}
const why = missing();
if (why && process.env.CI) throw new Error(`Playwright test cannot run in CI: ${why}`);

const { captureConsole, extendTest } = require("../perfgate/playwright.js");

// The handlers and durations conductor.html logs (PerformanceTracker's, in log order).
const LOGGED = {
  "CanvasComponentPlugin.resolveTemplate": [5.1, 6.35],
  "CanvasComponentPlugin.registerInstance": [3.2, 2.9],
  "CanvasComponentPlugin.createNode": [7.8, 8.05],
  "CanvasComponentPlugin.renderReact": [12.4, 15.6],
  "CanvasComponentPlugin.notifyUi": [2.1, 1.75],
  "LibraryPlugin.loadComponents": [4.3],
  "LibraryPlugin.notifyUi": [2.2],
};

function serve() {
  const page = fs.readFileSync(path.join(__dirname, "pages/conductor.html"));
  const server = http.createServer((req, res) => {
    if (req.url === "/conductor.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(page);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function analyze(file, cwd) {
  const out = path.join(cwd, "out.json");
  const r = spawnSync(BINARY, ["analyze", file, "--catalog", path.join(ROOT, "fixtures/packages"), "--json", out, "--format", "json"], { cwd, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(fs.readFileSync(out, "utf8"));
  const handlers = Object.fromEntries(report.handlers.map((h) => [`${h.plugin}.${h.name}`, h.executionList.map((e) => e.durationMs)]));
  return { report, handlers };
}

test("captureConsole in Chromium → perfgate analyze gives the handlers and durations the page logged", { skip: why || false, timeout: 120_000 }, async (t) => {
  const { chromium } = require("playwright-core");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "perfgate-playwright-"));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const server = await serve();
  t.after(() => server.close());
  const url = `http://127.0.0.1:${server.address().port}/conductor.html`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  t.after(() => browser.close());

  await t.test("captureConsole, flushed when the page closes", async () => {
    const page = await browser.newPage();
    const before = Date.now();
    const capture = captureConsole(page, { dir: path.join(tmp, ".logs"), name: "canvas create" });
    await page.goto(url);
    await page.waitForFunction(() => document.title === "done");
    assert.ok(!fs.existsSync(capture.path), "nothing written before the page closes");
    await page.close();
    const name = path.basename(capture.path);
    const [, ms] = name.match(/^canvas-create-(\d+)\.log$/) || [];
    assert.ok(Number(ms) >= before && Number(ms) <= Date.now(), name);

    const text = fs.readFileSync(capture.path, "utf8");
    const lines = text.split("\n");
    const stamp = "\\[\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\]";
    assert.match(lines[0], new RegExp(`^${stamp} INFO Download the React DevTools for a better development experience$`));
    assert.match(lines[1], new RegExp(`^${stamp} LOG \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z 🎼 PluginInterfaceFacade\\.play\\(\\): CanvasComponentPlugin -> canvas-component-create-symphony$`));
    assert.match(lines[4], new RegExp(`^${stamp} LOG 🆔 Request ID: canvas-component-create-symphony-1763243960793-k2j4h5l6m$`));
    // An object as Playwright previews it.
    assert.match(lines[7], new RegExp(`^${stamp} LOG \\{sequence: Canvas Component Create, movement: Movement 1, beat: 1, type: UNKNOWN, timing: immediate\\}$`));
    // The format string applied, its CSS dropped, as the browser shows it.
    assert.match(text, new RegExp(`\\n${stamp} LOG ✅ Completed in 5\\.10ms\\n`));
    assert.match(text, new RegExp(`\\n${stamp} WARN ⚠️ Slow render detected\\n    at CanvasPage \\(CanvasPage\\.tsx:41:7\\)\\n`));
    assert.match(text, new RegExp(`\\n${stamp} ERROR 💥 unrelated failure Error: boom\\n    at `));
    assert.equal(lines.filter((l) => / LOG .*PerformanceTracker: Beat \d completed in/.test(l)).length, 12);
    // The time is the page's, when it logged: the outer stamp and the one the page wrote agree.
    for (const line of lines.filter((l) => / LOG \d{4}-/.test(l))) {
      const [, outer, inner] = line.match(/^\[([^\]]+)\] LOG (\S+) /);
      assert.ok(Math.abs(Date.parse(outer) - Date.parse(inner)) <= 25, line);
    }

    const { report, handlers } = analyze(capture.path, tmp);
    assert.deepEqual(handlers, LOGGED);
    const d = report.diagnostics;
    assert.deepEqual([d.samples, d.failed, d.incomplete, d.orphans, d.unmappedBeats], [12, 0, 0, 0, 0]);
    assert.equal(report.summary.totalExecutions, 12);
  });

  await t.test("the Playwright Test fixture captures each test's page under its title", async () => {
    // Playwright Test's `extend` (its fixture protocol) on the real page, without the runner.
    let fixtures;
    const base = { extend: (f) => (fixtures = f) };
    extendTest(base);
    const [defaults, options] = fixtures.perfgateLogs;
    assert.deepEqual([defaults, options], [{ dir: ".logs" }, { option: true }]);
    const page = await browser.newPage();
    const dir = path.join(tmp, "fixture-logs");
    const info = { titlePath: ["checkout.spec.ts", "canvas", "creates a component"] };
    await fixtures.page({ page, perfgateLogs: { dir } }, async (p) => {
      await p.goto(url);
      await p.waitForFunction(() => document.title === "done");
    }, info);
    const files = fs.readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(files[0], /^checkout\.spec\.ts-canvas-creates-a-component-\d+\.log$/);
    // Written when the test ends, with the page still open.
    assert.equal(page.isClosed(), false);
    await page.close();
    assert.deepEqual(fs.readdirSync(dir), files, "closing the page later adds no file");
    assert.deepEqual(analyze(path.join(dir, files[0]), tmp).handlers, LOGGED);
  });
});
