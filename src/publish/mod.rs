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

use std::path::PathBuf;

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
    /// The PR's head commit (not the test merge commit `GITHUB_SHA` is on `pull_request`).
    pub head_sha: Option<String>,
    pub api_url: String,
    pub server_url: String,
    pub run_id: Option<String>,
    pub token: Option<String>,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
}

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
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Context {
        let non_empty = |k: &str| get(k).filter(|v| !v.is_empty());
        let event: Event = non_empty("GITHUB_EVENT_PATH")
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let mut pr = None;
        let mut head_sha = None;
        if let Some(p) = &event.pull_request {
            pr = p.number.or(event.number);
            head_sha = p.head.as_ref().and_then(|h| h.sha.clone());
        } else if let Some(run) = &event.workflow_run {
            let first = run.pull_requests.first();
            pr = first.and_then(|p| p.number);
            head_sha = first.and_then(|p| p.head.as_ref()).and_then(|h| h.sha.clone()).or_else(|| run.head_sha.clone());
        } else if let Some(issue) = &event.issue {
            if issue.pull_request.is_some() {
                pr = issue.number;
            }
        } else if let Some(mg) = &event.merge_group {
            head_sha = mg.head_sha.clone();
        } else if event.after.is_some() {
            head_sha = event.after.clone();
        }
        Context {
            in_actions: non_empty("GITHUB_ACTIONS").as_deref() == Some("true"),
            event_name: non_empty("GITHUB_EVENT_NAME"),
            repo: non_empty("GITHUB_REPOSITORY").and_then(|r| split_repo(&r)),
            pr,
            head_sha: head_sha.or_else(|| non_empty("GITHUB_SHA")),
            api_url: non_empty("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            server_url: non_empty("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into()),
            run_id: non_empty("GITHUB_RUN_ID"),
            token: non_empty("GITHUB_TOKEN"),
            step_summary: non_empty("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: non_empty("GITHUB_OUTPUT").map(PathBuf::from),
        }
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
        Context::from_env(&|k| env.get(k).cloned())
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
