//! The tokio-uring contender (a baseline only, never in the product): tokio-uring's
//! current-thread runtime, a task per connection, owned buffers that move into each read or
//! write and come back with its result.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};

use tokio::sync::{Semaphore, oneshot};
use tokio_uring::buf::BoundedBuf;
use tokio_uring::net::TcpStream;

use crate::{EchoClient, LOCALHOST, RUN_TIMEOUT, SERVER_READ_BUF, Workload, protocol_error};

/// A tokio-uring runtime with `tokio_uring::start`'s settings (a 256-entry ring), returning
/// an error instead of panicking when the kernel refuses io_uring.
fn runtime() -> io::Result<tokio_uring::Runtime> {
    tokio_uring::Runtime::new(&tokio_uring::builder())
}

/// A tokio-uring echo server: a runtime on its own thread (one thread, like a cuttle center),
/// a task per connection doing `read` into a [`SERVER_READ_BUF`] buffer, then `write_all`
/// of the bytes read, from that same buffer.
pub struct TokioUringEchoServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TokioUringEchoServer {
    /// Starts the runtime thread; returns once it accepts connections, or the error that
    /// kept the runtime from starting.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind((LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let (tx, mut rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread = thread::Builder::new()
            .name("echo-tokio-uring".into())
            .spawn(move || {
                let rt = match runtime() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = tokio_uring::net::TcpListener::from_std(listener);
                    let _ = ready_tx.send(Ok(()));
                    loop {
                        tokio::select! {
                            _ = &mut rx => return,
                            accepted = listener.accept() => {
                                if let Ok((stream, _)) = accepted {
                                    tokio_uring::spawn(Self::echo(stream));
                                }
                            }
                        }
                    }
                });
                // Dropping the runtime cancels the connection tasks and closes their sockets.
            })?;
        ready_rx
            .recv()
            .map_err(|_| io::Error::other("tokio-uring server thread died"))??;
        Ok(TokioUringEchoServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    async fn echo(stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let mut buf = vec![0; SERVER_READ_BUF];
        loop {
            let (res, b) = stream.read(buf).await;
            let n = match res {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let (res, slice) = stream.write_all(b.slice(..n)).await;
            buf = slice.into_inner();
            if res.is_err() {
                return;
            }
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TokioUringEchoServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A tokio-uring echo client on a runtime driven by the caller's thread (one thread, like a
/// cuttle client center; not `Send`). With `depth > 1` a writer future (one `write_all` per
/// message) and a reader future share the stream in one task, with a `Semaphore` of `depth`
/// permits as the window; with `depth == 1` it does `write_all`, then reads until the
/// message is back.
pub struct TokioUringEchoClient {
    // Declared before the runtime: dropped first.
    stream: TcpStream,
    rt: tokio_uring::Runtime,
    workload: Workload,
    /// The message; empty while lent to a run (and after a failed run, until the next).
    payload: Vec<u8>,
    /// The read buffer, lent like `payload`.
    buf: Vec<u8>,
}

impl TokioUringEchoClient {
    /// Builds the runtime on this thread and connects to `addr`.
    pub fn connect(addr: SocketAddr, workload: Workload) -> io::Result<Self> {
        workload.check()?;
        let rt = runtime()?;
        let stream = rt.block_on(TcpStream::connect(addr))?;
        stream.set_nodelay(true)?;
        Ok(TokioUringEchoClient {
            stream,
            rt,
            workload,
            payload: Vec::new(),
            buf: Vec::new(),
        })
    }
}

/// Sends `messages` messages one at a time, reading each back before the next.
async fn ping_pong(
    stream: &TcpStream,
    messages: u64,
    size: usize,
    mut payload: Vec<u8>,
    mut buf: Vec<u8>,
) -> io::Result<(Vec<u8>, Vec<u8>)> {
    for _ in 0..messages {
        let (res, p) = stream.write_all(payload).await;
        payload = p;
        res?;
        let mut got = 0;
        while got < size {
            let (res, slice) = stream.read(buf.slice(got..size)).await;
            buf = slice.into_inner();
            match res? {
                0 => return Err(protocol_error("server closed the connection")),
                n => got += n,
            }
        }
    }
    Ok((payload, buf))
}

/// Sends `messages` messages with at most `depth` in flight: a writer and a reader future.
async fn pipelined(
    stream: &TcpStream,
    messages: u64,
    Workload { size, depth }: Workload,
    payload: Vec<u8>,
    buf: Vec<u8>,
) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let total = messages * size as u64;
    let window = Semaphore::new(depth);
    let writer = async {
        let mut payload = payload;
        for _ in 0..messages {
            window
                .acquire()
                .await
                .map_err(|_| io::Error::other("window closed"))?
                .forget();
            let (res, p) = stream.write_all(payload).await;
            payload = p;
            res?;
        }
        Ok::<_, io::Error>(payload)
    };
    let reader = async {
        let mut buf = buf;
        let (mut received, mut done) = (0u64, 0u64);
        while received < total {
            let (res, b) = stream.read(buf).await;
            buf = b;
            let n = res?;
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
        Ok(buf)
    };
    tokio::try_join!(writer, reader)
}

impl EchoClient for TokioUringEchoClient {
    fn run(&mut self, messages: u64) -> io::Result<()> {
        let w = self.workload;
        if self.payload.is_empty() {
            self.payload = w.payload();
        }
        if self.buf.is_empty() {
            self.buf = vec![0; SERVER_READ_BUF.max(w.size)];
        }
        let (payload, buf) = (
            std::mem::take(&mut self.payload),
            std::mem::take(&mut self.buf),
        );
        let stream = &self.stream;
        let work = async move {
            if w.depth == 1 {
                ping_pong(stream, messages, w.size, payload, buf).await
            } else {
                pipelined(stream, messages, w, payload, buf).await
            }
        };
        let (payload, buf) = self.rt.block_on(async move {
            tokio::time::timeout(RUN_TIMEOUT, work).await.map_err(|_| {
                io::Error::new(io::ErrorKind::TimedOut, "tokio-uring echo run timed out")
            })?
        })?;
        (self.payload, self.buf) = (payload, buf);
        Ok(())
    }

    fn workload(&self) -> Workload {
        self.workload
    }
}
