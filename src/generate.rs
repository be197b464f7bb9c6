//! Seeded generator of realistic logs with ground truth (placeholder replaced below).
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {}
pub fn run(_a: &GenerateArgs) -> Result<(), crate::error::Error> { Ok(()) }
