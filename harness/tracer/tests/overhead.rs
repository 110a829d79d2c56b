//! Overhead of the tracer, measured on demand (ignored by default: it takes a while and its
//! numbers only mean something on a quiet machine):
//!
//! ```text
//! cargo test --release -p mpi-grade-tracer --test overhead -- --ignored --nocapture
//! ```
//!
//! Runs the challenge's alltoall (Isend to every rank, Recv from every rank, Waitall), the
//! library's MPI_Alltoall and a ping-pong (pairs of ranks) of 100 000 i64 per block on 4 ranks,
//! a ping-pong of one i64 on 2 ranks, and 2 000 000 sends to `MPI_PROC_NULL` on one rank
//! (the tracer's own cost per call, free of scheduling noise), alternately without and with the tracer preloaded (recording into a trace
//! directory), and prints the best time of each.

mod support;

use std::time::Duration;
use support::*;

const BENCH: &str = r#"
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int iters = atoi(argv[2]);
    double t0, t;
    if (strcmp(argv[1], "alltoall") == 0) {
        long n = 100000;
        long *s = malloc(sizeof(long) * n * size), *r = malloc(sizeof(long) * n * size);
        for (long i = 0; i < n * size; i++) s[i] = i + rank;
        MPI_Alltoall(s, n, MPI_LONG, r, n, MPI_LONG, MPI_COMM_WORLD);
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = MPI_Wtime();
        for (int i = 0; i < iters; i++)
            MPI_Alltoall(s, n, MPI_LONG, r, n, MPI_LONG, MPI_COMM_WORLD);
        MPI_Barrier(MPI_COMM_WORLD);
        t = MPI_Wtime() - t0;
    } else if (strcmp(argv[1], "isend-alltoall") == 0) {
        /* The challenge's part 3: Isend to every rank, blocking Recv from every rank, Waitall:
         * 2n traced calls per rank per iteration instead of one collective. */
        long n = 100000;
        long *s = malloc(sizeof(long) * n * size), *r = malloc(sizeof(long) * n * size);
        MPI_Request *req = malloc(sizeof(MPI_Request) * size);
        for (long i = 0; i < n * size; i++) s[i] = i + rank;
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = MPI_Wtime();
        for (int i = 0; i < iters; i++) {
            for (int d = 0; d < size; d++)
                MPI_Isend(s + d * n, n, MPI_LONG, d, 0, MPI_COMM_WORLD, &req[d]);
            for (int src = 0; src < size; src++)
                MPI_Recv(r + src * n, n, MPI_LONG, src, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Waitall(size, req, MPI_STATUSES_IGNORE);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        t = MPI_Wtime() - t0;
    } else if (strcmp(argv[1], "procnull") == 0) {
        /* The tracer's own cost per call: sends that complete at once. */
        long x = 0;
        t0 = MPI_Wtime();
        for (int i = 0; i < iters; i++)
            MPI_Send(&x, 1, MPI_LONG, MPI_PROC_NULL, 0, MPI_COMM_WORLD);
        t = MPI_Wtime() - t0;
    } else {
        /* Ping-pong between ranks 2k and 2k+1 of argv[3] i64 per message. */
        long n = atol(argv[3]), *x = calloc(n, sizeof(long));
        int peer = rank ^ 1;
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = MPI_Wtime();
        for (int i = 0; i < iters && peer < size; i++) {
            if (rank % 2 == 0) {
                MPI_Send(x, n, MPI_LONG, peer, 0, MPI_COMM_WORLD);
                MPI_Recv(x, n, MPI_LONG, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else {
                MPI_Recv(x, n, MPI_LONG, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                MPI_Send(x, n, MPI_LONG, peer, 0, MPI_COMM_WORLD);
            }
        }
        MPI_Barrier(MPI_COMM_WORLD);
        t = MPI_Wtime() - t0;
    }
    if (rank == 0) printf("seconds %.6f\n", t);
    MPI_Finalize();
    return 0;
}
"#;

fn run(exe: &std::path::Path, args: &[&str], ranks: u32, traced: bool) -> f64 {
    let dir = trace_dir("overhead", ranks);
    let mut job = if traced {
        launch(exe, args, ranks, Some(&dir), &[])
    } else {
        launch_plain(exe, args, ranks)
    };
    assert!(
        job.wait(Duration::from_secs(300)).success(),
        "{}",
        job.output()
    );
    let out = job.output();
    out.lines()
        .find_map(|l| l.strip_prefix("seconds "))
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no time in output: {out}"))
}

/// The same launch without the tracer library.
fn launch_plain(exe: &std::path::Path, args: &[&str], ranks: u32) -> Job {
    launch_with(exe, args, ranks, None, &[], false)
}

#[test]
#[ignore]
fn overhead() {
    let exe = compile("bench", BENCH);
    let _lock = lock();
    let cases: [(&str, u32, &[&str]); 5] = [
        ("procnull", 1, &["procnull", "2000000"]),
        ("isend-alltoall", 4, &["isend-alltoall", "1000"]),
        ("alltoall", 4, &["alltoall", "1000"]),
        ("pingpong", 4, &["pingpong", "2000", "100000"]),
        ("pingpong-1", 2, &["pingpong", "200000", "1"]),
    ];
    for (name, ranks, args) in cases {
        let (mut plain, mut traced) = (f64::MAX, f64::MAX);
        for _ in 0..9 {
            plain = plain.min(run(&exe, args, ranks, false));
            traced = traced.min(run(&exe, args, ranks, true));
        }
        println!(
            "{name} {args:?} on {ranks} ranks: best without tracer {plain:.4} s, with {traced:.4} s, ratio {:.4}",
            traced / plain
        );
    }
}
