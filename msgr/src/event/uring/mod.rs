//! The io_uring driver: one ring per center, created on the owner thread with
//! `SINGLE_ISSUER | DEFER_TASKRUN` (falling back to a plain ring on kernels without them).
//!
//! Ownership follows the owned-buffer model: every in-flight op lives in the [`Slab`] under
//! its `user_data` key and owns whatever the kernel may touch (send segments and their iovecs,
//! the socket itself through an `Rc`), until its *final* completion arrives. Receives write
//! only into the provided-buffer ring, which outlives every op. Closing a socket cancels its
//! ops; the fd closes when the last op holding it completes. Dropping the driver cancels all
//! ops and waits for their completions; if that ever fails, the memory is leaked rather than
//! freed under the kernel.
//!
//! Submissions are queued during an iteration and go to the kernel in the single
//! `io_uring_enter` that also waits for completions.

mod buf_ring;
mod ops;
mod slab;

use std::collections::HashMap;
use std::io;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use io_uring::{IoUring, cqueue, opcode, squeue, types};

pub(crate) use buf_ring::BufRing;
pub use buf_ring::RecvBuf;
use ops::{Op, SendOp};
use slab::Slab;

use super::driver::{DriverConfig, EventMask, Ready};
use crate::net::SocketId;

/// `user_data` of cancel and poll-remove requests, whose completions carry nothing.
const IGNORED: u64 = u64::MAX;
/// How long a dropping driver waits for cancelled ops before leaking their memory.
const DRAIN_ON_DROP: Duration = Duration::from_secs(2);

pub(crate) struct UringDriver {
    ring: IoUring,
    ops: Slab<Op>,
    /// Plain file events: fd → (poll op key, mask).
    files: HashMap<RawFd, (usize, EventMask)>,
    buf_ring: Rc<BufRing>,
    wake_fd: RawFd,
    cqes: Vec<(u64, i32, u32)>,
    shutting_down: bool,
}

impl UringDriver {
    pub(crate) fn new(cfg: &DriverConfig, wake_fd: RawFd) -> io::Result<Self> {
        let entries = cfg.uring_entries.max(8);
        let ring = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_cqsize(entries * 4)
            .build(entries)
            .or_else(|e| {
                tracing::info!(error = %e, "io_uring without SINGLE_ISSUER|DEFER_TASKRUN");
                IoUring::builder().setup_cqsize(entries * 4).build(entries)
            })?;
        let buf_ring = Rc::new(BufRing::new(
            &ring.submitter(),
            cfg.recv_buf_count,
            cfg.recv_buf_size,
            0,
        )?);
        let mut d = UringDriver {
            ring,
            ops: Slab::default(),
            files: HashMap::new(),
            buf_ring,
            wake_fd,
            cqes: Vec::with_capacity(256),
            shutting_down: false,
        };
        d.arm_wake(Box::new(0))?;
        Ok(d)
    }

    /// Hands queued submissions to the kernel now (one `io_uring_enter`, no wait), e.g. so that
    /// a send starts before the rest of a batch of completions is handled.
    pub(crate) fn submit_now(&mut self) -> io::Result<()> {
        if self.ring.submission().is_empty() {
            return Ok(());
        }
        match self.ring.submit() {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EBUSY)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Queues one SQE, flushing the submission queue to the kernel if it is full.
    ///
    /// Callers guarantee that every buffer the entry points at is owned by the op stored under
    /// its `user_data` (or by the buffer ring) and so lives until the op's final completion.
    fn push(&mut self, sqe: squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: see the contract above; entries reference only op-owned memory.
            if unsafe { self.ring.submission().push(&sqe) }.is_ok() {
                return Ok(());
            }
            self.ring.submit()?;
        }
    }

    fn arm_wake(&mut self, mut buf: Box<u64>) -> io::Result<()> {
        let ptr: *mut u64 = &mut *buf;
        let key = self.ops.insert(Op::Wake(buf));
        let sqe = opcode::Read::new(types::Fd(self.wake_fd), ptr.cast(), 8)
            .build()
            .user_data(key as u64);
        self.push(sqe)
    }

    fn poll_bits(mask: EventMask) -> u32 {
        let mut bits = 0;
        if mask.contains(EventMask::READABLE) {
            bits |= libc::POLLIN as u32 | libc::POLLRDHUP as u32;
        }
        if mask.contains(EventMask::WRITABLE) {
            bits |= libc::POLLOUT as u32;
        }
        bits
    }

    fn mask_of(revents: u32) -> EventMask {
        let mut mask = EventMask::NONE;
        let hup_err = (libc::POLLHUP | libc::POLLERR) as u32;
        if revents & (libc::POLLIN as u32 | libc::POLLRDHUP as u32 | hup_err) != 0 {
            mask = mask | EventMask::READABLE;
        }
        if revents & (libc::POLLOUT as u32 | hup_err) != 0 {
            mask = mask | EventMask::WRITABLE;
        }
        mask
    }

    fn arm_poll(&mut self, fd: RawFd, mask: EventMask) -> io::Result<()> {
        let key = self.ops.insert(Op::Poll { fd, live: true });
        let sqe = opcode::PollAdd::new(types::Fd(fd), Self::poll_bits(mask))
            .multi(true)
            .build()
            .user_data(key as u64);
        self.files.insert(fd, (key, mask));
        self.push(sqe)
    }

    pub(crate) fn set_file(&mut self, fd: RawFd, new: EventMask) -> io::Result<()> {
        if let Some((key, _)) = self.files.remove(&fd) {
            if let Some(Op::Poll { live, .. }) = self.ops.get_mut(key) {
                *live = false;
            }
            // Not POLL_REMOVE: with DEFER_TASKRUN it answers -EALREADY when the fd became ready
            // since the last wait, leaving the multishot poll armed (and the file held open).
            // A cancel always takes effect; the poll's final CQE frees its op.
            self.push(
                opcode::AsyncCancel::new(key as u64)
                    .build()
                    .user_data(IGNORED),
            )?;
        }
        if !new.is_empty() {
            self.arm_poll(fd, new)?;
        }
        Ok(())
    }

    /// Waits for a non-blocking connect on `stream` to finish (one-shot POLLOUT).
    pub(crate) fn sock_connect_poll(
        &mut self,
        id: SocketId,
        stream: Rc<TcpStream>,
    ) -> io::Result<usize> {
        let fd = stream.as_raw_fd();
        let key = self.ops.insert(Op::Connect {
            id,
            _stream: stream,
        });
        let sqe = opcode::PollAdd::new(types::Fd(fd), libc::POLLOUT as u32)
            .build()
            .user_data(key as u64);
        self.push(sqe)?;
        Ok(key)
    }

    /// Starts a multishot receive into the provided-buffer ring.
    pub(crate) fn sock_recv(&mut self, id: SocketId, stream: Rc<TcpStream>) -> io::Result<usize> {
        let fd = stream.as_raw_fd();
        let key = self.ops.insert(Op::Recv {
            id,
            _stream: stream,
        });
        let sqe = opcode::RecvMulti::new(types::Fd(fd), self.buf_ring.bgid())
            .build()
            .user_data(key as u64);
        self.push(sqe)?;
        Ok(key)
    }

    /// Receives straight into the spare capacity of `buf`, filling all of it unless the
    /// stream ends or fails (MSG_WAITALL). The op owns `buf` until it completes; it comes back
    /// in [`Ready::RecvInto`].
    pub(crate) fn sock_recv_into(
        &mut self,
        id: SocketId,
        stream: Rc<TcpStream>,
        buf: Vec<u8>,
    ) -> io::Result<usize> {
        self.recv_owned(id, stream, buf, libc::MSG_WAITALL)
    }

    /// Like [`Self::sock_recv_into`], completing with whatever is available (at least one
    /// byte) rather than waiting for the buffer to fill.
    pub(crate) fn sock_recv_one(
        &mut self,
        id: SocketId,
        stream: Rc<TcpStream>,
        buf: Vec<u8>,
    ) -> io::Result<usize> {
        self.recv_owned(id, stream, buf, 0)
    }

    fn recv_owned(
        &mut self,
        id: SocketId,
        stream: Rc<TcpStream>,
        buf: Vec<u8>,
        flags: i32,
    ) -> io::Result<usize> {
        let fd = stream.as_raw_fd();
        let key = self.ops.insert(Op::RecvInto {
            id,
            _stream: stream,
            buf,
        });
        let Some(Op::RecvInto { buf, .. }) = self.ops.get_mut(key) else {
            unreachable!("just inserted")
        };
        let spare = buf.spare_capacity_mut();
        let len = u32::try_from(spare.len()).unwrap_or(u32::MAX);
        // The pointer stays valid until the completion: the Vec's heap block does not move
        // while the op owns it in the slab.
        let sqe = opcode::Recv::new(types::Fd(fd), spare.as_mut_ptr().cast(), len)
            .flags(flags)
            .build()
            .user_data(key as u64);
        self.push(sqe)?;
        Ok(key)
    }

    /// Sends `bufs` with one `sendmsg` (writev semantics). The op owns the segments until it
    /// completes; they come back in [`Ready::Sent`].
    pub(crate) fn sock_send(
        &mut self,
        id: SocketId,
        stream: Rc<TcpStream>,
        bufs: Vec<Bytes>,
    ) -> io::Result<usize> {
        let fd = stream.as_raw_fd();
        let mut op = SendOp::new(id, stream, bufs);
        let msg = op.msghdr_ptr();
        let key = self.ops.insert(Op::Send(op));
        let sqe = opcode::SendMsg::new(types::Fd(fd), msg)
            .flags(libc::MSG_NOSIGNAL as u32)
            .build()
            .user_data(key as u64);
        self.push(sqe)?;
        Ok(key)
    }

    /// Asks the kernel to cancel op `key`; its final completion still arrives.
    pub(crate) fn cancel(&mut self, key: usize) -> io::Result<()> {
        if self.ops.get_mut(key).is_some() {
            self.push(
                opcode::AsyncCancel::new(key as u64)
                    .build()
                    .user_data(IGNORED),
            )?;
        }
        Ok(())
    }

    pub(crate) fn wait(
        &mut self,
        deadline: Option<Instant>,
        out: &mut Vec<Ready>,
    ) -> io::Result<bool> {
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let res = match timeout {
            None => self.ring.submit_and_wait(1),
            Some(t) if t.is_zero() => {
                let to_submit = self.ring.submission().len() as u32;
                // SAFETY: a plain enter with GETEVENTS and no extended argument.
                unsafe {
                    self.ring.submitter().enter::<libc::sigset_t>(
                        to_submit,
                        0,
                        1 << 0, /* IORING_ENTER_GETEVENTS */
                        None,
                    )
                }
            }
            Some(t) => {
                let ts = types::Timespec::from(t);
                let args = types::SubmitArgs::new().timespec(&ts);
                self.ring.submitter().submit_with_args(1, &args)
            }
        };
        match res {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY)
                ) => {}
            Err(e) => return Err(e),
        }
        self.reap(out)
    }

    /// Handles every completion in the queue. Returns whether the wake eventfd fired.
    fn reap(&mut self, out: &mut Vec<Ready>) -> io::Result<bool> {
        let mut cqes = std::mem::take(&mut self.cqes);
        cqes.extend(
            self.ring
                .completion()
                .map(|c| (c.user_data(), c.result(), c.flags())),
        );
        let mut woken = false;
        for &(ud, res, flags) in &cqes {
            if ud == IGNORED {
                continue;
            }
            woken |= self.complete(ud as usize, res, flags, out)?;
        }
        cqes.clear();
        self.cqes = cqes;
        Ok(woken)
    }

    fn complete(
        &mut self,
        key: usize,
        res: i32,
        flags: u32,
        out: &mut Vec<Ready>,
    ) -> io::Result<bool> {
        let more = cqueue::more(flags);
        // A selected buffer must go back to the ring whatever happens to it.
        let buf = cqueue::buffer_select(flags).map(|bid| {
            RecvBuf::new(
                self.buf_ring.clone(),
                bid,
                usize::try_from(res).unwrap_or(0),
            )
        });
        let Some(op) = self.ops.get_mut(key) else {
            tracing::error!(key, res, "io_uring completion for an unknown op");
            return Ok(false);
        };
        match op {
            Op::Poll { fd, live } => {
                let (fd, live) = (*fd, *live);
                if live && res > 0 {
                    out.push(Ready::File {
                        fd,
                        mask: Self::mask_of(res as u32),
                    });
                }
                if !more {
                    self.ops.remove(key);
                    let current = self.files.get(&fd).copied();
                    if let Some((k, mask)) = current.filter(|(k, _)| *k == key) {
                        self.files.remove(&fd);
                        if res >= 0 && !self.shutting_down {
                            self.arm_poll(fd, mask)?;
                        } else {
                            tracing::debug!(fd, res, k, "poll on fd ended");
                        }
                    }
                }
            }
            Op::Recv { id, .. } => {
                let id = *id;
                if !more {
                    self.ops.remove(key);
                }
                match (res, buf) {
                    (n, Some(data)) if n > 0 => {
                        out.push(Ready::Recv { id, data });
                        if !more {
                            out.push(Ready::RecvRearm { id, key });
                        }
                    }
                    (0, _) => out.push(Ready::RecvEnd {
                        id,
                        key,
                        res: Ok(()),
                    }),
                    (n, _) if n == -libc::ENOBUFS => out.push(Ready::RecvRearm { id, key }),
                    (n, _) if n < 0 => out.push(Ready::RecvEnd {
                        key,
                        id,
                        res: Err(io::Error::from_raw_os_error(-n)),
                    }),
                    _ => {
                        if !more {
                            out.push(Ready::RecvRearm { id, key });
                        }
                    }
                }
            }
            Op::Send(_) => {
                let Some(Op::Send(op)) = self.ops.remove(key) else {
                    unreachable!("matched Send above")
                };
                let res = if res < 0 {
                    Err(io::Error::from_raw_os_error(-res))
                } else {
                    Ok(res as usize)
                };
                let (id, bufs) = op.into_parts();
                out.push(Ready::Sent { id, bufs, res });
            }
            Op::RecvInto { .. } => {
                let Some(Op::RecvInto { id, mut buf, .. }) = self.ops.remove(key) else {
                    unreachable!("matched RecvInto above")
                };
                let res = if res < 0 {
                    Err(io::Error::from_raw_os_error(-res))
                } else {
                    let n = (res as usize).min(buf.capacity() - buf.len());
                    // SAFETY: the kernel wrote `n` bytes (no more than the spare capacity it
                    // was given) right after the initialised part.
                    unsafe { buf.set_len(buf.len() + n) };
                    Ok(n)
                };
                out.push(Ready::RecvInto { id, key, buf, res });
            }
            Op::Connect { id, .. } => {
                let id = *id;
                self.ops.remove(key);
                let mask = if res < 0 {
                    EventMask::ALL
                } else {
                    Self::mask_of(res as u32)
                };
                out.push(Ready::Sock { id, mask });
            }
            Op::Wake(_) => {
                let Some(Op::Wake(buf)) = self.ops.remove(key) else {
                    unreachable!("matched Wake above")
                };
                if res < 0 && res != -libc::ECANCELED {
                    tracing::error!(error = %io::Error::from_raw_os_error(-res), "io_uring eventfd read failed");
                }
                if !self.shutting_down {
                    self.arm_wake(buf)?;
                }
                return Ok(res >= 0);
            }
        }
        Ok(false)
    }
}

impl Drop for UringDriver {
    fn drop(&mut self) {
        self.shutting_down = true;
        let keys: Vec<usize> = self.ops.keys().collect();
        for key in keys {
            let _ = self.cancel(key);
        }
        let deadline = Instant::now() + DRAIN_ON_DROP;
        let mut sink = Vec::new();
        while !self.ops.is_empty() && Instant::now() < deadline {
            let _ = self.wait(Some(Instant::now() + Duration::from_millis(50)), &mut sink);
            sink.clear();
        }
        if !self.ops.is_empty() {
            tracing::error!(
                in_flight = self.ops.len(),
                "io_uring ops still in flight at shutdown; leaking their buffers rather than freeing them under the kernel"
            );
            std::mem::forget(std::mem::take(&mut self.ops));
            std::mem::forget(self.buf_ring.clone());
        }
    }
}
