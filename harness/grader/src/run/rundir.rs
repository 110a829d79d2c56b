//! A launch's run directory: the plan and keys the grader writes, the events and results ranks
//! append.
//!
//! Event files are read incrementally (only complete lines), so the grader can watch a launch
//! while it runs and read the rest after it ended.

use crate::error::{Error, Result};
use mpi_grade_protocol::payload::{self, Key};
use mpi_grade_protocol::run::{self, Plan, RankEvent};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The files of one launch.
#[derive(Debug)]
pub struct RunDir {
    /// The run directory.
    pub path: PathBuf,
    /// The launch's plan, as the ranks read it.
    pub plan: Plan,
    /// The ranks' payload keys (each rank reads its own from `keys/` and deletes it).
    pub keys: Vec<Key>,
}

impl RunDir {
    /// Creates the directory with its plan, a key file per rank, and an empty event file and
    /// results file per rank (created by the grader, so that what appears there later was
    /// written into files it made).
    pub fn create(path: &Path, plan: Plan, keys: Vec<Key>) -> Result<RunDir> {
        assert_eq!(keys.len(), plan.ranks as usize, "one key per rank");
        for dir in [
            run::ranks_dir(path),
            run::results_dir(path),
            run::keys_dir(path),
        ] {
            std::fs::create_dir_all(&dir)
                .map_err(Error::io(format!("cannot create {}", dir.display())))?;
        }
        let plan_path = run::plan_path(path);
        let text = serde_json::to_string_pretty(&plan).expect("plans serialise");
        std::fs::write(&plan_path, text)
            .map_err(Error::io(format!("cannot write {}", plan_path.display())))?;
        for rank in 0..plan.ranks {
            for file in [
                run::rank_events_path(path, rank),
                run::rank_results_path(path, rank),
            ] {
                std::fs::write(&file, b"")
                    .map_err(Error::io(format!("cannot create {}", file.display())))?;
            }
            let key_path = run::rank_key_path(path, rank);
            write_private(
                &key_path,
                &format!("{}\n", payload::key_hex(&keys[rank as usize])),
            )?;
        }
        Ok(RunDir {
            path: path.to_path_buf(),
            plan,
            keys,
        })
    }

    /// Keys no rank took (a rank that never started): deleted, so that nothing reads them
    /// after the launch.
    pub fn remove_keys(&self) {
        let _ = std::fs::remove_dir_all(run::keys_dir(&self.path));
    }

    /// The results files, once they are checked (they can be large: a cell at 8 ranks and
    /// 100 000 elements is 51 MB).
    pub fn remove_results(&self) {
        let _ = std::fs::remove_dir_all(run::results_dir(&self.path));
    }

    /// A reader of the ranks' event files.
    pub fn events(&self) -> Events {
        Events {
            ranks: (0..self.plan.ranks)
                .map(|rank| {
                    let expect = Expected {
                        rank,
                        ranks: self.plan.ranks,
                        run_id: self.plan.run_id,
                        cells: self.plan.cells.len() as u32,
                    };
                    RankLog::new(run::rank_events_path(&self.path, rank), expect)
                })
                .collect(),
        }
    }
}

/// Events of every rank of a launch, as read so far.
#[derive(Debug)]
pub struct Events {
    /// Each rank's log, by rank.
    pub ranks: Vec<RankLog>,
}

impl Events {
    /// Reads what was appended since the last call.
    pub fn refresh(&mut self) {
        for log in &mut self.ranks {
            log.refresh();
        }
    }

    /// Whether every rank reported `done` for `cell`.
    pub fn all_done(&self, cell: u32) -> bool {
        self.ranks.iter().all(|r| r.done(cell).is_some())
    }

    /// Whether some rank reported `start` for `cell`.
    pub fn any_started(&self, cell: u32) -> bool {
        self.ranks.iter().any(|r| r.started(cell))
    }

    /// The first `panic` event, by rank, with the rank.
    pub fn first_panic(&self) -> Option<(u32, &RankEvent)> {
        self.ranks.iter().enumerate().find_map(|(rank, log)| {
            log.events
                .iter()
                .find(|e| matches!(e, RankEvent::Panic { .. }))
                .map(|e| (rank as u32, e))
        })
    }

    /// The process id each rank reported when it became ready.
    pub fn pids(&self) -> Vec<(u32, u32)> {
        self.ranks
            .iter()
            .filter_map(|log| {
                log.events.iter().find_map(|e| match e {
                    RankEvent::Ready { rank, pid, .. } => Some((*rank, *pid)),
                    _ => None,
                })
            })
            .collect()
    }

    /// The MPI library version a rank reported.
    pub fn library(&self) -> Option<&str> {
        self.ranks.iter().find_map(|log| {
            log.events.iter().find_map(|e| match e {
                RankEvent::Ready { library, .. } => Some(library.as_str()),
                _ => None,
            })
        })
    }
}

/// What the runtime of one rank of this launch writes, and so what its event file must hold.
#[derive(Debug, Clone, Copy)]
struct Expected {
    rank: u32,
    ranks: u32,
    run_id: u64,
    cells: u32,
}

/// The events of one rank.
///
/// The runtime writes, in this order: `ready` (with this rank, the launch's size and the plan's
/// run id), then `start` and `done` for each planned cell in plan order, then `finished`; `panic`
/// may come at any point. Anything else in the file was not written by the runtime as it should
/// be (the submission runs in the same process and may write there): it is never taken for an
/// event, and the first such line marks the rank's log as tampered with from the cell it
/// concerns, so that no later result of that rank is trusted.
#[derive(Debug)]
pub struct RankLog {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    expect: Expected,
    /// The next cell the runtime may start, and whether it is started.
    next_cell: u32,
    in_cell: bool,
    finished: bool,
    /// The events read so far, in order.
    pub events: Vec<RankEvent>,
    /// Lines that were not events (reported, never trusted).
    pub malformed: Vec<String>,
    /// The first line that broke the runtime's order: (the cell it concerns, why).
    pub tampered: Option<(u32, String)>,
}

impl RankLog {
    fn new(path: PathBuf, expect: Expected) -> RankLog {
        RankLog {
            path,
            offset: 0,
            partial: Vec::new(),
            expect,
            next_cell: 0,
            in_cell: false,
            finished: false,
            events: Vec::new(),
            malformed: Vec::new(),
            tampered: None,
        }
    }

    /// Checks `event` against the runtime's order; `Err` says what is wrong with it.
    fn admit(&mut self, event: &RankEvent) -> std::result::Result<(), String> {
        let e = self.expect;
        let ready = self.ready();
        match event {
            RankEvent::Ready {
                rank, size, run_id, ..
            } => {
                if ready {
                    return Err("a second `ready`".into());
                }
                if (*rank, *size, *run_id) != (e.rank, e.ranks, e.run_id) {
                    return Err(format!(
                        "`ready` of rank {rank} of {size} with run id {run_id:#x} in the file of rank {} of {} (run id {:#x})",
                        e.rank, e.ranks, e.run_id
                    ));
                }
            }
            RankEvent::Panic { .. } => {}
            _ if !ready => return Err("an event before `ready`".into()),
            _ if self.finished => return Err("an event after `finished`".into()),
            RankEvent::Start { cell } => {
                if self.in_cell || *cell != self.next_cell || *cell >= e.cells {
                    return Err(format!("`start` of cell {cell} out of order"));
                }
                self.in_cell = true;
            }
            RankEvent::Done { cell, .. } => {
                if !self.in_cell || *cell != self.next_cell {
                    return Err(format!("`done` of cell {cell} out of order"));
                }
                self.in_cell = false;
                self.next_cell += 1;
            }
            RankEvent::Finished => {
                if self.in_cell || self.next_cell != e.cells {
                    return Err("`finished` before every cell was done".into());
                }
                self.finished = true;
            }
        }
        Ok(())
    }

    fn refresh(&mut self) {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return;
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut fresh = Vec::new();
        if file.read_to_end(&mut fresh).is_err() {
            return;
        }
        self.offset += fresh.len() as u64;
        self.partial.extend_from_slice(&fresh);
        while let Some(newline) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=newline).collect();
            let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            if line.trim().is_empty() {
                continue;
            }
            let checked = serde_json::from_str::<RankEvent>(&line)
                .map_err(|e| format!("not an event ({e})"))
                .and_then(|event| self.admit(&event).map(|()| event));
            match checked {
                Ok(event) => self.events.push(event),
                Err(why) => {
                    // A `done` written twice makes the first one suspect: distrust from the
                    // earliest cell the line concerns.
                    let concerns = serde_json::from_str::<RankEvent>(&line)
                        .ok()
                        .and_then(|e| match e {
                            RankEvent::Start { cell } | RankEvent::Done { cell, .. } => Some(cell),
                            _ => None,
                        })
                        .map_or(self.next_cell, |c| c.min(self.next_cell));
                    if self.tampered.is_none() {
                        self.tampered = Some((concerns, format!("{why}: {}", truncate(&line))));
                    }
                    self.malformed.push(line);
                }
            }
        }
    }

    /// The `done` event of `cell`, if any.
    pub fn done(&self, cell: u32) -> Option<&RankEvent> {
        self.events
            .iter()
            .find(|e| matches!(e, RankEvent::Done { cell: c, .. } if *c == cell))
    }

    /// Whether the rank reported `start` for `cell`.
    pub fn started(&self, cell: u32) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, RankEvent::Start { cell: c } if *c == cell))
    }

    /// Whether the rank reported `ready`.
    pub fn ready(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, RankEvent::Ready { .. }))
    }
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(Error::io(format!("cannot write {}", path.display())))
}

/// A line as quoted in a message: at most 120 characters.
fn truncate(line: &str) -> String {
    match line.char_indices().nth(120) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpi_grade_protocol::run::{Mode, PlannedCell};
    use std::io::Write;

    fn plan() -> Plan {
        Plan {
            format_version: run::FORMAT_VERSION,
            kind: "alltoall".into(),
            ranks: 2,
            run_id: 1,
            cells: vec![PlannedCell {
                index: 0,
                function: "part1".into(),
                scaling_factor: 1,
                mode: Mode::Standard,
                repetitions: 1,
                ..PlannedCell::default()
            }],
            held: false,
        }
    }

    fn keys() -> Vec<Key> {
        vec![payload::rank_key(1, 0, 0), payload::rank_key(1, 0, 1)]
    }

    #[test]
    fn events_are_read_line_by_line_as_they_are_appended() {
        let dir = tempfile::tempdir().unwrap();
        let run_dir = RunDir::create(dir.path(), plan(), keys()).unwrap();
        let mut events = run_dir.events();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(run::rank_events_path(dir.path(), 1))
            .unwrap();
        writeln!(f, "{}", ready(1, 1).to_line()).unwrap();
        write!(
            f,
            "{}\n{{\"event\":\"start\",\"ce",
            RankEvent::Start { cell: 0 }
                .to_line()
                .replace("start", "ready_not")
        )
        .unwrap();
        events.refresh();
        assert_eq!(events.ranks[1].malformed.len(), 1);
        assert!(!events.any_started(0));
        writeln!(f, "ll\":0}}").unwrap();
        events.refresh();
        assert!(events.any_started(0));
        assert!(!events.all_done(0));
    }

    fn ready(rank: u32, run_id: u64) -> RankEvent {
        RankEvent::Ready {
            rank,
            size: 2,
            pid: 1,
            library: String::new(),
            run_id,
        }
    }

    fn done(cell: u32) -> RankEvent {
        RankEvent::Done {
            cell,
            seconds: 0.0,
            times: vec![],
            results: vec![],
        }
    }

    /// The events of rank 0 after `lines` were written to its file.
    fn log_of(lines: &[String]) -> RankLog {
        let dir = tempfile::tempdir().unwrap();
        let run_dir = RunDir::create(dir.path(), plan(), keys()).unwrap();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(run::rank_events_path(dir.path(), 0), text).unwrap();
        let mut events = run_dir.events();
        events.refresh();
        events.ranks.remove(0)
    }

    #[test]
    fn the_runtimes_order_is_trusted() {
        let log = log_of(&[
            ready(0, 1).to_line(),
            RankEvent::Start { cell: 0 }.to_line(),
            done(0).to_line(),
            RankEvent::Finished.to_line(),
        ]);
        assert_eq!(log.tampered, None);
        assert!(log.done(0).is_some());
    }

    #[test]
    fn lines_the_runtime_would_not_write_mark_the_log_as_tampered() {
        // A `done` written by the submission before the runtime's own.
        let log = log_of(&[
            ready(0, 1).to_line(),
            RankEvent::Start { cell: 0 }.to_line(),
            done(0).to_line(),
            done(0).to_line(),
        ]);
        let (cell, why) = log.tampered.clone().unwrap();
        assert_eq!(cell, 0);
        assert!(why.contains("`done` of cell 0 out of order"), "{why}");
        // Another rank's events, another run's id, a cell before it started.
        for lines in [
            vec![ready(1, 1).to_line()],
            vec![ready(0, 99).to_line()],
            vec![ready(0, 1).to_line(), done(0).to_line()],
            vec![RankEvent::Start { cell: 0 }.to_line()],
            vec![ready(0, 1).to_line(), "PASS".to_string()],
        ] {
            let log = log_of(&lines);
            assert!(log.tampered.is_some(), "{lines:?}");
            assert!(log.done(0).is_none(), "{lines:?}");
        }
    }

    #[test]
    fn the_plan_is_written_for_the_ranks() {
        let dir = tempfile::tempdir().unwrap();
        RunDir::create(dir.path(), plan(), keys()).unwrap();
        let text = std::fs::read_to_string(run::plan_path(dir.path())).unwrap();
        let back: Plan = serde_json::from_str(&text).unwrap();
        assert_eq!(back, plan());
        assert!(run::rank_events_path(dir.path(), 1).exists());
        assert!(run::rank_results_path(dir.path(), 1).exists());
        let key = std::fs::read_to_string(run::rank_key_path(dir.path(), 1)).unwrap();
        assert_eq!(payload::parse_key_hex(&key), Some(keys()[1]));
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(run::rank_key_path(dir.path(), 1))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
    }
}
