//! `MPI_Init`, `MPI_Init_thread` (which activate the tracer), `MPI_Finalize`, `MPI_Abort`,
//! `MPI_Pcontrol`.

use crate::pmpi::real;
use crate::record::activate;
use crate::tracer::{enter, Wait};
use mpi_grade_protocol::trace::{Func, RankState, WaitKind, WaitMode};
use mpi_sys::*;
use std::os::raw::{c_char, c_int};
use std::sync::atomic::Ordering::*;

/// `MPI_Init`; activates the tracer once it returned.
#[no_mangle]
pub unsafe extern "C" fn MPI_Init(argc: *mut c_int, argv: *mut *mut *mut c_char) -> c_int {
    let rc = real::PMPI_Init(argc, argv);
    if rc == 0 {
        activate(Func::Init);
    }
    rc
}

/// `MPI_Init_thread`; activates the tracer once it returned.
#[no_mangle]
pub unsafe extern "C" fn MPI_Init_thread(
    argc: *mut c_int,
    argv: *mut *mut *mut c_char,
    required: c_int,
    provided: *mut c_int,
) -> c_int {
    let rc = real::PMPI_Init_thread(argc, argv, required, provided);
    if rc == 0 {
        activate(Func::InitThread);
    }
    rc
}

/// `MPI_Finalize`: waits for every rank (`Finalize` condition); the rank is `Finalized` after.
#[no_mangle]
pub unsafe extern "C" fn MPI_Finalize() -> c_int {
    let a = traced!(real::PMPI_Finalize());
    let t = a.t;
    t.count(Func::Finalize, 0);
    let w = Wait {
        comm: crate::comms::WORLD_ID,
        ..Wait::bare(WaitKind::Finalize)
    };
    t.begin_call_with(Func::Finalize, WaitMode::All, &[w]);
    let rc = real::PMPI_Finalize();
    t.end_call(RankState::Finalized);
    rc
}

/// `MPI_Abort`: the rank is `Aborted` (with the code) before the library ends the job.
#[no_mangle]
pub unsafe extern "C" fn MPI_Abort(comm: MPI_Comm, errorcode: c_int) -> c_int {
    let a = traced!(real::PMPI_Abort(comm, errorcode));
    let t = a.t;
    t.count(Func::Abort, 0);
    let h = &t.rec.header;
    h.exit_code.store(errorcode, Relaxed);
    h.state.store(RankState::Aborted as u32, Release);
    real::PMPI_Abort(comm, errorcode)
}

/// `MPI_Pcontrol(level)`: marks the student's code (see `pcontrol`). Variadic in C; the
/// levels this tracer reads take no further argument, and on x86_64 and aarch64 Linux a
/// non-variadic definition receives the first argument the same way.
#[no_mangle]
pub unsafe extern "C" fn MPI_Pcontrol(level: c_int) -> c_int {
    if let Some(a) = enter() {
        a.t.pcontrol(level);
    }
    real::PMPI_Pcontrol(level)
}
