//! The std::net contender: blocking sockets, threads.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};

use crate::{EchoClient, LOCALHOST, RUN_TIMEOUT, SERVER_READ_BUF, Workload, protocol_error};

/// A connection of [`StdEchoServer`]: a clone of its stream (to shut it down) and its thread.
type StdConn = (TcpStream, JoinHandle<()>);

/// A blocking `std::net` echo server: an acceptor thread and one thread per connection doing
/// `read` into a [`SERVER_READ_BUF`] buffer, then `write_all`.
pub struct StdEchoServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    conns: Arc<Mutex<Vec<StdConn>>>,
}

impl StdEchoServer {
    /// Binds 127.0.0.1 on a free port and starts accepting.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind((LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let (stop2, conns2) = (stop.clone(), conns.clone());
        let acceptor = thread::Builder::new()
            .name("echo-std-accept".into())
            .spawn(move || Self::accept_loop(listener, &stop2, &conns2))?;
        Ok(StdEchoServer {
            addr,
            stop,
            acceptor: Some(acceptor),
            conns,
        })
    }

    fn accept_loop(listener: TcpListener, stop: &AtomicBool, conns: &Mutex<Vec<StdConn>>) {
        for stream in listener.incoming() {
            if stop.load(Ordering::Acquire) {
                return;
            }
            let Ok(stream) = stream else { continue };
            let Ok(closer) = stream.try_clone() else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let spawned = thread::Builder::new()
                .name("echo-std".into())
                .spawn(move || Self::echo(stream));
            if let Ok(t) = spawned {
                conns
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((closer, t));
            }
        }
    }

    fn echo(mut stream: TcpStream) {
        let mut buf = vec![0; SERVER_READ_BUF];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if stream.write_all(&buf[..n]).is_err() {
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

impl Drop for StdEchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Unblock accept().
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(|p| p.into_inner()));
        for (stream, t) in conns {
            let _ = stream.shutdown(Shutdown::Both);
            let _ = t.join();
        }
    }
}

/// How many messages a writer may have in flight: the reader reports completed messages, the
/// writer blocks while `depth` are outstanding.
#[derive(Default)]
struct Window {
    state: Mutex<WindowState>,
    cv: Condvar,
}

#[derive(Default)]
struct WindowState {
    completed: u64,
    writer_waiting: bool,
    /// The reader gave up: the writer must stop.
    aborted: bool,
}

impl Window {
    /// Blocks until message number `index` (0-based) may be sent; false if the run aborted.
    fn wait_for_slot(&self, index: u64, depth: u64) -> bool {
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while !g.aborted && index.saturating_sub(g.completed) >= depth {
            g.writer_waiting = true;
            g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
        g.writer_waiting = false;
        !g.aborted
    }

    /// Records that `completed` messages are fully echoed; wakes the writer if it waits.
    fn complete(&self, completed: u64) {
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        g.completed = completed;
        if g.writer_waiting {
            self.cv.notify_one();
        }
    }

    fn abort(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).aborted = true;
        self.cv.notify_one();
    }
}

/// A blocking `std::net` echo client. With `depth > 1`, each run spawns a writer thread that
/// writes one message per `write_all` while the caller's thread reads, with a window of
/// `depth` messages between them; with `depth == 1` the caller's thread alone does
/// `write_all` then `read_exact` (the natural blocking ping-pong).
pub struct StdEchoClient {
    stream: TcpStream,
    workload: Workload,
    payload: Vec<u8>,
    buf: Vec<u8>,
}

impl StdEchoClient {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr, workload: Workload) -> io::Result<Self> {
        workload.check()?;
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Ok(StdEchoClient {
            stream,
            workload,
            payload: workload.payload(),
            buf: vec![0; SERVER_READ_BUF.max(workload.size)],
        })
    }
}

impl EchoClient for StdEchoClient {
    fn run(&mut self, messages: u64) -> io::Result<()> {
        let Workload { size, depth } = self.workload;
        self.stream.set_read_timeout(Some(RUN_TIMEOUT))?;
        let mut stream = &self.stream;
        if depth == 1 {
            for _ in 0..messages {
                stream.write_all(&self.payload)?;
                stream.read_exact(&mut self.buf[..size])?;
            }
            return Ok(());
        }
        let total = messages * size as u64;
        let window = Window::default();
        let (payload, buf) = (&self.payload, &mut self.buf);
        thread::scope(|s| {
            let writer = thread::Builder::new()
                .name("echo-std-writer".into())
                .spawn_scoped(s, || {
                    let mut w = &self.stream;
                    for i in 0..messages {
                        if !window.wait_for_slot(i, depth as u64) {
                            return Ok(());
                        }
                        if let Err(e) = w.write_all(payload) {
                            // Unblock the reader.
                            let _ = w.shutdown(Shutdown::Both);
                            return Err(e);
                        }
                    }
                    Ok::<_, io::Error>(())
                })?;
            let mut read_all = || {
                let mut received = 0u64;
                while received < total {
                    let n = match stream.read(buf) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    };
                    if n == 0 {
                        return Err(protocol_error("server closed the connection"));
                    }
                    received += n as u64;
                    window.complete(received / size as u64);
                }
                if received != total {
                    return Err(protocol_error(format!(
                        "echoed {received} bytes, sent {total}"
                    )));
                }
                Ok(())
            };
            let read = read_all();
            if read.is_err() {
                window.abort();
            }
            let written = writer
                .join()
                .map_err(|_| io::Error::other("writer thread panicked"))?;
            written.and(read)
        })
    }

    fn workload(&self) -> Workload {
        self.workload
    }
}
