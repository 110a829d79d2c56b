//! Watching a running launch through the tracer's records: a deadlock is a set of blocked ranks
//! that the wait-for graph says can never be released, unchanged and without progress for a
//! quiet window, checked twice; a hang is ranks that others wait on and that stay outside MPI
//! for `hang_after`; a gone rank is one whose process vanished while others wait on it. A
//! collective mismatch (`matching`) is certain at once.

use super::diagnosis::{Diagnosis, StallKind};
use super::graph::{analyze, Analysis, Presence};
use super::records::{monotonic_ns, RankSnapshot, TraceDir};
use crate::run::procs::LaunchProcs;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long a candidate deadlock must stay unchanged before it is one. Calls that can still
/// complete (a buffered send, a transfer in progress) return well within this even with eight
/// ranks sharing two cores; a real deadlock stays forever.
pub const QUIET: Duration = Duration::from_millis(150);
/// The quiet window of a set whose every rank is blocked in a synchronous send (`MPI_Ssend`,
/// or `MPI_Send` in zero-buffer mode) that no posted receive matches: such a send cannot
/// complete before a receive is posted, and no rank of the set can post one while it stays
/// in its send, so two identical snapshots already say that it is forever; load cannot make
/// one look blocked that is completing. The window only spaces the two snapshots.
pub const QUIET_SYNCHRONOUS: Duration = Duration::from_millis(40);
/// Failed tests every rank of a set of polite standard sends must make, twice over, before the
/// set is as certain as one of synchronous sends (see [`Candidate::rounds`]).
pub const POLLS_PER_ROUND: u64 = 16;
/// How long the launcher gets to end the job by itself after a rank vanished (it reports why).
const GONE_GRACE: Duration = Duration::from_millis(1500);
/// The longest every rank may stay blocked in MPI with nothing completing before that is a
/// stall, whatever the hang limit: a rank in a call is not computing, so a long limit meant for
/// compute phases (`mpi-grade run`'s) does not apply.
pub const STALL_AFTER: Duration = Duration::from_secs(5);

/// What a poll of a launch's records calls for.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// A stall the detector is sure of: the launch ends in it.
    Stall(Box<Finding>),
    /// Ranks that others wait on have stayed outside MPI for the release time, not yet for the
    /// hang limit (see [`Detector::release_after`]): the launch is a wait, not a time.
    Idle,
}

/// A stall the detector is sure of.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The explanation of the stall.
    pub diagnosis: Diagnosis,
}

/// The state of one deadlock candidate across polls.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    /// (rank, progress, call start) of every rank in the set.
    key: Vec<(u32, u64, u64)>,
    first_seen: Instant,
    checks: u32,
    /// Each rank's failed polite tests (`RankSnapshot::polls`) when the current round began.
    polls: Vec<u64>,
    /// Rounds in which every rank of the set failed [`POLLS_PER_ROUND`] more tests of its send,
    /// its call unchanged. A standard send the library may still buffer completes within a few
    /// such tests on both sides: its own test pushes the message, the receiver's drains it. In
    /// two rounds every rank's draining in the first is followed by every sender's tests in the
    /// second, so a set still blocked after them is one that load cannot explain: the count
    /// follows the ranks' own progress attempts, not wall time.
    rounds: u32,
}

impl Candidate {
    fn new(key: Vec<(u32, u64, u64)>, polls: Vec<u64>, now: Instant) -> Candidate {
        Candidate {
            key,
            first_seen: now,
            checks: 1,
            polls,
            rounds: 0,
        }
    }

    /// Another snapshot with the same key: a check, and a round once every rank has failed
    /// [`POLLS_PER_ROUND`] more tests since the last.
    fn again(&mut self, polls: Vec<u64>) {
        self.checks += 1;
        let round = polls
            .iter()
            .zip(&self.polls)
            .all(|(now, then)| now.saturating_sub(*then) >= POLLS_PER_ROUND);
        if round {
            self.rounds += 1;
            self.polls = polls;
        }
    }
}

/// How long a deadlock candidate must stay unchanged: [`QUIET_SYNCHRONOUS`] when its sends
/// cannot complete (synchronous ones, or polite ones that failed two rounds of tests), else
/// [`QUIET`].
fn quiet(snapshot: &[RankSnapshot], set: &BTreeSet<u32>, rounds: u32) -> Duration {
    let certain = blocked_in_sends(snapshot, set, Sends::Synchronous)
        || (rounds >= 2 && blocked_in_sends(snapshot, set, Sends::Any));
    if certain {
        QUIET_SYNCHRONOUS
    } else {
        QUIET
    }
}

/// Watches the records of one launch.
pub struct Detector<'a> {
    traces: &'a TraceDir,
    hang_after: Duration,
    release_after: Option<Duration>,
    stall_after: Duration,
    candidate: Option<Candidate>,
    gone_since: Option<(BTreeSet<u32>, Instant)>,
    /// Time outside MPI counts from here on (the monotonic clock): the start of the launch, or
    /// the go of a launch started ahead, whose ranks waited outside MPI until then.
    from_ns: u64,
    /// The ranks are not the grader's processes (started by Slurm's `slurmstepd`, perhaps on
    /// another node): none is taken for gone from what this machine's `/proc` shows.
    out_of_sight: bool,
}

impl<'a> Detector<'a> {
    /// A detector over `traces`. `hang_after` is how long ranks others wait on may stay outside
    /// MPI before that is a hang; every rank blocked without progress is a stall after that
    /// long or [`STALL_AFTER`], whichever is shorter.
    pub fn new(traces: &'a TraceDir, hang_after: Duration) -> Detector<'a> {
        Detector {
            traces,
            hang_after,
            release_after: None,
            stall_after: hang_after.min(STALL_AFTER),
            candidate: None,
            gone_since: None,
            from_ns: 0,
            out_of_sight: false,
        }
    }

    /// This detector for ranks the grader did not start (`srun`): their processes are not
    /// looked for, so none is ever found gone here; a rank that dies ends the job step, which
    /// the launcher reports.
    pub fn out_of_sight(mut self, out_of_sight: bool) -> Detector<'a> {
        self.out_of_sight = out_of_sight;
        self
    }

    /// This detector also saying [`Seen::Idle`] once ranks that others wait on (or every rank)
    /// have stayed outside MPI, in the student's code, for `after`, shorter than the hang
    /// limit: a launch that has the machine alone to time cells then hands it back rather
    /// than wait out a hang there. (A release time no shorter than the hang limit never
    /// fires: the hang is looked for first, among the same ranks.)
    pub fn release_after(mut self, after: Option<Duration>) -> Detector<'a> {
        self.release_after = after;
        self
    }

    /// Looks at the ranks once; returns what they call for, if anything.
    pub fn poll(&mut self, now: Instant, procs: &LaunchProcs, from: Instant) -> Option<Seen> {
        let snapshot = self.traces.snapshot();
        // Ranks record the pid they have in their own PID namespace: theirs here, from the
        // processes of this launch.
        let presence: Vec<Presence> = if self.out_of_sight {
            vec![Presence::Alive; snapshot.len()]
        } else {
            let hosts = procs.pids();
            snapshot.iter().map(|s| presence(s, &hosts)).collect()
        };
        let now_ns = monotonic_ns();
        self.from_ns = now_ns.saturating_sub(now.saturating_duration_since(from).as_nanos() as u64);
        // Found from the calls, the moment both are made: the library may pair them anyway.
        if let Some(m) = super::matching::find(&snapshot) {
            let diagnosis = Diagnosis::mismatch(&snapshot, m, now_ns);
            return Some(Seen::Stall(Box::new(Finding { diagnosis })));
        }
        let analysis = analyze(&snapshot, &presence);

        if !analysis.waits_on_gone.is_empty() {
            let gone: BTreeSet<u32> = analysis.waits_on_gone.iter().map(|&(_, g)| g).collect();
            let since = match &self.gone_since {
                Some((set, since)) if *set == gone => *since,
                _ => {
                    self.gone_since = Some((gone.clone(), now));
                    now
                }
            };
            if now - since >= GONE_GRACE {
                let culprits: Vec<u32> = gone.into_iter().collect();
                let diagnosis =
                    Diagnosis::new(StallKind::Gone, &snapshot, &analysis, culprits, now_ns);
                return Some(Seen::Stall(Box::new(Finding { diagnosis })));
            }
            return None;
        }
        self.gone_since = None;

        let stall = (self.deadlock(&snapshot, &analysis, now, now_ns))
            .or_else(|| self.hang(&snapshot, &analysis, now_ns))
            .or_else(|| self.stall(&snapshot, &analysis, now_ns));
        if let Some(finding) = stall {
            return Some(Seen::Stall(Box::new(finding)));
        }
        // Idle in the student's code only: start-up and the runtime's work between cells
        // (payloads, results) are the grader's, whatever the load makes of them.
        let idle = self.idle(&snapshot, &analysis, now_ns, self.release_after?);
        (idle.iter().any(|&r| snapshot[r as usize].cell.is_some())).then_some(Seen::Idle)
    }

    /// Every rank blocked in MPI and none completing anything for `stall_after`: nobody can act
    /// any more, whatever the graph says (a message of one collective taken by another, after
    /// collectives were called in a different order, leaves calls that look matched but never
    /// complete).
    fn stall(
        &self,
        snapshot: &[RankSnapshot],
        analysis: &Analysis,
        now_ns: u64,
    ) -> Option<Finding> {
        let quiet = self.stall_after.as_nanos() as u64;
        let blocked: Vec<u32> = analysis
            .status
            .iter()
            .enumerate()
            .filter(|(_, s)| **s == super::graph::Status::Blocked)
            .map(|(r, _)| r as u32)
            .collect();
        let nobody_free = analysis
            .status
            .iter()
            .all(|s| *s != super::graph::Status::Free);
        let all_quiet = snapshot
            .iter()
            .all(|s| s.initialised && now_ns.saturating_sub(s.progress_ns) >= quiet);
        (!blocked.is_empty() && nobody_free && all_quiet).then(|| Finding {
            diagnosis: Diagnosis::stalled(snapshot, analysis, blocked, now_ns),
        })
    }

    fn deadlock(
        &mut self,
        snapshot: &[RankSnapshot],
        analysis: &Analysis,
        now: Instant,
        now_ns: u64,
    ) -> Option<Finding> {
        if analysis.deadlocked.is_empty() {
            self.candidate = None;
            return None;
        }
        let key: Vec<(u32, u64, u64)> = analysis
            .deadlocked
            .iter()
            .map(|&r| {
                let s = &snapshot[r as usize];
                (r, s.progress, s.call.as_ref().map_or(0, |c| c.since_ns))
            })
            .collect();
        let polls: Vec<u64> = analysis
            .deadlocked
            .iter()
            .map(|&r| snapshot[r as usize].polls)
            .collect();
        match &mut self.candidate {
            Some(c) if c.key == key => c.again(polls),
            _ => {
                self.candidate = Some(Candidate::new(key, polls, now));
                return None;
            }
        }
        let c = self.candidate.as_ref().expect("just set");
        let quiet = quiet(snapshot, &analysis.deadlocked, c.rounds);
        if c.checks < 2 || now - c.first_seen < quiet {
            return None;
        }
        let diagnosis = Diagnosis::new(StallKind::Deadlock, snapshot, analysis, Vec::new(), now_ns);
        Some(Finding { diagnosis })
    }

    fn hang(
        &mut self,
        snapshot: &[RankSnapshot],
        analysis: &Analysis,
        now_ns: u64,
    ) -> Option<Finding> {
        let culprits = self.idle(snapshot, analysis, now_ns, self.hang_after);
        if culprits.is_empty() {
            return None;
        }
        let diagnosis = Diagnosis::new(StallKind::Hang, snapshot, analysis, culprits, now_ns);
        Some(Finding { diagnosis })
    }

    /// The ranks that others wait on and that have stayed outside MPI for `after`; else every
    /// rank, when none is in a call and all have stayed in their own code that long.
    fn idle(
        &self,
        snapshot: &[RankSnapshot],
        analysis: &Analysis,
        now_ns: u64,
        after: Duration,
    ) -> Vec<u32> {
        let idle = |s: &RankSnapshot| {
            let since = s.progress_ns.max(self.from_ns);
            s.initialised && now_ns.saturating_sub(since) >= after.as_nanos() as u64
        };
        let culprits: Vec<u32> = analysis
            .waiting_on_free
            .keys()
            .copied()
            .filter(|&r| idle(&snapshot[r as usize]))
            .collect();
        if !culprits.is_empty() {
            return culprits;
        }
        // Nobody blocked, nobody calling MPI: every rank is stuck in its own code.
        let everyone_idle = snapshot.iter().all(|s| {
            idle(s) && s.call.is_none() && s.state == mpi_grade_protocol::trace::RankState::Running
        });
        if !everyone_idle {
            return Vec::new();
        }
        snapshot.iter().map(|s| s.rank).collect()
    }
}

/// Which sends [`blocked_in_sends`] accepts.
#[derive(Clone, Copy, PartialEq)]
enum Sends {
    /// `MPI_Ssend`, or `MPI_Send` in zero-buffer mode: no receive posted, no completion.
    Synchronous,
    /// Any send (a standard one may still be buffered: the caller must know it was not).
    Any,
}

/// Whether every rank of `set` is blocked in a send of the kind `sends` names, and nothing the
/// graph relied on is missing from the records: a receive may be matched by a message already
/// on its way, and a rank whose pending requests overflowed its record may have posted the
/// receive a send waits for.
fn blocked_in_sends(snapshot: &[RankSnapshot], set: &BTreeSet<u32>, sends: Sends) -> bool {
    use mpi_grade_protocol::trace::{Func, WaitKind, WaitMode};
    if snapshot.iter().any(|s| s.pending_overflowed) {
        return false;
    }
    set.iter().all(|&r| {
        let s = &snapshot[r as usize];
        s.call.as_ref().is_some_and(|c| {
            let sends_only =
                !c.waits.is_empty() && c.waits.iter().all(|w| w.kind == WaitKind::Send);
            let kind = match sends {
                Sends::Synchronous => {
                    c.func == Func::Ssend || (c.func == Func::Send && s.zero_buffer)
                }
                Sends::Any => true,
            };
            c.mode == WaitMode::All && !c.truncated && sends_only && kind
        })
    })
}

/// Whether a rank's process still exists (a zombie has exited).
fn presence(s: &RankSnapshot, hosts: &std::collections::HashMap<i32, i32>) -> Presence {
    if !s.initialised || s.pid <= 0 {
        return Presence::Alive;
    }
    match hosts.get(&s.pid) {
        Some(&host) if crate::run::procs::is_alive(host) => Presence::Alive,
        _ => Presence::Gone,
    }
}

#[cfg(test)]
mod tests {
    use super::{
        blocked_in_sends, quiet, Candidate, Sends, POLLS_PER_ROUND, QUIET, QUIET_SYNCHRONOUS,
    };
    use crate::trace::graph::tests::{in_call, rank, recv, send};
    use crate::trace::records::Peer;
    use mpi_grade_protocol::trace::{Func, WaitMode};
    use std::collections::BTreeSet;
    use std::time::Instant;

    fn synchronous(snapshot: &[crate::trace::records::RankSnapshot], set: &BTreeSet<u32>) -> bool {
        blocked_in_sends(snapshot, set, Sends::Synchronous)
    }

    fn both() -> BTreeSet<u32> {
        [0, 1].into()
    }

    /// Two ranks sending to each other with `func`, in zero-buffer mode or not.
    fn exchange(func: Func, zero_buffer: bool) -> Vec<crate::trace::records::RankSnapshot> {
        (0..2)
            .map(|r| {
                let mut s = in_call(rank(r), func, WaitMode::All, vec![send(1 - r)]);
                s.zero_buffer = zero_buffer;
                s
            })
            .collect()
    }

    #[test]
    fn only_sends_that_cannot_be_buffered_are_certain_at_once() {
        assert!(synchronous(&exchange(Func::Ssend, false), &both()));
        assert!(synchronous(&exchange(Func::Send, true), &both()));
        // A standard send may still be buffered by the library.
        assert!(!synchronous(&exchange(Func::Send, false), &both()));
    }

    #[test]
    fn a_receive_or_a_record_that_lost_requests_is_not_certain_at_once() {
        let mut snapshot = exchange(Func::Ssend, false);
        snapshot[1] = in_call(
            rank(1),
            Func::Recv,
            WaitMode::All,
            vec![recv(Peer::Rank(0))],
        );
        assert!(!synchronous(&snapshot, &both()));

        let mut snapshot = exchange(Func::Ssend, false);
        snapshot[1].pending_overflowed = true;
        assert!(!synchronous(&snapshot, &both()));

        let mut snapshot = exchange(Func::Ssend, false);
        snapshot[0].call.as_mut().unwrap().truncated = true;
        assert!(!synchronous(&snapshot, &both()));
    }

    #[test]
    fn polite_standard_sends_are_certain_after_two_rounds_of_failed_tests_on_every_rank() {
        let snapshot = exchange(Func::Send, false);
        let mut c = Candidate::new(Vec::new(), vec![100, 7], Instant::now());
        assert_eq!(quiet(&snapshot, &both(), c.rounds), QUIET);
        // Rank 1 has not tested enough yet: no round, however often rank 0 tested.
        c.again(vec![100 + 10 * POLLS_PER_ROUND, 7 + POLLS_PER_ROUND - 1]);
        assert_eq!((c.checks, c.rounds), (2, 0));
        c.again(vec![100 + 10 * POLLS_PER_ROUND, 7 + POLLS_PER_ROUND]);
        assert_eq!(c.rounds, 1);
        assert_eq!(
            quiet(&snapshot, &both(), c.rounds),
            QUIET,
            "one round is not enough"
        );
        // The next round counts from where the last one ended.
        c.again(vec![
            100 + 11 * POLLS_PER_ROUND - 1,
            7 + 2 * POLLS_PER_ROUND,
        ]);
        assert_eq!(c.rounds, 1);
        c.again(vec![100 + 11 * POLLS_PER_ROUND, 7 + 2 * POLLS_PER_ROUND]);
        assert_eq!(c.rounds, 2);
        assert_eq!(quiet(&snapshot, &both(), c.rounds), QUIET_SYNCHRONOUS);
        // Rounds never make a receive, or a record that lost requests, certain.
        let mut with_recv = snapshot.clone();
        with_recv[1] = in_call(
            rank(1),
            Func::Recv,
            WaitMode::All,
            vec![recv(Peer::Rank(0))],
        );
        assert_eq!(quiet(&with_recv, &both(), 2), QUIET);
        let mut overflowed = snapshot;
        overflowed[0].pending_overflowed = true;
        assert_eq!(quiet(&overflowed, &both(), 2), QUIET);
    }
}
