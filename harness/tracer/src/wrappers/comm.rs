//! Communicator creation and release. A new communicator enters the table with an id derived
//! from its parent (see `comms`), so that every member gives it the same id.
//!
//! Creation calls are collective over the parent and may block until every member calls
//! them, so they are shown as blocked calls waiting for a collective on the parent (and count
//! as one on it, consistently on all members). `Comm_create_group` is collective over the group
//! only: it waits on nothing the record can express, so its slot lists no condition.

use crate::comms::Derivation;
use crate::handle::comm_bits;
use crate::pmpi::real;
use crate::tracer::enter;
use mpi_grade_protocol::trace::{Func, WaitMode};
use mpi_sys::*;
use std::os::raw::c_int;

/// The common body: `func` is `None` for creation calls that are not counted (`Cart_sub`).
#[inline(always)]
unsafe fn create(
    func: Option<Func>,
    comm: MPI_Comm,
    how: Derivation,
    newcomm: *mut MPI_Comm,
    call: impl FnOnce() -> c_int,
) -> c_int {
    let Some(a) = enter() else {
        return call();
    };
    let t = a.t;
    let parent = t.comm(comm);
    let counter = t.child_counter(&parent, how);
    let rc = match func {
        Some(func) => {
            t.count(func, 0);
            if how.uses_counter() {
                let seq = t.next_coll(&parent);
                t.note_coll(&parent, seq, func, &crate::comms::Matching::UNKNOWN);
                let w = t.coll(&parent, seq, 0);
                t.blocking(func, WaitMode::All, &[w], call)
            } else {
                t.blocking(func, WaitMode::All, &[], call)
            }
        }
        None => call(),
    };
    if rc == 0 {
        if let Some(&nc) = newcomm.as_ref() {
            t.register_child(&parent, counter, how, nc);
        }
    }
    rc
}

/// `MPI_Comm_dup`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_dup(comm: MPI_Comm, newcomm: *mut MPI_Comm) -> c_int {
    create(Some(Func::CommDup), comm, Derivation::Dup, newcomm, || {
        if crate::tracer::tracer().is_some_and(|t| t.waits_politely()) {
            // Not exported by this library, so the name is the MPI library's own.
            super::polite::run(
                |request| mpi_sys::PMPI_Comm_idup(comm, newcomm, request),
                RSMPI_STATUS_IGNORE,
            )
        } else {
            real::PMPI_Comm_dup(comm, newcomm)
        }
    })
}

/// `MPI_Comm_dup_with_info`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_dup_with_info(
    comm: MPI_Comm,
    info: MPI_Info,
    newcomm: *mut MPI_Comm,
) -> c_int {
    create(
        Some(Func::CommDupWithInfo),
        comm,
        Derivation::Dup,
        newcomm,
        || real::PMPI_Comm_dup_with_info(comm, info, newcomm),
    )
}

/// `MPI_Comm_split`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_split(
    comm: MPI_Comm,
    color: c_int,
    key: c_int,
    newcomm: *mut MPI_Comm,
) -> c_int {
    create(
        Some(Func::CommSplit),
        comm,
        Derivation::Split { color },
        newcomm,
        || real::PMPI_Comm_split(comm, color, key, newcomm),
    )
}

/// `MPI_Comm_split_type`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_split_type(
    comm: MPI_Comm,
    split_type: c_int,
    key: c_int,
    info: MPI_Info,
    newcomm: *mut MPI_Comm,
) -> c_int {
    create(
        Some(Func::CommSplitType),
        comm,
        Derivation::SplitType { split_type },
        newcomm,
        || real::PMPI_Comm_split_type(comm, split_type, key, info, newcomm),
    )
}

/// `MPI_Comm_create`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_create(
    comm: MPI_Comm,
    group: MPI_Group,
    newcomm: *mut MPI_Comm,
) -> c_int {
    create(
        Some(Func::CommCreate),
        comm,
        Derivation::Create,
        newcomm,
        || real::PMPI_Comm_create(comm, group, newcomm),
    )
}

/// `MPI_Comm_create_group`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_create_group(
    comm: MPI_Comm,
    group: MPI_Group,
    tag: c_int,
    newcomm: *mut MPI_Comm,
) -> c_int {
    create(
        Some(Func::CommCreateGroup),
        comm,
        Derivation::Group { tag },
        newcomm,
        || real::PMPI_Comm_create_group(comm, group, tag, newcomm),
    )
}

/// `MPI_Cart_create`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Cart_create(
    old_comm: MPI_Comm,
    ndims: c_int,
    dims: *const c_int,
    periods: *const c_int,
    reorder: c_int,
    comm_cart: *mut MPI_Comm,
) -> c_int {
    create(
        Some(Func::CartCreate),
        old_comm,
        Derivation::Cart,
        comm_cart,
        || real::PMPI_Cart_create(old_comm, ndims, dims, periods, reorder, comm_cart),
    )
}

/// `MPI_Cart_sub`: not a counted function, wrapped so that its communicators (common in
/// exercises on grids) get ids like the others.
#[no_mangle]
pub unsafe extern "C" fn MPI_Cart_sub(
    comm: MPI_Comm,
    remain_dims: *const c_int,
    new_comm: *mut MPI_Comm,
) -> c_int {
    create(None, comm, Derivation::CartSub, new_comm, || {
        real::PMPI_Cart_sub(comm, remain_dims, new_comm)
    })
}

/// `MPI_Comm_free`: the communicator leaves the table first (its handle may be reused by the
/// next one the library creates).
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_free(comm: *mut MPI_Comm) -> c_int {
    let a = traced!(real::PMPI_Comm_free(comm));
    let t = a.t;
    t.count(Func::CommFree, 0);
    if let Some(&c) = comm.as_ref() {
        t.comms.remove(t.rec, comm_bits(c));
    }
    real::PMPI_Comm_free(comm)
}
