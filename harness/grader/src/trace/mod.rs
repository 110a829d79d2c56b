//! What the tracer tells the grader while ranks run, and what the grader concludes from it.
//!
//! - [`records`]: the per-rank shared-memory records, mapped and read as snapshots;
//! - [`graph`]: the AND/OR wait-for graph of one snapshot and who can never be released.

pub mod graph;
pub mod records;
