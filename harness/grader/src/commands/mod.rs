//! One file per subcommand: each turns a validated request into work of the pipeline's stages
//! and a report.

pub mod batch;
pub mod catalogue;
pub mod check;
pub mod compare;
pub mod grade;
pub mod new;
pub mod probe;
pub mod run;
pub mod shard;
