//! Event-loop benches: cross-thread external events, timers.
//!
//! - `external_round_trip`: center A (the bench thread) dispatches a closure to center B (its
//!   own thread), which dispatches one back to A; one iteration is one round trip, both
//!   centers sleeping in the kernel in between (two eventfd wakeups per trip). Baseline: the
//!   same ping-pong over a pair of `std::sync::mpsc` channels between two threads.
//! - `timer_insert_cancel_1000`: 1,000 timers created then cancelled on a center, and on the
//!   bare `TimerQueue` (the baseline: what the center adds is boxing and `Instant::now`).
//! - `timer_fire_1000`: 1,000 already-due timers fired by `process_events`, per driver, and
//!   the bare queue's `pop_expired` as the baseline.
//!
//! Run: `cargo bench -p cuttle-bench --bench event_loop`.

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cuttle_bench::{CenterThread, RUN_TIMEOUT};
use msgr::event::TimerQueue;
use msgr::{DriverConfig, DriverKind, EventCenter};

const TIMERS: u64 = 1_000;

fn center(driver: DriverKind) -> EventCenter {
    let c = EventCenter::new(0, &DriverConfig::with_kind(driver)).expect("create center");
    if c.driver_kind() != driver {
        eprintln!(
            "warning: {driver} unavailable, the center fell back to {}",
            c.driver_kind()
        );
    }
    c
}

fn external_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("external_round_trip");
    group.throughput(Throughput::Elements(1));

    for driver in DriverKind::ALL {
        let mut a = center(driver);
        let (b, ()) = CenterThread::spawn("rt-b", driver, |_| Ok(())).expect("start center B");
        let a_handle = a.handle();
        let done = Arc::new(AtomicU64::new(0));
        group.bench_function(format!("cuttle_{driver}"), |bench| {
            bench.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let target = done.load(Ordering::Relaxed) + 1;
                    let (back, done2) = (a_handle.clone(), done.clone());
                    b.handle().dispatch_event_external(move |_| {
                        back.dispatch_event_external(move |_| {
                            done2.fetch_add(1, Ordering::Relaxed);
                        });
                    });
                    let ok = a
                        .run_until(RUN_TIMEOUT, |_| done.load(Ordering::Relaxed) >= target)
                        .expect("process_events");
                    assert!(ok, "round trip timed out");
                }
                start.elapsed()
            })
        });
        b.stop().expect("center B loop");
    }

    let (to_b, b_rx) = mpsc::channel::<()>();
    let (to_a, a_rx) = mpsc::channel::<()>();
    let echo = thread::spawn(move || {
        for () in b_rx {
            if to_a.send(()).is_err() {
                return;
            }
        }
    });
    group.bench_function("std_mpsc", |bench| {
        bench.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                to_b.send(()).expect("send to B");
                a_rx.recv().expect("reply from B");
            }
            start.elapsed()
        })
    });
    drop(to_b);
    echo.join().expect("echo thread");
    group.finish();
}

/// Deadlines 1 s out, scrambled within a millisecond, so inserts land all over the tree.
fn offset(i: u64) -> Duration {
    Duration::from_secs(1) + Duration::from_micros((i * 7919) % 1000)
}

fn timer_insert_cancel(c: &mut Criterion) {
    let mut group = c.benchmark_group("timer_insert_cancel_1000");
    group.throughput(Throughput::Elements(TIMERS));

    let mut center = center(DriverKind::Epoll);
    let mut ids = Vec::with_capacity(TIMERS as usize);
    group.bench_function("center", |b| {
        b.iter(|| {
            for i in 0..TIMERS {
                // The closure captures a value, as real timers do (a boxed 8-byte closure).
                ids.push(center.create_time_event(offset(i), move |_| {
                    black_box(i);
                }));
            }
            for id in ids.drain(..) {
                assert!(center.delete_time_event(id));
            }
        })
    });

    let mut queue = TimerQueue::default();
    let base = Instant::now();
    group.bench_function("timer_queue", |b| {
        b.iter(|| {
            for i in 0..TIMERS {
                ids.push(queue.insert(base + offset(i), i));
            }
            for id in ids.drain(..) {
                assert!(queue.cancel(id).is_some());
            }
        })
    });
    group.finish();
}

fn timer_fire(c: &mut Criterion) {
    let mut group = c.benchmark_group("timer_fire_1000");
    group.throughput(Throughput::Elements(TIMERS));

    for driver in DriverKind::ALL {
        let mut center = center(driver);
        let fired = Rc::new(Cell::new(0u64));
        group.bench_function(format!("center_{driver}"), |b| {
            b.iter(|| {
                fired.set(0);
                for _ in 0..TIMERS {
                    let f = fired.clone();
                    center.create_time_event(Duration::ZERO, move |_| f.set(f.get() + 1));
                }
                let ok = center
                    .run_until(RUN_TIMEOUT, |_| fired.get() == TIMERS)
                    .expect("process_events");
                assert!(ok, "timers did not fire");
            })
        });
    }

    let mut queue = TimerQueue::default();
    group.bench_function("timer_queue", |b| {
        b.iter(|| {
            let now = Instant::now();
            for i in 0..TIMERS {
                queue.insert(now, i);
            }
            let mut n = 0;
            while let Some((_, i)) = queue.pop_expired(now) {
                black_box(i);
                n += 1;
            }
            assert_eq!(n, TIMERS);
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = external_round_trip, timer_insert_cancel, timer_fire
}
criterion_main!(benches);
