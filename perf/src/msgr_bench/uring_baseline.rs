//! The `tokio_uring` baseline: the length-prefixed load on tokio-uring's current-thread
//! runtimes and owned-buffer `TcpStream` (see [`baseline`](super::baseline) for the threads).
//! Buffers move into each read or write and come back with its result, so the echo is
//! written straight from the buffer it was read into, as the std and tokio baselines do.

use std::io;
use std::net::SocketAddr;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_uring::buf::BoundedBuf;
use tokio_uring::net::TcpStream;

use super::baseline::{Acceptor, Baseline, join, share};
use super::frame::{ClientLoad, FrameReader, Requests, fixed_replies};
use super::measure::{CpuProbe, Measured};
use super::params::{LoadParams, Reply, Tally, Window};
use super::report::params_json;
use super::tokio_baseline::{Credits, client_deadline};

/// A tokio-uring runtime on this thread whose rings fit `conns` connections: about two ops
/// in flight per connection (a read and a write), within 256..=4096 entries (256 is
/// `tokio_uring::start`'s default).
fn runtime(conns: usize) -> io::Result<tokio_uring::Runtime> {
    let entries = (2 * conns).next_power_of_two().clamp(256, 4096) as u32;
    let mut b = tokio_uring::builder();
    b.entries(entries);
    tokio_uring::Runtime::new(&b)
}

/// One owned-buffer read into `r`; `Ok(false)` at EOF.
async fn read(s: &TcpStream, r: &mut FrameReader) -> io::Result<bool> {
    let range = r.prepare();
    let (res, slice) = s.read(r.take_buf().slice(range)).await;
    r.restore(slice.into_inner());
    r.commit(res?)
}

/// One server connection: read, then answer the complete frames with one `write_all`.
async fn serve(s: TcpStream, reply: Reply) -> io::Result<()> {
    let mut r = FrameReader::new();
    let mut out = Vec::new();
    while read(&s, &mut r).await? {
        match reply {
            Reply::Echo => {
                let done = r.complete().len();
                if done > 0 {
                    let (res, slice) = s.write_all(r.take_buf().slice(..done)).await;
                    r.restore(slice.into_inner());
                    res?;
                }
            }
            Reply::Fixed(n) => {
                fixed_replies(&mut out, &r, n);
                if !out.is_empty() {
                    let (res, buf) = s.write_all(out).await;
                    out = buf;
                    res?;
                }
            }
        }
    }
    Ok(())
}

/// One server thread: serves the connections the acceptor sends it until it stops sending.
fn server_thread(
    mut rx: mpsc::UnboundedReceiver<std::net::TcpStream>,
    conns: usize,
    reply: Reply,
) -> io::Result<()> {
    runtime(conns)?.block_on(async move {
        let mut tasks = Vec::new();
        while let Some(s) = rx.recv().await {
            tasks.push(tokio_uring::spawn(serve(TcpStream::from_std(s), reply)));
        }
        for t in tasks {
            // A client that failed makes its server connection fail too: reported there.
            let _ = t.await;
        }
    });
    Ok(())
}

/// One client connection: a writer and a reader future joined in one task, sharing the
/// stream (tokio-uring's reads and writes take `&self`).
async fn client(addr: SocketAddr, p: LoadParams, window: Window) -> io::Result<Tally> {
    let s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let credits = Credits::new(p.depth);
    let mut load = ClientLoad::new(&p, window);
    let writer = async {
        let mut requests = Requests::new(p.size);
        let mut out = Vec::new();
        while let Some(mut c) = credits.take().await {
            while c > 0 {
                c -= requests.fill(&mut out, c, &window);
                let (res, buf) = s.write_all(out).await;
                out = buf;
                res?;
            }
        }
        Ok::<_, io::Error>(())
    };
    let reader = async {
        let mut r = FrameReader::new();
        loop {
            if !read(&s, &mut r).await? {
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

/// One client thread: `conns` connections, each a task on this thread's runtime.
fn client_thread(
    addr: SocketAddr,
    p: LoadParams,
    conns: usize,
    window: Window,
) -> io::Result<Tally> {
    runtime(conns)?.block_on(async move {
        let tasks: Vec<_> = (0..conns)
            .map(|_| tokio_uring::spawn(client(addr, p.clone(), window)))
            .collect();
        let mut all = Tally::default();
        for t in tasks {
            all.merge(
                t.await
                    .map_err(|e| io::Error::other(format!("client task: {e}")))??,
            );
        }
        Ok(all)
    })
}

/// The tokio-uring baseline: `server_workers` server threads and `p.threads` client threads,
/// each running its own tokio-uring runtime, connections dealt round-robin; a task per
/// connection on each side.
pub fn run_tokio_uring(
    p: &LoadParams,
    server_workers: usize,
    reply: Reply,
) -> anyhow::Result<Measured> {
    p.validate()?;
    anyhow::ensure!(server_workers > 0, "the server needs a worker");
    let mut senders = Vec::new();
    let mut servers = Vec::new();
    for i in 0..server_workers {
        let (tx, rx) = mpsc::unbounded_channel();
        let conns = share(p.conns, server_workers, i);
        senders.push(tx);
        servers.push(
            thread::Builder::new()
                .name(format!("uring-server-{i}"))
                .spawn(move || server_thread(rx, conns, reply))?,
        );
    }
    let mut next = 0;
    let acceptor = Acceptor::start(p.conns, (), move |(), s| {
        let to = &senders[next % senders.len()];
        next += 1;
        to.send(s)
            .map_err(|_| io::Error::other("tokio-uring server thread is gone"))
    })?;
    let window = Window::new(p);
    let cpu = CpuProbe::start(window);
    let clients: Vec<JoinHandle<io::Result<Tally>>> = (0..p.threads)
        .map(|i| {
            let (addr, p2, conns) = (acceptor.addr(), p.clone(), share(p.conns, p.threads, i));
            thread::Builder::new()
                .name(format!("uring-client-{i}"))
                .spawn(move || client_thread(addr, p2, conns, window))
        })
        .collect::<io::Result<_>>()?;
    let mut all = Tally::default();
    let mut failure = None;
    for c in clients {
        match join(c, "tokio-uring client") {
            Ok(t) => all.merge(t),
            Err(e) => failure = Some(e),
        }
    }
    acceptor.finish()?;
    for s in servers {
        join(s, "tokio-uring server")?;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let label = params_json(Baseline::TokioUring.as_str(), p, server_workers, reply);
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
    fn tokio_uring_round_trips_on_one_and_two_threads() {
        for threads in [1, 2] {
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
                let m = run_tokio_uring(&p, threads, reply).unwrap();
                let r = &m.report;
                assert!(r.messages > 0, "{reply:?} threads {threads}");
                assert_eq!(r.bytes, r.messages * 100);
                assert_eq!(m.transport(), "tokio_uring");
            }
        }
    }
}
