//! Connected sockets on an [`EventCenter`]: register, connect, send, close, and the
//! per-driver I/O paths behind them.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::Ordering;

use bytes::{Buf, Bytes};

use super::table::{SockState, Socket};
use super::{CloseReason, SocketHandler, SocketId};
use crate::event::{Driver, EventCenter, EventMask, Ready, socket_token};

/// Reads per readiness event before an epoll socket yields to others (fairness).
const MAX_READS_PER_EVENT: usize = 16;
/// Smallest read offered to the kernel (epoll): below it the receive buffer is topped up.
/// Reads take all the spare room of the receive buffer, up to a whole fresh chunk.
const RX_READ_MIN: usize = 4096;
/// io_uring: output queued on a socket from which a read's replies are submitted at once.
const EARLY_SUBMIT_MIN: usize = 8 * 1024;
/// io_uring: one-shot reads after a direct receive before returning to the multishot ring.
const BRIDGE_READS: u8 = 16;
/// Smallest allocation of a fresh receive buffer.
const RX_CHUNK_MIN: usize = 64 * 1024;
/// Segments up to this size are copied into the socket's tail buffer rather than queued as
/// their own iovec: many small frames then leave in one.
const TAIL_COPY_MAX: usize = 512;
/// Smallest allocation of a socket's tail buffer.
const TAIL_CHUNK: usize = 16 * 1024;
/// Segments per `writev` on epoll (io_uring uses up to `UIO_MAXIOV` per `sendmsg`).
const EPOLL_IOV: usize = 64;
/// Segments per io_uring `sendmsg`.
const URING_IOV: usize = 1024;

fn not_connected(id: SocketId) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        format!("socket {id:?} is closed"),
    )
}

/// Drops `n` sent bytes from the front of `q`.
fn consume(q: &mut VecDeque<Bytes>, mut n: usize) {
    while n > 0 {
        let Some(front) = q.front_mut() else { return };
        if front.len() <= n {
            n -= front.len();
            q.pop_front();
        } else {
            front.advance(n);
            return;
        }
    }
}

impl EventCenter {
    /// Takes ownership of a connected stream (e.g. from `accept`) and starts receiving on it.
    pub fn register_socket(
        &mut self,
        stream: TcpStream,
        handler: impl SocketHandler,
    ) -> io::Result<SocketId> {
        self.shared.references.fetch_add(1, Ordering::Relaxed);
        self.adopt_socket(stream, Box::new(handler))
    }

    /// Like [`register_socket`](Self::register_socket) for a stream whose reference was
    /// already counted when it was assigned to this center.
    pub(crate) fn adopt_socket(
        &mut self,
        stream: TcpStream,
        handler: Box<dyn SocketHandler>,
    ) -> io::Result<SocketId> {
        self.open_socket(stream, handler, SockState::Open)
            .inspect_err(|_| {
                self.shared.references.fetch_sub(1, Ordering::Relaxed);
            })
    }

    /// Starts a non-blocking connect to `addr`. The handler hears
    /// [`on_connected`](SocketHandler::on_connected) or, if it fails (e.g. refused),
    /// [`on_closed`](SocketHandler::on_closed). Output may be queued before it connects.
    pub fn connect(
        &mut self,
        addr: SocketAddr,
        handler: impl SocketHandler,
    ) -> io::Result<SocketId> {
        self.connect_boxed(addr, Box::new(handler))
    }

    /// [`connect`](Self::connect) with an already boxed handler.
    pub fn connect_boxed(
        &mut self,
        addr: SocketAddr,
        handler: Box<dyn SocketHandler>,
    ) -> io::Result<SocketId> {
        self.shared.references.fetch_add(1, Ordering::Relaxed);
        self.connect_assigned(addr, handler)
    }

    /// Connects for a worker whose reference was already counted when it was picked.
    pub(crate) fn connect_assigned(
        &mut self,
        addr: SocketAddr,
        handler: Box<dyn SocketHandler>,
    ) -> io::Result<SocketId> {
        let res = mio::net::TcpStream::connect(addr).and_then(|s| {
            self.open_socket(OwnedFd::from(s).into(), handler, SockState::Connecting)
        });
        res.inspect_err(|_| {
            self.shared.references.fetch_sub(1, Ordering::Relaxed);
        })
    }

    fn open_socket(
        &mut self,
        stream: TcpStream,
        handler: Box<dyn SocketHandler>,
        state: SockState,
    ) -> io::Result<SocketId> {
        stream.set_nodelay(true)?;
        // epoll does non-blocking syscalls; io_uring ops want a blocking fd (they poll
        // internally instead of failing with EAGAIN). A connect in progress stays non-blocking.
        let uring = matches!(self.driver, Driver::Uring(_));
        stream.set_nonblocking(!uring || state == SockState::Connecting)?;
        let fd = stream.as_raw_fd();
        let id = self.sockets.insert(Socket::new(stream, handler, state));
        let sock = self.sockets.get_mut(id).expect("just inserted");
        let res = match &mut self.driver {
            Driver::Epoll(d) => {
                d.set_interest(fd, socket_token(id), EventMask::NONE, EventMask::ALL)
            }
            Driver::Uring(d) if state == SockState::Connecting => d
                .sock_connect_poll(id, sock.stream.clone())
                .map(|k| sock.connect_op = Some(k)),
            Driver::Uring(d) => d
                .sock_recv(id, sock.stream.clone())
                .map(|k| sock.recv_op = Some(k)),
        };
        if let Err(e) = res {
            self.sockets.remove(id);
            return Err(e);
        }
        Ok(id)
    }

    /// Queues `data` for `sock`; it is written at the start of the next loop iteration.
    pub fn send(&mut self, sock: SocketId, data: Bytes) -> io::Result<()> {
        self.send_vectored(sock, [data])
    }

    /// Queues several segments, written in order without being concatenated (writev).
    pub fn send_vectored(
        &mut self,
        sock: SocketId,
        segments: impl IntoIterator<Item = Bytes>,
    ) -> io::Result<()> {
        let s = self
            .sockets
            .get_mut(sock)
            .ok_or_else(|| not_connected(sock))?;
        for seg in segments {
            s.out_bytes += seg.len();
            if seg.len() <= TAIL_COPY_MAX {
                if s.tail.capacity() - s.tail.len() < seg.len() {
                    s.tail.reserve(seg.len().max(TAIL_CHUNK));
                }
                s.tail.extend_from_slice(&seg);
            } else {
                s.cut_tail();
                s.outq.push_back(seg);
            }
        }
        if !s.dirty && s.has_output() {
            s.dirty = true;
            self.dirty.push(sock);
        }
        Ok(())
    }

    /// Bytes queued or in flight on `sock` and not yet accepted by the kernel
    /// (`None` if the socket is closed). Use it for back-pressure.
    pub fn queued_bytes(&self, sock: SocketId) -> Option<usize> {
        self.sockets.get(sock).map(|s| s.out_bytes)
    }

    /// The peer address of `sock`, if it is open and connected.
    pub fn peer_addr(&self, sock: SocketId) -> Option<SocketAddr> {
        self.sockets.get(sock)?.stream.peer_addr().ok()
    }

    /// Pauses or resumes receiving on `sock` (back-pressure, e.g. a full dispatch queue).
    /// While paused no bytes are read; data the kernel already handed over may still be
    /// delivered once. Resuming picks up whatever arrived meanwhile.
    pub fn set_recv_paused(&mut self, sock: SocketId, paused: bool) {
        let Some(s) = self.sockets.get_mut(sock) else {
            return;
        };
        if s.recv_paused == paused {
            return;
        }
        s.recv_paused = paused;
        let open = s.state == SockState::Open;
        match &mut self.driver {
            Driver::Epoll(_) => {
                if !paused && open {
                    // The edge may have been consumed while paused: read now.
                    self.pending_reads.push(sock);
                }
            }
            Driver::Uring(d) => {
                if paused {
                    if let Some(key) = s.recv_op.take()
                        && let Err(e) = d.cancel(key)
                    {
                        tracing::warn!(?sock, error = %e, "io_uring cancel failed");
                    }
                } else if open
                    && s.recv_op.is_none()
                    && s.direct_op.is_none()
                    && s.draining.is_none()
                {
                    match d.sock_recv(sock, s.stream.clone()) {
                        Ok(key) => s.recv_op = Some(key),
                        Err(e) => self.fault(sock, CloseReason::Error(e)),
                    }
                }
            }
        }
    }

    /// Number of sockets this center owns.
    pub fn socket_count(&self) -> usize {
        self.sockets.len()
    }

    /// Closes `sock` now; unsent output is discarded and its handler dropped without a callback.
    /// Unknown or already closed ids are ignored.
    pub fn close(&mut self, sock: SocketId) {
        if let Some(s) = self.sockets.remove(sock) {
            self.release(sock, s);
        }
    }

    pub(crate) fn close_all_sockets(&mut self) {
        for id in self.sockets.ids() {
            self.close(id);
        }
    }

    fn release(&mut self, id: SocketId, s: Socket) {
        self.shared.references.fetch_sub(1, Ordering::Relaxed);
        match &mut self.driver {
            Driver::Epoll(d) => {
                let _ = d.set_interest(
                    s.stream.as_raw_fd(),
                    socket_token(id),
                    EventMask::ALL,
                    EventMask::NONE,
                );
            }
            Driver::Uring(d) => {
                // In-flight ops hold the stream; the fd closes when the last of them completes.
                let _ = s.stream.shutdown(Shutdown::Both);
                for key in [s.recv_op, s.send_op, s.connect_op, s.direct_op]
                    .into_iter()
                    .flatten()
                {
                    if let Err(e) = d.cancel(key) {
                        tracing::warn!(?id, error = %e, "io_uring cancel failed");
                    }
                }
            }
        }
        drop(s);
    }

    /// Closes `id` because of `reason` and tells its handler.
    fn fault(&mut self, id: SocketId, reason: CloseReason) {
        let Some(mut s) = self.sockets.remove(id) else {
            return;
        };
        tracing::debug!(center = self.id(), ?id, ?reason, "socket closed");
        let handler = s.handler.take();
        self.release(id, s);
        if let Some(mut h) = handler {
            h.on_closed(self, id, reason);
        }
    }

    /// Runs `f` with the socket's handler taken out, so it may use the center freely; puts
    /// the handler back unless the socket was closed meanwhile.
    fn with_handler(
        &mut self,
        id: SocketId,
        f: impl FnOnce(&mut dyn SocketHandler, &mut EventCenter),
    ) {
        let Some(mut h) = self.sockets.get_mut(id).and_then(|s| s.handler.take()) else {
            return;
        };
        f(&mut *h, self);
        if let Some(s) = self.sockets.get_mut(id)
            && s.handler.is_none()
        {
            s.handler = Some(h);
        }
    }

    fn mark_dirty(&mut self, id: SocketId) {
        if let Some(s) = self.sockets.get_mut(id)
            && !s.dirty
            && s.has_output()
        {
            s.dirty = true;
            self.dirty.push(id);
        }
    }

    /// Hands queued output to the kernel: one `writev` (epoll) or `sendmsg` op (io_uring)
    /// per socket with output queued since the last flush.
    pub(crate) fn flush_dirty(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        for id in dirty.drain(..) {
            if let Some(s) = self.sockets.get_mut(id) {
                s.dirty = false;
            }
            self.flush_socket(id);
        }
        if self.dirty.is_empty() {
            self.dirty = dirty;
        }
    }

    fn flush_socket(&mut self, id: SocketId) {
        let Some(s) = self.sockets.get_mut(id) else {
            return;
        };
        if s.state != SockState::Open || !s.has_output() {
            return;
        }
        s.cut_tail();
        let err = match &mut self.driver {
            Driver::Epoll(_) => loop {
                let mut iov = [IoSlice::new(&[]); EPOLL_IOV];
                let mut n = 0;
                for (slot, seg) in iov.iter_mut().zip(s.outq.iter()) {
                    *slot = IoSlice::new(seg);
                    n += 1;
                }
                match (&*s.stream).write_vectored(&iov[..n]) {
                    Ok(0) => break Some(io::Error::from(io::ErrorKind::WriteZero)),
                    Ok(written) => {
                        s.out_bytes -= written;
                        consume(&mut s.outq, written);
                        if s.outq.is_empty() {
                            break None;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break None,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Some(e),
                }
            },
            Driver::Uring(d) => {
                if s.send_op.is_some() {
                    return; // the completion re-flushes what is left
                }
                let n = s.outq.len().min(URING_IOV);
                let bufs: Vec<Bytes> = s.outq.drain(..n).collect();
                match d.sock_send(id, s.stream.clone(), bufs) {
                    Ok(key) => {
                        s.send_op = Some(key);
                        None
                    }
                    Err(e) => Some(e),
                }
            }
        };
        if let Some(e) = err {
            self.fault(id, CloseReason::Error(e));
        }
    }

    /// Handles a socket event from the driver.
    pub(crate) fn dispatch_socket(&mut self, ready: Ready) {
        match ready {
            Ready::File { .. } => unreachable!("file events are dispatched by the center"),
            Ready::Sock { id, mask } => self.on_sock_ready(id, mask),
            Ready::Recv { id, data } => {
                // The ring's buffer goes back to the kernel at once: copy into the shared
                // receive buffer (one copy, no allocation per read in steady state).
                self.reserve_rx(data.len());
                self.rx.extend_from_slice(&data);
                drop(data);
                let bytes = self.rx.split().freeze();
                self.deliver(id, bytes);
                self.maybe_go_direct(id);
                self.flush_early(id);
            }
            Ready::RecvInto { id, key, buf, res } => self.direct_done(id, key, buf, res),
            Ready::RecvEnd { id, key, res } => {
                if self.drained(id, key, res.as_ref().err()) {
                    return;
                }
                // Only the socket's current receive op speaks for it: a cancelled one (paused
                // receive) ends with ECANCELED after the socket moved on.
                let Some(s) = self.sockets.get_mut(id).filter(|s| s.recv_op == Some(key)) else {
                    return;
                };
                s.recv_op = None;
                let reason = match res {
                    Ok(()) => CloseReason::PeerClosed,
                    Err(e) => CloseReason::Error(e),
                };
                self.fault(id, reason);
            }
            Ready::RecvRearm { id, key } => {
                if self.drained(id, key, None) {
                    return;
                }
                let Some(s) = self.sockets.get_mut(id).filter(|s| s.recv_op == Some(key)) else {
                    return;
                };
                let Driver::Uring(d) = &mut self.driver else {
                    return;
                };
                s.recv_op = None;
                if s.recv_paused {
                    return;
                }
                match d.sock_recv(id, s.stream.clone()) {
                    Ok(key) => s.recv_op = Some(key),
                    Err(e) => self.fault(id, CloseReason::Error(e)),
                }
            }
            Ready::Sent { id, bufs, res } => {
                let Some(s) = self.sockets.get_mut(id) else {
                    return;
                };
                s.send_op = None;
                match res {
                    Ok(n) => {
                        s.out_bytes -= n;
                        let mut rest: VecDeque<Bytes> = bufs.into();
                        consume(&mut rest, n);
                        while let Some(seg) = rest.pop_back() {
                            s.outq.push_front(seg);
                        }
                        self.mark_dirty(id);
                    }
                    Err(e) => self.fault(id, CloseReason::Error(e)),
                }
            }
        }
    }

    fn on_sock_ready(&mut self, id: SocketId, mask: EventMask) {
        let Some(s) = self.sockets.get_mut(id) else {
            return;
        };
        if s.state == SockState::Connecting {
            s.connect_op = None;
            let outcome = match s.stream.take_error() {
                Ok(None) => s.stream.peer_addr().map(|_| ()),
                Ok(Some(e)) | Err(e) => Err(e),
            };
            if let Err(e) = outcome {
                if e.kind() == io::ErrorKind::NotConnected && !mask.contains(EventMask::WRITABLE) {
                    return; // spurious wakeup: still connecting
                }
                self.fault(id, CloseReason::Error(e));
                return;
            }
            s.state = SockState::Open;
            if let Driver::Uring(d) = &mut self.driver {
                let armed = s
                    .stream
                    .set_nonblocking(false)
                    .and_then(|()| d.sock_recv(id, s.stream.clone()));
                match armed {
                    Ok(key) => s.recv_op = Some(key),
                    Err(e) => {
                        self.fault(id, CloseReason::Error(e));
                        return;
                    }
                }
            }
            self.with_handler(id, |h, c| h.on_connected(c, id));
            self.mark_dirty(id);
        }
        if !matches!(self.driver, Driver::Epoll(_)) {
            return;
        }
        if mask.contains(EventMask::READABLE) {
            self.read_socket(id, mask.contains(EventMask::CLOSED));
        }
        if mask.contains(EventMask::WRITABLE) {
            self.flush_socket(id);
        }
    }

    fn deliver(&mut self, id: SocketId, data: Bytes) {
        self.with_handler(id, |h, c| h.on_bytes(c, id, data));
    }

    /// After delivering a read: output it caused (replies) leaves now rather than after the
    /// whole batch of reads and completions, so the peer works on it while we go on reading:
    /// the two sides overlap instead of taking turns (2x on a pipelined stream of small
    /// messages). Costs one send per read that produced output.
    ///
    /// With io_uring that send costs an extra `io_uring_enter`, which many connections with a
    /// little output each must not pay (their sends all go in the iteration's one enter): it
    /// is done only once the socket has [`EARLY_SUBMIT_MIN`] bytes queued.
    fn flush_early(&mut self, id: SocketId) {
        let Some(s) = self.sockets.get(id).filter(|s| s.dirty) else {
            return;
        };
        let uring = matches!(self.driver, Driver::Uring(_));
        if uring && s.out_bytes < EARLY_SUBMIT_MIN {
            return;
        }
        self.flush_socket(id);
        if let Driver::Uring(d) = &mut self.driver
            && let Err(e) = d.submit_now()
        {
            tracing::warn!(?id, error = %e, "io_uring submit failed");
        }
    }

    /// io_uring, after delivering bytes: if the handler expects a large payload, stops the
    /// ring receive so that the rest can be read straight into the handler's buffer.
    fn maybe_go_direct(&mut self, id: SocketId) {
        let Driver::Uring(d) = &mut self.driver else {
            return;
        };
        let Some(s) = self.sockets.get_mut(id) else {
            return;
        };
        let Some(key) = s.recv_op.filter(|_| !s.recv_paused) else {
            return;
        };
        if !s.handler.as_mut().is_some_and(|h| h.wants_direct()) {
            return;
        }
        match d.cancel(key) {
            Ok(()) => {
                s.recv_op = None;
                s.draining = Some(key);
            }
            Err(e) => tracing::warn!(?id, error = %e, "io_uring cancel failed"),
        }
    }

    /// The last completion of a multishot receive arrived: if it was cancelled to go direct,
    /// start the direct receive (or, if no longer wanted, the ring receive again) and return
    /// true. An end of stream or an error (other than the cancel) closes the socket.
    fn drained(&mut self, id: SocketId, key: usize, err: Option<&io::Error>) -> bool {
        let Some(s) = self.sockets.get_mut(id).filter(|s| s.draining == Some(key)) else {
            return false;
        };
        s.draining = None;
        match err {
            Some(e) if e.raw_os_error() != Some(libc::ECANCELED) => {
                let e = io::Error::new(e.kind(), e.to_string());
                self.fault(id, CloseReason::Error(e));
            }
            _ => self.arm_uring_recv(id),
        }
        true
    }

    /// io_uring: starts the socket's next receive: into the handler's buffer if it wants
    /// one; else, for a while after such a receive ([`BRIDGE_READS`] reads), a bridge read
    /// of one chunk into a buffer of ours: a multishot receive armed while megabytes wait in
    /// the socket would slurp them all into the ring, to be copied out; else the multishot
    /// ring receive. Nothing while paused.
    fn arm_uring_recv(&mut self, id: SocketId) {
        let Driver::Uring(d) = &mut self.driver else {
            return;
        };
        let Some(s) = self.sockets.get_mut(id) else {
            return;
        };
        if s.recv_paused || s.state != SockState::Open {
            return;
        }
        let buf = s.handler.as_mut().and_then(|h| h.take_direct_buf());
        s.bridge = false;
        let armed = match buf {
            Some(buf) => {
                s.bridge_left = BRIDGE_READS;
                d.sock_recv_into(id, s.stream.clone(), buf)
                    .map(|k| s.direct_op = Some(k))
            }
            None if s.bridge_left > 0 => {
                s.bridge_left -= 1;
                s.bridge = true;
                d.sock_recv_one(id, s.stream.clone(), Vec::with_capacity(RX_CHUNK_MIN))
                    .map(|k| s.direct_op = Some(k))
            }
            None => d
                .sock_recv(id, s.stream.clone())
                .map(|k| s.recv_op = Some(k)),
        };
        if let Err(e) = armed {
            self.fault(id, CloseReason::Error(e));
        }
    }

    /// io_uring: a receive into the handler's buffer finished.
    fn direct_done(&mut self, id: SocketId, key: usize, buf: Vec<u8>, res: io::Result<usize>) {
        let Some(s) = self
            .sockets
            .get_mut(id)
            .filter(|s| s.direct_op == Some(key))
        else {
            return;
        };
        s.direct_op = None;
        let bridge = std::mem::take(&mut s.bridge);
        match res {
            Ok(0) => self.fault(id, CloseReason::PeerClosed),
            Ok(_) if bridge => {
                self.deliver(id, Bytes::from(buf));
                self.arm_uring_recv(id);
            }
            Ok(n) => {
                self.with_handler(id, |h, c| h.direct_done(c, id, buf, n));
                self.arm_uring_recv(id);
            }
            Err(e) => self.fault(id, CloseReason::Error(e)),
        }
    }

    /// Makes room for at least `want` bytes in the receive buffer: reuses its allocation
    /// when no slice of it is alive any more, else allocates a fresh one.
    fn reserve_rx(&mut self, want: usize) {
        if self.rx.capacity() - self.rx.len() < want {
            let chunk = (self.config.recv_buf_size as usize).max(RX_CHUNK_MIN);
            self.rx.reserve(want.max(chunk));
        }
    }

    /// epoll: reads until the socket is drained (edge-triggered), delivering each chunk.
    /// A short read proves it drained unless the peer hung up (`hup`): then EOF may be
    /// pending under the same edge, so read on until `WouldBlock` or EOF. A handler expecting
    /// a large payload reads it straight into its own buffer ([`SocketHandler::recv_direct`]).
    fn read_socket(&mut self, id: SocketId, hup: bool) {
        let mut yielded = true;
        for _ in 0..MAX_READS_PER_EVENT {
            let Some(s) = self.sockets.get(id).filter(|s| !s.recv_paused) else {
                yielded = false;
                break;
            };
            let fd = s.stream.as_raw_fd();
            let mut asked = 0;
            let mut direct = None;
            self.with_handler(id, |h, c| {
                direct = h.recv_direct(c, id, &mut |v: &mut Vec<u8>| {
                    asked = v.capacity() - v.len();
                    crate::sys::read_spare_vec(fd, v)
                });
            });
            let res = match direct {
                Some(res) => res.map(|n| (n, asked)),
                None => {
                    self.reserve_rx(RX_READ_MIN);
                    let asked = (self.rx.capacity() - self.rx.len())
                        .min((self.config.recv_buf_size as usize).max(RX_READ_MIN));
                    let res = crate::sys::read_spare(fd, &mut self.rx, asked);
                    if let Ok(n) = res
                        && n > 0
                    {
                        let bytes = self.rx.split().freeze();
                        self.deliver(id, bytes);
                        self.flush_early(id);
                    }
                    res.map(|n| (n, asked))
                }
            };
            match res {
                Ok((0, _)) => {
                    self.fault(id, CloseReason::PeerClosed);
                    yielded = false;
                    break;
                }
                Ok((n, asked)) => {
                    if n < asked && !hup {
                        // A short read drained the socket; new data raises a new edge.
                        yielded = false;
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    yielded = false;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.fault(id, CloseReason::Error(e));
                    yielded = false;
                    break;
                }
            }
        }
        if yielded {
            self.pending_reads.push(id);
        }
    }

    /// Continues the read loops that yielded last iteration. Returns how many ran.
    pub(crate) fn resume_reads(&mut self) -> usize {
        if self.pending_reads.is_empty() {
            return 0;
        }
        let pending = std::mem::take(&mut self.pending_reads);
        let n = pending.len();
        for id in pending {
            // The original edge's hang-up flag is not kept: read until WouldBlock to be safe.
            self.read_socket(id, true);
        }
        n
    }
}
