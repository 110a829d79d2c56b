"""The "build" of a Python submission: what can be known without running the student's code.

    python -I -B mpi_grade_check.py SUBMISSION_DIR NAME=MODULE:FUNCTION ...

Prints one JSON object on stdout:

    {"environment": null or why the grader's Python cannot run submissions,
     "problems": [{"function", "message", "details", "file", "line"}],
     "warnings": [...]}

For every part: the module's file parses (a SyntaxError names file:line), it defines the function
at the top level with two positional parameters (comm, values), each module it imports exists in
this Python (or in the submission), and no code outside functions runs the exchange when the file
is imported (the grader imports it in every rank and calls the function itself). Nothing of the
student's is executed here: files are read as text and parsed with `ast`.
"""

import ast
import importlib.util
import json
import os
import sys

MAX_SOURCE = 1 << 20
PART_NAMES = {"part1", "part2", "part3", "alltoall"}


def main(argv):
    out = {"environment": environment(), "problems": [], "warnings": []}
    root = os.path.realpath(argv[0])
    sys.path.insert(0, root)
    modules = {}
    for spec in argv[1:]:
        name, _, target = spec.partition("=")
        module, _, function = target.partition(":")
        if module not in modules:
            modules[module] = parse(root, module)
        tree, problem = modules[module]
        names = function.split(",")
        if problem is None:
            problems = [check_function(tree, module, n) for n in names]
            found = [n for n, p in zip(names, problems) if p is None]
            if found:
                function = found[0]
            else:
                # The message of the first name (`alltoall` in a part file), or of a name that
                # is there with the wrong parameters.
                problem = next((p for p in problems if "defines no function" not in p["message"]), problems[0])
        if problem is None:
            problem = check_imports(tree, module, root)
        if problem is None:
            problem = check_module_code(tree, module, function)
        if problem is not None:
            out["problems"].append(dict(problem, function=name))
        elif uses_np_without_import(tree):
            out["warnings"].append(f"{module}.py uses np without `import numpy as np`")
    sys.stdout.write(json.dumps(out))


def environment():
    """Why this Python cannot run a submission, or None."""
    try:
        import numpy  # noqa: F401
    except Exception as e:
        return f"NumPy cannot be imported ({type(e).__name__}: {e})"
    try:
        # The runtime computes the payloads with it.
        import blake3  # noqa: F401
    except Exception as e:
        return f"blake3 cannot be imported ({type(e).__name__}: {e})"
    try:
        import mpi4py

        mpi4py.rc.initialize = False
        from mpi4py import MPI  # noqa: F401
    except Exception as e:
        return f"mpi4py cannot be imported ({type(e).__name__}: {e})"
    return None


def problem(message, details="", file=None, line=None):
    return {"message": message, "details": details, "file": file, "line": line}


def parse(root, module):
    path = os.path.join(root, module + ".py")
    file = module + ".py"
    try:
        with open(path, "rb") as f:
            source = f.read(MAX_SOURCE + 1)
    except OSError as e:
        return None, problem(f"{file} cannot be read: {e.strerror}", file=file)
    if len(source) > MAX_SOURCE:
        return None, problem(f"{file} is larger than {MAX_SOURCE >> 20} MiB", file=file)
    try:
        tree = ast.parse(source, filename=file)
    except SyntaxError as e:
        where = f"{file}:{e.lineno}" if e.lineno else file
        text = (e.text or "").rstrip("\n")
        caret = " " * max(0, (e.offset or 1) - 1) + "^" if text else ""
        details = f'  File "{file}", line {e.lineno}\n    {text}\n    {caret}\nSyntaxError: {e.msg}'
        return None, problem(f"SyntaxError: {e.msg} ({where})", details, file, e.lineno)
    except (ValueError, RecursionError, MemoryError) as e:
        return None, problem(f"{file} cannot be parsed: {e}", file=file)
    return tree, None


def check_function(tree, module, function):
    file = module + ".py"
    signature = f"{function}(comm, values)"
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and node.name == function:
            return problem(f"{file}:{node.lineno}: {function} is `async def`; it must be a plain `def {signature}`",
                           file=file, line=node.lineno)
        if isinstance(node, ast.FunctionDef) and node.name == function:
            args = node.args
            positional = len(args.posonlyargs) + len(args.args)
            required_kw = [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
            if (positional < 2 and args.vararg is None) or required_kw:
                shown = ", ".join(a.arg for a in args.posonlyargs + args.args)
                return problem(f"{file}:{node.lineno}: {function}({shown}) has the wrong parameters; "
                               f"it must be `def {signature}`", file=file, line=node.lineno)
            return None
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == function for t in targets):
                return None
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name) == function for a in node.names):
                return None
    return problem(f"{file} defines no function {function}: it must define `def {signature}` "
                   "at the top level of the file", file=file)


def check_imports(tree, module, root):
    file = module + ".py"
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in sys.builtin_module_names or os.path.exists(os.path.join(root, top + ".py")):
                continue
            try:
                found = importlib.util.find_spec(top) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                return problem(f"ImportError: no module named '{top}' ({file}:{node.lineno}); "
                               "the grader's Python has the standard library, NumPy and mpi4py",
                               file=file, line=node.lineno)
    return None


def is_main_guard(node):
    """`if __name__ == "__main__":`"""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == "__main__")


def check_module_code(tree, module, function):
    """Code outside functions that calls the exchange runs it at import, in every rank."""
    file = module + ".py"
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    exchange = (PART_NAMES | {function}) & (defined | {function})
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
            continue
        if is_main_guard(node):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in exchange:
                hint = ""
                if uses_np_without_import(tree):
                    hint = " It also uses np without `import numpy as np`."
                return problem(
                    f"{file}:{inner.lineno} calls {inner.func.id}() outside any function, so the exchange "
                    f"would run when the grader imports {file} in every rank. Put the test code under "
                    f"`if __name__ == \"__main__\":` (the grader calls {function} itself).{hint}",
                    file=file, line=inner.lineno)
    return None


def uses_np_without_import(tree):
    bound = False
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name) == "np" for a in node.names):
            bound = True
    if bound:
        return False
    return any(isinstance(n, ast.Name) and n.id == "np" and isinstance(n.ctx, ast.Load) for n in ast.walk(tree))


if __name__ == "__main__":
    main(sys.argv[1:])
