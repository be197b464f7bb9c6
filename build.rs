//! `perfgate --version` names the commit it was built from, when built from a git checkout
//! (`0.1.0 (3f2a9c1d0b7e)`); from a source archive or crates.io, the version alone.

fn main() {
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()));
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let shown = match commit {
        Some(c) => format!("{version} ({c})"),
        None => version,
    };
    println!("cargo:rustc-env=PERFGATE_VERSION={shown}");
}
