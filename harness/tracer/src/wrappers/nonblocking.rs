//! Non-blocking point-to-point calls. Starting one enters its request in the request table
//! (with what it needs to complete) and is progress; `Iprobe`/`Improbe` are polls: progress
//! only when they find a message.

use super::{status_or, type_bytes};
use crate::pmpi::real;
use crate::tracer::Wait;
use mpi_grade_protocol::trace::{Func, WaitKind, UNPAIRED_PERSISTENT};
use mpi_sys::*;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_void};

/// A non-blocking send of the library (`PMPI_Isend` and its modes).
pub(super) type IsendFn = unsafe extern "C" fn(
    *const c_void,
    c_int,
    MPI_Datatype,
    c_int,
    c_int,
    MPI_Comm,
    *mut MPI_Request,
) -> c_int;

/// The common body of the non-blocking sends; `zero_buffer_to_issend` (for `MPI_Isend` only)
/// makes the send synchronous while zero-buffer mode is on, as `MPI_Send` is.
#[inline(always)]
unsafe fn isend(
    func: Func,
    pmpi: IsendFn,
    zero_buffer_to_issend: bool,
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
    let w = t.p2p(
        WaitKind::Send,
        &c,
        comm,
        (dest, tag),
        (bytes, Some(datatype)),
    );
    t.sent(Some(w.peer), bytes);
    // Zero-buffer mode: an `Isend` + `Wait` cycle must deadlock as a `Send` cycle does, so the
    // standard non-blocking send completes only once matched (`MPI_Issend`).
    let pmpi: IsendFn = if zero_buffer_to_issend && t.zero_buffer() {
        real::PMPI_Issend
    } else {
        pmpi
    };
    let rc = pmpi(buf, count, datatype, dest, tag, comm, request);
    if rc == 0 {
        t.add_request(request, &w);
    }
    rc
}

/// `MPI_Isend` (executed as `PMPI_Issend` while zero-buffer mode is on).
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
        true,
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
        false,
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
        false,
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
        false,
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
    let w = t.p2p(
        WaitKind::Recv,
        &c,
        comm,
        (source, tag),
        (bytes, Some(datatype)),
    );
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
    let c = t.comm(comm);
    let mut own = MaybeUninit::uninit();
    let st = status_or(status, &mut own);
    let rc = real::PMPI_Improbe(source, tag, comm, flag, message, st);
    if rc == 0 && flag.as_ref().is_some_and(|&f| f != 0) {
        // A matched probe takes the message: it counts as received.
        let w = t.p2p(WaitKind::Recv, &c, comm, (source, tag), (0, None));
        let probed = Wait {
            bytes: mpi_grade_protocol::trace::UNKNOWN_BYTES,
            ..w
        };
        t.received_in(&c, comm, (source, &probed), st);
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

/// The common body of the persistent sends: counted, and the cell's message counts marked as
/// not comparable (the tracer does not follow persistent requests); `zero_buffer_to_ssend`
/// (for `MPI_Send_init` only) makes the send synchronous while zero-buffer mode is on.
#[inline(always)]
unsafe fn send_init(
    func: Func,
    pmpi: IsendFn,
    zero_buffer_to_ssend: bool,
    args: (
        *const c_void,
        c_int,
        MPI_Datatype,
        c_int,
        c_int,
        MPI_Comm,
        *mut MPI_Request,
    ),
) -> c_int {
    let (buf, count, datatype, dest, tag, comm, request) = args;
    let a = traced!(pmpi(buf, count, datatype, dest, tag, comm, request));
    let t = a.t;
    t.count(func, type_bytes(count, datatype));
    t.unpaired(UNPAIRED_PERSISTENT);
    let pmpi: IsendFn = if zero_buffer_to_ssend && t.zero_buffer() {
        real::PMPI_Ssend_init
    } else {
        pmpi
    };
    pmpi(buf, count, datatype, dest, tag, comm, request)
}

/// `MPI_Send_init` (a persistent `MPI_Ssend_init` while zero-buffer mode is on).
#[no_mangle]
pub unsafe extern "C" fn MPI_Send_init(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let args = (buf, count, datatype, dest, tag, comm, request);
    send_init(Func::SendInit, real::PMPI_Send_init, true, args)
}

/// `MPI_Ssend_init`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ssend_init(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let args = (buf, count, datatype, dest, tag, comm, request);
    send_init(Func::SsendInit, real::PMPI_Ssend_init, false, args)
}

/// `MPI_Bsend_init`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Bsend_init(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let args = (buf, count, datatype, dest, tag, comm, request);
    send_init(Func::BsendInit, real::PMPI_Bsend_init, false, args)
}

/// `MPI_Rsend_init`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Rsend_init(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let args = (buf, count, datatype, dest, tag, comm, request);
    send_init(Func::RsendInit, real::PMPI_Rsend_init, false, args)
}

/// `MPI_Recv_init`: counted; the cell's message counts are marked as not comparable.
#[no_mangle]
pub unsafe extern "C" fn MPI_Recv_init(
    buf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    source: c_int,
    tag: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(real::PMPI_Recv_init(
        buf, count, datatype, source, tag, comm, request
    ));
    let t = a.t;
    t.count(Func::RecvInit, type_bytes(count, datatype));
    t.unpaired(UNPAIRED_PERSISTENT);
    real::PMPI_Recv_init(buf, count, datatype, source, tag, comm, request)
}

/// `MPI_Start`: starts a persistent request (progress; its completion is not followed).
#[no_mangle]
pub unsafe extern "C" fn MPI_Start(request: *mut MPI_Request) -> c_int {
    let a = traced!(real::PMPI_Start(request));
    let t = a.t;
    t.count(Func::Start, 0);
    t.unpaired(UNPAIRED_PERSISTENT);
    t.progress();
    real::PMPI_Start(request)
}

/// `MPI_Startall`: starts persistent requests (progress; their completion is not followed).
#[no_mangle]
pub unsafe extern "C" fn MPI_Startall(count: c_int, array_of_requests: *mut MPI_Request) -> c_int {
    let a = traced!(real::PMPI_Startall(count, array_of_requests));
    let t = a.t;
    t.count(Func::Startall, 0);
    t.unpaired(UNPAIRED_PERSISTENT);
    t.progress();
    real::PMPI_Startall(count, array_of_requests)
}
