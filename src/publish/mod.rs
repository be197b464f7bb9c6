//! Publishing a judged run to where people see it, through one seam: a [`Publisher`] per
//! target. GitHub is the first ([`github::GitHub`]: the sticky PR comment through octocrab, and
//! the job's step summary, outputs and annotations in [`actions`]), with the context of the run
//! ([`Context`], from the Actions environment, which enters only at the CLI and is injected,
//! never read from the process here). A publisher owns its target's limits and passes them to
//! the renderers. A failure to publish is a warning unless asked otherwise: it never changes
//! the verdict.
//!
//! A new target is a new file here with a `Publisher`, and the line in `cli.rs` that adds it to
//! a check's publishers.

pub mod actions;
pub mod github;

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;
use crate::judged::{Judged, Links};
use crate::render::View;

/// A target a check is published to.
pub trait Publisher {
    /// The most characters its markdown may have (a comment's limit), when bounded.
    fn markdown_limit(&self) -> Option<usize>;
    /// The links the reports may show (sources at the head commit, the CI run's page).
    fn links(&self) -> Links<'_>;
    /// Publishes a check's judged run; `report` is the JSON report's path, when one is written.
    /// An error only when publishing must not fail quietly (`--fail-on-publish-error`, or a
    /// file of the job that cannot be written).
    fn publish(&self, run: &Judged<'_>, view: &View, report: Option<&std::path::Path>) -> Result<(), Error>;
}

/// Where a run stands on GitHub.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// `GITHUB_ACTIONS=true`.
    pub in_actions: bool,
    pub event_name: Option<String>,
    /// `owner`, `name`.
    pub repo: Option<(String, String)>,
    pub pr: Option<u64>,
    /// A `workflow_run` event's head, when it lists no pull request (a fork's): the PR is the
    /// open one whose head is this branch at this commit, looked up through the API.
    pub run_head: Option<RunHead>,
    /// The PR's head commit (not the test merge commit `GITHUB_SHA` is on `pull_request`).
    pub head_sha: Option<String>,
    pub api_url: String,
    pub server_url: String,
    pub run_id: Option<String>,
    pub token: Option<String>,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
}

/// The head of a workflow run: the repository owner and branch it ran on, and its commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunHead {
    pub owner: String,
    pub branch: String,
    pub sha: String,
}

/// The parts of an event payload perfgate reads.
#[derive(Debug, Default, Deserialize)]
struct Event {
    number: Option<u64>,
    after: Option<String>,
    pull_request: Option<PullRequest>,
    issue: Option<Issue>,
    workflow_run: Option<WorkflowRun>,
    merge_group: Option<MergeGroup>,
}

#[derive(Debug, Deserialize)]
struct PullRequest {
    number: Option<u64>,
    head: Option<Head>,
}

#[derive(Debug, Deserialize)]
struct Head {
    sha: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Issue {
    number: Option<u64>,
    pull_request: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct WorkflowRun {
    head_sha: Option<String>,
    #[serde(default)]
    pull_requests: Vec<PullRequest>,
    head_branch: Option<String>,
    head_repository: Option<Repository>,
}

#[derive(Debug, Deserialize)]
struct Repository {
    owner: Option<Owner>,
}

#[derive(Debug, Deserialize)]
struct Owner {
    login: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MergeGroup {
    head_sha: Option<String>,
}

impl Context {
    /// Reads the Actions environment through `get` (so that tests pass a map). The event
    /// payload at `GITHUB_EVENT_PATH` gives the PR number and head SHA: `pull_request` and
    /// `pull_request_target` (`.pull_request`), `workflow_run` (`.workflow_run.pull_requests[0]`,
    /// empty for fork PRs), `issue_comment` on a PR (`.issue`), `push` and `merge_group` (no PR).
    ///
    /// With the context, why the payload was not read, when it was not (see `read_event`): the
    /// context then has no PR or head commit from it, and the caller warns or stops.
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> (Context, Option<String>) {
        let non_empty = |k: &str| get(k).filter(|v| !v.is_empty());
        let (event, problem) = match non_empty("GITHUB_EVENT_PATH").map(|p| read_event(Path::new(&p))) {
            Some(Err(problem)) => (Event::default(), Some(problem)),
            Some(Ok(event)) => (event, None),
            None => (Event::default(), None),
        };
        let mut pr = None;
        let mut head_sha = None;
        let mut head = None;
        if let Some(p) = &event.pull_request {
            pr = p.number.or(event.number);
            head_sha = p.head.as_ref().and_then(|h| h.sha.clone());
        } else if let Some(run) = &event.workflow_run {
            let first = run.pull_requests.first();
            pr = first.and_then(|p| p.number);
            head_sha = first.and_then(|p| p.head.as_ref()).and_then(|h| h.sha.clone()).or_else(|| run.head_sha.clone());
            // A fork's PR is not listed: it is found by the run's head, which GitHub wrote (the
            // fork chose the branch's name, not the repository or the commit it names).
            let owner = run.head_repository.as_ref().and_then(|r| r.owner.as_ref()).and_then(|o| o.login.clone());
            if let (None, Some(owner), Some(branch), Some(sha)) = (pr, owner, run.head_branch.clone(), run.head_sha.clone()) {
                head = Some(RunHead { owner, branch, sha });
            }
        } else if let Some(issue) = &event.issue {
            if issue.pull_request.is_some() {
                pr = issue.number;
            }
        } else if let Some(mg) = &event.merge_group {
            head_sha = mg.head_sha.clone();
        } else if event.after.is_some() {
            head_sha = event.after.clone();
        }
        let context = Context {
            in_actions: non_empty("GITHUB_ACTIONS").as_deref() == Some("true"),
            event_name: non_empty("GITHUB_EVENT_NAME"),
            repo: non_empty("GITHUB_REPOSITORY").and_then(|r| split_repo(&r)),
            pr,
            run_head: head,
            head_sha: head_sha.or_else(|| non_empty("GITHUB_SHA")),
            api_url: non_empty("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            server_url: non_empty("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into()),
            run_id: non_empty("GITHUB_RUN_ID"),
            token: non_empty("GITHUB_TOKEN"),
            step_summary: non_empty("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: non_empty("GITHUB_OUTPUT").map(PathBuf::from),
        };
        (context, problem)
    }

    /// The run's page, for links.
    pub fn run_url(&self) -> Option<String> {
        let (owner, name) = self.repo.as_ref()?;
        Some(format!("{}/{owner}/{name}/actions/runs/{}", self.server_url.trim_end_matches('/'), self.run_id.as_ref()?))
    }

    /// A link to a source file at the head commit.
    pub fn blob_url(&self, path: &str, line: Option<u32>) -> Option<String> {
        let (owner, name) = self.repo.as_ref()?;
        let sha = self.head_sha.as_ref()?;
        Some(format!(
            "{}/{owner}/{name}/blob/{sha}/{path}{}",
            self.server_url.trim_end_matches('/'),
            line.map(|l| format!("#L{l}")).unwrap_or_default()
        ))
    }
}

/// The most bytes of an event payload read: GitHub caps a webhook's payload at 25 MB.
pub const EVENT_LIMIT: u64 = 25 * 1024 * 1024;

/// Reads the event payload at `path`, bounded: only a regular file (its kind is looked at before
/// opening it, since opening a FIFO blocks until a writer comes and `/dev/zero` never ends), at
/// most [`EVENT_LIMIT`] bytes, and it must be an event's JSON. The error names the path.
fn read_event(path: &Path) -> Result<Event, String> {
    let name = format!("GITHUB_EVENT_PATH {}", path.display());
    let ignored = "the event payload is ignored (no pull request or head commit from it)";
    let regular = |m: &std::fs::Metadata| {
        let t = m.file_type();
        match () {
            _ if t.is_file() => Ok(()),
            _ if t.is_dir() => Err("a directory"),
            #[cfg(unix)]
            _ if std::os::unix::fs::FileTypeExt::is_fifo(&t) => Err("a FIFO"),
            #[cfg(unix)]
            _ if std::os::unix::fs::FileTypeExt::is_char_device(&t) => Err("a device"),
            _ => Err("a special file"),
        }
    };
    let unreadable = |e: std::io::Error| format!("{name}: cannot read it ({e}): {ignored}");
    let not_regular = |kind: &str| format!("{name}: {kind}, not a regular file: {ignored}");
    regular(&std::fs::metadata(path).map_err(unreadable)?).map_err(not_regular)?;
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // Looked at again once open: the path may have been replaced in between.
    regular(&file.metadata().map_err(unreadable)?).map_err(not_regular)?;
    let mut bytes = Vec::new();
    file.take(EVENT_LIMIT + 1).read_to_end(&mut bytes).map_err(unreadable)?;
    if bytes.len() as u64 > EVENT_LIMIT {
        return Err(format!("{name}: larger than {} MiB, not an event payload: {ignored}", EVENT_LIMIT >> 20));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("{name}: not an event payload ({e}): {ignored}"))
}

/// `owner/name`.
pub fn split_repo(r: &str) -> Option<(String, String)> {
    let (o, n) = r.split_once('/')?;
    (!o.is_empty() && !n.is_empty() && !n.contains('/')).then(|| (o.to_owned(), n.to_owned()))
}

/// GitHub's limit for an issue comment, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn ctx(event: serde_json::Value, extra: &[(&str, &str)]) -> Context {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("event.json");
        std::fs::write(&path, event.to_string()).unwrap();
        let mut env: HashMap<String, String> = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "octo/app"),
            ("GITHUB_SHA", "mergecommit"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_TOKEN", "t0ken"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        env.insert("GITHUB_EVENT_PATH".into(), path.to_string_lossy().into_owned());
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let (context, problem) = Context::from_env(&|k| env.get(k).cloned());
        assert_eq!(problem, None);
        context
    }

    #[test]
    fn an_event_payload_is_read_only_from_a_regular_json_file() {
        let dir = tempfile::tempdir().unwrap();
        let env = |p: &Path| {
            let p = p.to_string_lossy().into_owned();
            Context::from_env(&move |k| (k == "GITHUB_EVENT_PATH").then(|| p.clone()))
        };
        let ignored = "the event payload is ignored (no pull request or head commit from it)";
        let (c, problem) = env(dir.path());
        assert_eq!(c.pr, None);
        assert_eq!(problem, Some(format!("GITHUB_EVENT_PATH {}: a directory, not a regular file: {ignored}", dir.path().display())));
        #[cfg(unix)]
        assert_eq!(env(Path::new("/dev/zero")).1, Some(format!("GITHUB_EVENT_PATH /dev/zero: a device, not a regular file: {ignored}")));
        let missing = dir.path().join("missing.json");
        assert!(env(&missing).1.unwrap().starts_with(&format!("GITHUB_EVENT_PATH {}: cannot read it (", missing.display())));
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "42").unwrap();
        assert_eq!(
            env(&bad).1,
            Some(format!(
                "GITHUB_EVENT_PATH {}: not an event payload (invalid type: integer `42`, expected struct Event at line 1 column 2): {ignored}",
                bad.display()
            ))
        );
        std::fs::File::create(&bad).unwrap().set_len(EVENT_LIMIT + 1).unwrap();
        assert_eq!(env(&bad).1, Some(format!("GITHUB_EVENT_PATH {}: larger than 25 MiB, not an event payload: {ignored}", bad.display())));
        // Without a payload there is nothing to complain about.
        assert_eq!(Context::from_env(&|_| None).1, None);
    }

    #[test]
    fn pull_request_event_gives_number_and_head_sha() {
        let c = ctx(
            serde_json::json!({"action": "synchronize", "number": 7, "pull_request": {"number": 7, "head": {"sha": "abc123", "ref": "feature"}, "base": {"sha": "base"}}}),
            &[],
        );
        assert_eq!((c.pr, c.head_sha.as_deref()), (Some(7), Some("abc123")));
        assert_eq!(c.repo, Some(("octo".into(), "app".into())));
        assert_eq!(c.api_url, "https://api.github.com");
        assert_eq!(c.run_url().as_deref(), Some("https://github.com/octo/app/actions/runs/42"));
        assert_eq!(c.blob_url("src/a.ts", Some(3)).as_deref(), Some("https://github.com/octo/app/blob/abc123/src/a.ts#L3"));
    }

    #[test]
    fn workflow_run_with_and_without_pull_requests() {
        let c = ctx(serde_json::json!({"workflow_run": {"head_sha": "def456", "pull_requests": []}}), &[]);
        assert_eq!((c.pr, c.head_sha.as_deref()), (None, Some("def456")));
        let c = ctx(
            serde_json::json!({"workflow_run": {"head_sha": "def456", "pull_requests": [{"number": 9, "head": {"sha": "def456"}}]}}),
            &[],
        );
        assert_eq!(c.pr, Some(9));
    }

    #[test]
    fn push_issue_comment_and_enterprise() {
        let c = ctx(
            serde_json::json!({"ref": "refs/heads/main", "after": "fff000", "commits": []}),
            &[("GITHUB_API_URL", "https://ghe.example/api/v3")],
        );
        assert_eq!((c.pr, c.head_sha.as_deref(), c.api_url.as_str()), (None, Some("fff000"), "https://ghe.example/api/v3"));
        let c = ctx(serde_json::json!({"issue": {"number": 5, "pull_request": {"url": "x"}}, "comment": {"body": "/perf"}}), &[]);
        assert_eq!(c.pr, Some(5));
        let c = ctx(serde_json::json!({"issue": {"number": 5}}), &[]);
        assert_eq!(c.pr, None, "a comment on an issue is not a PR");
        let c = ctx(serde_json::json!({"merge_group": {"head_sha": "mg1"}}), &[]);
        assert_eq!((c.pr, c.head_sha.as_deref()), (None, Some("mg1")));
    }
}
