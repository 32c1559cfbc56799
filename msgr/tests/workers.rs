//! NetworkStack and its worker threads, on every driver: thread names, least-loaded placement,
//! clean shutdown with connections open, and handler panics reported by `stop()`.
//!
//! Every test here holds the fd lock exclusively: they count the process's threads and fds.

#[macro_use]
mod common;

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;

use bytes::Bytes;
use msgr::sys::open_fd_count;
use msgr::{DriverKind, EventCenter, SocketHandler, SocketId, StackError};

use common::{DEADLINE, Echo, start_stack, tally, thread_name, thread_names, wait_for};

driver_tests! {
    worker_threads_are_named_and_joined_on_stop: exclusive,
    listen_places_connections_on_the_least_loaded_worker: exclusive,
    connect_places_connections_on_the_least_loaded_worker: exclusive,
    stop_with_connections_open_joins_threads_and_closes_every_fd: exclusive,
    panic_in_an_external_event_is_reported_by_stop: exclusive,
    panic_in_a_socket_handler_is_reported_by_stop: exclusive,
}

const PREFIX: &str = "msgr-worker-";

fn worker_names(n: usize) -> Vec<String> {
    let mut v: Vec<String> = (0..n).map(|i| format!("{PREFIX}{i}")).collect();
    v.sort();
    v
}

/// `conns` spread evenly: worker name -> connections.
fn even(workers: usize, conns: usize) -> BTreeMap<String, usize> {
    worker_names(workers)
        .into_iter()
        .map(|n| (n, conns / workers))
        .collect()
}

fn wait_for_no_workers() {
    // A joined thread can linger in /proc for a moment after join() returns.
    wait_for("worker threads to leave /proc/self/task", || {
        thread_names(PREFIX).is_empty()
    });
}

/// What a [`Tracked`] connection reports to the test thread.
#[derive(Debug, PartialEq)]
enum Ev {
    /// The handler exists (or connected) on this thread.
    On(String),
    Data(usize),
    Closed,
}

/// Echoes, and reports where it runs and when it closes.
struct Tracked(mpsc::Sender<Ev>);

impl SocketHandler for Tracked {
    fn on_connected(&mut self, _c: &mut EventCenter, _s: SocketId) {
        self.0.send(Ev::On(thread_name())).unwrap();
    }
    fn on_data(&mut self, c: &mut EventCenter, s: SocketId, d: &[u8]) {
        self.0.send(Ev::Data(d.len())).unwrap();
        c.send(s, Bytes::copy_from_slice(d)).unwrap();
    }
    fn on_closed(&mut self, _c: &mut EventCenter, _s: SocketId, _r: msgr::CloseReason) {
        self.0.send(Ev::Closed).unwrap();
    }
}

fn recv(rx: &mpsc::Receiver<Ev>, what: &str) -> Ev {
    rx.recv_timeout(DEADLINE)
        .unwrap_or_else(|e| panic!("waiting for {what}: {e}"))
}

fn placed_on(rx: &mpsc::Receiver<Ev>, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| match recv(rx, "a placement") {
            Ev::On(name) => name,
            other => panic!("expected a placement, got {other:?}"),
        })
        .collect()
}

fn worker_threads_are_named_and_joined_on_stop(kind: DriverKind) {
    assert!(
        thread_names(PREFIX).is_empty(),
        "a previous stack leaked threads"
    );
    let mut stack = start_stack(kind, 3);
    assert_eq!(thread_names(PREFIX), worker_names(3));
    for (i, w) in stack.workers().iter().enumerate() {
        assert_eq!(w.id(), i);
        assert!(!w.center().in_thread());
        // Each center really is driven by the thread of the same index.
        assert_eq!(
            w.center().submit_to(thread_name),
            Ok(format!("{PREFIX}{i}"))
        );
    }
    stack.stop().expect("clean stop");
    wait_for_no_workers();
    assert_eq!(stack.stop().ok(), Some(()), "a second stop is a no-op");
}

fn listen_places_connections_on_the_least_loaded_worker(kind: DriverKind) {
    const WORKERS: usize = 3;
    const CONNS: usize = 12;
    let mut stack = start_stack(kind, WORKERS);
    let (tx, rx) = mpsc::channel();
    let listener = msgr::bind_listener("127.0.0.1".parse().unwrap(), 0..=0).unwrap();
    let (_, addr) = stack
        .listen(listener, move |_| {
            // Built on the worker that adopts the connection.
            tx.send(Ev::On(thread_name())).unwrap();
            Box::new(Tracked(tx.clone()))
        })
        .unwrap();
    let mut clients: Vec<TcpStream> = (0..CONNS)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let placed = placed_on(&rx, CONNS);
    assert_eq!(
        tally(placed),
        even(WORKERS, CONNS),
        "{kind}: uneven placement"
    );
    for w in stack.workers() {
        assert_eq!(
            w.references(),
            CONNS / WORKERS,
            "worker {} references",
            w.id()
        );
    }
    // Every placed connection works.
    for (i, c) in clients.iter_mut().enumerate() {
        c.set_read_timeout(Some(DEADLINE)).unwrap();
        c.write_all(&[i as u8]).unwrap();
        let mut b = [0u8; 1];
        c.read_exact(&mut b).unwrap();
        assert_eq!(b[0], i as u8);
    }
    drop(clients);
    let mut closed = 0;
    while closed < CONNS {
        if recv(&rx, "the server side to close") == Ev::Closed {
            closed += 1;
        }
    }
    for w in stack.workers() {
        assert_eq!(
            w.references(),
            0,
            "worker {} references after close",
            w.id()
        );
    }
    assert_eq!(stack.get_worker().id(), 0, "ties go to the lowest index");
    stack.stop().expect("clean stop");
}

fn connect_places_connections_on_the_least_loaded_worker(kind: DriverKind) {
    const WORKERS: usize = 3;
    const CONNS: usize = 6;
    // A plain listener: the handshakes complete in its backlog.
    let peer = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = peer.local_addr().unwrap();
    let mut stack = start_stack(kind, WORKERS);
    // Keep every worker busy while the connects are issued, as under load: placement must
    // not depend on the workers having run earlier connects already.
    let gates: Vec<mpsc::Sender<()>> = stack
        .workers()
        .iter()
        .map(|w| {
            let (open, gate) = mpsc::channel::<()>();
            w.center().dispatch_event_external(move |_| {
                let _ = gate.recv_timeout(DEADLINE);
            });
            open
        })
        .collect();
    let (tx, rx) = mpsc::channel();
    for _ in 0..CONNS {
        let tx = tx.clone();
        stack.connect(addr, move || Box::new(Tracked(tx)));
    }
    drop(gates);
    let placed = placed_on(&rx, CONNS);
    assert_eq!(
        tally(placed),
        even(WORKERS, CONNS),
        "{kind}: uneven placement of outgoing connections"
    );
    for w in stack.workers() {
        assert_eq!(
            w.references(),
            CONNS / WORKERS,
            "worker {} references",
            w.id()
        );
    }
    stack.stop().expect("clean stop");
}

/// Sends a ping once connected and reports when the whole echo is back.
struct Pinger(mpsc::Sender<Ev>, usize);

impl SocketHandler for Pinger {
    fn on_connected(&mut self, c: &mut EventCenter, s: SocketId) {
        c.send(s, Bytes::from_static(b"ping")).unwrap();
    }
    fn on_data(&mut self, _c: &mut EventCenter, _s: SocketId, d: &[u8]) {
        self.1 += d.len();
        if self.1 == 4 {
            self.0.send(Ev::Data(4)).unwrap();
        }
    }
}

fn stop_with_connections_open_joins_threads_and_closes_every_fd(kind: DriverKind) {
    const WORKERS: usize = 2;
    const CONNS: usize = 8;
    assert!(
        thread_names(PREFIX).is_empty(),
        "a previous stack leaked threads"
    );
    let fds_before = open_fd_count().unwrap();

    let mut stack = start_stack(kind, WORKERS);
    let listener = msgr::bind_listener("127.0.0.1".parse().unwrap(), 0..=0).unwrap();
    let (_, addr) = stack.listen(listener, |_| Box::new(Echo)).unwrap();
    // Both ends of every connection live in the stack, so stop() has to close both.
    let (tx, rx) = mpsc::channel();
    for _ in 0..CONNS {
        let tx = tx.clone();
        stack.connect(addr, move || Box::new(Pinger(tx, 0)));
    }
    for _ in 0..CONNS {
        assert_eq!(recv(&rx, "an echoed ping"), Ev::Data(4));
    }
    let fds_open = open_fd_count().unwrap();
    assert!(
        fds_open >= fds_before + 2 * CONNS,
        "{kind}: {fds_open} fds open with {CONNS} connections, {fds_before} before"
    );

    stack.stop().expect("clean stop");
    wait_for_no_workers();
    // Only each worker's eventfd may outlive stop(): the stack's CenterHandles keep it, so a
    // late wakeup never writes to a reused fd number.
    let fds_stopped = open_fd_count().unwrap();
    assert!(
        fds_stopped <= fds_before + WORKERS,
        "{kind}: {fds_stopped} fds open after stop(), {fds_before} before start"
    );
    drop(stack);
    assert_eq!(open_fd_count().unwrap(), fds_before, "{kind}: fds leaked");
}

fn expect_panicked(kind: DriverKind, res: Result<(), StackError>) -> (usize, String) {
    match res {
        Err(StackError::WorkerPanicked { id, message }) => (id, message),
        other => panic!("{kind}: stop() returned {other:?}, expected WorkerPanicked"),
    }
}

fn panic_in_an_external_event_is_reported_by_stop(kind: DriverKind) {
    let mut stack = start_stack(kind, 2);
    stack.workers()[1]
        .center()
        .dispatch_event_external(|_| panic!("boom in an external event"));
    let (id, message) = expect_panicked(kind, stack.stop());
    assert_eq!(id, 1);
    assert_eq!(message, "boom in an external event");
    wait_for_no_workers();
}

/// Panics with a formatted (`String`) payload on its first bytes.
struct Bomb(mpsc::Sender<Ev>);

impl SocketHandler for Bomb {
    fn on_data(&mut self, _c: &mut EventCenter, _s: SocketId, _d: &[u8]) {
        let me = thread_name();
        self.0.send(Ev::On(me.clone())).unwrap();
        panic!("bomb went off on {me}");
    }
}

fn panic_in_a_socket_handler_is_reported_by_stop(kind: DriverKind) {
    let mut stack = start_stack(kind, 2);
    let (tx, rx) = mpsc::channel();
    let listener = msgr::bind_listener("127.0.0.1".parse().unwrap(), 0..=0).unwrap();
    let (_, addr) = stack
        .listen(listener, move |_| Box::new(Bomb(tx.clone())))
        .unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    client.write_all(b"abc").unwrap();
    let name = placed_on(&rx, 1).remove(0);
    let (id, message) = expect_panicked(kind, stack.stop());
    assert_eq!(
        format!("{PREFIX}{id}"),
        name,
        "the panicking worker is named"
    );
    assert_eq!(message, format!("bomb went off on {name}"));
    wait_for_no_workers();
    // The dead worker's sockets were closed: the client sees the end of the stream.
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = [0u8; 16];
    match client.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
        other => panic!("{kind}: client read after the worker died: {other:?}"),
    }
}
