//! The exported `MPI_*` functions, one per [`Func`](mpi_grade_protocol::trace::Func), grouped
//! by kind. Each forwards to the library's `PMPI_` twin ([`crate::pmpi::real`]); when the
//! tracer is active and the call is not nested in another wrapped call, it also updates the
//! record. This library's own `PMPI_` exports ([`crate::pmpi::exports`]) run these wrappers.
//!
//! Signatures are those of the C standard as the bindings declare the `PMPI_` twins. The
//! safety contract of every function is the MPI standard's for its arguments, so the
//! individual functions carry no `# Safety` section.

#![allow(clippy::missing_safety_doc, clippy::too_many_arguments)]

use crate::comms::CommRef;
use crate::handle::RawHandle;
use crate::tracer::{Tracer, Wait};
use mpi_grade_protocol::trace::{WaitKind, ANY_TAG, NO_PEER};
use mpi_sys::{MPI_Comm, MPI_Datatype, MPI_Status};
use std::os::raw::{c_int, c_void};

/// Returns the tracer guard of an outermost traced call, or returns `$forward` from the
/// enclosing wrapper when the tracer is passive or the call is nested.
macro_rules! traced {
    ($forward:expr) => {
        match $crate::tracer::enter() {
            Some(active) => active,
            None => return $forward,
        }
    };
}

pub mod collective;
pub mod comm;
pub mod completion;
#[cfg(mpi_large_count)]
pub mod large;
pub mod lifecycle;
pub mod nonblocking;
pub mod p2p;
pub mod polite;

/// The size of a datatype in bytes (0 if the library rejects it).
///
/// `MPI_DATATYPE_NULL` is not passed on: the library would report the error (fatally, by
/// default) from `MPI_Type_size`, before the program's own call could.
#[inline]
unsafe fn type_size(datatype: MPI_Datatype) -> u64 {
    if datatype.0.bits() == mpi_sys::RSMPI_DATATYPE_NULL.0.bits() {
        return 0;
    }
    let mut size: c_int = 0;
    if mpi_sys::PMPI_Type_size(datatype, &mut size) != 0 || size < 0 {
        return 0;
    }
    size as u64
}

/// `count` elements of `datatype` in bytes. The datatype is only looked at when the count is
/// positive: where MPI ignores an argument (count 0, non-root ranks) it may be anything.
#[inline]
unsafe fn scaled(count: u64, datatype: MPI_Datatype) -> u64 {
    if count == 0 {
        0
    } else {
        count.saturating_mul(type_size(datatype))
    }
}

/// `count` elements of `datatype` in bytes.
#[inline]
unsafe fn type_bytes(count: c_int, datatype: MPI_Datatype) -> u64 {
    scaled(count.max(0) as u64, datatype)
}

/// The sum of the first `n` counts of an array (null: 0).
unsafe fn sum_counts(counts: *const c_int, n: c_int) -> u64 {
    if counts.is_null() || n <= 0 {
        return 0;
    }
    std::slice::from_raw_parts(counts, n as usize)
        .iter()
        .map(|&c| c.max(0) as u64)
        .fold(0, u64::saturating_add)
}

/// This process's rank in `comm` (-1 if the library rejects the communicator).
#[inline]
unsafe fn comm_rank(comm: MPI_Comm) -> c_int {
    let mut rank: c_int = -1;
    if mpi_sys::PMPI_Comm_rank(comm, &mut rank) != 0 {
        return -1;
    }
    rank
}

/// The size of `comm` (0 if the library rejects the communicator).
#[inline]
unsafe fn comm_size(comm: MPI_Comm) -> c_int {
    let mut size: c_int = 0;
    if mpi_sys::PMPI_Comm_size(comm, &mut size) != 0 {
        return 0;
    }
    size
}

/// Whether a send buffer argument is `MPI_IN_PLACE`.
#[inline]
fn in_place(buf: *const c_void) -> bool {
    buf == crate::handle::in_place()
}

/// A status to pass to the library in place of `status`: `status` itself, or `own` when the
/// caller passed `MPI_STATUS_IGNORE` (the tracer reads the source of what was received).
#[inline]
unsafe fn status_or(
    status: *mut MPI_Status,
    own: &mut std::mem::MaybeUninit<MPI_Status>,
) -> *mut MPI_Status {
    if status == mpi_sys::RSMPI_STATUS_IGNORE || status.is_null() {
        own.as_mut_ptr()
    } else {
        status
    }
}

/// The code of a datatype the library names (`MPI_Type_get_name`) with a predefined name:
/// its index in `DATATYPES` and its size, packed by `dtype_code`.
#[cold]
unsafe fn named_dtype(datatype: MPI_Datatype) -> u32 {
    let mut name = [0 as std::os::raw::c_char; 128];
    let mut len: c_int = 0;
    if mpi_sys::PMPI_Type_get_name(datatype, name.as_mut_ptr(), &mut len) != 0 {
        return 0;
    }
    let n = (len.max(0) as usize).min(name.len());
    let mut bytes = [0u8; 128];
    for (b, &c) in bytes.iter_mut().zip(&name[..n]) {
        *b = c as u8;
    }
    mpi_grade_protocol::trace::dtype_code(&bytes[..n], type_size(datatype))
}

impl Tracer {
    /// Counts a completed receive of `comm` (see [`Tracer::received`]): from `source`, or when
    /// that is `MPI_ANY_SOURCE` from the source the library wrote into `status`.
    ///
    /// # Safety
    /// `status` must be the status the library just filled for this receive.
    #[inline]
    unsafe fn received_in(
        &self,
        c: &CommRef,
        comm: MPI_Comm,
        (source, w): (c_int, &Wait),
        status: *const MPI_Status,
    ) {
        let mut got = *w;
        if source == self.consts.any_source {
            got.peer = self.peer(c, comm, (*status).MPI_SOURCE);
        }
        if got.tag == ANY_TAG {
            got.tag = self.tag((*status).MPI_TAG);
        }
        self.received(&got);
    }

    /// The code of a predefined datatype (`dtype_code`), 0 for a derived one. The library
    /// names its predefined types (`MPI_Type_get_name`); the last few answers are kept, so a
    /// program that sends one type over and over asks once.
    #[inline]
    unsafe fn dtype(&self, datatype: MPI_Datatype) -> u32 {
        use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
        const KEY: u64 = 0x0000_ffff_ffff_ffff;
        static CACHE: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
        let bits = datatype.0.bits();
        if bits == mpi_sys::RSMPI_DATATYPE_NULL.0.bits() {
            return 0;
        }
        // An entry is the handle's low 48 bits and the code in the top 16.
        let key = bits & KEY;
        let slot = &CACHE[(key as usize ^ (key as usize >> 7)) % CACHE.len()];
        let cached = slot.load(Relaxed);
        if cached != 0 && cached & KEY == key {
            return (cached >> 48) as u32;
        }
        let code = named_dtype(datatype);
        slot.store(key | (u64::from(code) << 48), Relaxed);
        code
    }

    /// The tag as the record writes it.
    #[inline]
    fn tag(&self, tag: c_int) -> i32 {
        if tag == self.consts.any_tag {
            ANY_TAG
        } else {
            tag
        }
    }

    /// A point-to-point condition: `kind` with `rank` of `comm`.
    #[inline]
    unsafe fn p2p(
        &self,
        kind: WaitKind,
        c: &CommRef,
        comm: MPI_Comm,
        (rank, tag): (c_int, c_int),
        (bytes, datatype): (u64, Option<MPI_Datatype>),
    ) -> Wait {
        let w = Wait {
            kind: kind as u32,
            peer: self.peer(c, comm, rank),
            tag: self.tag(tag),
            comm: c.id,
            bytes,
            coll_seq: 0,
            dtype: datatype.map_or(0, |d| self.dtype(d)),
        };
        if kind == WaitKind::Send && w.peer >= 0 {
            self.note_send(&w);
        }
        w
    }

    /// The condition of the `seq`-th collective on a communicator.
    #[inline]
    fn coll(&self, c: &CommRef, seq: u64, bytes: u64) -> Wait {
        Wait {
            kind: WaitKind::Collective as u32,
            peer: NO_PEER,
            tag: 0,
            comm: c.id,
            bytes,
            coll_seq: seq,
            dtype: 0,
        }
    }
}
