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
    rank = comm.Get_rank()
    if rank == 0:
        comm.Send(values[0], dest=1, tag=0)
        return []
    if rank == 1:
        received = np.empty(len(values[0]), dtype='l')
        comm.Recv(received, source=0, tag=0)
        return [received]
    return []


def bcast_reduce_max(comm, values):
    rank = comm.Get_rank()
    own = values[-1]
    broadcast = values[0].copy() if rank == 0 else np.empty(len(own), dtype='l')
    comm.Bcast(broadcast, root=0)
    total = np.zeros(len(own), dtype='l')
    comm.Reduce(broadcast + own, total, op=MPI.MAX, root=0)
    return [broadcast, total] if rank == 0 else [broadcast]


def gather_scatter_buffers(comm, values):
    rank, size = comm.Get_rank(), comm.Get_size()
    n = len(values[0])
    gathered = np.empty([size, n], dtype='l') if rank == 0 else None
    comm.Gather(values[0], gathered, root=0)
    mine = np.empty(n, dtype='l')
    comm.Scatter(np.concatenate(values[1:]) if rank == 0 else None, mine, root=0)
    return [mine] + list(gathered) if rank == 0 else [mine]


def allreduce_max(comm, values):
    rank = comm.Get_rank()
    own = values[-1]
    broadcast = values[0].copy() if rank == 0 else np.empty(len(own), dtype='l')
    comm.Bcast(broadcast, root=0)
    total = np.empty(len(own), dtype='l')
    comm.Allreduce(broadcast + own, total, op=MPI.MAX)
    return [total]
