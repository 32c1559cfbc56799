//! Helpers for the messenger robustness tests: a listening server with an echoing recorder,
//! messenger clients that check the server still serves, raw TCP peers that misbehave, a
//! sans-IO client that reaches READY over a plain socket, a log capture, an allocation
//! counter, and readers for the kernel's per-socket queues.
//!
//! Every wait here is on a condition with a deadline ([`DEADLINE`]).

#![allow(dead_code)] // not every test uses every helper

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use msgr::frames::{Preamble, SegmentDesc, Tag};
use msgr::messages::{Message, MsgHeader2, RawMessage};
use msgr::messenger::{Connection, Dispatcher, Incoming, Messenger, MessengerConfig};
use msgr::protocol::{Config, Event, Policies, Policy, Protocol, Transmit};
use msgr::wire::{EntityAddrvec, EntityName, EntityType, Features};
use msgr::{DriverConfig, DriverKind, StackConfig};

/// How long any wait may take before the test fails. Everything normally takes milliseconds
/// (the timers under test are all below a second).
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A message type no Ceph message uses: our numbered test payload (front = u64 LE).
pub const TEST_TYPE: u16 = 0x7f01;

/// A small per-driver number, put into the bad values a test sends so that the reason the
/// server logs can be told apart from the same test's on the other driver.
pub fn salt(kind: DriverKind) -> u32 {
    match kind {
        DriverKind::Epoll => 1,
        DriverKind::IoUring => 2,
    }
}

/// Message `n` of the numbered stream, with `data` bytes of payload in the data segment.
pub fn numbered_with(n: u64, data: Bytes) -> RawMessage {
    let mut h = MsgHeader2::new(TEST_TYPE, 1, 1);
    h.tid = n;
    RawMessage {
        header: h,
        front: Bytes::copy_from_slice(&n.to_le_bytes()),
        middle: Bytes::new(),
        data,
    }
}

/// Message `n` of the numbered stream.
pub fn numbered(n: u64) -> RawMessage {
    numbered_with(n, Bytes::new())
}

/// The number of a numbered message, if `msg` is one.
pub fn number_of(msg: &Incoming) -> Option<u64> {
    match &msg.message {
        Message::Unknown(raw) if raw.header.msg_type == TEST_TYPE => {
            Some(u64::from_le_bytes(raw.front.get(..8)?.try_into().ok()?))
        }
        _ => None,
    }
}

/// Messenger settings on `kind` with two workers; `tweak` adjusts the rest.
pub fn config(kind: DriverKind, tweak: impl FnOnce(&mut MessengerConfig)) -> MessengerConfig {
    let mut cfg = MessengerConfig {
        stack: StackConfig {
            workers: 2,
            driver: DriverConfig::with_kind(kind),
            cpus: vec![],
        },
        ..Default::default()
    };
    tweak(&mut cfg);
    cfg
}

/// Polls `cond` every millisecond until it holds; fails the test with `what` after
/// [`DEADLINE`]. For conditions that no channel reports (counters, kernel state).
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {DEADLINE:?} waiting for {what}"
        );
        thread::park_timeout(Duration::from_millis(1));
    }
}

/// What a [`Server`]'s dispatcher saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SrvEvent {
    /// Numbered message `n` on connection `conn` (and it was echoed back).
    Msg { n: u64, conn: u64 },
    /// A connection reached READY.
    Accept(u64),
    /// A connection closed for good.
    Reset(u64),
}

/// Echoes numbered messages and records everything.
struct EchoRecorder(Mutex<Sender<SrvEvent>>);

impl EchoRecorder {
    fn note(&self, e: SrvEvent) {
        let _ = self.0.lock().unwrap_or_else(|p| p.into_inner()).send(e);
    }
}

impl Dispatcher for EchoRecorder {
    fn ms_dispatch(&self, conn: &Connection, msg: Incoming) -> Option<Incoming> {
        let n = number_of(&msg)?;
        conn.send_message(numbered(n));
        self.note(SrvEvent::Msg { n, conn: conn.id() });
        None
    }
    fn ms_handle_accept(&self, conn: &Connection) {
        self.note(SrvEvent::Accept(conn.id()));
    }
    fn ms_handle_reset(&self, conn: &Connection) -> bool {
        self.note(SrvEvent::Reset(conn.id()));
        true
    }
}

/// A started messenger listening on 127.0.0.1, policy `stateless_server` for every peer
/// (what a mon or mgr applies to clients), with an echoing, recording dispatcher.
pub struct Server {
    pub msgr: Messenger,
    pub addrs: EntityAddrvec,
    pub sock: SocketAddr,
    events: Receiver<SrvEvent>,
    /// Every event taken off `events` so far, in order.
    history: Mutex<Vec<SrvEvent>>,
}

impl Server {
    /// Starts a server of entity type `ty` on `kind`; `tweak` adjusts its settings.
    pub fn start(
        kind: DriverKind,
        ty: EntityType,
        tweak: impl FnOnce(&mut MessengerConfig),
    ) -> Server {
        let msgr = Messenger::new(EntityName::new(ty, "0"), 1000, config(kind, tweak));
        msgr.set_default_policy(Policy::stateless_server(Features::EMPTY));
        msgr.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let (tx, events) = channel();
        msgr.add_dispatcher_tail(Arc::new(EchoRecorder(Mutex::new(tx))));
        msgr.start().expect("start the server");
        let addrs = msgr.my_addrs();
        let sock = addrs
            .msgr2_addr()
            .and_then(|a| a.sockaddr)
            .expect("a bound v2 address");
        Server {
            msgr,
            addrs,
            sock,
            events,
            history: Mutex::new(Vec::new()),
        }
    }

    /// The next event matching `pick` (others are kept in the history); fails the test
    /// after [`DEADLINE`].
    pub fn expect<T>(&self, what: &str, mut pick: impl FnMut(&SrvEvent) -> Option<T>) -> T {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) => {
                    let picked = pick(&e);
                    self.history
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(e);
                    if let Some(t) = picked {
                        return t;
                    }
                }
                Err(_) => panic!("server: timed out waiting for {what}"),
            }
        }
    }

    /// Every event the dispatcher reported so far, in order.
    pub fn history(&self) -> Vec<SrvEvent> {
        let mut h = self.history.lock().unwrap_or_else(|p| p.into_inner());
        h.extend(self.events.try_iter());
        h.clone()
    }

    /// The numbers of every message dispatched so far.
    pub fn numbers_seen(&self) -> Vec<u64> {
        self.history()
            .iter()
            .filter_map(|e| match e {
                SrvEvent::Msg { n, .. } => Some(*n),
                _ => None,
            })
            .collect()
    }
}

/// What a [`Client`]'s dispatcher saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliEvent {
    /// Numbered message `n` (an echo) on connection `conn`.
    Msg { n: u64, conn: u64 },
    /// Connection `conn` closed for good.
    Reset(u64),
}

struct ClientRecorder(Mutex<Sender<CliEvent>>);

impl Dispatcher for ClientRecorder {
    fn ms_dispatch(&self, conn: &Connection, msg: Incoming) -> Option<Incoming> {
        let n = number_of(&msg)?;
        let _ = self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(CliEvent::Msg { n, conn: conn.id() });
        None
    }
    fn ms_handle_reset(&self, conn: &Connection) -> bool {
        let _ = self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(CliEvent::Reset(conn.id()));
        true
    }
}

/// A messenger client (entity CLIENT, the `ceph` CLI's lossy policy) connected to a server.
pub struct Client {
    pub msgr: Messenger,
    pub conn: Connection,
    pub events: Receiver<CliEvent>,
}

impl Client {
    /// Connects to `server` on `kind`; `tweak` adjusts the client's settings.
    pub fn connect(
        kind: DriverKind,
        server: &Server,
        tweak: impl FnOnce(&mut MessengerConfig),
    ) -> Client {
        static NONCE: AtomicUsize = AtomicUsize::new(5000);
        let nonce = NONCE.fetch_add(1, Ordering::Relaxed) as u32;
        let msgr = Messenger::new(
            EntityName::new(EntityType::CLIENT, "admin"),
            nonce,
            config(kind, tweak),
        );
        msgr.set_default_policy(Policy::librados());
        let (tx, events) = channel();
        msgr.add_dispatcher_tail(Arc::new(ClientRecorder(Mutex::new(tx))));
        msgr.start().expect("start the client");
        let ty = server.msgr.name().ty;
        let conn = msgr.connect_to(ty, &server.addrs).expect("connect_to");
        Client { msgr, conn, events }
    }

    /// Sends numbered message `n` and waits for its echo on the same connection.
    pub fn echo(&self, n: u64, what: &str) {
        self.conn.send_message(numbered(n));
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(CliEvent::Msg { n: got, conn }) if got == n => {
                    assert_eq!(
                        conn,
                        self.conn.id(),
                        "{what}: echo came on another connection"
                    );
                    return;
                }
                Ok(CliEvent::Reset(c)) if c == self.conn.id() => {
                    panic!("{what}: the connection was reset before echo {n} came back")
                }
                Ok(_) => {}
                Err(_) => panic!("{what}: echo {n} did not come back within {DEADLINE:?}"),
            }
        }
    }

    /// Waits until this client's connection is reset (skipping stray echoes); returns when
    /// it was seen.
    pub fn expect_reset(&self, what: &str) -> Instant {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(CliEvent::Reset(c)) if c == self.conn.id() => return Instant::now(),
                Ok(_) => {}
                Err(_) => panic!("{what}: the connection was not reset within {DEADLINE:?}"),
            }
        }
    }

    /// Stops the client's messenger.
    pub fn shutdown(self) {
        self.msgr.shutdown().expect("client shutdown");
    }
}

/// A raw TCP peer that writes what it is told.
pub struct RawPeer {
    pub stream: TcpStream,
}

/// How a raw peer's connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// A clean end of stream.
    Eof,
    /// A reset (the server closed with our bytes still unread).
    Reset,
}

impl RawPeer {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> RawPeer {
        let stream = TcpStream::connect(addr).expect("raw connect");
        stream.set_nodelay(true).unwrap();
        stream.set_write_timeout(Some(DEADLINE)).unwrap();
        RawPeer { stream }
    }

    /// Writes `bytes`. A write may fail when the server already closed on earlier bytes; that
    /// is reported, not a test failure.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Half-closes: no more bytes from us (the server reads end of stream).
    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Reads (and discards: the server's banner and HELLO) until the server drops the
    /// connection; fails the test if it is still open after [`DEADLINE`].
    pub fn expect_dropped(&mut self, what: &str) -> Ended {
        let deadline = Instant::now() + DEADLINE;
        let mut buf = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "{what}: the server kept the connection open for {DEADLINE:?}"
            );
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.stream.read(&mut buf) {
                Ok(0) => return Ended::Eof,
                Ok(_) => {}
                Err(e) => match e.kind() {
                    io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe => return Ended::Reset,
                    io::ErrorKind::WouldBlock
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::Interrupted => {}
                    _ => panic!("{what}: unexpected read error {e}"),
                },
            }
        }
    }
}

/// A preamble with the given tag and segments (lengths and alignments), CRC included. The
/// lengths are whatever the test wants, valid or not.
pub fn preamble(tag: Tag, segments: &[(u32, u16)]) -> [u8; 32] {
    let mut descs = [SegmentDesc::default(); 4];
    for (d, &(length, alignment)) in descs.iter_mut().zip(segments) {
        *d = SegmentDesc { length, alignment };
    }
    Preamble {
        tag,
        num_segments: segments.len() as u8,
        segments: descs,
        flags: 0,
    }
    .encode()
}

/// A preamble from its first 28 bytes as given (any tag, count or length), with a correct
/// CRC.
pub fn raw_preamble(first_28: [u8; 28]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..28].copy_from_slice(&first_28);
    out[28..].copy_from_slice(&msgr::frames::preamble_crc(&first_28).to_le_bytes());
    out
}

/// A client protocol (sans-IO) driven over a plain blocking socket: it does the real
/// handshake, then lets the test write whatever bytes it likes on a READY session.
pub struct RawSession {
    pub stream: TcpStream,
    pub proto: Protocol,
}

impl RawSession {
    /// Dials `server` and runs the msgr2 handshake as a CLIENT until READY.
    pub fn handshake(server: &Server) -> RawSession {
        let stream = TcpStream::connect(server.sock).expect("raw session connect");
        stream.set_nodelay(true).unwrap();
        stream.set_write_timeout(Some(DEADLINE)).unwrap();
        let mut cfg = Config::new(EntityName::new(EntityType::CLIENT, "raw"));
        cfg.policies = Policies::uniform(Policy::librados());
        cfg.nonce = 4242;
        let ty = server.msgr.name().ty;
        let proto =
            Protocol::new_client(cfg, ty, &server.addrs, Instant::now()).expect("new_client");
        let mut s = RawSession { stream, proto };
        let deadline = Instant::now() + DEADLINE;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            s.flush();
            while let Some(e) = s.proto.poll_event() {
                match e {
                    Event::Connected { .. } => {
                        s.flush();
                        return s;
                    }
                    Event::Faulted(r) | Event::Reset(r) => panic!("raw handshake failed: {r}"),
                    _ => {}
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "raw handshake: not READY after {DEADLINE:?}"
            );
            s.stream.set_read_timeout(Some(left)).unwrap();
            match s.stream.read(&mut buf) {
                Ok(0) => panic!("raw handshake: the server closed"),
                Ok(n) => s.proto.handle_input(&buf[..n], Instant::now()),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => panic!("raw handshake: {e}"),
            }
        }
    }

    /// Writes everything the protocol has to send.
    pub fn flush(&mut self) {
        while let Some(t) = self.proto.poll_transmit() {
            match t {
                Transmit::Close | Transmit::Connect(_) => panic!("raw session: asked to {t:?}"),
                t => self
                    .stream
                    .write_all(&t.to_vec())
                    .expect("raw session write"),
            }
        }
    }

    /// Sends a well-formed message through the protocol (it gets its seq).
    pub fn send_message(&mut self, msg: RawMessage) {
        self.proto.send_message(msg, Instant::now());
        self.flush();
    }

    /// The socket, as a raw peer, to misbehave on.
    pub fn into_raw(self) -> RawPeer {
        RawPeer {
            stream: self.stream,
        }
    }
}

/// The `tracing` output of the whole test binary, at INFO and above (the level at which the
/// protocol logs why it closes a connection).
fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let installed = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .try_init();
        assert!(
            installed.is_ok(),
            "another tracing subscriber was installed"
        );
        buf
    })
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Starts capturing logs (call before starting messengers).
pub fn capture_logs() {
    log_buffer();
}

/// Waits until a captured log line contains `needle`; returns that line.
pub fn expect_log(what: &str, needle: &str) -> String {
    let mut found = None;
    let deadline = Instant::now() + DEADLINE;
    while found.is_none() {
        {
            let logs = log_buffer().lock().unwrap_or_else(|p| p.into_inner());
            let text = String::from_utf8_lossy(&logs);
            found = text
                .lines()
                .find(|l| l.contains(needle))
                .map(str::to_string);
        }
        if found.is_none() {
            assert!(
                Instant::now() < deadline,
                "{what}: no log line contains {needle:?} after {DEADLINE:?}"
            );
            thread::park_timeout(Duration::from_millis(1));
        }
    }
    found.unwrap_or_default()
}

/// The global allocator of this test binary: the system allocator, counting live bytes and
/// remembering the largest single request and the highest live total since the last
/// [`alloc_reset`]. The messengers under test run in this process, so their allocations are
/// counted too.
pub struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

fn count(size: usize) {
    let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(live, Ordering::Relaxed);
    LARGEST.fetch_max(size, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments, unchanged; the
// counters are plain atomics and never affect what is returned.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with `layout` (every allocation goes through us).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        count(new_size);
        // SAFETY: `ptr` came from `System` with `layout`; the caller upholds the rest.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocation figures since the last [`alloc_reset`].
#[derive(Debug, Clone, Copy)]
pub struct AllocStats {
    /// Live heap bytes at the reset.
    pub live_at_reset: usize,
    /// Highest live heap bytes since.
    pub peak: usize,
    /// Largest single allocation since.
    pub largest: usize,
}

/// Starts a measurement window (see [`CountingAlloc`]).
pub fn alloc_reset() -> usize {
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    LARGEST.store(0, Ordering::Relaxed);
    live
}

/// The figures of the window started by [`alloc_reset`], which returned `live_at_reset`.
pub fn alloc_stats(live_at_reset: usize) -> AllocStats {
    AllocStats {
        live_at_reset,
        peak: PEAK.load(Ordering::Relaxed),
        largest: LARGEST.load(Ordering::Relaxed),
    }
}

/// Resident set size of this process, from `/proc/self/statm`.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("statm resident field");
    pages * 4096
}

/// One IPv4 TCP socket from `/proc/net/tcp`.
#[derive(Debug, Clone, Copy)]
pub struct TcpEntry {
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    /// Kernel state (1: ESTABLISHED).
    pub state: u8,
    /// Bytes written and not yet acknowledged by the peer (the sender's backlog).
    pub tx_queue: u64,
    /// Bytes received and not yet read by the application.
    pub rx_queue: u64,
}

fn parse_v4(field: &str) -> Option<SocketAddrV4> {
    let (ip, port) = field.split_once(':')?;
    // The kernel prints the address's in-memory (network order) bytes as a native integer.
    let ip = Ipv4Addr::from(u32::from_str_radix(ip, 16).ok()?.to_ne_bytes());
    Some(SocketAddrV4::new(ip, u16::from_str_radix(port, 16).ok()?))
}

/// The IPv4 TCP sockets of this network namespace.
pub fn tcp_table() -> Vec<TcpEntry> {
    let text = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (tx, rx) = f.get(4)?.split_once(':')?;
            Some(TcpEntry {
                local: parse_v4(f.get(1)?)?,
                remote: parse_v4(f.get(2)?)?,
                state: u8::from_str_radix(f.get(3)?, 16).ok()?,
                tx_queue: u64::from_str_radix(tx, 16).ok()?,
                rx_queue: u64::from_str_radix(rx, 16).ok()?,
            })
        })
        .collect()
}

/// The server's ends of the established connections to `server` (a listening port).
pub fn server_ends(server: SocketAddr) -> Vec<TcpEntry> {
    tcp_table()
        .into_iter()
        .filter(|e| e.state == 1 && e.local.port() == server.port())
        .collect()
}

/// The two ends of the one established connection to `server` (a listening port):
/// `(server's end, client's end)`, if both are there.
pub fn connection_ends(server: SocketAddr) -> Option<(TcpEntry, TcpEntry)> {
    let table = tcp_table();
    let established = |e: &&TcpEntry| e.state == 1;
    let srv = table
        .iter()
        .filter(established)
        .find(|e| e.local.port() == server.port())?;
    let cli = table
        .iter()
        .filter(established)
        .find(|e| e.remote.port() == server.port() && e.local.port() == srv.remote.port())?;
    Some((*srv, *cli))
}

/// Waits for the next value on `rx`, failing the test with `what` after [`DEADLINE`].
pub fn recv<T>(rx: &Receiver<T>, what: &str) -> T {
    match rx.recv_timeout(DEADLINE) {
        Ok(v) => v,
        Err(RecvTimeoutError::Timeout) => panic!("timed out after {DEADLINE:?} waiting for {what}"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: the sender is gone"),
    }
}
