//! Messenger workloads in the manner of Ceph's `perf_msgr_server` / `perf_msgr_client`
//! (`src/test/msgr/perf_msgr_*.cc`), and the raw TCP baseline they are measured against.
//!
//! - [`BenchServer`]: a [`Messenger`] that answers every request in the worker thread
//!   (`ms_fast_dispatch`), echoing the request's data segment (the same [`Bytes`], not a copy)
//!   or a fixed-size reply.
//! - [`run_client`]: `conns` connections on one client messenger with `threads` workers, each
//!   keeping `depth` requests of `size` bytes in flight. Replies are fast-dispatched too, so
//!   the dispatch thread is not on the path: this measures the messenger.
//! - [`run_raw_tcp`]: the same load over plain `std::net` sockets with a 4-byte length prefix
//!   per message and no msgr2 at all, the baseline every cuttle figure is a ratio to.
//!
//! Each request carries its send time: in the header's `tid` for msgr2 (the server copies it
//! into the reply), in the first 8 body bytes for raw TCP. A run has an unmeasured warm-up
//! (which also covers the msgr2 handshake), then a measured window; a message counts if its
//! reply arrives in the window, and its latency counts if it was also sent in the window.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use msgr::messages::{Message, MsgHeader2, RawMessage};
use msgr::messenger::{Connection, Dispatcher, Incoming, Messenger, MessengerConfig};
use msgr::protocol::Policy;
use msgr::wire::{AddrType, EntityAddr, EntityAddrvec, EntityName, EntityType, Features};
use msgr::{DriverConfig, DriverKind, NetworkStack, StackConfig};
use serde_json::{Value, json};

use crate::stats::{Percentiles, Report};

/// Message type of a request (a private number no Ceph message uses).
pub const MSG_PERF_REQUEST: u16 = 0x7f50;
/// Message type of a reply.
pub const MSG_PERF_REPLY: u16 = 0x7f51;

/// How long a client waits after its window for the replies still in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// What the client side runs.
#[derive(Clone, Debug)]
pub struct LoadParams {
    /// Request payload bytes (the data segment).
    pub size: usize,
    /// Requests in flight per connection.
    pub depth: usize,
    /// Connections.
    pub conns: usize,
    /// Client worker threads (Ceph's `ms_async_op_threads` of the client messenger).
    pub threads: usize,
    /// Measured seconds.
    pub secs: f64,
    /// Unmeasured seconds before the window (handshake, slow start).
    pub warmup: f64,
    /// cuttle only: the driver's receive chunk (`DriverConfig::recv_buf_size`; io_uring
    /// provides `recv_buf_count` buffers of this size per worker). `None`: the default.
    pub recv_buf_size: Option<u32>,
}

impl LoadParams {
    /// Checks that every count is positive.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.size > 0 && self.depth > 0 && self.conns > 0 && self.threads > 0,
            "size, depth, conns and threads must be positive"
        );
        anyhow::ensure!(
            self.secs > 0.0 && self.warmup >= 0.0,
            "secs must be positive, warmup not negative"
        );
        anyhow::ensure!(
            self.size <= u32::MAX as usize - 8,
            "size must fit a 4-byte length prefix"
        );
        Ok(())
    }

    /// The parameters as JSON, for a report's `params`.
    pub fn to_json(&self) -> Value {
        json!({
            "size": self.size, "depth": self.depth, "conns": self.conns,
            "threads": self.threads, "secs": self.secs, "warmup": self.warmup,
            "recv_buf_size": self.recv_buf_size,
        })
    }
}

/// What the server answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The request's data segment, shared (no copy).
    Echo,
    /// A data segment of this many bytes (allocated once, shared by every reply).
    Fixed(usize),
}

impl Reply {
    /// `None`: echo; `Some(n)`: `n` bytes.
    pub fn from_size(size: Option<usize>) -> Reply {
        size.map_or(Reply::Echo, Reply::Fixed)
    }

    fn to_json(self) -> Value {
        match self {
            Reply::Echo => json!("echo"),
            Reply::Fixed(n) => json!(n),
        }
    }
}

/// The measured window of one run, and the clock messages carry their send time on.
#[derive(Clone, Copy, Debug)]
struct Window {
    origin: Instant,
    start: Instant,
    end: Instant,
}

impl Window {
    fn new(p: &LoadParams) -> Window {
        let origin = Instant::now();
        let start = origin + Duration::from_secs_f64(p.warmup);
        Window {
            origin,
            start,
            end: start + Duration::from_secs_f64(p.secs),
        }
    }

    /// `now` as nanoseconds since the origin: what a message carries.
    fn stamp(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.origin).as_nanos() as u64
    }
}

/// Completions of one connection (or of a whole run, once merged).
#[derive(Default)]
struct Tally {
    messages: u64,
    bytes: u64,
    lat_ns: Vec<u64>,
}

impl Tally {
    /// Records a reply that arrived at `now` for a request stamped `stamp`.
    fn record(&mut self, w: &Window, stamp: u64, now: Instant, bytes: usize) {
        if now < w.start || now > w.end {
            return;
        }
        self.messages += 1;
        self.bytes += bytes as u64;
        let sent = w.origin + Duration::from_nanos(stamp);
        if sent >= w.start {
            self.lat_ns
                .push(now.saturating_duration_since(sent).as_nanos() as u64);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.messages += other.messages;
        self.bytes += other.bytes;
        self.lat_ns.extend(other.lat_ns);
    }

    fn into_report(mut self, params: Value, w: &Window) -> Report {
        Report {
            params,
            window: w.end - w.start,
            messages: self.messages,
            bytes: self.bytes,
            latency: Percentiles::from_nanos(&mut self.lat_ns),
        }
    }
}

/// A run's report and the CPU time this process spent during its measured window.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Throughput and latency.
    pub report: Report,
    /// CPU seconds (user + system, every thread of this process) spent in the window; `None`
    /// if `/proc/self/stat` could not be read. On a shared machine this is the steadier
    /// figure: it does not count time spent waiting for a CPU.
    pub cpu_s: Option<f64>,
}

impl Measured {
    /// CPU microseconds per completed message (both sides, when they share the process).
    pub fn cpu_us_per_msg(&self) -> Option<f64> {
        let n = self.report.messages;
        self.cpu_s.filter(|_| n > 0).map(|c| c * 1e6 / n as f64)
    }

    /// Average CPUs busy during the window.
    pub fn cpu_cores(&self) -> Option<f64> {
        self.cpu_s.map(|c| c / self.report.window.as_secs_f64())
    }

    /// The report as JSON, with a `cpu` object.
    pub fn to_json(&self) -> Value {
        let mut v = self.report.to_json();
        v["cpu"] = json!({
            "seconds": self.cpu_s,
            "cores": self.cpu_cores(),
            "us_per_msg": self.cpu_us_per_msg(),
        });
        v
    }

    /// The report as text, with a CPU line.
    pub fn to_text(&self) -> String {
        match (self.cpu_cores(), self.cpu_us_per_msg()) {
            (Some(cores), Some(per)) => format!(
                "{}\n  cpu: {cores:.2} cores busy, {per:.2} us per message",
                self.report.to_text()
            ),
            _ => self.report.to_text(),
        }
    }
}

/// CPU seconds this process has used so far (`utime + stime` of `/proc/self/stat`, in
/// 10 ms ticks: `USER_HZ` is 100 on Linux).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        thread::sleep(t - now);
    }
}

/// Reads the process's CPU time at the window's start and end, from a thread of its own.
struct CpuProbe(thread::JoinHandle<Option<f64>>);

impl CpuProbe {
    fn start(w: Window) -> CpuProbe {
        CpuProbe(thread::spawn(move || {
            sleep_until(w.start);
            let before = process_cpu_seconds()?;
            sleep_until(w.end);
            Some(process_cpu_seconds()? - before)
        }))
    }

    /// Waits for the window's end reading.
    fn finish(self) -> Option<f64> {
        self.0.join().ok().flatten()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn messenger_config(
    driver: DriverKind,
    workers: usize,
    recv_buf_size: Option<u32>,
) -> MessengerConfig {
    let mut driver = DriverConfig::with_kind(driver);
    if let Some(n) = recv_buf_size {
        driver.recv_buf_size = n;
    }
    MessengerConfig {
        stack: StackConfig {
            workers,
            driver,
            cpus: Vec::new(),
        },
        ..MessengerConfig::default()
    }
}

/// Fails if the kernel would not give `driver` (io_uring silently falls back to epoll):
/// starts a one-worker stack and asks it.
pub fn check_driver(driver: DriverKind) -> anyhow::Result<()> {
    let mut stack = NetworkStack::start(&StackConfig {
        workers: 1,
        driver: DriverConfig::with_kind(driver),
        cpus: Vec::new(),
    })?;
    let actual = stack.workers()[0].driver();
    stack.stop()?;
    anyhow::ensure!(
        actual == driver,
        "asked for {driver} but the kernel gave {actual}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------

/// Requests a [`BenchServer`] answered.
#[derive(Default)]
struct ServerStats {
    messages: AtomicU64,
    bytes: AtomicU64,
}

struct ServerDispatcher {
    /// `None`: echo the request's data.
    reply: Option<Bytes>,
    stats: Arc<ServerStats>,
}

impl Dispatcher for ServerDispatcher {
    fn ms_can_fast_dispatch(&self, msg: &Incoming) -> bool {
        msg.header.msg_type == MSG_PERF_REQUEST
    }

    fn ms_fast_dispatch(&self, conn: &Connection, msg: Incoming) {
        let Message::Unknown(raw) = msg.message else {
            return;
        };
        self.stats.messages.fetch_add(1, Ordering::Relaxed);
        self.stats
            .bytes
            .fetch_add(raw.data.len() as u64, Ordering::Relaxed);
        let mut header = MsgHeader2::new(MSG_PERF_REPLY, 1, 1);
        header.tid = raw.header.tid;
        let data = self.reply.clone().unwrap_or(raw.data);
        conn.send_message(RawMessage {
            header,
            front: Bytes::new(),
            middle: Bytes::new(),
            data,
        });
    }

    fn ms_dispatch(&self, _conn: &Connection, msg: Incoming) -> Option<Incoming> {
        Some(msg)
    }
}

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Event driver of the workers.
    pub driver: DriverKind,
    /// Worker threads.
    pub workers: usize,
    /// What each request is answered with.
    pub reply: Reply,
    /// Nonce in the server's address (clients must dial it exactly).
    pub nonce: u32,
    /// The driver's receive chunk (see [`LoadParams::recv_buf_size`]).
    pub recv_buf_size: Option<u32>,
}

/// A messenger that answers every [`MSG_PERF_REQUEST`] from its worker thread: an OSD-like
/// entity (`osd.0`) with Ceph's `stateless_server` policy for its clients.
pub struct BenchServer {
    msgr: Messenger,
    stats: Arc<ServerStats>,
}

impl BenchServer {
    /// Binds `bind` (port 0: any free port) and starts serving.
    pub fn start(cfg: &ServerConfig, bind: SocketAddr) -> anyhow::Result<BenchServer> {
        anyhow::ensure!(cfg.workers > 0, "the server needs a worker");
        let msgr = Messenger::new(
            EntityName::new(EntityType::OSD, "0"),
            cfg.nonce,
            messenger_config(cfg.driver, cfg.workers, cfg.recv_buf_size),
        );
        msgr.set_default_policy(Policy::stateless_server(Features::from_bits(0)));
        let stats = Arc::new(ServerStats::default());
        let reply = match cfg.reply {
            Reply::Echo => None,
            Reply::Fixed(n) => Some(Bytes::from(vec![0u8; n])),
        };
        msgr.add_dispatcher_tail(Arc::new(ServerDispatcher {
            reply,
            stats: stats.clone(),
        }));
        msgr.bind(bind)?;
        msgr.start()?;
        Ok(BenchServer { msgr, stats })
    }

    /// The address clients dial (`v2:ip:port/nonce`).
    pub fn addrs(&self) -> EntityAddrvec {
        self.msgr.my_addrs()
    }

    /// Requests answered so far, and their data bytes.
    pub fn served(&self) -> (u64, u64) {
        (
            self.stats.messages.load(Ordering::Relaxed),
            self.stats.bytes.load(Ordering::Relaxed),
        )
    }

    /// Closes every connection and joins the threads.
    pub fn shutdown(&self) -> anyhow::Result<()> {
        self.msgr.shutdown()?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------

/// Per-connection client state; touched only by the connection's worker once traffic runs.
struct Slot {
    /// Requests sent and not yet answered, counted down only after the window.
    outstanding: AtomicUsize,
    tally: Mutex<Tally>,
}

struct ClientShared {
    window: Window,
    size: usize,
    payload: Bytes,
    /// By connection id; set before the first request is sent.
    slots: OnceLock<HashMap<u64, Slot>>,
    /// Connections whose last reply arrived after the window.
    finished: AtomicUsize,
    failed: AtomicBool,
}

impl ClientShared {
    fn request(&self, now: Instant) -> RawMessage {
        let mut header = MsgHeader2::new(MSG_PERF_REQUEST, 1, 1);
        header.tid = self.window.stamp(now);
        RawMessage {
            header,
            front: Bytes::new(),
            middle: Bytes::new(),
            data: self.payload.clone(),
        }
    }
}

struct ClientDispatcher(Arc<ClientShared>);

impl Dispatcher for ClientDispatcher {
    fn ms_can_fast_dispatch(&self, msg: &Incoming) -> bool {
        msg.header.msg_type == MSG_PERF_REPLY
    }

    fn ms_fast_dispatch(&self, conn: &Connection, msg: Incoming) {
        let now = Instant::now();
        let s = &self.0;
        let Some(slot) = s.slots.get().and_then(|m| m.get(&conn.id())) else {
            return;
        };
        lock(&slot.tally).record(&s.window, msg.header.tid, now, s.size);
        if now < s.window.end {
            conn.send_message(s.request(now));
        } else if slot.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            s.finished.fetch_add(1, Ordering::Release);
        }
    }

    fn ms_dispatch(&self, _conn: &Connection, msg: Incoming) -> Option<Incoming> {
        Some(msg)
    }

    fn ms_handle_reset(&self, conn: &Connection) -> bool {
        eprintln!("perf client: connection {} was reset", conn.id());
        self.0.failed.store(true, Ordering::Relaxed);
        true
    }

    fn ms_handle_refused(&self, conn: &Connection) -> bool {
        eprintln!("perf client: connection {} was refused", conn.id());
        self.0.failed.store(true, Ordering::Relaxed);
        true
    }
}

/// The key `connect_to` registers connection `i` under. A messenger keeps one connection
/// per peer address vector, so the second and later sessions to the same server get a vector
/// that adds a never-dialled `v1:` placeholder; the msgr2 address dialled is the same. (The
/// server's `stateless_server` policy does not look clients up, so it accepts them all.)
fn session_key(server: &EntityAddrvec, i: usize) -> EntityAddrvec {
    if i == 0 {
        return server.clone();
    }
    let mut key = server.clone();
    key.addrs.push(EntityAddr::new(
        AddrType::Legacy,
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        i as u32,
    ));
    key
}

/// A nonce for a client messenger: differs between calls and between processes.
fn client_nonce() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    std::process::id()
        .wrapping_mul(0x9e37_79b9)
        .wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Runs the client load against `server` on `driver`; `label` goes in the report's params.
pub fn run_client(
    driver: DriverKind,
    server: &EntityAddrvec,
    p: &LoadParams,
    label: Value,
) -> anyhow::Result<Measured> {
    p.validate()?;
    let msgr = Messenger::new(
        EntityName::new(EntityType::CLIENT, "perf"),
        client_nonce(),
        messenger_config(driver, p.threads, p.recv_buf_size),
    );
    msgr.set_default_policy(Policy::lossy_client(Features::from_bits(0)));
    let shared = Arc::new(ClientShared {
        window: Window::new(p),
        size: p.size,
        payload: Bytes::from(vec![0x5a; p.size]),
        slots: OnceLock::new(),
        finished: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
    });
    msgr.add_dispatcher_tail(Arc::new(ClientDispatcher(shared.clone())));
    msgr.start()?;
    let cpu = CpuProbe::start(shared.window);
    let outcome = drive_client(&msgr, &shared, server, p);
    msgr.shutdown()?;
    outcome?;
    let cpu_s = cpu.finish();
    let mut all = Tally::default();
    for slot in shared.slots.get().into_iter().flat_map(|m| m.values()) {
        all.merge(std::mem::take(&mut *lock(&slot.tally)));
    }
    Ok(Measured {
        report: all.into_report(label, &shared.window),
        cpu_s,
    })
}

fn drive_client(
    msgr: &Messenger,
    shared: &ClientShared,
    server: &EntityAddrvec,
    p: &LoadParams,
) -> anyhow::Result<()> {
    let conns = (0..p.conns)
        .map(|i| msgr.connect_to(EntityType::OSD, &session_key(server, i)))
        .collect::<Result<Vec<_>, _>>()?;
    let slots = conns
        .iter()
        .map(|c| {
            let slot = Slot {
                outstanding: AtomicUsize::new(p.depth),
                tally: Mutex::default(),
            };
            (c.id(), slot)
        })
        .collect();
    if shared.slots.set(slots).is_err() {
        anyhow::bail!("client slots set twice");
    }
    for c in &conns {
        for _ in 0..p.depth {
            c.send_message(shared.request(Instant::now()));
        }
    }
    let limit = shared.window.end + DRAIN_TIMEOUT;
    while shared.finished.load(Ordering::Acquire) < p.conns {
        anyhow::ensure!(
            !shared.failed.load(Ordering::Relaxed),
            "a connection failed"
        );
        anyhow::ensure!(
            Instant::now() < limit,
            "replies did not drain within {DRAIN_TIMEOUT:?} of the window's end"
        );
        thread::sleep(Duration::from_millis(5)); // polling a tool's progress, not a test
    }
    Ok(())
}

/// A server and a client in one process on `driver`.
pub fn run_cuttle(
    driver: DriverKind,
    p: &LoadParams,
    server_workers: usize,
    reply: Reply,
) -> anyhow::Result<Measured> {
    check_driver(driver)?;
    let server = BenchServer::start(
        &ServerConfig {
            driver,
            workers: server_workers,
            reply,
            nonce: 0,
            recv_buf_size: p.recv_buf_size,
        },
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
    )?;
    let label = params_json(driver.as_str(), p, server_workers, reply);
    let report = run_client(driver, &server.addrs(), p, label);
    server.shutdown()?;
    report
}

/// The `params` of a report.
pub fn params_json(transport: &str, p: &LoadParams, server_workers: usize, reply: Reply) -> Value {
    let mut v = p.to_json();
    v["transport"] = json!(transport);
    v["server_workers"] = json!(server_workers);
    v["reply"] = reply.to_json();
    v
}

// ---------------------------------------------------------------------------------------
// Raw TCP baseline
// ---------------------------------------------------------------------------------------

/// Raw frame: `u32` LE body length, then the body: `u64` LE send stamp, then the payload.
const RAW_HEADER: usize = 4 + 8;
/// Frames up to this size are batched into one `write` per burst of credits.
const RAW_BATCH_MAX: usize = 64 * 1024;
/// Read buffer granularity.
const RAW_READ_CHUNK: usize = 256 * 1024;

/// Reads length-prefixed frames from a blocking socket into one reused buffer, which grows
/// to hold a whole frame.
struct FrameReader {
    buf: Vec<u8>,
    filled: usize,
    /// End of the complete frames at the front of `buf`.
    done: usize,
}

impl FrameReader {
    fn new() -> FrameReader {
        FrameReader {
            buf: vec![0; RAW_READ_CHUNK],
            filled: 0,
            done: 0,
        }
    }

    /// Drops the frames returned last time, then reads once. Returns `Ok(false)` at EOF.
    fn read(&mut self, s: &mut TcpStream) -> io::Result<bool> {
        if self.done > 0 {
            self.buf.copy_within(self.done..self.filled, 0);
            self.filled -= self.done;
            self.done = 0;
        }
        if self.buf.len() - self.filled < RAW_READ_CHUNK / 4 {
            self.buf.resize(self.buf.len() + RAW_READ_CHUNK, 0);
        }
        let n = s.read(&mut self.buf[self.filled..])?;
        if n == 0 {
            return Ok(false);
        }
        self.filled += n;
        while self.filled - self.done >= 4 {
            let at = self.done;
            let len = u32::from_le_bytes(self.buf[at..at + 4].try_into().expect("4 bytes"));
            let total = 4 + len as usize;
            if len < 8 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "short raw frame",
                ));
            }
            if self.filled - at < total {
                if self.buf.len() < at + total + RAW_READ_CHUNK / 4 {
                    self.buf.resize(at + total + RAW_READ_CHUNK / 4, 0);
                }
                break;
            }
            self.done += total;
        }
        Ok(true)
    }

    /// The complete frames read so far, back to back.
    fn complete(&self) -> &[u8] {
        &self.buf[..self.done]
    }

    /// The send stamp of every complete frame.
    fn stamps(&self) -> impl Iterator<Item = u64> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= self.done {
                return None;
            }
            let b = &self.buf[at..];
            let len = u32::from_le_bytes(b[..4].try_into().expect("4 bytes")) as usize;
            at += 4 + len;
            Some(u64::from_le_bytes(
                b[4..RAW_HEADER].try_into().expect("8 bytes"),
            ))
        })
    }
}

/// One server connection: answers every frame; the frames of one read are answered with
/// one `write`.
fn raw_serve(mut s: TcpStream, reply: Reply) -> io::Result<()> {
    let mut w = s.try_clone()?;
    let mut r = FrameReader::new();
    let mut out = Vec::new();
    while r.read(&mut s)? {
        match reply {
            Reply::Echo => w.write_all(r.complete())?,
            Reply::Fixed(n) => {
                out.clear();
                for stamp in r.stamps() {
                    out.extend_from_slice(&((8 + n) as u32).to_le_bytes());
                    out.extend_from_slice(&stamp.to_le_bytes());
                    out.resize(out.len() + n, 0);
                }
                w.write_all(&out)?;
            }
        }
    }
    Ok(())
}

/// Sends a frame per credit the reader grants, until told to stop.
fn raw_writer(
    mut w: TcpStream,
    credits: &AtomicUsize,
    stop: &AtomicBool,
    window: Window,
    size: usize,
) -> io::Result<()> {
    let mut frame = vec![0x5au8; RAW_HEADER + size];
    frame[..4].copy_from_slice(&((8 + size) as u32).to_le_bytes());
    let mut out = Vec::new();
    loop {
        let c = credits.swap(0, Ordering::AcqRel);
        if c == 0 {
            if stop.load(Ordering::Acquire) {
                return Ok(());
            }
            thread::park(); // the reader unparks on the 0 -> 1 transition, and to stop
            continue;
        }
        if frame.len() <= RAW_BATCH_MAX {
            let stamp = window.stamp(Instant::now()).to_le_bytes();
            frame[4..RAW_HEADER].copy_from_slice(&stamp);
            out.clear();
            for _ in 0..c {
                out.extend_from_slice(&frame);
            }
            w.write_all(&out)?;
        } else {
            for _ in 0..c {
                let stamp = window.stamp(Instant::now()).to_le_bytes();
                frame[4..RAW_HEADER].copy_from_slice(&stamp);
                w.write_all(&frame)?;
            }
        }
    }
}

/// One client connection: this thread reads replies and grants a credit per reply while
/// the window is open; a writer thread turns credits into requests.
fn raw_client(addr: SocketAddr, p: &LoadParams, window: Window) -> io::Result<Tally> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(DRAIN_TIMEOUT))?;
    let w = s.try_clone()?;
    let credits = Arc::new(AtomicUsize::new(p.depth));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (credits, stop, size) = (credits.clone(), stop.clone(), p.size);
        thread::Builder::new()
            .name("raw-writer".into())
            .spawn(move || raw_writer(w, &credits, &stop, window, size))?
    };
    let mut tally = Tally::default();
    let (mut granted, mut received) = (p.depth as u64, 0u64);
    let mut r = FrameReader::new();
    let result = loop {
        match r.read(&mut s) {
            Ok(true) => {}
            Ok(false) => break Err(io::ErrorKind::UnexpectedEof.into()),
            Err(e) => break Err(e),
        }
        let now = Instant::now();
        let mut grant = 0;
        for stamp in r.stamps() {
            tally.record(&window, stamp, now, p.size);
            received += 1;
            grant += usize::from(now < window.end);
        }
        if grant > 0 {
            granted += grant as u64;
            if credits.fetch_add(grant, Ordering::AcqRel) == 0 {
                writer.thread().unpark();
            }
        }
        if received == granted && now >= window.end {
            break Ok(());
        }
    };
    stop.store(true, Ordering::Release);
    writer.thread().unpark();
    if result.is_err() {
        let _ = s.shutdown(std::net::Shutdown::Both); // unblocks a writer stuck in write
    }
    let written = writer
        .join()
        .map_err(|_| io::Error::other("raw writer panicked"))?;
    result.and(written).map(|()| tally)
}

/// The raw TCP baseline: a thread per server connection, a reader and a writer thread per
/// client connection, blocking `std::net` sockets with `TCP_NODELAY`.
pub fn run_raw_tcp(
    p: &LoadParams,
    server_workers: usize,
    reply: Reply,
) -> anyhow::Result<Measured> {
    p.validate()?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = listener.local_addr()?;
    let conns = p.conns;
    let server = thread::spawn(move || -> io::Result<()> {
        let mut handlers = Vec::new();
        for _ in 0..conns {
            let (s, _) = listener.accept()?;
            s.set_nodelay(true)?;
            handlers.push(thread::spawn(move || raw_serve(s, reply)));
        }
        for h in handlers {
            // A client that failed makes its server connection fail too: reported there.
            let _ = h.join();
        }
        Ok(())
    });
    let window = Window::new(p);
    let cpu = CpuProbe::start(window);
    let clients: Vec<_> = (0..p.conns)
        .map(|_| {
            let p = p.clone();
            thread::spawn(move || raw_client(addr, &p, window))
        })
        .collect();
    let mut all = Tally::default();
    let mut failure = None;
    for c in clients {
        match c.join() {
            Ok(Ok(t)) => all.merge(t),
            Ok(Err(e)) => failure = Some(anyhow::Error::from(e)),
            Err(_) => failure = Some(anyhow::anyhow!("raw client panicked")),
        }
    }
    let served = server
        .join()
        .map_err(|_| anyhow::anyhow!("raw server panicked"))?;
    if let Some(e) = failure {
        return Err(e.context("raw TCP client failed"));
    }
    served?;
    let label = params_json("raw_tcp", p, server_workers, reply);
    Ok(Measured {
        report: all.into_report(label, &window),
        cpu_s: cpu.finish(),
    })
}

// ---------------------------------------------------------------------------------------
// Ratios and the machine
// ---------------------------------------------------------------------------------------

/// `m` relative to `base`: throughput ratios (higher is better), latency and CPU-per-message
/// ratios (lower is better).
pub fn ratios(m: &Measured, base: &Measured) -> Value {
    let div = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    let (r, b) = (&m.report, &base.report);
    let cpu = match (m.cpu_us_per_msg(), base.cpu_us_per_msg()) {
        (Some(x), Some(y)) => json!(div(x, y)),
        _ => Value::Null,
    };
    json!({
        "msgs_per_sec": div(r.msgs_per_sec(), b.msgs_per_sec()),
        "mb_per_sec": div(r.mb_per_sec(), b.mb_per_sec()),
        "latency_p50": div(r.latency.p50, b.latency.p50),
        "latency_p99": div(r.latency.p99, b.latency.p99),
        "cpu_us_per_msg": cpu,
    })
}

/// The median of `v` (NaN if empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// The machine a run happened on: CPUs, model, kernel, load averages.
pub fn machine() -> Value {
    let model = read_trimmed("/proc/cpuinfo").and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|m| m.trim().to_owned())
    });
    json!({
        "cpus": thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu_model": model,
        "kernel": read_trimmed("/proc/sys/kernel/osrelease"),
        "loadavg": load_average(),
    })
}

/// `/proc/loadavg`'s 1, 5 and 15 minute averages.
pub fn load_average() -> Vec<f64> {
    read_trimmed("/proc/loadavg")
        .map(|s| {
            s.split_whitespace()
                .take(3)
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_keys_differ_but_dial_the_same_address() {
        let server: EntityAddrvec = "v2:127.0.0.1:6800/7".parse().unwrap();
        let keys: Vec<_> = (0..3).map(|i| session_key(&server, i)).collect();
        assert_eq!(keys[0], server);
        assert_ne!(keys[1], keys[2]);
        for k in &keys {
            assert_eq!(k.msgr2_addr(), server.msgr2_addr());
        }
    }

    #[test]
    fn tally_counts_only_the_window() {
        let p = LoadParams {
            size: 10,
            depth: 1,
            conns: 1,
            threads: 1,
            secs: 1.0,
            warmup: 1.0,
            recv_buf_size: None,
        };
        let w = Window::new(&p);
        let mut t = Tally::default();
        let early = w.stamp(w.origin);
        t.record(&w, early, w.origin + Duration::from_millis(500), 10);
        t.record(&w, early, w.start + Duration::from_millis(1), 10);
        let in_window = w.stamp(w.start + Duration::from_millis(2));
        t.record(&w, in_window, w.start + Duration::from_millis(3), 10);
        t.record(&w, in_window, w.end + Duration::from_millis(1), 10);
        assert_eq!((t.messages, t.bytes), (2, 20));
        assert_eq!(t.lat_ns, vec![1_000_000]);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }

    #[test]
    fn raw_tcp_round_trips() {
        let p = LoadParams {
            size: 100,
            depth: 4,
            conns: 2,
            threads: 1,
            secs: 0.2,
            warmup: 0.05,
            recv_buf_size: None,
        };
        for reply in [Reply::Echo, Reply::Fixed(10)] {
            let r = run_raw_tcp(&p, 1, reply).unwrap().report;
            assert!(r.messages > 0, "{reply:?}");
            assert_eq!(r.bytes, r.messages * 100);
        }
    }
}
