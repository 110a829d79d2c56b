//! The wait-for graph of a launch at one moment, and who in it can never be released.
//!
//! Each blocked rank's call waits on conditions (see `WaitKind`), all of them (`Send`, `Recv`,
//! `Sendrecv`, `Waitall`, collectives) or any one (`Waitany`, `Waitsome`):
//!
//! - a send waits on its destination, unless the destination has a matching receive posted
//!   (in the call it is blocked in, or as a pending non-blocking receive);
//! - a receive from one rank waits on that rank, unless it has a matching send posted; a
//!   receive from any source waits on every member of the communicator;
//! - a collective waits on the members that have not entered it yet;
//! - `MPI_Finalize` waits on every rank that has not reached it.
//!
//! A rank that is outside MPI (running its own code) may still release anyone. Starting from
//! those ranks, a blocked rank is releasable when its conditions (all, or any one) are either
//! met already or wait on a releasable rank; this is repeated until nothing changes. Blocked
//! ranks left over can never be released: they are deadlocked (as in MUST's AND/OR wait-for
//! graph reduction). Whether that state lasts is for the caller to check over time.

use super::records::{Call, Peer, RankSnapshot, Wait};
use mpi_grade_protocol::trace::{FuncClass, RankState, WaitKind, WaitMode};
use std::collections::{BTreeMap, BTreeSet};

/// Whether a rank's process is still there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The process is running.
    Alive,
    /// The process exited or was killed.
    Gone,
}

/// What a rank can do, as far as the graph goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Outside MPI (or not initialised yet): it may still send, receive or join a collective.
    Free,
    /// In a blocking call.
    Blocked,
    /// Returned from `MPI_Finalize`: it will not communicate again.
    Finalized,
    /// Its process is gone without finalising.
    Gone,
}

/// An edge of the graph: `from` waits (through one of its call's conditions) on `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// World rank that waits.
    pub from: u32,
    /// World rank it waits on.
    pub to: u32,
    /// Index of the condition in `from`'s call.
    pub wait: usize,
}

/// The graph and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// What each rank can do, indexed by world rank.
    pub status: Vec<Status>,
    /// Blocked ranks that can never be released.
    pub deadlocked: BTreeSet<u32>,
    /// Unreleasable conditions of the deadlocked ranks, one edge per rank they wait on.
    pub edges: Vec<Edge>,
    /// A cycle of deadlocked ranks (first rank not repeated), when there is one.
    pub cycle: Option<Vec<u32>>,
    /// Deadlocked ranks waiting on a rank whose process is gone: (waiter, gone).
    pub waits_on_gone: Vec<(u32, u32)>,
    /// Blocked ranks waiting (directly) on a free rank: free rank → its waiters.
    pub waiting_on_free: BTreeMap<u32, Vec<u32>>,
}

/// Analyses a snapshot of every rank; `presence[r]` tells whether rank r's process exists.
pub fn analyze(ranks: &[RankSnapshot], presence: &[Presence]) -> Analysis {
    let status: Vec<Status> = ranks
        .iter()
        .zip(presence)
        .map(|(r, p)| status_of(r, *p))
        .collect();
    let graph = Graph {
        ranks,
        status: &status,
    };
    let deadlocked = graph.deadlocked();

    let mut edges = Vec::new();
    let mut waits_on_gone = Vec::new();
    for &r in &deadlocked {
        let call = graph.call(r);
        for (i, w) in call.waits.iter().enumerate() {
            if graph.met(r, w) {
                continue;
            }
            for t in graph.targets(r, w) {
                edges.push(Edge {
                    from: r,
                    to: t,
                    wait: i,
                });
                if status[t as usize] == Status::Gone && !waits_on_gone.contains(&(r, t)) {
                    waits_on_gone.push((r, t));
                }
            }
        }
    }
    let cycle = find_cycle(&deadlocked, &edges);

    let mut waiting_on_free: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for r in graph.blocked() {
        let call = graph.call(r);
        for w in &call.waits {
            if graph.met(r, w) {
                continue;
            }
            for t in graph.targets(r, w) {
                if status[t as usize] == Status::Free {
                    let waiters = waiting_on_free.entry(t).or_default();
                    if !waiters.contains(&r) {
                        waiters.push(r);
                    }
                }
            }
        }
    }

    Analysis {
        status,
        deadlocked,
        edges,
        cycle,
        waits_on_gone,
        waiting_on_free,
    }
}

/// What a rank is doing, from its snapshot and whether its process exists.
fn status_of(rank: &RankSnapshot, presence: Presence) -> Status {
    match (presence, rank.state, &rank.call) {
        (Presence::Gone, RankState::Finalized, _) => Status::Finalized,
        (Presence::Gone, _, _) => Status::Gone,
        (Presence::Alive, RankState::Finalized, _) => Status::Finalized,
        (Presence::Alive, RankState::Aborted | RankState::Exited, _) => Status::Gone,
        (Presence::Alive, RankState::InCall, Some(_)) => Status::Blocked,
        (Presence::Alive, _, _) => Status::Free,
    }
}

struct Graph<'a> {
    ranks: &'a [RankSnapshot],
    status: &'a [Status],
}

impl Graph<'_> {
    /// The blocked ranks no free rank can ever release: free ranks are releasable, and so is
    /// a blocked rank whose call some releasable rank can complete, until nothing changes.
    fn deadlocked(&self) -> BTreeSet<u32> {
        let mut releasable: Vec<bool> = self.status.iter().map(|s| *s == Status::Free).collect();
        loop {
            let mut changed = false;
            for r in self.blocked() {
                if !releasable[r as usize] && self.releasable(r, &releasable) {
                    releasable[r as usize] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        self.blocked()
            .filter(|&r| !releasable[r as usize])
            .collect()
    }
}

impl Graph<'_> {
    fn blocked(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.ranks.len() as u32).filter(|&r| self.status[r as usize] == Status::Blocked)
    }

    fn call(&self, rank: u32) -> &Call {
        self.ranks[rank as usize]
            .call
            .as_ref()
            .expect("blocked ranks have a call")
    }

    fn alive(&self, rank: u32) -> bool {
        matches!(self.status[rank as usize], Status::Free | Status::Blocked)
    }

    /// World ranks of communicator `comm`, as `rank` knows it (every rank when unknown).
    fn members(&self, rank: u32, comm: u64) -> Vec<u32> {
        let everyone = || (0..self.ranks.len() as u32).collect();
        if comm == 0 {
            return everyone();
        }
        match self.ranks[rank as usize].comm(comm) {
            Some(c) => c.members.clone().unwrap_or_else(|| {
                if c.size as usize == self.ranks.len() {
                    everyone()
                } else {
                    (0..c.size).collect()
                }
            }),
            None => everyone(),
        }
    }

    /// Operations a rank has posted: those of the call it is blocked in, and pending requests.
    fn posted(&self, rank: u32) -> impl Iterator<Item = &Wait> + '_ {
        let r = &self.ranks[rank as usize];
        let current = match self.status[rank as usize] {
            Status::Blocked => r.call.as_ref().map(|c| c.waits.as_slice()).unwrap_or(&[]),
            _ => &[],
        };
        let pending: &[Wait] = if self.alive(rank) { &r.pending } else { &[] };
        current.iter().chain(pending)
    }

    /// Whether `rank`'s condition `w` is met by what the others have posted already.
    fn met(&self, rank: u32, w: &Wait) -> bool {
        match (w.kind, w.peer) {
            (WaitKind::None | WaitKind::Unknown, _) => true,
            (WaitKind::Send | WaitKind::Recv, Peer::ProcNull) => true,
            (WaitKind::Send, Peer::Rank(dest)) => {
                self.in_range(dest)
                    && self.posted(dest).any(|p| {
                        p.kind == WaitKind::Recv
                            && (p.peer == Peer::Any || p.peer == Peer::Rank(rank))
                            && tag_matches(p.tag, w.tag)
                            && comm_matches(p.comm, w.comm)
                    })
            }
            (WaitKind::Send, _) => true,
            (WaitKind::Recv, Peer::Rank(source)) => {
                self.in_range(source) && self.sends_to(source, rank, w)
            }
            (WaitKind::Recv, _) => self
                .members(rank, w.comm)
                .into_iter()
                .any(|s| s != rank && self.sends_to(s, rank, w)),
            (WaitKind::Collective, _) => self.not_entered(rank, w).is_empty(),
            (WaitKind::Finalize, _) => self.not_finalizing().is_empty(),
        }
    }

    fn in_range(&self, rank: u32) -> bool {
        (rank as usize) < self.ranks.len()
    }

    /// Whether `source` has posted a send to `dest` that the receive `w` matches.
    fn sends_to(&self, source: u32, dest: u32, w: &Wait) -> bool {
        self.posted(source).any(|p| {
            p.kind == WaitKind::Send
                && p.peer == Peer::Rank(dest)
                && tag_matches(w.tag, p.tag)
                && comm_matches(p.comm, w.comm)
        })
    }

    /// Members of `w`'s communicator that have not entered its collective yet.
    ///
    /// A member blocked in another blocking collective with the same number on the same
    /// communicator (an `MPI_Barrier` against an `MPI_Comm_dup`) will never enter this one:
    /// MPI requires every member to make the same collective calls in the same order.
    fn not_entered(&self, rank: u32, w: &Wait) -> Vec<u32> {
        self.members(rank, w.comm)
            .into_iter()
            .filter(|&m| m != rank)
            .filter(|&m| {
                let entered = self.ranks[m as usize].comm(w.comm).map(|c| c.coll_count);
                // A member that does not know the communicator cannot be judged: assume entered.
                entered.is_some_and(|count| count < w.coll_seq)
                    || !self.alive(m) && entered.is_none()
                    || self.mismatched(rank, m, w)
            })
            .collect()
    }

    /// Whether `other` is blocked in a different blocking collective numbered like `w`.
    fn mismatched(&self, rank: u32, other: u32, w: &Wait) -> bool {
        let blocking_collective = |r: u32| {
            (self.status[r as usize] == Status::Blocked)
                .then(|| self.call(r))
                .filter(|c| {
                    matches!(
                        c.func.class(),
                        FuncClass::Collective | FuncClass::Communicator
                    )
                })
        };
        let (Some(mine), Some(theirs)) = (blocking_collective(rank), blocking_collective(other))
        else {
            return false;
        };
        mine.func != theirs.func
            && theirs.waits.iter().any(|t| {
                t.kind == WaitKind::Collective && t.comm == w.comm && t.coll_seq == w.coll_seq
            })
    }

    /// Ranks that have not reached `MPI_Finalize`.
    fn not_finalizing(&self) -> Vec<u32> {
        (0..self.ranks.len() as u32)
            .filter(|&r| match self.status[r as usize] {
                Status::Finalized => false,
                Status::Blocked => !self
                    .call(r)
                    .waits
                    .iter()
                    .any(|w| w.kind == WaitKind::Finalize),
                Status::Free | Status::Gone => true,
            })
            .collect()
    }

    /// The ranks that could meet condition `w` of `rank`.
    fn targets(&self, rank: u32, w: &Wait) -> Vec<u32> {
        match (w.kind, w.peer) {
            (WaitKind::Send | WaitKind::Recv, Peer::Rank(peer)) if self.in_range(peer) => {
                vec![peer]
            }
            (WaitKind::Recv, Peer::Any) => self
                .members(rank, w.comm)
                .into_iter()
                .filter(|&m| m != rank)
                .collect(),
            (WaitKind::Collective, _) => self.not_entered(rank, w),
            (WaitKind::Finalize, _) => self
                .not_finalizing()
                .into_iter()
                .filter(|&r| r != rank)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `rank` can be released, given which ranks are releasable.
    fn releasable(&self, rank: u32, releasable: &[bool]) -> bool {
        let call = self.call(rank);
        if call.truncated {
            return true; // it waits on more than we can see: never claim it is stuck
        }
        let resolvable = |w: &Wait| {
            if self.met(rank, w) {
                return true;
            }
            let targets = self.targets(rank, w);
            let free = |t: &u32| releasable[*t as usize];
            match w.kind {
                WaitKind::Collective | WaitKind::Finalize => {
                    !targets.is_empty() && targets.iter().all(free)
                }
                _ => targets.iter().any(free),
            }
        };
        match call.mode {
            WaitMode::All => call.waits.iter().all(resolvable),
            WaitMode::Any => call.waits.is_empty() || call.waits.iter().any(resolvable),
        }
    }
}

fn tag_matches(receive: Option<i32>, send: Option<i32>) -> bool {
    receive.is_none() || receive == send
}

fn comm_matches(a: u64, b: u64) -> bool {
    a == 0 || b == 0 || a == b
}

/// A cycle among `nodes` following `edges`, smallest rank first.
fn find_cycle(nodes: &BTreeSet<u32>, edges: &[Edge]) -> Option<Vec<u32>> {
    let next = |r: u32| {
        let mut targets: Vec<u32> = edges
            .iter()
            .filter(|e| e.from == r && nodes.contains(&e.to))
            .map(|e| e.to)
            .collect();
        targets.sort_unstable();
        targets.dedup();
        targets
    };
    for &start in nodes {
        // Depth-first search for a path back to `start`.
        let mut path = vec![start];
        let mut stack = vec![next(start)];
        let mut seen = BTreeSet::from([start]);
        while let Some(options) = stack.last_mut() {
            match options.pop() {
                Some(n) if n == start => return Some(path),
                Some(n) if n > start && seen.insert(n) => {
                    path.push(n);
                    stack.push(next(n));
                }
                Some(_) => {}
                None => {
                    stack.pop();
                    path.pop();
                }
            }
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::trace::records::Comm;
    use mpi_grade_protocol::trace::Func;

    const WORLD: u64 = 1;

    pub(crate) fn rank(r: u32) -> RankSnapshot {
        RankSnapshot {
            rank: r,
            initialised: true,
            pid: 100 + r as i32,
            tid: 100 + r as i32,
            state: RankState::Running,
            cell: Some(0),
            zero_buffer: false,
            progress: 1,
            progress_ns: 0,
            polls: 0,
            exit_code: 0,
            call: None,
            pending: vec![],
            pending_overflowed: false,
            comms: vec![Comm {
                id: WORLD,
                size: 0,
                members: None,
                coll_count: 0,
                recent: Vec::new(),
            }],
        }
    }

    fn wait(kind: WaitKind, peer: Peer, tag: Option<i32>) -> Wait {
        Wait {
            kind,
            peer,
            tag,
            comm: WORLD,
            bytes: 8000,
            coll_seq: 0,
            dtype: 0,
        }
    }

    pub(crate) fn send(to: u32) -> Wait {
        wait(WaitKind::Send, Peer::Rank(to), Some(0))
    }

    pub(crate) fn recv(from: Peer) -> Wait {
        wait(WaitKind::Recv, from, None)
    }

    pub(crate) fn in_call(
        mut s: RankSnapshot,
        func: Func,
        mode: WaitMode,
        waits: Vec<Wait>,
    ) -> RankSnapshot {
        s.state = RankState::InCall;
        s.call = Some(Call {
            func,
            mode,
            waits,
            truncated: false,
            since_ns: 0,
            cell: Some(0),
        });
        s
    }

    fn blocked(r: u32, func: Func, waits: Vec<Wait>) -> RankSnapshot {
        in_call(rank(r), func, WaitMode::All, waits)
    }

    fn world(ranks: &mut [RankSnapshot]) {
        let n = ranks.len() as u32;
        for r in ranks {
            r.comms[0].size = n;
        }
    }

    fn run(mut ranks: Vec<RankSnapshot>) -> Analysis {
        world(&mut ranks);
        let presence = vec![Presence::Alive; ranks.len()];
        analyze(&ranks, &presence)
    }

    fn set(items: &[u32]) -> BTreeSet<u32> {
        items.iter().copied().collect()
    }

    #[test]
    fn a_send_send_cycle_is_a_deadlock() {
        let a = run(vec![
            blocked(0, Func::Send, vec![send(1)]),
            blocked(1, Func::Send, vec![send(0)]),
        ]);
        assert_eq!(a.deadlocked, set(&[0, 1]));
        assert_eq!(a.cycle, Some(vec![0, 1]));
    }

    #[test]
    fn a_send_meeting_a_posted_receive_is_not_blocked() {
        let a = run(vec![
            blocked(0, Func::Send, vec![send(1)]),
            blocked(1, Func::Recv, vec![recv(Peer::Rank(0))]),
        ]);
        assert!(a.deadlocked.is_empty());
        let a = run(vec![
            blocked(0, Func::Send, vec![send(1)]),
            blocked(1, Func::Recv, vec![recv(Peer::Any)]),
        ]);
        assert!(a.deadlocked.is_empty());
    }

    #[test]
    fn a_tag_or_communicator_mismatch_does_not_release() {
        let mut other_tag = recv(Peer::Rank(0));
        other_tag.tag = Some(5);
        let a = run(vec![
            blocked(0, Func::Send, vec![send(1)]),
            blocked(1, Func::Recv, vec![other_tag]),
        ]);
        assert_eq!(a.deadlocked, set(&[0, 1]));
        let mut other_comm = recv(Peer::Rank(0));
        other_comm.comm = 9;
        let a = run(vec![
            blocked(0, Func::Send, vec![send(1)]),
            blocked(1, Func::Recv, vec![other_comm]),
        ]);
        assert_eq!(a.deadlocked, set(&[0, 1]));
    }

    #[test]
    fn pending_non_blocking_receives_release_sends() {
        // Both post Irecv, then both Send: the classic safe exchange.
        let mut r0 = blocked(0, Func::Send, vec![send(1)]);
        r0.pending.push(recv(Peer::Rank(1)));
        let mut r1 = blocked(1, Func::Send, vec![send(0)]);
        r1.pending.push(recv(Peer::Rank(0)));
        assert!(run(vec![r0, r1]).deadlocked.is_empty());
    }

    #[test]
    fn a_receive_receive_cycle_is_a_deadlock() {
        let a = run(vec![
            blocked(0, Func::Recv, vec![recv(Peer::Rank(1))]),
            blocked(1, Func::Recv, vec![recv(Peer::Rank(0))]),
        ]);
        assert_eq!(a.deadlocked, set(&[0, 1]));
    }

    #[test]
    fn a_send_to_self_deadlocks_alone() {
        let a = run(vec![blocked(0, Func::Send, vec![send(0)]), rank(1)]);
        assert_eq!(a.deadlocked, set(&[0]));
        assert_eq!(a.cycle, Some(vec![0]));
    }

    #[test]
    fn a_rank_outside_mpi_may_still_release_its_waiters() {
        let a = run(vec![
            blocked(0, Func::Recv, vec![recv(Peer::Rank(1))]),
            rank(1),
            blocked(2, Func::Send, vec![send(0)]),
        ]);
        assert!(a.deadlocked.is_empty(), "{a:?}");
        assert_eq!(a.waiting_on_free.get(&1), Some(&vec![0]));
    }

    #[test]
    fn a_chain_into_a_cycle_is_deadlocked_too() {
        let a = run(vec![
            blocked(0, Func::Send, vec![send(1)]),
            blocked(1, Func::Send, vec![send(0)]),
            blocked(2, Func::Recv, vec![recv(Peer::Rank(0))]),
        ]);
        assert_eq!(a.deadlocked, set(&[0, 1, 2]));
        assert_eq!(a.cycle, Some(vec![0, 1]));
    }

    #[test]
    fn any_source_receives_wait_on_every_other_member() {
        // 0 waits for anyone; 1 sends to 2 who is free: 1 can be released, then sends to 0? No:
        // 1 only sends to 2. But 2 is free and could send to 0, so nobody is stuck.
        let a = run(vec![
            blocked(0, Func::Recv, vec![recv(Peer::Any)]),
            blocked(1, Func::Send, vec![send(2)]),
            rank(2),
        ]);
        assert!(a.deadlocked.is_empty());
        // With 2 blocked receiving from 1 (who sends to 2: matched), 1 and 2 complete; 0 is
        // left waiting on ranks that will finalise... but they are releasable now, so no verdict.
        let a = run(vec![
            blocked(0, Func::Recv, vec![recv(Peer::Any)]),
            blocked(1, Func::Recv, vec![recv(Peer::Rank(2))]),
            blocked(2, Func::Recv, vec![recv(Peer::Rank(1))]),
        ]);
        assert_eq!(a.deadlocked, set(&[0, 1, 2]));
    }

    #[test]
    fn waitall_needs_every_request_and_waitany_one() {
        let r0_all = in_call(
            rank(0),
            Func::Waitall,
            WaitMode::All,
            vec![send(1), recv(Peer::Rank(2))],
        );
        let r1 = blocked(1, Func::Recv, vec![recv(Peer::Rank(0))]);
        let r2 = blocked(2, Func::Recv, vec![recv(Peer::Rank(1))]);
        // 0's send meets 1's receive; 0's receive from 2 waits on 2, who waits on 1, who is
        // released by 0's send; so 1 completes and may then send to 2... releasable.
        let a = run(vec![r0_all, r1.clone(), r2.clone()]);
        assert!(a.deadlocked.is_empty(), "{a:?}");

        let r0_all = in_call(
            rank(0),
            Func::Waitall,
            WaitMode::All,
            vec![recv(Peer::Rank(1)), recv(Peer::Rank(2))],
        );
        let r1 = blocked(1, Func::Recv, vec![recv(Peer::Rank(0))]);
        let r2 = blocked(2, Func::Recv, vec![recv(Peer::Rank(0))]);
        assert_eq!(
            run(vec![r0_all, r1.clone(), r2.clone()]).deadlocked,
            set(&[0, 1, 2])
        );

        let mut r2_sending = r2;
        r2_sending.call.as_mut().unwrap().waits = vec![send(0)];
        let r0_any = in_call(
            rank(0),
            Func::Waitany,
            WaitMode::Any,
            vec![recv(Peer::Rank(1)), recv(Peer::Rank(2))],
        );
        assert!(run(vec![r0_any, r1, r2_sending]).deadlocked.is_empty());
    }

    #[test]
    fn a_collective_waits_on_members_that_did_not_enter_it() {
        let coll = |seq| Wait {
            kind: WaitKind::Collective,
            peer: Peer::None,
            tag: None,
            comm: WORLD,
            bytes: 0,
            coll_seq: seq,
            dtype: 0,
        };
        let entered = |mut s: RankSnapshot, count| {
            s.comms[0].coll_count = count;
            s
        };
        // 0 and 1 are in the barrier; 2 waits to receive from 0: a deadlock.
        let a = run(vec![
            entered(blocked(0, Func::Barrier, vec![coll(1)]), 1),
            entered(blocked(1, Func::Barrier, vec![coll(1)]), 1),
            entered(blocked(2, Func::Recv, vec![recv(Peer::Rank(0))]), 0),
        ]);
        assert_eq!(a.deadlocked, set(&[0, 1, 2]));
        assert!(a.edges.contains(&Edge {
            from: 0,
            to: 2,
            wait: 0
        }));
        // Everyone entered: it completes.
        let a = run(vec![
            entered(blocked(0, Func::Barrier, vec![coll(1)]), 1),
            entered(blocked(1, Func::Barrier, vec![coll(1)]), 1),
            entered(blocked(2, Func::Barrier, vec![coll(1)]), 1),
        ]);
        assert!(a.deadlocked.is_empty());
        // 2 is outside MPI and may still join.
        let a = run(vec![
            entered(blocked(0, Func::Barrier, vec![coll(1)]), 1),
            entered(rank(1), 0),
        ]);
        assert!(a.deadlocked.is_empty());
    }

    #[test]
    fn different_collectives_with_the_same_number_are_a_deadlock() {
        let coll = |seq| Wait {
            kind: WaitKind::Collective,
            peer: Peer::None,
            tag: None,
            comm: WORLD,
            bytes: 0,
            coll_seq: seq,
            dtype: 0,
        };
        let entered = |mut s: RankSnapshot| {
            s.comms[0].coll_count = 4;
            s
        };
        // Rank 0 is in its 4th collective, a barrier; rank 1 in its 4th, a Comm_dup.
        let a = run(vec![
            entered(blocked(0, Func::Barrier, vec![coll(4)])),
            entered(blocked(1, Func::CommDup, vec![coll(4)])),
        ]);
        assert_eq!(a.deadlocked, set(&[0, 1]));
        // The same collective on both: it completes.
        let a = run(vec![
            entered(blocked(0, Func::Barrier, vec![coll(4)])),
            entered(blocked(1, Func::Barrier, vec![coll(4)])),
        ]);
        assert!(a.deadlocked.is_empty());
    }

    #[test]
    fn waiting_on_a_gone_rank_is_reported() {
        let mut ranks = vec![blocked(0, Func::Recv, vec![recv(Peer::Rank(1))]), rank(1)];
        world(&mut ranks);
        let a = analyze(&ranks, &[Presence::Alive, Presence::Gone]);
        assert_eq!(a.deadlocked, set(&[0]));
        assert_eq!(a.waits_on_gone, vec![(0, 1)]);
    }

    #[test]
    fn waiting_on_a_rank_in_finalize_is_a_deadlock() {
        let fin = Wait {
            kind: WaitKind::Finalize,
            peer: Peer::None,
            tag: None,
            comm: 0,
            bytes: 0,
            coll_seq: 0,
            dtype: 0,
        };
        let a = run(vec![
            blocked(0, Func::Recv, vec![recv(Peer::Rank(1))]),
            blocked(1, Func::Finalize, vec![fin]),
        ]);
        assert_eq!(a.deadlocked, set(&[0, 1]));
    }

    #[test]
    fn a_truncated_call_is_never_claimed_stuck() {
        let mut r0 = blocked(0, Func::Waitall, vec![recv(Peer::Rank(1))]);
        r0.call.as_mut().unwrap().truncated = true;
        let a = run(vec![r0, blocked(1, Func::Recv, vec![recv(Peer::Rank(0))])]);
        assert!(a.deadlocked.is_empty());
    }

    #[test]
    fn cycles_are_found_in_larger_graphs() {
        let edges: Vec<Edge> = [(0, 1), (1, 2), (2, 3), (3, 1), (4, 0)]
            .iter()
            .map(|&(from, to)| Edge { from, to, wait: 0 })
            .collect();
        assert_eq!(
            find_cycle(&set(&[0, 1, 2, 3, 4]), &edges),
            Some(vec![1, 2, 3])
        );
        assert_eq!(find_cycle(&set(&[0, 4]), &edges), None);
    }
}
