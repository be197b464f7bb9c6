//! GitHub as a [`Publisher`] ([`GitHub`]): the sticky PR comment, and in Actions the job's
//! annotations, step summary and outputs ([`super::actions`]).
//!
//! The sticky PR comment, through octocrab against GitHub's REST API (or GitHub Enterprise's
//! `…/api/v3`): all comments are listed (every page), ours is the one that carries the hidden
//! `<!-- perfgate:ID -->` marker *and* was written by the expected author (a comment with our
//! marker from anyone else is left alone); it is updated, or created when absent. Server errors
//! and rate limits are retried a few times with backoff; the token is never printed.

use std::path::Path;
use std::time::Duration;

use octocrab::Octocrab;

use super::{COMMENT_LIMIT, Context, Publisher, actions};
use crate::error::Error;
use crate::judged::{Judged, Links, SourceLink, marker};
use crate::render::{Exporter as _, View, escape, markdown::Markdown};

/// Publishing on GitHub: where (the context), when to comment, as whom, and how to retry.
pub struct GitHub {
    pub context: Context,
    pub comment: CommentMode,
    /// Login of the account that writes our comments: a comment with our marker by anyone
    /// else is left alone.
    pub comment_author: String,
    /// A publishing failure is an error (exit 2), not a warning.
    pub fail_on_publish_error: bool,
    /// Base delay between retries (doubled each time).
    pub retry: Duration,
    source_link: Box<SourceLink>,
}

impl GitHub {
    pub fn new(context: Context, comment: CommentMode, comment_author: String, fail_on_publish_error: bool, retry: Duration) -> GitHub {
        let links = context.clone();
        let source_link = Box::new(move |path: &str, line: Option<u32>| links.blob_url(path, line));
        GitHub { context, comment, comment_author, fail_on_publish_error, retry, source_link }
    }

    /// Posts `markdown` as gate `id`'s sticky comment when there is a PR, a repository and a
    /// token. A failure is a warning (the verdict stands), or exit 2 with
    /// `fail_on_publish_error`.
    pub fn comment(&self, id: &str, markdown: &str, newsworthy: bool) -> Result<(), Error> {
        let context = &self.context;
        if self.comment == CommentMode::Never {
            return Ok(());
        }
        let (Some((owner, repo)), Some(pr), Some(token)) = (&context.repo, context.pr, &context.token) else {
            if context.in_actions && context.pr.is_some() {
                eprintln!("warning: no GITHUB_TOKEN: the pull request gets no comment (the job summary has the report)");
            }
            return Ok(());
        };
        let target = Target {
            api_url: context.api_url.clone(),
            token: token.clone(),
            owner: owner.clone(),
            repo: repo.clone(),
            pr,
            marker: marker(id),
            author: self.comment_author.clone(),
            mode: self.comment,
            newsworthy,
            backoff: self.retry,
        };
        match upsert(&target, markdown) {
            Ok(done) => {
                eprintln!(
                    "perfgate: PR #{pr}: {}",
                    match done {
                        Done::Created(n) => format!("comment {n} created"),
                        Done::Updated(n) => format!("comment {n} updated"),
                        Done::Skipped(why) => format!("no comment ({why})"),
                    }
                );
                Ok(())
            }
            Err(f) if self.fail_on_publish_error => Err(Error::Publish(f.warning())),
            Err(f) => {
                eprintln!("warning: {}", escape::terminal_text(&f.warning()));
                Ok(())
            }
        }
    }
}

impl Publisher for GitHub {
    fn markdown_limit(&self) -> Option<usize> {
        Some(COMMENT_LIMIT)
    }

    fn links(&self) -> Links<'_> {
        Links { source: Some(&*self.source_link), run: self.context.run_url() }
    }

    fn publish(&self, run: &Judged<'_>, view: &View, report: Option<&Path>) -> Result<(), Error> {
        let Some(judgement) = run.judgement else { return Ok(()) };
        let comparison = judgement.comparison;
        let markdown = Markdown.render(run, view);
        let published = self.comment(judgement.id, &markdown, comparison.newsworthy());
        let context = &self.context;
        if context.in_actions {
            crate::output::stdout(&actions::annotations(comparison))?;
        }
        // The job summary and the step outputs are outputs like the others: a failure to write
        // them is an error, not a verdict.
        if let Some(summary) = &context.step_summary {
            actions::append(summary, &actions::summary(&markdown)).map_err(|source| Error::Write { path: summary.clone(), source })?;
        }
        if let Some(output) = &context.output {
            actions::append(output, &actions::outputs(comparison, report))
                .map_err(|source| Error::Write { path: output.clone(), source })?;
        }
        published
    }
}

/// When to comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentMode {
    /// Create or update the comment on every run.
    Always,
    /// Create it only when something regressed or warned; once it exists, keep it updated.
    OnChange,
    /// Never comment.
    Never,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub api_url: String,
    pub token: String,
    pub owner: String,
    pub repo: String,
    pub pr: u64,
    /// `<!-- perfgate:ID -->`.
    pub marker: String,
    /// Login of the account that writes our comments (`github-actions[bot]` in Actions).
    pub author: String,
    pub mode: CommentMode,
    /// Something regressed or warned (for `on-change`).
    pub newsworthy: bool,
    /// Base delay between retries (doubled each time).
    pub backoff: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Created(u64),
    Updated(u64),
    Skipped(&'static str),
}

/// Why publishing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: Option<u16>,
    pub message: String,
}

impl Failure {
    /// The warning to print: a read-only token (fork PRs) points at the two-workflow recipe.
    pub fn warning(&self) -> String {
        match self.status {
            Some(403) | Some(404) => format!(
                "cannot comment on the pull request ({} {}): the token is read-only, as on pull requests from forks, or lacks `pull-requests: write`. The verdict stands; to comment on fork PRs use the two-workflow recipe (README, \"Pull requests from forks\").",
                self.status.unwrap_or(0),
                self.message
            ),
            Some(s) => format!("cannot comment on the pull request: GitHub answered {s} {}", self.message),
            None => format!("cannot comment on the pull request: {}", self.message),
        }
    }
}

fn failure(e: octocrab::Error) -> Failure {
    match e {
        octocrab::Error::GitHub { source, .. } => Failure { status: Some(source.status_code.as_u16()), message: source.message.clone() },
        other => Failure { status: None, message: other.to_string() },
    }
}

fn retryable(e: &octocrab::Error) -> bool {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let s = source.status_code.as_u16();
            s >= 500 || s == 429 || (s == 403 && source.message.to_ascii_lowercase().contains("rate limit"))
        }
        octocrab::Error::Hyper { .. } | octocrab::Error::Service { .. } => true,
        _ => false,
    }
}

/// Runs `call` up to 4 times while it fails with a server error or a rate limit. Kept rather
/// than `backon` or octocrab's retry layer: the layer does not know GitHub's rate-limit 403, and
/// a crate for these fifteen lines would cost more than it saves.
async fn with_retries<T, F, Fut>(backoff: Duration, mut call: F) -> Result<T, octocrab::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, octocrab::Error>>,
{
    let mut delay = backoff;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if attempt < 4 && retryable(&e) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Creates or updates the sticky comment with `body` (which must start with the marker).
pub fn upsert(target: &Target, body: &str) -> Result<Done, Failure> {
    if target.mode == CommentMode::Never {
        return Ok(Done::Skipped("--comment never"));
    }
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Failure { status: None, message: e.to_string() })?;
    runtime.block_on(async {
        let crab = Octocrab::builder()
            .personal_token(target.token.clone())
            .base_uri(target.api_url.as_str())
            .map_err(failure)?
            .build()
            .map_err(failure)?;
        let issues = crab.issues(&target.owner, &target.repo);
        let first = with_retries(target.backoff, || issues.list_comments(target.pr).per_page(100).send()).await.map_err(failure)?;
        let all = with_retries(target.backoff, || crab.all_pages(first.clone())).await.map_err(failure)?;
        let ours = all
            .into_iter()
            .filter(|c| c.user.login == target.author && c.body.as_deref().is_some_and(|b| b.contains(&target.marker)))
            .min_by_key(|c| c.id.0);
        match ours {
            Some(c) => {
                with_retries(target.backoff, || issues.update_comment(c.id, body)).await.map_err(failure)?;
                Ok(Done::Updated(c.id.0))
            }
            None if target.mode == CommentMode::OnChange && !target.newsworthy => {
                Ok(Done::Skipped("nothing regressed or warned, and no comment to update"))
            }
            None => {
                let c = with_retries(target.backoff, || issues.create_comment(target.pr, body)).await.map_err(failure)?;
                Ok(Done::Created(c.id.0))
            }
        }
    })
}
