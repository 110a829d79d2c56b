//! From instruction pointers to source lines: stacks the tracer captured (a blocked rank's
//! stack on request, the first call site of a function) are symbolised with the line tables the
//! driver is built with.

use super::records::{captured_stack, request_stack, TraceDir};
use crate::run::procs::LaunchProcs;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One source frame (inlined functions are frames of their own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFrame {
    /// Source file, as the debug information names it.
    pub file: String,
    /// Line in `file`, 1-based.
    pub line: u32,
    /// The (demangled) function, when known.
    pub function: Option<String>,
}

impl SourceFrame {
    /// `src/lib.rs:12 (part1)`, with `root/` removed from the file when it is below `root`.
    pub fn display(&self, root: Option<&Path>) -> String {
        let file = match root.and_then(|r| Path::new(&self.file).strip_prefix(r).ok()) {
            Some(rel) => rel.display().to_string(),
            None => self.file.clone(),
        };
        let function = self
            .function
            .as_deref()
            .map(|f| format!(" ({})", f.rsplit("::").next().unwrap_or(f)))
            .unwrap_or_default();
        format!("{file}:{}{function}", self.line)
    }
}

/// Symbolises addresses of one executable, loaded at `bias`.
pub struct Symbolizer {
    loader: Arc<Mutex<addr2line::Loader>>,
    bias: u64,
}

/// The debug information of an executable, read once (see [`Symbolizer::open`]).
type Loaded = Option<Arc<Mutex<addr2line::Loader>>>;

/// Device, inode, length, and mtime in seconds and nanoseconds.
type FileIdentity = (u64, u64, u64, i64, i64);

/// The executables opened last, by path and identity: a grade asks for the same driver's lines
/// in every cell of every launch, from whichever thread runs the launch, and reading its debug
/// information is the slow part (0.1 to 0.5 s at the first lookups). Every rank loads the
/// driver at its own address (`bias`), which is applied per lookup, not part of the key.
static OPENED: Mutex<Vec<((PathBuf, FileIdentity), Loaded)>> = Mutex::new(Vec::new());

/// How many executables [`OPENED`] keeps (a batch grades one driver after another).
const KEEP_OPENED: usize = 4;

impl Symbolizer {
    /// The debug information of `exe` loaded at `bias`; `None` when it cannot be read. Kept
    /// for the next call while the file is the same one (device, inode, length, mtime): a
    /// rebuilt driver at the same path is read again.
    pub fn open(exe: &Path, bias: u64) -> Option<Symbolizer> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(exe).ok()?;
        let key = (
            exe.to_path_buf(),
            (
                meta.dev(),
                meta.ino(),
                meta.len(),
                meta.mtime(),
                meta.mtime_nsec(),
            ),
        );
        let mut opened = OPENED.lock().unwrap_or_else(|e| e.into_inner());
        let loader = match opened.iter().find(|(k, _)| *k == key) {
            Some((_, found)) => found.clone(),
            None => {
                let loaded = addr2line::Loader::new(exe)
                    .ok()
                    .map(|loader| Arc::new(Mutex::new(loader)));
                if opened.len() == KEEP_OPENED {
                    opened.remove(0);
                }
                opened.push((key, loaded.clone()));
                loaded
            }
        }?;
        Some(Symbolizer { loader, bias })
    }

    /// The source frames of a stack (innermost first), for addresses inside the executable.
    pub fn frames(&self, ips: &[u64]) -> Vec<SourceFrame> {
        let loader = self.loader.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for (i, &ip) in ips.iter().enumerate() {
            // Return addresses point after the call: step back into it (not for the frame that
            // was interrupted, whose address is the instruction itself).
            let probe = ip.wrapping_sub(self.bias).wrapping_sub(u64::from(i > 0));
            if loader.find_symbol(probe).is_none() {
                continue; // not in the executable (a shared library, the signal trampoline)
            }
            let Ok(mut frames) = loader.find_frames(probe) else {
                continue;
            };
            while let Ok(Some(frame)) = frames.next() {
                let Some(location) = frame.location.as_ref() else {
                    continue;
                };
                let (Some(file), Some(line)) = (location.file, location.line) else {
                    continue;
                };
                out.push(SourceFrame {
                    file: file.to_string(),
                    line,
                    function: frame
                        .function
                        .as_ref()
                        .and_then(|f| f.demangle().ok())
                        .map(|f| f.into_owned()),
                });
            }
        }
        out
    }
}

/// Which frame of a stack is "where the program is": the innermost one in the student's
/// crate when grading (`submission`), else the innermost one outside libraries and toolchains.
pub fn pick<'a>(frames: &'a [SourceFrame], submission: Option<&Path>) -> Option<&'a SourceFrame> {
    match submission {
        Some(dir) => frames.iter().find(|f| Path::new(&f.file).starts_with(dir)),
        None => frames.iter().find(|f| {
            let file = &f.file;
            !(file.contains("/.cargo/registry/")
                || file.starts_with("/rustc/")
                || file.starts_with("/usr/")
                || file.contains("/support/runtime/")
                || file.contains("/library/std/")
                || file.contains("/library/core/"))
        }),
    }
}

/// Asks the given ranks for their stacks and waits up to `timeout` for them.
pub fn capture(
    traces: &TraceDir,
    procs: &LaunchProcs,
    ranks: &[u32],
    timeout: Duration,
) -> BTreeMap<u32, Vec<u64>> {
    let requested: Vec<(u32, u64)> = ranks
        .iter()
        .filter_map(|&r| request_stack(traces.record(r), procs).map(|g| (r, g)))
        .collect();
    let deadline = Instant::now() + timeout;
    let mut stacks = BTreeMap::new();
    while stacks.len() < requested.len() && Instant::now() < deadline {
        for &(rank, generation) in &requested {
            if let std::collections::btree_map::Entry::Vacant(slot) = stacks.entry(rank) {
                if let Some(ips) = captured_stack(traces.record(rank), generation) {
                    slot.insert(ips);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    stacks
}

/// The executable a rank runs and its load bias, from its record.
pub fn executable(traces: &TraceDir, rank: u32) -> Option<(PathBuf, u64)> {
    let h = &traces.record(rank).header;
    let bytes: Vec<u8> = h
        .exe_path
        .iter()
        .map(|b| b.load(Relaxed))
        .take_while(|&b| b != 0)
        .collect();
    if bytes.is_empty() {
        return None;
    }
    let path = PathBuf::from(String::from_utf8_lossy(&bytes).into_owned());
    Some((path, h.exe_bias.load(Relaxed)))
}

/// The symbolizer of the executable `rank` runs. Given `program` (the driver a grade launched),
/// only a rank whose record names it gets one, opened by the grader's own path: the rank writes
/// its record, and a forged path must not make the grader read another file.
pub fn symbolizer_of(traces: &TraceDir, rank: u32, program: Option<&Path>) -> Option<Symbolizer> {
    let (exe, bias) = executable(traces, rank)?;
    match program {
        Some(program) if exe == program => Symbolizer::open(program, bias),
        Some(_) => None,
        None => Symbolizer::open(&exe, bias),
    }
}

/// Source locations of the given stacks, one per rank when one could be found. A rank's
/// record names its executable, and the rank writes its record: given `program` (the driver a
/// grade launched), only a rank whose record names it is symbolised, from the grader's own
/// path, so a forged path cannot make the grader read the debug information of another file.
pub fn locate(
    traces: &TraceDir,
    stacks: &BTreeMap<u32, Vec<u64>>,
    submission: Option<&Path>,
    program: Option<&Path>,
) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for (&rank, ips) in stacks {
        let Some(symbolizer) = symbolizer_of(traces, rank, program) else {
            continue;
        };
        let frames = symbolizer.frames(ips);
        if let Some(frame) = pick(&frames, submission) {
            out.push((rank, frame.display(submission)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(file: &str, line: u32, function: &str) -> SourceFrame {
        SourceFrame {
            file: file.into(),
            line,
            function: Some(function.into()),
        }
    }

    #[test]
    fn the_students_innermost_frame_is_picked() {
        let frames = vec![
            frame(
                "/root/.cargo/registry/src/x/mpi-0.8.2/src/point_to_point.rs",
                540,
                "mpi::point_to_point::Destination::send",
            ),
            frame("/home/s/alltoall/src/lib.rs", 12, "alltoall::part1"),
            frame(
                "/cache/support/runtime/src/lib.rs",
                100,
                "mpi_grade_runtime::main",
            ),
        ];
        let picked = pick(&frames, Some(Path::new("/home/s/alltoall"))).unwrap();
        assert_eq!(
            picked.display(Some(Path::new("/home/s/alltoall"))),
            "src/lib.rs:12 (part1)"
        );
        assert_eq!(pick(&frames, None).unwrap().line, 12);
        assert_eq!(pick(&frames[..1], Some(Path::new("/elsewhere"))), None);
    }

    #[test]
    fn this_test_binary_can_be_symbolised() {
        // The test binary itself, loaded at its real bias: find a frame for this function.
        let exe = std::env::current_exe().unwrap();
        let here = the_students_innermost_frame_is_picked as fn() as usize as u64;
        let bias = {
            let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
            let exe_name = exe.to_string_lossy().into_owned();
            let first = maps.lines().find(|l| l.ends_with(&exe_name)).unwrap();
            let start = u64::from_str_radix(first.split('-').next().unwrap(), 16).unwrap();
            let offset = u64::from_str_radix(first.split_whitespace().nth(2).unwrap(), 16).unwrap();
            start - offset
        };
        let symbolizer = Symbolizer::open(&exe, bias).unwrap();
        let frames = symbolizer.frames(&[here]);
        assert!(
            frames.iter().any(|f| f.file.ends_with("stacks.rs")),
            "{frames:?}"
        );

        // A rank's record naming this binary: located when the grade launched it, not when
        // the grade launched another program (the record may be forged).
        let dir = tempfile::tempdir().unwrap();
        let traces = TraceDir::create(dir.path(), 1).unwrap();
        let header = &traces.record(0).header;
        let path = exe.to_string_lossy().into_owned();
        for (slot, byte) in header.exe_path.iter().zip(path.bytes()) {
            slot.store(byte, Relaxed);
        }
        header.exe_bias.store(bias, Relaxed);
        let stacks = BTreeMap::from([(0, vec![here])]);
        assert_eq!(locate(&traces, &stacks, None, Some(&exe)).len(), 1);
        assert_eq!(locate(&traces, &stacks, None, None).len(), 1);
        let driver = Path::new("/nonexistent/driver");
        assert!(locate(&traces, &stacks, None, Some(driver)).is_empty());
    }
}
