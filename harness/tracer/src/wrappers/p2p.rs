//! Blocking point-to-point calls: sends, receives, `Sendrecv`, probes.
//!
//! Counted bytes are those the call sends, or for receive-only calls the size of the receive
//! buffer. The call slot lists a `Send` and/or `Recv` condition with the peer as a world rank.
//! Every send counts a message to its destination and every completed receive one from its
//! source (learnt from the status where the call named `MPI_ANY_SOURCE`).

use super::nonblocking::IsendFn;
use super::{polite, status_or, type_bytes};
use crate::pmpi::real;
use crate::tracer::Wait;
use mpi_grade_protocol::trace::{Func, WaitKind, WaitMode, UNKNOWN_BYTES};
use mpi_sys::*;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_void};

type SendFn =
    unsafe extern "C" fn(*const c_void, c_int, MPI_Datatype, c_int, c_int, MPI_Comm) -> c_int;

/// The common body of the blocking sends; `zero_buffer_to_ssend` (for `MPI_Send` only) makes
/// the send synchronous while zero-buffer mode is on.
#[inline(always)]
unsafe fn send(
    func: Func,
    (pmpi, ipmpi): (SendFn, IsendFn),
    zero_buffer_to_ssend: bool,
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(pmpi(buf, count, datatype, dest, tag, comm));
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
    // Zero-buffer mode: a standard send becomes synchronous, so that a program relying on
    // the library buffering small messages deadlocks (visibly) at any size.
    let (pmpi, ipmpi): (SendFn, IsendFn) = if zero_buffer_to_ssend && t.zero_buffer() {
        (real::PMPI_Ssend, real::PMPI_Issend)
    } else {
        (pmpi, ipmpi)
    };
    t.blocking(func, WaitMode::All, &[w], || {
        if t.waits_politely() {
            polite::run(
                |request| ipmpi(buf, count, datatype, dest, tag, comm, request),
                RSMPI_STATUS_IGNORE,
            )
        } else {
            pmpi(buf, count, datatype, dest, tag, comm)
        }
    })
}

/// `MPI_Send` (executed as `PMPI_Ssend` while zero-buffer mode is on).
#[no_mangle]
pub unsafe extern "C" fn MPI_Send(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
) -> c_int {
    send(
        Func::Send,
        (real::PMPI_Send, real::PMPI_Isend),
        true,
        buf,
        count,
        datatype,
        dest,
        tag,
        comm,
    )
}

/// `MPI_Ssend`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ssend(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
) -> c_int {
    send(
        Func::Ssend,
        (real::PMPI_Ssend, real::PMPI_Issend),
        false,
        buf,
        count,
        datatype,
        dest,
        tag,
        comm,
    )
}

/// `MPI_Bsend`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Bsend(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
) -> c_int {
    send(
        Func::Bsend,
        (real::PMPI_Bsend, real::PMPI_Ibsend),
        false,
        buf,
        count,
        datatype,
        dest,
        tag,
        comm,
    )
}

/// `MPI_Rsend`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Rsend(
    buf: *const c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    comm: MPI_Comm,
) -> c_int {
    send(
        Func::Rsend,
        (real::PMPI_Rsend, real::PMPI_Irsend),
        false,
        buf,
        count,
        datatype,
        dest,
        tag,
        comm,
    )
}

/// Whether an error code is of the class `MPI_ERR_TRUNCATE`.
unsafe fn truncated(rc: c_int) -> bool {
    let mut class: c_int = 0;
    mpi_sys::PMPI_Error_class(rc, &mut class) == 0 && class == mpi_sys::MPI_ERR_TRUNCATE as c_int
}

/// `MPI_Recv`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Recv(
    buf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    source: c_int,
    tag: c_int,
    comm: MPI_Comm,
    status: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Recv(
        buf, count, datatype, source, tag, comm, status
    ));
    let t = a.t;
    let bytes = type_bytes(count, datatype);
    t.count(Func::Recv, bytes);
    let c = t.comm(comm);
    let w = t.p2p(
        WaitKind::Recv,
        &c,
        comm,
        (source, tag),
        (bytes, Some(datatype)),
    );
    let mut own = MaybeUninit::uninit();
    let st = status_or(status, &mut own);
    let rc = t.blocking(Func::Recv, WaitMode::All, &[w], || {
        if t.waits_politely() {
            polite::run(
                |request| real::PMPI_Irecv(buf, count, datatype, source, tag, comm, request),
                st,
            )
        } else {
            real::PMPI_Recv(buf, count, datatype, source, tag, comm, st)
        }
    });
    // A truncated message was matched all the same (a library returning the error, as
    // mpi4py asks for, lets the program go on): the grader pairs it with its send.
    if rc == 0 || truncated(rc) {
        t.received_in(&c, comm, (source, &w), st);
    }
    rc
}

/// `MPI_Sendrecv`: waits for both its send and its receive; counts the bytes sent.
#[no_mangle]
pub unsafe extern "C" fn MPI_Sendrecv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    source: c_int,
    recvtag: c_int,
    comm: MPI_Comm,
    status: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Sendrecv(
        sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag,
        comm, status
    ));
    let t = a.t;
    let sent = type_bytes(sendcount, sendtype);
    t.count(Func::Sendrecv, sent);
    let c = t.comm(comm);
    let waits = [
        t.p2p(
            WaitKind::Send,
            &c,
            comm,
            (dest, sendtag),
            (sent, Some(sendtype)),
        ),
        t.p2p(
            WaitKind::Recv,
            &c,
            comm,
            (source, recvtag),
            (type_bytes(recvcount, recvtype), Some(recvtype)),
        ),
    ];
    t.sent(Some(waits[0].peer), sent);
    let mut own = MaybeUninit::uninit();
    let st = status_or(status, &mut own);
    let rc = t.blocking(Func::Sendrecv, WaitMode::All, &waits, || {
        if t.waits_politely() {
            polite::sendrecv(
                |request| {
                    real::PMPI_Isend(sendbuf, sendcount, sendtype, dest, sendtag, comm, request)
                },
                |request| {
                    real::PMPI_Irecv(recvbuf, recvcount, recvtype, source, recvtag, comm, request)
                },
                st,
            )
        } else {
            real::PMPI_Sendrecv(
                sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source,
                recvtag, comm, st,
            )
        }
    });
    if rc == 0 {
        t.received_in(&c, comm, (source, &waits[1]), st);
    }
    rc
}

/// `MPI_Sendrecv_replace`: like `MPI_Sendrecv` with one buffer.
#[no_mangle]
pub unsafe extern "C" fn MPI_Sendrecv_replace(
    buf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    source: c_int,
    recvtag: c_int,
    comm: MPI_Comm,
    status: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Sendrecv_replace(
        buf, count, datatype, dest, sendtag, source, recvtag, comm, status
    ));
    let t = a.t;
    let bytes = type_bytes(count, datatype);
    t.count(Func::SendrecvReplace, bytes);
    let c = t.comm(comm);
    let waits = [
        t.p2p(
            WaitKind::Send,
            &c,
            comm,
            (dest, sendtag),
            (bytes, Some(datatype)),
        ),
        t.p2p(
            WaitKind::Recv,
            &c,
            comm,
            (source, recvtag),
            (bytes, Some(datatype)),
        ),
    ];
    t.sent(Some(waits[0].peer), bytes);
    let mut own = MaybeUninit::uninit();
    let st = status_or(status, &mut own);
    let rc = t.blocking(Func::SendrecvReplace, WaitMode::All, &waits, || {
        real::PMPI_Sendrecv_replace(
            buf, count, datatype, dest, sendtag, source, recvtag, comm, st,
        )
    });
    if rc == 0 {
        t.received_in(&c, comm, (source, &waits[1]), st);
    }
    rc
}

/// `MPI_Probe`: waits like a receive of 0 bytes.
#[no_mangle]
pub unsafe extern "C" fn MPI_Probe(
    source: c_int,
    tag: c_int,
    comm: MPI_Comm,
    status: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Probe(source, tag, comm, status));
    let t = a.t;
    t.count(Func::Probe, 0);
    let c = t.comm(comm);
    let w = t.p2p(WaitKind::Recv, &c, comm, (source, tag), (0, None));
    t.blocking(Func::Probe, WaitMode::All, &[w], || {
        if t.waits_politely() {
            polite::probe(source, tag, comm, status)
        } else {
            real::PMPI_Probe(source, tag, comm, status)
        }
    })
}

/// `MPI_Mprobe`: waits like a receive of 0 bytes.
#[no_mangle]
pub unsafe extern "C" fn MPI_Mprobe(
    source: c_int,
    tag: c_int,
    comm: MPI_Comm,
    message: *mut MPI_Message,
    status: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Mprobe(source, tag, comm, message, status));
    let t = a.t;
    t.count(Func::Mprobe, 0);
    let c = t.comm(comm);
    let w = t.p2p(WaitKind::Recv, &c, comm, (source, tag), (0, None));
    let mut own = MaybeUninit::uninit();
    let st = status_or(status, &mut own);
    let rc = t.blocking(Func::Mprobe, WaitMode::All, &[w], || {
        if t.waits_politely() {
            polite::mprobe(source, tag, comm, message, st)
        } else {
            real::PMPI_Mprobe(source, tag, comm, message, st)
        }
    });
    // The message is matched now (it is no longer anybody else's to receive).
    if rc == 0 {
        let probed = Wait {
            bytes: UNKNOWN_BYTES,
            ..w
        };
        t.received_in(&c, comm, (source, &probed), st);
    }
    rc
}

/// `MPI_Mrecv`: the message is already matched, so the call waits on nothing.
#[no_mangle]
pub unsafe extern "C" fn MPI_Mrecv(
    buf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    message: *mut MPI_Message,
    status: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Mrecv(buf, count, datatype, message, status));
    let t = a.t;
    t.count(Func::Mrecv, type_bytes(count, datatype));
    t.blocking(Func::Mrecv, WaitMode::All, &[] as &[Wait], || {
        if t.waits_politely() {
            polite::run(
                |request| real::PMPI_Imrecv(buf, count, datatype, message, request),
                status,
            )
        } else {
            real::PMPI_Mrecv(buf, count, datatype, message, status)
        }
    })
}
