"""Adversarial fixture `python-secret-reader`: at import time (module-level code is student code)
and again in part 2, reads every process's command line and environment in /proc, the files the
test planted outside the scratch area, and what the runtime holds in memory (its key, through the
interpreter); then raises with everything it found. The report must carry none of the test's
secrets."""
import os
import sys

PLANTED = "mpi-grade-adversarial-planted"
NEEDLES = ("--config", "secret-", "tok-", "ghp-", "aws-", "sec-", "planted-")


def look(found, path):
    try:
        with open(path, "rb") as f:
            text = f.read().decode(errors="replace").replace("\0", " ")
    except OSError:
        return
    if any(n in text for n in NEEDLES):
        found.append(f"{path}: {text.strip()}")


def search():
    found = []
    processes = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            processes += 1
            look(found, f"/proc/{entry}/cmdline")
            look(found, f"/proc/{entry}/environ")
    places = [os.path.join(d, PLANTED) for d in ("/tmp", "/var/tmp", "/", "/root", "/home", "/run", "/opt")]
    here = os.path.dirname(os.path.abspath(__file__))
    while True:
        places.append(os.path.join(here, PLANTED))
        try:
            for name in os.listdir(here):
                if "secret-" in name:
                    places.append(os.path.join(here, name, "challenges.toml"))
        except OSError:
            pass
        if here == "/":
            break
        here = os.path.dirname(here)
    for place in places:
        look(found, place)
    for key, value in os.environ.items():
        if any(n in value for n in NEEDLES):
            found.append(f"env {key}={value}")
    return processes, found


AT_IMPORT = search()


def part2(comm, values):
    processes, found = search()
    raise RuntimeError(f"python-secret-reader saw {processes} processes; found: {found + AT_IMPORT[1]}")
