/* Exchanges for `mpi-grade run` tests, chosen by the first argument:
 *   send-send   rank 0 and 1 both MPI_Send a large message to each other first: deadlock
 *   recv-recv   rank 0 and 1 both MPI_Recv from each other first: deadlock
 *   self-send   rank 0 MPI_Sends a large message to itself: deadlock (a cycle of one)
 *   any-source  rank 0 receives from MPI_ANY_SOURCE while the others send: correct
 *   spin        rank 1 loops forever outside MPI while rank 0 waits for it: hang
 *   sleepy      ranks sleep between the steps of a correct ring exchange: correct, slow
 *   mismatch    rank 0 calls MPI_Barrier while the others call MPI_Bcast: deadlock
 *   op-mismatch rank 0 reduces with MPI_SUM, the others with MPI_MAX: completes, wrongly
 *   truncate    rank 0 sends 5 longs, rank 1 receives them into 5 ints: MPI_ERR_TRUNCATE
 *   same-size   rank 0 sends 10 int32, rank 1 receives them as 5 int64: completes, wrongly
 *   unreceived  rank 0 sends a small message that rank 1 never receives: completes
 *   pending     rank 1 posts an MPI_Irecv that nothing matches and finalizes: completes
 *   bad-tag     rank 0 sends with tag -5: the library ends the program with MPI_ERR_TAG
 *   isend-cycle rank 0 and 1 MPI_Isend to each other and MPI_Wait before receiving: only
 *               correct while the library buffers (deadlock with --zero-buffer)
 * Messages are 1 MiB, well above any eager limit, unless a size is given as second argument. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *mode = argc > 1 ? argv[1] : "any-source";
    int n = argc > 2 ? atoi(argv[2]) : 131072; /* doubles: 1 MiB */
    double *out = calloc(n, sizeof(double)), *in = calloc(n, sizeof(double));
    int peer = 1 - rank;

    if (strcmp(mode, "send-send") == 0 && rank < 2) {
        MPI_Send(out, n, MPI_DOUBLE, peer, 7, MPI_COMM_WORLD);
        MPI_Recv(in, n, MPI_DOUBLE, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (strcmp(mode, "recv-recv") == 0 && rank < 2) {
        MPI_Recv(in, n, MPI_DOUBLE, peer, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(out, n, MPI_DOUBLE, peer, 3, MPI_COMM_WORLD);
    } else if (strcmp(mode, "self-send") == 0 && rank == 0) {
        MPI_Send(out, n, MPI_DOUBLE, 0, 1, MPI_COMM_WORLD);
        MPI_Recv(in, n, MPI_DOUBLE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (strcmp(mode, "any-source") == 0) {
        if (rank == 0) {
            for (int i = 1; i < size; i++)
                MPI_Recv(in, n, MPI_DOUBLE, MPI_ANY_SOURCE, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Send(out, n, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD);
        }
    } else if (strcmp(mode, "spin") == 0) {
        if (rank == 1) {
            volatile unsigned long x = 0;
            for (;;) x++;
        }
        if (rank == 0) MPI_Recv(in, n, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (strcmp(mode, "mismatch") == 0) {
        if (rank == 0)
            MPI_Barrier(MPI_COMM_WORLD);
        else
            MPI_Bcast(out, 1, MPI_DOUBLE, 1, MPI_COMM_WORLD);
    } else if (strcmp(mode, "op-mismatch") == 0) {
        double one = 1, r;
        MPI_Allreduce(&one, &r, 1, MPI_DOUBLE, rank == 0 ? MPI_SUM : MPI_MAX, MPI_COMM_WORLD);
    } else if (strcmp(mode, "truncate") == 0 && rank < 2) {
        long l[5] = {1, 2, 3, 4, 5};
        int i[5];
        if (rank == 0) MPI_Send(l, 5, MPI_LONG, 1, 0, MPI_COMM_WORLD);
        else MPI_Recv(i, 5, MPI_INT, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (strcmp(mode, "same-size") == 0 && rank < 2) {
        int a[10] = {0};
        long b[5];
        if (rank == 0) MPI_Send(a, 10, MPI_INT, 1, 4, MPI_COMM_WORLD);
        else MPI_Recv(b, 5, MPI_LONG, 0, 4, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (strcmp(mode, "unreceived") == 0 && rank == 0) {
        int x = 42;
        MPI_Send(&x, 1, MPI_INT, 1, 9, MPI_COMM_WORLD);
    } else if (strcmp(mode, "pending") == 0 && rank == 1) {
        int x;
        MPI_Request r;
        MPI_Irecv(&x, 1, MPI_INT, 0, 5, MPI_COMM_WORLD, &r);
    } else if (strcmp(mode, "bad-tag") == 0 && rank == 0) {
        MPI_Send(out, 1, MPI_DOUBLE, 1, -5, MPI_COMM_WORLD);
    } else if (strcmp(mode, "isend-cycle") == 0 && rank < 2) {
        MPI_Request r;
        MPI_Isend(out, 4, MPI_DOUBLE, peer, 2, MPI_COMM_WORLD, &r);
        MPI_Wait(&r, MPI_STATUS_IGNORE);
        MPI_Recv(in, 4, MPI_DOUBLE, peer, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (strcmp(mode, "sleepy") == 0) {
        /* A ring in which each rank naps before it receives: senders wait on a sleeping rank,
         * which is slow but not stuck. */
        int next = (rank + 1) % size, prev = (rank + size - 1) % size;
        for (int step = 0; step < 3; step++) {
            if (rank % 2 == 0) {
                MPI_Send(out, n, MPI_DOUBLE, next, step, MPI_COMM_WORLD);
                usleep(300000);
                MPI_Recv(in, n, MPI_DOUBLE, prev, step, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else {
                usleep(300000);
                MPI_Recv(in, n, MPI_DOUBLE, prev, step, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                MPI_Send(out, n, MPI_DOUBLE, next, step, MPI_COMM_WORLD);
            }
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    free(out);
    free(in);
    MPI_Finalize();
    return 0;
}
