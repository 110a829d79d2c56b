//! Who may launch when, for the threads of one matrix run (`run/matrix.rs` decides what each
//! launch runs): the gate between the launches that time cells and those that time nothing,
//! the places of the latter, and the chains waiting for a thread.
//!
//! A launch that times cells has the machine alone while it runs its timed cells: it starts
//! only when no other launch runs, and none starts beside it until its ranks are past its last
//! timed cell. Its untimed rest (the deadlock a part is expected to end in, zero-buffer cells)
//! gives verdicts only, so launches that need no clock run beside it then. Once the timed
//! launches are over, the gate stays open.

use std::sync::{Condvar, Mutex, MutexGuard};

/// `value` locked; a panic elsewhere does not poison it.
pub fn lock<T>(value: &Mutex<T>) -> MutexGuard<'_, T> {
    value.lock().unwrap_or_else(|e| e.into_inner())
}

fn wait<'a, T>(changed: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    changed.wait(guard).unwrap_or_else(|e| e.into_inner())
}

/// Between the launches that time cells and those beside them.
#[derive(Default)]
pub struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
    /// How many launches may start beside each untimed rest.
    per_opening: usize,
}

#[derive(Default)]
struct GateState {
    /// Launches that may still start beside the untimed rest running now.
    tickets: usize,
    /// No launch times cells any more: everything may run.
    timed_over: bool,
    /// The launch that times cells is past its last timed cell.
    open: bool,
    /// Launches running beside.
    beside: usize,
}

/// A launch beside the timed ones, let through the gate; it leaves when dropped.
pub struct Pass<'a>(&'a Gate);

impl Gate {
    /// A gate that lets `per_opening` launches (one at least) start beside each untimed
    /// rest of a launch that times cells: as many as fit beside it, so that they end about
    /// when it does and the next timed launch is not kept waiting.
    pub fn new(per_opening: usize) -> Gate {
        Gate {
            per_opening: per_opening.max(1),
            ..Gate::default()
        }
    }

    /// Before a launch that times cells: closes the gate and waits until no launch runs
    /// beside.
    pub fn alone(&self) {
        let mut state = lock(&self.state);
        state.open = false;
        while state.beside > 0 {
            state = wait(&self.changed, state);
        }
    }

    /// The launch that times cells is past them: launches beside may start, as many as the
    /// gate lets through each time, or all of them when no launch that times cells may come
    /// after this one (`last`).
    pub fn open(&self, last: bool) {
        let mut state = lock(&self.state);
        state.open = true;
        state.tickets = if last { usize::MAX } else { self.per_opening };
        drop(state);
        self.changed.notify_all();
    }

    /// The launch that times cells ended: no launch starts beside until the next one is past
    /// its timed cells.
    pub fn close(&self) {
        lock(&self.state).open = false;
    }

    /// No launch times cells any more.
    pub fn timed_over(&self) {
        lock(&self.state).timed_over = true;
        self.changed.notify_all();
    }

    /// Whether [`Gate::timed_over`] was called.
    pub fn is_timed_over(&self) -> bool {
        lock(&self.state).timed_over
    }

    /// Whether [`Gate::enter`] would let a launch through now.
    pub fn would_enter(&self, waits_out: bool) -> bool {
        Self::lets_in(&lock(&self.state), waits_out)
    }

    fn lets_in(state: &GateState, waits_out: bool) -> bool {
        state.timed_over || (state.open && state.tickets > 0 && !waits_out)
    }

    /// Before a launch beside: waits until it may start. One that waits out a part that hung
    /// starts only once no launch times cells: it would hold the next one for the hang limit.
    pub fn enter(&self, waits_out: bool) -> Pass<'_> {
        let mut state = lock(&self.state);
        while !Self::lets_in(&state, waits_out) {
            state = wait(&self.changed, state);
        }
        if !state.timed_over {
            state.tickets -= 1;
        }
        state.beside += 1;
        Pass(self)
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        lock(&self.0.state).beside -= 1;
        self.0.changed.notify_all();
    }
}

/// The places of the launches beside that run cells (`Overlap::running` of them); a launch
/// waiting out a hang takes none.
pub struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

/// A place taken in [`Slots`], given back when dropped.
pub struct Slot<'a>(&'a Slots);

impl Slots {
    /// `places` places (one at least).
    pub fn new(places: usize) -> Slots {
        Slots {
            free: Mutex::new(places.max(1)),
            freed: Condvar::new(),
        }
    }

    /// Whether a place is free now.
    pub fn any_free(&self) -> bool {
        *lock(&self.free) > 0
    }

    /// Waits for a free place and takes it.
    pub fn take(&self) -> Slot<'_> {
        let mut free = lock(&self.free);
        while *free == 0 {
            free = wait(&self.freed, free);
        }
        *free -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *lock(&self.0.free) += 1;
        self.0.freed.notify_one();
    }
}

/// A launch started ahead of its turn (`Plan::held`): its ranks start up while the launch
/// before it ends, then wait until they are let in, or the launch is withdrawn.
#[derive(Debug, Default)]
pub struct Hold {
    state: Mutex<Held>,
    changed: Condvar,
}

/// Where a [`Hold`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Held {
    /// Started, waiting.
    #[default]
    Waiting,
    /// Let into its cells.
    Go,
    /// Not wanted after all: to be stopped, its evidence unread.
    Withdrawn,
}

impl Hold {
    /// Lets the launch into its cells (unless it was withdrawn).
    pub fn go(&self) {
        self.settle(Held::Go);
    }

    /// Withdraws the launch (unless it was let in).
    pub fn withdraw(&self) {
        self.settle(Held::Withdrawn);
    }

    fn settle(&self, to: Held) {
        let mut state = lock(&self.state);
        if *state == Held::Waiting {
            *state = to;
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Where it stands now.
    pub fn state(&self) -> Held {
        *lock(&self.state)
    }

    /// Waits until it is let in (`true`) or withdrawn (`false`).
    pub fn wait(&self) -> bool {
        let mut state = lock(&self.state);
        while *state == Held::Waiting {
            state = wait(&self.changed, state);
        }
        *state == Held::Go
    }
}

/// A value said once, that threads wait for.
pub struct Said<T> {
    value: Mutex<Option<T>>,
    changed: Condvar,
}

impl<T> Default for Said<T> {
    fn default() -> Self {
        Said {
            value: Mutex::new(None),
            changed: Condvar::new(),
        }
    }
}

impl<T> Said<T> {
    /// Says `value`, unless something was said already.
    pub fn say(&self, value: T) {
        lock(&self.value).get_or_insert(value);
        self.changed.notify_all();
    }

    /// Waits until something is said, and takes it (whoever takes it first).
    pub fn take(&self) -> T {
        let mut value = lock(&self.value);
        loop {
            if let Some(value) = value.take() {
                return value;
            }
            value = wait(&self.changed, value);
        }
    }

    /// Waits until something is said, and returns a copy.
    pub fn heard(&self) -> T
    where
        T: Copy,
    {
        let mut value = lock(&self.value);
        loop {
            if let Some(value) = *value {
                return value;
            }
            value = wait(&self.changed, value);
        }
    }
}

/// How often [`Pending::next_ready`] looks again at items none of which could start.
pub const LOOK_AGAIN: std::time::Duration = std::time::Duration::from_millis(5);

/// Work waiting for a thread, given out best first, until closed and empty.
pub struct Pending<T> {
    queue: Mutex<(Vec<T>, bool)>,
    more: Condvar,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            queue: Mutex::new((Vec::new(), false)),
            more: Condvar::new(),
        }
    }
}

impl<T> Pending<T> {
    /// Adds `item`.
    pub fn push(&self, item: T) {
        lock(&self.queue).0.push(item);
        self.more.notify_one();
    }

    /// Nothing more will be pushed.
    pub fn close(&self) {
        lock(&self.queue).1 = true;
        self.more.notify_all();
    }

    /// The item with the smallest `key` (the first pushed among equals), waiting for one;
    /// `None` once closed and empty.
    pub fn next<K: Ord>(&self, key: impl Fn(&T) -> K) -> Option<T> {
        self.next_ready(|_| true, key)
    }

    /// The item with the smallest `key` among those `ready` says may start now, waiting for
    /// one; `None` once closed and empty. Taking only what may start keeps the choice of the
    /// best until a place is there for it: an item taken early would hold its thread, and be
    /// started first, whatever came after it. What makes an item ready lies outside the queue
    /// (the gate, the slots), so while items wait and none is ready, the queue looks again
    /// every [`LOOK_AGAIN`].
    pub fn next_ready<K: Ord>(
        &self,
        ready: impl Fn(&T) -> bool,
        key: impl Fn(&T) -> K,
    ) -> Option<T> {
        let mut queue = lock(&self.queue);
        loop {
            let best = (queue.0.iter().enumerate())
                .filter(|(_, item)| ready(item))
                .min_by_key(|(i, item)| (key(item), *i))
                .map(|(i, _)| i);
            if let Some(i) = best {
                return Some(queue.0.remove(i));
            }
            if queue.0.is_empty() {
                if queue.1 {
                    return None;
                }
                queue = wait(&self.more, queue);
            } else {
                queue = (self.more.wait_timeout(queue, LOOK_AGAIN))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;

    #[test]
    fn launches_beside_start_only_while_the_gate_is_open_and_the_timed_one_waits_for_them() {
        let gate = Gate::new(1);
        let (inside, done) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let _pass = gate.enter(false);
                inside.fetch_add(1, SeqCst);
                std::thread::sleep(Duration::from_millis(50));
                done.fetch_add(1, SeqCst);
            });
            std::thread::sleep(Duration::from_millis(30));
            assert_eq!(inside.load(SeqCst), 0, "entered through a closed gate");
            gate.open(false);
            std::thread::sleep(Duration::from_millis(20));
            gate.close();
            // The next timed launch waits for the one that entered.
            gate.alone();
            assert_eq!(
                done.load(SeqCst),
                1,
                "the timed launch started beside another"
            );
            waiter.join().unwrap();
        });
    }

    #[test]
    fn a_wait_for_a_hang_passes_only_once_the_timed_launches_are_over() {
        let gate = Gate::new(2);
        std::thread::scope(|scope| {
            let waits = scope.spawn(|| drop(gate.enter(true)));
            gate.open(false);
            std::thread::sleep(Duration::from_millis(30));
            assert!(!waits.is_finished(), "a wait passed beside a timed launch");
            gate.timed_over();
            waits.join().unwrap();
        });
        assert!(gate.is_timed_over());
    }

    #[test]
    fn each_opening_lets_its_number_of_launches_through() {
        let gate = Gate::new(2);
        gate.open(false);
        let (a, b) = (gate.enter(false), gate.enter(false));
        std::thread::scope(|scope| {
            let third = scope.spawn(|| drop(gate.enter(false)));
            std::thread::sleep(Duration::from_millis(30));
            assert!(
                !third.is_finished(),
                "a third launch beside one untimed rest"
            );
            drop((a, b));
            gate.close();
            gate.open(false);
            third.join().unwrap();
        });
        gate.close();
        gate.open(true);
        let all: Vec<Pass<'_>> = (0..5).map(|_| gate.enter(false)).collect();
        assert_eq!(all.len(), 5);
    }

    #[test]
    fn a_hold_is_settled_once_go_or_withdrawn() {
        let hold = Hold::default();
        assert_eq!(hold.state(), Held::Waiting);
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| hold.wait());
            std::thread::sleep(Duration::from_millis(20));
            assert!(!waiter.is_finished(), "a hold let its launch in by itself");
            hold.go();
            assert!(waiter.join().unwrap());
        });
        hold.withdraw();
        assert_eq!(
            hold.state(),
            Held::Go,
            "a launch let in cannot be withdrawn"
        );
        let hold = Hold::default();
        hold.withdraw();
        hold.go();
        assert!(!hold.wait());
    }

    #[test]
    fn pending_work_goes_best_first_and_ends_when_closed() {
        let pending = Pending::default();
        for n in [3, 1, 2, 1] {
            pending.push(n);
        }
        pending.close();
        let mut got = Vec::new();
        while let Some(n) = pending.next(|n| *n) {
            got.push(n);
        }
        assert_eq!(got, [1, 1, 2, 3]);
    }

    #[test]
    fn pending_work_is_given_out_only_once_ready_and_then_best_first() {
        let pending = Pending::default();
        let open = std::sync::atomic::AtomicBool::new(false);
        for n in [3, 1, 2] {
            pending.push(n);
        }
        std::thread::scope(|scope| {
            // Odd items are ready at once, even ones only once `open` is set.
            let ready = |n: &i32| n % 2 == 1 || open.load(SeqCst);
            let pending = &pending;
            let taker = scope.spawn(move || {
                let first = [
                    pending.next_ready(ready, |n| *n),
                    pending.next_ready(ready, |n| *n),
                ];
                (first, pending.next_ready(ready, |n| *n))
            });
            std::thread::sleep(Duration::from_millis(40));
            assert!(
                !taker.is_finished(),
                "an item was given out before it was ready"
            );
            open.store(true, SeqCst);
            let (first, last) = taker.join().unwrap();
            assert_eq!(first, [Some(1), Some(3)]);
            assert_eq!(last, Some(2));
        });
        pending.close();
        assert_eq!(pending.next_ready(|_| false, |n: &i32| *n), None);
    }
}
