//! The cuttle contender: an echo server and an echo client on [`EventCenter`]s (either
//! driver).

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc;

use bytes::Bytes;
use msgr::{
    CenterCounters, CloseReason, DriverConfig, DriverKind, EventCenter, SocketHandler, SocketId,
    bind_listener,
};

use crate::{CenterThread, EchoClient, LOCALHOST, RUN_TIMEOUT, Workload, protocol_error};

/// Echoes every chunk back on the same socket.
struct EchoHandler;

impl SocketHandler for EchoHandler {
    fn on_data(&mut self, center: &mut EventCenter, sock: SocketId, data: &[u8]) {
        // `data` is only lent for the call (it may be a provided io_uring buffer): copy it.
        if center.send(sock, Bytes::copy_from_slice(data)).is_err() {
            center.close(sock);
        }
    }
}

/// An echo server on one [`EventCenter`] thread (either driver), listening on 127.0.0.1.
pub struct CuttleEchoServer {
    addr: SocketAddr,
    center: CenterThread,
}

impl CuttleEchoServer {
    /// Starts the server on a new thread; returns once it accepts connections.
    pub fn start(driver: DriverKind) -> io::Result<Self> {
        let (center, addr) = CenterThread::spawn(&format!("echo-{driver}"), driver, |center| {
            let listener = bind_listener(LOCALHOST, 0..=0)?;
            let addr = listener.local_addr()?;
            center.listen(listener, |center, stream, _| {
                if let Err(e) = center.register_socket(stream, EchoHandler) {
                    eprintln!("cuttle echo server: register_socket failed: {e}");
                }
            })?;
            Ok(addr)
        })?;
        Ok(CuttleEchoServer { addr, center })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The driver the server's center actually runs.
    pub fn driver(&self) -> DriverKind {
        self.center.driver()
    }

    /// The server center's counters (loops, waits, events), fetched from its thread.
    pub fn counters(&self) -> io::Result<CenterCounters> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.center.handle().dispatch_event_external(move |c| {
            let _ = tx.send(c.counters());
        });
        rx.recv_timeout(RUN_TIMEOUT)
            .map_err(|_| io::Error::other("server center did not answer"))
    }
}

/// The client's side of a run, shared between [`CuttleEchoClient`] and its socket handler.
struct ClientState {
    workload: Workload,
    payload: Bytes,
    /// Messages to send in this run.
    target: u64,
    sent: u64,
    /// Bytes echoed so far in this run.
    received: u64,
    connected: bool,
    closed: Option<String>,
}

impl ClientState {
    /// Queues messages until `depth` are in flight or the run's target is sent.
    fn top_up(&mut self, center: &mut EventCenter, sock: SocketId) {
        let done = self.received / self.workload.size as u64;
        while self.sent < self.target && self.sent - done < self.workload.depth as u64 {
            if let Err(e) = center.send(sock, self.payload.clone()) {
                self.closed = Some(format!("send failed: {e}"));
                return;
            }
            self.sent += 1;
        }
    }
}

struct ClientHandler(Rc<RefCell<ClientState>>);

impl SocketHandler for ClientHandler {
    fn on_connected(&mut self, _center: &mut EventCenter, _sock: SocketId) {
        self.0.borrow_mut().connected = true;
    }

    fn on_data(&mut self, center: &mut EventCenter, sock: SocketId, data: &[u8]) {
        let mut st = self.0.borrow_mut();
        st.received += data.len() as u64;
        st.top_up(center, sock);
    }

    fn on_closed(&mut self, _center: &mut EventCenter, _sock: SocketId, reason: CloseReason) {
        self.0.borrow_mut().closed = Some(format!("{reason:?}"));
    }
}

/// An echo client on an [`EventCenter`] owned by the caller's thread (it is not `Send`: create
/// it on the thread that calls [`run`](EchoClient::run)). Every echoed chunk that completes
/// a message triggers the next message from `on_data`; the center writes everything queued in
/// one loop iteration with one `writev` (epoll) or `sendmsg` op (io_uring).
pub struct CuttleEchoClient {
    center: EventCenter,
    sock: SocketId,
    state: Rc<RefCell<ClientState>>,
}

impl CuttleEchoClient {
    /// Creates a center with `driver` on this thread and connects to `addr`.
    pub fn connect(addr: SocketAddr, driver: DriverKind, workload: Workload) -> io::Result<Self> {
        workload.check()?;
        let mut center = EventCenter::new(1, &DriverConfig::with_kind(driver))?;
        let state = Rc::new(RefCell::new(ClientState {
            workload,
            payload: Bytes::from(workload.payload()),
            target: 0,
            sent: 0,
            received: 0,
            connected: false,
            closed: None,
        }));
        let sock = center.connect(addr, ClientHandler(state.clone()))?;
        let st = state.clone();
        let ok = center.run_until(RUN_TIMEOUT, move |_| {
            let st = st.borrow();
            st.connected || st.closed.is_some()
        })?;
        if let Some(reason) = state.borrow().closed.clone() {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("connect to {addr} failed: {reason}"),
            ));
        }
        if !ok {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
        }
        Ok(CuttleEchoClient {
            center,
            sock,
            state,
        })
    }

    /// The driver the client's center actually runs.
    pub fn driver(&self) -> DriverKind {
        self.center.driver_kind()
    }

    /// The client's center (for counters).
    pub fn center(&self) -> &EventCenter {
        &self.center
    }
}

impl EchoClient for CuttleEchoClient {
    fn run(&mut self, messages: u64) -> io::Result<()> {
        let total = {
            let mut st = self.state.borrow_mut();
            st.target = messages;
            st.sent = 0;
            st.received = 0;
            st.top_up(&mut self.center, self.sock);
            messages * st.workload.size as u64
        };
        let st = self.state.clone();
        let ok = self.center.run_until(RUN_TIMEOUT, move |_| {
            let st = st.borrow();
            st.received >= total || st.closed.is_some()
        })?;
        let st = self.state.borrow();
        if let Some(reason) = &st.closed {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                format!("connection closed: {reason}"),
            ));
        }
        if !ok {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("echoed {} of {total} bytes", st.received),
            ));
        }
        if st.received != total {
            return Err(protocol_error(format!(
                "echoed {} bytes, sent {total}",
                st.received
            )));
        }
        Ok(())
    }

    fn workload(&self) -> Workload {
        self.state.borrow().workload
    }
}
