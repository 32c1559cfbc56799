//! The `raw_tcp` baseline: blocking `std::net` sockets with `TCP_NODELAY`, a thread per
//! server connection, a reader and a writer thread per client connection.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use super::DRAIN_TIMEOUT;
use super::baseline::{Acceptor, Baseline, join};
use super::frame::{ClientLoad, FrameReader, Requests, answer};
use super::measure::{CpuProbe, Measured};
use super::params::{LoadParams, Reply, Tally, Window};
use super::report::params_json;

/// One server connection: answers every frame; the frames of one read are answered with
/// one `write`.
fn raw_serve(mut s: TcpStream, reply: Reply) -> io::Result<()> {
    let mut r = FrameReader::new();
    let mut out = Vec::new();
    loop {
        let n = s.read(r.spare())?;
        if !r.commit(n)? {
            return Ok(());
        }
        let bytes = answer(reply, &r, &mut out).unwrap_or(r.complete());
        if !bytes.is_empty() {
            s.write_all(bytes)?;
        }
    }
}

/// Sends a frame per credit the reader grants, until told to stop.
fn raw_writer(
    mut w: TcpStream,
    credits: &AtomicUsize,
    stop: &AtomicBool,
    window: Window,
    size: usize,
) -> io::Result<()> {
    let mut requests = Requests::new(size);
    let mut out = Vec::new();
    loop {
        let mut c = credits.swap(0, Ordering::AcqRel);
        if c == 0 {
            if stop.load(Ordering::Acquire) {
                return Ok(());
            }
            thread::park(); // the reader unparks on the 0 -> 1 transition, and to stop
            continue;
        }
        while c > 0 {
            c -= requests.fill(&mut out, c, &window);
            w.write_all(&out)?;
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
    let mut load = ClientLoad::new(p, window);
    let mut r = FrameReader::new();
    let result = loop {
        match s.read(r.spare()).and_then(|n| r.commit(n)) {
            Ok(true) => {}
            Ok(false) => break Err(io::ErrorKind::UnexpectedEof.into()),
            Err(e) => break Err(e),
        }
        let now = Instant::now();
        let grant = load.on_replies(&r, now);
        if grant > 0 && credits.fetch_add(grant, Ordering::AcqRel) == 0 {
            writer.thread().unpark();
        }
        if load.finished(now) {
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
    result.and(written).map(|()| load.into_tally())
}

/// The raw TCP baseline: a thread per server connection, a reader and a writer thread per
/// client connection, blocking `std::net` sockets with `TCP_NODELAY`. Refuses more than
/// [`RAW_TCP_MAX_CONNS`](super::RAW_TCP_MAX_CONNS) connections.
pub fn run_raw_tcp(
    p: &LoadParams,
    server_workers: usize,
    reply: Reply,
) -> anyhow::Result<Measured> {
    p.validate()?;
    if let Some(why) = Baseline::RawTcp.unsupported(p) {
        anyhow::bail!(why);
    }
    let acceptor = Acceptor::start(p.conns, Vec::new(), move |handlers, s| {
        let t = thread::Builder::new()
            .name("raw-server".into())
            .spawn(move || raw_serve(s, reply))?;
        handlers.push(t);
        Ok(())
    })?;
    let window = Window::new(p);
    let cpu = CpuProbe::start(window);
    let clients: Vec<JoinHandle<io::Result<Tally>>> = (0..p.conns)
        .map(|_| {
            let (p, addr) = (p.clone(), acceptor.addr());
            thread::Builder::new()
                .name("raw-client".into())
                .spawn(move || raw_client(addr, &p, window))
        })
        .collect::<io::Result<_>>()?;
    let mut all = Tally::default();
    let mut failure = None;
    for c in clients {
        match join(c, "raw TCP client") {
            Ok(t) => all.merge(t),
            Err(e) => failure = Some(e),
        }
    }
    for h in acceptor.finish()? {
        // A client that failed makes its server connection fail too: reported there.
        let _ = h.join();
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let label = params_json(Baseline::RawTcp.as_str(), p, server_workers, reply);
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
