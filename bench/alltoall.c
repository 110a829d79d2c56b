/* Raw alltoall timings on contiguous buffers, no Rust and no copies: MPI_Alltoall, and the
 * challenge's part 3 in C (Isend to every rank, Recv from every rank, Waitall), and
 * MPI_Alltoall on buffers allocated afresh for every call (as a function returning new vectors
 * must), to show what page faults in fresh memory cost. For each block size: per repetition the
 * slowest rank's time (after a barrier), the fastest repetition.
 * Usage: alltoall REPETITIONS SIZE... */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static double slowest(double t) {
    double max;
    MPI_Allreduce(&t, &max, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return max;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int reps = atoi(argv[1]);
    for (int a = 2; a < argc; a++) {
        long n = atol(argv[a]);
        long *s = malloc(sizeof(long) * n * size), *r = malloc(sizeof(long) * n * size);
        MPI_Request *req = malloc(sizeof(MPI_Request) * size);
        for (long i = 0; i < n * size; i++) s[i] = i + rank;
        double best_coll = 1e9, best_p2p = 1e9, best_fresh = 1e9;
        for (int k = 0; k < reps; k++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            MPI_Alltoall(s, n, MPI_LONG, r, n, MPI_LONG, MPI_COMM_WORLD);
            double coll = slowest(MPI_Wtime() - t0);
            MPI_Barrier(MPI_COMM_WORLD);
            t0 = MPI_Wtime();
            for (int d = 0; d < size; d++) MPI_Isend(s + d * n, n, MPI_LONG, d, 0, MPI_COMM_WORLD, &req[d]);
            for (int src = 0; src < size; src++)
                MPI_Recv(r + src * n, n, MPI_LONG, src, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Waitall(size, req, MPI_STATUSES_IGNORE);
            double p2p = slowest(MPI_Wtime() - t0);
            MPI_Barrier(MPI_COMM_WORLD);
            t0 = MPI_Wtime();
            long *fs = malloc(sizeof(long) * n * size), *fr = malloc(sizeof(long) * n * size);
            for (long i = 0; i < n * size; i++) fs[i] = s[i];
            MPI_Alltoall(fs, n, MPI_LONG, fr, n, MPI_LONG, MPI_COMM_WORLD);
            free(fs);
            free(fr);
            double fresh = slowest(MPI_Wtime() - t0);
            if (fresh < best_fresh) best_fresh = fresh;
            if (coll < best_coll) best_coll = coll;
            if (p2p < best_p2p) best_p2p = p2p;
        }
        if (rank == 0) printf("%d %ld %.6f %.6f %.6f\n", size, n, best_coll, best_p2p, best_fresh);
        free(s); free(r); free(req);
    }
    MPI_Finalize();
    return 0;
}
