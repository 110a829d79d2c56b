//! Non-blocking point-to-point calls. Starting one enters its request in the request table
//! (with what it needs to complete) and is progress; `Iprobe`/`Improbe` are polls: progress
//! only when they find a message.

use super::type_bytes;
use crate::pmpi::real;
use crate::tracer::Wait;
use mpi_grade_protocol::trace::{Func, WaitKind};
use mpi_sys::*;
use std::os::raw::{c_int, c_void};

type IsendFn = unsafe extern "C" fn(
    *const c_void,
    c_int,
    MPI_Datatype,
    c_int,
    c_int,
    MPI_Comm,
    *mut MPI_Request,
) -> c_int;

#[inline(always)]
unsafe fn isend(
    func: Func,
    pmpi: IsendFn,
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(pmpi(buf, count, datatype, dest, tag, comm, request));
    let t = a.t;
    let bytes = type_bytes(count, datatype);
    t.count(func, bytes);
    let c = t.comm(comm);
    let w = t.p2p(WaitKind::Send, &c, comm, dest, tag, bytes);
    t.sent(Some(w.peer), bytes);
    let rc = pmpi(buf, count, datatype, dest, tag, comm, request);
    if rc == 0 {
        t.add_request(request, &w);
    }
    rc
}

/// `MPI_Isend`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Isend(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    isend(
        Func::Isend,
        real::PMPI_Isend,
        buf,
        count,
        datatype,
        dest,
        tag,
        comm,
        request,
    )
}

/// `MPI_Issend`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Issend(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    isend(
        Func::Issend,
        real::PMPI_Issend,
        buf,
        count,
        datatype,
        dest,
        tag,
        comm,
        request,
    )
}

/// `MPI_Ibsend`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ibsend(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    isend(
        Func::Ibsend,
        real::PMPI_Ibsend,
        buf,
        count,
        datatype,
        dest,
        tag,
        comm,
        request,
    )
}

/// `MPI_Irsend`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Irsend(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    isend(
        Func::Irsend,
        real::PMPI_Irsend,
        buf,
        count,
        datatype,
        dest,
        tag,
        comm,
        request,
    )
}

/// `MPI_Irecv`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Irecv(
    buf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    source: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(real::PMPI_Irecv(
        buf, count, datatype, source, tag, comm, request
    ));
    let t = a.t;
    let bytes = type_bytes(count, datatype);
    t.count(Func::Irecv, bytes);
    let c = t.comm(comm);
    let w = t.p2p(WaitKind::Recv, &c, comm, source, tag, bytes);
    let rc = real::PMPI_Irecv(buf, count, datatype, source, tag, comm, request);
    if rc == 0 {
        t.add_request(request, &w);
    }
    rc
}

/// `MPI_Iprobe`: a poll, never shown as a blocked call.
#[no_mangle]
pub unsafe extern "C" fn MPI_Iprobe(
    source: c_int,
    tag: c_int,
    comm: MPI_Comm,
    flag: *mut c_int,
    status: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Iprobe(source, tag, comm, flag, status));
    let t = a.t;
    t.count(Func::Iprobe, 0);
    let rc = real::PMPI_Iprobe(source, tag, comm, flag, status);
    if rc == 0 && flag.as_ref().is_some_and(|&f| f != 0) {
        t.progress();
    }
    rc
}

/// `MPI_Improbe`: a poll, never shown as a blocked call.
#[no_mangle]
pub unsafe extern "C" fn MPI_Improbe(
    source: c_int,
    tag: c_int,
    comm: MPI_Comm,
    flag: *mut c_int,
    message: *mut MPI_Message,
    status: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Improbe(source, tag, comm, flag, message, status));
    let t = a.t;
    t.count(Func::Improbe, 0);
    let rc = real::PMPI_Improbe(source, tag, comm, flag, message, status);
    if rc == 0 && flag.as_ref().is_some_and(|&f| f != 0) {
        t.progress();
    }
    rc
}

/// `MPI_Imrecv`: its message is matched already, so its request is entered as `Unknown`
/// (assumed to complete).
#[no_mangle]
pub unsafe extern "C" fn MPI_Imrecv(
    buf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    message: *mut MPI_Message,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(real::PMPI_Imrecv(buf, count, datatype, message, request));
    let t = a.t;
    let bytes = type_bytes(count, datatype);
    t.count(Func::Imrecv, bytes);
    let rc = real::PMPI_Imrecv(buf, count, datatype, message, request);
    if rc == 0 {
        let w = Wait {
            bytes,
            ..Wait::bare(WaitKind::Unknown)
        };
        t.add_request(request, &w);
    }
    rc
}
