//! Python lines for the ranks of a Python program: the interpreter's own stack, dumped by
//! `faulthandler` on [`STACK_SIGNAL`] into `<trace>/<rank>.pystack` (the Python runtime of a
//! grade registers it; for `mpi-grade run -- python3 prog.py` a `sitecustomize` the grader puts
//! on `PYTHONPATH` does). The dump comes from a C signal handler, so it works while the rank is
//! blocked inside MPI or spinning in Python code. The file is the rank's: what it holds is only
//! ever shown as a location, cleaned like every string of a submission.

use super::records::TraceDir;
use crate::build::compile::Lang;
use crate::run::procs::LaunchProcs;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

/// The signal that asks a Python rank for its stack (the tracer's native request is SIGURG).
pub const STACK_SIGNAL: i32 = libc::SIGUSR2;
/// The most of a dump that is read.
const MAX_DUMP: u64 = 64 << 10;

/// The language of a program `run` starts: Python when the program is an interpreter.
pub fn program_lang(program: &Path) -> Lang {
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.starts_with("python") {
        Lang::Python
    } else {
        Lang::Rust
    }
}

/// The dump file of `rank`.
pub fn dump_path(traces: &TraceDir, rank: u32) -> PathBuf {
    traces.path.join(format!("{rank}.pystack"))
}

/// Asks each of `ranks` that registered a dump file for its Python stack and returns the
/// dumps that arrived within `timeout`.
pub fn capture(
    traces: &TraceDir,
    procs: &LaunchProcs,
    ranks: &[u32],
    timeout: Duration,
) -> BTreeMap<u32, String> {
    let mut asked: Vec<(u32, PathBuf, u64)> = Vec::new();
    for &rank in ranks {
        let path = dump_path(traces, rank);
        // Only a rank that registered the handler is signalled: for any other process the
        // signal's default action would end it.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let h = &traces.record(rank).header;
        let (pid, tid) = (h.pid.load(Relaxed), h.tid.load(Relaxed));
        let Some((pid, tid)) = procs.thread(pid, tid) else {
            continue;
        };
        // SAFETY: tgkill sends a signal to one thread of a rank of this launch.
        if unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, STACK_SIGNAL) } == 0 {
            asked.push((rank, path, meta.len()));
        }
    }
    let deadline = Instant::now() + timeout;
    let mut dumps = BTreeMap::new();
    let mut sizes: BTreeMap<u32, u64> = BTreeMap::new();
    while dumps.len() < asked.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        for (rank, path, before) in &asked {
            if dumps.contains_key(rank) {
                continue;
            }
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            // Complete once it grew and then stayed the same for one poll.
            if size > *before && sizes.get(rank) == Some(&size) {
                dumps.insert(*rank, read_from(path, *before));
            }
            sizes.insert(*rank, size);
        }
    }
    dumps
}

fn read_from(path: &Path, offset: u64) -> String {
    let mut text = Vec::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        if file.seek(SeekFrom::Start(offset)).is_ok() {
            let _ = file.take(MAX_DUMP).read_to_end(&mut text);
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// One frame of a dump: `  File "/path/part1.py", line 12 in alltoall`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyFrame {
    /// The file, as the interpreter names it.
    pub file: String,
    /// The line.
    pub line: u32,
    /// The function (`<module>` for code outside functions).
    pub function: String,
}

/// The frames of the thread that received the signal (the one blocked in MPI), innermost
/// first; the first thread of the dump when none is marked current.
pub fn frames(dump: &str) -> Vec<PyFrame> {
    let mut threads: Vec<(bool, Vec<PyFrame>)> = Vec::new();
    for line in dump.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("Current thread") || trimmed.starts_with("Thread ") {
            threads.push((trimmed.starts_with("Current"), Vec::new()));
        } else if let (Some(frame), Some(last)) = (parse_frame(trimmed), threads.last_mut()) {
            last.1.push(frame);
        }
    }
    let current = threads.iter().position(|t| t.0).unwrap_or(0);
    threads
        .into_iter()
        .nth(current)
        .map(|t| t.1)
        .unwrap_or_default()
}

fn parse_frame(line: &str) -> Option<PyFrame> {
    let rest = line.strip_prefix("File \"")?;
    let (file, rest) = rest.rsplit_once("\", line ")?;
    let (number, function) = rest.split_once(" in ")?;
    Some(PyFrame {
        file: file.to_string(),
        line: number.trim().parse().ok()?,
        function: function.trim().to_string(),
    })
}

/// Whether a frame is the interpreter's or a library's rather than the program's.
fn is_library(file: &str) -> bool {
    file.starts_with('<')
        || file.contains("/site-packages/")
        || file.contains("/lib/python3")
        || file.ends_with("mpi_grade_runtime.py")
        || file.ends_with("sitecustomize.py")
}

/// The student's innermost frame: inside `submission` when given, else the innermost frame
/// that is not the interpreter's or a library's. Shown as `part1.py:12 (alltoall)`.
pub fn pick(frames: &[PyFrame], submission: Option<&Path>) -> Option<String> {
    let frame = frames.iter().find(|f| match submission {
        Some(root) => Path::new(&f.file).starts_with(root),
        None => !is_library(&f.file),
    })?;
    let file = submission
        .and_then(|root| Path::new(&frame.file).strip_prefix(root).ok())
        .map(|rel| rel.display().to_string())
        .unwrap_or_else(|| frame.file.clone());
    if frame.function == "<module>" {
        // Code outside functions: in a grade it runs while the runtime imports the file.
        return Some(format!("{file}:{} (code outside functions)", frame.line));
    }
    Some(format!("{file}:{} ({})", frame.line, frame.function))
}

/// Source locations of the given dumps, one per rank when one could be found.
pub fn locate(dumps: &BTreeMap<u32, String>, submission: Option<&Path>) -> Vec<(u32, String)> {
    dumps
        .iter()
        .filter_map(|(&rank, dump)| pick(&frames(dump), submission).map(|l| (rank, l)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "Thread 0x00007f0000000001 (most recent call first):\n  File \"/usr/lib/python3.11/threading.py\", line 320 in wait\n\nCurrent thread 0x00007f0000000002 (most recent call first):\n  File \"/scratch/submission/part1.py\", line 12 in alltoall\n  File \"/scratch/python/mpi_grade_runtime.py\", line 104 in run_cell\n  File \"/scratch/python/mpi_grade_runtime.py\", line 90 in main\n  File \"/scratch/python/mpi_grade_runtime.py\", line 300 in <module>\n";

    #[test]
    fn the_current_threads_innermost_student_frame_is_named() {
        let frames = frames(DUMP);
        assert_eq!(frames.len(), 4);
        assert_eq!(frames[0].function, "alltoall");
        assert_eq!(
            pick(&frames, Some(Path::new("/scratch/submission"))).as_deref(),
            Some("part1.py:12 (alltoall)")
        );
        // Outside a grade: the first frame that is not a library's.
        assert_eq!(
            pick(&frames, None).as_deref(),
            Some("/scratch/submission/part1.py:12 (alltoall)")
        );
    }

    #[test]
    fn module_level_code_is_named_as_such() {
        let dump = "Current thread 0x1 (most recent call first):\n  File \"/s/submission/alltoall.py\", line 5 in <module>\n  File \"/s/python/mpi_grade_runtime.py\", line 180 in import_parts\n";
        assert_eq!(
            pick(&frames(dump), Some(Path::new("/s/submission"))).as_deref(),
            Some("alltoall.py:5 (code outside functions)")
        );
    }

    #[test]
    fn garbage_gives_no_location() {
        assert!(frames("File \"x\", line banana in f\n\0\0").is_empty());
        assert_eq!(pick(&frames(""), None), None);
        let only_runtime = "Current thread 0x1 (most recent call first):\n  File \"/s/python/mpi_grade_runtime.py\", line 9 in main\n";
        assert_eq!(
            pick(&frames(only_runtime), Some(Path::new("/s/submission"))),
            None
        );
    }

    #[test]
    fn interpreters_are_python_programs() {
        assert_eq!(program_lang(Path::new("/usr/bin/python3.11")), Lang::Python);
        assert_eq!(program_lang(Path::new("./a.out")), Lang::Rust);
    }
}
