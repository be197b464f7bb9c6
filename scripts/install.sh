#!/usr/bin/env bash
# Installs perfgate's release binary for this machine.
#
#   scripts/install.sh VERSION [DIR]      (VERSION like 0.2.0 or v0.2.0; DIR default ~/.local/bin)
#
# Downloads perfgate-vVERSION-TARGET.tar.gz (.zip on Windows) and its .sha256 from
# $PERFGATE_DOWNLOAD_URL (default https://github.com/$PERFGATE_REPOSITORY/releases/download/vVERSION;
# the action sets PERFGATE_REPOSITORY to its own repository), checks the SHA-256, and puts the
# binary into DIR; prints DIR. Nothing is installed unless the checksum matches.
#
# The target is read from `uname` (PERFGATE_PLATFORM="<uname -s> <uname -m>" overrides it).
# Exit codes: 0 installed; 1 failed (download, checksum, archive); 2 usage or a platform with no
# release build; 3 the release has no such asset (the caller may build from source instead).
set -euo pipefail

fail() { # code, message
  echo "perfgate install: $2" >&2
  exit "$1"
}

version="${1:-}"
[ -n "$version" ] || fail 2 "usage: install.sh VERSION [DIR]"
version="v${version#v}"
dir="${2:-$HOME/.local/bin}"

read -r os arch <<< "${PERFGATE_PLATFORM:-$(uname -s) $(uname -m)}"
case "$os/$arch" in
  Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-musl ;;
  Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
  Darwin/x86_64) target=x86_64-apple-darwin ;;
  Darwin/arm64 | Darwin/aarch64) target=aarch64-apple-darwin ;;
  MINGW*/x86_64 | MSYS*/x86_64 | CYGWIN*/x86_64 | Windows_NT/x86_64 | Windows_NT/AMD64) target=x86_64-pc-windows-msvc ;;
  *) fail 2 "no release build for $os $arch (targets: x86_64/aarch64 Linux and macOS, x86_64 Windows); build from source: cargo install --locked --path <a checkout of perfgate>" ;;
esac
case "$target" in
  *windows*) archive="perfgate-$version-$target.zip" exe=perfgate.exe ;;
  *) archive="perfgate-$version-$target.tar.gz" exe=perfgate ;;
esac
if [ -z "${PERFGATE_DOWNLOAD_URL:-}" ] && [ -z "${PERFGATE_REPOSITORY:-}" ]; then
  fail 2 "set PERFGATE_REPOSITORY=owner/name (the GitHub repository whose releases to use) or PERFGATE_DOWNLOAD_URL"
fi
base="${PERFGATE_DOWNLOAD_URL:-https://github.com/$PERFGATE_REPOSITORY/releases/download/$version}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { # url, file; exit status 3 for a missing asset (HTTP 404)
  local status
  status=$(curl --silent --show-error --location --retry 3 --output "$2" --write-out '%{http_code}' "$1") ||
    fail 1 "cannot download $1"
  case "$status" in
    200) ;;
    404) fail 3 "no asset $1 (HTTP 404)" ;;
    *) fail 1 "cannot download $1 (HTTP $status)" ;;
  esac
}
fetch "$base/$archive" "$tmp/$archive"
fetch "$base/$archive.sha256" "$tmp/$archive.sha256"

# The .sha256 file is `HEX  NAME` (or the bare HEX).
expected=$(tr -d '\r' < "$tmp/$archive.sha256" | awk 'NR == 1 { print tolower($1) }')
if command -v sha256sum > /dev/null 2>&1; then
  actual=$(sha256sum "$tmp/$archive" | awk '{ print $1 }')
else
  actual=$(shasum -a 256 "$tmp/$archive" | awk '{ print $1 }')
fi
[ "${#expected}" -eq 64 ] || fail 1 "$archive.sha256 holds no SHA-256"
[ "$expected" = "$actual" ] || fail 1 "checksum mismatch for $archive: expected $expected, got $actual; nothing installed"

mkdir -p "$tmp/unpacked"
case "$archive" in
  *.zip)
    if command -v unzip > /dev/null 2>&1; then
      unzip -q "$tmp/$archive" -d "$tmp/unpacked" || fail 1 "cannot unpack $archive"
    else
      # Git Bash on Windows may lack unzip; PowerShell has Expand-Archive.
      powershell -NoProfile -Command "Expand-Archive -LiteralPath '$(cygpath -w "$tmp/$archive")' -DestinationPath '$(cygpath -w "$tmp/unpacked")'" ||
        fail 1 "cannot unpack $archive"
    fi
    ;;
  *) tar -xzf "$tmp/$archive" -C "$tmp/unpacked" || fail 1 "cannot unpack $archive" ;;
esac
found=$(find "$tmp/unpacked" -type f -name "$exe" | head -n 1)
[ -n "$found" ] || fail 1 "$archive holds no $exe"
mkdir -p "$dir"
# Moved into place last, in one rename on the same file system: never half a binary in DIR.
cp "$found" "$dir/.$exe.partial"
chmod +x "$dir/.$exe.partial"
mv -f "$dir/.$exe.partial" "$dir/$exe"
echo "$dir"
