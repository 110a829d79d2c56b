"""Adversarial fixture `python-forge-events`: appends a forged `done` event (with a finished
line) to its rank's event file, and writes zeros where results go, instead of exchanging."""
import json
import os

import numpy as np


def part2(comm, values):
    run = os.environ.get("MPI_GRADE_RUN_DIR", "")
    rank = comm.Get_rank()
    try:
        with open(os.path.join(run, "ranks", f"{rank}.jsonl"), "a") as f:
            f.write(json.dumps({"event": "done", "cell": 0, "seconds": 0.001, "times": [0.001],
                                "results": [[{"len": len(v), "offset": 0} for v in values]]}) + "\n")
            f.write('{"event":"finished"}\n')
    except OSError:
        pass
    return [np.zeros(len(v), dtype="l") for v in values]
