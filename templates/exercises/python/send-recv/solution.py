"""The `send-recv` exercise of mpi-grade (Python, mpi4py and NumPy), from
"An Introduction to MPI in Python - Part 1", section "send and recv".

Each part is a function NAME(comm, values) -- comm: an mpi4py communicator (use it, not
MPI.COMM_WORLD); values: a list of NumPy int64 arrays; return: a list of arrays.

Rank 0 sends its block values[0] to rank 1 with comm.send; rank 1 receives it with comm.recv.
  values  a list of one NumPy int64 array per rank (rank 1's only gives the length);
  return  rank 1: [the array received]; every other rank: [].

Check your work with `mpi-grade check --challenge send-recv` in this folder.
"""
import numpy as np
from mpi4py import MPI


def send_recv(comm, values):
    raise NotImplementedError("send_recv")
