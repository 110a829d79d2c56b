//! The rank's event file: one JSON object per line, appended with a single `write` each, so that
//! a line is complete in the file as soon as `emit` returns, even if the rank is killed next.

use mpi_grade_protocol::run::RankEvent;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

static FILE: OnceLock<File> = OnceLock::new();

/// Opens (creating if needed) the event file of this rank.
pub fn open(path: &Path) -> std::io::Result<()> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let _ = FILE.set(file);
    Ok(())
}

/// Appends one event. Failures are reported on stderr and otherwise ignored: a rank that cannot
/// report is noticed by the grader as a missing event.
pub fn emit(event: &RankEvent) {
    let Some(mut file) = FILE.get() else {
        return;
    };
    let mut line = event.to_line();
    line.push('\n');
    if let Err(e) = file.write_all(line.as_bytes()) {
        eprintln!("mpi-grade runtime: cannot write an event: {e}");
    }
}
