//! The pending-request table: what each non-blocking operation needs to complete, so that a
//! rank blocked in `MPI_Wait*` can show what it waits for.
//!
//! An entry is added when a non-blocking operation starts and removed when the request is seen
//! to complete. Completion is recognised by the handle in the caller's array changing (the
//! library overwrites a completed non-persistent request with `MPI_REQUEST_NULL`), which holds
//! for every completion call and even for calls that fail part-way (`MPI_ERR_IN_STATUS`).

use crate::handle::request_bits;
use crate::tracer::{Tracer, Wait};
use mpi_grade_protocol::trace::{
    write_guarded, Func, RankState, Record, WaitEntry, WaitKind, WaitMode, MAX_REQUESTS,
};
use mpi_sys::MPI_Request;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicUsize, Ordering::*};

/// Process-local bookkeeping of the request table.
#[derive(Default)]
pub struct RequestLocal {
    /// Entries at this index and above are free.
    hwm: AtomicUsize,
    /// Entries in use.
    used: AtomicUsize,
}

impl RequestLocal {
    /// Bookkeeping for an empty table.
    pub fn new() -> RequestLocal {
        RequestLocal::default()
    }

    /// Entries in use.
    pub fn len(&self) -> usize {
        self.used.load(Relaxed)
    }

    /// No entry is in use.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slot of `handle`.
    #[inline]
    pub fn find(&self, rec: &Record, handle: u64) -> Option<usize> {
        if handle == 0 || self.is_empty() {
            return None;
        }
        let hwm = self.hwm.load(Relaxed).min(MAX_REQUESTS);
        rec.requests[..hwm]
            .iter()
            .position(|e| e.handle.load(Relaxed) == handle)
    }

    /// Enters a request (replacing a stale entry with the same handle, left by a completion
    /// the tracer did not see); `None` and `requests_overflowed` when the table is full.
    pub fn insert(&self, rec: &Record, handle: u64, wait: &Wait) -> Option<usize> {
        if handle == 0 {
            return None;
        }
        let hwm = self.hwm.load(Relaxed).min(MAX_REQUESTS);
        let mut free = None;
        let mut same = None;
        for (i, e) in rec.requests[..hwm].iter().enumerate() {
            match e.handle.load(Relaxed) {
                0 if free.is_none() => free = Some(i),
                h if h == handle => {
                    same = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let slot = same.or(free).or((hwm < MAX_REQUESTS).then_some(hwm));
        let Some(slot) = slot else {
            rec.header.requests_overflowed.store(1, Relaxed);
            return None;
        };
        let e = &rec.requests[slot];
        write_guarded(&rec.requests_seq, || {
            wait.store(&e.wait);
            e.handle.store(handle, Relaxed);
        });
        if same.is_none() {
            self.used.store(self.len() + 1, Relaxed);
        }
        if slot >= hwm {
            self.hwm.store(slot + 1, Relaxed);
        }
        Some(slot)
    }

    /// Frees the entry in `slot`.
    pub fn remove_slot(&self, rec: &Record, slot: usize) {
        let Some(e) = rec.requests.get(slot) else {
            return;
        };
        if e.handle.load(Relaxed) == 0 {
            return;
        }
        write_guarded(&rec.requests_seq, || {
            e.handle.store(0, Relaxed);
            e.wait.kind.store(WaitKind::None as u32, Relaxed);
        });
        let used = self.len().saturating_sub(1);
        self.used.store(used, Relaxed);
        let mut hwm = self.hwm.load(Relaxed).min(MAX_REQUESTS);
        if used == 0 {
            hwm = 0;
        }
        while hwm > 0 && rec.requests[hwm - 1].handle.load(Relaxed) == 0 {
            hwm -= 1;
        }
        self.hwm.store(hwm, Relaxed);
    }

    /// Frees the entry of `handle`, if any.
    pub fn remove(&self, rec: &Record, handle: u64) -> bool {
        match self.find(rec, handle) {
            Some(slot) => {
                self.remove_slot(rec, slot);
                true
            }
            None => false,
        }
    }
}

/// The requests of one completion call that the table knows: index in the caller's array and
/// table slot. At most `MAX_REQUESTS` can match, whatever the array's length.
pub struct Tracked {
    n: usize,
    index: [u32; MAX_REQUESTS],
    slot: [u16; MAX_REQUESTS],
}

impl Default for Tracked {
    fn default() -> Self {
        Tracked::new()
    }
}

impl Tracked {
    /// No request yet.
    pub fn new() -> Tracked {
        Tracked {
            n: 0,
            index: [0; MAX_REQUESTS],
            slot: [0; MAX_REQUESTS],
        }
    }

    fn push(&mut self, index: usize, slot: usize) {
        if self.n < MAX_REQUESTS {
            self.index[self.n] = index as u32;
            self.slot[self.n] = slot as u16;
            self.n += 1;
        }
    }

    /// (array index, table slot) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.index[..self.n]
            .iter()
            .zip(&self.slot[..self.n])
            .map(|(&i, &s)| (i as usize, s as usize))
    }
}

/// The caller's request array as a slice (empty for a null pointer or a count <= 0).
///
/// # Safety
/// `reqs` must point to `count` requests when `count > 0`.
unsafe fn as_slice<'a>(reqs: *const MPI_Request, count: c_int) -> &'a [MPI_Request] {
    if reqs.is_null() || count <= 0 {
        &[]
    } else {
        std::slice::from_raw_parts(reqs, count as usize)
    }
}

impl Tracer {
    /// Enters the request a non-blocking call just returned and notes the progress.
    ///
    /// # Safety
    /// `request` must be null or point to a request handle.
    #[inline]
    pub unsafe fn add_request(&self, request: *const MPI_Request, wait: &Wait) {
        if let Some(r) = request.as_ref() {
            let bits = request_bits(*r);
            if bits != self.consts.request_null {
                self.requests.insert(self.rec, bits, wait);
            }
        }
        self.progress();
    }

    /// Finds the known requests of an array and, with `waits`, lists what each non-null one
    /// needs (unknown ones as `Unknown`). Returns the number of entries written and whether
    /// some did not fit.
    ///
    /// # Safety
    /// As for [`as_slice`].
    unsafe fn scan(
        &self,
        reqs: *const MPI_Request,
        count: c_int,
        tracked: &mut Tracked,
        waits: Option<&[WaitEntry]>,
    ) -> (usize, bool) {
        let (mut n, mut truncated) = (0, false);
        if waits.is_none() && self.requests.is_empty() {
            return (0, false);
        }
        for (i, r) in as_slice(reqs, count).iter().enumerate() {
            let bits = request_bits(*r);
            if bits == self.consts.request_null {
                continue;
            }
            let slot = self.requests.find(self.rec, bits);
            if let Some(s) = slot {
                tracked.push(i, s);
            }
            if let Some(waits) = waits {
                match waits.get(n) {
                    Some(e) => {
                        let w = match slot {
                            Some(s) => Wait::load(&self.rec.requests[s].wait),
                            None => Wait::bare(WaitKind::Unknown),
                        };
                        w.store(e);
                        n += 1;
                    }
                    None => truncated = true,
                }
            }
        }
        (n, truncated)
    }

    /// Removes the entry in `slot` of a request that completed (or was freed, which MPI lets
    /// complete on its own); a receive counts its message as received.
    pub fn completed(&self, slot: usize) {
        let w = Wait::load(&self.rec.requests[slot].wait);
        if w.kind == WaitKind::Recv as u32 {
            // The source and tag the library chose for a wildcard receive are in a status
            // the caller may not have asked for: such a receive stays "from anyone".
            self.received(&w);
        }
        self.requests.remove_slot(self.rec, slot);
    }

    /// Removes the entries of the tracked requests that completed (their handle changed).
    ///
    /// # Safety
    /// As for [`as_slice`], with the same array as given to [`scan`](Self::scan).
    unsafe fn settle(&self, reqs: *const MPI_Request, count: c_int, tracked: &Tracked) {
        let now = as_slice(reqs, count);
        for (i, slot) in tracked.iter() {
            let Some(r) = now.get(i) else { continue };
            let before = self.rec.requests[slot].handle.load(Relaxed);
            if request_bits(*r) != before {
                self.completed(slot);
            }
        }
    }

    /// Runs a blocking completion call (`Wait*`) on `count` requests at `reqs`, with the call
    /// slot listing what they need.
    ///
    /// # Safety
    /// `reqs` must point to `count` request handles (it is read before and after `call`).
    #[inline]
    pub unsafe fn wait_call(
        &self,
        func: Func,
        mode: WaitMode,
        reqs: *const MPI_Request,
        count: c_int,
        call: impl FnOnce() -> c_int,
    ) -> c_int {
        let mut tracked = Tracked::new();
        self.begin_call(func, mode, |slot| {
            self.scan(reqs, count, &mut tracked, Some(&slot.waits))
        });
        let rc = call();
        self.settle(reqs, count, &tracked);
        self.end_call(RankState::Running);
        rc
    }

    /// Runs a non-blocking completion call (`Test*`); `completed` tells from its outputs
    /// whether anything completed (then it is progress).
    ///
    /// # Safety
    /// As for [`wait_call`](Self::wait_call).
    #[inline]
    pub unsafe fn test_call(
        &self,
        reqs: *const MPI_Request,
        count: c_int,
        call: impl FnOnce() -> c_int,
        completed: impl FnOnce() -> bool,
    ) -> c_int {
        let mut tracked = Tracked::new();
        self.scan(reqs, count, &mut tracked, None);
        let rc = call();
        self.settle(reqs, count, &tracked);
        if rc == 0 && completed() {
            self.progress();
        }
        rc
    }
}
