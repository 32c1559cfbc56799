//! The opt-in busy poll changes when a center sleeps, never what it runs: external events,
//! timers and socket data are handled as without it, on both drivers.

#[macro_use]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use msgr::{DriverConfig, DriverKind, EventCenter};

fn spinning_center(kind: DriverKind, budget: Duration) -> EventCenter {
    let mut cfg = DriverConfig::with_kind(kind);
    cfg.busy_poll = Some(budget);
    let c = EventCenter::new(0, &cfg).expect("EventCenter::new");
    assert_eq!(c.driver_kind(), kind);
    c
}

fn events_timers_and_spins(kind: DriverKind) {
    let mut c = spinning_center(kind, Duration::from_micros(200));
    let handle = c.handle();
    let ran = Arc::new(AtomicU64::new(0));
    // Events from another thread, spaced out so that the loop goes idle in between.
    let r = ran.clone();
    let sender = std::thread::spawn(move || {
        for _ in 0..50 {
            let r = r.clone();
            handle.dispatch_event_external(move |_| {
                r.fetch_add(1, Ordering::Relaxed);
            });
            std::thread::yield_now();
        }
    });
    common::run(&mut c, "50 external events", |_| {
        ran.load(Ordering::Relaxed) == 50
    });
    sender.join().unwrap();
    // A timer still fires no earlier than asked.
    let fired = Arc::new(AtomicU64::new(0));
    let f = fired.clone();
    let start = Instant::now();
    c.create_time_event(Duration::from_millis(3), move |_| {
        f.store(1, Ordering::Relaxed);
    });
    common::run(&mut c, "the timer", |_| fired.load(Ordering::Relaxed) == 1);
    assert!(
        start.elapsed() >= Duration::from_millis(3),
        "{kind}: timer fired early"
    );
    let n = c.counters();
    assert!(n.spins > 0, "{kind}: busy poll never spun: {n:?}");
    assert!(n.spin_hits <= n.spins, "{kind}: {n:?}");
}

driver_tests! {
    events_timers_and_spins,
}

#[test]
fn busy_poll_is_off_by_default() {
    assert_eq!(DriverConfig::default().busy_poll, None);
    let mut c = common::center(DriverKind::Epoll);
    c.process_events(Some(Duration::from_millis(1))).unwrap();
    assert_eq!(c.counters().spins, 0);
}
