//! Echo workloads: a server that returns every byte, and a client that keeps `depth`
//! messages of `size` bytes in flight per connection, timing each round trip.
//! Runs on cuttle's NetworkStack (either driver) or as a blocking `std::net` baseline.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use msgr::{
    CloseReason, DriverConfig, DriverKind, EventCenter, NetworkStack, SocketHandler, SocketId,
    StackConfig,
};

use crate::stats::{Percentiles, Report};

/// What to run.
#[derive(Clone, Debug)]
pub struct EchoParams {
    /// Message size in bytes.
    pub size: usize,
    /// Messages in flight per connection (1 = ping-pong).
    pub depth: usize,
    /// Connections.
    pub conns: usize,
    /// Measured window.
    pub secs: f64,
    /// Unmeasured warm-up before the window.
    pub warmup: f64,
    /// Server worker threads.
    pub server_workers: usize,
    /// Client worker threads.
    pub client_workers: usize,
    /// CPUs for server workers (empty: unpinned).
    pub server_cpus: Vec<usize>,
    /// CPUs for client workers (empty: unpinned).
    pub client_cpus: Vec<usize>,
}

/// Per-connection results, merged at the end.
#[derive(Default)]
struct Tally {
    messages: u64,
    bytes: u64,
    lat_ns: Vec<u64>,
}

/// Shared by every client connection of a run.
struct Run {
    params: EchoParams,
    start: Instant,
    end: Instant,
    tally: Mutex<Tally>,
    finished: AtomicUsize,
    failed: AtomicBool,
}

impl Run {
    fn new(params: EchoParams) -> Arc<Run> {
        let start = Instant::now() + Duration::from_secs_f64(params.warmup);
        let end = start + Duration::from_secs_f64(params.secs);
        Arc::new(Run {
            params,
            start,
            end,
            tally: Mutex::default(),
            finished: AtomicUsize::new(0),
            failed: AtomicBool::new(false),
        })
    }

    fn merge(&self, t: Tally) {
        let mut all = self.tally.lock().unwrap();
        all.messages += t.messages;
        all.bytes += t.bytes;
        all.lat_ns.extend(t.lat_ns);
        drop(all);
        self.finished.fetch_add(1, Ordering::Release);
    }

    /// Records one round trip that completed at `now`.
    fn record(&self, t: &mut Tally, sent: Instant, now: Instant) {
        if now >= self.start && now <= self.end {
            t.messages += 1;
            t.bytes += self.params.size as u64;
            if sent >= self.start {
                t.lat_ns.push(now.duration_since(sent).as_nanos() as u64);
            }
        }
    }

    /// Waits for every connection to report, then builds the report.
    fn wait_report(&self, label: serde_json::Value) -> anyhow::Result<Report> {
        let limit = self.end + Duration::from_secs(30);
        while self.finished.load(Ordering::Acquire) < self.params.conns {
            if self.failed.load(Ordering::Relaxed) {
                anyhow::bail!("a connection failed; see the log");
            }
            anyhow::ensure!(Instant::now() < limit, "connections did not finish in time");
            thread::sleep(Duration::from_millis(5)); // polling a tool's progress, not a test
        }
        let mut t = std::mem::take(&mut *self.tally.lock().unwrap());
        Ok(Report {
            params: label,
            window: self.end - self.start,
            messages: t.messages,
            bytes: t.bytes,
            latency: Percentiles::from_nanos(&mut t.lat_ns),
        })
    }
}

/// Server side: returns what it receives.
pub struct EchoHandler;

impl SocketHandler for EchoHandler {
    fn on_data(&mut self, center: &mut EventCenter, sock: SocketId, data: &[u8]) {
        let _ = center.send(sock, Bytes::copy_from_slice(data));
    }
}

/// Client side of one connection.
struct EchoClient {
    run: Arc<Run>,
    msg: Bytes,
    sent_at: VecDeque<Instant>,
    partial: usize,
    tally: Tally,
    done: bool,
}

impl EchoClient {
    fn finish(&mut self, center: &mut EventCenter, sock: SocketId) {
        if !self.done {
            self.done = true;
            self.run.merge(std::mem::take(&mut self.tally));
            center.close(sock);
        }
    }
}

impl SocketHandler for EchoClient {
    fn on_connected(&mut self, center: &mut EventCenter, sock: SocketId) {
        let now = Instant::now();
        for _ in 0..self.run.params.depth {
            let _ = center.send(sock, self.msg.clone());
            self.sent_at.push_back(now);
        }
    }

    fn on_data(&mut self, center: &mut EventCenter, sock: SocketId, data: &[u8]) {
        let size = self.run.params.size;
        self.partial += data.len();
        let now = Instant::now();
        while self.partial >= size {
            self.partial -= size;
            let Some(sent) = self.sent_at.pop_front() else {
                break;
            };
            self.run.record(&mut self.tally, sent, now);
            if now < self.run.end {
                let _ = center.send(sock, self.msg.clone());
                self.sent_at.push_back(now);
            }
        }
        if now >= self.run.end && self.sent_at.is_empty() {
            self.finish(center, sock);
        }
    }

    fn on_closed(&mut self, _center: &mut EventCenter, sock: SocketId, reason: CloseReason) {
        if !self.done {
            eprintln!("client connection {sock:?} closed early: {reason:?}");
            self.run.failed.store(true, Ordering::Relaxed);
        }
    }
}

/// Runs the echo workload on cuttle: a server NetworkStack and a client NetworkStack.
pub fn run_cuttle(driver: DriverKind, p: &EchoParams) -> anyhow::Result<Report> {
    let dcfg = DriverConfig::with_kind(driver);
    let mut server = NetworkStack::start(&StackConfig {
        workers: p.server_workers,
        driver: dcfg.clone(),
        cpus: p.server_cpus.clone(),
    })?;
    let mut client = NetworkStack::start(&StackConfig {
        workers: p.client_workers,
        driver: dcfg,
        cpus: p.client_cpus.clone(),
    })?;
    let actual = server.workers()[0].driver();
    anyhow::ensure!(
        actual == driver,
        "asked for {driver} but the kernel gave {actual}"
    );
    let listener = msgr::bind_listener("127.0.0.1".parse()?, 0..=0)?;
    let (_, addr) = server.listen(listener, |_| Box::new(EchoHandler))?;
    let run = Run::new(p.clone());
    let msg = Bytes::from(vec![0x5a; p.size]);
    for _ in 0..p.conns {
        let (run, msg) = (run.clone(), msg.clone());
        client.connect(addr, move || {
            Box::new(EchoClient {
                run,
                msg,
                sent_at: VecDeque::new(),
                partial: 0,
                tally: Tally::default(),
                done: false,
            })
        });
    }
    let report = run.wait_report(label(driver.as_str(), p));
    client.stop()?;
    server.stop()?;
    report
}

/// The blocking `std::net` baseline: a thread per server connection and per client connection.
pub fn run_std(p: &EchoParams) -> anyhow::Result<Report> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let conns = p.conns;
    let server = thread::spawn(move || -> std::io::Result<()> {
        let mut threads = Vec::new();
        for _ in 0..conns {
            let (mut s, _) = listener.accept()?;
            s.set_nodelay(true)?;
            threads.push(thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            }));
        }
        for t in threads {
            let _ = t.join();
        }
        Ok(())
    });
    let run = Run::new(p.clone());
    let clients: Vec<_> = (0..p.conns)
        .map(|_| std_client(addr, run.clone()))
        .collect();
    let report = run.wait_report(label("std", p));
    for c in clients {
        let _ = c.join();
    }
    let _ = server.join();
    report
}

fn std_client(addr: SocketAddr, run: Arc<Run>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let go = || -> std::io::Result<Tally> {
            let mut s = TcpStream::connect(addr)?;
            s.set_nodelay(true)?;
            let p = &run.params;
            let msg = vec![0x5au8; p.size];
            let mut buf = vec![0u8; 64 * 1024];
            let mut sent_at = VecDeque::new();
            let mut tally = Tally::default();
            let mut partial = 0;
            let now = Instant::now();
            for _ in 0..p.depth {
                s.write_all(&msg)?;
                sent_at.push_back(now);
            }
            while !sent_at.is_empty() {
                let n = s.read(&mut buf)?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                partial += n;
                let now = Instant::now();
                while partial >= p.size {
                    partial -= p.size;
                    let Some(sent) = sent_at.pop_front() else {
                        break;
                    };
                    run.record(&mut tally, sent, now);
                    if now < run.end {
                        s.write_all(&msg)?;
                        sent_at.push_back(now);
                    }
                }
            }
            Ok(tally)
        };
        match go() {
            Ok(t) => run.merge(t),
            Err(e) => {
                eprintln!("std client failed: {e}");
                run.failed.store(true, Ordering::Relaxed);
            }
        }
    })
}

fn label(driver: &str, p: &EchoParams) -> serde_json::Value {
    serde_json::json!({
        "driver": driver, "size": p.size, "depth": p.depth, "conns": p.conns,
        "server_workers": p.server_workers, "client_workers": p.client_workers,
        "server_cpus": p.server_cpus, "client_cpus": p.client_cpus,
    })
}
