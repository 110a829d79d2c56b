#![warn(missing_docs)]
//! Rank-side runtime of mpi-grade.
//!
//! The grader builds every submission into a driver whose `main` is a call to [`main`] with the
//! submission's functions. In each rank, the runtime then:
//!
//! 1. reads the plan the grader wrote into the run directory (`MPI_GRADE_RUN_DIR`);
//! 2. initialises MPI, reads this rank's secret key and deletes the key file, makes the process
//!    non-dumpable (so that no other process of the same user can read its memory), and
//!    reports `ready`: all before the first barrier, so that when student code runs in any
//!    rank no key is reachable by path any more;
//! 3. for each planned cell, in order: duplicates the world communicator (so that no message of
//!    one cell can be received in the next), and per repetition: builds this rank's payload from
//!    its key, waits at a barrier, marks the student's code with `MPI_Pcontrol` (for the
//!    tracer), calls the student function, times it, and appends what it returned to the
//!    results file; then reports `done` with where the blocks are;
//! 4. reports `finished` and finalises MPI.
//!
//! Reports go to `ranks/<rank>.jsonl` in the run directory, never to stdout, which belongs to
//! the student. If anything panics, the runtime records the panic and aborts the whole job at
//! once: unwinding would run `MPI_Finalize`, which blocks while other ranks still communicate.

mod alltoall;
mod events;

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi_grade_protocol::run::{self, Plan, RankEvent};
use mpi_grade_protocol::trace::pcontrol;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

/// The signature of every part of the alltoall challenge: `values[i]` is the block this rank
/// sends to rank `i`; element `i` of the result is the block received from rank `i`.
pub type AlltoallFn = fn(&SimpleCommunicator, &[Vec<i64>]) -> Vec<Vec<i64>>;

/// One student function the driver can call, under the name the plan uses.
pub struct Part {
    /// The name plans call the function by (`"part1"`).
    pub name: &'static str,
    /// The student's function.
    pub function: AlltoallFn,
}

impl Part {
    /// Names a student function. The driver writes one `Part::new` per line, so that a type
    /// error points at the line of the part whose signature is wrong.
    pub const fn new(name: &'static str, function: AlltoallFn) -> Part {
        Part { name, function }
    }
}

/// The cell whose student code is running, or -1; read by the panic hook.
static CURRENT_CELL: AtomicI64 = AtomicI64::new(-1);

/// Runs the plan of the current launch with the given parts, then exits the process.
///
/// Exits with status 2 and a message on stderr if it is not started by the grader (no run
/// directory or no readable plan).
pub fn main(parts: &[Part]) -> ! {
    let run_dir = match std::env::var_os(run::ENV_RUN_DIR) {
        Some(dir) => PathBuf::from(dir),
        None => usage_error(&format!(
            "{} is not set: this program is a driver built by mpi-grade and runs under `mpi-grade grade`",
            run::ENV_RUN_DIR
        )),
    };
    let plan = read_plan(&run_dir);

    let universe = mpi::initialize().unwrap_or_else(|| usage_error("MPI was already initialised"));
    let world = universe.world();
    let rank = world.rank() as u32;
    let size = world.size() as u32;

    events::open(&run::rank_events_path(&run_dir, rank))
        .unwrap_or_else(|e| usage_error(&format!("cannot write the rank's event file: {e}")));
    std::panic::set_hook(Box::new(record_panic_and_abort));
    let key = take_key(&run_dir, rank);
    let results_path = run::rank_results_path(&run_dir, rank);
    let mut results = std::fs::OpenOptions::new()
        .append(true)
        .open(&results_path)
        .map(alltoall::Results::new)
        .unwrap_or_else(|e| {
            panic!(
                "mpi-grade runtime: cannot open {}: {e}",
                results_path.display()
            )
        });

    events::emit(&RankEvent::Ready {
        rank,
        size,
        pid: std::process::id(),
        // Some libraries count the terminating NUL in the length they return.
        library: mpi::environment::library_version()
            .unwrap_or_default()
            .trim_end_matches('\0')
            .to_string(),
        run_id: plan.run_id,
    });
    if plan.held {
        // Started ahead of its turn: nothing of the launch runs until the grader says so.
        while !run::go_path(&run_dir).exists() {
            std::thread::sleep(run::GO_POLL);
        }
    }

    for cell in &plan.cells {
        let part = parts
            .iter()
            .find(|p| p.name == cell.function)
            .unwrap_or_else(|| {
                panic!(
                    "mpi-grade runtime: the plan names `{}`, which the driver does not have",
                    cell.function
                )
            });
        let comm = world.duplicate();
        let mut times = Vec::new();
        let mut returned = Vec::new();
        for repetition in 0..cell.repetitions.max(1) {
            // Every repetition sends new values (a function that caches its first answer is
            // wrong), and every rank runs them all whatever it returned: a rank that stopped
            // early would meet the others' next barrier with its next cell's collectives.
            let values = alltoall::payload(
                &key,
                cell.index,
                repetition,
                cell.inputs_of(rank, size),
                cell.scaling_factor,
                cell.shift,
            );
            world.barrier();
            if repetition == 0 {
                events::emit(&RankEvent::Start { cell: cell.index });
            }
            CURRENT_CELL.store(i64::from(cell.index), Ordering::SeqCst);
            pcontrol_level(cell.pcontrol_level());
            let started = Instant::now();
            let result = (part.function)(&comm, &values);
            times.push(started.elapsed().as_secs_f64());
            pcontrol_level(pcontrol::LEAVE);
            CURRENT_CELL.store(-1, Ordering::SeqCst);
            drop(values);
            returned.push(results.append(
                &result,
                cell.outputs_of(rank, size),
                cell.scaling_factor,
            ));
        }
        events::emit(&RankEvent::Done {
            cell: cell.index,
            seconds: times[0],
            times,
            results: returned,
        });
    }
    world.barrier();
    events::emit(&RankEvent::Finished);
    drop(universe);
    std::process::exit(0)
}

fn read_plan(run_dir: &std::path::Path) -> Plan {
    let path = run::plan_path(run_dir);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| usage_error(&format!("cannot read {}: {e}", path.display())));
    let plan: Plan = serde_json::from_str(&text)
        .unwrap_or_else(|e| usage_error(&format!("malformed {}: {e}", path.display())));
    if plan.format_version != run::FORMAT_VERSION {
        usage_error(&format!(
            "{} has format version {}, this runtime reads {}",
            path.display(),
            plan.format_version,
            run::FORMAT_VERSION
        ));
    }
    plan
}

/// Reads this rank's key and deletes its file, then makes the process non-dumpable: from now
/// on no process of the sandbox user can read the key, by path or from this process's memory
/// (`/proc/<pid>/mem`, `process_vm_readv` and `ptrace` need a dumpable target).
fn take_key(run_dir: &std::path::Path, rank: u32) -> mpi_grade_protocol::payload::Key {
    let path = run::rank_key_path(run_dir, rank);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("mpi-grade runtime: cannot read {}: {e}", path.display()));
    if let Err(e) = std::fs::remove_file(&path) {
        panic!("mpi-grade runtime: cannot delete {}: {e}", path.display());
    }
    let key = mpi_grade_protocol::payload::parse_key_hex(&text)
        .unwrap_or_else(|| panic!("mpi-grade runtime: {} holds no key", path.display()));
    const PR_SET_DUMPABLE: i32 = 4;
    extern "C" {
        fn prctl(option: i32, ...) -> i32;
    }
    // SAFETY: PR_SET_DUMPABLE takes one integer argument and touches no memory of ours.
    if unsafe { prctl(PR_SET_DUMPABLE, 0u64) } != 0 {
        panic!(
            "mpi-grade runtime: cannot make the rank non-dumpable: {}",
            std::io::Error::last_os_error()
        );
    }
    key
}

/// Tells the tracer (if one is preloaded) where the student's code starts and ends.
fn pcontrol_level(level: i32) {
    // SAFETY: MPI is initialised; MPI_Pcontrol takes a level and no further arguments here.
    unsafe {
        mpi::ffi::MPI_Pcontrol(level);
    }
}

/// Panic hook: the default message on stderr, the panic in the event file, then `MPI_Abort`,
/// which ends every rank of the job now instead of letting others wait for this one.
fn record_panic_and_abort(info: &std::panic::PanicHookInfo<'_>) {
    let message = panic_message(info);
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
    // One write: stderr is unbuffered, and the launcher tags each write with the rank.
    let line = format!(
        "panicked at {}: {message}\n",
        location.as_deref().unwrap_or("<unknown>")
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    let cell = u32::try_from(CURRENT_CELL.load(Ordering::SeqCst)).ok();
    events::emit(&RankEvent::Panic {
        cell,
        message,
        location,
    });
    // Out of the student's code first: the abort is the runtime's, not a call of the part.
    pcontrol_level(pcontrol::LEAVE);
    // SAFETY: MPI_Abort may be called at any time after MPI_Init; the runtime installs this hook
    // only after initialising MPI.
    unsafe {
        mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, run::PANIC_ABORT_CODE);
    }
    std::process::abort();
}

fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(panic with a non-string payload)".to_string()
    }
}

fn usage_error(message: &str) -> ! {
    eprintln!("mpi-grade runtime: {message}");
    std::process::exit(2)
}
