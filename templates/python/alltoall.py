"""The tutorial's alltoall challenge, for mpi-grade (Python, mpi4py and NumPy).

Each part is a function part<N>(comm, values):
  comm    an mpi4py communicator (use it, not MPI.COMM_WORLD);
  values  a list of NumPy int64 arrays (dtype 'l'): values[i] is the block this rank sends to rank i;
  return  a list whose element i is the block this rank received from rank i.

Check your work with `mpi-grade check` in this folder. You can also run the tutorial's own test
below with `mpiexec -n 2 python alltoall.py`: it is under `if __name__ == "__main__":`, so it does
not run when the grader imports this file.
"""
import numpy as np
from mpi4py import MPI


def part1(comm, values):
    # Part 1: an alltoall with only blocking comm.Send / comm.Recv that DEADLOCKS once the
    # messages are large enough (the grader expects the deadlock at large sizes).
    raise NotImplementedError("part 1: alltoall with blocking Send/Recv that deadlocks for large messages")


def part2(comm, values):
    # Part 2: the same exchange without the deadlock, still only comm.Send / comm.Recv.
    raise NotImplementedError("part 2: alltoall with Send/Recv only and no deadlock")


def part3(comm, values):
    # Part 3: part 1 fixed with comm.Isend (and comm.Recv), for any number of ranks and sizes.
    raise NotImplementedError("part 3: part 1 fixed with Isend/Recv")


if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    size = comm.Get_size()
    scaling_factor = 10000
    values = [np.array([rank * 10 + i] * scaling_factor, dtype='l') for i in range(size)]
    ground_truth = [[rank + i * 10] * scaling_factor for i in range(size)]
    for part in (part1, part2, part3):
        new_values = part(comm, values)
        assert np.all([np.all(v1 == v2) for v1, v2 in zip(new_values, ground_truth)])
