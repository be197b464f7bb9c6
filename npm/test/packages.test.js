// npm/scripts/generate-packages.mjs on release archives laid out as release.yml makes them, and
// release.yml's npm job: every platform package with its os/cpu/libc and binary, the launcher
// package with the version stamped, all published with provenance after the GitHub release.
"use strict";

const assert = require("node:assert/strict");
const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const test = require("node:test");

const ROOT = path.resolve(__dirname, "../..");
const GENERATE = path.join(ROOT, "npm/scripts/generate-packages.mjs");
const have = (cmd) => spawnSync(cmd, ["--version"]).status === 0 || spawnSync(cmd, ["-v"]).status === 0;

test("--dist: every platform package from the release archives", { skip: process.platform === "win32" || !have("unzip") || !have("python3") }, (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "perfgate-generate-"));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dist = path.join(tmp, "dist");
  fs.mkdirSync(dist);
  const targets = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl", "x86_64-apple-darwin", "aarch64-apple-darwin", "x86_64-pc-windows-msvc"];
  for (const target of targets) {
    const name = `perfgate-v9.8.7-${target}`;
    const dir = path.join(tmp, "build", name);
    fs.mkdirSync(dir, { recursive: true });
    const exe = target.includes("windows") ? "perfgate.exe" : "perfgate";
    fs.writeFileSync(path.join(dir, exe), `binary for ${target}\n`);
    fs.writeFileSync(path.join(dir, "README.md"), "readme\n");
    if (target.includes("windows")) {
      execFileSync("python3", ["-c", "import shutil,sys; shutil.make_archive(sys.argv[1], 'zip', sys.argv[2], sys.argv[3])", path.join(dist, name), path.join(tmp, "build"), name]);
    } else {
      execFileSync("tar", ["-czf", path.join(dist, `${name}.tar.gz`), "-C", path.join(tmp, "build"), name]);
    }
  }
  const out = path.join(tmp, "out");
  const printed = execFileSync(process.execPath, [GENERATE, "--version", "v9.8.7", "--dist", dist, "--out", out], { encoding: "utf8" });
  const dirs = printed.trim().split("\n").map((d) => path.basename(d));
  assert.deepEqual(dirs, ["perfgate", "cli-linux-x64-gnu", "cli-linux-arm64-gnu", "cli-linux-x64-musl", "cli-linux-arm64-musl", "cli-darwin-x64", "cli-darwin-arm64", "cli-win32-x64"]);

  const main = JSON.parse(fs.readFileSync(path.join(out, "perfgate/package.json"), "utf8"));
  assert.equal(main.version, "9.8.7");
  assert.deepEqual(new Set(Object.values(main.optionalDependencies)), new Set(["9.8.7"]));
  assert.ok(fs.existsSync(path.join(out, "perfgate/bin/perfgate")));

  const expect = {
    "linux-x64-gnu": [["linux"], ["x64"], ["glibc"], "x86_64-unknown-linux-musl", "perfgate"],
    "linux-arm64-gnu": [["linux"], ["arm64"], ["glibc"], "aarch64-unknown-linux-musl", "perfgate"],
    "linux-x64-musl": [["linux"], ["x64"], ["musl"], "x86_64-unknown-linux-musl", "perfgate"],
    "linux-arm64-musl": [["linux"], ["arm64"], ["musl"], "aarch64-unknown-linux-musl", "perfgate"],
    "darwin-x64": [["darwin"], ["x64"], undefined, "x86_64-apple-darwin", "perfgate"],
    "darwin-arm64": [["darwin"], ["arm64"], undefined, "aarch64-apple-darwin", "perfgate"],
    "win32-x64": [["win32"], ["x64"], undefined, "x86_64-pc-windows-msvc", "perfgate.exe"],
  };
  for (const [suffix, [osField, cpu, libc, target, exe]] of Object.entries(expect)) {
    const dir = path.join(out, `cli-${suffix}`);
    const m = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    assert.equal(m.name, `@perfgate/cli-${suffix}`);
    assert.equal(m.version, "9.8.7");
    assert.deepEqual([m.os, m.cpu, m.libc], [osField, cpu, libc], suffix);
    assert.deepEqual(m.files, [exe]);
    assert.equal(m.scripts, undefined);
    assert.equal(fs.readFileSync(path.join(dir, exe), "utf8"), `binary for ${target}\n`);
    assert.equal(fs.statSync(path.join(dir, exe)).mode & 0o111, 0o111, `${suffix}: executable`);
    assert.deepEqual(fs.readdirSync(dir).sort(), [exe, "README.md", "package.json"].sort());
  }
});

test("a missing archive or a bad version is an error, exit 2", (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "perfgate-generate-"));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [GENERATE, "--version", "1.2.3", "--dist", tmp, "--out", path.join(tmp, "out")], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no release archive .*perfgate-v1\.2\.3-x86_64-unknown-linux-musl\.tar\.gz/);
  const v = spawnSync(process.execPath, [GENERATE, "--version", "latest", "--dist", tmp, "--out", path.join(tmp, "out")], { encoding: "utf8" });
  assert.equal(v.status, 2);
  assert.match(v.stderr, /--version X\.Y\.Z is required/);
});

test("release.yml publishes the generated packages with provenance after the GitHub release", () => {
  const workflow = fs.readFileSync(path.join(ROOT, ".github/workflows/release.yml"), "utf8");
  const job = workflow.slice(workflow.indexOf("\n  npm:\n"));
  assert.ok(job.length > 10, "release.yml has an npm job");
  assert.match(job, /\n {4}needs: release\n/);
  assert.match(job, /id-token: write/);
  assert.match(job, /node npm\/scripts\/generate-packages\.mjs --version "\$\{GITHUB_REF_NAME#v\}" --dist dist --out npm-dist/);
  assert.match(job, /for dir in npm-dist\/cli-\* npm-dist\/perfgate; do/);
  assert.match(job, /npm publish --provenance --access public/);
  assert.match(job, /NODE_AUTH_TOKEN: \$\{\{ secrets\.NPM_TOKEN \}\}/);
  // Every archive the generator reads is one the build job makes.
  const built = [...workflow.matchAll(/- \{ target: ([\w-]+)/g)].map((m) => m[1]).sort();
  const generator = fs.readFileSync(GENERATE, "utf8");
  const read = [...new Set([...generator.matchAll(/target: "([\w-]+)"/g)].map((m) => m[1]))].sort();
  assert.deepEqual(read, built);
});
