//! The tracer preloaded into real MPI jobs: counts, scopes, blocked calls, requests,
//! communicator ids, zero-buffer mode, stacks on request and call sites.
//!
//! Every test holds the machine's MPI lock while its jobs run, and kills what it launched.

mod support;

use mpi_grade_protocol::trace::{
    pcontrol, Func, RankState, WaitKind, WaitMode, MAGIC, PROC_NULL, STACK_SIGNAL,
};
use std::sync::atomic::Ordering::*;
use std::time::Duration;
use support::*;

/// The tracer's polite waiting (see `wrappers::polite`).
const POLITE: &str = mpi_grade_protocol::run::ENV_POLITE;
const FINISH: Duration = Duration::from_secs(60);
const BLOCK: Duration = Duration::from_secs(30);

const COUNTS: &str = r#"
#include <mpi.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int peer = 1 - rank, x[4] = {0}, s = rank, r = -1;
    for (int i = 0; i < 3; i++) {
        if (rank == 0) MPI_Send(x, 4, MPI_INT, 1, 7, MPI_COMM_WORLD);
        else MPI_Recv(x, 4, MPI_INT, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    MPI_Send(&s, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Request reqs[2];
    MPI_Irecv(&r, 1, MPI_INT, peer, 3, MPI_COMM_WORLD, &reqs[0]);
    MPI_Isend(&s, 1, MPI_INT, peer, 3, MPI_COMM_WORLD, &reqs[1]);
    MPI_Waitall(2, reqs, MPI_STATUSES_IGNORE);
    long sb[16] = {0}, rb[16];
    MPI_Alltoall(sb, 8, MPI_LONG, rb, 8, MPI_LONG, MPI_COMM_WORLD);
    double v = 1, sum;
    MPI_Allreduce(&v, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Comm dup;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    MPI_Sendrecv(&s, 1, MPI_INT, peer, 9, &r, 1, MPI_INT, peer, 9, dup, MPI_STATUS_IGNORE);
    MPI_Request ir;
    int flag = 0;
    MPI_Iallreduce(&v, &sum, 1, MPI_DOUBLE, MPI_SUM, dup, &ir);
    while (!flag) MPI_Test(&ir, &flag, MPI_STATUS_IGNORE);
    MPI_Comm_free(&dup);
    MPI_Finalize();
    return 0;
}
"#;

#[test]
fn program_scope_counts_every_call() {
    let exe = compile("counts", COUNTS);
    let dir = trace_dir("counts", 2);
    let _lock = lock();
    let mut job = launch(&exe, &[], 2, Some(&dir), &[]);
    let status = job.wait(FINISH);
    assert!(status.success(), "job failed: {}", job.output());

    let recs = records(&dir, 2);
    for (r, m) in recs.iter().enumerate() {
        let rec = m.rec();
        let h = &rec.header;
        assert_eq!(h.magic.load(Acquire), MAGIC);
        assert!(rec.is_initialised());
        assert_eq!(h.rank.load(Relaxed), r as i32);
        assert_eq!(h.world_size.load(Relaxed), 2);
        assert!(h.pid.load(Relaxed) > 0 && h.tid.load(Relaxed) > 0);
        assert_eq!(h.program_scope.load(Relaxed), 1);
        assert_eq!(h.cell.load(Relaxed), 0);
        assert_eq!(state(rec), RankState::Finalized);
        let path: Vec<u8> = h
            .exe_path
            .iter()
            .map(|b| b.load(Relaxed))
            .take_while(|&b| b != 0)
            .collect();
        assert_eq!(
            std::path::Path::new(std::str::from_utf8(&path).unwrap()),
            exe
        );
        assert!(h.progress.load(Relaxed) >= 10);
        assert!(h.progress_ns.load(Relaxed) > 0);

        for (f, n) in [
            (Func::Init, 1),
            (Func::Barrier, 1),
            (Func::Irecv, 1),
            (Func::Isend, 1),
            (Func::Waitall, 1),
            (Func::Alltoall, 1),
            (Func::Allreduce, 1),
            (Func::CommDup, 1),
            (Func::Sendrecv, 1),
            (Func::Iallreduce, 1),
            (Func::CommFree, 1),
            (Func::Finalize, 1),
            (Func::Pcontrol, 0),
        ] {
            assert_eq!(calls(rec, 0, f), n, "rank {r} {}", f.name());
        }
        assert!(calls(rec, 0, Func::Test) >= 1);
        assert_eq!(
            bytes(rec, 0, Func::Alltoall),
            8 * 8 * 2,
            "sendcount x type size x ranks"
        );
        assert_eq!(bytes(rec, 0, Func::Allreduce), 8);
        assert_eq!(bytes(rec, 0, Func::Sendrecv), 4);
        // Every request completed; only the world and self communicators remain.
        assert!(rec.requests.iter().all(|e| e.handle.load(Relaxed) == 0));
        let ids: Vec<u64> = rec
            .comms
            .iter()
            .filter(|e| e.handle.load(Relaxed) != 0)
            .map(|e| e.id.load(Relaxed))
            .collect();
        assert_eq!(ids.len(), 2, "world and self: {ids:?}");
        assert_eq!(ids[0], 1);
        // Barrier, Alltoall, Allreduce and the Comm_dup on the world.
        assert_eq!(rec.comms[0].coll_count.load(Relaxed), 4);
        // The last call left the slot empty.
        let call = current_call(rec);
        assert_eq!((call.func, call.waits.len()), (None, 0));
    }
    let (r0, r1) = (recs[0].rec(), recs[1].rec());
    assert_eq!(calls(r0, 0, Func::Send), 4);
    assert_eq!(bytes(r0, 0, Func::Send), 3 * 16 + 4);
    assert_eq!(calls(r0, 0, Func::Recv), 0);
    assert_eq!(calls(r1, 0, Func::Recv), 3);
    assert_eq!(bytes(r1, 0, Func::Recv), 3 * 16);
    assert_eq!(calls(r1, 0, Func::Send), 1, "the send to MPI_PROC_NULL");

    // Call sites: one per function, for cell 0, starting in the program's own code.
    let h = &r0.header;
    let nsites = h.nsites.load(Acquire) as usize;
    let sites: Vec<_> = r0.sites[..nsites]
        .iter()
        .filter(|s| s.func.load(Relaxed) == Func::Send as u32)
        .collect();
    assert_eq!(sites.len(), 1);
    let site = sites[0];
    assert_eq!(site.cell.load(Relaxed), 1);
    let depth = site.depth.load(Relaxed) as usize;
    assert!(depth >= 1);
    let ips: Vec<u64> = site.ips[..depth].iter().map(|a| a.load(Relaxed)).collect();
    let names = symbolise(&exe, r0, &ips);
    assert_eq!(
        names[0], "main",
        "innermost frame is the caller of MPI_Send: {names:?}"
    );
    let mut funcs: Vec<u32> = r0.sites[..nsites]
        .iter()
        .map(|s| s.func.load(Relaxed))
        .collect();
    let n = funcs.len();
    funcs.sort_unstable();
    funcs.dedup();
    assert_eq!(funcs.len(), n, "one site per function");
}

#[test]
fn passive_without_trace_dir() {
    let exe = compile("counts", COUNTS);
    let _lock = lock();
    let mut job = launch(&exe, &[], 2, None, &[]);
    let status = job.wait(FINISH);
    assert!(status.success(), "job failed: {}", job.output());
    assert!(
        !job.output().contains("mpi-grade-tracer"),
        "{}",
        job.output()
    );
}

const MARKED: &str = r#"
#include <mpi.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, x = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Pcontrol(1);                       /* cell 0 */
    if (rank == 0) MPI_Send(&x, 1, MPI_INT, 1, 0, MPI_COMM_WORLD);
    else MPI_Recv(&x, 1, MPI_INT, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Pcontrol(0);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Pcontrol(3);                       /* cell 1 */
    double v = 1, s;
    MPI_Allreduce(&v, &s, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&v, &s, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Pcontrol(0);
    MPI_Finalize();
    return 0;
}
"#;

#[test]
fn marked_scope_counts_only_marked_cells() {
    assert_eq!(pcontrol::enter(1, false), 3);
    let exe = compile("marked", MARKED);
    let dir = trace_dir("marked", 2);
    // The grader maps the records before the launch: the tracer deletes the files.
    let recs = records(&dir, 2);
    let _lock = lock();
    let mut job = launch(
        &exe,
        &[],
        2,
        Some(&dir),
        &[("MPI_GRADE_TRACE_SCOPE", "marked")],
    );
    let status = job.wait(FINISH);
    assert!(status.success(), "job failed: {}", job.output());
    for r in 0..2 {
        let path = dir.join(format!("{r}.trace"));
        assert!(!path.exists(), "{} is still there", path.display());
    }
    for (r, m) in recs.iter().enumerate() {
        let rec = m.rec();
        assert_eq!(rec.header.program_scope.load(Relaxed), 0);
        // The runtime's two marks per cell; bytes sent to the other rank (rank 0's send,
        // both ranks' Allreduce buffers).
        assert_eq!(rec.cells[0].marks.load(Relaxed), 2);
        assert_eq!(rec.cells[1].marks.load(Relaxed), 2);
        assert_eq!(rec.cells[2].marks.load(Relaxed), 0);
        assert_eq!(
            rec.cells[0].sent_to_others.load(Relaxed),
            if r == 0 { 4 } else { 0 }
        );
        assert_eq!(rec.cells[1].sent_to_others.load(Relaxed), 16);
        assert_eq!(rec.header.cell.load(Relaxed), -1);
        let p2p = if r == 0 { Func::Send } else { Func::Recv };
        assert_eq!(calls(rec, 0, p2p), 1, "rank {r}");
        assert_eq!(bytes(rec, 0, p2p), 4);
        assert_eq!(calls(rec, 0, Func::Allreduce), 0);
        assert_eq!(calls(rec, 1, Func::Allreduce), 2);
        assert_eq!(calls(rec, 1, p2p), 0);
        for cell in 0..mpi_grade_protocol::trace::MAX_CELLS {
            for f in [Func::Barrier, Func::Init, Func::Finalize, Func::Pcontrol] {
                assert_eq!(calls(rec, cell, f), 0, "{} is outside the cells", f.name());
            }
        }
        let nsites = rec.header.nsites.load(Acquire) as usize;
        let sites: Vec<(u32, u32)> = rec.sites[..nsites]
            .iter()
            .map(|s| (s.cell.load(Relaxed), s.func.load(Relaxed)))
            .collect();
        assert_eq!(sites, [(1, p2p as u32), (2, Func::Allreduce as u32)]);
    }
}

/// A student's `MPI_Pcontrol(0)` inside the cell, to hide an `MPI_Alltoall` from the tracer,
/// and a send to itself.
const PCONTROL_BYPASS: &str = r#"
#include <mpi.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, out[2] = {1, 2}, in[2], self = 7, back;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Pcontrol(1);                       /* the runtime: cell 0 */
    MPI_Sendrecv(&self, 1, MPI_INT, rank, 0, &back, 1, MPI_INT, rank, 0, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    MPI_Pcontrol(0);                       /* the student */
    MPI_Alltoall(out, 1, MPI_INT, in, 1, MPI_INT, MPI_COMM_WORLD);
    MPI_Pcontrol(12345);                   /* the student, a level of its own */
    MPI_Pcontrol(0);                       /* the runtime */
    MPI_Finalize();
    return 0;
}
"#;

#[test]
fn a_students_pcontrol_shows_as_extra_marks() {
    let exe = compile("pcontrol_bypass", PCONTROL_BYPASS);
    let dir = trace_dir("pcontrol_bypass", 2);
    let recs = records(&dir, 2);
    let _lock = lock();
    let mut job = launch(
        &exe,
        &[],
        2,
        Some(&dir),
        &[("MPI_GRADE_TRACE_SCOPE", "marked")],
    );
    let status = job.wait(FINISH);
    assert!(status.success(), "job failed: {}", job.output());
    for m in &recs {
        let rec = m.rec();
        // Hidden from the counts, but four marks where the runtime makes two.
        assert_eq!(calls(rec, 0, Func::Alltoall), 0);
        assert_eq!(rec.cells[0].marks.load(Relaxed), 4);
        // A send to itself is no traffic to other ranks.
        assert_eq!(calls(rec, 0, Func::Sendrecv), 1);
        assert_eq!(rec.cells[0].sent_to_others.load(Relaxed), 0);
    }
}

const BLOCKED_RECV: &str = r#"
#include <mpi.h>
#include <unistd.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, x;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) MPI_Recv(&x, 1, MPI_INT, 1, 42, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    else for (;;) sleep(1);
    MPI_Finalize();
    return 0;
}
"#;

#[test]
fn blocked_recv_is_visible_and_stack_on_request() {
    blocked_recv("blocked_recv", &[]);
}

/// Waiting politely (a receive started, then tested with yields in between), the rank shows
/// the same blocked call, and its stack, taken inside the test loop, still reaches `main`.
#[test]
fn a_polite_blocked_recv_is_the_same_blocked_call() {
    blocked_recv("blocked_recv_polite", &[(POLITE, "1")]);
}

fn blocked_recv(name: &str, env: &[(&str, &str)]) {
    let exe = compile("blocked_recv", BLOCKED_RECV);
    let dir = trace_dir(name, 2);
    let _lock = lock();
    let mut job = launch(&exe, &[], 2, Some(&dir), env);
    let recs = records(&dir, 2);
    let rec = recs[0].rec();
    wait_for(BLOCK, "rank 0 blocked in MPI_Recv", || {
        rec.is_initialised() && state(rec) == RankState::InCall
    });
    let polite = env.contains(&(POLITE, "1"));
    assert_eq!(rec.header.polite.load(Relaxed), u32::from(polite));
    let call = current_call(rec);
    assert_eq!(call.func, Some(Func::Recv));
    assert_eq!(call.mode, WaitMode::All);
    assert_eq!(call.cell, 0);
    assert_eq!(
        call.waits,
        [WaitView {
            kind: WaitKind::Recv,
            peer: 1,
            tag: 42,
            comm: 1,
            bytes: 4,
            coll_seq: 0
        }]
    );
    assert!(rec.call.since_ns.load(Relaxed) > 0);
    wait_for(BLOCK, "rank 1 initialised", || {
        recs[1].rec().is_initialised()
    });
    assert_eq!(state(recs[1].rec()), RankState::Running);

    // A stack on request, from the blocked rank.
    let st = &rec.stack;
    let generation = st.request.load(Relaxed) + 1;
    st.request.store(generation, Release);
    let (pid, tid) = (rec.header.pid.load(Relaxed), rec.header.tid.load(Relaxed));
    // SAFETY: tgkill to the rank's MPI thread, whose handler the tracer installed.
    let rc = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, STACK_SIGNAL) };
    assert_eq!(rc, 0);
    wait_for(BLOCK, "the stack", || st.done.load(Acquire) == generation);
    let depth = st.depth.load(Relaxed) as usize;
    assert!(depth > 2, "depth {depth}");
    let ips: Vec<u64> = st.ips[..depth].iter().map(|a| a.load(Relaxed)).collect();
    let names = symbolise(&exe, rec, &ips);
    assert!(
        names.iter().any(|n| n == "main"),
        "main is on the stack: {names:?}"
    );
    // The rank is still blocked (the handler restarted nothing it should not have).
    assert_eq!(state(rec), RankState::InCall);

    let pids: Vec<i32> = recs
        .iter()
        .map(|m| m.rec().header.pid.load(Relaxed))
        .collect();
    job.kill();
    for p in pids {
        assert!(!alive(p), "rank {p} survived");
    }
}

const WAITALL: &str = r#"
#include <mpi.h>
#include <unistd.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, r = 0, s = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        MPI_Request reqs[3];
        MPI_Irecv(&r, 1, MPI_INT, 1, 5, MPI_COMM_WORLD, &reqs[0]);
        reqs[1] = MPI_REQUEST_NULL;
        MPI_Isend(&s, 1, MPI_INT, 1, 6, MPI_COMM_WORLD, &reqs[2]);
        MPI_Waitall(3, reqs, MPI_STATUSES_IGNORE);
    } else for (;;) sleep(1);
    MPI_Finalize();
    return 0;
}
"#;

#[test]
fn waitall_shows_pending_requests() {
    let exe = compile("waitall", WAITALL);
    let dir = trace_dir("waitall", 2);
    let _lock = lock();
    let mut job = launch(&exe, &[], 2, Some(&dir), &[]);
    let recs = records(&dir, 2);
    let rec = recs[0].rec();
    wait_for(BLOCK, "rank 0 blocked in MPI_Waitall", || {
        rec.is_initialised() && state(rec) == RankState::InCall
    });
    let call = current_call(rec);
    assert_eq!(call.func, Some(Func::Waitall));
    assert_eq!(call.mode, WaitMode::All);
    assert!(!call.truncated);
    let brief: Vec<(WaitKind, i32, i32, u64)> = call
        .waits
        .iter()
        .map(|w| (w.kind, w.peer, w.tag, w.comm))
        .collect();
    assert_eq!(
        brief,
        [(WaitKind::Recv, 1, 5, 1), (WaitKind::Send, 1, 6, 1)],
        "the null request is skipped"
    );
    let pending = rec
        .requests
        .iter()
        .filter(|e| e.handle.load(Relaxed) != 0)
        .count();
    assert_eq!(pending, 2);
    job.kill();
}

const COMMS: &str = r#"
#include <mpi.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm dup, half;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    MPI_Comm_split(MPI_COMM_WORLD, rank % 2, -rank, &half);
    MPI_Barrier(dup);
    MPI_Barrier(half);
    int x = rank;
    MPI_Bcast(&x, 1, MPI_INT, 0, half);
    MPI_Finalize();   /* the communicators stay in the table for inspection */
    return 0;
}
"#;

#[test]
fn communicator_ids_agree_across_ranks() {
    let exe = compile("comms", COMMS);
    let dir = trace_dir("comms", 3);
    let _lock = lock();
    let mut job = launch(&exe, &[], 3, Some(&dir), &[]);
    let status = job.wait(FINISH);
    assert!(status.success(), "job failed: {}", job.output());
    let recs = records(&dir, 3);
    struct Seen {
        id: u64,
        size: i32,
        world_order: bool,
        members: Vec<i32>,
        colls: u64,
    }
    let tables: Vec<Vec<Seen>> = recs
        .iter()
        .map(|m| {
            m.rec()
                .comms
                .iter()
                .filter(|e| e.handle.load(Relaxed) != 0)
                .map(|e| {
                    let size = e.size.load(Relaxed);
                    Seen {
                        id: e.id.load(Relaxed),
                        size,
                        world_order: e.is_world_order.load(Relaxed) == 1,
                        members: e.members[..size as usize]
                            .iter()
                            .map(|m| m.load(Relaxed))
                            .collect(),
                        colls: e.coll_count.load(Relaxed),
                    }
                })
                .collect()
        })
        .collect();
    for (r, t) in tables.iter().enumerate() {
        assert_eq!(t.len(), 4, "rank {r}: world, self, dup, split");
        assert_eq!((t[0].id, t[0].world_order, t[0].colls), (1, true, 2));
        assert_eq!((t[1].size, &t[1].members[..]), (1, &[r as i32][..]), "self");
        assert!(t[2].world_order && t[2].id > 1 && t[2].colls == 1, "dup");
        assert!(!t[3].world_order && t[3].colls == 2, "split");
    }
    // Same dup id everywhere; self ids all different.
    assert!(tables.iter().all(|t| t[2].id == tables[0][2].id));
    let mut selfs: Vec<u64> = tables.iter().map(|t| t[1].id).collect();
    selfs.dedup();
    assert_eq!(selfs.len(), 3);
    // The split: ranks 0 and 2 together (key -rank: rank 2 first), rank 1 alone.
    assert_eq!(tables[0][3].id, tables[2][3].id);
    assert_ne!(tables[0][3].id, tables[1][3].id);
    assert_eq!(tables[0][3].members, [2, 0]);
    assert_eq!(tables[1][3].members, [1]);
    // Bcast on the split: rank 0 of `half` is world rank 2 (sends), world rank 0 does not.
    assert_eq!(calls(recs[0].rec(), 0, Func::Bcast), 1);
    assert_eq!(bytes(recs[0].rec(), 0, Func::Bcast), 0);
    assert_eq!(bytes(recs[2].rec(), 0, Func::Bcast), 4);
}

const EXCHANGE: &str = r#"
#include <mpi.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, s, r;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    s = rank;
    if (argc > 1) MPI_Pcontrol(atoi(argv[1]));
    MPI_Send(&s, 1, MPI_INT, 1 - rank, 0, MPI_COMM_WORLD);
    MPI_Recv(&r, 1, MPI_INT, 1 - rank, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (argc > 1) MPI_Pcontrol(0);
    MPI_Finalize();
    return 0;
}
"#;

/// Both ranks blocked in `MPI_Send` to each other: the deadlock zero-buffer mode exposes.
fn assert_send_deadlock(recs: &[Mapped], cell: i32) {
    for (r, m) in recs.iter().enumerate() {
        let rec = m.rec();
        wait_for(BLOCK, "a rank blocked in MPI_Send", || {
            rec.is_initialised() && state(rec) == RankState::InCall
        });
        let call = current_call(rec);
        assert_eq!(call.func, Some(Func::Send), "rank {r}");
        assert_eq!(call.cell, cell);
        assert_eq!(call.waits.len(), 1);
        assert_eq!(call.waits[0].kind, WaitKind::Send);
        assert_eq!(call.waits[0].peer, 1 - r as i32);
        assert_eq!(rec.header.zero_buffer.load(Relaxed), 1);
    }
    // Stuck: no progress for a while.
    let before: Vec<u64> = recs
        .iter()
        .map(|m| m.rec().header.progress.load(Acquire))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let after: Vec<u64> = recs
        .iter()
        .map(|m| m.rec().header.progress.load(Acquire))
        .collect();
    assert_eq!(before, after);
    for m in recs {
        assert_eq!(state(m.rec()), RankState::InCall);
        assert_eq!(
            calls(m.rec(), cell.max(0) as usize, Func::Send),
            1,
            "counted as MPI_Send"
        );
        assert_eq!(calls(m.rec(), cell.max(0) as usize, Func::Ssend), 0);
    }
}

#[test]
fn zero_buffer_turns_buffered_exchange_into_deadlock() {
    let exe = compile("exchange", EXCHANGE);
    let _lock = lock();

    // Standard mode: the library buffers the small messages and the exchange completes.
    let dir = trace_dir("exchange_standard", 2);
    let mut job = launch(&exe, &[], 2, Some(&dir), &[]);
    assert!(job.wait(FINISH).success(), "job failed: {}", job.output());
    for m in records(&dir, 2) {
        assert_eq!(state(m.rec()), RankState::Finalized);
        assert_eq!(calls(m.rec(), 0, Func::Send), 1);
    }

    // Program scope, MPI_GRADE_ZERO_BUFFER=1.
    let dir = trace_dir("exchange_zero_env", 2);
    let mut job = launch(&exe, &[], 2, Some(&dir), &[("MPI_GRADE_ZERO_BUFFER", "1")]);
    assert_send_deadlock(&records(&dir, 2), 0);
    job.kill();

    // The same, waiting politely: the synchronous send is started and tested, and never
    // completes either.
    let dir = trace_dir("exchange_zero_polite", 2);
    let mut job = launch(
        &exe,
        &[],
        2,
        Some(&dir),
        &[("MPI_GRADE_ZERO_BUFFER", "1"), (POLITE, "1")],
    );
    assert_send_deadlock(&records(&dir, 2), 0);
    job.kill();

    // And politely in standard mode, the buffered exchange completes.
    let dir = trace_dir("exchange_standard_polite", 2);
    let mut job = launch(&exe, &[], 2, Some(&dir), &[(POLITE, "1")]);
    assert!(job.wait(FINISH).success(), "job failed: {}", job.output());

    // Marked scope, zero buffer from the cell's Pcontrol level. The tracer deletes its record
    // file there: map the records first, as the grader does.
    let (recs, mut job) = marked(&exe, "exchange_zero_marked", pcontrol::enter(0, true));
    assert_send_deadlock(&recs, 0);
    assert_eq!(
        polls_over(&recs, Duration::from_millis(200)),
        [0, 0],
        "not polite"
    );
    job.kill();

    // Marked scope, a cell whose time is not reported: its sends wait politely, and every
    // failed test is counted (what the grader's detector counts rounds of).
    let level = pcontrol::enter_with(pcontrol::Entry {
        cell: 0,
        zero_buffer: true,
        polite: true,
    });
    let (recs, mut job) = marked(&exe, "exchange_zero_marked_polite", level);
    assert_send_deadlock(&recs, 0);
    for (r, polls) in polls_over(&recs, Duration::from_millis(200))
        .iter()
        .enumerate()
    {
        assert!(*polls > 0, "rank {r} tests its send");
    }
    job.kill();
}

/// `exe` on 2 ranks in marked scope, given the `MPI_Pcontrol` level to enter with: its
/// records, mapped before the launch (the tracer deletes the files there), and the job.
fn marked(exe: &std::path::Path, name: &str, level: i32) -> (Vec<Mapped>, Job) {
    let dir = trace_dir(name, 2);
    let recs = records(&dir, 2);
    let level = level.to_string();
    let job = launch(
        exe,
        &[&level],
        2,
        Some(&dir),
        &[("MPI_GRADE_TRACE_SCOPE", "marked")],
    );
    (recs, job)
}

/// How many failed polite tests each rank makes in `window`.
fn polls_over(recs: &[Mapped], window: Duration) -> Vec<u64> {
    let polls = || -> Vec<u64> {
        recs.iter()
            .map(|m| m.rec().header.polls.load(Acquire))
            .collect()
    };
    let before = polls();
    std::thread::sleep(window);
    polls().iter().zip(before).map(|(a, b)| a - b).collect()
}

const PROC_NULL_AND_ANY: &str = r#"
#include <mpi.h>
#include <unistd.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, x;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm rev;
    MPI_Comm_split(MPI_COMM_WORLD, 0, -rank, &rev);   /* reversed ranks */
    if (rank == 0) {
        MPI_Sendrecv(&x, 1, MPI_INT, MPI_PROC_NULL, 1, &x, 1, MPI_INT, 0, MPI_ANY_TAG, rev,
                     MPI_STATUS_IGNORE);
    } else if (rank == 1) {
        MPI_Recv(&x, 1, MPI_INT, MPI_ANY_SOURCE, 8, rev, MPI_STATUS_IGNORE);
    } else for (;;) sleep(1);
    MPI_Finalize();
    return 0;
}
"#;

#[test]
fn peers_are_world_ranks() {
    let exe = compile("peers", PROC_NULL_AND_ANY);
    let dir = trace_dir("peers", 3);
    let _lock = lock();
    let mut job = launch(&exe, &[], 3, Some(&dir), &[]);
    let recs = records(&dir, 3);
    for m in &recs[..2] {
        let rec = m.rec();
        wait_for(BLOCK, "ranks 0 and 1 blocked", || {
            rec.is_initialised()
                && state(rec) == RankState::InCall
                && current_call(rec).func != Some(Func::CommSplit)
        });
    }
    let c0 = current_call(recs[0].rec());
    let split_id = c0.waits[0].comm;
    assert!(split_id > 1);
    let brief: Vec<(WaitKind, i32, i32)> =
        c0.waits.iter().map(|w| (w.kind, w.peer, w.tag)).collect();
    // Rank 0 of the reversed communicator is world rank 2.
    assert_eq!(
        brief,
        [(WaitKind::Send, PROC_NULL, 1), (WaitKind::Recv, 2, -1)]
    );
    let c1 = current_call(recs[1].rec());
    assert_eq!(c1.func, Some(Func::Recv));
    assert_eq!(
        (c1.waits[0].peer, c1.waits[0].tag, c1.waits[0].comm),
        (-1, 8, split_id)
    );
    job.kill();
}

const EVERYTHING: &str = r#"
#include <mpi.h>
#include <stddef.h>
#define W MPI_COMM_WORLD
static char bsend_buffer[4096];
int main(int argc, char **argv) {
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SINGLE, &provided);
    int rank, size;
    MPI_Comm_rank(W, &rank);
    MPI_Comm_size(W, &size);
    int peer = 1 - rank, a = rank, b = -1, flag, idx, cnt, idxs[2];
    MPI_Status st;
    MPI_Request r[2];
    MPI_Message m;
    MPI_Buffer_attach(bsend_buffer, sizeof bsend_buffer);

    if (rank == 0) {
        MPI_Send(&a, 1, MPI_INT, 1, 1, W);
        MPI_Ssend(&a, 1, MPI_INT, 1, 2, W);
        MPI_Bsend(&a, 1, MPI_INT, 1, 3, W);
        MPI_Barrier(W);
        MPI_Rsend(&a, 1, MPI_INT, 1, 4, W);
    } else {
        MPI_Recv(&b, 1, MPI_INT, 0, 1, W, &st);
        MPI_Probe(0, 2, W, &st);
        MPI_Recv(&b, 1, MPI_INT, 0, 2, W, &st);
        MPI_Mprobe(0, 3, W, &m, &st);
        MPI_Mrecv(&b, 1, MPI_INT, &m, &st);
        MPI_Irecv(&b, 1, MPI_INT, 0, 4, W, &r[0]);
        MPI_Barrier(W);
        MPI_Wait(&r[0], &st);
    }
    MPI_Sendrecv(&a, 1, MPI_INT, peer, 5, &b, 1, MPI_INT, peer, 5, W, &st);
    MPI_Sendrecv_replace(&a, 1, MPI_INT, peer, 6, peer, 6, W, &st);

    MPI_Isend(&a, 1, MPI_INT, peer, 7, W, &r[0]);
    MPI_Irecv(&b, 1, MPI_INT, peer, 7, W, &r[1]);
    MPI_Waitany(2, r, &idx, &st);
    MPI_Waitsome(2, r, &cnt, idxs, MPI_STATUSES_IGNORE);
    MPI_Waitall(2, r, MPI_STATUSES_IGNORE);

    MPI_Issend(&a, 1, MPI_INT, peer, 8, W, &r[0]);
    MPI_Irecv(&b, 1, MPI_INT, peer, 8, W, &r[1]);
    for (flag = 0; !flag;) MPI_Testall(2, r, &flag, MPI_STATUSES_IGNORE);

    MPI_Ibsend(&a, 1, MPI_INT, peer, 9, W, &r[0]);
    MPI_Irecv(&b, 1, MPI_INT, peer, 9, W, &r[1]);
    do MPI_Testany(2, r, &idx, &flag, &st); while (!(flag && idx == MPI_UNDEFINED));

    MPI_Irecv(&b, 1, MPI_INT, peer, 10, W, &r[1]);
    MPI_Barrier(W);
    MPI_Irsend(&a, 1, MPI_INT, peer, 10, W, &r[0]);
    for (int done = 0; done < 2;) {
        MPI_Testsome(2, r, &cnt, idxs, MPI_STATUSES_IGNORE);
        if (cnt == MPI_UNDEFINED) break;
        done += cnt;
    }

    MPI_Isend(&a, 1, MPI_INT, peer, 11, W, &r[0]);
    for (flag = 0; !flag;) MPI_Iprobe(peer, 11, W, &flag, &st);
    MPI_Recv(&b, 1, MPI_INT, peer, 11, W, &st);
    for (flag = 0; !flag;) MPI_Test(&r[0], &flag, &st);
    MPI_Isend(&a, 1, MPI_INT, peer, 12, W, &r[0]);
    for (flag = 0; !flag;) MPI_Improbe(peer, 12, W, &flag, &m, &st);
    MPI_Imrecv(&b, 1, MPI_INT, &m, &r[1]);
    MPI_Waitall(2, r, MPI_STATUSES_IGNORE);

    MPI_Irecv(&b, 1, MPI_INT, peer, 13, W, &r[0]);
    MPI_Cancel(&r[0]);
    MPI_Wait(&r[0], &st);
    MPI_Isend(&a, 1, MPI_INT, peer, 14, W, &r[0]);
    MPI_Request_free(&r[0]);
    MPI_Recv(&b, 1, MPI_INT, peer, 14, W, &st);
    MPI_Barrier(W);

    /* Persistent requests: every kind started, completed and freed. */
    MPI_Request p[2];
    MPI_Send_init(&a, 1, MPI_INT, peer, 15, W, &p[0]);
    MPI_Recv_init(&b, 1, MPI_INT, peer, 15, W, &p[1]);
    MPI_Start(&p[0]);
    MPI_Start(&p[1]);
    MPI_Waitall(2, p, MPI_STATUSES_IGNORE);
    MPI_Request_free(&p[0]);
    MPI_Request_free(&p[1]);
    MPI_Ssend_init(&a, 1, MPI_INT, peer, 16, W, &p[0]);
    MPI_Recv_init(&b, 1, MPI_INT, peer, 16, W, &p[1]);
    MPI_Startall(2, p);
    MPI_Waitall(2, p, MPI_STATUSES_IGNORE);
    MPI_Request_free(&p[0]);
    MPI_Request_free(&p[1]);
    MPI_Bsend_init(&a, 1, MPI_INT, peer, 17, W, &p[0]);
    MPI_Recv_init(&b, 1, MPI_INT, peer, 17, W, &p[1]);
    MPI_Startall(2, p);
    MPI_Waitall(2, p, MPI_STATUSES_IGNORE);
    MPI_Request_free(&p[0]);
    MPI_Request_free(&p[1]);
    MPI_Recv_init(&b, 1, MPI_INT, peer, 18, W, &p[1]);
    MPI_Start(&p[1]);
    MPI_Barrier(W); /* the receive is posted on both sides before the ready send */
    MPI_Rsend_init(&a, 1, MPI_INT, peer, 18, W, &p[0]);
    MPI_Start(&p[0]);
    MPI_Waitall(2, p, MPI_STATUSES_IGNORE);
    MPI_Request_free(&p[0]);
    MPI_Request_free(&p[1]);

    int sc[2] = {1, 1}, dp[2] = {0, 1}, bd[2] = {0, sizeof(int)}, ib[2] = {0, 1}, ob[2];
    MPI_Datatype ts[2] = {MPI_INT, MPI_INT};
    MPI_Bcast(&a, 1, MPI_INT, 0, W);
    MPI_Reduce(&a, &b, 1, MPI_INT, MPI_SUM, 0, W);
    MPI_Allreduce(&a, &b, 1, MPI_INT, MPI_SUM, W);
    MPI_Gather(&a, 1, MPI_INT, ob, 1, MPI_INT, 0, W);
    MPI_Gatherv(&a, 1, MPI_INT, ob, sc, dp, MPI_INT, 0, W);
    MPI_Scatter(ib, 1, MPI_INT, &b, 1, MPI_INT, 0, W);
    MPI_Scatterv(ib, sc, dp, MPI_INT, &b, 1, MPI_INT, 0, W);
    MPI_Allgather(&a, 1, MPI_INT, ob, 1, MPI_INT, W);
    MPI_Allgatherv(&a, 1, MPI_INT, ob, sc, dp, MPI_INT, W);
    MPI_Alltoall(ib, 1, MPI_INT, ob, 1, MPI_INT, W);
    MPI_Alltoallv(ib, sc, dp, MPI_INT, ob, sc, dp, MPI_INT, W);
    MPI_Alltoallw(ib, sc, bd, ts, ob, sc, bd, ts, W);
    MPI_Reduce_scatter(ib, &b, sc, MPI_INT, MPI_SUM, W);
    MPI_Reduce_scatter_block(ib, &b, 1, MPI_INT, MPI_SUM, W);
    MPI_Scan(&a, &b, 1, MPI_INT, MPI_SUM, W);
    MPI_Exscan(&a, &b, 1, MPI_INT, MPI_SUM, W);
    /* In place, with the ignored datatypes null: the tracer must not look at them. */
    if (rank == 0) MPI_Gather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ob, 1, MPI_INT, 0, W);
    else MPI_Gather(&a, 1, MPI_INT, NULL, 0, MPI_DATATYPE_NULL, 0, W);
    MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ob, 1, MPI_INT, W);
    MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ob, 1, MPI_INT, W);

    MPI_Request c;
#define NB(call) do { call; MPI_Wait(&c, &st); } while (0)
    NB(MPI_Ibarrier(W, &c));
    NB(MPI_Ibcast(&a, 1, MPI_INT, 0, W, &c));
    NB(MPI_Ireduce(&a, &b, 1, MPI_INT, MPI_SUM, 0, W, &c));
    NB(MPI_Iallreduce(&a, &b, 1, MPI_INT, MPI_SUM, W, &c));
    NB(MPI_Igather(&a, 1, MPI_INT, ob, 1, MPI_INT, 0, W, &c));
    NB(MPI_Igatherv(&a, 1, MPI_INT, ob, sc, dp, MPI_INT, 0, W, &c));
    NB(MPI_Iscatter(ib, 1, MPI_INT, &b, 1, MPI_INT, 0, W, &c));
    NB(MPI_Iscatterv(ib, sc, dp, MPI_INT, &b, 1, MPI_INT, 0, W, &c));
    NB(MPI_Iallgather(&a, 1, MPI_INT, ob, 1, MPI_INT, W, &c));
    NB(MPI_Iallgatherv(&a, 1, MPI_INT, ob, sc, dp, MPI_INT, W, &c));
    NB(MPI_Ialltoall(ib, 1, MPI_INT, ob, 1, MPI_INT, W, &c));
    NB(MPI_Ialltoallv(ib, sc, dp, MPI_INT, ob, sc, dp, MPI_INT, W, &c));
    NB(MPI_Ialltoallw(ib, sc, bd, ts, ob, sc, bd, ts, W, &c));
    NB(MPI_Ireduce_scatter(ib, &b, sc, MPI_INT, MPI_SUM, W, &c));
    NB(MPI_Ireduce_scatter_block(ib, &b, 1, MPI_INT, MPI_SUM, W, &c));
    NB(MPI_Iscan(&a, &b, 1, MPI_INT, MPI_SUM, W, &c));
    NB(MPI_Iexscan(&a, &b, 1, MPI_INT, MPI_SUM, W, &c));

    MPI_Comm d1, d2, s1, s2, c1, c2, cart, sub;
    MPI_Group wg;
    MPI_Comm_group(W, &wg);
    MPI_Comm_dup(W, &d1);
    MPI_Comm_dup_with_info(W, MPI_INFO_NULL, &d2);
    MPI_Comm_split(W, 0, rank, &s1);
    MPI_Comm_split_type(W, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &s2);
    MPI_Comm_create(W, wg, &c1);
    MPI_Comm_create_group(W, wg, 77, &c2);
    int dims[1] = {size}, periods[1] = {0}, remain[1] = {1};
    MPI_Cart_create(W, 1, dims, periods, 0, &cart);
    MPI_Cart_sub(cart, remain, &sub);
    MPI_Barrier(c2);
    MPI_Barrier(sub);
    MPI_Comm_free(&d1);
    MPI_Comm_free(&d2);
    MPI_Comm_free(&s1);
    MPI_Comm_free(&c1);
    MPI_Group_free(&wg);
    int detached_size;
    void *detached;
    MPI_Buffer_detach(&detached, &detached_size);
    MPI_Finalize();   /* s2, c2, cart and sub stay in the table for inspection */
    return 0;
}
"#;

#[test]
fn every_function_is_wrapped() {
    check_every_function("everything", EVERYTHING);
}

/// The same program calling every traced function (and `MPI_Init`, so the tracer is activated
/// by `PMPI_Init`) by its `PMPI_` name: every one is exported by the tracer and counted.
#[test]
fn every_pmpi_twin_is_exported_and_traced() {
    check_every_function("everything_pmpi", &via_pmpi(EVERYTHING));
}

/// Polite waiting: every blocking call run as its non-blocking twin and tested until done
/// completes, with the same records (calls, requests, communicators).
#[test]
fn every_function_completes_and_counts_the_same_politely() {
    check_every_function_with("everything_polite", EVERYTHING, &[(POLITE, "1")]);
}

/// Runs a program that calls every traced function at least once and checks the records.
fn check_every_function(name: &str, source: &str) {
    check_every_function_with(name, source, &[]);
}

fn check_every_function_with(name: &str, source: &str, env: &[(&str, &str)]) {
    let exe = compile(name, source);
    let dir = trace_dir(name, 2);
    let _lock = lock();
    let mut job = launch(&exe, &[], 2, Some(&dir), env);
    let status = job.wait(FINISH);
    assert!(status.success(), "job failed: {}", job.output());
    let recs = records(&dir, 2);
    let polite = env.contains(&(POLITE, "1"));
    for m in &recs {
        assert_eq!(m.rec().header.polite.load(Relaxed), u32::from(polite));
    }
    for f in Func::ALL {
        let n: u64 = recs.iter().map(|m| calls(m.rec(), 0, f)).sum();
        match f {
            Func::Init | Func::Abort | Func::Pcontrol => assert_eq!(n, 0, "{}", f.name()),
            _ => assert!(n >= 1, "{} was not seen", f.name()),
        }
    }
    let mut tables = Vec::new();
    for m in &recs {
        let rec = m.rec();
        assert_eq!(state(rec), RankState::Finalized);
        assert_eq!(rec.header.requests_overflowed.load(Relaxed), 0);
        assert_eq!(rec.header.comms_overflowed.load(Relaxed), 0);
        assert!(
            rec.requests.iter().all(|e| e.handle.load(Relaxed) == 0),
            "every request completed or was freed"
        );
        // world, self, split_type, create_group, cart, cart_sub.
        let ids: Vec<u64> = rec
            .comms
            .iter()
            .filter(|e| e.handle.load(Relaxed) != 0)
            .map(|e| e.id.load(Relaxed))
            .collect();
        assert_eq!(ids.len(), 6, "{ids:?}");
        assert!(ids.iter().all(|&id| id != 0), "all known: {ids:?}");
        tables.push(ids);
    }
    // The same communicators have the same ids on both ranks (except self).
    for (i, (a, b)) in tables[0].iter().zip(&tables[1]).enumerate() {
        if i == 1 {
            assert_ne!(a, b, "self");
        } else {
            assert_eq!(a, b, "communicator {i}");
        }
    }
    let mut unique = tables[0].clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 6, "distinct communicators have distinct ids");
}

const ABORT: &str = r#"
#include <mpi.h>
#include <unistd.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) MPI_Abort(MPI_COMM_WORLD, 3);
    for (;;) sleep(1);
}
"#;

#[test]
fn abort_is_recorded() {
    let exe = compile("abort", ABORT);
    let dir = trace_dir("abort", 2);
    let _lock = lock();
    let mut job = launch(&exe, &[], 2, Some(&dir), &[]);
    let status = job.wait(FINISH);
    assert!(!status.success());
    let recs = records(&dir, 2);
    let rec = recs[0].rec();
    assert_eq!(state(rec), RankState::Aborted);
    assert_eq!(rec.header.exit_code.load(Relaxed), 3);
    assert_eq!(calls(rec, 0, Func::Abort), 1);
}

const EXIT: &str = r#"
#include <mpi.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 1) exit(3);
    for (;;) sleep(1);
}
"#;

/// A rank that calls exit() without finalising records that it ended itself, with its status;
/// the ranks the launcher kills afterwards record nothing of the kind.
#[test]
fn an_exit_without_finalize_is_recorded_by_the_rank_that_exited() {
    let exe = compile("exit", EXIT);
    let dir = trace_dir("exit", 2);
    let _lock = lock();
    let mut job = launch(&exe, &[], 2, Some(&dir), &[]);
    let status = job.wait(FINISH);
    assert!(!status.success());
    let recs = records(&dir, 2);
    let exited = recs[1].rec();
    assert_eq!(state(exited), RankState::Exited);
    assert_eq!(exited.header.exit_code.load(Relaxed), 3);
    assert_ne!(
        state(recs[0].rec()),
        RankState::Exited,
        "rank 0 was killed, it did not exit"
    );
}

/// `source` calling the `PMPI_` twin of every function the tracer traces (and of
/// `MPI_Cart_sub`), as a program can that tries to get past the tracer.
fn via_pmpi(source: &str) -> String {
    let include = "#include <mpi.h>\n";
    assert!(source.contains(include));
    let mut defines = String::from(include);
    for name in Func::ALL.iter().map(|f| f.name()).chain(["MPI_Cart_sub"]) {
        defines.push_str(&format!("#define {name} P{name}\n"));
    }
    source.replacen(include, &defines, 1)
}

/// What a rank's record says about cell 0: per function (calls, bytes), the bytes sent to
/// other ranks, the marks, and the collective count of the world communicator.
fn cell0(
    rec: &mpi_grade_protocol::trace::Record,
) -> (Vec<(&'static str, u64, u64)>, u64, u64, u64) {
    let funcs = Func::ALL
        .iter()
        .map(|&f| (f.name(), calls(rec, 0, f), bytes(rec, 0, f)))
        .collect();
    let c = &rec.cells[0];
    (
        funcs,
        c.sent_to_others.load(Relaxed),
        c.marks.load(Relaxed),
        rec.comms[0].coll_count.load(Relaxed),
    )
}

/// Runs a 2-rank program in program scope; returns its records.
fn run_counts(name: &str, source: &str) -> (std::path::PathBuf, Vec<Mapped>) {
    let exe = compile(name, source);
    let dir = trace_dir(name, 2);
    let _lock = lock();
    let mut job = launch(&exe, &[], 2, Some(&dir), &[]);
    let status = job.wait(FINISH);
    assert!(status.success(), "job failed: {}", job.output());
    (exe, records(&dir, 2))
}

/// A program that calls `PMPI_Alltoall`, `PMPI_Send`... instead of the `MPI_` names is traced
/// exactly like the same program with the `MPI_` names: every call once (not zero times, as a
/// tracer of the `MPI_` names only would count, and not twice when the library's own `MPI_X`
/// reaches `PMPI_X`), with the same bytes, traffic and collective numbers, and call sites in the
/// program's code. And the `MPI_` version counts each call once.
#[test]
fn direct_pmpi_calls_count_once_like_mpi_calls() {
    let (_, plain) = run_counts("counts_mpi", COUNTS);
    let (exe, direct) = run_counts("counts_pmpi", &via_pmpi(COUNTS));
    for r in 0..2 {
        let (p, d) = (plain[r].rec(), direct[r].rec());
        // Polls: as many as the library needed, at least one in both.
        for rec in [p, d] {
            assert!(calls(rec, 0, Func::Test) >= 1, "rank {r}");
            rec.cells[0].funcs[Func::Test as usize]
                .calls
                .store(1, Relaxed);
        }
        let (pf, ps, pm, pc) = cell0(p);
        let (df, ds, dm, dc) = cell0(d);
        for (a, b) in pf.iter().zip(&df) {
            assert_eq!(
                a, b,
                "rank {r}: (function, calls, bytes), MPI_ then PMPI_ names"
            );
        }
        assert_eq!(
            (ps, pm, pc),
            (ds, dm, dc),
            "rank {r}: traffic, marks, collectives"
        );
        for (f, n) in [
            (Func::Alltoall, 1),
            (Func::Allreduce, 1),
            (Func::Iallreduce, 1),
            (Func::Barrier, 1),
            (Func::Sendrecv, 1),
            (Func::Waitall, 1),
            (Func::Finalize, 1),
        ] {
            assert_eq!(calls(d, 0, f), n, "rank {r} {}", f.name());
        }
        assert_eq!(state(d), RankState::Finalized, "PMPI_Finalize was traced");
    }
    assert_eq!(calls(direct[0].rec(), 0, Func::Send), 4);
    assert_eq!(calls(direct[1].rec(), 0, Func::Recv), 3);
    // The call site of the first PMPI_Send is the program's, not the tracer's export.
    let r0 = direct[0].rec();
    let nsites = r0.header.nsites.load(Acquire) as usize;
    let site = r0.sites[..nsites]
        .iter()
        .find(|s| s.func.load(Relaxed) == Func::Send as u32)
        .expect("a call site of PMPI_Send");
    let depth = site.depth.load(Relaxed) as usize;
    let ips: Vec<u64> = site.ips[..depth].iter().map(|a| a.load(Relaxed)).collect();
    let names = symbolise(&exe, r0, &ips);
    assert_eq!(names[0], "main", "innermost frame: {names:?}");
}

/// In marked scope, a student's `PMPI_Pcontrol(0)` before a `PMPI_Alltoall` hides nothing
/// more than `MPI_Pcontrol(0)` does: both show as extra marks.
#[test]
fn a_students_pmpi_pcontrol_shows_as_extra_marks() {
    let source = via_pmpi(PCONTROL_BYPASS);
    let exe = compile("pcontrol_bypass_pmpi", &source);
    let dir = trace_dir("pcontrol_bypass_pmpi", 2);
    let recs = records(&dir, 2);
    let _lock = lock();
    let mut job = launch(
        &exe,
        &[],
        2,
        Some(&dir),
        &[("MPI_GRADE_TRACE_SCOPE", "marked")],
    );
    let status = job.wait(FINISH);
    assert!(status.success(), "job failed: {}", job.output());
    for m in &recs {
        let rec = m.rec();
        assert_eq!(rec.cells[0].marks.load(Relaxed), 4);
        assert_eq!(calls(rec, 0, Func::Sendrecv), 1);
    }
}

const MATCHING: &str = r#"
#include <mpi.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int x[4] = {0}, y[8];
    double d = 1, e;
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Bcast(x, 4, MPI_INT, 1, MPI_COMM_WORLD);
    /* Different operations on the two ranks: no library notices. */
    MPI_Allreduce(&d, &e, 1, MPI_DOUBLE, rank == 0 ? MPI_SUM : MPI_MAX, MPI_COMM_WORLD);
    MPI_Allgather(x, 4, MPI_INT, y, 4, MPI_INT, MPI_COMM_WORLD);
    MPI_Finalize();
    return 0;
}
"#;

/// Every collective on a communicator is noted in its ring: the function, the root, the
/// reduction operation (by a number that is the same on every rank, whatever the library's
/// handles) and the bytes of the type signature.
#[test]
fn collectives_are_noted_for_matching() {
    use mpi_grade_protocol::trace::{COLL_RING, NO_OP, NO_ROOT, OP_NAMES};
    let (_, recs) = run_counts("matching", MATCHING);
    let ring = |r: usize| -> Vec<(u64, Func, i32, u32, u64)> {
        let world = &recs[r].rec().comms[0];
        (1..=4u64)
            .map(|seq| {
                let e = &world.recent[(seq % COLL_RING as u64) as usize];
                assert_eq!(e.seq.load(Acquire), seq);
                (
                    seq,
                    Func::from_index(e.func.load(Relaxed) - 1).unwrap(),
                    e.root.load(Relaxed),
                    e.op.load(Relaxed),
                    e.sig.load(Relaxed),
                )
            })
            .collect()
    };
    let op = |name: &str| OP_NAMES.iter().position(|&n| n == name).unwrap() as u32 + 1;
    for (r, reduce_op) in [(0, op("MPI_SUM")), (1, op("MPI_MAX"))] {
        assert_eq!(
            ring(r),
            vec![
                (1, Func::Barrier, NO_ROOT, NO_OP, 0),
                (2, Func::Bcast, 1, NO_OP, 16),
                (3, Func::Allreduce, NO_ROOT, reduce_op, 8),
                (4, Func::Allgather, NO_ROOT, NO_OP, 16),
            ],
            "rank {r}"
        );
    }
    // The cell's signature: the same four collectives on the world, alike on both ranks.
    let sig = |r: usize| {
        let c = &recs[r].rec().cells[0];
        (c.colls.load(Relaxed), c.coll_sig.load(Relaxed))
    };
    assert_eq!(sig(0).0, 4);
    assert_ne!(sig(0).1, 0);
    assert_eq!(sig(0), sig(1));
}
