"""Adversarial fixture `python-cheat-pcontrol`: calls the C library's MPI_Pcontrol(0) through
ctypes, to end the grader's marks early and hide the MPI_Alltoall that follows from the tracer.
The tracer counts every MPI_Pcontrol of a cell: the part fails."""
import ctypes


def part2(comm, values):
    ctypes.CDLL(None).MPI_Pcontrol(ctypes.c_int(0))
    return comm.alltoall(values)
