//! Minimal TCP plumbing on the event engine: connected sockets as byte pipes, listeners,
//! non-blocking connect. The same API runs on both drivers: epoll does `read`/`writev` on
//! readiness, io_uring does multishot receives into provided buffers and `sendmsg` ops.
//!
//! Output is queued with [`EventCenter::send`](crate::EventCenter::send) and written at the
//! start of the next loop iteration, one `writev`/`sendmsg` per socket for everything queued
//! meanwhile.

mod listen;
mod socket;
mod table;

use std::io;

pub use listen::{ListenerId, bind_listener};
pub(crate) use table::SocketTable;

use crate::EventCenter;

/// Identifies a socket within its center. Carries a generation, so an id held after its
/// socket closed never reaches a newer socket that reuses the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SocketId {
    index: u32,
    generation: u32,
}

impl SocketId {
    /// Packs the id into 63 bits (driver tokens use the 64th).
    pub(crate) fn to_raw(self) -> u64 {
        u64::from(self.generation) << 32 | u64::from(self.index)
    }

    pub(crate) fn from_raw(raw: u64) -> Self {
        SocketId {
            index: raw as u32,
            generation: (raw >> 32) as u32,
        }
    }
}

/// Why a socket closed, as told to [`SocketHandler::on_closed`].
#[derive(Debug)]
pub enum CloseReason {
    /// The peer closed its side (EOF).
    PeerClosed,
    /// The socket failed: connect refused, reset, broken pipe…
    Error(io::Error),
}

/// Callbacks for one socket, run on its center's thread. A handler may call any
/// [`EventCenter`] method, including closing its own socket.
pub trait SocketHandler: 'static {
    /// A non-blocking connect finished. Output queued before this is sent now.
    fn on_connected(&mut self, _center: &mut EventCenter, _sock: SocketId) {}

    /// Bytes arrived. `data` is only valid during the call (it may be a kernel-provided buffer
    /// that goes back to the ring afterwards): copy what must be kept.
    fn on_data(&mut self, center: &mut EventCenter, sock: SocketId, data: &[u8]);

    /// Bytes arrived, in a buffer the handler may keep (slices of it stay valid: it is
    /// reference-counted). The center calls this, not [`on_data`](Self::on_data); the default
    /// lends the bytes to `on_data`. Override it to keep received bytes without copying.
    fn on_bytes(&mut self, center: &mut EventCenter, sock: SocketId, data: bytes::Bytes) {
        self.on_data(center, sock, &data);
    }

    /// epoll only, before each read: a handler expecting a large payload may receive the next
    /// bytes straight into its own buffer by calling `read` on it (which appends up to the
    /// vector's spare capacity), and returns what `read` returned. `None` (the default) means
    /// an ordinary read into the center's buffer followed by [`on_bytes`](Self::on_bytes).
    fn recv_direct(
        &mut self,
        _center: &mut EventCenter,
        _sock: SocketId,
        _read: &mut dyn FnMut(&mut Vec<u8>) -> std::io::Result<usize>,
    ) -> Option<std::io::Result<usize>> {
        None
    }

    /// io_uring, after bytes were delivered: true if the handler expects a large payload
    /// whose rest it would rather receive straight into its own buffer. The center then stops
    /// the ring receive and, once it has stopped, asks for the buffer with
    /// [`take_direct_buf`](Self::take_direct_buf).
    fn wants_direct(&mut self) -> bool {
        false
    }

    /// io_uring: the buffer to receive into (its spare capacity is filled), if still wanted.
    /// It comes back through [`direct_done`](Self::direct_done); no other bytes arrive
    /// meanwhile.
    fn take_direct_buf(&mut self) -> Option<Vec<u8>> {
        None
    }

    /// io_uring: the buffer from [`take_direct_buf`](Self::take_direct_buf), with `n > 0`
    /// bytes received appended.
    fn direct_done(
        &mut self,
        _center: &mut EventCenter,
        _sock: SocketId,
        _buf: Vec<u8>,
        _n: usize,
    ) {
    }

    /// The socket closed for a reason other than [`EventCenter::close`]; it is already gone.
    fn on_closed(&mut self, _center: &mut EventCenter, _sock: SocketId, _reason: CloseReason) {}
}
