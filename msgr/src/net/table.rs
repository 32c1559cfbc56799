//! The socket table of a center: generation-checked slots.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};

use super::{SocketHandler, SocketId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SockState {
    Connecting,
    Open,
}

pub(crate) struct Socket {
    pub(crate) stream: Rc<TcpStream>,
    pub(crate) handler: Option<Box<dyn SocketHandler>>,
    pub(crate) state: SockState,
    /// Segments not yet handed to the kernel.
    pub(crate) outq: VecDeque<Bytes>,
    /// Small segments queued after `outq`, copied together so that many small frames go out
    /// as one iovec; cut into `outq` before a large segment and at each flush.
    pub(crate) tail: BytesMut,
    /// Bytes in `outq` plus bytes owned by an in-flight send op.
    pub(crate) out_bytes: usize,
    /// Already listed in the center's dirty list.
    pub(crate) dirty: bool,
    /// io_uring op keys.
    pub(crate) recv_op: Option<usize>,
    pub(crate) send_op: Option<usize>,
    pub(crate) connect_op: Option<usize>,
    /// io_uring: a multishot receive cancelled to switch to a direct receive; its last
    /// completion is awaited before the direct receive starts (so bytes stay in order).
    pub(crate) draining: Option<usize>,
    /// io_uring: a receive into the handler's own buffer in flight.
    pub(crate) direct_op: Option<usize>,
    /// io_uring: the receive in `direct_op` is a bridge read (into a buffer of ours, after a
    /// direct receive) rather than into the handler's buffer.
    pub(crate) bridge: bool,
    /// io_uring: bridge reads left before going back to the multishot ring receive.
    pub(crate) bridge_left: u8,
    /// Receiving is paused (back-pressure): no reads (epoll), no receive op (io_uring).
    pub(crate) recv_paused: bool,
}

impl Socket {
    pub(crate) fn new(
        stream: TcpStream,
        handler: Box<dyn SocketHandler>,
        state: SockState,
    ) -> Self {
        Socket {
            stream: Rc::new(stream),
            handler: Some(handler),
            state,
            outq: VecDeque::new(),
            tail: BytesMut::new(),
            out_bytes: 0,
            dirty: false,
            recv_op: None,
            send_op: None,
            connect_op: None,
            draining: None,
            direct_op: None,
            bridge: false,
            bridge_left: 0,
            recv_paused: false,
        }
    }

    /// True while output is queued (not counting an in-flight send op).
    pub(crate) fn has_output(&self) -> bool {
        !self.outq.is_empty() || !self.tail.is_empty()
    }

    /// Moves the copied small segments to the end of `outq`.
    pub(crate) fn cut_tail(&mut self) {
        if !self.tail.is_empty() {
            self.outq.push_back(self.tail.split().freeze());
        }
    }
}

struct Slot {
    generation: u32,
    sock: Option<Socket>,
}

#[derive(Default)]
pub(crate) struct SocketTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    len: usize,
}

impl SocketTable {
    pub(crate) fn insert(&mut self, sock: Socket) -> SocketId {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.sock = Some(sock);
            SocketId {
                index,
                generation: slot.generation,
            }
        } else {
            let index = u32::try_from(self.slots.len()).expect("more than 2^32 sockets");
            self.slots.push(Slot {
                generation: 0,
                sock: Some(sock),
            });
            SocketId {
                index,
                generation: 0,
            }
        }
    }

    pub(crate) fn get(&self, id: SocketId) -> Option<&Socket> {
        self.slots
            .get(id.index as usize)
            .filter(|s| s.generation == id.generation)?
            .sock
            .as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: SocketId) -> Option<&mut Socket> {
        self.slots
            .get_mut(id.index as usize)
            .filter(|s| s.generation == id.generation)?
            .sock
            .as_mut()
    }

    pub(crate) fn remove(&mut self, id: SocketId) -> Option<Socket> {
        let slot = self
            .slots
            .get_mut(id.index as usize)
            .filter(|s| s.generation == id.generation)?;
        let sock = slot.sock.take()?;
        // 31 bits, so a packed id always fits a driver token.
        slot.generation = (slot.generation + 1) & 0x7fff_ffff;
        self.free.push(id.index);
        self.len -= 1;
        Some(sock)
    }

    pub(crate) fn ids(&self) -> Vec<SocketId> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.sock.is_some())
            .map(|(i, s)| SocketId {
                index: i as u32,
                generation: s.generation,
            })
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}
