#!/usr/bin/env python3
"""Runs the release workflow's own build steps for one Linux target on this machine.

    python3 scripts/release-rehearsal.py [TARGET] [TAG]

TARGET defaults to x86_64-unknown-linux-musl, TAG to v + Cargo.toml's version. The `run:` steps
of .github/workflows/release.yml's build job (the tag check, `cargo zigbuild`, the archive with
its .sha256, the completions and man page) and the release job's notes step run as written, with
the matrix values filled in, leaving dist/ and notes.md in the working directory (run it in a
scratch clone). Needs PyYAML, `pip install ziglang==0.13.0`, `cargo install --locked
cargo-zigbuild@0.19.8` and `rustup target add TARGET`. Then serve dist/ and install from it:

    (cd dist && python3 -m http.server 8000 --bind 127.0.0.1 &)
    PERFGATE_DOWNLOAD_URL=http://127.0.0.1:8000 bash scripts/install.sh VERSION /tmp/bin
"""

import os
import re
import subprocess
import sys

import yaml

target = sys.argv[1] if len(sys.argv) > 1 else "x86_64-unknown-linux-musl"
version = re.search(r'^version = "(.*)"$', open("Cargo.toml").read(), re.M).group(1)
tag = sys.argv[2] if len(sys.argv) > 2 else f"v{version}"
workflow = yaml.safe_load(open(".github/workflows/release.yml"))
env = dict(os.environ, GITHUB_REF_NAME=tag)


def run(step):
    print(f"== {step.get('name', step.get('id'))}", flush=True)
    script = step["run"].replace("${{ matrix.target }}", target).replace("${{ matrix.zig }}", "true")
    subprocess.run(["bash", "-eo", "pipefail", "-c", script], env=env, check=True)


for step in workflow["jobs"]["build"]["steps"]:
    if "run" not in step or "pip install" in step["run"]:
        continue  # `uses:` steps are GitHub's; the zig tools are installed by hand (see above)
    condition = step.get("if", "")
    if "matrix.target ==" in condition and f"'{target}'" not in condition:
        continue
    run(step)
for step in workflow["jobs"]["release"]["steps"]:
    if "run" in step and "CHANGELOG.md" in step["run"]:
        run(step)
