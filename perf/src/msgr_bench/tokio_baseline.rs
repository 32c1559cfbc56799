//! The `tokio` baseline: the length-prefixed load on tokio's runtime and `TcpStream`, as a
//! Rust user would write it by hand (see [`baseline`](super::baseline) for the threads).

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};

use super::DRAIN_TIMEOUT;
use super::baseline::{Acceptor, Baseline, join};
use super::frame::{ClientLoad, FrameReader, Requests, answer};
use super::measure::{CpuProbe, Measured};
use super::params::{LoadParams, Reply, Tally, Window};
use super::report::params_json;

/// Requests a client connection's reader allows its writer to send: the async counterpart of
/// the raw baseline's atomic counter and `park`/`unpark`.
pub(super) struct Credits {
    count: AtomicUsize,
    stop: AtomicBool,
    notify: Notify,
}

impl Credits {
    /// `depth` credits to start with.
    pub(super) fn new(depth: usize) -> Credits {
        Credits {
            count: AtomicUsize::new(depth),
            stop: AtomicBool::new(false),
            notify: Notify::new(),
        }
    }

    /// Allows `n` more requests.
    pub(super) fn grant(&self, n: usize) {
        if n > 0 {
            self.count.fetch_add(n, Ordering::AcqRel);
            self.notify.notify_one();
        }
    }

    /// Tells the writer to finish once it has used its credits.
    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// Waits for credits and takes them all; `None` once stopped with none left.
    pub(super) async fn take(&self) -> Option<usize> {
        loop {
            let c = self.count.swap(0, Ordering::AcqRel);
            if c > 0 {
                return Some(c);
            }
            if self.stop.load(Ordering::Acquire) {
                return None;
            }
            // `notify_one` leaves a permit when nobody waits, so no grant is missed.
            self.notify.notified().await;
        }
    }
}

/// The deadline of a whole client connection: the window's end plus time to drain.
pub(super) fn client_deadline(window: &Window) -> tokio::time::Instant {
    tokio::time::Instant::from_std(window.end + DRAIN_TIMEOUT)
}

/// A runtime with `threads` threads: current-thread for one, multi-thread otherwise.
fn runtime(threads: usize, name: &str) -> io::Result<tokio::runtime::Runtime> {
    let mut b = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    b.thread_name(name).enable_io().enable_time().build()
}

/// One server connection: read, then answer the complete frames with one `write_all`.
async fn serve(mut s: TcpStream, reply: Reply) -> io::Result<()> {
    let mut r = FrameReader::new();
    let mut out = Vec::new();
    loop {
        let n = s.read(r.spare()).await?;
        if !r.commit(n)? {
            return Ok(());
        }
        let bytes = answer(reply, &r, &mut out).unwrap_or(r.complete());
        if !bytes.is_empty() {
            s.write_all(bytes).await?;
        }
    }
}

/// One client connection: a writer and a reader future joined in one task.
async fn client(addr: SocketAddr, p: LoadParams, window: Window) -> io::Result<Tally> {
    let s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let (mut rd, mut wr) = s.into_split();
    let credits = Credits::new(p.depth);
    let mut load = ClientLoad::new(&p, window);
    let writer = async {
        let mut requests = Requests::new(p.size);
        let mut out = Vec::new();
        while let Some(mut c) = credits.take().await {
            while c > 0 {
                c -= requests.fill(&mut out, c, &window);
                wr.write_all(&out).await?;
            }
        }
        Ok::<_, io::Error>(())
    };
    let reader = async {
        let mut r = FrameReader::new();
        loop {
            let n = rd.read(r.spare()).await?;
            if !r.commit(n)? {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
            }
            let now = Instant::now();
            credits.grant(load.on_replies(&r, now));
            if load.finished(now) {
                credits.stop();
                return Ok(());
            }
        }
    };
    tokio::time::timeout_at(client_deadline(&window), async {
        tokio::try_join!(writer, reader)
    })
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "replies did not drain"))??;
    Ok(load.into_tally())
}

/// The tokio baseline: a server runtime of `server_workers` threads on a thread of its own
/// and a client runtime of `p.threads` threads driven from this one, each current-thread
/// when it has one thread and multi-thread otherwise; a task per connection on each side.
pub fn run_tokio(p: &LoadParams, server_workers: usize, reply: Reply) -> anyhow::Result<Measured> {
    p.validate()?;
    anyhow::ensure!(server_workers > 0, "the server needs a worker");
    let server_rt = runtime(server_workers, "tokio-server")?;
    let (tx, mut rx) = mpsc::unbounded_channel::<std::net::TcpStream>();
    let acceptor = Acceptor::start(p.conns, (), move |(), s| {
        tx.send(s)
            .map_err(|_| io::Error::other("tokio server is gone"))
    })?;
    let server = thread::Builder::new()
        .name("tokio-server".into())
        .spawn(move || {
            server_rt.block_on(async move {
                let mut conns = Vec::new();
                while let Some(s) = rx.recv().await {
                    s.set_nonblocking(true)?;
                    conns.push(tokio::spawn(serve(TcpStream::from_std(s)?, reply)));
                }
                for c in conns {
                    // A client that failed makes its server connection fail too: reported there.
                    let _ = c.await;
                }
                Ok::<_, io::Error>(())
            })
        })?;
    let window = Window::new(p);
    let cpu = CpuProbe::start(window);
    let client_rt = runtime(p.threads, "tokio-client")?;
    let addr = acceptor.addr();
    let clients = client_rt.block_on(async {
        let tasks: Vec<_> = (0..p.conns)
            .map(|_| tokio::spawn(client(addr, p.clone(), window)))
            .collect();
        let mut all = Tally::default();
        for t in tasks {
            all.merge(
                t.await
                    .map_err(|e| io::Error::other(format!("client task: {e}")))??,
            );
        }
        Ok::<_, io::Error>(all)
    });
    drop(client_rt); // closes every client socket left after a failure
    acceptor.finish()?;
    let served = join(server, "tokio server");
    let all = clients.map_err(|e| anyhow::Error::from(e).context("tokio client failed"))?;
    served?;
    let label = params_json(Baseline::Tokio.as_str(), p, server_workers, reply);
    Ok(Measured {
        report: all.into_report(label, &window),
        cpu_s: cpu.finish(),
        server_rx: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokio_round_trips_on_both_runtime_flavours() {
        for (threads, workers) in [(1, 1), (2, 2)] {
            let p = LoadParams {
                size: 100,
                depth: 4,
                conns: 3,
                threads,
                secs: 0.2,
                warmup: 0.05,
                recv_buf_size: None,
            };
            for reply in [Reply::Echo, Reply::Fixed(10)] {
                let m = run_tokio(&p, workers, reply).unwrap();
                let r = &m.report;
                assert!(r.messages > 0, "{reply:?} threads {threads}");
                assert_eq!(r.bytes, r.messages * 100);
                assert_eq!(m.transport(), "tokio");
            }
        }
    }
}
