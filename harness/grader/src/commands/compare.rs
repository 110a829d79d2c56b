//! `mpi-grade compare`: a grade whose point is the comparison table, the submission's times
//! against the reference solutions' and `MPI_Alltoall` (measured by `run::compare`).

use crate::commands::grade::{self, GradeOptions};
use crate::error::Result;
use crate::report::Report;

/// Grades with the comparison on: `options` as the request built them (`compare` set).
pub fn compare(options: &GradeOptions) -> Result<Report> {
    debug_assert!(
        options.compare,
        "a comparison request asks for the comparison"
    );
    grade::grade(options)
}
