"""The `igather-timing` exercise of mpi-grade (Python, mpi4py and NumPy), from
"An Introduction to MPI in Python - Part 1", section "Blocking and non-blocking calls".

values[i] (a NumPy int64 array) is what this rank contributes in iteration i, for i in
range(size). In iteration i, rank i first sleeps SLEEP seconds, then every rank's values[i] is
gathered at rank 0. Rank 0 returns the size * size arrays it gathered, iteration by iteration
(element i * size + r is rank r's values[i]); the other ranks return [].

gather_loop uses comm.Gather; igather_loop comm.Igather, and MPI.Request.Waitall at the end. The
grader times both in the same launch: gather_loop must take at least size / 2 times as long.

Check your work with `mpi-grade check --challenge igather-timing` in this folder.
"""
import time

import numpy as np
from mpi4py import MPI

SLEEP = 0.2


def gather_loop(comm, values):
    raise NotImplementedError("gather_loop")


def igather_loop(comm, values):
    raise NotImplementedError("igather_loop")
