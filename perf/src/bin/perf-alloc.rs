//! `perf-alloc`: heap allocations per message in a messenger's steady state, counted with a
//! counting global allocator ([`cuttle_perf::alloc_count`]).
//!
//! One process runs a server [`Messenger`] with one worker and a client messenger with one
//! worker on loopback. The client floods `--size`-byte messages one way, keeping `--depth` in
//! flight. The server's fast dispatcher runs on the server's worker thread: it reads that
//! thread's allocation counter when message #`warmup` arrives and again at message
//! #`warmup + messages`, so the difference is what the worker allocated to receive
//! `messages` messages (socket read, frame decode, message assembly, dispatch). Frees are not
//! counted: dropping a message in the dispatcher is free.
//!
//! The send side is reported too:
//! - *client worker*: the server sends the client a marker message at both ends of its
//!   window; the client's fast dispatcher reads its worker's counter when each arrives (the
//!   client's worker encodes and writes what the caller queued). Its message count is the
//!   server's count at those instants, exact to within `--depth` messages.
//! - *caller*: what `Connection::send_message` allocates on the thread that calls it.
//!
//! With `--reply` the server answers each message from its dispatcher (echoing the data) and
//! the client's dispatcher sends the next request on each reply: both workers' figures are
//! then receive + send, exact, and no thread outside the workers sends.
//!
//! ```text
//! perf-alloc                                   # 64 B, both drivers
//! perf-alloc --size 64,4096 --driver epoll --json
//! perf-alloc --reply --size 4096
//! PERF_ALLOC_BACKTRACE=1 perf-alloc --driver epoll --messages 20000   # where they happen
//! ```
//!
//! `PERF_ALLOC_BACKTRACE=P` captures a backtrace of every P-th allocation the measured worker
//! makes in the window (`--trace-side client` for the client's worker) and prints the call
//! sites, trimmed to `msgr::` and `bytes::` frames (build with line tables, as the release
//! profile does, for file:line).

#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use cuttle_perf::alloc_count::{self, CallSite, CountingAlloc};
use msgr::messages::{Message, MsgHeader2, RawMessage};
use msgr::messenger::{Connection, Dispatcher, Incoming, Messenger, MessengerConfig};
use msgr::protocol::Policy;
use msgr::wire::{EntityName, EntityType, Features};
use msgr::{DriverConfig, DriverKind, NetworkStack, StackConfig};
use serde_json::{Value, json};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// A message the client floods (a private number no Ceph message uses).
const MSG_FLOOD: u16 = 0x7f60;
/// The server's answer to one, with `--reply`.
const MSG_FLOOD_REPLY: u16 = 0x7f61;
/// The server's marker at each end of its window (one-way mode).
const MSG_MARK: u16 = 0x7f62;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Driver {
    Epoll,
    #[value(name = "io_uring")]
    IoUring,
    /// Both.
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Side {
    Server,
    Client,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Server => "server",
            Side::Client => "client",
        }
    }
}

/// Heap allocations per received message in a messenger's steady state.
#[derive(Parser, Debug)]
#[command(name = "perf-alloc", version)]
struct Args {
    /// Event driver(s).
    #[arg(long, value_enum, default_value = "all")]
    driver: Driver,
    /// Message data bytes; a comma-separated list runs each.
    #[arg(long, value_delimiter = ',', default_value = "64")]
    size: Vec<usize>,
    /// Messages in the measured window.
    #[arg(long, default_value_t = 100_000)]
    messages: u64,
    /// Messages received before the window opens (handshake, buffers reaching their size).
    #[arg(long, default_value_t = 10_000)]
    warmup: u64,
    /// Messages in flight (one-way: sent and not yet received by the server; with
    /// `--reply`: requests awaiting their reply).
    #[arg(long, default_value_t = 128)]
    depth: u64,
    /// The server answers every message; both workers then count receive + send.
    #[arg(long)]
    reply: bool,
    /// With PERF_ALLOC_BACKTRACE: the worker whose allocations are sampled.
    #[arg(long, value_enum, default_value = "server")]
    trace_side: Side,
    /// With PERF_ALLOC_BACKTRACE: call sites printed.
    #[arg(long, default_value_t = 30)]
    top: usize,
    /// Seconds a run may take before it is abandoned as stuck.
    #[arg(long, default_value_t = 300.0)]
    timeout: f64,
    /// One JSON object per (driver, size) instead of text.
    #[arg(long)]
    json: bool,
}

/// Allocations counted on one thread over a window of messages.
#[derive(Clone, Copy, Debug)]
struct Figures {
    messages: u64,
    allocs: u64,
    bytes: u64,
}

impl Figures {
    fn allocs_per_msg(&self) -> f64 {
        self.allocs as f64 / self.messages as f64
    }

    fn bytes_per_msg(&self) -> f64 {
        self.bytes as f64 / self.messages as f64
    }

    fn to_json(self) -> Value {
        json!({
            "messages": self.messages,
            "allocs_per_msg": self.allocs_per_msg(),
            "bytes_per_msg": self.bytes_per_msg(),
        })
    }

    fn to_text(self) -> String {
        format!(
            "{:.3} allocs/msg, {:.1} B/msg ({} allocs, {} B over {} messages)",
            self.allocs_per_msg(),
            self.bytes_per_msg(),
            self.allocs,
            self.bytes,
            self.messages
        )
    }
}

/// Reads the allocation counter of the thread that calls it, at the two ends of a window.
/// `begin` and `end` must run on the same thread.
struct Meter {
    /// Sample a backtrace every this many allocations in the window (0: none).
    sample_period: u64,
    /// The measured thread, the message count and the counter at the window's start.
    start: Mutex<Option<(ThreadId, u64, u64, u64)>>,
    result: OnceLock<Figures>,
    /// `end` ran on another thread than `begin` (the figures would mean nothing).
    moved: AtomicBool,
}

impl Meter {
    fn new(sample_period: u64) -> Meter {
        Meter {
            sample_period,
            start: Mutex::new(None),
            result: OnceLock::new(),
            moved: AtomicBool::new(false),
        }
    }

    fn begun(&self) -> bool {
        lock(&self.start).is_some()
    }

    fn thread(&self) -> Option<ThreadId> {
        lock(&self.start).map(|s| s.0)
    }

    /// Opens the window; `messages` is the message count it starts from.
    fn begin(&self, messages: u64) {
        let id = thread::current().id();
        let (allocs, bytes) = alloc_count::thread_allocs();
        *lock(&self.start) = Some((id, messages, allocs, bytes));
        if self.sample_period > 0 {
            alloc_count::sample_backtraces(self.sample_period);
        }
    }

    /// Closes the window at message count `messages`.
    fn end(&self, messages: u64) {
        let (allocs, bytes) = alloc_count::thread_allocs();
        if self.sample_period > 0 {
            alloc_count::sample_backtraces(0);
        }
        if let Some((id, m0, a0, b0)) = *lock(&self.start) {
            if id != thread::current().id() {
                self.moved.store(true, Ordering::SeqCst);
            }
            let _ = self.result.set(Figures {
                messages: messages.saturating_sub(m0),
                allocs: allocs - a0,
                bytes: bytes - b0,
            });
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the two dispatchers and the sending thread share.
struct Shared {
    warmup: u64,
    messages: u64,
    depth: u64,
    reply: bool,
    /// Messages the server has received.
    received: AtomicU64,
    /// Replies the client has received (`--reply`).
    replies: AtomicU64,
    server: Meter,
    client: Meter,
    failed: AtomicBool,
    /// Wakes the sending thread: `received` reached `wake_at`, or the run finished.
    wake_at: AtomicU64,
    wake: (Mutex<()>, Condvar),
    payload: Bytes,
}

impl Shared {
    fn finished(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
            || (self.server.result.get().is_some() && self.client.result.get().is_some())
    }

    fn notify(&self) {
        let _g = lock(&self.wake.0);
        self.wake.1.notify_all();
    }

    /// The server has received `n` messages: wakes the sender if it waits for that.
    fn progress(&self, n: u64) {
        if n >= self.wake_at.load(Ordering::SeqCst) {
            self.notify();
        }
    }

    /// Waits until the server has received `target` messages or the run finished.
    fn wait_received(&self, target: u64, deadline: Instant) -> anyhow::Result<()> {
        self.wake_at.store(target, Ordering::SeqCst);
        let mut g = lock(&self.wake.0);
        while self.received.load(Ordering::SeqCst) < target && !self.finished() {
            let now = Instant::now();
            anyhow::ensure!(
                now < deadline,
                "stuck: the server received {} of {target} messages",
                self.received.load(Ordering::SeqCst)
            );
            g = self
                .wake
                .1
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(g);
        self.wake_at.store(u64::MAX, Ordering::SeqCst);
        Ok(())
    }

    /// Waits until both windows closed (or a connection failed).
    fn wait_finished(&self, deadline: Instant) -> anyhow::Result<()> {
        self.wait_received(u64::MAX, deadline)?;
        anyhow::ensure!(!self.failed.load(Ordering::SeqCst), "a connection failed");
        Ok(())
    }

    fn message(&self, msg_type: u16, data: Bytes) -> RawMessage {
        RawMessage {
            header: MsgHeader2::new(msg_type, 1, 1),
            front: Bytes::new(),
            middle: Bytes::new(),
            data,
        }
    }

    fn fail(&self, what: &str, conn: &Connection) {
        eprintln!("perf-alloc: {what}: connection {}", conn.id());
        self.failed.store(true, Ordering::SeqCst);
        self.notify();
    }
}

/// The server's dispatcher: counts on its worker thread.
struct ServerSide(Arc<Shared>);

impl Dispatcher for ServerSide {
    fn ms_can_fast_dispatch(&self, msg: &Incoming) -> bool {
        msg.header.msg_type == MSG_FLOOD
    }

    fn ms_fast_dispatch(&self, conn: &Connection, msg: Incoming) {
        let s = &*self.0;
        let n = s.received.fetch_add(1, Ordering::SeqCst) + 1;
        // The window holds the receipt (and with --reply the answer) of messages
        // warmup+1 ..= warmup+messages.
        if s.reply {
            if let Message::Unknown(raw) = msg.message {
                conn.send_message(s.message(MSG_FLOOD_REPLY, raw.data));
            }
        } else {
            drop(msg);
        }
        if n == s.warmup {
            if !s.reply {
                // Sent before the window opens; its encoding (one message) falls inside.
                conn.send_message(s.message(MSG_MARK, Bytes::new()));
            }
            s.server.begin(n);
        }
        if n == s.warmup + s.messages {
            s.server.end(n);
            if !s.reply {
                conn.send_message(s.message(MSG_MARK, Bytes::new()));
            }
            s.notify();
        }
        s.progress(n);
    }

    fn ms_dispatch(&self, _conn: &Connection, msg: Incoming) -> Option<Incoming> {
        Some(msg)
    }

    fn ms_handle_reset(&self, conn: &Connection) -> bool {
        if !self.0.finished() {
            self.0.fail("server connection reset", conn);
        }
        true
    }
}

/// The client's dispatcher: counts on its worker thread.
struct ClientSide(Arc<Shared>);

impl Dispatcher for ClientSide {
    fn ms_can_fast_dispatch(&self, msg: &Incoming) -> bool {
        matches!(msg.header.msg_type, MSG_FLOOD_REPLY | MSG_MARK)
    }

    fn ms_fast_dispatch(&self, conn: &Connection, msg: Incoming) {
        let s = &*self.0;
        if msg.header.msg_type == MSG_MARK {
            drop(msg);
            let n = s.received.load(Ordering::SeqCst);
            if s.client.begun() {
                s.client.end(n);
                s.notify();
            } else {
                s.client.begin(n);
            }
            return;
        }
        drop(msg);
        let n = s.replies.fetch_add(1, Ordering::SeqCst) + 1;
        if n == s.warmup {
            s.client.begin(n);
        }
        if n < s.warmup + s.messages {
            conn.send_message(s.message(MSG_FLOOD, s.payload.clone()));
        } else if n == s.warmup + s.messages {
            s.client.end(n);
            s.notify();
        }
    }

    fn ms_dispatch(&self, _conn: &Connection, msg: Incoming) -> Option<Incoming> {
        Some(msg)
    }

    fn ms_handle_reset(&self, conn: &Connection) -> bool {
        if !self.0.finished() {
            self.0.fail("client connection reset", conn);
        }
        true
    }

    fn ms_handle_refused(&self, conn: &Connection) -> bool {
        self.0.fail("connection refused", conn);
        true
    }
}

fn stack_config(driver: DriverKind) -> StackConfig {
    StackConfig {
        workers: 1,
        driver: DriverConfig::with_kind(driver),
        cpus: Vec::new(),
    }
}

fn config(driver: DriverKind) -> MessengerConfig {
    MessengerConfig {
        stack: stack_config(driver),
        ..MessengerConfig::default()
    }
}

/// Fails if the kernel would not give `driver` (io_uring falls back to epoll silently).
fn check_driver(driver: DriverKind) -> anyhow::Result<()> {
    let mut stack = NetworkStack::start(&stack_config(driver))?;
    let actual = stack.workers()[0].driver();
    stack.stop()?;
    anyhow::ensure!(
        actual == driver,
        "asked for {driver}, the kernel gave {actual}"
    );
    Ok(())
}

/// The outcome of one (driver, size) run.
struct Outcome {
    driver: DriverKind,
    size: usize,
    reply: bool,
    server: Figures,
    client: Figures,
    /// One-way only: what `send_message` allocated on the calling thread.
    caller: Option<Figures>,
    sites: Option<(Vec<CallSite>, u64, usize)>,
}

fn run(a: &Args, driver: DriverKind, size: usize, sample_period: u64) -> anyhow::Result<Outcome> {
    check_driver(driver)?;
    let (server_period, client_period) = match a.trace_side {
        Side::Server => (sample_period, 0),
        Side::Client => (0, sample_period),
    };
    let shared = Arc::new(Shared {
        warmup: a.warmup,
        messages: a.messages,
        depth: a.depth,
        reply: a.reply,
        received: AtomicU64::new(0),
        replies: AtomicU64::new(0),
        server: Meter::new(server_period),
        client: Meter::new(client_period),
        failed: AtomicBool::new(false),
        wake_at: AtomicU64::new(u64::MAX),
        wake: (Mutex::new(()), Condvar::new()),
        payload: Bytes::from(vec![0x5a; size]),
    });
    let _ = alloc_count::take_samples();

    let server = Messenger::new(EntityName::new(EntityType::OSD, "0"), 0, config(driver));
    server.set_default_policy(Policy::stateless_server(Features::from_bits(0)));
    server.add_dispatcher_tail(Arc::new(ServerSide(shared.clone())));
    server.bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0))?;
    server.start()?;
    let client = Messenger::new(
        EntityName::new(EntityType::CLIENT, "alloc"),
        std::process::id(),
        config(driver),
    );
    client.set_default_policy(Policy::lossy_client(Features::from_bits(0)));
    client.add_dispatcher_tail(Arc::new(ClientSide(shared.clone())));
    client.start()?;

    let deadline = Instant::now() + Duration::from_secs_f64(a.timeout);
    let outcome = client
        .connect_to(EntityType::OSD, &server.my_addrs())
        .map_err(anyhow::Error::from)
        .and_then(|conn| {
            if a.reply {
                for _ in 0..a.depth {
                    conn.send_message(shared.message(MSG_FLOOD, shared.payload.clone()));
                }
                shared.wait_finished(deadline).map(|()| None)
            } else {
                flood(&shared, &conn, deadline).map(Some)
            }
        });
    let down = client.shutdown().and(server.shutdown());
    let caller = outcome?;
    down?;
    let (Some(&server_fig), Some(&client_fig)) =
        (shared.server.result.get(), shared.client.result.get())
    else {
        anyhow::bail!("a window did not close");
    };
    anyhow::ensure!(
        !shared.server.moved.load(Ordering::SeqCst) && !shared.client.moved.load(Ordering::SeqCst),
        "a window closed on another thread than it opened on"
    );
    anyhow::ensure!(
        shared.server.thread() != shared.client.thread(),
        "the server and the client were measured on the same thread"
    );
    let sites = (sample_period > 0).then(|| {
        let (samples, dropped) = alloc_count::take_samples();
        let keep = |f: &alloc_count::Frame| {
            f.location
                .as_deref()
                .is_some_and(|at| at.starts_with("msgr/src/") || at.starts_with("bytes-"))
        };
        (
            alloc_count::call_sites(&samples, &keep, 8),
            samples.len() as u64,
            dropped,
        )
    });
    Ok(Outcome {
        driver,
        size,
        reply: a.reply,
        server: server_fig,
        client: client_fig,
        caller,
        sites,
    })
}

/// One-way: sends from this thread, keeping at most `depth` messages unreceived, until both
/// windows closed. Returns what `send_message` allocated here per message after the warm-up.
fn flood(s: &Shared, conn: &Connection, deadline: Instant) -> anyhow::Result<Figures> {
    let mut sent = 0u64;
    let mut caller = Figures {
        messages: 0,
        allocs: 0,
        bytes: 0,
    };
    while !s.finished() {
        let received = s.received.load(Ordering::SeqCst);
        let room = s.depth - (sent - received).min(s.depth);
        if room * 2 >= s.depth {
            for _ in 0..room {
                let msg = s.message(MSG_FLOOD, s.payload.clone());
                let (a0, b0) = alloc_count::thread_allocs();
                conn.send_message(msg);
                let (a1, b1) = alloc_count::thread_allocs();
                sent += 1;
                if sent > s.warmup {
                    caller.messages += 1;
                    caller.allocs += a1 - a0;
                    caller.bytes += b1 - b0;
                }
            }
        } else {
            s.wait_received(sent - s.depth / 2, deadline)?;
        }
    }
    anyhow::ensure!(!s.failed.load(Ordering::SeqCst), "a connection failed");
    Ok(caller)
}

fn site_json(c: &CallSite, per_msg: f64) -> Value {
    let frame = |f: &alloc_count::Frame| json!({"symbol": f.symbol, "at": f.location});
    json!({
        "samples": c.samples,
        "allocs_per_msg": c.samples as f64 * per_msg,
        "avg_bytes": c.bytes / c.samples.max(1),
        "allocator": frame(&c.allocator),
        "frames": c.frames.iter().map(frame).collect::<Vec<_>>(),
    })
}

fn frame_text(f: &alloc_count::Frame) -> String {
    match &f.location {
        Some(at) => format!("{}  ({at})", f.symbol),
        None => f.symbol.clone(),
    }
}

impl Outcome {
    /// The traced side's figures.
    fn traced(&self, side: Side) -> Figures {
        match side {
            Side::Server => self.server,
            Side::Client => self.client,
        }
    }

    fn to_json(&self, a: &Args) -> Value {
        let mut v = json!({
            "driver": self.driver.as_str(),
            "size": self.size,
            "messages": self.server.messages,
            "allocs_per_msg": self.server.allocs_per_msg(),
            "bytes_per_msg": self.server.bytes_per_msg(),
            "path": if self.reply { "receive+send" } else { "receive" },
            "client_worker": self.client.to_json(),
            "caller": self.caller.map(Figures::to_json),
        });
        if let Some((sites, samples, dropped)) = &self.sites {
            let traced = self.traced(a.trace_side);
            let per_msg = traced.allocs as f64 / *samples as f64 / traced.messages as f64;
            v["call_sites"] = json!({
                "side": a.trace_side.as_str(),
                "samples": samples,
                "dropped": dropped,
                "sites": sites.iter().take(a.top).map(|c| site_json(c, per_msg)).collect::<Vec<_>>(),
            });
        }
        v
    }

    fn print_text(&self, a: &Args) {
        let (srv, cli) = if self.reply {
            ("receive + send", "receive reply + send")
        } else {
            ("receive", "send, message count ±depth")
        };
        println!("{} size {}:", self.driver, self.size);
        println!("  server worker ({srv}): {}", self.server.to_text());
        println!("  client worker ({cli}): {}", self.client.to_text());
        if let Some(c) = self.caller {
            println!("  caller of send_message: {}", c.to_text());
        }
        let Some((sites, samples, dropped)) = &self.sites else {
            return;
        };
        let traced = self.traced(a.trace_side);
        // Each sample stands for allocs / samples allocations of the window.
        let per_msg = traced.allocs as f64 / *samples as f64 / traced.messages as f64;
        println!(
            "  call sites on the {} worker ({samples} backtraces, {dropped} over the cap; \
             allocs/msg estimated from the sample share):",
            a.trace_side.as_str()
        );
        for c in sites.iter().take(a.top) {
            println!(
                "  {:>6} samples  {:5.1}%  ~{:.3} allocs/msg  avg {} B",
                c.samples,
                100.0 * c.samples as f64 / *samples as f64,
                c.samples as f64 * per_msg,
                c.bytes / c.samples.max(1)
            );
            println!("      alloc: {}", frame_text(&c.allocator));
            for f in &c.frames {
                println!("      {}", frame_text(f));
            }
        }
        if sites.len() > a.top {
            println!("  ({} more sites)", sites.len() - a.top);
        }
    }
}

fn main() -> anyhow::Result<()> {
    cuttle_perf::init_tracing();
    let a = Args::parse();
    anyhow::ensure!(
        alloc_count::is_installed(),
        "the counting allocator is not installed"
    );
    anyhow::ensure!(
        a.warmup > 0 && a.messages > 0,
        "warmup and messages must be positive"
    );
    anyhow::ensure!(a.depth >= 2, "depth must be at least 2");
    anyhow::ensure!(
        !a.size.is_empty() && a.size.iter().all(|&s| s > 0),
        "sizes must be positive"
    );
    let sample_period = match std::env::var("PERF_ALLOC_BACKTRACE") {
        Ok(v) if !v.is_empty() && v != "0" => v
            .parse::<u64>()
            .context("PERF_ALLOC_BACKTRACE must be a sampling period (1: every allocation)")?,
        _ => 0,
    };
    let drivers = match a.driver {
        Driver::Epoll => vec![DriverKind::Epoll],
        Driver::IoUring => vec![DriverKind::IoUring],
        Driver::All => DriverKind::ALL.to_vec(),
    };
    for &driver in &drivers {
        for &size in &a.size {
            let o = run(&a, driver, size, sample_period)
                .with_context(|| format!("{driver} size {size}"))?;
            if a.json {
                println!("{}", o.to_json(&a));
            } else {
                o.print_text(&a);
            }
        }
    }
    Ok(())
}
