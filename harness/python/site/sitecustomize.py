"""Put on PYTHONPATH by `mpi-grade run` for Python programs: registers faulthandler so that the
grader can ask a blocked or busy rank for its Python stack (SIGUSR2, dumped into
<MPI_GRADE_TRACE_DIR>/<rank>.pystack), and names the Python line in the diagnosis; and makes
stdout and stderr write whole lines, so that the launcher's rank prefixes do not cut a line or a
traceback apart."""
import os


def _register():
    import faulthandler
    import signal

    trace_dir = os.environ.get("MPI_GRADE_TRACE_DIR")
    rank = next((os.environ[v] for v in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")
                 if os.environ.get(v, "").isdigit()), None)
    if not trace_dir or rank is None:
        return
    try:
        stacks = open(os.path.join(trace_dir, f"{rank}.pystack"), "w")
    except OSError:
        return
    faulthandler.register(signal.SIGUSR2, file=stacks, all_threads=True, chain=False)
    globals()["_mpi_grade_stacks"] = stacks


def _whole_lines():
    """One write per line: the launcher prefixes every write with the rank, so output written in
    pieces (PYTHONUNBUFFERED=1, a print of several values) would be cut apart mid-line."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True, write_through=False)
        except (AttributeError, ValueError):
            pass


_register()
_whole_lines()
del _register, _whole_lines
