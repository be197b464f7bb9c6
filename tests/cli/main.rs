//! Integration tests of the `perfgate` binary: real files on disk, the real corpus.

mod action;
mod apps;
mod browser;
mod corpus;
mod errors;
mod fixtures;
mod gate;
mod generated;
mod github;
mod golden;
mod hardening;
mod hostile;
mod html;
mod install;
mod producers;
mod sinks;
mod structure;
mod support;
mod trend;
