# mpi-grade in a container: Debian 12 (bookworm), Open MPI and MPICH, libclang, the Rust
# toolchain (the grader builds each submission), mpi-grade itself, and the unprivileged user
# `mpi-grade` that the grader, run as root, builds and runs submissions as.
#
#   docker build -t mpi-grade --build-arg MPI_GRADE_COMMIT="$(git rev-parse --short=12 HEAD)" .
#   docker run --rm --privileged -v "$PWD/my-crate:/crate" mpi-grade mpi-grade check
#
# The sandbox sets up PID, mount and network namespaces and a cgroup for every build and launch,
# which a container may only do with the privileges to (`--privileged`, or at least
# `--cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined` and a
# writable cgroup). Without them a grade refuses to run (exit 2) unless given `--no-sandbox`,
# which is fine for a student's own code on their own machine and never for grading others'.
#
# The build context needs no .git: MPI_GRADE_COMMIT names the commit in `--version` and every
# report (else "unknown"). .dockerignore keeps target/ out of the context.
ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-bookworm

ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /opt/mpi-grade

# The system packages (both MPIs, libclang for rsmpi's bindings, zip, Python) and the users, as on
# any Debian machine: the same script CI and scripts/quickstart run. It ends with
# scripts/install-python: NumPy, blake3 and mpi4py in
# /usr/local/lib/mpi-grade/python/<implementation> (mpi4py: the wheel for Open MPI, built from
# source against MPICH), for Python submissions.
COPY scripts/install-deps scripts/install-python scripts/
RUN scripts/install-deps && rm -rf /var/lib/apt/lists/* /root/.cache/pip

# The grader, from this checkout, with the versions of Cargo.lock.
COPY . .
ARG MPI_GRADE_COMMIT=unknown
RUN MPI_GRADE_COMMIT="$MPI_GRADE_COMMIT" cargo install --locked --path harness/grader --root /usr/local \
  && rm -rf target "$CARGO_HOME/registry/src"

# Grades run where the submission is mounted (builds are cached in ~/.cache/mpi-grade).
WORKDIR /crate
CMD ["mpi-grade", "--help"]
