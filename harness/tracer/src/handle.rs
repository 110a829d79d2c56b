//! MPI handles as plain bits.
//!
//! Open MPI's handles (`MPI_Comm`, `MPI_Request`, ...) are pointers, MPICH's are `int`s; the
//! bindings wrap either in a newtype. The record stores a handle as its bits in a `u64`, so
//! this module is the one place that knows both representations.

use mpi_sys::{MPI_Comm, MPI_Request};
use std::os::raw::{c_int, c_void};

/// The inner type of an MPI handle newtype: a pointer (Open MPI) or an `int` (MPICH).
pub trait RawHandle: Copy {
    /// Whether handles of this implementation are pointers.
    const IS_POINTER: bool;
    /// The handle's bits, zero-extended.
    fn bits(self) -> u64;
}

impl<T> RawHandle for *mut T {
    const IS_POINTER: bool = true;
    #[inline(always)]
    fn bits(self) -> u64 {
        self as usize as u64
    }
}

impl RawHandle for c_int {
    const IS_POINTER: bool = false;
    #[inline(always)]
    fn bits(self) -> u64 {
        // Zero-extend: MPICH's handles have the top bit set for some kinds, and the record
        // reserves 0 for "free", which no valid handle is.
        self as u32 as u64
    }
}

/// Bits of a communicator handle.
#[inline(always)]
pub fn comm_bits(comm: MPI_Comm) -> u64 {
    comm.0.bits()
}

/// Bits of a request handle.
#[inline(always)]
pub fn request_bits(request: MPI_Request) -> u64 {
    request.0.bits()
}

/// Whether the MPI library this crate was built against uses pointer handles (Open MPI).
pub fn pointer_handles() -> bool {
    fn of<H: RawHandle>(_: fn(MPI_Comm) -> H) -> bool {
        H::IS_POINTER
    }
    of(|c: MPI_Comm| c.0)
}

/// `MPI_IN_PLACE`, which the bindings cannot express (it is a macro with a cast).
///
/// Open MPI defines it as `(void *) 1`, MPICH (and its derivatives) as `(void *) -1`; the two
/// families are told apart by their handle representation.
// The value is a sentinel compared by address, not a pointer to anything.
#[allow(clippy::manual_dangling_ptr)]
pub fn in_place() -> *const c_void {
    if pointer_handles() {
        1usize as *const c_void
    } else {
        usize::MAX as *const c_void
    }
}
