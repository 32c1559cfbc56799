//! Time events: deadline order, ties, cancellation, 10,000 timers, never early, and timers
//! ending a wait that has no timeout.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use msgr::{DriverKind, EventCenter, TimerId};

use crate::common::{Watchdog, center, run};

/// Bounds of a timer's real deadline: `create_time_event` reads the clock somewhere in between.
type Window = (Instant, Instant);

fn timer(
    c: &mut EventCenter,
    after: Duration,
    f: impl FnOnce(&mut EventCenter) + 'static,
) -> (TimerId, Window) {
    let lo = Instant::now() + after;
    let id = c.create_time_event(after, f);
    (id, (lo, Instant::now() + after))
}

/// Fails unless `fired` (indices into `windows`) is consistent with firing in deadline order:
/// a timer fired before another only if its deadline can be the earlier one.
fn assert_deadline_order(kind: DriverKind, fired: &[usize], windows: &[Window]) {
    for pair in fired.windows(2) {
        let (p, q) = (pair[0], pair[1]);
        assert!(
            windows[p].0 <= windows[q].1,
            "{kind}: timer {p} fired before timer {q}, whose deadline is {:?} earlier",
            windows[p].0 - windows[q].1
        );
    }
}

pub(crate) fn timers_fire_in_deadline_order(kind: DriverKind) {
    let mut c = center(kind);
    let log: Rc<RefCell<Vec<usize>>> = Rc::default();
    let ms = [40u64, 10, 30, 0, 20, 5, 35, 15, 25];
    let mut windows = Vec::new();
    for (i, &m) in ms.iter().enumerate() {
        let l = log.clone();
        let (_, w) = timer(&mut c, Duration::from_millis(m), move |_| {
            l.borrow_mut().push(i)
        });
        windows.push(w);
    }
    assert_eq!(c.pending_time_events(), ms.len());
    run(&mut c, "all timers", |_| log.borrow().len() == ms.len());
    assert_deadline_order(kind, &log.borrow(), &windows);
    assert_eq!(c.pending_time_events(), 0);
    assert_eq!(c.counters().time_events, ms.len() as u64);
}

pub(crate) fn equal_deadlines_fire_in_creation_order(kind: DriverKind) {
    let mut c = center(kind);
    let log: Rc<RefCell<Vec<usize>>> = Rc::default();
    for i in 0..100 {
        let l = log.clone();
        c.create_time_event(Duration::ZERO, move |_| l.borrow_mut().push(i));
    }
    run(&mut c, "all timers", |_| log.borrow().len() == 100);
    assert_eq!(*log.borrow(), (0..100).collect::<Vec<_>>());
}

pub(crate) fn cancelled_timer_never_fires(kind: DriverKind) {
    let mut c = center(kind);
    let log: Rc<RefCell<Vec<&str>>> = Rc::default();
    let token = Rc::new(());
    let (l, t) = (log.clone(), token.clone());
    let a = c.create_time_event(Duration::from_millis(2), move |_| l.borrow_mut().push("a"));
    let l = log.clone();
    let b = c.create_time_event(Duration::from_millis(5), move |_| {
        drop(t);
        l.borrow_mut().push("b")
    });
    assert!(c.delete_time_event(b), "cancel of a pending timer");
    assert!(!c.delete_time_event(b), "second cancel");
    assert_eq!(
        Rc::strong_count(&token),
        1,
        "a cancelled timer's closure is dropped"
    );
    // Due after b would have been.
    let l = log.clone();
    c.create_time_event(Duration::from_millis(15), move |_| {
        l.borrow_mut().push("sentinel")
    });
    run(&mut c, "the sentinel timer", |_| {
        log.borrow().contains(&"sentinel")
    });
    assert_eq!(*log.borrow(), ["a", "sentinel"]);
    assert!(
        !c.delete_time_event(a),
        "cancel of a fired timer returns false"
    );
    assert_eq!(c.pending_time_events(), 0);
}

pub(crate) fn timer_cancelled_by_an_earlier_timer_never_fires(kind: DriverKind) {
    let mut c = center(kind);
    let log: Rc<RefCell<Vec<&str>>> = Rc::default();
    let victim: Rc<Cell<Option<TimerId>>> = Rc::default();
    let cancelled = Rc::new(Cell::new(None));
    let (l, v, k) = (log.clone(), victim.clone(), cancelled.clone());
    // Both are due at once, so they pop in the same iteration.
    c.create_time_event(Duration::ZERO, move |c| {
        l.borrow_mut().push("first");
        k.set(Some(c.delete_time_event(v.get().unwrap())));
    });
    let l = log.clone();
    victim.set(Some(c.create_time_event(Duration::ZERO, move |_| {
        l.borrow_mut().push("victim")
    })));
    let l = log.clone();
    c.create_time_event(Duration::from_millis(1), move |_| {
        l.borrow_mut().push("sentinel")
    });
    run(&mut c, "the sentinel timer", |_| {
        log.borrow().contains(&"sentinel")
    });
    assert_eq!(*log.borrow(), ["first", "sentinel"]);
    assert_eq!(cancelled.get(), Some(true));
}

pub(crate) fn ten_thousand_timers_all_fire_in_order(kind: DriverKind) {
    const N: usize = 10_000;
    let mut c = center(kind);
    let log: Rc<RefCell<Vec<usize>>> = Rc::new(RefCell::new(Vec::with_capacity(N)));
    let mut windows = Vec::with_capacity(N);
    for i in 0..N {
        // A scrambled permutation of 0..20 ms in 2 µs steps.
        let after = Duration::from_micros((i * 7919 % N) as u64 * 2);
        let l = log.clone();
        let (_, w) = timer(&mut c, after, move |_| l.borrow_mut().push(i));
        windows.push(w);
    }
    run(&mut c, "10,000 timers", |_| log.borrow().len() == N);
    c.process_events(Some(Duration::ZERO)).unwrap();
    let log = log.borrow();
    let mut once = log.clone();
    once.sort_unstable();
    assert_eq!(
        once,
        (0..N).collect::<Vec<_>>(),
        "each timer fires exactly once"
    );
    assert_deadline_order(kind, &log, &windows);
    assert_eq!(c.counters().time_events, N as u64);
}

pub(crate) fn timer_is_never_early(kind: DriverKind) {
    let mut c = center(kind);
    // Sub-millisecond, around the millisecond, and past the driver's 100 ms precise-timer limit.
    let us = [
        0u64, 1, 50, 999, 1_000, 1_001, 2_500, 20_000, 100_001, 150_000,
    ];
    let late: Rc<RefCell<Vec<(Duration, Duration)>>> = Rc::default();
    for &u in &us {
        let want = Duration::from_micros(u);
        let l = late.clone();
        let start = Instant::now();
        c.create_time_event(want, move |_| l.borrow_mut().push((want, start.elapsed())));
    }
    run(&mut c, "all timers", |_| late.borrow().len() == us.len());
    for &(want, elapsed) in late.borrow().iter() {
        assert!(
            elapsed >= want,
            "{kind}: {want:?} timer fired after {elapsed:?}"
        );
    }
}

pub(crate) fn timers_end_a_wait_without_timeout(kind: DriverKind) {
    let mut c = center(kind);
    let fired = Rc::new(Cell::new(0));
    for ms in [1, 3, 120] {
        let f = fired.clone();
        c.create_time_event(Duration::from_millis(ms), move |_| f.set(f.get() + 1));
    }
    let watchdog = Watchdog::new(c.handle());
    while fired.get() < 3 && !watchdog.fired() {
        c.process_events(None).unwrap();
    }
    assert!(
        !watchdog.fired(),
        "{kind}: process_events(None) slept past a due timer"
    );
}
