//! cuttle's side of the comparison: a minimal mon-like responder, and the child process
//! `perf-mon --serve` runs it in.
//!
//! The responder is a [`Messenger`] named `mon.a` that answers every [`MMonGetVersion`] from
//! its worker thread (fast dispatch) with an [`MMonGetVersionReply`] carrying the request's
//! handle and tid, a fixed epoch and `oldest_version` 1 (msgr2.md §6.6.7). It keeps no maps
//! and no sessions: it is the floor a mon built on cuttle could reach, to set against the
//! real `ceph-mon` answering the same request.
//!
//! It runs in a process of its own so that its CPU time is read from `/proc/<pid>/stat`
//! exactly as `ceph-mon`'s is.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use msgr::DriverKind;
use msgr::messages::{MMonGetVersion, MMonGetVersionReply, Message};
use msgr::messenger::{Connection, Dispatcher, Incoming, Messenger};
use msgr::protocol::Policy;
use msgr::wire::{EntityAddrvec, EntityName, EntityType, Features};

use super::messenger_config;

/// The epoch the responder reports for every map.
pub const RESPONDER_EPOCH: u64 = 1;

/// What the child prints once it listens, followed by its address.
const READY: &str = "perf-mon responder ready on ";

/// How long the parent waits for the child's ready line, and for it to exit.
const CHILD_DEADLINE: Duration = Duration::from_secs(10);

struct Answer {
    served: Arc<AtomicU64>,
}

impl Dispatcher for Answer {
    fn ms_can_fast_dispatch(&self, msg: &Incoming) -> bool {
        matches!(msg.message, Message::MonGetVersion(_))
    }

    fn ms_fast_dispatch(&self, conn: &Connection, msg: Incoming) {
        let Message::MonGetVersion(MMonGetVersion { handle, .. }) = msg.message else {
            return;
        };
        let reply = MMonGetVersionReply {
            handle,
            version: RESPONDER_EPOCH,
            oldest_version: 1,
        };
        conn.send(&reply, msg.header.tid);
        self.served.fetch_add(1, Ordering::Relaxed);
    }

    fn ms_dispatch(&self, _conn: &Connection, _msg: Incoming) -> Option<Incoming> {
        None // a mon-like peer ignores what it does not serve
    }
}

/// A mon-like messenger answering [`MMonGetVersion`] in its workers.
pub struct MonResponder {
    msgr: Messenger,
    served: Arc<AtomicU64>,
}

impl MonResponder {
    /// Binds `bind` (port 0: any free port) and starts answering, with `workers` worker
    /// threads on `driver`.
    pub fn start(
        bind: SocketAddr,
        driver: DriverKind,
        workers: usize,
    ) -> anyhow::Result<MonResponder> {
        anyhow::ensure!(workers > 0, "the responder needs a worker");
        super::check_driver(driver)?;
        let mut config = messenger_config(driver, workers);
        config.gid = 0; // a mon's rank
        let msgr = Messenger::new(
            EntityName::new(EntityType::MON, "a"),
            std::process::id(),
            config,
        );
        // What ceph-mon sets for its clients: lossy, and the client must reconnect.
        msgr.set_default_policy(Policy::stateless_server(Features::from_bits(0)));
        let served = Arc::new(AtomicU64::new(0));
        msgr.add_dispatcher_tail(Arc::new(Answer {
            served: served.clone(),
        }));
        msgr.bind(bind)?;
        msgr.start()?;
        Ok(MonResponder { msgr, served })
    }

    /// The address clients dial (`v2:ip:port/nonce`).
    pub fn addrs(&self) -> EntityAddrvec {
        self.msgr.my_addrs()
    }

    /// Requests answered so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Closes every connection and joins the threads.
    pub fn shutdown(&self) -> anyhow::Result<()> {
        self.msgr.shutdown()?;
        Ok(())
    }
}

/// The body of `perf-mon --serve`: starts a responder, prints the ready line with its
/// address on stdout, and serves until stdin reaches end of file (the parent closed it or
/// died), then prints what it served.
pub fn serve_until_stdin_closes(
    bind: SocketAddr,
    driver: DriverKind,
    workers: usize,
) -> anyhow::Result<()> {
    let r = MonResponder::start(bind, driver, workers)?;
    let mut out = std::io::stdout();
    writeln!(out, "{READY}{} ({driver}, {workers} worker(s))", r.addrs())?;
    out.flush()?;
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    let served = r.served();
    r.shutdown()?;
    println!("served {served} requests");
    Ok(())
}

/// A `perf-mon --serve` child: started by [`ResponderProcess::spawn`], stopped on drop.
pub struct ResponderProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    /// The responder's address, from its ready line.
    pub addrs: EntityAddrvec,
}

impl ResponderProcess {
    /// Runs this executable with `--serve 127.0.0.1:0` and waits for its ready line.
    pub fn spawn(driver: DriverKind, workers: usize) -> anyhow::Result<ResponderProcess> {
        let exe = std::env::current_exe().context("locate perf-mon")?;
        let mut child = Command::new(exe)
            .args(["--serve", "127.0.0.1:0", "--driver", driver.as_str()])
            .args(["--server-workers", &workers.to_string()])
            .args(["--busy-poll-us", &super::busy_poll_us().to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("spawn perf-mon --serve")?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("child stdout")?;
        // From here on, dropping `proc` stops the child.
        let mut proc = ResponderProcess {
            child,
            stdin,
            addrs: EntityAddrvec::default(),
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first);
            // Keep draining so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match rx.recv_timeout(CHILD_DEADLINE) {
            Ok(Some(Ok(l))) => l,
            Ok(_) => anyhow::bail!("perf-mon --serve exited before it was ready"),
            Err(_) => anyhow::bail!("perf-mon --serve not ready within {CHILD_DEADLINE:?}"),
        };
        let addr = line
            .strip_prefix(READY)
            .and_then(|rest| rest.split_whitespace().next())
            .with_context(|| format!("unexpected ready line {line:?}"))?;
        proc.addrs = addr
            .parse()
            .map_err(|e| anyhow::anyhow!("bad responder address {addr:?}: {e:?}"))?;
        Ok(proc)
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ResponderProcess {
    fn drop(&mut self) {
        drop(self.stdin.take()); // end of file: the child shuts down
        let deadline = Instant::now() + CHILD_DEADLINE;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(10)), // waiting for a process
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
