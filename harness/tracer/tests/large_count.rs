//! The MPI-4 large-count calls (`MPI_Send_c`, `MPI_Alltoall_c`...), which mpi4py built
//! against MPICH 4 calls instead of the int-count ones: traced exactly like their twins.
//!
//! Only where the library has them (MPICH 4; Open MPI 4.1 has none): on another library every
//! test says it is skipped and passes.

mod support;

use mpi_grade_protocol::trace::{Func, RankState, WaitKind};
use std::io::Write;
use std::sync::atomic::Ordering::*;
use std::time::Duration;
use support::*;

const FINISH: Duration = Duration::from_secs(60);
const BLOCK: Duration = Duration::from_secs(30);

/// Whether the tracer under test has the large-count wrappers; says so when it has not.
fn large_count_or_skip(test: &str) -> bool {
    if cfg!(mpi_large_count) {
        return true;
    }
    // Straight to stderr, past the test harness's capture of `eprintln!`: seen in every run.
    let _ = writeln!(
        std::io::stderr(),
        "{test}: skipped: the MPI library of this build ({:?}) has no large-count (_c) functions",
        Impl::of_build()
    );
    false
}

/// One program, written once: `C(MPI_Send)` is `MPI_Send_c` and `Count`/`Disp` are
/// `MPI_Count`/`MPI_Aint` in the large-count version, `MPI_Send` and `int` in the other.
const TEMPLATE: &str = r#"
#include <mpi.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int peer = 1 - rank, x[4] = {0}, s = rank, r = -1;
    for (int i = 0; i < 3; i++) {
        if (rank == 0) C(MPI_Send)(x, 4, MPI_INT, 1, 7, MPI_COMM_WORLD);
        else C(MPI_Recv)(x, 4, MPI_INT, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    MPI_Request reqs[2];
    C(MPI_Irecv)(&r, 1, MPI_INT, peer, 3, MPI_COMM_WORLD, &reqs[0]);
    C(MPI_Isend)(&s, 1, MPI_INT, peer, 3, MPI_COMM_WORLD, &reqs[1]);
    MPI_Wait(&reqs[0], MPI_STATUS_IGNORE);
    MPI_Wait(&reqs[1], MPI_STATUS_IGNORE);
    if (r != peer) abort();
    C(MPI_Send_init)(&s, 1, MPI_INT, peer, 4, MPI_COMM_WORLD, &reqs[0]);
    C(MPI_Recv_init)(&r, 1, MPI_INT, peer, 4, MPI_COMM_WORLD, &reqs[1]);
    MPI_Startall(2, reqs);
    MPI_Waitall(2, reqs, MPI_STATUSES_IGNORE);
    MPI_Request_free(&reqs[0]);
    MPI_Request_free(&reqs[1]);
    long sb[16] = {0}, rb[16];
    C(MPI_Alltoall)(sb, 8, MPI_LONG, rb, 8, MPI_LONG, MPI_COMM_WORLD);
    double v = 1, sum = 0;
    C(MPI_Allreduce)(&v, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    if (sum != size) abort();
    /* The v forms: count and displacement arrays. */
    Count counts[2] = {3, 5}, rcounts[2] = {3 + rank * 2, 3 + rank * 2};
    Disp displs[2] = {0, 3}, rdispls[2] = {0, 5};
    int vs[8] = {0, 1, 2, 3, 4, 5, 6, 7}, vr[10] = {0};
    C(MPI_Alltoallv)(vs, counts, displs, MPI_INT, vr, rcounts, rdispls, MPI_INT, MPI_COMM_WORLD);
    if (vr[0] != (rank == 0 ? 0 : 3) || vr[5] != (rank == 0 ? 0 : 3)) abort();
    Count gcounts[2] = {2, 1};
    Disp gdispls[2] = {0, 2};
    int gs[2] = {rank, rank}, gr[3] = {-1, -1, -1};
    C(MPI_Gatherv)(gs, rank == 0 ? 2 : 1, MPI_INT, gr, gcounts, gdispls, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0 && (gr[0] != 0 || gr[2] != 1)) abort();
    MPI_Finalize();
    return 0;
}
"#;

/// The template as the large-count (`true`) or the int-count program.
fn program(large: bool) -> String {
    let defs = if large {
        "#define C(f) f##_c\ntypedef MPI_Count Count;\ntypedef MPI_Aint Disp;\n"
    } else {
        "#define C(f) f\ntypedef int Count;\ntypedef int Disp;\n"
    };
    TEMPLATE.replacen(
        "#include <stdlib.h>\n",
        &format!("#include <stdlib.h>\n{defs}"),
        1,
    )
}

/// Runs a 2-rank program in program scope; returns its records.
fn run(name: &str, source: &str) -> Vec<Mapped> {
    let exe = compile(name, source);
    let dir = trace_dir(name, 2);
    let _lock = lock();
    let mut job = launch(&exe, &[], 2, Some(&dir), &[]);
    let status = job.wait(FINISH);
    assert!(status.success(), "job failed: {}", job.output());
    records(&dir, 2)
}

/// Per function (name, calls, bytes) of cell 0, the bytes sent to other ranks and the number
/// of collectives on the world communicator.
fn cell0(rec: &mpi_grade_protocol::trace::Record) -> (Vec<(&'static str, u64, u64)>, u64, u64) {
    let funcs = Func::ALL
        .iter()
        .map(|&f| (f.name(), calls(rec, 0, f), bytes(rec, 0, f)))
        .collect();
    (
        funcs,
        rec.cells[0].sent_to_others.load(Relaxed),
        rec.comms[0].coll_count.load(Relaxed),
    )
}

/// `MPI_Send_c`, `MPI_Recv_c`, `MPI_Isend_c`/`MPI_Irecv_c` with `MPI_Wait`, the persistent
/// `MPI_Send_init_c`/`MPI_Recv_init_c`,
/// `MPI_Alltoall_c`, `MPI_Allreduce_c`, `MPI_Alltoallv_c`, `MPI_Gatherv_c` leave the record
/// the int-count program leaves: the same calls, bytes, traffic and collective numbers.
#[test]
fn large_count_calls_count_like_their_int_twins() {
    if !large_count_or_skip("large_count_calls_count_like_their_int_twins") {
        return;
    }
    let plain = run("large_count_int", &program(false));
    let large = run("large_count_c", &program(true));
    for r in 0..2 {
        let (p, l) = (plain[r].rec(), large[r].rec());
        assert_eq!(state(l), RankState::Finalized, "rank {r}");
        let (pf, ps, pc) = cell0(p);
        let (lf, ls, lc) = cell0(l);
        for (a, b) in pf.iter().zip(&lf) {
            assert_eq!(a, b, "rank {r}: (function, calls, bytes), int then _c");
        }
        assert_eq!((ps, pc), (ls, lc), "rank {r}: traffic, collectives");
        // And not because both saw nothing.
        for (f, n, b) in [
            (Func::Isend, 1, 4),
            (Func::Irecv, 1, 4),
            (Func::Wait, 2, 0),
            (Func::SendInit, 1, 4),
            (Func::RecvInit, 1, 4),
            (Func::Alltoall, 1, 8 * 8 * 2),
            (Func::Allreduce, 1, 8),
            (Func::Alltoallv, 1, 8 * 4),
            (Func::Gatherv, 1, if r == 0 { 8 } else { 4 }),
        ] {
            assert_eq!(
                (calls(l, 0, f), bytes(l, 0, f)),
                (n, b),
                "rank {r} {}",
                f.name()
            );
        }
        assert_eq!(lc, 4, "rank {r}: Alltoall, Allreduce, Alltoallv, Gatherv");
        assert!(l.requests.iter().all(|e| e.handle.load(Relaxed) == 0));
    }
    let (l0, l1) = (large[0].rec(), large[1].rec());
    assert_eq!(
        (calls(l0, 0, Func::Send), bytes(l0, 0, Func::Send)),
        (3, 48)
    );
    assert_eq!(
        (calls(l1, 0, Func::Recv), bytes(l1, 0, Func::Recv)),
        (3, 48)
    );
    assert_eq!(calls(l1, 0, Func::Send), 0);
}

/// A count beyond `INT_MAX` (to `MPI_PROC_NULL`, so that no buffer is needed) takes the
/// library's `MPI_Send_c` untouched, and is still counted as an `MPI_Send` of its bytes; so is
/// a direct call of `PMPI_Send_c`.
#[test]
fn a_count_beyond_int_is_still_counted() {
    if !large_count_or_skip("a_count_beyond_int_is_still_counted") {
        return;
    }
    let source = r#"
#include <mpi.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int x = 0;
    MPI_Send_c(&x, (MPI_Count)3000000000, MPI_LONG, MPI_PROC_NULL, 0, MPI_COMM_WORLD);
    PMPI_Send_c(&x, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return 0;
}
"#;
    let recs = run("large_count_beyond_int", source);
    for (r, m) in recs.iter().enumerate() {
        let rec = m.rec();
        assert_eq!(state(rec), RankState::Finalized, "rank {r}");
        assert_eq!(
            (calls(rec, 0, Func::Send), bytes(rec, 0, Func::Send)),
            (2, 3_000_000_000 * 8 + 4),
            "rank {r}"
        );
        assert_eq!(current_call(rec).func, None, "rank {r}");
    }
}

/// Both ranks blocked in a send to the other: what the record shows.
fn assert_send_deadlock(recs: &[Mapped], zero_buffer: u32) {
    for (r, m) in recs.iter().enumerate() {
        let rec = m.rec();
        wait_for(BLOCK, "a rank blocked in MPI_Send_c", || {
            rec.is_initialised() && state(rec) == RankState::InCall
        });
        let call = current_call(rec);
        assert_eq!(call.func, Some(Func::Send), "rank {r}");
        assert_eq!(call.waits.len(), 1, "rank {r}");
        assert_eq!(call.waits[0].kind, WaitKind::Send, "rank {r}");
        assert_eq!(call.waits[0].peer, 1 - r as i32, "rank {r}");
        assert_eq!(
            rec.header.zero_buffer.load(Relaxed),
            zero_buffer,
            "rank {r}"
        );
        assert_eq!(
            calls(rec, 0, Func::Send),
            1,
            "rank {r}: counted as MPI_Send"
        );
        assert_eq!(calls(rec, 0, Func::Ssend), 0, "rank {r}");
    }
    // Stuck: the wait above saw both blocked; neither completes anything meanwhile.
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
    }
}

/// Each rank sends `COUNT` longs to the other with `MPI_Send_c`, then receives.
const EXCHANGE_C: &str = r#"
#include <mpi.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long *s = calloc(COUNT, sizeof(long)), *r = calloc(COUNT, sizeof(long));
    MPI_Send_c(s, COUNT, MPI_LONG, 1 - rank, 0, MPI_COMM_WORLD);
    MPI_Recv_c(r, COUNT, MPI_LONG, 1 - rank, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Finalize();
    return 0;
}
"#;

fn exchange(count: u32) -> String {
    EXCHANGE_C.replacen(
        "#include <stdlib.h>\n",
        &format!("#include <stdlib.h>\n#define COUNT {count}\n"),
        1,
    )
}

/// Two ranks `MPI_Send_c` 100 000 longs to each other (more than the library buffers): both
/// show as blocked in `MPI_Send`, each waiting to send to the other: the grader's deadlock.
#[test]
fn large_count_send_deadlock_is_visible() {
    if !large_count_or_skip("large_count_send_deadlock_is_visible") {
        return;
    }
    let exe = compile("large_count_deadlock", &exchange(100_000));
    let dir = trace_dir("large_count_deadlock", 2);
    let _lock = lock();
    let mut job = launch(&exe, &[], 2, Some(&dir), &[]);
    let recs = records(&dir, 2);
    assert_send_deadlock(&recs, 0);
    for m in &recs {
        assert_eq!(bytes(m.rec(), 0, Func::Send), 800_000);
    }
    job.kill();
}

/// Zero-buffer mode makes an `MPI_Send_c` synchronous, as it does an `MPI_Send`: the exchange
/// of one long completes in standard mode and deadlocks in zero-buffer mode.
#[test]
fn zero_buffer_makes_send_c_synchronous() {
    if !large_count_or_skip("zero_buffer_makes_send_c_synchronous") {
        return;
    }
    let exe = compile("large_count_exchange", &exchange(1));
    let _lock = lock();

    let dir = trace_dir("large_count_exchange_standard", 2);
    let mut job = launch(&exe, &[], 2, Some(&dir), &[]);
    assert!(job.wait(FINISH).success(), "job failed: {}", job.output());
    for m in records(&dir, 2) {
        assert_eq!(state(m.rec()), RankState::Finalized);
        assert_eq!(calls(m.rec(), 0, Func::Send), 1);
    }

    let dir = trace_dir("large_count_exchange_zero", 2);
    let mut job = launch(&exe, &[], 2, Some(&dir), &[("MPI_GRADE_ZERO_BUFFER", "1")]);
    assert_send_deadlock(&records(&dir, 2), 1);
    job.kill();
}

/// The dynamic symbols `path` defines.
fn defined_symbols(path: &std::path::Path) -> std::collections::HashSet<String> {
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only", "-P"])
        .arg(path)
        .output()
        .expect("run nm");
    assert!(out.status.success(), "nm {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|name| name.split('@').next().unwrap_or(name).to_string())
        .collect()
}

/// The MPI library the tracer links, as the dynamic loader finds it.
fn mpi_library(tracer: &std::path::Path) -> std::path::PathBuf {
    let out = std::process::Command::new("ldd")
        .arg(tracer)
        .output()
        .expect("run ldd");
    let text = String::from_utf8_lossy(&out.stdout);
    let path = text
        .lines()
        .filter_map(|l| l.trim().split_once(" => "))
        .find(|(name, _)| name.starts_with("libmpi.so") || name.starts_with("libmpich.so"))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no MPI library in ldd {}:\n{text}", tracer.display()));
    std::path::PathBuf::from(path)
}

/// For every traced function, the tracer exports `MPI_X_c` and `PMPI_X_c` exactly when the
/// MPI library has `PMPI_X_c` (on Open MPI 4.1: never; on MPICH 4: for every function with a
/// count argument).
#[test]
fn every_large_count_twin_of_the_library_is_exported() {
    let tracer = tracer_so();
    let ours = defined_symbols(&tracer);
    let library = defined_symbols(&mpi_library(&tracer));
    let mut twins = 0;
    for f in Func::ALL {
        let pmpi = format!("P{}_c", f.name());
        let in_library = library.contains(&pmpi);
        for name in [format!("{}_c", f.name()), pmpi] {
            assert_eq!(
                ours.contains(&name),
                in_library,
                "{name}: exported by the tracer / in the library"
            );
        }
        twins += in_library as usize;
    }
    let expected = if cfg!(mpi_large_count) { 51 } else { 0 };
    assert_eq!(twins, expected, "large-count twins in the library");
}
