//! Shared pieces of cuttle's criterion benches: echo servers and echo clients for the engine
//! (either driver) and for two baselines, plus a helper that runs an [`EventCenter`] on its own
//! thread.
//!
//! # The echo contest
//!
//! Every contender is a *server* (one thread, one loopback TCP listener, echoes every byte it
//! reads) and a *client* (one connection to that server) that implements [`EchoClient`]:
//! [`EchoClient::run`] sends `n` messages of [`Workload::size`] bytes, keeping at most
//! [`Workload::depth`] of them in flight (sent and not yet fully echoed), and returns once every
//! byte came back. The work is the same for all of them:
//!
//! | contender | server | client |
//! |-----------|--------|--------|
//! | cuttle (epoll or io_uring) | [`CuttleEchoServer`]: one [`EventCenter`] on its own thread, copies each received chunk into a `Bytes` and [`EventCenter::send`]s it | [`CuttleEchoClient`]: one [`EventCenter`] on the caller's thread; sends the next message from `on_data` as soon as one completes |
//! | std::net | [`StdEchoServer`]: a thread per connection, blocking `read` then `write_all` | [`StdEchoClient`]: a writer thread and a reader (caller) thread, a window of `depth` messages between them; for `depth == 1` one thread doing `write_all` + `read_exact` |
//! | tokio | [`TokioEchoServer`]: a current-thread runtime on its own thread, a task per connection doing `read` then `write_all` | [`TokioEchoClient`]: a current-thread runtime on the caller's thread, a writer and a reader future joined in one task, a `Semaphore` of `depth` permits between them; for `depth == 1` `write_all` + `read_exact` |
//!
//! All sockets have `TCP_NODELAY`; every server reads into (at most) [`SERVER_READ_BUF`] bytes,
//! the default receive buffer size of the engine's drivers. Clients write one message per
//! `write` call, except cuttle's, which writes whatever its handlers queued during one loop
//! iteration with a single `writev`/`sendmsg` (that batching is the engine's design, so it is
//! measured as is). Clients count echoed bytes but do not compare them: correctness is checked
//! by this crate's tests, not inside the timed loop.
//!
//! ```no_run
//! use cuttle_bench::{CuttleEchoClient, CuttleEchoServer, EchoClient, Workload};
//! use msgr::DriverKind;
//!
//! let server = CuttleEchoServer::start(DriverKind::Epoll).unwrap();
//! let mut client =
//!     CuttleEchoClient::connect(server.addr(), DriverKind::Epoll, Workload::PIPELINED_4K).unwrap();
//! client.run(10_000).unwrap(); // 10,000 × 4 KiB echoed, 64 in flight
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use bytes::Bytes;
use msgr::{
    CenterCounters, CenterHandle, CloseReason, DriverConfig, DriverKind, EventCenter,
    SocketHandler, SocketId, bind_listener,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Size of the servers' read buffer: the engine's default `recv_buf_size` (16 KiB), so every
/// server sees chunks of the same size.
pub const SERVER_READ_BUF: usize = 16 * 1024;

/// How long one [`EchoClient::run`] may take before it is reported as stuck.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// How long an idle center thread sleeps in the kernel per loop (it wakes on any event).
const IDLE_WAIT: Duration = Duration::from_secs(30);

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Message size and pipelining depth of an echo run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    /// Bytes per message.
    pub size: usize,
    /// Messages in flight at most (1: ping-pong).
    pub depth: usize,
}

impl Workload {
    /// 4 KiB messages, 64 in flight: a throughput test.
    pub const PIPELINED_4K: Workload = Workload {
        size: 4096,
        depth: 64,
    };
    /// 64-byte messages, one in flight: a latency test.
    pub const PING_PONG_64: Workload = Workload { size: 64, depth: 1 };

    /// The message every client sends (a fixed byte pattern).
    pub fn payload(&self) -> Vec<u8> {
        (0..self.size).map(|i| (i % 251) as u8).collect()
    }

    fn check(&self) -> io::Result<()> {
        if self.size == 0 || self.depth == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "workload size and depth must be at least 1",
            ));
        }
        Ok(())
    }
}

/// A client connected to an echo server.
pub trait EchoClient {
    /// Sends `messages` messages, at most `depth` in flight, and returns once all their bytes
    /// were echoed back (or an error, or `TimedOut` after [`RUN_TIMEOUT`]). Leaves the
    /// connection idle, so it can be called again.
    fn run(&mut self, messages: u64) -> io::Result<()>;

    /// The workload it was connected with.
    fn workload(&self) -> Workload;
}

fn protocol_error(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

// ---- an EventCenter on its own thread --------------------------------------------------------

/// An [`EventCenter`] running on a thread of its own until dropped (or until something calls
/// [`EventCenter::stop`] on it).
pub struct CenterThread {
    handle: CenterHandle,
    driver: DriverKind,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl CenterThread {
    /// Spawns thread `name`, creates a center with `driver` on it, runs `setup` there and hands
    /// back its result; then the thread loops on
    /// [`process_events`](EventCenter::process_events) until the center is stopped.
    pub fn spawn<T: Send + 'static>(
        name: &str,
        driver: DriverKind,
        setup: impl FnOnce(&mut EventCenter) -> io::Result<T> + Send + 'static,
    ) -> io::Result<(CenterThread, T)> {
        let (tx, rx) = mpsc::sync_channel(1);
        let thread = thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let started = EventCenter::new(0, &DriverConfig::with_kind(driver))
                    .and_then(|mut center| Ok((setup(&mut center)?, center)));
                let mut center = match started {
                    Ok((value, center)) => {
                        let _ = tx.send(Ok((value, center.handle(), center.driver_kind())));
                        center
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return Ok(());
                    }
                };
                while !center.is_stopped() {
                    center.process_events(Some(IDLE_WAIT))?;
                }
                Ok(())
            })?;
        let (value, handle, driver) = rx
            .recv()
            .map_err(|_| io::Error::other("center thread died during setup"))??;
        Ok((
            CenterThread {
                handle,
                driver,
                thread: Some(thread),
            },
            value,
        ))
    }

    /// A handle to the center.
    pub fn handle(&self) -> &CenterHandle {
        &self.handle
    }

    /// The driver the center actually runs (io_uring falls back to epoll when refused).
    pub fn driver(&self) -> DriverKind {
        self.driver
    }

    /// Stops the center and joins the thread, returning the loop's error if it failed.
    pub fn stop(mut self) -> io::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> io::Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        self.handle.dispatch_event_external(|c| c.stop());
        thread
            .join()
            .map_err(|_| io::Error::other("center thread panicked"))?
    }
}

impl Drop for CenterThread {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

// ---- cuttle ----------------------------------------------------------------------------------

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

// ---- std::net --------------------------------------------------------------------------------

/// A connection of [`StdEchoServer`]: a clone of its stream (to shut it down) and its thread.
type StdConn = (TcpStream, JoinHandle<()>);

/// A blocking `std::net` echo server: an acceptor thread and one thread per connection doing
/// `read` into a [`SERVER_READ_BUF`] buffer, then `write_all`.
pub struct StdEchoServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    conns: Arc<Mutex<Vec<StdConn>>>,
}

impl StdEchoServer {
    /// Binds 127.0.0.1 on a free port and starts accepting.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind((LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let (stop2, conns2) = (stop.clone(), conns.clone());
        let acceptor = thread::Builder::new()
            .name("echo-std-accept".into())
            .spawn(move || Self::accept_loop(listener, &stop2, &conns2))?;
        Ok(StdEchoServer {
            addr,
            stop,
            acceptor: Some(acceptor),
            conns,
        })
    }

    fn accept_loop(listener: TcpListener, stop: &AtomicBool, conns: &Mutex<Vec<StdConn>>) {
        for stream in listener.incoming() {
            if stop.load(Ordering::Acquire) {
                return;
            }
            let Ok(stream) = stream else { continue };
            let Ok(closer) = stream.try_clone() else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let spawned = thread::Builder::new()
                .name("echo-std".into())
                .spawn(move || Self::echo(stream));
            if let Ok(t) = spawned {
                conns
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((closer, t));
            }
        }
    }

    fn echo(mut stream: TcpStream) {
        let mut buf = vec![0; SERVER_READ_BUF];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for StdEchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Unblock accept().
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(|p| p.into_inner()));
        for (stream, t) in conns {
            let _ = stream.shutdown(Shutdown::Both);
            let _ = t.join();
        }
    }
}

/// How many messages a writer may have in flight: the reader reports completed messages, the
/// writer blocks while `depth` are outstanding.
#[derive(Default)]
struct Window {
    state: Mutex<WindowState>,
    cv: Condvar,
}

#[derive(Default)]
struct WindowState {
    completed: u64,
    writer_waiting: bool,
    /// The reader gave up: the writer must stop.
    aborted: bool,
}

impl Window {
    /// Blocks until message number `index` (0-based) may be sent; false if the run aborted.
    fn wait_for_slot(&self, index: u64, depth: u64) -> bool {
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while !g.aborted && index.saturating_sub(g.completed) >= depth {
            g.writer_waiting = true;
            g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
        g.writer_waiting = false;
        !g.aborted
    }

    /// Records that `completed` messages are fully echoed; wakes the writer if it waits.
    fn complete(&self, completed: u64) {
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        g.completed = completed;
        if g.writer_waiting {
            self.cv.notify_one();
        }
    }

    fn abort(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).aborted = true;
        self.cv.notify_one();
    }
}

/// A blocking `std::net` echo client. With `depth > 1`, each run spawns a writer thread that
/// writes one message per `write_all` while the caller's thread reads, with a window of
/// `depth` messages between them; with `depth == 1` the caller's thread alone does
/// `write_all` then `read_exact` (the natural blocking ping-pong).
pub struct StdEchoClient {
    stream: TcpStream,
    workload: Workload,
    payload: Vec<u8>,
    buf: Vec<u8>,
}

impl StdEchoClient {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr, workload: Workload) -> io::Result<Self> {
        workload.check()?;
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Ok(StdEchoClient {
            stream,
            workload,
            payload: workload.payload(),
            buf: vec![0; SERVER_READ_BUF.max(workload.size)],
        })
    }
}

impl EchoClient for StdEchoClient {
    fn run(&mut self, messages: u64) -> io::Result<()> {
        let Workload { size, depth } = self.workload;
        self.stream.set_read_timeout(Some(RUN_TIMEOUT))?;
        let mut stream = &self.stream;
        if depth == 1 {
            for _ in 0..messages {
                stream.write_all(&self.payload)?;
                stream.read_exact(&mut self.buf[..size])?;
            }
            return Ok(());
        }
        let total = messages * size as u64;
        let window = Window::default();
        let (payload, buf) = (&self.payload, &mut self.buf);
        thread::scope(|s| {
            let writer = thread::Builder::new()
                .name("echo-std-writer".into())
                .spawn_scoped(s, || {
                    let mut w = &self.stream;
                    for i in 0..messages {
                        if !window.wait_for_slot(i, depth as u64) {
                            return Ok(());
                        }
                        if let Err(e) = w.write_all(payload) {
                            // Unblock the reader.
                            let _ = w.shutdown(Shutdown::Both);
                            return Err(e);
                        }
                    }
                    Ok::<_, io::Error>(())
                })?;
            let mut read_all = || {
                let mut received = 0u64;
                while received < total {
                    let n = match stream.read(buf) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    };
                    if n == 0 {
                        return Err(protocol_error("server closed the connection"));
                    }
                    received += n as u64;
                    window.complete(received / size as u64);
                }
                if received != total {
                    return Err(protocol_error(format!(
                        "echoed {received} bytes, sent {total}"
                    )));
                }
                Ok(())
            };
            let read = read_all();
            if read.is_err() {
                window.abort();
            }
            let written = writer
                .join()
                .map_err(|_| io::Error::other("writer thread panicked"))?;
            written.and(read)
        })
    }

    fn workload(&self) -> Workload {
        self.workload
    }
}

// ---- tokio -----------------------------------------------------------------------------------

/// A tokio echo server: a current-thread runtime on its own thread (one thread, like a cuttle
/// center), a task per connection doing `read` into a [`SERVER_READ_BUF`] buffer, then
/// `write_all`.
pub struct TokioEchoServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TokioEchoServer {
    /// Starts the runtime thread; returns once it accepts connections.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind((LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let listener = {
            let _guard = rt.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let thread = thread::Builder::new()
            .name("echo-tokio".into())
            .spawn(move || {
                rt.block_on(async move {
                    loop {
                        tokio::select! {
                            _ = &mut rx => return,
                            accepted = listener.accept() => {
                                if let Ok((stream, _)) = accepted {
                                    tokio::spawn(Self::echo(stream));
                                }
                            }
                        }
                    }
                });
                // Dropping the runtime cancels the connection tasks and closes their sockets.
            })?;
        Ok(TokioEchoServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    async fn echo(mut stream: tokio::net::TcpStream) {
        let _ = stream.set_nodelay(true);
        let mut buf = vec![0; SERVER_READ_BUF];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TokioEchoServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A tokio echo client on a current-thread runtime driven by the caller's thread (one thread,
/// like a cuttle client center). With `depth > 1` a writer future (one `write_all` per
/// message) and a reader future are joined in one task, with a `Semaphore` of `depth` permits
/// as the window; with `depth == 1` it does `write_all` then `read_exact`.
pub struct TokioEchoClient {
    rt: tokio::runtime::Runtime,
    rd: tokio::net::tcp::OwnedReadHalf,
    wr: tokio::net::tcp::OwnedWriteHalf,
    workload: Workload,
    payload: Vec<u8>,
    buf: Vec<u8>,
}

impl TokioEchoClient {
    /// Builds the runtime and connects to `addr`.
    pub fn connect(addr: SocketAddr, workload: Workload) -> io::Result<Self> {
        workload.check()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let stream = rt.block_on(tokio::net::TcpStream::connect(addr))?;
        stream.set_nodelay(true)?;
        let (rd, wr) = stream.into_split();
        Ok(TokioEchoClient {
            rt,
            rd,
            wr,
            workload,
            payload: workload.payload(),
            buf: vec![0; SERVER_READ_BUF.max(workload.size)],
        })
    }
}

impl EchoClient for TokioEchoClient {
    fn run(&mut self, messages: u64) -> io::Result<()> {
        let Workload { size, depth } = self.workload;
        let (rd, wr, payload, buf) = (&mut self.rd, &mut self.wr, &self.payload, &mut self.buf);
        let work = async move {
            if depth == 1 {
                for _ in 0..messages {
                    wr.write_all(payload).await?;
                    rd.read_exact(&mut buf[..size]).await?;
                }
                return Ok(());
            }
            let total = messages * size as u64;
            let window = tokio::sync::Semaphore::new(depth);
            let writer = async {
                for _ in 0..messages {
                    window
                        .acquire()
                        .await
                        .map_err(|_| io::Error::other("window closed"))?
                        .forget();
                    wr.write_all(payload).await?;
                }
                Ok::<_, io::Error>(())
            };
            let reader = async {
                let (mut received, mut done) = (0u64, 0u64);
                while received < total {
                    let n = rd.read(buf).await?;
                    if n == 0 {
                        return Err(protocol_error("server closed the connection"));
                    }
                    received += n as u64;
                    let now = received / size as u64;
                    window.add_permits((now - done) as usize);
                    done = now;
                }
                if received != total {
                    return Err(protocol_error(format!(
                        "echoed {received} bytes, sent {total}"
                    )));
                }
                Ok(())
            };
            let (w, r) = tokio::join!(writer, reader);
            w.and(r)
        };
        self.rt.block_on(async move {
            tokio::time::timeout(RUN_TIMEOUT, work)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "tokio echo run timed out"))?
        })
    }

    fn workload(&self) -> Workload {
        self.workload
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each server returns exactly what a plain blocking client sent, in order.
    fn check_server(addr: SocketAddr) {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
        let mut got = vec![0; data.len()];
        thread::scope(|sc| {
            let mut w = &s;
            sc.spawn(move || w.write_all(&data).unwrap());
            (&s).read_exact(&mut got).unwrap();
        });
        let expect: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
        assert!(got == expect, "echoed bytes differ");
        s.shutdown(Shutdown::Both).unwrap();
    }

    fn check_client(what: &str, mut client: impl EchoClient) {
        for n in [1, 1000, 0, 77] {
            if let Err(e) = client.run(n) {
                panic!("{what}: run({n}) with {:?}: {e}", client.workload());
            }
        }
    }

    #[test]
    fn servers_echo_exactly() {
        for driver in DriverKind::ALL {
            let s = CuttleEchoServer::start(driver).unwrap();
            check_server(s.addr());
        }
        check_server(StdEchoServer::start().unwrap().addr());
        check_server(TokioEchoServer::start().unwrap().addr());
    }

    #[test]
    fn clients_complete_runs_against_every_server() {
        for w in [Workload::PIPELINED_4K, Workload::PING_PONG_64] {
            let std_server = StdEchoServer::start().unwrap();
            let tokio_server = TokioEchoServer::start().unwrap();
            let cuttle_servers: Vec<_> = DriverKind::ALL
                .iter()
                .map(|&d| CuttleEchoServer::start(d).unwrap())
                .collect();
            let mut addrs = vec![std_server.addr(), tokio_server.addr()];
            addrs.extend(cuttle_servers.iter().map(CuttleEchoServer::addr));
            let names = ["std", "tokio", "cuttle epoll", "cuttle io_uring"];
            for (addr, server) in addrs.into_iter().zip(names) {
                for driver in DriverKind::ALL {
                    let what = format!("cuttle {driver} client, {server} server");
                    check_client(&what, CuttleEchoClient::connect(addr, driver, w).unwrap());
                }
                let what = format!("std client, {server} server");
                check_client(&what, StdEchoClient::connect(addr, w).unwrap());
                let what = format!("tokio client, {server} server");
                check_client(&what, TokioEchoClient::connect(addr, w).unwrap());
            }
        }
    }

    #[test]
    fn center_thread_runs_external_events_and_stops() {
        let (t, v) = CenterThread::spawn("t", DriverKind::Epoll, |_| Ok(5)).unwrap();
        assert_eq!(v, 5);
        assert_eq!(t.handle().submit_to(|| 7).unwrap(), 7);
        t.stop().unwrap();
    }
}
