//! The sticky PR comment, through octocrab against GitHub's REST API (or GitHub Enterprise's
//! `…/api/v3`): all comments are listed (every page), ours is the one that carries the hidden
//! `<!-- perfgate:ID -->` marker *and* was written by the expected author (a comment with our
//! marker from anyone else is left alone); it is updated, or created when absent. Server errors
//! and rate limits are retried a few times with backoff; the token is never printed.

use std::time::Duration;

use octocrab::Octocrab;

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
