//! One file per subcommand: each turns a validated request into work of the pipeline's stages
//! and a report.

pub mod batch;
pub mod check;
pub mod grade;
pub mod new;
pub mod run;
