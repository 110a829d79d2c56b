//! Completion calls. `Wait*` block (the call slot lists the conditions of the requests they
//! wait on, from the request table); `Test*` poll and are not shown as blocked calls. Both
//! remove the requests that completed from the table.

use super::polite;
use crate::pmpi::real;
use mpi_grade_protocol::trace::{Func, WaitMode};
use mpi_sys::*;
use std::os::raw::c_int;

/// `MPI_Wait`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Wait(request: *mut MPI_Request, status: *mut MPI_Status) -> c_int {
    let a = traced!(real::PMPI_Wait(request, status));
    let t = a.t;
    t.count(Func::Wait, 0);
    t.wait_call(Func::Wait, WaitMode::All, request, 1, || {
        if t.waits_politely() {
            polite::wait(request, status)
        } else {
            real::PMPI_Wait(request, status)
        }
    })
}

/// `MPI_Waitall`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Waitall(
    count: c_int,
    array_of_requests: *mut MPI_Request,
    array_of_statuses: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Waitall(
        count,
        array_of_requests,
        array_of_statuses
    ));
    let t = a.t;
    t.count(Func::Waitall, 0);
    t.wait_call(
        Func::Waitall,
        WaitMode::All,
        array_of_requests,
        count,
        || {
            if t.waits_politely() {
                polite::waitall(count, array_of_requests, array_of_statuses)
            } else {
                real::PMPI_Waitall(count, array_of_requests, array_of_statuses)
            }
        },
    )
}

/// `MPI_Waitany`: any one of its conditions is enough.
#[no_mangle]
pub unsafe extern "C" fn MPI_Waitany(
    count: c_int,
    array_of_requests: *mut MPI_Request,
    index: *mut c_int,
    status: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Waitany(count, array_of_requests, index, status));
    let t = a.t;
    t.count(Func::Waitany, 0);
    t.wait_call(
        Func::Waitany,
        WaitMode::Any,
        array_of_requests,
        count,
        || {
            if t.waits_politely() {
                polite::waitany(count, array_of_requests, index, status)
            } else {
                real::PMPI_Waitany(count, array_of_requests, index, status)
            }
        },
    )
}

/// `MPI_Waitsome`: any one of its conditions is enough.
#[no_mangle]
pub unsafe extern "C" fn MPI_Waitsome(
    incount: c_int,
    array_of_requests: *mut MPI_Request,
    outcount: *mut c_int,
    array_of_indices: *mut c_int,
    array_of_statuses: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Waitsome(
        incount,
        array_of_requests,
        outcount,
        array_of_indices,
        array_of_statuses
    ));
    let t = a.t;
    t.count(Func::Waitsome, 0);
    t.wait_call(
        Func::Waitsome,
        WaitMode::Any,
        array_of_requests,
        incount,
        || {
            if t.waits_politely() {
                polite::waitsome(
                    incount,
                    array_of_requests,
                    outcount,
                    array_of_indices,
                    array_of_statuses,
                )
            } else {
                real::PMPI_Waitsome(
                    incount,
                    array_of_requests,
                    outcount,
                    array_of_indices,
                    array_of_statuses,
                )
            }
        },
    )
}

/// Whether an output flag is set.
unsafe fn set(flag: *const c_int) -> bool {
    flag.as_ref().is_some_and(|&f| f != 0)
}

/// `MPI_Test`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Test(
    request: *mut MPI_Request,
    flag: *mut c_int,
    status: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Test(request, flag, status));
    let t = a.t;
    t.count(Func::Test, 0);
    t.test_call(
        request,
        1,
        || real::PMPI_Test(request, flag, status),
        || set(flag),
    )
}

/// `MPI_Testall`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Testall(
    count: c_int,
    array_of_requests: *mut MPI_Request,
    flag: *mut c_int,
    array_of_statuses: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Testall(
        count,
        array_of_requests,
        flag,
        array_of_statuses
    ));
    let t = a.t;
    t.count(Func::Testall, 0);
    t.test_call(
        array_of_requests,
        count,
        || real::PMPI_Testall(count, array_of_requests, flag, array_of_statuses),
        || set(flag),
    )
}

/// `MPI_Testany`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Testany(
    count: c_int,
    array_of_requests: *mut MPI_Request,
    index: *mut c_int,
    flag: *mut c_int,
    status: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Testany(
        count,
        array_of_requests,
        index,
        flag,
        status
    ));
    let t = a.t;
    t.count(Func::Testany, 0);
    let undefined = t.consts.undefined;
    t.test_call(
        array_of_requests,
        count,
        || real::PMPI_Testany(count, array_of_requests, index, flag, status),
        // A set flag with no index means "no active request": nothing completed.
        || set(flag) && index.as_ref().is_some_and(|&i| i != undefined),
    )
}

/// `MPI_Testsome`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Testsome(
    incount: c_int,
    array_of_requests: *mut MPI_Request,
    outcount: *mut c_int,
    array_of_indices: *mut c_int,
    array_of_statuses: *mut MPI_Status,
) -> c_int {
    let a = traced!(real::PMPI_Testsome(
        incount,
        array_of_requests,
        outcount,
        array_of_indices,
        array_of_statuses
    ));
    let t = a.t;
    t.count(Func::Testsome, 0);
    let undefined = t.consts.undefined;
    t.test_call(
        array_of_requests,
        incount,
        || {
            real::PMPI_Testsome(
                incount,
                array_of_requests,
                outcount,
                array_of_indices,
                array_of_statuses,
            )
        },
        || outcount.as_ref().is_some_and(|&n| n > 0 && n != undefined),
    )
}

/// `MPI_Request_free`: the request leaves the table (nobody will wait for it).
#[no_mangle]
pub unsafe extern "C" fn MPI_Request_free(request: *mut MPI_Request) -> c_int {
    let a = traced!(real::PMPI_Request_free(request));
    let t = a.t;
    t.count(Func::RequestFree, 0);
    if let Some(r) = request.as_ref() {
        if let Some(slot) = t.requests.find(t.rec, crate::handle::request_bits(*r)) {
            t.completed(slot);
        }
    }
    real::PMPI_Request_free(request)
}

/// `MPI_Cancel`: the request stays pending until completed by a `Wait`/`Test`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Cancel(request: *mut MPI_Request) -> c_int {
    let a = traced!(real::PMPI_Cancel(request));
    a.t.count(Func::Cancel, 0);
    // A cancelled send is never received: the cell's message counts no longer pair up.
    a.t.unpaired(mpi_grade_protocol::trace::UNPAIRED_CANCEL);
    real::PMPI_Cancel(request)
}
