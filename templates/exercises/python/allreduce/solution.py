"""The `allreduce` exercise of mpi-grade (Python, mpi4py and NumPy), from
"An Introduction to MPI in Python - Part 1", section "all-".

Each part is a function NAME(comm, values) -- comm: an mpi4py communicator (use it, not
MPI.COMM_WORLD); values: a list of NumPy int64 arrays; return: a list of arrays.

Broadcast, then allreduce.
  values  rank 0: [the block to broadcast, its own block]; the others: [their own block];
  return  every rank: [the allreduce (MPI.SUM) of broadcast + own block].

Check your work with `mpi-grade check --challenge allreduce` in this folder.
"""
import numpy as np
from mpi4py import MPI


def allreduce(comm, values):
    raise NotImplementedError("allreduce")
