//! Unit tests of the parts that need no MPI library: ids, rank translation, the tables,
//! `Pcontrol`, counting and the call slot, on a zeroed in-memory record.

use crate::comms::{child_id, self_id, to_world, CommRef, Derivation, Members, WORLD_ID};
use crate::tracer::{Consts, Tracer, Wait};
use mpi_grade_protocol::trace::{
    pcontrol, read_consistent, Func, RankState, Record, WaitKind, WaitMode, ANY_SOURCE, MAX_COMMS,
    MAX_COMM_MEMBERS, MAX_REQUESTS, PROC_NULL, RECORD_SIZE,
};
use mpi_sys::MPI_Request;
use std::sync::atomic::Ordering::*;

const CONSTS: Consts = Consts {
    comm_world: 0x100,
    comm_self: 0x200,
    comm_null: 0x300,
    request_null: 0x400,
    any_source: -1,
    any_tag: -1,
    proc_null: -2,
    undefined: -32766,
    ops: [
        0x500, 0x501, 0x502, 0x503, 0x504, 0x505, 0x506, 0x507, 0x508, 0x509,
    ],
};

/// A zeroed record that lives for the rest of the test process.
fn zeroed_record() -> &'static Record {
    let layout = std::alloc::Layout::from_size_align(RECORD_SIZE, 4096).unwrap();
    // SAFETY: RECORD_SIZE zeroed bytes, aligned, leaked; only accessed through atomics.
    unsafe { Record::from_ptr(std::alloc::alloc_zeroed(layout)) }
}

fn tracer(program_scope: bool) -> Tracer {
    let rec = zeroed_record();
    rec.header
        .cell
        .store(if program_scope { 0 } else { -1 }, Relaxed);
    let t = Tracer::new(rec, 1, 4, program_scope, CONSTS);
    t.register_predefined();
    t
}

/// A request handle with the given bits, whatever the library's representation.
fn request(bits: u64) -> MPI_Request {
    // SAFETY: MPI_Request is a transparent wrapper of a pointer or an int; little endian.
    unsafe {
        if std::mem::size_of::<MPI_Request>() == 8 {
            std::mem::transmute_copy(&bits)
        } else {
            std::mem::transmute_copy(&(bits as u32))
        }
    }
}

fn slot_of(t: &Tracer, handle: u64) -> CommRef {
    let slot = t.comms.lookup(t.rec, handle);
    CommRef {
        slot,
        id: slot.map_or(0, |s| t.rec.comms[s].id.load(Relaxed)),
    }
}

#[test]
fn ids_are_deterministic_distinct_and_never_reserved() {
    let m = Members::from_slice(&[0, 2], 4).hash;
    let a = child_id(WORLD_ID, 1, Derivation::Split { color: 0 }, m);
    assert_eq!(a, child_id(WORLD_ID, 1, Derivation::Split { color: 0 }, m));
    let others = [
        child_id(WORLD_ID, 2, Derivation::Split { color: 0 }, m),
        child_id(WORLD_ID, 1, Derivation::Split { color: 1 }, m),
        child_id(7, 1, Derivation::Split { color: 0 }, m),
        child_id(WORLD_ID, 1, Derivation::Dup, m),
        child_id(WORLD_ID, 1, Derivation::Split { color: 0 }, m ^ 1),
    ];
    for o in others {
        assert_ne!(a, o);
    }
    let mut selfs: Vec<u64> = (0..1000).map(self_id).collect();
    assert!(selfs.iter().all(|&id| id > WORLD_ID));
    selfs.sort_unstable();
    selfs.dedup();
    assert_eq!(selfs.len(), 1000, "MPI_COMM_SELF ids are unique per rank");
    assert!(!Derivation::Group { tag: 3 }.uses_counter());
    assert!(Derivation::Cart.uses_counter());
}

#[test]
fn members_summaries() {
    let world = Members::from_slice(&[0, 1, 2, 3], 4);
    assert!(world.world_order);
    assert!(!world.truncated());
    assert!(
        !Members::from_slice(&[0, 1, 2], 4).world_order,
        "a prefix is not the world"
    );
    let odd = Members::from_slice(&[1, 3], 4);
    assert!(!odd.world_order);
    assert_eq!((odd.size, &odd.first[..2]), (2, &[1, 3][..]));
    assert_ne!(
        odd.hash,
        Members::from_slice(&[3, 1], 4).hash,
        "order matters"
    );
    let big: Vec<i32> = (0..100).rev().collect();
    let big = Members::from_slice(&big, 100);
    assert!(big.truncated());
    assert_eq!(big.size, 100);
    assert_eq!(
        big.first[MAX_COMM_MEMBERS - 1],
        100 - MAX_COMM_MEMBERS as i32
    );
}

#[test]
fn rank_translation() {
    let t = tracer(true);
    let world = &t.rec.comms[t.comms.lookup(t.rec, CONSTS.comm_world).unwrap()];
    assert_eq!(world.id.load(Relaxed), WORLD_ID);
    assert_eq!(world.is_world_order.load(Relaxed), 1);
    assert_eq!(to_world(world, 3, -2, -1), Some(3));
    assert_eq!(to_world(world, -2, -2, -1), Some(PROC_NULL));
    assert_eq!(to_world(world, -1, -2, -1), Some(ANY_SOURCE));

    let sub = t
        .comms
        .insert(t.rec, 0x900, 77, &Members::from_slice(&[3, 1], 4))
        .unwrap();
    let e = &t.rec.comms[sub];
    assert_eq!(to_world(e, 0, -2, -1), Some(3));
    assert_eq!(to_world(e, 1, -2, -1), Some(1));
    assert_eq!(to_world(e, 2, -2, -1), None, "out of range");
    assert_eq!(to_world(e, -2, -2, -1), Some(PROC_NULL));

    // The same through the tracer (no MPI call: the communicator is known).
    let c = slot_of(&t, 0x900);
    let peer = unsafe { t.peer(&c, mpi_sys::RSMPI_COMM_NULL, 0) };
    assert_eq!(peer, 3);
    assert_eq!(c.id, 77);

    let me = &t.rec.comms[t.comms.lookup(t.rec, CONSTS.comm_self).unwrap()];
    assert_eq!(me.id.load(Relaxed), self_id(1));
    assert_eq!(to_world(me, 0, -2, -1), Some(1));
}

#[test]
fn comm_table_insert_remove_overflow() {
    let t = tracer(true);
    let m = Members::from_slice(&[0, 1], 4);
    // World and self take two slots.
    for i in 0..MAX_COMMS - 2 {
        assert!(t
            .comms
            .insert(t.rec, 0x1000 + i as u64, 10 + i as u64, &m)
            .is_some());
    }
    assert_eq!(t.rec.header.comms_overflowed.load(Relaxed), 0);
    assert!(t.comms.insert(t.rec, 0x9999, 5, &m).is_none());
    assert_eq!(t.rec.header.comms_overflowed.load(Relaxed), 1);

    // Re-entering a known handle replaces its entry instead of taking a slot.
    let s = t.comms.insert(t.rec, 0x1005, 55, &m).unwrap();
    assert_eq!(t.rec.comms[s].id.load(Relaxed), 55);

    let c = slot_of(&t, 0x1005);
    assert_eq!(t.next_coll(&c), 1);
    assert_eq!(t.next_coll(&c), 2);
    assert_eq!(t.child_counter(&c, Derivation::Dup), 1);
    assert_eq!(t.child_counter(&c, Derivation::Group { tag: 1 }), 0);

    assert!(t.comms.remove(t.rec, 0x1005));
    assert!(!t.comms.remove(t.rec, 0x1005));
    assert_eq!(
        t.comms.lookup(t.rec, 0x1005),
        None,
        "the cache forgets removed handles"
    );
    assert_eq!(t.rec.comms[s].handle.load(Relaxed), 0);
    assert_eq!(t.rec.comms[s].id.load(Relaxed), 0);
    assert_eq!(t.rec.comms_seq.load(Relaxed) % 2, 0);

    // The freed slot is reused, with fresh counters.
    let s2 = t.comms.insert(t.rec, 0x7777, 99, &m).unwrap();
    assert_eq!(s2, s);
    let c = slot_of(&t, 0x7777);
    assert_eq!(t.next_coll(&c), 1);
    assert_eq!(t.child_counter(&c, Derivation::Dup), 1);
    // Unknown communicators (id 0) still occupy a slot.
    assert!(t.comms.remove(t.rec, 0x7777));
    let s3 = t.comms.insert(t.rec, 0x8888, 0, &m).unwrap();
    assert_eq!(t.comms.lookup(t.rec, 0x8888), Some(s3));
}

#[test]
fn request_table_insert_remove_overflow() {
    let t = tracer(true);
    let rec = t.rec;
    let w = Wait {
        kind: WaitKind::Recv as u32,
        peer: 2,
        tag: 9,
        comm: WORLD_ID,
        bytes: 8,
        coll_seq: 0,
        dtype: 0,
    };
    for i in 0..MAX_REQUESTS as u64 {
        assert!(t.requests.insert(rec, 0x10 + i, &w).is_some());
    }
    assert_eq!(t.requests.len(), MAX_REQUESTS);
    assert!(t.requests.insert(rec, 0x5000, &w).is_none());
    assert_eq!(rec.header.requests_overflowed.load(Relaxed), 1);
    // The same handle again replaces its entry.
    assert!(t.requests.insert(rec, 0x10, &w).is_some());
    assert_eq!(t.requests.len(), MAX_REQUESTS);

    let s = t.requests.find(rec, 0x20).unwrap();
    assert_eq!(Wait::load(&rec.requests[s].wait), w);
    assert!(t.requests.remove(rec, 0x20));
    assert!(!t.requests.remove(rec, 0x20));
    assert_eq!(rec.requests[s].handle.load(Relaxed), 0);
    assert_eq!(t.requests.len(), MAX_REQUESTS - 1);
    assert_eq!(
        t.requests.insert(rec, 0x6000, &w),
        Some(s),
        "free slots are reused"
    );
    for i in 0..MAX_REQUESTS as u64 {
        t.requests.remove(rec, 0x10 + i);
    }
    t.requests.remove(rec, 0x6000);
    assert!(t.requests.is_empty());
    assert!(rec.requests.iter().all(|e| e.handle.load(Relaxed) == 0));
    assert_eq!(rec.requests_seq.load(Relaxed) % 2, 0);
}

#[test]
fn pcontrol_enters_and_leaves_cells_in_marked_scope() {
    let t = tracer(false);
    let h = &t.rec.header;
    assert_eq!(h.cell.load(Relaxed), -1);
    t.pcontrol(pcontrol::enter(3, true));
    assert_eq!((h.cell.load(Relaxed), h.zero_buffer.load(Relaxed)), (3, 1));
    assert!(t.zero_buffer());
    assert_eq!(h.progress.load(Relaxed), 1);
    t.pcontrol(pcontrol::enter(4, false));
    assert_eq!((h.cell.load(Relaxed), h.zero_buffer.load(Relaxed)), (4, 0));
    t.pcontrol(pcontrol::LEAVE);
    assert_eq!((h.cell.load(Relaxed), h.zero_buffer.load(Relaxed)), (-1, 0));
    assert_eq!(h.progress.load(Relaxed), 3);
    // A cell whose time is not reported waits politely, until the cell is left.
    assert!(!t.waits_politely());
    t.pcontrol(pcontrol::enter_with(pcontrol::Entry {
        cell: 6,
        zero_buffer: false,
        polite: true,
    }));
    assert_eq!((h.cell.load(Relaxed), h.zero_buffer.load(Relaxed)), (6, 0));
    assert!(t.waits_politely());
    t.pcontrol(pcontrol::enter(7, false));
    assert!(!t.waits_politely(), "the next cell is timed");
    t.pcontrol(pcontrol::enter_with(pcontrol::Entry {
        cell: 8,
        zero_buffer: true,
        polite: true,
    }));
    t.pcontrol(pcontrol::LEAVE);
    assert!(!t.waits_politely());
    assert_eq!(h.progress.load(Relaxed), 7);
    // Levels that are not ours change nothing.
    t.pcontrol(-4);
    t.pcontrol(pcontrol::enter(64, false));
    t.pcontrol(pcontrol::POLITE);
    assert_eq!(h.cell.load(Relaxed), -1);
    assert_eq!(h.progress.load(Relaxed), 7);

    let p = tracer(true);
    p.pcontrol(pcontrol::enter(3, true));
    assert_eq!(
        p.rec.header.cell.load(Relaxed),
        0,
        "ignored in program scope"
    );
    assert_eq!(p.rec.header.zero_buffer.load(Relaxed), 0);
}

#[test]
fn counting_follows_the_scope_and_records_first_sites() {
    let t = tracer(false);
    let rec = t.rec;
    let calls = |cell: usize, f: Func| rec.cells[cell].funcs[f as usize].calls.load(Relaxed);
    t.count(Func::Send, 8);
    assert!(rec
        .cells
        .iter()
        .all(|c| c.funcs[Func::Send as usize].calls.load(Relaxed) == 0));
    t.pcontrol(pcontrol::enter(2, false));
    t.count(Func::Send, 8);
    t.count(Func::Send, 8);
    t.count(Func::Alltoall, 100);
    assert_eq!(calls(2, Func::Send), 2);
    assert_eq!(
        rec.cells[2].funcs[Func::Send as usize].bytes.load(Relaxed),
        16
    );
    assert_eq!(calls(2, Func::Alltoall), 1);
    assert_eq!(
        rec.header.nsites.load(Relaxed),
        2,
        "one site per function and cell"
    );
    let site = &rec.sites[0];
    assert_eq!(site.cell.load(Relaxed), 3);
    assert_eq!(site.func.load(Relaxed), Func::Send as u32);
    assert!(site.depth.load(Relaxed) > 0, "a stack was captured");
    assert_ne!(site.ips[0].load(Relaxed), 0);
    t.pcontrol(pcontrol::enter(5, false));
    t.count(Func::Send, 8);
    assert_eq!(rec.header.nsites.load(Relaxed), 3);
    assert_eq!(rec.sites[2].cell.load(Relaxed), 6);

    let p = tracer(true);
    p.count(Func::Barrier, 0);
    assert_eq!(
        p.rec.cells[0].funcs[Func::Barrier as usize]
            .calls
            .load(Relaxed),
        1
    );
}

#[test]
fn call_slot_shows_the_call_while_it_runs() {
    let t = tracer(true);
    let rec = t.rec;
    let w = Wait {
        kind: WaitKind::Send as u32,
        peer: 3,
        tag: 5,
        comm: WORLD_ID,
        bytes: 4,
        coll_seq: 0,
        dtype: 0,
    };
    let rc = t.blocking(Func::Send, WaitMode::All, &[w], || {
        let ((func, nwait, first), ok) = read_consistent(&rec.call.seq, 3, || {
            (
                rec.call.func.load(Relaxed),
                rec.call.nwait.load(Relaxed),
                Wait::load(&rec.call.waits[0]),
            )
        });
        assert!(ok);
        assert_eq!((func, nwait, first), (Func::Send as u32 + 1, 1, w));
        assert_eq!(
            RankState::from_u32(rec.header.state.load(Relaxed)),
            RankState::InCall
        );
        7
    });
    assert_eq!(rc, 7);
    assert_eq!(rec.call.func.load(Relaxed), 0);
    assert_eq!(rec.call.nwait.load(Relaxed), 0);
    assert_eq!(
        RankState::from_u32(rec.header.state.load(Relaxed)),
        RankState::Running
    );
    assert_eq!(rec.header.progress.load(Relaxed), 1);
    assert_eq!(rec.call.seq.load(Relaxed) % 2, 0);
}

#[test]
fn waits_list_known_requests_and_completions_leave_the_table() {
    let t = tracer(true);
    let rec = t.rec;
    let recv = Wait {
        kind: WaitKind::Recv as u32,
        peer: 0,
        tag: 1,
        comm: WORLD_ID,
        bytes: 4,
        coll_seq: 0,
        dtype: 0,
    };
    let mut reqs = [
        request(0xa0),
        request(CONSTS.request_null),
        request(0xb0),
        request(0xc0),
    ];
    unsafe {
        t.add_request(&reqs[0], &recv);
        t.add_request(&reqs[2], &Wait { tag: 2, ..recv });
    }
    assert_eq!(t.requests.len(), 2);
    assert_eq!(rec.header.progress.load(Relaxed), 2, "starting is progress");

    let p = reqs.as_mut_ptr();
    let rc = unsafe {
        t.wait_call(Func::Waitany, WaitMode::Any, p, 4, || {
            assert_eq!(rec.call.mode.load(Relaxed), WaitMode::Any as u32);
            assert_eq!(rec.call.nwait.load(Relaxed), 3, "null handles are skipped");
            let kinds: Vec<u32> = (0..3)
                .map(|i| rec.call.waits[i].kind.load(Relaxed))
                .collect();
            assert_eq!(
                kinds,
                [
                    WaitKind::Recv as u32,
                    WaitKind::Recv as u32,
                    WaitKind::Unknown as u32
                ]
            );
            assert_eq!(rec.call.waits[1].tag.load(Relaxed), 2);
            // The library completes the second known request.
            *p.add(2) = request(CONSTS.request_null);
            0
        })
    };
    assert_eq!(rc, 0);
    assert_eq!(t.requests.len(), 1);
    assert!(t.requests.find(rec, 0xa0).is_some());
    assert!(t.requests.find(rec, 0xb0).is_none());

    // A failing test is no progress; a successful one is, and removes the request.
    let before = rec.header.progress.load(Relaxed);
    unsafe { t.test_call(p, 1, || 0, || false) };
    assert_eq!(rec.header.progress.load(Relaxed), before);
    unsafe {
        t.test_call(
            p,
            1,
            || {
                *p = request(CONSTS.request_null);
                0
            },
            || true,
        )
    };
    assert_eq!(rec.header.progress.load(Relaxed), before + 1);
    assert!(t.requests.is_empty());
}

#[test]
fn long_waits_are_truncated() {
    let t = tracer(true);
    let mut reqs: Vec<MPI_Request> = (0..100).map(|i| request(0x1000 + i)).collect();
    let rec = t.rec;
    unsafe {
        t.wait_call(Func::Waitall, WaitMode::All, reqs.as_mut_ptr(), 100, || {
            assert_eq!(rec.call.truncated.load(Relaxed), 1);
            assert_eq!(
                rec.call.nwait.load(Relaxed) as usize,
                mpi_grade_protocol::trace::MAX_WAIT
            );
            0
        });
    }
    assert_eq!(rec.call.truncated.load(Relaxed), 0);
}
