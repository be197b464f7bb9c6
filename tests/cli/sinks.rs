//! Every text is hostile until escaped for its sink: handler names a log chose and file names a
//! fork chose go through every command and output — the terminal report, annotations, stderr,
//! the markdown comment, the job summary, the step outputs — and none of them reaches its sink
//! raw: no control character, no invisible (bidi, zero-width) character, no line of its own
//! that the runner would read as a workflow command.

use std::path::Path;

use crate::support::*;

const RULE: &str =
    "[[sources.pattern]]\nname = \"t\"\nregex = 'handler=(?P<handler>\\S+) duration=(?P<duration>[\\d.]+)ms'\nplugin = \"P\"\n";

/// Names that are other names in disguise, or commands, or markup.
const HOSTILE: [&str; 6] =
    ["admin\u{202E}gnp.exe", "pay\u{200B}ment", "x\u{1b}[31mred", "::error::forged", "a%0A::warning::b", "\u{2066}@team<!--"];

fn log(names: &[&str], factor: f64, seed: u64) -> String {
    let mut out = String::new();
    for i in 0..40u64 {
        for (j, n) in names.iter().enumerate() {
            let jitter = 1.0 + 0.05 * (((i * 7 + j as u64 * 3 + seed) % 11) as f64 / 10.0 - 0.5);
            out.push_str(&format!("handler={n} duration={:.3}ms\n", 4.0 * factor * jitter));
        }
    }
    out
}

/// Whether `text` holds a character no sink may pass on raw.
fn raw(text: &str) -> Option<char> {
    text.chars().find(|&c| (c.is_control() && c != '\n' && c != '\t') || perfgate::render::escape::invisible(c) && c != '\u{200B}')
}

fn assert_no_command_lines(what: &str, text: &str) {
    for line in text.lines() {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::")
                || t.starts_with("::error title=perfgate")
                || t.starts_with("::warning title=perfgate")
                || t.starts_with("::notice title=perfgate"),
            "{what}: a line the runner reads as a command: {line:?}"
        );
    }
}

#[test]
fn hostile_names_reach_no_sink_raw() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("perfgate.toml"), RULE).unwrap();
    // Steady handlers outnumber the slowed ones: the run-wide shift stays the runner's.
    let steady: Vec<String> = (0..15).map(|i| format!("s{i:02}")).collect();
    let steady: Vec<&str> = steady.iter().map(String::as_str).collect();
    let all: Vec<&str> = steady.iter().chain(HOSTILE.iter()).copied().collect();
    for seed in 1..=3 {
        std::fs::write(d.join(format!("base{seed}.log")), log(&all, 1.0, seed)).unwrap();
        let o = perfgate(d, &["update-baseline", &format!("base{seed}.log")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(raw(&stdout(&o)), None, "{}", stdout(&o));
    }
    // The hostile handlers three times slower: each is a row, an annotation and a reason.
    let mut now = log(&steady, 1.0, 9);
    now.push_str(&log(&HOSTILE, 3.0, 9));
    std::fs::write(d.join("now.log"), now).unwrap();
    let (outputs, summary) = (d.join("outputs"), d.join("summary.md"));
    let env =
        [("GITHUB_ACTIONS", "true"), ("GITHUB_OUTPUT", outputs.to_str().unwrap()), ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())];
    let o = perfgate_env(d, &["check", "now.log", "--markdown", "comment.md", "--color", "always"], &env);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let md = std::fs::read_to_string(d.join("comment.md")).unwrap();
    let texts = [
        (
            "stdout",
            out.replace("\u{1b}[31m", "")
                .replace("\u{1b}[33m", "")
                .replace("\u{1b}[32m", "")
                .replace("\u{1b}[2m", "")
                .replace("\u{1b}[0m", ""),
        ),
        ("stderr", stderr(&o)),
        ("comment", md.clone()),
        ("summary", std::fs::read_to_string(&summary).unwrap()),
        ("outputs", std::fs::read_to_string(&outputs).unwrap()),
    ];
    for (what, text) in &texts {
        assert_eq!(raw(text), None, "{what}: {text}");
        assert_no_command_lines(what, text);
    }
    // Every hostile handler failed, and is shown (not obeyed) in the terminal and the comment.
    assert_eq!(out.lines().filter(|l| l.starts_with("::error title=perfgate%3A P.")).count(), HOSTILE.len(), "{out}");
    assert!(out.contains("P.admin⟨U+202E⟩gnp.exe") && out.contains("P.pay⟨U+200B⟩ment"), "{out}");
    assert!(out.contains("P.x\u{FFFD}[31mred"), "{out}");
    assert!(md.contains("`P.admin⟨U+202E⟩gnp.exe`") && md.contains("⟨U+2066⟩@team<!-\u{200B}-"), "{md}");
    // The annotation's property escapes `:` and `,`; its message escapes `%`.
    assert!(out.contains("::error title=perfgate%3A P.%3A%3Aerror%3A%3Aforged::P.::error::forged regressed: "), "{out}");
    assert!(out.contains("P.a%250A::warning::b regressed"), "{out}");
}

#[test]
fn hostile_file_names_cannot_start_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let logs = d.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let evil = "x\n::add-mask::secret\n  ::error::forged \u{202E}.log";
    std::fs::write(logs.join(evil), "nothing a parser knows\n").unwrap();
    let check = |o: &std::process::Output| {
        let err = stderr(o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert_no_command_lines("stderr", &err);
        assert_eq!(raw(&err), None, "{err}");
        assert!(err.contains("⟨U+202E⟩") || err.contains("\u{FFFD}"), "{err}");
    };
    check(&perfgate(d, &["analyze", "logs"]));
    check(&perfgate(d, &["analyze", &Path::new("logs").join(evil).to_string_lossy()]));
}

/// The comment limit holds by construction: names are shortened in the comment (whole in the
/// JSON), the heatmap is cut with the rows, and the limit is checked on the whole comment.
#[test]
fn the_comment_limit_holds_whatever_the_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("perfgate.toml"), RULE).unwrap();
    let huge = format!("h{}", "x".repeat(200_000));
    let long: Vec<String> = (0..30).map(|i| format!("l{i:02}{}", "y".repeat(5_000))).collect();
    // 300 handlers that all regress: rows and heatmap rows beyond any comment.
    let many: Vec<String> = (0..300).map(|i| format!("m{i:03}")).collect();
    let steady: Vec<String> = (0..400).map(|i| format!("s{i:03}")).collect();
    let mut slowed: Vec<&str> = vec![huge.as_str()];
    slowed.extend(long.iter().map(String::as_str));
    slowed.extend(many.iter().map(String::as_str));
    let steady: Vec<&str> = steady.iter().map(String::as_str).collect();
    let all: Vec<&str> = steady.iter().chain(slowed.iter()).copied().collect();
    for seed in 1..=2 {
        std::fs::write(d.join(format!("base{seed}.log")), log(&all, 1.0, seed)).unwrap();
        assert_eq!(perfgate(d, &["update-baseline", &format!("base{seed}.log")]).status.code(), Some(0));
    }
    let mut now = log(&steady, 1.0, 9);
    now.push_str(&log(&slowed, 3.0, 9));
    std::fs::write(d.join("now.log"), now).unwrap();
    let o = perfgate(d, &["check", "now.log", "--markdown", "comment.md", "--json", "report.json", "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let md = std::fs::read_to_string(d.join("comment.md")).unwrap();
    assert!(md.chars().count() <= 65_536, "{}", md.chars().count());
    assert_eq!(stdout(&o), md);
    assert!(md.contains("least severe rows omitted") || md.contains("1 least severe row omitted"), "{}", &md[..300]);
    // The long names are shortened in the comment, whole in the JSON.
    assert!(md.contains(&format!("`P.h{}…{}`", "x".repeat(47), "x".repeat(49))), "{}", &md[..2000]);
    let json = std::fs::read_to_string(d.join("report.json")).unwrap();
    assert!(json.contains(&format!("\"P.{huge}\"")));
    // The heatmap never shows a handler the table dropped.
    let heat = md.split("<summary>Heatmap").nth(1).unwrap_or("");
    assert!(heat.matches("\n| `P.").count() <= md.split("<summary>Heatmap").next().unwrap().matches("\n| ❌ |").count());
}
