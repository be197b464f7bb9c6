// The npm launcher (npm/perfgate/bin/perfgate) run by Node as npm's bin shim runs it, against
// small shell scripts standing in for the binary: exit codes, signals, the PERFGATE_BINARY
// override, the platform package's lookup and the message when it is missing.
"use strict";

const assert = require("node:assert/strict");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const test = require("node:test");

const LAUNCHER = path.resolve(__dirname, "../perfgate/bin/perfgate");
const posix = process.platform !== "win32";

// A scratch project: node_modules/perfgate/bin/perfgate (a copy of the launcher) and,
// when `platformPackage` is given, node_modules/@perfgate/<it>/perfgate = `script`.
function project(t, { platformPackage, script } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "perfgate-launcher-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, "node_modules/perfgate/bin");
  fs.mkdirSync(bin, { recursive: true });
  fs.copyFileSync(LAUNCHER, path.join(bin, "perfgate"));
  if (platformPackage) {
    const pkg = path.join(dir, "node_modules/@perfgate", platformPackage);
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: `@perfgate/${platformPackage}`, version: "0.1.0" }));
    fs.writeFileSync(path.join(pkg, "perfgate"), script, { mode: 0o755 });
  }
  return { dir, launcher: path.join(bin, "perfgate") };
}

function fake(t, script) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "perfgate-fake-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "perfgate-fake");
  fs.writeFileSync(file, script, { mode: 0o755 });
  return file;
}

function run(launcher, args, env = {}) {
  const clean = { ...process.env };
  delete clean.PERFGATE_BINARY;
  return spawnSync(process.execPath, [launcher, ...args], { encoding: "utf8", env: { ...clean, ...env } });
}

// The package this machine's launcher looks for first.
function hostPackage() {
  const header = process.report.getReport().header;
  const libc = process.platform === "linux" ? (header.glibcVersionRuntime ? "-gnu" : "-musl") : "";
  return `cli-${process.platform}-${process.arch}${libc}`;
}

test("runs the platform package's binary with the arguments and passes its exit code", { skip: !posix }, (t) => {
  const { launcher } = project(t, { platformPackage: hostPackage(), script: '#!/bin/sh\necho "args: $*"\nexit 1\n' });
  const r = run(launcher, ["check", "--fail-on", "warning", "a b"]);
  assert.equal(r.stdout, "args: check --fail-on warning a b\n");
  assert.equal(r.stderr, "");
  assert.equal(r.status, 1);
  assert.equal(r.signal, null);
});

test("exit codes 0, 2 and 77 come through as they are", { skip: !posix }, (t) => {
  for (const code of [0, 2, 77]) {
    const bin = fake(t, `#!/bin/sh\nexit ${code}\n`);
    const r = run(LAUNCHER, [], { PERFGATE_BINARY: bin });
    assert.equal(r.status, code);
  }
});

test("standard input reaches the binary", { skip: !posix }, (t) => {
  const bin = fake(t, "#!/bin/sh\ntr a-z A-Z\n");
  const clean = { ...process.env, PERFGATE_BINARY: bin };
  const r = spawnSync(process.execPath, [LAUNCHER, "-"], { input: "beat 1\n", encoding: "utf8", env: clean });
  assert.equal(r.stdout, "BEAT 1\n");
  assert.equal(r.status, 0);
});

test("a binary killed by SIGTERM kills the launcher by SIGTERM", { skip: !posix }, (t) => {
  const { launcher } = project(t, { platformPackage: hostPackage(), script: "#!/bin/sh\nkill -TERM $$\nsleep 5\n" });
  const r = run(launcher, []);
  assert.equal(r.signal, "SIGTERM");
  assert.equal(r.status, null);
});

test("SIGINT and SIGKILL of the binary come through too", { skip: !posix }, (t) => {
  for (const signal of ["INT", "KILL"]) {
    const bin = fake(t, `#!/bin/sh\nkill -${signal} $$\nsleep 5\n`);
    const r = run(LAUNCHER, [], { PERFGATE_BINARY: bin });
    assert.equal(r.signal, `SIG${signal}`);
  }
});

test("PERFGATE_BINARY is run instead of the platform package", { skip: !posix }, (t) => {
  const { launcher } = project(t, { platformPackage: hostPackage(), script: "#!/bin/sh\necho package\n" });
  const bin = fake(t, '#!/bin/sh\necho "override $1"\n');
  const r = run(launcher, ["--version"], { PERFGATE_BINARY: bin });
  assert.equal(r.stdout, "override --version\n");
  assert.equal(r.status, 0);
});

test("a PERFGATE_BINARY that does not exist is a clear error, exit 2", () => {
  const r = run(LAUNCHER, [], { PERFGATE_BINARY: path.join(os.tmpdir(), "no-such-perfgate") });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^perfgate: cannot run .*no-such-perfgate: spawnSync .* ENOENT\n$/);
});

test("a missing platform package says how to fix it, exit 2", (t) => {
  const { launcher } = project(t);
  const r = run(launcher, ["--version"], { PERFGATE_TEST_PLATFORM: "linux", PERFGATE_TEST_ARCH: "x64", PERFGATE_LIBC: "glibc" });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    "perfgate: the platform package @perfgate/cli-linux-x64-gnu (the binary for linux-gnu x64) is not installed. " +
      "npm skips it when optional dependencies are left out: reinstall without --no-optional or --omit=optional " +
      "(for instance: rm -rf node_modules && npm install), or set PERFGATE_BINARY to the path of a perfgate binary.\n",
  );
});

test("an unsupported platform says so and how to build, exit 2", () => {
  const r = run(LAUNCHER, [], { PERFGATE_TEST_PLATFORM: "freebsd", PERFGATE_TEST_ARCH: "x64" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^perfgate: no prebuilt binary for freebsd x64 \(npm packages exist for Linux x64\/arm64 with glibc or musl, macOS x64\/arm64 and Windows x64\)\. Build it from source \(cargo install --locked --path <a checkout of perfgate>\) and set PERFGATE_BINARY to its path\.\n$/);
  const arm = run(LAUNCHER, [], { PERFGATE_TEST_PLATFORM: "win32", PERFGATE_TEST_ARCH: "arm64" });
  assert.equal(arm.status, 2);
  assert.match(arm.stderr, /no prebuilt binary for win32 arm64/);
});

test("musl uses the musl package; glibc falls back to it (the musl build is static)", { skip: !posix }, (t) => {
  const env = { PERFGATE_TEST_PLATFORM: "linux", PERFGATE_TEST_ARCH: "arm64" };
  const { launcher } = project(t, { platformPackage: "cli-linux-arm64-musl", script: "#!/bin/sh\necho musl\n" });
  assert.equal(run(launcher, [], { ...env, PERFGATE_LIBC: "musl" }).stdout, "musl\n");
  assert.equal(run(launcher, [], { ...env, PERFGATE_LIBC: "glibc" }).stdout, "musl\n");
  const gnu = project(t, { platformPackage: "cli-linux-arm64-gnu", script: "#!/bin/sh\necho gnu\n" });
  const r = run(gnu.launcher, [], { ...env, PERFGATE_LIBC: "musl" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /@perfgate\/cli-linux-arm64-musl \(the binary for linux-musl arm64\) is not installed/);
});

test("the launcher's packages are the package's optionalDependencies and the generator's platforms", async () => {
  const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../perfgate/package.json"), "utf8"));
  const source = fs.readFileSync(LAUNCHER, "utf8");
  const named = [...new Set(source.match(/@perfgate\/cli-[\w-]+/g))].sort();
  assert.deepEqual(named, Object.keys(manifest.optionalDependencies).sort());
  const { PLATFORMS } = await import("../scripts/generate-packages.mjs");
  assert.deepEqual(PLATFORMS.map((p) => `@perfgate/cli-${p.suffix}`).sort(), named);
  assert.equal(manifest.bin.perfgate, "bin/perfgate");
  assert.equal(manifest.scripts, undefined, "no install scripts");
  const cargo = fs.readFileSync(path.resolve(__dirname, "../../Cargo.toml"), "utf8");
  assert.equal(manifest.version, cargo.match(/^version = "(.*)"$/m)[1], "npm/perfgate's version is Cargo.toml's");
});
