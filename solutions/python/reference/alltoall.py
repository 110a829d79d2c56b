"""Reference solutions of the tutorial's alltoall challenge, in Python with mpi4py.

values[i] is the NumPy int64 array this rank sends to rank i; each function returns a list whose
element i is the block received from rank i. Graded by `mpi-grade check --lang python`.
"""
import numpy as np
from mpi4py import MPI


def part1(comm, values):
    """Blocking Send/Recv in the naive order: every rank sends to every other rank first, then
    receives. Once messages are too large for the library to buffer, every rank waits in Send
    for a receive that nobody has posted yet: a deadlock, by design."""
    rank, size = comm.Get_rank(), comm.Get_size()
    received = [None] * size
    received[rank] = values[rank].copy()
    for peer in range(size):
        if peer != rank:
            comm.Send(values[peer], dest=peer, tag=0)
    for peer in range(size):
        if peer != rank:
            block = np.empty(len(values[peer]), dtype="l")
            comm.Recv(block, source=peer, tag=0)
            received[peer] = block
    return received


def part2(comm, values):
    """Blocking Send/Recv without the deadlock: in round k, rank r exchanges with (k - r) mod n.
    The pairing is symmetric, so both ranks of a pair meet in the same round, and of each pair
    the lower rank sends first while the higher receives first: no cycle of waits."""
    rank, size = comm.Get_rank(), comm.Get_size()
    received = [None] * size
    for round_ in range(size):
        partner = (round_ - rank) % size
        if partner == rank:
            received[rank] = values[rank].copy()
            continue
        block = np.empty(len(values[partner]), dtype="l")
        if rank < partner:
            comm.Send(values[partner], dest=partner)
            comm.Recv(block, source=partner)
        else:
            comm.Recv(block, source=partner)
            comm.Send(values[partner], dest=partner)
        received[partner] = block
    return received


def part3(comm, values):
    """Part 1 with Isend: every send is posted without waiting, the receives complete them."""
    rank, size = comm.Get_rank(), comm.Get_size()
    received = [None] * size
    received[rank] = values[rank].copy()
    requests = [comm.Isend(values[peer], dest=peer, tag=0) for peer in range(size) if peer != rank]
    for peer in range(size):
        if peer != rank:
            block = np.empty(len(values[peer]), dtype="l")
            comm.Recv(block, source=peer, tag=0)
            received[peer] = block
    MPI.Request.Waitall(requests)
    return received


if __name__ == "__main__":
    # mpiexec -n 4 python alltoall.py: the tutorial's own check, for each part.
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    scaling_factor = 100
    values = [np.array([rank * 10 + i] * scaling_factor, dtype="l") for i in range(size)]
    ground_truth = [[rank + i * 10] * scaling_factor for i in range(size)]
    for part in (part1, part2, part3):
        assert all(np.all(v1 == v2) for v1, v2 in zip(part(comm, values), ground_truth))
    if rank == 0:
        print("all three parts agree with the ground truth")
