"""The `buffers` exercise of mpi-grade (Python, mpi4py and NumPy), from
"An Introduction to MPI in Python - Part 1", section "mpi4py Idiosyncracies".

Each part is a function NAME(comm, values) -- comm: an mpi4py communicator (use it, not
MPI.COMM_WORLD); values: a list of NumPy int64 arrays; return: a list of arrays.

The NumPy buffer variants (upper-case calls, arrays of dtype 'l'):
  send_recv_buffers       as send-recv, with comm.Send and comm.Recv into np.empty(n, dtype='l');
  bcast_reduce_max        as bcast-reduce, with comm.Bcast and comm.Reduce(op=MPI.MAX);
  gather_scatter_buffers  as gather-scatter, with comm.Gather and comm.Scatter;
  allreduce_max           as allreduce, with comm.Bcast and comm.Allreduce(op=MPI.MAX).

Check your work with `mpi-grade check --challenge buffers` in this folder.
"""
import numpy as np
from mpi4py import MPI


def send_recv_buffers(comm, values):
    raise NotImplementedError("send_recv_buffers")


def bcast_reduce_max(comm, values):
    raise NotImplementedError("bcast_reduce_max")


def gather_scatter_buffers(comm, values):
    raise NotImplementedError("gather_scatter_buffers")


def allreduce_max(comm, values):
    raise NotImplementedError("allreduce_max")
