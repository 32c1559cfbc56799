//! In-flight io_uring operations. Each variant owns everything the kernel may read or write
//! for that op, so nothing it points at can be freed before its final completion.

use std::net::TcpStream;
use std::os::fd::RawFd;
use std::rc::Rc;

use bytes::Bytes;

use crate::net::SocketId;

/// Most segments one `sendmsg` carries (Linux `UIO_MAXIOV`).
pub(crate) const MAX_IOV: usize = 1024;

pub(crate) enum Op {
    /// Read of the wake eventfd into the boxed counter.
    Wake(Box<u64>),
    /// Multishot poll for a plain file event; `live` is false once removal was requested.
    Poll { fd: RawFd, live: bool },
    /// One-shot POLLOUT waiting for a non-blocking connect.
    Connect {
        id: SocketId,
        _stream: Rc<TcpStream>,
    },
    /// Multishot receive into the provided-buffer ring.
    Recv {
        id: SocketId,
        _stream: Rc<TcpStream>,
    },
    /// `sendmsg` of a batch of segments.
    Send(SendOp),
    /// One-shot receive (MSG_WAITALL) into the spare capacity of a caller's buffer: the rest
    /// of a large message segment, read in place.
    RecvInto {
        id: SocketId,
        _stream: Rc<TcpStream>,
        buf: Vec<u8>,
    },
}

/// A `sendmsg` op: the segments, their iovecs and the msghdr pointing at them, all owned here.
/// The heap allocations behind `iov` and `msg` do not move when the op moves.
pub(crate) struct SendOp {
    id: SocketId,
    _stream: Rc<TcpStream>,
    bufs: Vec<Bytes>,
    _iov: Vec<libc::iovec>,
    msg: Box<libc::msghdr>,
}

impl SendOp {
    pub(crate) fn new(id: SocketId, stream: Rc<TcpStream>, bufs: Vec<Bytes>) -> Self {
        debug_assert!(bufs.len() <= MAX_IOV);
        let mut iov: Vec<libc::iovec> = bufs
            .iter()
            .map(|b| libc::iovec {
                iov_base: b.as_ptr() as *mut libc::c_void,
                iov_len: b.len(),
            })
            .collect();
        // SAFETY: msghdr is a plain C struct for which all-zero is a valid (empty) value.
        let mut msg: Box<libc::msghdr> = Box::new(unsafe { std::mem::zeroed() });
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len();
        SendOp {
            id,
            _stream: stream,
            bufs,
            _iov: iov,
            msg,
        }
    }

    pub(crate) fn msghdr_ptr(&mut self) -> *const libc::msghdr {
        &*self.msg
    }

    pub(crate) fn into_parts(self) -> (SocketId, Vec<Bytes>) {
        (self.id, self.bufs)
    }
}
