#!/usr/bin/env bash
# The Windows and macOS builds, checked from Linux:
#
#   scripts/cross-check.sh
#
# - Windows: clippy for x86_64-pc-windows-gnu, then the whole test suite (unit and CLI tests)
#   built with MinGW and run under Wine: `\` paths, device names like NUL, file locking and the
#   UTF-16LE/CRLF fixtures as a Windows process sees them. Tests that need Unix tools (FIFOs,
#   devices, bash) are compiled out there; the browser tests skip (no Chrome for Windows).
# - macOS: clippy for x86_64-apple-darwin (the Rust code under macOS's cfgs; C code of the
#   dependencies is not compiled, nothing is linked).
#
# Needs the two rustup targets (fetched if missing) and Debian's gcc-mingw-w64-x86-64 and wine64
# (installed if missing). When a target cannot be fetched, says so and checks the rest. The
# GitHub workflow's windows and macos jobs run the tests on the real systems.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"

have_target() { rustup target list --installed 2>/dev/null | grep -qx "$1" || rustup target add "$1" >/dev/null 2>&1; }

need=()
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
command -v wine >/dev/null 2>&1 || need+=(wine64 wine)
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if have_target x86_64-apple-darwin; then
  # A compiler that writes empty objects: ring's build script runs, its C is not compiled.
  fake="$target_dir/cross-check/fake-cc"
  mkdir -p "$(dirname "$fake")"
  printf '#!/bin/sh\nfor a; do [ "$prev" = -o ] && : > "$a"; prev=$a; done\nexit 0\n' > "$fake"
  chmod +x "$fake"
  echo "cross-check: clippy for macOS"
  CC_x86_64_apple_darwin="$PWD/$fake" AR_x86_64_apple_darwin="$PWD/$fake" \
    cargo clippy --locked --all-targets --target x86_64-apple-darwin -- -D warnings
else
  echo "cross-check: macOS skipped: rustup cannot fetch the x86_64-apple-darwin target"
fi

if ! have_target x86_64-pc-windows-gnu; then
  echo "cross-check: Windows skipped: rustup cannot fetch the x86_64-pc-windows-gnu target"
  exit 0
fi
echo "cross-check: clippy for Windows"
cargo clippy --locked --all-targets --target x86_64-pc-windows-gnu -- -D warnings

# Wine 8 lacks bcryptprimitives.dll's ProcessPrng, which Rust's std calls for random bytes:
# a stand-in that asks RtlGenRandom, in a Wine prefix of our own.
export WINEPREFIX="$PWD/$target_dir/cross-check/wine" WINEDEBUG=-all
stub="$target_dir/cross-check/bcryptprimitives"
mkdir -p "$stub"
cat > "$stub/prng.c" << 'EOF'
#include <windows.h>
#include <ntsecapi.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
EOF
printf 'LIBRARY bcryptprimitives\nEXPORTS\nProcessPrng\n' > "$stub/prng.def"
x86_64-w64-mingw32-gcc -shared -O2 -o "$stub/bcryptprimitives.dll" "$stub/prng.c" "$stub/prng.def" -ladvapi32
if [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
  wine wineboot --init > /dev/null 2>&1 || true
fi
cp "$stub/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"

echo "cross-check: tests on Windows (Wine)"
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine cargo test --locked --target x86_64-pc-windows-gnu
