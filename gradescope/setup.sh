#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu), from the
# autograder zip that gradescope/make-autograder packs: this script, run_autograder, the
# course's challenges.toml and mpi-grade's sources in mpi-grade/.
#
# It installs Open MPI, libclang and Rust, installs mpi-grade, creates the sandbox user
# mpi-grade, and grades the reference solution
# once, so that the image's cache already holds rsmpi, the tracer, the probe of this MPI and the
# baselines of the comparison: a student's grade then only builds their crate.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  openmpi-bin libopenmpi-dev libclang-dev build-essential pkg-config ca-certificates curl >/dev/null

if ! command -v cargo >/dev/null; then
  # Ubuntu's own Rust is too old for mpi-grade's dependencies.
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
# shellcheck disable=SC1091
. "$HOME/.cargo/env"

cargo install --locked --path "$here/mpi-grade/harness/grader" --root /usr/local

# The unprivileged user the grader (run as root by Gradescope) builds and runs submissions as
# (README, "Security model"): without it the grader falls back to `nobody`, whose files other
# services may share.
if ! id -u mpi-grade >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mpi-grade
fi

# Warm the cache (as root, like run_autograder: ~/.cache/mpi-grade). Exit 1 (a part of the
# reference failing this course's rules) is a grade; anything else is a broken setup.
status=0
mpi-grade grade "$here/mpi-grade/solutions/reference" --config "$here/challenges.toml" \
  --color never || status=$?
if [ "$status" -gt 1 ]; then
  echo "setup.sh: grading the reference solution failed (exit $status)" >&2
  exit 1
fi
echo "setup.sh: mpi-grade is installed and its cache is warm"
