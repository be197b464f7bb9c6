// The npm packages as an adopter gets them: scripts/npm-pack.sh packs the launcher package and
// this machine's platform package from the release build, a real Verdaccio on 127.0.0.1 (no
// uplinks, anonymous publish) receives both with `npm publish`, and a fresh project installs
// perfgate from it with `npm install -D`, runs `npx perfgate --version` and an
// `analyze:performance` script on generated logs. Needs the release build
// (cargo build --release --locked); without it the test is skipped, unless CI is set.
"use strict";

const assert = require("node:assert/strict");
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const test = require("node:test");

const ROOT = path.resolve(__dirname, "../..");
const BINARY = path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, "target"), "release/perfgate");
const VERDACCIO = path.resolve(__dirname, "../node_modules/verdaccio/bin/verdaccio");
const VERSION = fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8").match(/^version = "(.*)"$/m)[1];

function missing() {
  if (process.platform === "win32") return "Windows (scripts/npm-pack.sh is a bash script)";
  if (!fs.existsSync(BINARY)) return `no release build at ${BINARY} (cargo build --release --locked)`;
  if (!fs.existsSync(VERDACCIO)) return "no Verdaccio in npm/node_modules (npm ci --prefix npm)";
  return null;
}
const why = missing();
if (why && process.env.CI) throw new Error(`registry test cannot run in CI: ${why}`);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function ping(url) {
  return new Promise((resolve) => {
    const req = http.get(`${url}/-/ping`, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
  });
}

// Runs a command to completion (bounded), returning { status, stdout, stderr, ms }.
function sh(cmd, args, options) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 180_000, ...options });
  if (r.error) throw r.error;
  return { ...r, ms: Number((process.hrtime.bigint() - start) / 1_000_000n) };
}

function ok(r, what) {
  assert.equal(r.status, 0, `${what} exited ${r.status} (${r.signal || "no signal"})\n${r.stdout}\n${r.stderr}`);
  return r;
}

test("npm install -D perfgate from a local registry, then npx perfgate and npm run analyze:performance", { skip: why || false, timeout: 600_000 }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "perfgate-registry-"));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // 1. The tarballs.
  const packed = ok(sh("bash", [path.join(ROOT, "scripts/npm-pack.sh"), path.join(tmp, "dist")]), "npm-pack.sh");
  const tarballs = packed.stdout.trim().split("\n");
  assert.equal(tarballs.length, 2, packed.stdout);
  assert.equal(path.basename(tarballs[0]), `perfgate-${VERSION}.tgz`);
  assert.match(path.basename(tarballs[1]), new RegExp(`^perfgate-cli-(linux|darwin)-(x64|arm64)(-gnu|-musl)?-${VERSION.replace(/\./g, "\\.")}\\.tgz$`));
  for (const file of tarballs) t.diagnostic(`${path.basename(file)}: ${fs.statSync(file).size} bytes`);

  // 2. The registry: storage and config in the temporary directory, no uplinks.
  const port = await freePort();
  const registry = `http://127.0.0.1:${port}`;
  const config = path.join(tmp, "verdaccio.yaml");
  fs.writeFileSync(
    config,
    [
      `storage: ${path.join(tmp, "storage")}`,
      "auth:",
      "  htpasswd:",
      `    file: ${path.join(tmp, "htpasswd")}`,
      "    max_users: -1",
      "uplinks: {}",
      "max_body_size: 200mb",
      "packages:",
      "  '**':",
      "    access: $all",
      "    publish: $anonymous",
      "    unpublish: $anonymous",
      "publish:",
      "  allow_offline: true",
      "log: { type: stdout, format: pretty, level: warn }",
      "",
    ].join("\n"),
  );
  const server = spawn(process.execPath, [VERDACCIO, "--config", config, "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  let serverLog = "";
  server.stdout.on("data", (d) => (serverLog += d));
  server.stderr.on("data", (d) => (serverLog += d));
  const exited = new Promise((resolve) => server.on("exit", resolve));
  t.after(async () => {
    server.kill("SIGTERM");
    const timer = setTimeout(() => server.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  });
  const deadline = Date.now() + 60_000;
  while (!(await ping(registry))) {
    assert.ok(server.exitCode === null, `Verdaccio exited: ${serverLog}`);
    assert.ok(Date.now() < deadline, `Verdaccio did not answer on ${registry} within 60 s: ${serverLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  // npm talks only to this registry, with its own cache and user config (anonymous publish
  // still wants a token to send: any will do).
  const npmrc = path.join(tmp, "npmrc");
  fs.writeFileSync(npmrc, `registry=${registry}/\n//127.0.0.1:${port}/:_authToken=anonymous\naudit=false\nfund=false\nupdate-notifier=false\n`);
  const env = { ...process.env, npm_config_userconfig: npmrc, npm_config_cache: path.join(tmp, "cache"), npm_config_registry: `${registry}/` };
  for (const key of Object.keys(env)) if (/^npm_config_(globalconfig|prefix)$/i.test(key)) delete env[key];
  delete env.PERFGATE_BINARY;
  const npm = (args, cwd) => sh("npm", args, { cwd, env });

  // 3. Publish: the platform package first, as the release does.
  for (const file of [tarballs[1], tarballs[0]]) ok(npm(["publish", file, "--registry", registry], tmp), `npm publish ${path.basename(file)}`);
  const view = ok(npm(["view", "perfgate", "version", "optionalDependencies", "--json", "--registry", registry], tmp), "npm view");
  const meta = JSON.parse(view.stdout);
  assert.equal(meta.version, VERSION);
  assert.equal(Object.keys(meta.optionalDependencies).length, 7);

  // 4. A fresh project.
  const app = path.join(tmp, "app");
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, "package.json"), `${JSON.stringify({ name: "app", version: "1.0.0", private: true, scripts: { test: "echo ok" } }, null, 2)}\n`);
  const install = ok(npm(["install", "-D", "perfgate", "--registry", registry], app), "npm install -D perfgate");
  t.diagnostic(`npm install -D perfgate: ${install.ms} ms`);
  const manifest = JSON.parse(fs.readFileSync(path.join(app, "package.json"), "utf8"));
  assert.deepEqual(manifest.devDependencies, { perfgate: `^${VERSION}` });
  // Only this machine's platform package was installed, and nothing ran at install time.
  const platformName = path.basename(tarballs[1]).replace(/^perfgate-/, "").replace(`-${VERSION}.tgz`, "");
  assert.deepEqual(fs.readdirSync(path.join(app, "node_modules/@perfgate")), [platformName]);
  const lock = JSON.parse(fs.readFileSync(path.join(app, "package-lock.json"), "utf8"));
  assert.equal(lock.packages["node_modules/perfgate"].version, VERSION);
  assert.equal(lock.packages[`node_modules/@perfgate/${platformName}`].optional, true);
  assert.equal(lock.packages["node_modules/perfgate"].hasInstallScript, undefined);

  // 5. npx perfgate --version is the release binary's.
  const direct = ok(sh(BINARY, ["--version"]), "perfgate --version");
  const npx = ok(sh("npx", ["--no-install", "perfgate", "--version"], { cwd: app, env }), "npx perfgate --version");
  assert.equal(npx.stdout, direct.stdout);
  assert.match(npx.stdout, new RegExp(`^perfgate ${VERSION.replace(/\./g, "\\.")}( \\([0-9a-f]+\\))?\\n$`));
  // An error's exit code comes through npx too.
  const bad = sh("npx", ["--no-install", "perfgate", "analyze", "no-such-dir"], { cwd: app, env });
  assert.equal(bad.status, 2, bad.stderr);

  // The console capture's entry points, through the package's exports map.
  const exportsCheck = ok(
    sh(process.execPath, ["-e", 'const p = require("perfgate/playwright"); const f = require("perfgate"); process.stdout.write([typeof p.captureConsole, typeof p.extendTest, typeof f.formatLine, require.resolve("perfgate/cypress").endsWith("cypress.js"), f.formatLine({ type: "warning", text: "x", time: 0 })].join(" "))'], { cwd: app, env }),
    "require('perfgate/playwright')",
  );
  assert.equal(exportsCheck.stdout, "function function function true [1970-01-01T00:00:00.000Z] WARN x\n");
  const internal = sh(process.execPath, ["-e", 'require("perfgate/lib/format.js")'], { cwd: app, env });
  assert.match(internal.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);

  // 6. README's quick start, verbatim, on generated logs (the generator's catalog in the
  // project, found by default; its ground truth to compare with): `npx perfgate init`,
  // `npm run analyze:performance`, `npx perfgate update-baseline`, `npm run check:performance`.
  const gen = path.join(tmp, "gen");
  ok(sh(BINARY, ["generate", "--out", gen, "--seed", "11", "--files", "2", "--executions", "40"]), "perfgate generate");
  fs.cpSync(path.join(gen, "logs"), path.join(app, ".logs"), { recursive: true });
  fs.cpSync(path.join(gen, "json-sequences"), path.join(app, "json-sequences"), { recursive: true });
  const init = ok(sh("npx", ["--no-install", "perfgate", "init"], { cwd: app, env }), "npx perfgate init");
  assert.match(init.stdout, /package\.json: added the scripts analyze:performance, check:performance/);
  const scripts = JSON.parse(fs.readFileSync(path.join(app, "package.json"), "utf8")).scripts;
  assert.deepEqual(scripts, { test: "echo ok", "analyze:performance": "perfgate analyze", "check:performance": "perfgate check" });
  for (const f of ["perfgate.toml", ".github/workflows/perfgate.yml", ".github/workflows/perfgate-main.yml"]) assert.ok(fs.existsSync(path.join(app, f)), f);
  const run = ok(npm(["run", "analyze:performance"], app), "npm run analyze:performance");
  const expected = ok(sh(BINARY, ["analyze"], { cwd: app, env: { ...process.env, NO_COLOR: "1" } }), "perfgate analyze");
  assert.equal(run.stdout, `\n> app@1.0.0 analyze:performance\n> perfgate analyze\n\n${expected.stdout}`);
  assert.match(run.stdout, /Handler Performance Heatmap/);
  ok(sh("npx", ["--no-install", "perfgate", "update-baseline"], { cwd: app, env }), "npx perfgate update-baseline");
  assert.ok(fs.existsSync(path.join(app, ".perfgate/baseline.json")));
  const check = ok(npm(["run", "check:performance"], app), "npm run check:performance");
  assert.match(check.stdout, /perfgate check: ✅ PASS/);

  const json = ok(npm(["run", "analyze:performance", "--", "--json", "report.json", "--max-executions", "100000"], app), "npm run analyze:performance -- --json");
  const report = JSON.parse(fs.readFileSync(path.join(app, "report.json"), "utf8"));
  const truth = JSON.parse(fs.readFileSync(path.join(gen, "truth.json"), "utf8"));
  const got = Object.fromEntries(report.handlers.map((h) => [`${h.plugin}.${h.name}`, h.executionList.map((e) => e.durationMs)]));
  assert.deepEqual(got, truth.samples);
  assert.equal(report.diagnostics.failed, truth.failed);
  assert.equal(report.diagnostics.incomplete, truth.incomplete);
  assert.ok(json.stdout.includes("Handler Performance Heatmap"));
  t.diagnostic(`analyze:performance: ${report.handlers.length} handlers, ${report.summary.totalExecutions} executions`);
});
