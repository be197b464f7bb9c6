//! GitHub as a [`Publisher`] ([`GitHub`]): the sticky PR comment, and in Actions the job's
//! annotations, step summary and outputs ([`super::actions`]).
//!
//! The sticky PR comment, through octocrab against GitHub's REST API (or GitHub Enterprise's
//! `…/api/v3`): the comments are listed page by page, ours is the one that carries the hidden
//! `<!-- perfgate:ID -->` marker *and* was written by the expected author (a comment with our
//! marker from anyone else is left alone); it is updated, or created when absent. Server errors
//! and rate limits are retried a few times with backoff.
//!
//! perfgate runs with a write token on a fork's logs, and the answers come from a server it does
//! not control, so publishing is bounded: a connect timeout, a read timeout, and one deadline for
//! the whole upsert with its retries (`--publish-timeout`); at most [`PAGE_LIMIT`] pages of
//! comments, and a page link that points back at a page already read ends the listing; an
//! answer that declares more than [`ANSWER_LIMIT`] bytes is refused before its body is read (an
//! answer without a length — chunked — is bounded by the deadline only: octocrab reads a body
//! whole, and offers no hook to cap it); of the comments read only ours is kept. Every message
//! made of the server's words is redacted (the token, and whatever follows `Authorization:`,
//! `Bearer ` or `token `), made one line, and cut to [`MESSAGE_LIMIT`] characters.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use octocrab::models::issues::Comment;
use octocrab::{FromResponse, Octocrab, Page};

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
    /// The longest the comment may take, retries included (`--publish-timeout`).
    pub timeout: Duration,
    source_link: Box<SourceLink>,
}

impl GitHub {
    pub fn new(
        context: Context,
        comment: CommentMode,
        comment_author: String,
        fail_on_publish_error: bool,
        retry: Duration,
        timeout: Duration,
    ) -> GitHub {
        let links = context.clone();
        let source_link = Box::new(move |path: &str, line: Option<u32>| links.blob_url(path, line));
        GitHub { context, comment, comment_author, fail_on_publish_error, retry, timeout, source_link }
    }

    /// Posts `markdown` as gate `id`'s sticky comment when there is a PR, a repository and a
    /// token. A failure is a warning (the verdict stands), or exit 2 with
    /// `fail_on_publish_error`.
    pub fn comment(&self, id: &str, markdown: &str, newsworthy: bool) -> Result<(), Error> {
        self.comment_on(self.context.pr, id, markdown, newsworthy)
    }

    /// [`GitHub::comment`] on pull request `pr`.
    pub fn comment_on(&self, pr: Option<u64>, id: &str, markdown: &str, newsworthy: bool) -> Result<(), Error> {
        let context = &self.context;
        if self.comment == CommentMode::Never {
            return Ok(());
        }
        let (Some((owner, repo)), Some(pr), Some(token)) = (&context.repo, pr, &context.token) else {
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
            timeout: self.timeout,
        };
        match upsert(&target, markdown) {
            Ok(Published { done, warnings }) => {
                // Already redacted and one line each (see `clean`).
                for w in warnings {
                    eprintln!("warning: {w}");
                }
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

impl GitHub {
    /// The pull request to comment on: the event's, else — for a `workflow_run` of a fork's PR,
    /// which lists none — the open PR whose head is the run's (see [`pull_request_of`]). `None`
    /// when neither names one.
    pub fn pull_request(&self) -> Result<Option<u64>, Error> {
        let context = &self.context;
        let (None, Some(head), Some((owner, repo)), Some(token)) = (context.pr, &context.run_head, &context.repo, &context.token) else {
            return Ok(context.pr);
        };
        pull_request_of(&context.api_url, token, (owner, repo), head, self.timeout, self.retry)
            .map_err(|f| Error::Publish(format!("cannot find the workflow run's pull request: {}", f.message)))
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
    /// The longest the whole upsert may take, retries included.
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Created(u64),
    Updated(u64),
    Skipped(&'static str),
}

/// What an upsert did, and what went wrong without stopping it (a listing cut short).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub done: Done,
    /// One line each, redacted.
    pub warnings: Vec<String>,
}

/// Pages of comments listed (100 each): a PR with more than 5,000 comments is searched for ours
/// among its first 5,000 only, where a comment made by a gate on every run sits.
pub const PAGE_LIMIT: usize = 50;
/// The most bytes an answer may declare: a page of 100 comments at GitHub's limit of 65,536
/// characters, 4 bytes each, with their metadata, is about 26 MiB.
pub const ANSWER_LIMIT: u64 = 32 * 1024 * 1024;
/// The longest wait for a connection, and for the server's next bytes, when the whole deadline
/// is longer: a server silent that long is retried rather than waited for.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most characters of a server's message printed.
pub const MESSAGE_LIMIT: usize = 500;

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

/// Why one request failed.
enum Fault {
    Api(octocrab::Error),
    /// The answer declared this many bytes, more than [`ANSWER_LIMIT`].
    TooBig(u64),
}

impl Fault {
    fn retryable(&self) -> bool {
        match self {
            Fault::Api(octocrab::Error::GitHub { source, .. }) => {
                let s = source.status_code.as_u16();
                s >= 500 || s == 429 || (s == 403 && source.message.to_ascii_lowercase().contains("rate limit"))
            }
            Fault::Api(octocrab::Error::Hyper { .. } | octocrab::Error::Service { .. }) => true,
            Fault::Api(_) | Fault::TooBig(_) => false,
        }
    }

    /// The failure to report, in words cleaned of the token (see [`clean`]).
    fn failure(self, token: &str) -> Failure {
        match self {
            Fault::Api(octocrab::Error::GitHub { source, .. }) => {
                Failure { status: Some(source.status_code.as_u16()), message: clean(&source.message, token) }
            }
            Fault::Api(other) => Failure { status: None, message: clean(&chain(&other), token) },
            Fault::TooBig(n) => Failure {
                status: None,
                message: format!("GitHub's answer declares {n} bytes, more than the {} MiB perfgate reads", ANSWER_LIMIT >> 20),
            },
        }
    }
}

/// An error and its sources, as one sentence: octocrab's own text ("Service Error: client error
/// (Connect)") does not say what happened underneath (a timeout, a refused connection).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = s.source();
    }
    text
}

/// A text that came from the network (or carries its words), made safe to print: the token and
/// any credential after `Authorization:`, `Bearer ` or `token ` become `***` (a server may echo
/// the request's headers in its error), then control characters — line breaks included, so
/// that no `\n::error::` starts a workflow command — become `�`, and it is cut to
/// [`MESSAGE_LIMIT`] characters.
pub fn clean(text: &str, token: &str) -> String {
    let text = escape::terminal(&redact(text, token));
    match text.char_indices().nth(MESSAGE_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The credentials in `text` replaced by `***`.
pub fn redact(text: &str, token: &str) -> String {
    // A real token is 40 characters or more; a one- or two-letter test token replaced everywhere
    // would garble the message and hide nothing.
    let mut text = if token.len() >= 4 { text.replace(token, "***") } else { text.to_owned() };
    let quoting = |c: char| c.is_whitespace() || c == '"' || c == '\'';
    // ASCII lowercasing keeps every byte offset, so positions found in `lower` cut `text`.
    let mut from = 0;
    loop {
        let lower = text.to_ascii_lowercase();
        let found =
            ["authorization", "bearer ", "token ", "basic "].iter().filter_map(|k| lower[from..].find(k).map(|at| (from + at, *k))).min();
        let Some((at, keyword)) = found else { break };
        from = at + keyword.len();
        let mut start = from;
        if keyword == "authorization" {
            // `Authorization: x`, `authorization=x`, `"authorization": "x"`; not the word in prose.
            let rest = text[start..].trim_start_matches(quoting);
            if !rest.starts_with([':', '=']) {
                continue;
            }
            start = text.len() - rest.len() + 1;
        }
        start = text.len() - text[start..].trim_start_matches(quoting).len();
        let end = text[start..].find(|c: char| quoting(c) || "`,;()<>[]{}".contains(c)).map_or(text.len(), |e| start + e);
        let value = &lower[start..end];
        // `Authorization: Bearer x`: the scheme is a keyword itself, its value comes next.
        if value.is_empty() || value == "***" || ["bearer", "token", "basic"].contains(&value) {
            continue;
        }
        text.replace_range(start..end, "***");
        from = start + 3;
    }
    text
}

/// Runs `call` up to 4 times while it fails with a server error or a rate limit. Kept rather
/// than `backon` or octocrab's retry layer: the layer does not know GitHub's rate-limit 403, and
/// a crate for these fifteen lines would cost more than it saves.
async fn with_retries<T, F, Fut>(backoff: Duration, mut call: F) -> Result<T, Fault>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Fault>>,
{
    let mut delay = backoff;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if attempt < 4 && e.retryable() => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// One request of the upsert.
#[derive(Clone, Copy)]
enum Request<'a> {
    Get(&'a str),
    /// A comment's body, posted to a route.
    Post(&'a str, &'a str),
}

/// Sends one request and reads its answer, refusing one that declares more than
/// [`ANSWER_LIMIT`] bytes before reading its body (an error's too).
async fn call<T: FromResponse>(crab: &Octocrab, request: Request<'_>) -> Result<T, Fault> {
    let response = match request {
        Request::Get(uri) => crab._get(uri).await,
        Request::Post(route, body) => crab._post(route, Some(&serde_json::json!({ "body": body }))).await,
    }
    .map_err(Fault::Api)?;
    let declared = response.headers().get("content-length").and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if let Some(n) = declared
        && n > ANSWER_LIMIT
    {
        return Err(Fault::TooBig(n));
    }
    let response = octocrab::map_github_error(response).await.map_err(Fault::Api)?;
    T::from_response(response).await.map_err(Fault::Api)
}

/// The API client: each connection, read and write bounded by [`CONNECT_TIMEOUT`] (or the whole
/// `timeout`, when shorter).
fn client(api_url: &str, token: &str, timeout: Duration) -> Result<Octocrab, Fault> {
    let patience = CONNECT_TIMEOUT.min(timeout);
    Octocrab::builder()
        .personal_token(token.to_owned())
        .base_uri(api_url)
        .map_err(Fault::Api)?
        .set_connect_timeout(Some(patience))
        .set_read_timeout(Some(patience))
        .set_write_timeout(Some(patience))
        .build()
        .map_err(Fault::Api)
}

/// Runs `work` on a runtime of its own within `timeout` (the backstop of every request's own
/// timeouts, retries' sleeps included).
fn bounded<T>(timeout: Duration, work: impl std::future::Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Failure { status: None, message: e.to_string() })?;
    let result = runtime.block_on(async {
        tokio::time::timeout(timeout, work).await.unwrap_or_else(|_| {
            Err(Failure { status: None, message: format!("GitHub did not answer within {} s (--publish-timeout)", timeout.as_secs_f64()) })
        })
    });
    // Dropping a runtime waits for its blocking tasks (a DNS lookup that hangs): leave them.
    runtime.shutdown_background();
    result
}

/// The open pull request of `owner/repo` whose head is `head.owner:head.branch` at commit
/// `head.sha` — how a `workflow_run` of a fork's PR (which lists none) finds its PR. Every part
/// of the question comes from GitHub's event, not from the fork's artifact; the commit must
/// match, so a branch pushed again since is not mistaken for the run's.
pub fn pull_request_of(
    api_url: &str,
    token: &str,
    (owner, repo): (&str, &str),
    head: &super::RunHead,
    timeout: Duration,
    backoff: Duration,
) -> Result<Option<u64>, Failure> {
    let fail = |f: Fault| f.failure(token);
    bounded(timeout, async {
        let crab = client(api_url, token, timeout).map_err(fail)?;
        let uri = format!("/repos/{owner}/{repo}/pulls?state=open&per_page=100&head={}", query(&format!("{}:{}", head.owner, head.branch)));
        let pulls: Vec<serde_json::Value> = with_retries(backoff, || call(&crab, Request::Get(&uri))).await.map_err(fail)?;
        Ok(pulls.iter().find(|p| p["head"]["sha"].as_str() == Some(head.sha.as_str())).and_then(|p| p["number"].as_u64()))
    })
}

/// Percent-encodes a query parameter's value (a branch name may hold `&`, `#`, `+`, spaces).
fn query(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b':' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// Creates or updates the sticky comment with `body` (which must start with the marker), within
/// `target.timeout`.
pub fn upsert(target: &Target, body: &str) -> Result<Published, Failure> {
    if target.mode == CommentMode::Never {
        return Ok(Published { done: Done::Skipped("--comment never"), warnings: Vec::new() });
    }
    bounded(target.timeout, talk(target, body))
}

async fn talk(target: &Target, body: &str) -> Result<Published, Failure> {
    let fail = |f: Fault| f.failure(&target.token);
    let crab = client(&target.api_url, &target.token, target.timeout).map_err(fail)?;
    let (owner, repo) = (&target.owner, &target.repo);
    let mut warnings = Vec::new();
    // Pages are followed by hand rather than with `all_pages`, which trusts every `next` link (one
    // pointing back loops forever) and keeps every comment of every page.
    let mut next = Some(format!("/repos/{owner}/{repo}/issues/{}/comments?per_page=100", target.pr));
    let mut seen = HashSet::new();
    let mut ours: Option<u64> = None;
    while let Some(uri) = next.take() {
        if seen.len() == PAGE_LIMIT {
            warnings.push(format!(
                "the pull request has more than {} comments: perfgate's was looked for among the first {0} only",
                PAGE_LIMIT * 100
            ));
            break;
        }
        if !seen.insert(uri.clone()) {
            warnings.push(clean(
                &format!("GitHub's list of comments links back to a page already read ({uri}): the listing stopped there"),
                &target.token,
            ));
            break;
        }
        let page: Page<Comment> = with_retries(target.backoff, || call(&crab, Request::Get(&uri))).await.map_err(fail)?;
        // Only our comment is kept: the oldest, when a race made two.
        for c in page.items {
            if c.user.login == target.author && c.body.as_deref().is_some_and(|b| b.contains(&target.marker)) {
                ours = Some(ours.map_or(c.id.0, |id| id.min(c.id.0)));
            }
        }
        next = page.next.map(|u| u.to_string());
    }
    let done = match ours {
        Some(id) => {
            let route = format!("/repos/{owner}/{repo}/issues/comments/{id}");
            let _: Comment = with_retries(target.backoff, || call(&crab, Request::Post(&route, body))).await.map_err(fail)?;
            Done::Updated(id)
        }
        None if target.mode == CommentMode::OnChange && !target.newsworthy => {
            Done::Skipped("nothing regressed or warned, and no comment to update")
        }
        None => {
            let route = format!("/repos/{owner}/{repo}/issues/{}/comments", target.pr);
            let c: Comment = with_retries(target.backoff, || call(&crab, Request::Post(&route, body))).await.map_err(fail)?;
            Done::Created(c.id.0)
        }
    };
    Ok(Published { done, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_wherever_a_server_echoes_them() {
        // The token itself, whatever surrounds it.
        assert_eq!(redact("x=ghs_secret1&y", "ghs_secret1"), "x=***&y");
        // A credential the redactor does not know, after the words that introduce one.
        assert_eq!(redact("Authorization: token abc123, then", ""), "Authorization: token ***, then");
        assert_eq!(
            redact("{\"authorization\": \"x\"} AUTHORIZATION=Bearer q.r-s", ""),
            "{\"authorization\": \"***\"} AUTHORIZATION=Bearer ***"
        );
        assert_eq!(redact("authorization failed", ""), "authorization failed");
        assert_eq!(redact("bad (Basic dXNlcjpwYXNz)", ""), "bad (Basic ***)");
        // A short test token is not replaced inside words.
        assert_eq!(redact("the token is read-only", "t"), "the token *** read-only");
        assert_eq!(redact("no credential here", "t"), "no credential here");
    }

    #[test]
    fn a_servers_words_are_one_line_and_cut() {
        assert_eq!(clean("boom\n::error::x\r\x1b[31m", ""), "boom\u{FFFD}::error::x\u{FFFD}\u{FFFD}[31m");
        let long = clean(&"é".repeat(MESSAGE_LIMIT + 10), "");
        assert_eq!(long.chars().count(), MESSAGE_LIMIT + 1);
        assert!(long.ends_with("é…"));
    }
}
