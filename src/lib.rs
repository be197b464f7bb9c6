//! perfgate: turns Musical Conductor (RenderX) logs into a per-handler performance gate.
//!
//! The pipeline, one module per stage: `input` (paths, format, decoding, hashing; its block
//! reader pushes recognized lines into a sink) → `parse` (envelopes, conductor messages,
//! markdown, frames, user rules → events) → `attribute` (the tracker turns events into beats;
//! the catalog names their handlers) → [`measure`] (per handler its samples, sorted and
//! summarized once) → [`report`] (the view the renderers read), [`baseline`] (the committed
//! file and the run it records) and [`gate`] (the comparison and its verdicts), each reading
//! the measurements; [`history`] (the runs of main, one file each) → [`trend`] (the change
//! points along them, and each handler's accepted level) → [`judged`] (the judged run: the
//! report and, for a check, the gate's judgement — the one model every output reads) →
//! [`render`] (an exporter per format: terminal, markdown, HTML, JSON; wording and escaping in
//! one place each) → [`publish`] (a publisher per target: GitHub's PR comment, job summary,
//! outputs, annotations). [`pipeline`] runs the commands as functions of validated options;
//! [`cli`] parses and validates the flags into them (the formats and publishers chosen there,
//! the environment read there); `output`
//! writes without destroying anything (through links, devices directly, regular files
//! atomically, the baseline under a lock).
//!
//! Imports follow one order, each module using only modules before it: `error`, `output`,
//! [`stats`], `timestamp`, `parse`, `input`, `attribute`, [`measure`], [`config`], [`report`],
//! [`baseline`], [`gate`], [`history`], [`trend`], [`judged`], [`render`], [`publish`],
//! `analyze`, [`pipeline`], [`cli`].
//!
//! Exit codes, decided by the binary from [`cli::run`]: 0 success or a passing check, 1 a
//! failing check, 2 an error (never a verdict).

pub(crate) mod analyze;
pub(crate) mod attribute;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod error;
pub mod gate;
pub(crate) mod generate;
pub mod history;
pub(crate) mod init;
pub(crate) mod input;
pub mod judged;
pub mod measure;
pub(crate) mod output;
pub(crate) mod parse;
pub mod pipeline;
pub mod publish;
pub mod render;
pub mod report;
pub(crate) mod rng;
pub mod stats;
pub(crate) mod timestamp;
pub mod trend;
