//! `challenges.toml` as written, before validation: every value a message may point at
//! keeps its span.

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    pub format_version: Spanned<i64>,
    pub default: Option<Spanned<String>>,
    pub launch: Option<Launch>,
    #[serde(default)]
    pub challenge: Vec<Challenge>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Launch {
    pub mpi: Option<Spanned<String>>,
    pub launcher: Option<Spanned<String>>,
    pub hostfile: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Challenge {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub title: Option<String>,
    pub section: Option<String>,
    pub ranks: Spanned<Vec<u32>>,
    pub scaling_factors: Spanned<Vec<u64>>,
    pub zero_buffer: Option<bool>,
    pub timing: Option<Timing>,
    pub limits: Option<Limits>,
    pub sandbox: Option<crate::sandbox::limits::RawSandbox>,
    pub submission: Option<crate::build::intake::RawPolicy>,
    #[serde(default)]
    pub part: Vec<Part>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Timing {
    pub repetitions: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Limits {
    pub cell_seconds: Option<Spanned<f64>>,
    pub launch_seconds: Option<Spanned<f64>>,
    pub build_seconds: Option<Spanned<f64>>,
    pub hang_seconds: Option<Spanned<f64>>,
    pub output_bytes: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Part {
    pub name: Spanned<String>,
    pub function: Option<Spanned<String>>,
    pub kind: Option<Spanned<String>>,
    pub title: Option<String>,
    pub expect: Spanned<String>,
    pub points: Spanned<f64>,
    pub visibility: Option<Spanned<String>>,
    pub allowed_calls: Option<Spanned<Vec<Spanned<String>>>>,
    pub required_calls: Option<Spanned<Vec<Spanned<String>>>>,
    pub performance: Option<Performance>,
    #[serde(default)]
    pub credit: Vec<Credit>,
    pub ratio: Option<Ratio>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ratio {
    pub against: Spanned<String>,
    pub at_least: Option<Spanned<f64>>,
    pub per_rank: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Credit {
    pub name: Option<String>,
    pub ranks: Option<Spanned<Vec<u32>>>,
    pub scaling_factors: Option<Spanned<Vec<u64>>>,
    pub mode: Option<Spanned<String>>,
    pub points: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Performance {
    pub baseline: Spanned<String>,
    pub max_ratio: Spanned<f64>,
}
