# The tutorial's MPI_ERR_TRUNCATE example, verbatim but for the line breaks: an array of
# longs received into an array of ints. mpi4py raises the error as an exception.
from mpi4py import MPI
import numpy as np
comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
assert size == 2 # only designed for two processes
ground_truth = np.arange(5, dtype='l') # Sending array<long>
if rank == 0:
    send_arr = ground_truth
    comm.Send(send_arr, dest=1, tag=0)
else:
    recv_arr = np.empty(5, dtype='i') # Expecting array<int>
    comm.Recv(recv_arr, source=0, tag=0) # Hits an MPI_ERR_TRUNCATE exception
    assert np.all(recv_arr == ground_truth)
