"""Adversarial fixture `python-write-outside`: writes everywhere it can think of, at import time
and in part 2, then exchanges correctly. Nothing may land outside the scratch area."""
import os

import numpy as np


def targets():
    paths = ["/tmp/mpi-grade-adversarial-escape", "/var/tmp/mpi-grade-adversarial-escape",
             "/dev/shm/mpi-grade-adversarial-escape"]
    here = os.path.dirname(os.path.abspath(__file__))
    for _ in range(4):
        paths.append(os.path.join(here, "mpi-grade-adversarial-escape"))
        here = os.path.dirname(here)
    home = os.environ.get("HOME")
    if home:
        paths.append(os.path.join(home, "mpi-grade-adversarial-escape"))
    paths.append("../mpi-grade-adversarial-escape")
    return paths


def scribble(who):
    for path in targets():
        try:
            with open(path, "w") as f:
                f.write(f"{who} was here\n")
        except OSError:
            pass


scribble("import")


def part2(comm, values):
    rank, size = comm.Get_rank(), comm.Get_size()
    scribble(f"rank {rank}")
    received = [None] * size
    for round_ in range(size):
        partner = (round_ - rank) % size
        if partner == rank:
            received[rank] = values[rank].copy()
            continue
        block = np.empty(len(values[partner]), dtype="l")
        if rank < partner:
            comm.Send(values[partner], dest=partner)
            comm.Recv(block, source=partner)
        else:
            comm.Recv(block, source=partner)
            comm.Send(values[partner], dest=partner)
        received[partner] = block
    return received
