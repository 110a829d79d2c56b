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
    rank = comm.Get_rank()
    broadcast = comm.bcast(values[0] if rank == 0 else None, root=0)
    total = comm.reduce(broadcast + values[-1], op=MPI.SUM, root=0)
    return [broadcast, total] if rank == 0 else [broadcast]


def dict_reduce(comm, values):
    rank = comm.Get_rank()
    d = comm.bcast({'v': values[0]} if rank == 0 else {}, root=0)
    broadcast = d['v']
    d = {'v': broadcast + values[-1]}
    total = comm.reduce(d, op=combine, root=0)
    return [broadcast, total['v']] if rank == 0 else [broadcast]
