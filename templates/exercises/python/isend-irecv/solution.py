"""The `isend-irecv` exercise of mpi-grade (Python, mpi4py and NumPy), from
"An Introduction to MPI in Python - Part 1", section "Blocking and non-blocking calls".

Each part is a function NAME(comm, values) -- comm: an mpi4py communicator (use it, not
MPI.COMM_WORLD); values: a list of NumPy int64 arrays; return: a list of arrays.

Isend / Irecv, then Wait.
  As send-recv: rank 0 comm.Isend(values[0], dest=1), rank 1 comm.Irecv into
  np.empty(n, dtype='l'); each calls req.Wait() before returning.

Check your work with `mpi-grade check --challenge isend-irecv` in this folder.
"""
import numpy as np
from mpi4py import MPI


def isend_irecv(comm, values):
    raise NotImplementedError("isend_irecv")
