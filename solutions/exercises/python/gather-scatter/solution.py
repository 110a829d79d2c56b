"""The `gather-scatter` exercise of mpi-grade (Python, mpi4py and NumPy), from
"An Introduction to MPI in Python - Part 1", section "gather and scatter".

Each part is a function NAME(comm, values) -- comm: an mpi4py communicator (use it, not
MPI.COMM_WORLD); values: a list of NumPy int64 arrays; return: a list of arrays.

Gather to rank 0, then scatter from rank 0.
  values  every rank: [its own block]; rank 0: [its own block, then one block per rank];
  return  every rank: [the block scattered to it]; rank 0: that block, then the gathered ones.

Check your work with `mpi-grade check --challenge gather-scatter` in this folder.
"""
import numpy as np
from mpi4py import MPI


def gather_scatter(comm, values):
    rank = comm.Get_rank()
    gathered = comm.gather(values[0], root=0)
    mine = comm.scatter(values[1:] if rank == 0 else None, root=0)
    return [mine] + gathered if rank == 0 else [mine]
