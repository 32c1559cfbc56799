//! File events: readable and writable readiness, edge-triggered re-arming, masks, deletion,
//! and fds closed while registered.

use std::cell::{Cell, RefCell};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use msgr::{DriverKind, EventCenter, EventMask};

use crate::common::{center, drain, nonblocking_pair, run};

/// What a file handler saw: the fired mask and what it drained, per call.
type Calls = Rc<RefCell<Vec<(EventMask, Vec<u8>)>>>;

pub(crate) fn readable_fires_and_rearms_after_drain(kind: DriverKind) {
    let mut c = center(kind);
    let (a, mut b) = nonblocking_pair();
    let fd = a.as_raw_fd();
    let got: Calls = Rc::default();
    let g = got.clone();
    c.create_file_event(fd, EventMask::READABLE, move |_, f, mask| {
        assert_eq!(f, fd);
        g.borrow_mut().push((mask, drain(&a)));
    })
    .unwrap();
    let received =
        |got: &Calls| -> Vec<u8> { got.borrow().iter().flat_map(|(_, d)| d.clone()).collect() };

    b.write_all(b"hello").unwrap();
    run(&mut c, "the first readable event", |_| {
        !got.borrow().is_empty()
    });
    assert_eq!(received(&got), b"hello");
    // Drained to WouldBlock, so new data must raise a new edge.
    b.write_all(b" world").unwrap();
    run(&mut c, "the readable event for new data", |_| {
        received(&got).len() == 11
    });
    assert_eq!(received(&got), b"hello world");
    for (mask, _) in got.borrow().iter() {
        assert_eq!(
            *mask,
            EventMask::READABLE,
            "only the registered interest fires"
        );
    }
}

pub(crate) fn writable_fires_and_rearms_when_room_returns(kind: DriverKind) {
    let mut c = center(kind);
    let (a, b) = nonblocking_pair();
    let events = Rc::new(Cell::new(0usize));
    let filled = Rc::new(Cell::new(0usize));
    let (e, f) = (events.clone(), filled.clone());
    c.create_file_event(a.as_raw_fd(), EventMask::WRITABLE, move |_, _, mask| {
        assert_eq!(mask, EventMask::WRITABLE);
        e.set(e.get() + 1);
        if f.get() > 0 {
            return;
        }
        // Fill the socket until the kernel refuses more: the edge-triggered contract.
        let chunk = [0x5au8; 16 * 1024];
        loop {
            match (&a).write(&chunk) {
                Ok(n) => f.set(f.get() + n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("write: {e}"),
            }
        }
    })
    .unwrap();

    run(&mut c, "writable on an empty socket", |_| filled.get() > 0);
    let before = events.get();
    // The peer makes room; the writer must be told again.
    let drained = drain(&b).len();
    assert_eq!(drained, filled.get(), "the peer reads all that was written");
    run(&mut c, "writable once room returns", |_| {
        events.get() > before
    });
}

pub(crate) fn masks_accumulate_and_deleting_one_keeps_the_other(kind: DriverKind) {
    let mut c = center(kind);
    let (a, mut b) = nonblocking_pair();
    let a = Rc::new(a);
    let masks: Rc<RefCell<Vec<EventMask>>> = Rc::default();
    let handler = |a: Rc<UnixStream>, m: Rc<RefCell<Vec<EventMask>>>| {
        move |_: &mut EventCenter, _, mask| {
            m.borrow_mut().push(mask);
            drain(&a);
        }
    };
    let fd = a.as_raw_fd();
    c.create_file_event(fd, EventMask::READABLE, handler(a.clone(), masks.clone()))
        .unwrap();
    // Adds WRITABLE to the registered READABLE (and replaces the handler).
    c.create_file_event(fd, EventMask::WRITABLE, handler(a.clone(), masks.clone()))
        .unwrap();
    b.write_all(b"x").unwrap();
    run(&mut c, "both directions", |_| {
        let m = masks.borrow();
        m.iter().any(|m| m.contains(EventMask::READABLE))
            && m.iter().any(|m| m.contains(EventMask::WRITABLE))
    });

    c.delete_file_event(fd, EventMask::WRITABLE);
    masks.borrow_mut().clear();
    b.write_all(b"y").unwrap();
    run(&mut c, "readable after deleting writable", |_| {
        !masks.borrow().is_empty()
    });
    c.process_events(Some(Duration::ZERO)).unwrap();
    assert!(
        masks.borrow().iter().all(|m| *m == EventMask::READABLE),
        "{kind}: writable still delivered after its deletion: {:?}",
        masks.borrow()
    );
}

/// A socket pair whose event marks a point in time: anything written to other fds before the
/// sentinel is written has raised its event by the time the sentinel's arrives. Create it
/// before closing any fd under test, so it cannot take over the closed fd's number.
struct Sentinel(UnixStream, UnixStream);

impl Sentinel {
    fn new() -> Self {
        let (s, t) = nonblocking_pair();
        Sentinel(s, t)
    }

    /// Registers the sentinel, writes to it and runs `c` until its event arrives.
    fn run_past(self, c: &mut EventCenter) {
        let Sentinel(s, mut t) = self;
        let fired = Rc::new(Cell::new(false));
        let f = fired.clone();
        let fd = s.as_raw_fd();
        c.create_file_event(fd, EventMask::READABLE, move |_, _, _| {
            drain(&s);
            f.set(true);
        })
        .unwrap();
        t.write_all(b"s").unwrap();
        run(c, "the sentinel event", |_| fired.get());
        c.process_events(Some(Duration::ZERO)).unwrap();
        c.delete_file_event(fd, EventMask::ALL);
    }
}

pub(crate) fn delete_file_event_stops_delivery_and_drops_the_handler(kind: DriverKind) {
    let mut c = center(kind);
    let (a, mut b) = nonblocking_pair();
    let a = Rc::new(a);
    let calls = Rc::new(Cell::new(0usize));
    let (h, n) = (a.clone(), calls.clone());
    c.create_file_event(a.as_raw_fd(), EventMask::READABLE, move |_, _, _| {
        n.set(n.get() + 1);
        drain(&h);
    })
    .unwrap();
    b.write_all(b"1").unwrap();
    run(&mut c, "the first event", |_| calls.get() == 1);

    let sentinel = Sentinel::new();
    c.delete_file_event(a.as_raw_fd(), EventMask::READABLE);
    assert_eq!(Rc::strong_count(&a), 1, "no interest left: handler dropped");
    b.write_all(b"2").unwrap();
    sentinel.run_past(&mut c);
    assert_eq!(
        calls.get(),
        1,
        "{kind}: event delivered after delete_file_event"
    );
    assert_eq!(drain(&a), b"2", "the data is still unread");
    // Deleting again, or an fd never registered, is a no-op.
    c.delete_file_event(a.as_raw_fd(), EventMask::ALL);
    c.delete_file_event(b.as_raw_fd(), EventMask::ALL);

    // The driver let go of the fd too: once closed, its peer sees it gone.
    let sentinel = Sentinel::new();
    drop(a);
    sentinel.run_past(&mut c);
    let write = b.write(b"3");
    assert!(
        matches!(&write, Err(e) if e.kind() == io::ErrorKind::BrokenPipe),
        "{kind}: a deleted and closed fd is still open in the driver: peer write {write:?}"
    );
}

pub(crate) fn closing_a_registered_fd_is_safe(kind: DriverKind) {
    let mut c = center(kind);
    let (a, b) = nonblocking_pair();
    let n = a.as_raw_fd();
    let old_calls = Rc::new(Cell::new(0usize));
    let o = old_calls.clone();
    c.create_file_event(n, EventMask::READABLE, move |_, _, _| o.set(o.get() + 1))
        .unwrap();
    c.process_events(Some(Duration::ZERO)).unwrap(); // the registration reaches the kernel
    drop(a);
    drop(b);

    // A new socket with the same fd number (this test holds the fd lock exclusively, so only
    // the lower free numbers can come first).
    let mut spare = Vec::new();
    let (x, mut y) = loop {
        let (p, q) = nonblocking_pair();
        if p.as_raw_fd() == n {
            break (p, q);
        }
        if q.as_raw_fd() == n {
            break (q, p);
        }
        spare.push((p, q));
        assert!(spare.len() < 1024, "fd {n} never came back");
    };
    drop(spare);
    let got: Rc<RefCell<Vec<u8>>> = Rc::default();
    let g = got.clone();
    c.create_file_event(n, EventMask::READABLE, move |_, fd, _| {
        assert_eq!(fd, n);
        g.borrow_mut().extend(drain(&x));
    })
    .unwrap();
    y.write_all(b"new").unwrap();
    run(&mut c, "an event on the reused fd number", |_| {
        got.borrow().len() == 3
    });
    assert_eq!(*got.borrow(), b"new");
    assert_eq!(old_calls.get(), 0, "{kind}: the closed fd's handler ran");
    c.delete_file_event(n, EventMask::ALL);
}

/// Ceph's rule is "delete the file event, then close the fd". Closing first must still be safe,
/// and the delete that follows must release the file: on io_uring the armed poll holds a
/// reference to it until then, so the peer sees the close only after the delete.
pub(crate) fn closing_then_deleting_a_registered_fd_releases_it(kind: DriverKind) {
    let mut c = center(kind);
    let (a, mut b) = nonblocking_pair();
    let old_calls = Rc::new(Cell::new(0usize));
    let o = old_calls.clone();
    let fd = a.as_raw_fd();
    c.create_file_event(fd, EventMask::READABLE, move |_, _, _| o.set(o.get() + 1))
        .unwrap();
    c.process_events(Some(Duration::ZERO)).unwrap(); // the registration reaches the kernel
    drop(a);
    c.delete_file_event(fd, EventMask::READABLE);
    let mut last = None;
    let released = c
        .run_until(crate::common::DEADLINE, |_| {
            let w = b.write(b"x");
            let gone = matches!(&w, Err(e) if matches!(e.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset));
            last = Some(w);
            gone
        })
        .unwrap();
    assert!(
        released,
        "{kind}: the peer can still write after close + delete: {last:?}"
    );
    assert_eq!(old_calls.get(), 0, "{kind}: a deleted handler ran");
}
