//! `scripts/install.sh`, the action's installer, against a release served from loopback: the
//! real script, curl, tar and sha256sum, a real HTTP server.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Serves `files` (URL path → body) on a loopback port until the test ends; 404 for others.
fn serve(files: HashMap<String, Vec<u8>>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // The rest of the head, up to the blank line.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let (status, body) = match files.get(&path) {
                Some(b) => ("200 OK", b.clone()),
                None => ("404 Not Found", b"not found".to_vec()),
            };
            let head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
        }
    });
    format!("http://{addr}/releases/v0.3.1")
}

/// A release archive holding a stand-in `perfgate` (a script that prints its version), as the
/// release workflow lays it out: `perfgate-VERSION-TARGET/perfgate`.
fn archive(dir: &Path, target: &str) -> Vec<u8> {
    let name = format!("perfgate-v0.3.1-{target}");
    let root = dir.join("build").join(&name);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("perfgate"), "#!/bin/sh\necho perfgate 0.3.1\n").unwrap();
    let out = dir.join(format!("{name}.tar.gz"));
    let ok = Command::new("tar").arg("-czf").arg(&out).arg("-C").arg(dir.join("build")).arg(&name).status().unwrap();
    assert!(ok.success());
    std::fs::read(out).unwrap()
}

fn sha256(bytes: &[u8], dir: &Path) -> String {
    let f = dir.join("sum-input");
    std::fs::write(&f, bytes).unwrap();
    let out = Command::new("sha256sum").arg(&f).output().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

fn install(url: &str, platform: &str, dest: &Path) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh");
    Command::new("bash")
        .arg(script)
        .arg("0.3.1")
        .arg(dest)
        .env("PERFGATE_DOWNLOAD_URL", url)
        .env("PERFGATE_PLATFORM", platform)
        .output()
        .unwrap()
}

/// Whether the tools the script needs are here. Windows skips: there the script runs under
/// Git Bash in the action, and GNU tar would take these tests' `C:\…` archive paths for a
/// remote host.
fn tools() -> bool {
    !cfg!(windows)
        && ["bash", "curl", "tar", "sha256sum"].iter().all(|t| Command::new(t).arg("--version").output().is_ok_and(|o| o.status.success()))
}

fn setup() -> Option<(tempfile::TempDir, PathBuf, Vec<u8>)> {
    if !tools() {
        eprintln!("skipped: on Windows, or bash, curl, tar or sha256sum is missing");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("bin");
    let tarball = archive(dir.path(), "x86_64-unknown-linux-musl");
    Some((dir, dest, tarball))
}

const ASSET: &str = "/releases/v0.3.1/perfgate-v0.3.1-x86_64-unknown-linux-musl.tar.gz";

#[test]
fn installs_the_verified_binary_for_the_platform() {
    let Some((dir, dest, tarball)) = setup() else { return };
    let sum = format!("{}  perfgate-v0.3.1-x86_64-unknown-linux-musl.tar.gz\n", sha256(&tarball, dir.path()));
    let url = serve(HashMap::from([(ASSET.to_owned(), tarball), (format!("{ASSET}.sha256"), sum.into_bytes())]));
    let o = install(&url, "Linux x86_64", &dest);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), dest.display().to_string());
    let ran = Command::new(dest.join("perfgate")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "perfgate 0.3.1\n");
    // Nothing else is left in the directory (no partial file).
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 1);
}

#[test]
fn a_checksum_mismatch_installs_nothing() {
    let Some((_dir, dest, tarball)) = setup() else { return };
    let wrong = format!("{}  perfgate-v0.3.1-x86_64-unknown-linux-musl.tar.gz\n", "0".repeat(64));
    let url = serve(HashMap::from([(ASSET.to_owned(), tarball), (format!("{ASSET}.sha256"), wrong.into_bytes())]));
    let o = install(&url, "Linux x86_64", &dest);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("checksum mismatch"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!dest.join("perfgate").exists() && !dest.exists());
}

#[test]
fn a_missing_asset_says_so_for_the_fallback() {
    let Some((_dir, dest, _)) = setup() else { return };
    let url = serve(HashMap::new());
    // macOS on Apple silicon: the asset name the script asks for is in the message.
    let o = install(&url, "Darwin arm64", &dest);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("perfgate-v0.3.1-aarch64-apple-darwin.tar.gz") && err.contains("404"), "{err}");
    assert!(!dest.exists());
}

#[test]
fn an_unknown_platform_is_a_clear_error() {
    let Some((_dir, dest, _)) = setup() else { return };
    let o = install("http://127.0.0.1:9", "SunOS sparc64", &dest);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no release build for SunOS sparc64") && err.contains("cargo install"), "{err}");
}

/// The completion scripts (bash, zsh, fish, PowerShell) name the commands, and bash's parses;
/// the man page is roff with every command.
#[test]
fn completions_and_man_page() {
    use crate::support::{perfgate, repo, stdout};
    let root = repo();
    let script = |shell: &str| {
        let o = perfgate(&root, &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        stdout(&o)
    };
    let bash = script("bash");
    assert!(bash.contains("update-baseline") && bash.contains("complete -F"), "{bash}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("perfgate.bash"), &bash).unwrap();
    if Command::new("bash").arg("--version").output().is_ok() {
        let parsed = Command::new("bash").arg("-n").arg(dir.path().join("perfgate.bash")).status().unwrap();
        assert!(parsed.success());
    }
    assert!(script("zsh").starts_with("#compdef perfgate"));
    assert!(script("fish").contains("complete -c perfgate"));
    assert!(script("powershell").contains("Register-ArgumentCompleter"));
    let man = stdout(&perfgate(&root, &["man"]));
    assert!(man.contains(".TH perfgate 1") && man.contains("update\\-baseline"), "{man}");
}

/// The release workflow builds exactly the targets the installer asks for, under the names it
/// downloads (`perfgate-vVERSION-TARGET` + `.tar.gz`, `.zip` on Windows, and `.sha256`).
#[test]
fn the_release_builds_what_the_installer_downloads() {
    let root = crate::support::repo();
    let workflow = std::fs::read_to_string(root.join(".github/workflows/release.yml")).unwrap();
    let script = std::fs::read_to_string(root.join("scripts/install.sh")).unwrap();
    let mut built: Vec<&str> =
        workflow.lines().filter_map(|l| l.trim().strip_prefix("- { target: ")).map(|l| l.split([',', ' ']).next().unwrap()).collect();
    let mut asked: Vec<&str> =
        script.lines().filter_map(|l| l.split_once(") target=").map(|(_, t)| t.split([' ', ';']).next().unwrap())).collect();
    built.sort();
    asked.sort();
    asked.dedup();
    assert_eq!(built.len(), 5, "{built:?}");
    assert_eq!(built, asked);
    assert!(workflow.contains(r#"name="perfgate-$GITHUB_REF_NAME-${{ matrix.target }}""#));
    assert!(workflow.contains(r#"archive="$name.zip""#) && workflow.contains(r#"archive="$name.tar.gz""#));
    assert!(workflow.contains(r#"> "$archive.sha256""#));
    assert!(
        script.contains(r#"archive="perfgate-$version-$target.zip""#) && script.contains(r#"archive="perfgate-$version-$target.tar.gz""#)
    );
    assert!(script.contains(r#"fetch "$base/$archive.sha256""#));
}
