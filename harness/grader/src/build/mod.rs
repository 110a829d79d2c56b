//! Build: a submission taken in (intake), built into a driver program with the grader's own
//! runtime and tracer (compile, embedded), and the bundled solutions built the same way.

pub mod compile;
pub mod embedded;
pub mod intake;
pub mod memo;
pub mod python;
pub mod solutions;
pub mod submission;
