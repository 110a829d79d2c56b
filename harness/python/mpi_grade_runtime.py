"""Rank-side runtime of mpi-grade for Python submissions (mpi4py and NumPy).

The grader starts every rank as

    python -I -B mpi_grade_runtime.py SUBMISSION_DIR NAME=MODULE:FUNCTION ...

(one NAME=MODULE:FUNCTION per part the plan may call, e.g. part1=part1:alltoall). It speaks the
run-directory protocol of docs/protocol.md exactly as the Rust runtime (harness/runtime) does:

1. reads the plan from MPI_GRADE_RUN_DIR before anything else;
2. initialises MPI, reads this rank's key and deletes its file, makes the process non-dumpable,
   registers faulthandler on STACK_SIGNAL (the grader asks a blocked rank for its Python stack
   with it), reports `ready`, and waits at a barrier: no student code runs in any rank before
   every rank has done all this; in a launch the plan says is `held`, every rank first waits,
   sleeping, until the grader creates the file `go` in the run directory;
3. imports the student's modules (module-level code is student code: it runs now, confined);
4. per planned cell: duplicates the world communicator, and per repetition builds the payload
   with BLAKE3 and NumPy, waits at a barrier, marks the student's code with MPI.Pcontrol,
   calls the function, appends the checkable blocks to the results file; then reports `done`;
5. reports `finished` and finalises.

An exception in the student's code (or in the runtime) is recorded as a `panic` event with the
student's innermost file:line, printed as one traceback, and ends the whole job at once with
MPI_Abort: letting Python finalise would block while the other ranks still communicate.
`sys.exit` in the student's code ends the process at once with that status, without finalising,
as `std::process::exit` does in a Rust submission.

Nothing here trusts the student: the grader checks every element against what the other ranks
sent, from the events' offsets and lengths only.
"""

import ctypes
import faulthandler
import json
import os
import signal
import struct
import sys
import time
import traceback

from blake3 import blake3

FORMAT_VERSION = 3
PANIC_ABORT_CODE = 101
# The signal the grader sends for a Python stack (the tracer's native stack request is SIGURG).
STACK_SIGNAL = signal.SIGUSR2
BLOCK_DOMAIN = b"mpi-grade block\0"

_events = None
_cell = None
_submission = None
_pcontrol = None


def main(argv):
    global _submission
    run_dir = os.environ.get("MPI_GRADE_RUN_DIR")
    if not run_dir:
        usage("MPI_GRADE_RUN_DIR is not set: this program is mpi-grade's runtime and runs under `mpi-grade grade`")
    if len(argv) < 2:
        usage("usage: mpi_grade_runtime.py SUBMISSION_DIR NAME=MODULE:FUNCTION ...")
    _submission = os.path.realpath(argv[0])
    parts = {}
    for spec in argv[1:]:
        name, _, target = spec.partition("=")
        module, _, function = target.partition(":")
        parts[name] = (module, function)
    plan = read_plan(run_dir)
    # One write per line: the launcher tags every write with the rank.
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True, write_through=False)

    import mpi4py

    # Errors come back as exceptions, and the runtime decides when MPI ends.
    mpi4py.rc.finalize = False
    from mpi4py import MPI

    world = MPI.COMM_WORLD
    rank, size = world.Get_rank(), world.Get_size()
    open_events(os.path.join(run_dir, "ranks", f"{rank}.jsonl"))
    sys.excepthook = excepthook
    import threading

    threading.excepthook = lambda args: excepthook(args.exc_type, args.exc_value, args.exc_traceback)
    key = take_key(run_dir, rank)
    results = open(os.path.join(run_dir, "results", f"{rank}.bin"), "ab", buffering=0)
    register_stacks(rank)
    emit({"event": "ready", "rank": rank, "size": size, "pid": os.getpid(),
          "library": MPI.Get_library_version().rstrip("\0"), "run_id": plan["run_id"]})
    # Every rank has deleted its key and become non-dumpable: student code may run.
    # The runtime's own modules come first: a student's numpy.py must not stand in for NumPy.
    import numpy as np

    if plan.get("held", False):
        # Started ahead of its turn: nothing of the launch runs until the grader says so.
        while not os.path.exists(os.path.join(run_dir, "go")):
            time.sleep(0.001)
    world.Barrier()
    functions = import_parts(parts, {c["function"] for c in plan["cells"]})
    for cell in plan["cells"]:
        run_cell(MPI, np, world, key, size, cell, functions[cell["function"]], results)
    world.Barrier()
    emit({"event": "finished"})
    MPI.Finalize()
    flush_and_exit(0)


def run_cell(MPI, np, world, key, size, cell, function, results):
    global _cell
    index, length = cell["index"], cell["scaling_factor"]
    # The protocol's levels (trace::pcontrol): the cell, zero-buffer mode, polite waits in a
    # cell whose time is not reported.
    level = 1 + 2 * index + (1 if cell["mode"] == "zero-buffer" else 0)
    if cell.get("untimed", False):
        level += 1 << 16
    comm = world.Dup()
    times, returned = [], []
    offset = results.tell()
    rank = world.Get_rank()
    # The contract as data (docs/protocol.md): how many blocks this rank is given and returns.
    given = cell["inputs"][rank] if cell.get("inputs") else size
    returns = cell["outputs"][rank] if cell.get("outputs") else size
    shift = cell.get("shift", 0)
    for repetition in range(max(1, cell.get("repetitions", 1))):
        values = [payload(np, key, index, repetition, dest, length, shift) for dest in range(given)]
        world.Barrier()
        if repetition == 0:
            emit({"event": "start", "cell": index})
        _cell = index
        pcontrol(level)
        started = time.perf_counter()
        try:
            result = function(comm, values)
        except SystemExit as e:
            # The student ended the process: so be it, at once and without finalising.
            student_exit(exit_status(e))
        times.append(time.perf_counter() - started)
        pcontrol(0)
        del values
        # Still this cell's: a result that is not a list of blocks fails the cell it came from.
        try:
            blocks, offset = append(np, results, result, returns, length, offset, cell["function"])
        except TypeError as e:
            # The wrong return is the function's: located at its definition.
            e.mpi_grade_location = definition(function)
            raise
        _cell = None
        returned.append(blocks)
    emit({"event": "done", "cell": index, "seconds": times[0], "times": times, "results": returned})
    comm.Free()


def pcontrol(level):
    """MPI_Pcontrol(level) of the C library, where the tracer sees it (mpi4py's MPI.Pcontrol
    accepts levels 0-2 only; the protocol's levels name cells)."""
    global _pcontrol
    if _pcontrol is None:
        try:
            function = ctypes.CDLL(None).MPI_Pcontrol
            function.argtypes = [ctypes.c_int]
            function.restype = ctypes.c_int
            _pcontrol = function
        except AttributeError:
            _pcontrol = lambda level: 0  # no tracer and no global libmpi: nothing listens
    _pcontrol(level)


def payload(np, key, cell, repetition, dest, length, shift):
    """What this rank sends to `dest`: the protocol's keyed BLAKE3 stream as int64, shifted right
    by `shift` bits. The shift makes the array's one copy (frombuffer's view of the digest is
    read-only): a second copy made this a third slower."""
    prefix = BLOCK_DOMAIN + struct.pack("<III", cell, repetition, dest)
    return np.frombuffer(blake3(prefix, key=key).digest(8 * length), "<i8") >> shift


def append(np, results, result, size, length, offset, function):
    """Writes the checkable blocks raw; returns one {len, offset} per returned block."""
    if result is None:
        raise TypeError(f"{function} returned None: return the list of the blocks received, element i from rank i")
    if isinstance(result, (str, bytes, dict)) or not hasattr(result, "__len__"):
        raise TypeError(f"{function} returned a {type(result).__name__}: return a list of arrays, element i the block received from rank i")
    reports, chunks = [], []
    for i, block in enumerate(result):
        array = as_int64(np, block, function, i)
        reports.append({"len": int(array.size), "offset": offset})
        if i < size and array.size == length:
            data = array.tobytes()
            chunks.append(data)
            offset += len(data)
    for data in chunks:
        results.write(data)
    return reports, offset


def as_int64(np, block, function, i):
    if isinstance(block, (str, bytes, dict)):
        raise TypeError(f"block {i} that {function} returned is a {type(block).__name__}, not an array of integers")
    try:
        array = np.asarray(block)
    except Exception as e:
        raise TypeError(f"block {i} that {function} returned is not an array of integers: {e}") from None
    if array.dtype.kind not in "iub":
        raise TypeError(f"block {i} that {function} returned has dtype {array.dtype}, not an integer type: "
                        "receive into np.empty(n, dtype='l') (int64)")
    return np.ascontiguousarray(array.reshape(-1), dtype="<i8")


def import_parts(parts, wanted):
    """Imports the modules of the planned functions; a failure names the file and line."""
    sys.path.insert(0, _submission)
    functions = {}
    for name in sorted(wanted):
        if name not in parts:
            raise RuntimeError(f"the plan names {name}, which the grader did not pass to the runtime")
        module_name, function_name = parts[name]
        try:
            module = __import__(module_name)
        except SystemExit as e:
            student_exit(exit_status(e))
        except BaseException as e:
            raise ImportFailed(module_name, e) from e
        candidates = [getattr(module, n, None) for n in function_name.split(",")]
        function = next((f for f in candidates if callable(f)), None)
        if function is None:
            first = function_name.split(",")[0]
            raise RuntimeError(f"{module_name}.py has no function {first}(comm, values) after import")
        functions[name] = function
    return functions


class ImportFailed(Exception):
    def __init__(self, module, error):
        super().__init__(f"importing {module}.py raised {type(error).__name__}: {error}")
        self.module = module
        self.error = error


def read_plan(run_dir):
    path = os.path.join(run_dir, "plan.json")
    try:
        with open(path) as f:
            plan = json.load(f)
    except (OSError, ValueError) as e:
        usage(f"cannot read {path}: {e}")
    if plan.get("format_version") != FORMAT_VERSION:
        usage(f"{path} has format version {plan.get('format_version')}, this runtime reads {FORMAT_VERSION}")
    return plan


def take_key(run_dir, rank):
    """Reads this rank's key and deletes its file, then makes the process non-dumpable."""
    path = os.path.join(run_dir, "keys", f"{rank}.key")
    with open(path) as f:
        text = f.read().strip()
    os.remove(path)
    key = bytes.fromhex(text)
    if len(key) != 32:
        raise RuntimeError(f"mpi-grade runtime: {path} holds no key")
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_DUMPABLE = 4
    if libc.prctl(PR_SET_DUMPABLE, ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        raise RuntimeError(f"mpi-grade runtime: cannot make the rank non-dumpable: {os.strerror(ctypes.get_errno())}")
    return key


def register_stacks(rank):
    """faulthandler dumps every thread's Python stack into <trace>/<rank>.pystack on
    STACK_SIGNAL, from a C signal handler: also while the rank is blocked inside MPI."""
    trace_dir = os.environ.get("MPI_GRADE_TRACE_DIR")
    if not trace_dir:
        return
    try:
        stacks = open(os.path.join(trace_dir, f"{rank}.pystack"), "w")
    except OSError:
        return
    faulthandler.register(STACK_SIGNAL, file=stacks, all_threads=True, chain=False)
    # Kept open for the life of the process: faulthandler writes to its descriptor.
    globals()["_stacks_file"] = stacks


def open_events(path):
    global _events
    _events = os.open(path, os.O_WRONLY | os.O_APPEND)


def emit(event):
    """One event, one write (as the protocol asks)."""
    if _events is not None:
        os.write(_events, (json.dumps(event, separators=(",", ":")) + "\n").encode())


def student_location(tb):
    """file:line of the innermost frame inside the submission, relative to it."""
    found = None
    for frame in traceback.extract_tb(tb):
        path = os.path.realpath(frame.filename)
        if _submission and path.startswith(_submission + os.sep):
            found = f"{os.path.relpath(path, _submission)}:{frame.lineno}"
    return found


def definition(function):
    """file:line of a function's `def`, relative to the submission."""
    code = getattr(function, "__code__", None)
    if code is None or not _submission:
        return None
    path = os.path.realpath(code.co_filename)
    if not path.startswith(_submission + os.sep):
        return None
    return f"{os.path.relpath(path, _submission)}:{code.co_firstlineno}"


def excepthook(kind, error, tb):
    """An uncaught exception: one traceback on stderr, a panic event, MPI_Abort."""
    cause = error.error if isinstance(error, ImportFailed) else error
    cause_tb = cause.__traceback__ if isinstance(error, ImportFailed) else tb
    location = getattr(error, "mpi_grade_location", None) or student_location(cause_tb)
    if isinstance(error, ImportFailed):
        message = f"{error}" + import_hint(error, cause)
    elif isinstance(error, NotImplementedError):
        message = f"not implemented: {error}" if str(error) else "not implemented"
    else:
        message = f"{kind.__name__}: {error}"
    text = "".join(traceback.format_exception(type(cause), cause, cause_tb))
    write_all(2, text.encode(errors="replace"))
    emit({"event": "panic", "cell": _cell, "message": message, "location": location})
    try:
        from mpi4py import MPI

        pcontrol(0)
        MPI.COMM_WORLD.Abort(PANIC_ABORT_CODE)
    finally:
        os._exit(PANIC_ABORT_CODE)


def import_hint(error, cause):
    if isinstance(cause, NameError) and getattr(cause, "name", None) == "np":
        return " (the module uses np without `import numpy as np`)"
    return (f": code outside functions runs when the grader imports {error.module}.py in every rank; "
            "keep test code under `if __name__ == \"__main__\":`")


def exit_status(e):
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    write_all(2, f"{code}\n".encode(errors="replace"))
    return 1


def write_all(fd, data):
    while data:
        try:
            n = os.write(fd, data)
        except OSError:
            return
        data = data[n:]


def student_exit(status):
    """The student's sys.exit: C's exit(), as a Rust rank's std::process::exit, so that the
    tracer's exit handler records which rank ended itself and with what status (os._exit would
    skip it, and a launcher that does not name the rank would leave the grader guessing)."""
    flush()
    try:
        ctypes.CDLL(None).exit(ctypes.c_int(status))
    finally:
        os._exit(status)


def flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def flush_and_exit(status):
    flush()
    os._exit(status)


def usage(message):
    sys.stderr.write(f"mpi-grade runtime: {message}\n")
    sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
