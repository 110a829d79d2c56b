"""The `bcast-reduce` exercise of mpi-grade (Python, mpi4py and NumPy), from
"An Introduction to MPI in Python - Part 1", section "bcast and reduce".

Each part is a function NAME(comm, values) -- comm: an mpi4py communicator (use it, not
MPI.COMM_WORLD); values: a list of NumPy int64 arrays; return: a list of arrays.

Broadcast, then reduce to rank 0.
  values  rank 0: [the block to broadcast, its own block]; the others: [their own block]
          (NumPy int64 arrays);
  return  every rank: [the broadcast block]; rank 0: [the broadcast block, the reduction].
bcast_reduce: comm.bcast from rank 0, add the broadcast block to your own, comm.reduce with MPI.SUM.
dict_reduce: the same with the tutorial's dict_reduce as the operation, on dicts {'v': block}.

Check your work with `mpi-grade check --challenge bcast-reduce` in this folder.
"""
import numpy as np
from mpi4py import MPI


def combine(dict1, dict2):
    # MPI.SUM doesn't support dicts (the tutorial's dict_reduce)
    return {'v': dict1['v'] + dict2['v']}


def bcast_reduce(comm, values):
    raise NotImplementedError("bcast_reduce")


def dict_reduce(comm, values):
    raise NotImplementedError("dict_reduce")
