#!/usr/bin/env bash
# Packs perfgate's npm packages for this machine from the release build:
#
#   scripts/npm-pack.sh DIR
#
# writes into DIR perfgate-VERSION.tgz (the launcher package, npm/perfgate) and
# perfgate-cli-PLATFORM-VERSION.tgz (the host's platform package holding
# ${CARGO_TARGET_DIR:-target}/release/perfgate), VERSION being Cargo.toml's, with `npm pack`;
# prints their paths. Build the binary first (cargo build --release --locked). The release
# workflow makes every platform's package from the release archives instead
# (npm/scripts/generate-packages.mjs --dist).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

fail() {
  echo "npm-pack: $1" >&2
  exit 2
}
[ $# -eq 1 ] || fail "usage: scripts/npm-pack.sh DIR"
mkdir -p "$1"
dest="$(cd "$1" && pwd)"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
bin="${CARGO_TARGET_DIR:-$root/target}/release/perfgate"
[ -x "$bin" ] || fail "no release build at $bin (cargo build --release --locked)"

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) platform=linux-x64 ;;
  Linux/aarch64 | Linux/arm64) platform=linux-arm64 ;;
  Darwin/x86_64) platform=darwin-x64 ;;
  Darwin/arm64) platform=darwin-arm64 ;;
  *) fail "no npm platform package for $(uname -s) $(uname -m)" ;;
esac
if [ "$(uname -s)" = Linux ]; then
  # The libc this build links: glibc unless ldd says musl (as the launcher decides at run time).
  if (ldd --version 2>&1 || true) | grep -qi musl; then platform="$platform-musl"; else platform="$platform-gnu"; fi
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
node "$root/npm/scripts/generate-packages.mjs" --version "$version" --out "$stage" --binary "$platform=$bin" > "$stage/dirs"
while read -r dir; do
  file=$(cd "$dir" && npm pack --silent --pack-destination "$dest" | tail -n 1)
  echo "$dest/$file"
done < "$stage/dirs"
