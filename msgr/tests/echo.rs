//! Loopback TCP integration tests on every driver: echo over many connections, one huge send,
//! many tiny sends, the ways a stream can end, and a refused connect.

#[macro_use]
mod common;

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use mio::unix::SourceFd;
use msgr::{CloseReason, DriverKind, EventCenter, SocketHandler, SocketId};

use common::{DEADLINE, Echo, Recorder, SeenRef, center, echo_stack, pattern, run};

driver_tests! {
    many_connections_each_echo_their_own_data,
    one_8_mib_send_arrives_complete_and_in_order,
    ten_thousand_7_byte_sends_arrive_complete_and_in_order,
    data_then_peer_close_gives_the_data_then_peer_closed,
    peer_reset_gives_connection_reset,
    peer_closing_mid_stream_ends_the_stream,
    connect_to_a_closed_port_is_refused,
    closed_listener_refuses_new_connections: exclusive,
}

fn is_closed_by_peer(r: &CloseReason) -> bool {
    match r {
        CloseReason::PeerClosed => true,
        CloseReason::Error(e) => matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ),
    }
}

/// Connects a [`Recorder`] to `addr` from `c` and queues `payload` before the connect finishes.
fn client(c: &mut EventCenter, addr: SocketAddr, payload: &[u8]) -> (SocketId, SeenRef) {
    let (rec, seen) = Recorder::new();
    let id = c.connect(addr, rec).expect("connect");
    c.send(id, Bytes::copy_from_slice(payload)).unwrap();
    (id, seen)
}

fn many_connections_each_echo_their_own_data(kind: DriverKind) {
    const CONNS: u32 = 64;
    const LEN: usize = 64 * 1024;
    let (mut stack, addr) = echo_stack(kind, 2);
    let mut c = center(kind);
    let clients: Vec<_> = (0..CONNS)
        .map(|i| client(&mut c, addr, &pattern(i, LEN)))
        .collect();
    assert_eq!(c.socket_count(), CONNS as usize);
    run(&mut c, "every echo", |_| {
        clients.iter().all(|(_, s)| s.borrow().data.len() >= LEN)
    });
    for (i, (id, seen)) in clients.iter().enumerate() {
        let s = seen.borrow();
        assert!(s.connected && s.closed.is_none(), "connection {i}: {s:?}");
        assert!(
            s.data == pattern(i as u32, LEN),
            "{kind}: connection {i} got other data"
        );
        assert_eq!(c.queued_bytes(*id), Some(0));
    }

    // Stopping the server closes its ends: every client hears a clean end of stream.
    stack.stop().expect("clean stop");
    run(&mut c, "every client to see the close", |_| {
        clients.iter().all(|(_, s)| s.borrow().closed.is_some())
    });
    for (i, (_, seen)) in clients.iter().enumerate() {
        let s = seen.borrow();
        assert!(
            matches!(s.closed, Some(CloseReason::PeerClosed)),
            "{kind}: connection {i} closed with {:?}",
            s.closed
        );
        assert_eq!(s.after_close, 0);
    }
    assert_eq!(c.socket_count(), 0);
}

fn one_8_mib_send_arrives_complete_and_in_order(kind: DriverKind) {
    const LEN: usize = 8 << 20;
    let (mut stack, addr) = echo_stack(kind, 1);
    let mut c = center(kind);
    let payload = pattern(8, LEN);
    let (id, seen) = client(&mut c, addr, &payload);
    assert_eq!(c.queued_bytes(id), Some(LEN));
    run(&mut c, "8 MiB back", |_| seen.borrow().data.len() >= LEN);
    let s = seen.borrow();
    assert_eq!(s.data.len(), LEN);
    if let Some(at) = s.data.iter().zip(&payload).position(|(a, b)| a != b) {
        panic!("{kind}: echo differs from byte {at} on");
    }
    assert_eq!(c.queued_bytes(id), Some(0));
    stack.stop().expect("clean stop");
}

fn ten_thousand_7_byte_sends_arrive_complete_and_in_order(kind: DriverKind) {
    const SENDS: usize = 10_000;
    let mut c = center(kind);
    let listener = msgr::bind_listener("127.0.0.1".parse().unwrap(), 0..=0).unwrap();
    let addr = listener.local_addr().unwrap();
    c.listen(listener, |c, s, _| {
        c.register_socket(s, Echo).unwrap();
    })
    .unwrap();
    let payload = pattern(7, SENDS * 7);
    let (rec, seen) = Recorder::new();
    let id = c.connect(addr, rec).unwrap();
    for chunk in payload.chunks(7) {
        c.send(id, Bytes::copy_from_slice(chunk)).unwrap();
    }
    assert_eq!(c.queued_bytes(id), Some(payload.len()));
    run(&mut c, "70,000 bytes back", |_| {
        seen.borrow().data.len() >= payload.len()
    });
    assert!(seen.borrow().data == payload, "{kind}: the echo differs");
    assert_eq!(c.queued_bytes(id), Some(0));
}

fn data_then_peer_close_gives_the_data_then_peer_closed(kind: DriverKind) {
    let mut c = center(kind);
    let peer = TcpListener::bind("127.0.0.1:0").unwrap();
    let (id, seen) = client(&mut c, peer.local_addr().unwrap(), b"hello");
    run(&mut c, "hello to be sent", |c| {
        seen.borrow().connected && c.queued_bytes(id) == Some(0)
    });
    let (mut p, _) = peer.accept().unwrap();
    p.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = [0u8; 5];
    p.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    p.write_all(b"bye").unwrap();
    drop(p);

    run(&mut c, "the close", |_| seen.borrow().closed.is_some());
    let s = seen.borrow();
    assert_eq!(
        s.data, b"bye",
        "{kind}: data sent before the close is delivered first"
    );
    assert!(
        matches!(s.closed, Some(CloseReason::PeerClosed)),
        "{kind}: {:?}",
        s.closed
    );
    assert_eq!(s.after_close, 0);
    assert_eq!(c.socket_count(), 0);
    assert_eq!(c.queued_bytes(id), None);
    let late = c.send(id, Bytes::from_static(b"late")).unwrap_err();
    assert_eq!(late.kind(), io::ErrorKind::NotConnected);
}

fn peer_reset_gives_connection_reset(kind: DriverKind) {
    let mut c = center(kind);
    let peer = TcpListener::bind("127.0.0.1:0").unwrap();
    let (id, seen) = client(&mut c, peer.local_addr().unwrap(), b"never read");
    run(&mut c, "the data to be sent", |c| {
        seen.borrow().connected && c.queued_bytes(id) == Some(0)
    });
    let (p, _) = peer.accept().unwrap();
    p.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = [0u8; 1];
    p.peek(&mut buf).unwrap(); // the data has arrived, unread
    drop(p); // closing with unread data sends a reset

    run(&mut c, "the reset", |_| seen.borrow().closed.is_some());
    let s = seen.borrow();
    match &s.closed {
        Some(CloseReason::Error(e)) if e.kind() == io::ErrorKind::ConnectionReset => {}
        other => panic!("{kind}: expected a ConnectionReset error, got {other:?}"),
    }
}

/// Reads once, then closes its own socket.
struct CloseOnFirstData {
    got: Rc<Cell<usize>>,
    heard_closed: Rc<Cell<bool>>,
    _alive: Rc<()>,
}

impl SocketHandler for CloseOnFirstData {
    fn on_data(&mut self, c: &mut EventCenter, s: SocketId, d: &[u8]) {
        self.got.set(self.got.get() + d.len());
        c.close(s);
    }
    fn on_closed(&mut self, _c: &mut EventCenter, _s: SocketId, _r: CloseReason) {
        self.heard_closed.set(true);
    }
}

fn peer_closing_mid_stream_ends_the_stream(kind: DriverKind) {
    const LEN: usize = 4 << 20;
    let mut c = center(kind);
    let listener = msgr::bind_listener("127.0.0.1".parse().unwrap(), 0..=0).unwrap();
    let addr = listener.local_addr().unwrap();
    let got = Rc::new(Cell::new(0));
    let heard_closed = Rc::new(Cell::new(false));
    let alive = Rc::new(());
    let (g, h, a) = (got.clone(), heard_closed.clone(), alive.clone());
    c.listen(listener, move |c, s, _| {
        let handler = CloseOnFirstData {
            got: g.clone(),
            heard_closed: h.clone(),
            _alive: a.clone(),
        };
        c.register_socket(s, handler).unwrap();
    })
    .unwrap();
    let (_, seen) = client(&mut c, addr, &pattern(1, LEN));

    run(&mut c, "the client to see the close", |_| {
        seen.borrow().closed.is_some()
    });
    let s = seen.borrow();
    let reason = s.closed.as_ref().unwrap();
    assert!(is_closed_by_peer(reason), "{kind}: closed with {reason:?}");
    assert!(
        got.get() > 0 && got.get() < LEN,
        "server read {} bytes",
        got.get()
    );
    assert!(!heard_closed.get(), "close() must not call on_closed");
    // One reference in the listen closure, none from the closed socket's handler.
    assert_eq!(Rc::strong_count(&alive), 2, "close() drops the handler");
    assert_eq!(c.socket_count(), 0);
}

fn connect_to_a_closed_port_is_refused(kind: DriverKind) {
    let mut c = center(kind);
    // Another test may bind the freed port in between; then try another one.
    for _ in 0..10 {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let (rec, seen) = Recorder::new();
        let id = c
            .connect(addr, rec)
            .expect("connect reports failure via on_closed");
        run(&mut c, "the connect to end", |_| {
            let s = seen.borrow();
            s.connected || s.closed.is_some()
        });
        if seen.borrow().connected {
            c.close(id);
            continue;
        }
        let s = seen.borrow();
        match &s.closed {
            Some(CloseReason::Error(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {}
            other => panic!("{kind}: expected ConnectionRefused, got {other:?}"),
        }
        assert_eq!(c.socket_count(), 0);
        assert_eq!(
            c.handle().references(),
            0,
            "a failed connect holds no reference"
        );
        return;
    }
    panic!("every freed port was taken again");
}

/// Waits until `fd` is readable, watching it from a separate epoll instance.
fn wait_readable(fd: RawFd) {
    let mut poll = mio::Poll::new().unwrap();
    let mut events = mio::Events::with_capacity(1);
    poll.registry()
        .register(&mut SourceFd(&fd), mio::Token(0), mio::Interest::READABLE)
        .unwrap();
    poll.poll(&mut events, Some(DEADLINE)).unwrap();
    assert!(!events.is_empty(), "fd {fd} never became readable");
}

fn closed_listener_refuses_new_connections(kind: DriverKind) {
    let mut c = center(kind);
    let listener = msgr::bind_listener("127.0.0.1".parse().unwrap(), 0..=0).unwrap();
    let addr = listener.local_addr().unwrap();
    let lfd = listener.as_raw_fd();
    let accepted = Rc::new(Cell::new(0));
    let a = accepted.clone();
    let lid = c
        .listen(listener, move |_, _, _| a.set(a.get() + 1))
        .unwrap();
    c.process_events(Some(Duration::ZERO)).unwrap(); // the listener is armed in the driver
    // A connection arrives and is not accepted yet: the listener is ready when it closes.
    let early = TcpStream::connect(addr).unwrap();
    wait_readable(lfd);
    c.close_listener(lid);
    for _ in 0..3 {
        c.process_events(Some(Duration::ZERO)).unwrap();
    }
    // This test holds the fd lock exclusively: no other test here can take the port over.
    let late = TcpStream::connect(addr);
    assert!(
        matches!(&late, Err(e) if e.kind() == io::ErrorKind::ConnectionRefused),
        "{kind}: the port still accepts connections after close_listener: {late:?}"
    );
    assert_eq!(accepted.get(), 0);
    drop(early);
}
