//! `mpi-grade probe`: what the local MPI does where the challenge lives, measured and kept in
//! the cache for the grades that explain part 1 with it (the measuring is `run::probe`'s).

use crate::error::Result;
use crate::mpi::Launcher;
use crate::run::probe::{self, ProbeReport};
use std::path::Path;

/// Measures this MPI (`launcher`) afresh and stores the findings in `cache_dir`; `note` hears
/// each step.
pub fn probe(cache_dir: &Path, launcher: &Launcher, note: &dyn Fn(&str)) -> Result<ProbeReport> {
    let report = probe::probe(cache_dir, launcher, note)?;
    probe::store(cache_dir, launcher, &report)?;
    Ok(report)
}
