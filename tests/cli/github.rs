//! Publishing to GitHub, with the real octocrab client over real HTTP against a local server
//! on loopback (wiremock) that plays GitHub's REST API.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use perfgate::publish::github::{CommentMode, Done, Failure, Published, Target, upsert};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const MARKER: &str = "<!-- perfgate:default -->";
const BOT: &str = "github-actions[bot]";

fn user(login: &str) -> Value {
    json!({
        "login": login, "id": 41898282, "node_id": "MDM6Qm90NDE4OTgyODI=", "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4",
        "gravatar_id": "", "url": "https://api.github.com/users/x", "html_url": "https://github.com/apps/github-actions",
        "followers_url": "https://api.github.com/users/x/followers", "following_url": "https://api.github.com/users/x/following{/other_user}",
        "gists_url": "https://api.github.com/users/x/gists{/gist_id}", "starred_url": "https://api.github.com/users/x/starred{/owner}{/repo}",
        "subscriptions_url": "https://api.github.com/users/x/subscriptions", "organizations_url": "https://api.github.com/users/x/orgs",
        "repos_url": "https://api.github.com/users/x/repos", "events_url": "https://api.github.com/users/x/events{/privacy}",
        "received_events_url": "https://api.github.com/users/x/received_events", "type": "Bot", "site_admin": false
    })
}

fn comment(id: u64, login: &str, body: &str) -> Value {
    json!({
        "id": id, "node_id": format!("IC_{id}"), "url": format!("https://api.github.com/repos/o/r/issues/comments/{id}"),
        "html_url": format!("https://github.com/o/r/pull/7#issuecomment-{id}"), "body": body, "user": user(login),
        "created_at": "2026-11-27T00:00:00Z", "updated_at": "2026-11-27T00:00:00Z", "author_association": "NONE"
    })
}

struct Server {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
}

impl Server {
    fn start() -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let server = runtime.block_on(MockServer::start());
        Server { runtime, server }
    }
    fn mount(&self, mock: Mock) {
        self.runtime.block_on(mock.mount(&self.server));
    }
    fn uri(&self) -> String {
        self.server.uri()
    }
    fn requests(&self) -> Vec<wiremock::Request> {
        self.runtime.block_on(self.server.received_requests()).unwrap_or_default()
    }
    fn verify(&self) {
        self.runtime.block_on(self.server.verify());
    }
    /// `GET /repos/o/r/issues/{pr}/comments` answers `comments`.
    fn comments(&self, pr: u64, comments: Value) {
        self.mount(
            Mock::given(method("GET"))
                .and(path(format!("/repos/o/r/issues/{pr}/comments")))
                .respond_with(ResponseTemplate::new(200).set_body_json(comments)),
        );
    }
    /// `POST {at}` answers `status` with `answer`, and must be called `times` times.
    fn post(&self, at: &str, status: u16, answer: Value, times: u64) {
        self.mount(
            Mock::given(method("POST")).and(path(at)).respond_with(ResponseTemplate::new(status).set_body_json(answer)).expect(times),
        );
    }
}

fn target(api: &str, mode: CommentMode, newsworthy: bool) -> Target {
    Target {
        api_url: api.to_owned(),
        token: "ghs_secret".into(),
        owner: "o".into(),
        repo: "r".into(),
        pr: 7,
        marker: MARKER.into(),
        author: BOT.into(),
        mode,
        newsworthy,
        backoff: Duration::from_millis(5),
        timeout: Duration::from_secs(10),
    }
}

/// A done upsert without warnings.
fn quiet(done: Done) -> Result<Published, Failure> {
    Ok(Published { done, warnings: Vec::new() })
}

#[test]
fn creates_the_comment_when_absent() {
    let s = Server::start();
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/o/r/issues/7/comments"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([comment(1, "alice", "LGTM")])))
            .expect(1),
    );
    s.mount(
        Mock::given(method("POST"))
            .and(path("/repos/o/r/issues/7/comments"))
            .and(body_string_contains(MARKER))
            .respond_with(ResponseTemplate::new(201).set_body_json(comment(11, BOT, MARKER)))
            .expect(1),
    );
    let body = format!("{MARKER}\n## perfgate: no regression");
    assert_eq!(upsert(&target(&s.uri(), CommentMode::Always, false), &body), quiet(Done::Created(11)));
    s.verify();
    let post = s.requests().into_iter().find(|r| r.method.as_str() == "POST").unwrap();
    let sent: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(sent["body"], body);
    assert_eq!(post.headers.get("authorization").unwrap().to_str().unwrap(), "Bearer ghs_secret");
}

#[test]
fn updates_our_comment_found_on_page_two() {
    let s = Server::start();
    let page2 = format!("{}/repos/o/r/issues/7/comments?per_page=100&page=2", s.uri());
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/o/r/issues/7/comments"))
            .and(query_param("page", "2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                comment(22, BOT, &format!("{MARKER}\nold")),
                comment(23, BOT, &format!("{MARKER}\nnewer duplicate"))
            ])))
            .with_priority(1)
            .expect(1),
    );
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/o/r/issues/7/comments"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("link", format!("<{page2}>; rel=\"next\", <{page2}>; rel=\"last\"").as_str())
                    .set_body_json(json!([comment(1, "alice", "first")])),
            )
            .expect(1),
    );
    s.mount(
        Mock::given(method("POST"))
            .and(path("/repos/o/r/issues/comments/22"))
            .and(body_string_contains("new body"))
            .respond_with(ResponseTemplate::new(200).set_body_json(comment(22, BOT, "x")))
            .expect(1),
    );
    s.mount(Mock::given(method("POST")).and(path("/repos/o/r/issues/7/comments")).respond_with(ResponseTemplate::new(201)).expect(0));
    assert_eq!(upsert(&target(&s.uri(), CommentMode::Always, false), &format!("{MARKER}\nnew body")), quiet(Done::Updated(22)));
    s.verify();
}

#[test]
fn a_marker_written_by_someone_else_is_not_ours() {
    let s = Server::start();
    s.comments(7, json!([comment(5, "mallory", &format!("{MARKER} fake"))]));
    s.mount(Mock::given(method("POST")).and(path("/repos/o/r/issues/comments/5")).respond_with(ResponseTemplate::new(200)).expect(0));
    s.post("/repos/o/r/issues/7/comments", 201, comment(12, BOT, MARKER), 1);
    assert_eq!(upsert(&target(&s.uri(), CommentMode::Always, false), MARKER), quiet(Done::Created(12)));
    s.verify();
}

#[test]
fn on_change_with_nothing_to_say_creates_nothing_but_keeps_updating() {
    let s = Server::start();
    s.comments(7, json!([]));
    s.mount(Mock::given(method("POST")).respond_with(ResponseTemplate::new(201)).expect(0));
    assert!(matches!(upsert(&target(&s.uri(), CommentMode::OnChange, false), MARKER), Ok(Published { done: Done::Skipped(_), .. })));
    s.verify();
    // Once a comment exists, on-change keeps it current.
    let s = Server::start();
    s.comments(7, json!([comment(30, BOT, MARKER)]));
    s.post("/repos/o/r/issues/comments/30", 200, comment(30, BOT, MARKER), 1);
    assert_eq!(upsert(&target(&s.uri(), CommentMode::OnChange, false), MARKER), quiet(Done::Updated(30)));
    s.verify();
}

#[test]
fn server_error_then_success_is_retried_and_enterprise_paths_are_kept() {
    let s = Server::start();
    // GitHub Enterprise Server: the API lives under /api/v3.
    s.mount(
        Mock::given(method("GET"))
            .and(path("/api/v3/repos/o/r/issues/7/comments"))
            .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "boom"})))
            .up_to_n_times(1)
            .with_priority(1)
            .expect(1),
    );
    s.mount(
        Mock::given(method("GET"))
            .and(path("/api/v3/repos/o/r/issues/7/comments"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .expect(1),
    );
    s.post("/api/v3/repos/o/r/issues/7/comments", 201, comment(40, BOT, MARKER), 1);
    assert_eq!(upsert(&target(&format!("{}/api/v3", s.uri()), CommentMode::Always, false), MARKER), quiet(Done::Created(40)));
    s.verify();
}

#[test]
fn forbidden_is_a_failure_naming_the_recipe() {
    let s = Server::start();
    s.mount(
        Mock::given(method("GET")).and(path("/repos/o/r/issues/7/comments")).respond_with(
            ResponseTemplate::new(403).set_body_json(
                json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com"}),
            ),
        ),
    );
    let f = upsert(&target(&s.uri(), CommentMode::Always, true), MARKER).unwrap_err();
    assert_eq!(f.status, Some(403));
    assert!(
        f.warning().contains("Resource not accessible by integration") && f.warning().contains("two-workflow recipe"),
        "{}",
        f.warning()
    );
}

/// A log, a baseline, and a slower run: `check` in a pull_request job.
fn pr_workspace(event: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (out, seed, slow) in [("base", "1", "1"), ("run", "2", "2.5")] {
        let o = perfgate(
            dir.path(),
            &[
                "generate",
                "--out",
                out,
                "--seed",
                seed,
                "--executions",
                "700",
                "--clean",
                "--slow",
                &format!("CanvasComponentPlugin.renderReact={slow}"),
            ],
        );
        assert_eq!(o.status.code(), Some(0));
    }
    assert_eq!(perfgate(dir.path(), &["update-baseline", "base/logs"]).status.code(), Some(0));
    std::fs::write(dir.path().join("event.json"), event.to_string()).unwrap();
    dir
}

#[test]
fn check_in_a_pull_request_comments_summarizes_annotates_and_keeps_the_verdict() {
    let s = Server::start();
    s.comments(7, json!([]));
    s.mount(
        Mock::given(method("POST"))
            .and(path("/repos/o/r/issues/7/comments"))
            .and(body_string_contains(MARKER))
            .and(body_string_contains("renderReact"))
            .and(body_string_contains("[The run](https://github.com/o/r/actions/runs/42)"))
            .respond_with(ResponseTemplate::new(201).set_body_json(comment(50, BOT, MARKER)))
            .expect(1),
    );
    let dir = pr_workspace(&json!({"pull_request": {"number": 7, "head": {"sha": "headsha1"}}}));
    let summary = dir.path().join("summary.md");
    let output = dir.path().join("output.txt");
    let (event, summary_s, output_s) =
        (dir.path().join("event.json"), summary.to_string_lossy().into_owned(), output.to_string_lossy().into_owned());
    let uri = s.uri();
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "o/r"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_API_URL", uri.as_str()),
        ("GITHUB_TOKEN", "ghs_secret"),
        ("GITHUB_STEP_SUMMARY", summary_s.as_str()),
        ("GITHUB_OUTPUT", output_s.as_str()),
        ("GITHUB_RUN_ID", "42"),
        ("PERFGATE_RETRY_MS", "5"),
    ];
    // The handler's source is the generator's, not in the workspace: add a source root with it.
    let o = perfgate_env(dir.path(), &["check", "run/logs"], &env);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    s.verify();
    let out = stdout(&o);
    assert!(out.contains("::error title=perfgate%3A CanvasComponentPlugin.renderReact::"), "{out}");
    assert!(stderr(&o).contains("PR #7: comment 50 created"), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&summary).unwrap().starts_with(MARKER));
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "result=fail\nregressions=1\n");
    for text in [out, stderr(&o)] {
        assert!(!text.contains("ghs_secret"), "the token is never printed");
    }
}

#[test]
fn comment_links_sources_at_the_head_commit() {
    let s = Server::start();
    s.comments(3, json!([]));
    s.mount(
        Mock::given(method("POST"))
            .and(path("/repos/o/r/issues/3/comments"))
            .and(body_string_contains(
                "[source](https://github.com/o/r/blob/headsha1/fixtures/packages/canvas-component/src/symphonies/create/create.react.stage-crew.ts#L4)",
            ))
            .respond_with(ResponseTemplate::new(201).set_body_json(comment(70, BOT, MARKER)))
            .expect(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let event = dir.path().join("event.json");
    std::fs::write(&event, json!({"pull_request": {"number": 3, "head": {"sha": "headsha1"}}}).to_string()).unwrap();
    assert_eq!(perfgate(&repo(), &["update-baseline", "fixtures/logs", "--baseline", baseline.to_str().unwrap()]).status.code(), Some(0));
    let uri = s.uri();
    let env = [
        ("GITHUB_REPOSITORY", "o/r"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_API_URL", uri.as_str()),
        ("GITHUB_TOKEN", "t"),
    ];
    let o = perfgate_env(&repo(), &["check", "fixtures/logs", "--baseline", baseline.to_str().unwrap()], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    s.verify();
}

#[test]
fn a_forbidden_comment_is_a_warning_and_the_exit_code_stands() {
    let s = Server::start();
    s.mount(
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "Resource not accessible by integration"}))),
    );
    let dir = pr_workspace(&json!({"pull_request": {"number": 7, "head": {"sha": "h"}}}));
    let event = dir.path().join("event.json");
    let uri = s.uri();
    let env = [
        ("GITHUB_REPOSITORY", "o/r"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_API_URL", uri.as_str()),
        ("GITHUB_TOKEN", "ghs_secret"),
    ];
    let o = perfgate_env(dir.path(), &["check", "run/logs"], &env);
    assert_eq!(o.status.code(), Some(1), "the regression's exit code, not a publishing error");
    assert!(stderr(&o).contains("warning: cannot comment on the pull request (403"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("ghs_secret"));
    let o = perfgate_env(dir.path(), &["check", "run/logs", "--fail-on-publish-error"], &env);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn publish_posts_a_report_computed_elsewhere() {
    // A fork's workflow_run: no PR listed; its head is the fork owner's branch at a commit.
    let event = json!({"workflow_run": {"head_sha": "h1", "head_branch": "feat&x", "head_repository": {"owner": {"login": "forker"}}, "pull_requests": []}});
    let dir = pr_workspace(&event);
    // The fork's job: no token, no comment; the report is saved.
    let o = perfgate(dir.path(), &["check", "run/logs", "--comment", "never", "--json", "report.json"]);
    assert_eq!(o.status.code(), Some(1));
    let s = Server::start();
    // The open PRs of that head: one at another commit (the branch was pushed again), ours.
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/o/r/pulls"))
            .and(query_param("head", "forker:feat&x"))
            .and(query_param("state", "open"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                {"number": 8, "head": {"sha": "h0"}},
                {"number": 9, "head": {"sha": "h1"}}
            ]))),
    );
    s.comments(9, json!([]));
    s.mount(
        Mock::given(method("POST"))
            .and(path("/repos/o/r/issues/9/comments"))
            .and(body_string_contains(MARKER))
            .respond_with(ResponseTemplate::new(201).set_body_json(comment(60, BOT, MARKER)))
            .expect(1),
    );
    let event = dir.path().join("event.json");
    let uri = s.uri();
    let env = [
        ("GITHUB_REPOSITORY", "o/r"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_API_URL", uri.as_str()),
        ("GITHUB_TOKEN", "t"),
    ];
    let o = perfgate_env(dir.path(), &["publish", "--report", "report.json"], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("PR #9: comment 60 created"), "{}", stderr(&o));
    s.verify();
    // The comment is the one `check` would post, rebuilt from the report's data.
    let posted: Value = s.requests().iter().rev().find(|r| r.method.as_str() == "POST").unwrap().body_json().unwrap();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    // (The report's data has no timings: the folded bars of the slowest handlers are left out.)
    let without_bars = |md: &str| match md.split_once("<details><summary>Slowest handlers now") {
        Some((head, rest)) => format!("{head}{}", rest.split_once("</details>\n\n").map_or("", |(_, tail)| tail)),
        None => md.to_owned(),
    };
    assert_eq!(posted["body"].as_str().unwrap(), without_bars(report["markdown"].as_str().unwrap()));
    // No open PR has that head at that commit: an error, no comment.
    std::fs::write(&event, json!({"workflow_run": {"head_sha": "h2", "head_branch": "feat&x", "head_repository": {"owner": {"login": "forker"}}, "pull_requests": []}}).to_string()).unwrap();
    let o = perfgate_env(dir.path(), &["publish", "--report", "report.json"], &env);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no open pull request has the head forker:feat&x at h2); pass --pr N"), "{}", stderr(&o));
}

/// In the fork recipe the report is the fork's artifact: its markdown is never posted, and
/// what its data says is escaped as `check` escapes it.
#[test]
fn publish_never_posts_a_forged_report() {
    let dir = pr_workspace(&json!({"workflow_run": {"head_sha": "h", "pull_requests": []}}));
    let o = perfgate(dir.path(), &["check", "run/logs", "--comment", "never", "--json", "report.json"]);
    assert_eq!(o.status.code(), Some(1));
    let path = dir.path().join("report.json");
    let mut report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    report["markdown"] = json!(format!("{MARKER}\n@everyone ![pwned](https://evil.example/x.png) [click](https://evil.example)"));
    report["comparison"]["handlers"][0]["key"] = json!("[click](https://evil.example) @everyone <img src=x>");
    std::fs::write(&path, report.to_string()).unwrap();
    let s = Server::start();
    s.comments(9, json!([]));
    s.post("/repos/o/r/issues/9/comments", 201, comment(61, BOT, MARKER), 1);
    let uri = s.uri();
    let env = [("GITHUB_REPOSITORY", "o/r"), ("GITHUB_API_URL", uri.as_str()), ("GITHUB_TOKEN", "t")];
    let o = perfgate_env(dir.path(), &["publish", "--report", "report.json", "--pr", "9"], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    s.verify();
    let posted: Value = s.requests().iter().rev().find(|r| r.method.as_str() == "POST").unwrap().body_json().unwrap();
    let body = posted["body"].as_str().unwrap();
    assert!(body.starts_with(MARKER) && !body.contains("![pwned]") && !body.contains("evil.example/x.png"), "{body}");
    assert!(
        body.contains("`` [click](https://evil.example) @everyone <img src=x> ``")
            || body.contains("`[click](https://evil.example) @everyone <img src=x>`"),
        "{body}"
    );
    // A forged gate id cannot close the marker; a forged baseline is validated.
    for (field, value, needle) in [("id", json!("x --> @everyone <!--"), "its gate id"), ("baseline", json!({"schema": 3}), "its baseline")]
    {
        let mut forged = report.clone();
        forged[field] = value;
        std::fs::write(&path, forged.to_string()).unwrap();
        let o = perfgate_env(dir.path(), &["publish", "--report", "report.json", "--pr", "9"], &env);
        assert_eq!(o.status.code(), Some(2), "{field}");
        assert!(stderr(&o).contains(needle), "{field}: {}", stderr(&o));
    }
}

#[test]
fn init_writes_config_and_workflow_and_keeps_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("packages/lib/json-sequences")).unwrap();
    std::fs::write(dir.path().join("packages/lib/json-sequences/a.json"), "{}").unwrap();
    let o = perfgate(dir.path(), &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let config = std::fs::read_to_string(dir.path().join("perfgate.toml")).unwrap();
    assert!(config.contains("#   \"packages/lib/json-sequences\","), "{config}");
    assert!(dir.path().join(".github/workflows/perfgate.yml").is_file());
    // The written config is valid.
    std::fs::write(
        dir.path().join("x.log"),
        " ⏱️ PerformanceTracker: Started timing beat 1 for A\n ✅ BeatExecutor: Beat 1 (a:b) completed in 3ms\n",
    )
    .unwrap();
    assert_eq!(perfgate(dir.path(), &["analyze", "x.log"]).status.code(), Some(0));
    let o = perfgate(dir.path(), &["init"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("perfgate.toml exists; pass --force"));
    assert_eq!(perfgate(dir.path(), &["init", "--force"]).status.code(), Some(0));
}

/// Runs `f` on a thread and returns its result and how long it took; fails the test when it
/// takes longer than `limit` (an unbounded publisher would hang the test forever).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> (T, Duration) {
    let (tx, rx) = std::sync::mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let r = rx.recv_timeout(limit).unwrap_or_else(|_| panic!("still running after {limit:?}"));
    (r, start.elapsed())
}

/// Runs perfgate like `perfgate_env`, killed (and the test failed) after `limit`; returns its
/// output and how long it took. Its output goes through files, so that a full pipe never stalls it.
fn perfgate_within(limit: Duration, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (Output, Duration) {
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.args(args).current_dir(cwd).env_remove("NO_COLOR");
    for v in GITHUB_VARS {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().copied()).stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(err.try_clone().unwrap());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("perfgate {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    let read = |mut f: std::fs::File| {
        use std::io::{Read, Seek};
        let mut v = Vec::new();
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut v).unwrap();
        v
    };
    (Output { status, stdout: read(out), stderr: read(err) }, took)
}

/// A listener on loopback that accepts connections (the kernel does, from its backlog) and never
/// answers.
fn silent_server() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    (listener, uri)
}

#[test]
fn a_server_that_never_answers_fails_within_the_timeout() {
    let (listener, uri) = silent_server();
    let mut t = target(&uri, CommentMode::Always, true);
    t.timeout = Duration::from_secs(1);
    let (result, took) = within(Duration::from_secs(10), move || upsert(&t, MARKER));
    drop(listener);
    assert_eq!(result, Err(Failure { status: None, message: "GitHub did not answer within 1 s (--publish-timeout)".into() }));
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn check_against_a_server_that_never_answers_keeps_its_verdict_and_its_time() {
    let (listener, uri) = silent_server();
    let dir = pr_workspace(&json!({"pull_request": {"number": 7, "head": {"sha": "h"}}}));
    let event = dir.path().join("event.json");
    let env = [
        ("GITHUB_REPOSITORY", "o/r"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_API_URL", uri.as_str()),
        ("GITHUB_TOKEN", "ghs_secret"),
        ("PERFGATE_RETRY_MS", "5"),
    ];
    let limit = Duration::from_secs(60);
    let (o, took) = perfgate_within(limit, dir.path(), &["check", "run/logs", "--publish-timeout", "1"], &env);
    assert_eq!(o.status.code(), Some(1), "the regression's exit code: {}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: cannot comment on the pull request: GitHub did not answer within 1 s (--publish-timeout)\n"),
        "{}",
        stderr(&o)
    );
    println!("check against a silent server: {took:?}");
    let (o, took) = perfgate_within(limit, dir.path(), &["check", "run/logs", "--publish-timeout", "1", "--fail-on-publish-error"], &env);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("perfgate: error: cannot comment on the pull request: GitHub did not answer within 1 s (--publish-timeout)\n"),
        "{}",
        stderr(&o)
    );
    println!("check --fail-on-publish-error against a silent server: {took:?}");
    drop(listener);
}

#[test]
fn a_next_link_back_to_a_page_already_read_ends_the_listing() {
    let s = Server::start();
    let again = format!("{}/repos/o/r/issues/7/comments?per_page=100&page=1", s.uri());
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/o/r/issues/7/comments"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("link", format!("<{again}>; rel=\"next\"").as_str())
                    .set_body_json(json!([comment(1, "alice", "first")])),
            )
            // The first page, then `page=1` once: the next link back to it is not followed.
            .expect(2),
    );
    s.post("/repos/o/r/issues/7/comments", 201, comment(13, BOT, MARKER), 1);
    let t = target(&s.uri(), CommentMode::Always, true);
    let (result, _) = within(Duration::from_secs(20), move || upsert(&t, MARKER));
    assert_eq!(
        result,
        Ok(Published {
            done: Done::Created(13),
            warnings: vec![format!("GitHub's list of comments links back to a page already read ({again}): the listing stopped there")]
        })
    );
    s.verify();
}

/// Answers every page of comments with one comment and a link to the page after it (on the
/// server at this address).
struct EndlessPages(String);

impl wiremock::Respond for EndlessPages {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let page: u64 = request.url.query_pairs().find(|(k, _)| k == "page").and_then(|(_, v)| v.parse().ok()).unwrap_or(1);
        let next = format!("{}{}?per_page=100&page={}", self.0, request.url.path(), page + 1);
        ResponseTemplate::new(200)
            .insert_header("link", format!("<{next}>; rel=\"next\"").as_str())
            .set_body_json(json!([comment(page, "alice", "chatter")]))
    }
}

#[test]
fn the_listing_stops_after_fifty_pages() {
    let s = Server::start();
    s.mount(Mock::given(method("GET")).and(path("/repos/o/r/issues/7/comments")).respond_with(EndlessPages(s.uri())).expect(50));
    s.post("/repos/o/r/issues/7/comments", 201, comment(14, BOT, MARKER), 1);
    let t = target(&s.uri(), CommentMode::Always, true);
    let (result, _) = within(Duration::from_secs(30), move || upsert(&t, MARKER));
    assert_eq!(
        result,
        Ok(Published {
            done: Done::Created(14),
            warnings: vec!["the pull request has more than 5000 comments: perfgate's was looked for among the first 5000 only".into()]
        })
    );
    s.verify();
}

#[test]
fn an_answer_declaring_a_huge_body_is_refused_unread() {
    use std::io::{BufRead, Write};
    // Declares 1 GiB and sends one byte of it: reading it whole would wait (and then hold it all).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                line.clear();
            }
            stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n[").unwrap();
            open.push(stream);
        }
    });
    let t = target(&uri, CommentMode::Always, true);
    let (result, took) = within(Duration::from_secs(20), move || upsert(&t, MARKER));
    assert_eq!(
        result,
        Err(Failure { status: None, message: "GitHub's answer declares 1073741824 bytes, more than the 32 MiB perfgate reads".into() })
    );
    assert!(took < Duration::from_secs(5), "refused without waiting for the body: {took:?}");
}

/// A 401 whose message echoes the request's `Authorization` header, with a line break and a
/// workflow command after it.
struct EchoAuthorization;

impl wiremock::Respond for EchoAuthorization {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let auth = request.headers.get("authorization").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        ResponseTemplate::new(401)
            .set_body_json(json!({"message": format!("Bad credentials: got Authorization: {auth}\n::error::forged (token {auth})")}))
    }
}

#[test]
fn an_error_echoing_the_authorization_header_never_prints_the_token() {
    let s = Server::start();
    s.mount(Mock::given(method("GET")).respond_with(EchoAuthorization));
    let f = upsert(&target(&s.uri(), CommentMode::Always, true), MARKER).unwrap_err();
    assert_eq!(
        f,
        Failure {
            status: Some(401),
            message: "Bad credentials: got Authorization: Bearer ***\u{FFFD}::error::forged (token Bearer ***)".into()
        }
    );
    // Through the binary: nothing of the token on stderr or stdout, and no line of the server's.
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let event = dir.path().join("event.json");
    std::fs::write(&event, json!({"pull_request": {"number": 7, "head": {"sha": "h"}}}).to_string()).unwrap();
    assert_eq!(perfgate(&repo(), &["update-baseline", "fixtures/logs", "--baseline", baseline.to_str().unwrap()]).status.code(), Some(0));
    let uri = s.uri();
    let env = [
        ("GITHUB_REPOSITORY", "o/r"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_API_URL", uri.as_str()),
        ("GITHUB_TOKEN", "ghs_secret"),
    ];
    let check = ["check", "fixtures/logs", "--baseline", baseline.to_str().unwrap()];
    let (o, _) = perfgate_within(Duration::from_secs(60), &repo(), &check, &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "warning: cannot comment on the pull request: GitHub answered 401 Bad credentials: got Authorization: Bearer ***\u{FFFD}::error::forged (token Bearer ***)\n"
        ),
        "{}",
        stderr(&o)
    );
    let (o2, _) = perfgate_within(Duration::from_secs(60), &repo(), &[&check[..], &["--fail-on-publish-error"]].concat(), &env);
    assert_eq!(o2.status.code(), Some(2), "{}", stderr(&o2));
    for text in [stdout(&o), stderr(&o), stdout(&o2), stderr(&o2)] {
        assert!(!text.contains("ghs_secret"), "{text}");
        assert!(!text.lines().any(|l| l.starts_with("::error::forged")), "{text}");
    }
}

#[test]
fn an_event_payload_that_is_not_a_json_file_is_a_warning_or_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    assert_eq!(perfgate(&repo(), &["update-baseline", "fixtures/logs", "--baseline", baseline.to_str().unwrap()]).status.code(), Some(0));
    let fifo = dir.path().join("event.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let text = dir.path().join("event.txt");
    std::fs::write(&text, "not json").unwrap();
    let big = dir.path().join("event-big.json");
    std::fs::File::create(&big).unwrap().set_len(25 * 1024 * 1024 + 1).unwrap();
    let ignored = "the event payload is ignored (no pull request or head commit from it)";
    let cases = [
        (fifo.clone(), format!("a FIFO, not a regular file: {ignored}")),
        ("/dev/zero".into(), format!("a device, not a regular file: {ignored}")),
        (dir.path().to_path_buf(), format!("a directory, not a regular file: {ignored}")),
        (text, format!("not an event payload (expected ident at line 1 column 2): {ignored}")),
        (big, format!("larger than 25 MiB, not an event payload: {ignored}")),
    ];
    let check = ["check", "fixtures/logs", "--baseline", baseline.to_str().unwrap()];
    for (event, why) in cases {
        let env = [("GITHUB_REPOSITORY", "o/r"), ("GITHUB_EVENT_PATH", event.to_str().unwrap()), ("GITHUB_TOKEN", "ghs_secret")];
        let said = format!("GITHUB_EVENT_PATH {}: {why}\n", event.display());
        let (o, took) = perfgate_within(Duration::from_secs(60), &repo(), &check, &env);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stderr(&o).starts_with(&format!("warning: {said}")), "{}", stderr(&o));
        let (o, _) = perfgate_within(Duration::from_secs(60), &repo(), &[&check[..], &["--fail-on-publish-error"]].concat(), &env);
        assert_eq!((o.status.code(), stderr(&o)), (Some(2), format!("perfgate: error: {said}")));
        println!("{}: {took:?}", event.display());
    }
}
