//! perfgate: turns Musical Conductor (RenderX) logs into per-handler performance statistics.
//!
//! The pipeline, one module per stage:
//! [`input`] (paths, decoding) → [`parse`] (envelopes, messages, markdown, frames → events) →
//! [`attribute`] (tracker: events → beats; catalog: beats → handlers) → [`stats`] →
//! [`report`] (the view-model) → [`render`] (terminal, markdown, JSON). [`analyze`] wires them;
//! [`cli`] is the command line; [`output`] writes reports and baselines without destroying
//! anything (through links, devices directly, regular files atomically, under a lock for
//! read-modify-write); [`generate`] writes synthetic logs with their ground truth.

pub mod analyze;
pub mod attribute;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod error;
pub mod gate;
pub mod generate;
pub mod init;
pub mod input;
pub mod measure;
pub mod output;
pub mod parse;
pub mod pipeline;
pub mod publish;
pub mod render;
pub mod report;
pub mod rng;
pub mod stats;
pub mod timestamp;
