//! A launch's run directory: the plan the grader writes and the events ranks append.
//!
//! Event files are read incrementally (only complete lines), so the grader can watch a launch
//! while it runs and read the rest after it ended.

use crate::error::{Error, Result};
use mpi_grade_protocol::run::{self, Plan, RankEvent};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The files of one launch.
#[derive(Debug)]
pub struct RunDir {
    pub path: PathBuf,
    pub plan: Plan,
}

impl RunDir {
    /// Creates the directory with its plan and an empty event file per rank (created by the
    /// grader, so that what appears there later was written into files it made).
    pub fn create(path: &Path, plan: Plan) -> Result<RunDir> {
        let ranks_dir = run::ranks_dir(path);
        std::fs::create_dir_all(&ranks_dir)
            .map_err(Error::io(format!("cannot create {}", ranks_dir.display())))?;
        let plan_path = run::plan_path(path);
        let text = serde_json::to_string_pretty(&plan).expect("plans serialise");
        std::fs::write(&plan_path, text)
            .map_err(Error::io(format!("cannot write {}", plan_path.display())))?;
        for rank in 0..plan.ranks {
            let events = run::rank_events_path(path, rank);
            std::fs::write(&events, b"")
                .map_err(Error::io(format!("cannot create {}", events.display())))?;
        }
        Ok(RunDir {
            path: path.to_path_buf(),
            plan,
        })
    }

    /// A reader of the ranks' event files.
    pub fn events(&self) -> Events {
        Events {
            ranks: (0..self.plan.ranks)
                .map(|rank| RankLog::new(run::rank_events_path(&self.path, rank)))
                .collect(),
        }
    }
}

/// Events of every rank of a launch, as read so far.
#[derive(Debug)]
pub struct Events {
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

/// The events of one rank.
#[derive(Debug)]
pub struct RankLog {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    pub events: Vec<RankEvent>,
    /// Lines that were not events (reported, never trusted).
    pub malformed: Vec<String>,
}

impl RankLog {
    fn new(path: PathBuf) -> RankLog {
        RankLog {
            path,
            offset: 0,
            partial: Vec::new(),
            events: Vec::new(),
            malformed: Vec::new(),
        }
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
            match serde_json::from_str::<RankEvent>(&line) {
                Ok(event) => self.events.push(event),
                Err(_) => self.malformed.push(line),
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
            seed: 1,
            cells: vec![PlannedCell {
                index: 0,
                function: "part1".into(),
                scaling_factor: 1,
                mode: Mode::Standard,
                seed: 2,
                repetitions: 1,
            }],
        }
    }

    #[test]
    fn events_are_read_line_by_line_as_they_are_appended() {
        let dir = tempfile::tempdir().unwrap();
        let run_dir = RunDir::create(dir.path(), plan()).unwrap();
        let mut events = run_dir.events();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(run::rank_events_path(dir.path(), 1))
            .unwrap();
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

    #[test]
    fn the_plan_is_written_for_the_ranks() {
        let dir = tempfile::tempdir().unwrap();
        RunDir::create(dir.path(), plan()).unwrap();
        let text = std::fs::read_to_string(run::plan_path(dir.path())).unwrap();
        let back: Plan = serde_json::from_str(&text).unwrap();
        assert_eq!(back, plan());
        assert!(run::rank_events_path(dir.path(), 1).exists());
    }
}
