//! External events from other threads, the cross-thread wakeup and its counter, and
//! `submit_to`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use msgr::{CenterGone, DriverKind, EventCenter};

use crate::common::{
    DEADLINE, Watchdog, center, center_with_id, current_thread_proc_dir, run, thread_state,
    wait_for, within_deadline,
};

pub(crate) fn external_events_from_many_threads_run_once_in_order(kind: DriverKind) {
    const SENDERS: usize = 8;
    const PER_SENDER: u32 = 10_000;
    let total = SENDERS * PER_SENDER as usize;
    let mut c = center(kind);
    let seen = Arc::new(Mutex::new(vec![Vec::new(); SENDERS]));
    let ran = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(SENDERS));
    let senders: Vec<_> = (0..SENDERS)
        .map(|t| {
            let (h, seen, ran, start) = (c.handle(), seen.clone(), ran.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for i in 0..PER_SENDER {
                    let (seen, ran) = (seen.clone(), ran.clone());
                    h.dispatch_event_external(move |_| {
                        seen.lock().unwrap()[t].push(i);
                        ran.fetch_add(1, Ordering::Relaxed);
                    });
                }
            })
        })
        .collect();
    run(&mut c, "80,000 external events", |_| {
        ran.load(Ordering::Relaxed) == total
    });
    for s in senders {
        s.join().unwrap();
    }
    c.process_events(Some(Duration::ZERO)).unwrap();
    assert_eq!(ran.load(Ordering::Relaxed), total, "an event ran twice");
    for (t, got) in seen.lock().unwrap().iter().enumerate() {
        assert!(
            got.iter().copied().eq(0..PER_SENDER),
            "{kind}: sender {t}'s events ran out of order or not exactly once"
        );
    }
    assert_eq!(c.counters().external_events, total as u64);
}

pub(crate) fn cross_thread_dispatch_wakes_a_sleeping_center(kind: DriverKind) {
    let mut c = center(kind);
    let h = c.handle();
    let owner = current_thread_proc_dir();
    let watchdog = Watchdog::new(h.clone());
    let sender = {
        let h = h.clone();
        thread::spawn(move || {
            wait_for("the owner to sleep in the kernel", || {
                thread_state(&owner) == Some('S')
            });
            h.dispatch_event_external(|c| c.stop());
        })
    };
    // No timer, no timeout: only the other thread can end this wait.
    while !c.is_stopped() && !watchdog.fired() {
        c.process_events(None).unwrap();
    }
    sender.join().unwrap();
    assert!(
        !watchdog.fired(),
        "{kind}: a cross-thread dispatch did not wake the owner"
    );
    assert_eq!(h.wakeups_sent(), 1);
}

pub(crate) fn wakeup_interrupts_a_sleeping_center(kind: DriverKind) {
    let mut c = center(kind);
    let h = c.handle();
    let owner = current_thread_proc_dir();
    let watchdog = Watchdog::new(h.clone());
    let waker = thread::spawn(move || {
        wait_for("the owner to sleep in the kernel", || {
            thread_state(&owner) == Some('S')
        });
        h.wakeup();
    });
    c.process_events(None).unwrap();
    waker.join().unwrap();
    assert!(!watchdog.fired(), "{kind}: wakeup() did not end the wait");
}

pub(crate) fn owner_thread_dispatch_sends_no_wakeup_and_never_sleeps_on_it(kind: DriverKind) {
    let mut c = center(kind);
    let h = c.handle();
    let watchdog = Watchdog::new(h.clone());
    let ran = Arc::new(AtomicUsize::new(0));
    let bump = |ran: &Arc<AtomicUsize>| {
        let ran = ran.clone();
        move |_: &mut EventCenter| {
            ran.fetch_add(1, Ordering::SeqCst);
        }
    };

    // Outside the loop: queued, no wakeup, and the next wait must not sleep on it.
    h.dispatch_event_external(bump(&ran));
    assert_eq!(h.wakeups_sent(), 0);
    c.process_events(None).unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 1);

    // From an external event (runs next iteration) and from a timer (same iteration).
    let (h2, inner) = (h.clone(), bump(&ran));
    h.dispatch_event_external(move |_| h2.dispatch_event_external(inner));
    let (h3, inner) = (h.clone(), bump(&ran));
    c.create_time_event(Duration::ZERO, move |_| h3.dispatch_event_external(inner));
    while ran.load(Ordering::SeqCst) < 3 && !watchdog.fired() {
        c.process_events(None).unwrap();
    }
    assert!(
        !watchdog.fired(),
        "{kind}: the owner slept on its own queued event"
    );
    assert_eq!(
        h.wakeups_sent(),
        0,
        "the owner thread never needs a kernel wakeup"
    );
}

pub(crate) fn wakeups_sent_counts_only_empty_to_non_empty_transitions(kind: DriverKind) {
    let mut c = center(kind);
    let h = c.handle();
    let ran = Arc::new(AtomicUsize::new(0));
    let burst = |n: usize| {
        let (h, ran) = (h.clone(), ran.clone());
        // The owner is blocked in join(), not draining: the queue goes empty -> non-empty once.
        thread::spawn(move || {
            for _ in 0..n {
                let ran = ran.clone();
                h.dispatch_event_external(move |_| {
                    ran.fetch_add(1, Ordering::Relaxed);
                });
            }
        })
        .join()
        .unwrap();
    };
    burst(100);
    assert_eq!(h.wakeups_sent(), 1);
    run(&mut c, "the first burst", |_| {
        ran.load(Ordering::Relaxed) == 100
    });
    burst(50);
    assert_eq!(h.wakeups_sent(), 2);
    run(&mut c, "the second burst", |_| {
        ran.load(Ordering::Relaxed) == 150
    });
    let r = ran.clone();
    h.dispatch_event_external(move |_| {
        r.fetch_add(1, Ordering::Relaxed);
    });
    run(&mut c, "the owner's event", |_| {
        ran.load(Ordering::Relaxed) == 151
    });
    assert_eq!(h.wakeups_sent(), 2, "the owner thread sent a wakeup");
}

// ---- submit_to ---------------------------------------------------------------------------------

pub(crate) fn submit_to_from_another_thread_runs_on_the_owner(kind: DriverKind) {
    let mut c = center(kind);
    let h = c.handle();
    let owner = thread::current().id();
    let caller = thread::spawn(move || {
        let on = h.submit_to(|| (thread::current().id(), 6 * 7));
        let (tx, rx) = mpsc::channel();
        h.submit_to_async(move || tx.send(thread::current().id()).unwrap());
        (h.in_thread(), on, rx.recv_timeout(DEADLINE))
    });
    run(&mut c, "both submissions", |c| {
        c.counters().external_events == 2
    });
    let (in_thread, on, async_on) = caller.join().unwrap();
    assert!(!in_thread);
    assert_eq!(on, Ok((owner, 42)));
    assert_eq!(async_on, Ok(owner));
}

pub(crate) fn submit_to_on_the_owner_thread_runs_inline(kind: DriverKind) {
    // On its own thread: were submit_to queued instead of inline, it would deadlock.
    within_deadline("submit_to on the owner thread", move || {
        let mut c = center(kind);
        let h = c.handle();
        assert!(h.in_thread());
        // Nobody is running the loop: queued, this would never return.
        assert_eq!(
            h.submit_to(|| thread::current().id()),
            Ok(thread::current().id())
        );
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        h.submit_to_async(move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(ran.load(Ordering::SeqCst), 1, "submit_to_async ran inline");
        // From a handler, while the loop is busy running it.
        let out = Rc::new(RefCell::new(None));
        let (o, h2) = (out.clone(), h.clone());
        c.create_time_event(Duration::ZERO, move |_| {
            *o.borrow_mut() = Some(h2.submit_to(|| 7))
        });
        run(&mut c, "the timer", |_| out.borrow().is_some());
        assert_eq!(*out.borrow(), Some(Ok(7)));
        assert_eq!(c.counters().external_events, 0, "nothing was queued");
        assert_eq!(h.wakeups_sent(), 0);
    });
}

pub(crate) fn submit_to_a_dropped_center_is_center_gone(kind: DriverKind) {
    let c = center_with_id(7, kind);
    let h = c.handle();
    drop(c);
    let (tx, rx) = mpsc::channel();
    let h2 = h.clone();
    thread::spawn(move || tx.send(h2.submit_to(|| 1)).unwrap());
    assert_eq!(rx.recv_timeout(DEADLINE), Ok(Err(CenterGone(7))));
    // A late event is dropped at once, freeing what it holds.
    let token = Arc::new(());
    let t = token.clone();
    h.dispatch_event_external(move |_| drop(t));
    assert_eq!(Arc::strong_count(&token), 1);
}

pub(crate) fn submit_to_a_center_dropped_while_waiting_is_center_gone(kind: DriverKind) {
    let c = center_with_id(3, kind);
    let h = c.handle();
    let (tx, rx) = mpsc::channel();
    let h2 = h.clone();
    thread::spawn(move || tx.send(h2.submit_to(|| 1)).unwrap());
    // The wakeup is sent after the closure is queued.
    wait_for("the submission to be queued", || h.wakeups_sent() == 1);
    drop(c);
    assert_eq!(rx.recv_timeout(DEADLINE), Ok(Err(CenterGone(3))));
}
