//! The bundled solutions, embedded like the runtime and built like any submission: the
//! baselines that students' timings are compared with, and the naive alltoall the probe uses to
//! find the eager limit.

use crate::build::compile::Submission;
use crate::error::Result;
use crate::mpi::Implementation;
use std::path::Path;

/// A bundled solution crate of the alltoall challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Solution {
    /// `solutions/reference`: naive part 1, ordered pairs in part 2, Isend in part 3.
    Reference,
    /// `solutions/native`: the library's `MPI_Alltoall` in every part.
    Native,
    /// `solutions/python/reference`: the reference's algorithms in Python (mpi4py).
    PythonReference,
}

impl Solution {
    fn name(self) -> &'static str {
        match self {
            Solution::Reference => "reference",
            Solution::Native => "native",
            Solution::PythonReference => "python",
        }
    }

    /// Writes the solution into the cache of `implementation` and opens it as a submission.
    pub fn submission(
        self,
        cache_dir: &Path,
        implementation: Implementation,
    ) -> Result<Submission> {
        let dir = cache_dir
            .join(implementation.key())
            .join("solutions")
            .join(self.name());
        crate::build::embedded::write_tree(&format!("solutions/{}", self.name()), &dir)?;
        let mut submission = match self {
            Solution::PythonReference => {
                Submission::open_as(&dir.join("reference"), Some(super::compile::Lang::Python))?
            }
            Solution::Reference | Solution::Native => Submission::open(&dir)?,
        };
        submission.display = format!("<{} solution>", self.name());
        Ok(submission)
    }
}
