//! Activation: after `MPI_Init` returns, map this rank's record file and fill its header.
//!
//! Runs once per process, off the hot path, so it may allocate and make system calls. Any
//! failure leaves the tracer passive (every wrapper only forwards) after one line on stderr.

use crate::stack;
use crate::tracer::{now_ns, publish, Consts, Tracer};
use mpi_grade_protocol::run::{
    trace_path, ENV_POLITE, ENV_TRACE_DIR, ENV_TRACE_SCOPE, ENV_ZERO_BUFFER, SCOPE_MARKED,
    SCOPE_PROGRAM,
};
use mpi_grade_protocol::trace::{
    Func, RankState, Record, EXE_PATH_LEN, LAYOUT_VERSION, MAGIC, RECORD_SIZE,
};
use std::fs::OpenOptions;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::*;

/// Activates the tracer if the grader asked for it; `init` is the function that initialised
/// MPI (counted like any other call in program scope).
///
/// # Safety
/// MPI must be initialised; call from the thread that initialised it, once.
pub unsafe fn activate(init: Func) {
    if crate::tracer::tracer().is_some() {
        return;
    }
    match std::panic::catch_unwind(|| try_activate(init)) {
        Ok(Ok(())) => {}
        Ok(Err(message)) => eprintln!("mpi-grade-tracer: not tracing: {message}"),
        Err(_) => eprintln!("mpi-grade-tracer: not tracing: activation panicked"),
    }
}

unsafe fn try_activate(init: Func) -> Result<(), String> {
    let dir = match std::env::var_os(ENV_TRACE_DIR) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => return Ok(()),
    };
    let (mut rank, mut size) = (0, 0);
    if mpi_sys::PMPI_Comm_rank(mpi_sys::RSMPI_COMM_WORLD, &mut rank) != 0
        || mpi_sys::PMPI_Comm_size(mpi_sys::RSMPI_COMM_WORLD, &mut size) != 0
    {
        return Err("cannot get the world rank and size".into());
    }
    let path = trace_path(&dir, rank as u32);
    let ptr = map(&path).map_err(|e| format!("cannot map {}: {e}", path.display()))?;

    let program_scope = match std::env::var(ENV_TRACE_SCOPE).as_deref() {
        Err(_) | Ok(SCOPE_PROGRAM) | Ok("") => true,
        Ok(SCOPE_MARKED) => false,
        Ok(other) => {
            eprintln!(
                "mpi-grade-tracer: unknown {ENV_TRACE_SCOPE}={other:?}, tracing the whole program"
            );
            true
        }
    };
    let zero_buffer = program_scope && std::env::var(ENV_ZERO_BUFFER).as_deref() == Ok("1");
    if !program_scope {
        // A graded launch: the grader mapped the record before the launch, so the file is of
        // no more use by path. Deleting it now, before the runtime's first barrier, leaves the
        // student's code (in any rank) no path to rewrite the counters by; the mapping stays.
        if let Err(e) = std::fs::remove_file(&path) {
            eprintln!("mpi-grade-tracer: cannot delete {}: {e}", path.display());
        }
    }

    // A record left by an earlier run must not show through: clear it, magic first.
    let rec: &'static Record = Record::from_ptr(ptr);
    rec.header.magic.store(0, Release);
    std::ptr::write_bytes(ptr.add(8), 0, RECORD_SIZE - 8);

    let h = &rec.header;
    h.layout_version.store(LAYOUT_VERSION, Relaxed);
    h.rank.store(rank, Relaxed);
    h.world_size.store(size, Relaxed);
    h.pid.store(libc::getpid(), Relaxed);
    h.tid.store(libc::gettid(), Relaxed);
    h.program_scope.store(u32::from(program_scope), Relaxed);
    h.zero_buffer.store(u32::from(zero_buffer), Relaxed);
    h.cell.store(if program_scope { 0 } else { -1 }, Relaxed);
    h.exe_bias.store(stack::exe_bias(), Relaxed);
    if let Ok(exe) = std::fs::read_link("/proc/self/exe") {
        let bytes = exe.as_os_str().as_bytes();
        for (slot, &b) in h.exe_path.iter().zip(bytes.iter().take(EXE_PATH_LEN - 1)) {
            slot.store(b, Relaxed);
        }
    }
    h.progress_ns.store(now_ns(), Relaxed);
    h.state.store(RankState::Running as u32, Relaxed);

    let mut tracer = Tracer::new(rec, rank, size, program_scope, Consts::from_library());
    tracer.own_code = stack::code_range_of(activate as *const () as usize);
    tracer.polite = std::env::var(ENV_POLITE).as_deref() == Ok("1");
    h.polite.store(u32::from(tracer.polite), Relaxed);
    let tracer: &'static Tracer = Box::leak(Box::new(tracer));
    tracer.register_predefined();
    tracer.count(init, 0);

    stack::install_handler()
        .map_err(|e| format!("cannot install the stack signal handler: {e}"))?;
    // A rank that ends itself before finalising says so, with its status: the launcher often
    // cannot tell which rank left first (MPICH kills the others within milliseconds and names
    // none), but only the one that called exit() runs this.
    if on_exit(record_exit, std::ptr::null_mut()) != 0 {
        eprintln!("mpi-grade-tracer: cannot register the exit handler");
    }
    publish(tracer);
    h.magic.store(MAGIC, Release);
    Ok(())
}

extern "C" {
    /// glibc: like `atexit`, but the handler gets the exit status.
    fn on_exit(
        handler: extern "C" fn(libc::c_int, *mut libc::c_void),
        arg: *mut libc::c_void,
    ) -> libc::c_int;
}

/// Exit handler: a rank that did not finalise (or abort) records that it ended itself.
extern "C" fn record_exit(status: libc::c_int, _arg: *mut libc::c_void) {
    let Some(t) = crate::tracer::tracer() else {
        return;
    };
    let h = &t.rec.header;
    match RankState::from_u32(h.state.load(Acquire)) {
        RankState::Finalized | RankState::Aborted | RankState::Exited => {}
        RankState::NotStarted | RankState::Running | RankState::InCall => {
            h.exit_code.store(status, Relaxed);
            h.state.store(RankState::Exited as u32, Release);
        }
    }
}

/// Maps the record file (creating it, or growing it to `RECORD_SIZE`, if the grader did not).
fn map(path: &Path) -> std::io::Result<*mut u8> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    if file.metadata()?.len() < RECORD_SIZE as u64 {
        file.set_len(RECORD_SIZE as u64)?;
    }
    // SAFETY: a fresh shared mapping of a file at least RECORD_SIZE long; the descriptor may
    // be closed afterwards (the mapping keeps the file).
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            RECORD_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    Ok(p as *mut u8)
}
