"""The `truncate` exercise of mpi-grade (Python, mpi4py and NumPy), from
"An Introduction to MPI in Python - Part 1", section "mpi4py Idiosyncracies: MPI_ERR_TRUNCATE".

Each part is a function NAME(comm, values) -- comm: an mpi4py communicator (use it, not
MPI.COMM_WORLD); values: a list of NumPy int64 arrays; return: a list of arrays.

Receive an int64 array into a buffer of the same dtype and size.
  As send-recv, with comm.Send / comm.Recv: rank 1 receives into np.empty(n, dtype='l'), not
  dtype='i' (half the bytes: MPI_ERR_TRUNCATE).

Check your work with `mpi-grade check --challenge truncate` in this folder.
"""
import numpy as np
from mpi4py import MPI


def recv_typed(comm, values):
    raise NotImplementedError("recv_typed")
