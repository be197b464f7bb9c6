#!/usr/bin/env node
// Lays out perfgate's npm packages, ready for `npm pack` / `npm publish`:
//
//   node npm/scripts/generate-packages.mjs --version X.Y.Z --out DIR --dist RELEASE_DIR
//   node npm/scripts/generate-packages.mjs --version X.Y.Z --out DIR --binary linux-x64-gnu=PATH…
//
// DIR/perfgate is npm/perfgate with the version stamped on it and on its optionalDependencies;
// DIR/cli-<platform> is @perfgate/cli-<platform>: a package.json with os/cpu/libc (npm installs
// only the one matching the machine) and the binary. --dist takes every platform's binary from
// the release archives (perfgate-vX.Y.Z-TARGET.tar.gz / .zip, as release.yml names them);
// --binary (repeatable) takes one platform's binary from a file and generates only that one.
// The glibc packages carry the static musl build: it runs on glibc as it is, and the
// gnu/musl pair keeps the names stable should a glibc build ever be shipped.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const NPM_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// One row per platform package: its name suffix, npm's os/cpu/libc, the release target.
export const PLATFORMS = [
  { suffix: "linux-x64-gnu", os: "linux", cpu: "x64", libc: "glibc", target: "x86_64-unknown-linux-musl" },
  { suffix: "linux-arm64-gnu", os: "linux", cpu: "arm64", libc: "glibc", target: "aarch64-unknown-linux-musl" },
  { suffix: "linux-x64-musl", os: "linux", cpu: "x64", libc: "musl", target: "x86_64-unknown-linux-musl" },
  { suffix: "linux-arm64-musl", os: "linux", cpu: "arm64", libc: "musl", target: "aarch64-unknown-linux-musl" },
  { suffix: "darwin-x64", os: "darwin", cpu: "x64", target: "x86_64-apple-darwin" },
  { suffix: "darwin-arm64", os: "darwin", cpu: "arm64", target: "aarch64-apple-darwin" },
  { suffix: "win32-x64", os: "win32", cpu: "x64", target: "x86_64-pc-windows-msvc" },
];

function usage(message) {
  process.stderr.write(`generate-packages: ${message}\n`);
  process.stderr.write("usage: generate-packages.mjs --version X.Y.Z --out DIR (--dist DIR | --binary PLATFORM=PATH…)\n");
  process.exit(2);
}

function parseArgs(argv) {
  const args = { binaries: new Map() };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) usage(`${flag} needs a value`);
    if (flag === "--version") args.version = value.replace(/^v/, "");
    else if (flag === "--out") args.out = path.resolve(value);
    else if (flag === "--dist") args.dist = path.resolve(value);
    else if (flag === "--binary") {
      const [suffix, file] = value.split(/=(.*)/s);
      if (!PLATFORMS.some((p) => p.suffix === suffix)) usage(`unknown platform ${suffix}`);
      args.binaries.set(suffix, path.resolve(file));
    } else usage(`unknown argument ${flag}`);
  }
  if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(args.version || "")) usage("--version X.Y.Z is required");
  if (!args.out) usage("--out DIR is required");
  if (!args.dist === (args.binaries.size === 0)) usage("give either --dist or --binary");
  return args;
}

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

// The binary of `target` out of its release archive, into `dir`.
function extract(dist, version, target, dir) {
  const windows = target.includes("windows");
  const name = `perfgate-v${version}-${target}`;
  const archive = path.join(dist, `${name}${windows ? ".zip" : ".tar.gz"}`);
  if (!fs.existsSync(archive)) usage(`no release archive ${archive}`);
  const tmp = fs.mkdtempSync(path.join(dir, ".unpack-"));
  if (windows) execFileSync("unzip", ["-q", archive, "-d", tmp]);
  else execFileSync("tar", ["-xzf", archive, "-C", tmp]);
  const exe = windows ? "perfgate.exe" : "perfgate";
  const file = path.join(tmp, name, exe);
  if (!fs.existsSync(file)) usage(`${archive} holds no ${name}/${exe}`);
  fs.copyFileSync(file, path.join(dir, exe));
  fs.rmSync(tmp, { recursive: true });
}

function platformPackage(args, main, platform) {
  const dir = path.join(args.out, `cli-${platform.suffix}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const exe = platform.os === "win32" ? "perfgate.exe" : "perfgate";
  if (args.dist) extract(args.dist, args.version, platform.target, dir);
  else fs.copyFileSync(args.binaries.get(platform.suffix), path.join(dir, exe));
  fs.chmodSync(path.join(dir, exe), 0o755);
  const name = `@perfgate/cli-${platform.suffix}`;
  writeJson(path.join(dir, "package.json"), {
    name,
    version: args.version,
    description: `The perfgate binary for ${platform.suffix} (installed by the perfgate package)`,
    license: main.license,
    homepage: main.homepage,
    repository: main.repository,
    os: [platform.os],
    cpu: [platform.cpu],
    ...(platform.libc ? { libc: [platform.libc] } : {}),
    files: [exe],
    preferUnplugged: true,
  });
  fs.writeFileSync(
    path.join(dir, "README.md"),
    `# ${name}\n\nThe \`perfgate\` binary for ${platform.suffix} (built for ${platform.target}). ` +
      "Install the `perfgate` package instead: it depends on this one where it runs.\n",
  );
  return dir;
}

function mainPackage(args) {
  const dir = path.join(args.out, "perfgate");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(path.join(NPM_ROOT, "perfgate"), dir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  manifest.version = args.version;
  for (const name of Object.keys(manifest.optionalDependencies)) {
    manifest.optionalDependencies[name] = args.version;
  }
  writeJson(path.join(dir, "package.json"), manifest);
  return { dir, manifest };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.out, { recursive: true });
  const { dir, manifest } = mainPackage(args);
  const names = Object.keys(manifest.optionalDependencies).sort();
  const expected = PLATFORMS.map((p) => `@perfgate/cli-${p.suffix}`).sort();
  if (JSON.stringify(names) !== JSON.stringify(expected)) {
    usage(`npm/perfgate/package.json's optionalDependencies ${names} are not the platforms ${expected}`);
  }
  const dirs = [dir];
  for (const platform of PLATFORMS) {
    if (args.dist || args.binaries.has(platform.suffix)) dirs.push(platformPackage(args, manifest, platform));
  }
  process.stdout.write(`${dirs.join("\n")}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
