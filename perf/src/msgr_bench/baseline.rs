//! The hand-written baselines every cuttle figure is compared with: the same length-prefixed
//! request/reply load (see [`frame`](super::frame)) without msgr2, written the way a Rust user
//! would write it with each of three toolkits.
//!
//! | baseline | server | client |
//! |----------|--------|--------|
//! | `raw_tcp` | blocking `std::net`: a thread per connection (read, then one `write_all`) | a reader and a writer thread per connection |
//! | `tokio` | a runtime with `server_workers` threads, a task per connection | a runtime with `threads` threads, a task per connection joining a reader and a writer future |
//! | `tokio_uring` | `server_workers` threads, each a `tokio_uring` runtime with a task per connection | `threads` threads, each a `tokio_uring` runtime with a task per connection |
//!
//! So each tokio baseline uses as many event-loop threads per side as cuttle's server and
//! client messengers (one each by default). A side with one thread runs tokio's
//! current-thread runtime (what `#[tokio::main(flavor = "current_thread")]` builds, and the
//! closest thing to one cuttle worker); more threads run the multi-thread runtime with that
//! many workers (what `#[tokio::main]` builds). tokio-uring only has current-thread
//! runtimes, so its sides are that many threads, connections dealt round-robin, like cuttle
//! places connections on workers. In every baseline a plain acceptor thread hands the
//! accepted sockets to the server's threads: accepting is not measured.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

use super::measure::Measured;
use super::params::{LoadParams, Reply};

/// At most this many connections for `raw_tcp`: it runs three threads per connection, so
/// beyond this it measures the kernel's scheduler rather than a way to serve sockets.
pub const RAW_TCP_MAX_CONNS: usize = 256;

/// A hand-written baseline transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// Blocking `std::net`, threads per connection ([`run_raw_tcp`](super::run_raw_tcp)).
    RawTcp,
    /// tokio's runtime and `TcpStream` ([`run_tokio`](super::run_tokio)).
    Tokio,
    /// tokio-uring's runtime and owned-buffer `TcpStream` ([`run_tokio_uring`](super::run_tokio_uring)).
    TokioUring,
}

impl Baseline {
    /// Every baseline, in the order perf-msgr runs them.
    pub const ALL: [Baseline; 3] = [Baseline::RawTcp, Baseline::Tokio, Baseline::TokioUring];

    /// The transport name in reports: `raw_tcp`, `tokio`, `tokio_uring`.
    pub fn as_str(self) -> &'static str {
        match self {
            Baseline::RawTcp => "raw_tcp",
            Baseline::Tokio => "tokio",
            Baseline::TokioUring => "tokio_uring",
        }
    }

    /// Why this baseline does not run load `p`, if it does not.
    pub fn unsupported(self, p: &LoadParams) -> Option<String> {
        (self == Baseline::RawTcp && p.conns > RAW_TCP_MAX_CONNS).then(|| {
            format!(
                "raw_tcp skipped: {} connections would take {} threads (3 per connection; \
                 at most {RAW_TCP_MAX_CONNS} connections); compare with tokio instead",
                p.conns,
                3 * p.conns
            )
        })
    }

    /// Runs the baseline's server and client in this process.
    pub fn run(
        self,
        p: &LoadParams,
        server_workers: usize,
        reply: Reply,
    ) -> anyhow::Result<Measured> {
        if let Some(why) = self.unsupported(p) {
            anyhow::bail!(why);
        }
        match self {
            Baseline::RawTcp => super::run_raw_tcp(p, server_workers, reply),
            Baseline::Tokio => super::run_tokio(p, server_workers, reply),
            Baseline::TokioUring => super::run_tokio_uring(p, server_workers, reply),
        }
    }
}

impl std::fmt::Display for Baseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Accepts a run's connections on a thread of its own: binds 127.0.0.1 on a free port,
/// accepts up to `conns` connections, sets `TCP_NODELAY` on each and hands it to `sink`
/// with the state `S`, which [`finish`](Self::finish) returns.
pub(super) struct Acceptor<S> {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<io::Result<S>>,
}

impl<S: Send + 'static> Acceptor<S> {
    pub(super) fn start(
        conns: usize,
        mut state: S,
        mut sink: impl FnMut(&mut S, TcpStream) -> io::Result<()> + Send + 'static,
    ) -> io::Result<Acceptor<S>> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = thread::Builder::new()
            .name("baseline-accept".into())
            .spawn(move || {
                for _ in 0..conns {
                    let (s, _) = listener.accept()?;
                    if stopped.load(Ordering::Acquire) {
                        break;
                    }
                    s.set_nodelay(true)?;
                    sink(&mut state, s)?;
                }
                Ok(state)
            })?;
        Ok(Acceptor { addr, stop, thread })
    }

    /// The address clients dial.
    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for the acceptor thread, first waking it if some client never connected, and
    /// returns its state (dropping `sink`).
    pub(super) fn finish(self) -> io::Result<S> {
        self.stop.store(true, Ordering::Release);
        if !self.thread.is_finished() {
            let _ = TcpStream::connect(self.addr);
        }
        self.thread
            .join()
            .map_err(|_| io::Error::other("acceptor thread panicked"))?
    }
}

/// How many of `conns` connections thread `i` of `threads` gets (dealt round-robin).
pub(super) fn share(conns: usize, threads: usize, i: usize) -> usize {
    conns / threads + usize::from(i < conns % threads)
}

/// Joins a thread that returns an `io::Result`, naming it in the error.
pub(super) fn join<T>(t: JoinHandle<io::Result<T>>, what: &str) -> anyhow::Result<T> {
    match t.join() {
        Ok(r) => Ok(r.map_err(|e| anyhow::Error::from(e).context(format!("{what} failed")))?),
        Err(_) => anyhow::bail!("{what} panicked"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_dealt_evenly() {
        for (conns, threads) in [(1, 1), (5, 2), (1000, 3), (2, 4)] {
            let shares: Vec<_> = (0..threads).map(|i| share(conns, threads, i)).collect();
            assert_eq!(shares.iter().sum::<usize>(), conns);
            assert!(shares.iter().max().unwrap() - shares.iter().min().unwrap() <= 1);
        }
    }

    #[test]
    fn raw_tcp_refuses_many_connections_with_a_reason() {
        let mut p = LoadParams {
            size: 64,
            depth: 1,
            conns: RAW_TCP_MAX_CONNS,
            threads: 1,
            secs: 1.0,
            warmup: 0.0,
            recv_buf_size: None,
        };
        assert!(Baseline::RawTcp.unsupported(&p).is_none());
        p.conns += 1;
        assert!(
            Baseline::RawTcp
                .unsupported(&p)
                .unwrap()
                .contains("raw_tcp skipped")
        );
        assert!(Baseline::Tokio.unsupported(&p).is_none());
    }

    #[test]
    fn an_acceptor_whose_client_never_came_finishes() {
        let a = Acceptor::start(2, 0usize, |n, _| {
            *n += 1;
            Ok(())
        })
        .unwrap();
        let _c = TcpStream::connect(a.addr()).unwrap();
        // The one client may or may not be accepted before `finish` says stop.
        assert!(a.finish().unwrap() <= 1);
    }
}
