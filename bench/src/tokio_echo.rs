//! The tokio contender: current-thread runtimes, a task per connection.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::thread::{self, JoinHandle};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{EchoClient, LOCALHOST, RUN_TIMEOUT, SERVER_READ_BUF, Workload, protocol_error};

/// A tokio echo server: a current-thread runtime on its own thread (one thread, like a cuttle
/// center), a task per connection doing `read` into a [`SERVER_READ_BUF`] buffer, then
/// `write_all`.
pub struct TokioEchoServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TokioEchoServer {
    /// Starts the runtime thread; returns once it accepts connections.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind((LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let listener = {
            let _guard = rt.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let thread = thread::Builder::new()
            .name("echo-tokio".into())
            .spawn(move || {
                rt.block_on(async move {
                    loop {
                        tokio::select! {
                            _ = &mut rx => return,
                            accepted = listener.accept() => {
                                if let Ok((stream, _)) = accepted {
                                    tokio::spawn(Self::echo(stream));
                                }
                            }
                        }
                    }
                });
                // Dropping the runtime cancels the connection tasks and closes their sockets.
            })?;
        Ok(TokioEchoServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    async fn echo(mut stream: tokio::net::TcpStream) {
        let _ = stream.set_nodelay(true);
        let mut buf = vec![0; SERVER_READ_BUF];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TokioEchoServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A tokio echo client on a current-thread runtime driven by the caller's thread (one thread,
/// like a cuttle client center). With `depth > 1` a writer future (one `write_all` per
/// message) and a reader future are joined in one task, with a `Semaphore` of `depth` permits
/// as the window; with `depth == 1` it does `write_all` then `read_exact`.
pub struct TokioEchoClient {
    rt: tokio::runtime::Runtime,
    rd: tokio::net::tcp::OwnedReadHalf,
    wr: tokio::net::tcp::OwnedWriteHalf,
    workload: Workload,
    payload: Vec<u8>,
    buf: Vec<u8>,
}

impl TokioEchoClient {
    /// Builds the runtime and connects to `addr`.
    pub fn connect(addr: SocketAddr, workload: Workload) -> io::Result<Self> {
        workload.check()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let stream = rt.block_on(tokio::net::TcpStream::connect(addr))?;
        stream.set_nodelay(true)?;
        let (rd, wr) = stream.into_split();
        Ok(TokioEchoClient {
            rt,
            rd,
            wr,
            workload,
            payload: workload.payload(),
            buf: vec![0; SERVER_READ_BUF.max(workload.size)],
        })
    }
}

impl EchoClient for TokioEchoClient {
    fn run(&mut self, messages: u64) -> io::Result<()> {
        let Workload { size, depth } = self.workload;
        let (rd, wr, payload, buf) = (&mut self.rd, &mut self.wr, &self.payload, &mut self.buf);
        let work = async move {
            if depth == 1 {
                for _ in 0..messages {
                    wr.write_all(payload).await?;
                    rd.read_exact(&mut buf[..size]).await?;
                }
                return Ok(());
            }
            let total = messages * size as u64;
            let window = tokio::sync::Semaphore::new(depth);
            let writer = async {
                for _ in 0..messages {
                    window
                        .acquire()
                        .await
                        .map_err(|_| io::Error::other("window closed"))?
                        .forget();
                    wr.write_all(payload).await?;
                }
                Ok::<_, io::Error>(())
            };
            let reader = async {
                let (mut received, mut done) = (0u64, 0u64);
                while received < total {
                    let n = rd.read(buf).await?;
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
                Ok(())
            };
            let (w, r) = tokio::join!(writer, reader);
            w.and(r)
        };
        self.rt.block_on(async move {
            tokio::time::timeout(RUN_TIMEOUT, work)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "tokio echo run timed out"))?
        })
    }

    fn workload(&self) -> Workload {
        self.workload
    }
}
