//! One connection: a handle any thread may use ([`Connection`]), and the state its worker
//! owns ([`ConnInner`]: the sans-IO [`Protocol`], the current socket, the timer). This is glue
//! only: bytes from the socket go into the protocol, and what the protocol asks for
//! (writes, closes, redials, events) is carried out here.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;

use super::dispatch::{Incoming, Item};
use super::{MessengerInner, registry};
use crate::event::{CenterHandle, EventCenter, TimerId};
use crate::messages::{CephMessage, Message, RawMessage};
use crate::net::{CloseReason, SocketHandler, SocketId};
use crate::protocol::{Event, PeerInfo, Protocol, Transmit};
use crate::wire::features::CEPH_FEATURES_ALL;
use crate::wire::{EntityAddrvec, EntityType};

const CONNECTING: u8 = 0;
const READY: u8 = 1;
const CLOSED: u8 = 2;

pub(crate) struct ConnShared {
    pub(crate) id: u64,
    pub(crate) center: CenterHandle,
    pub(crate) msgr: std::sync::Weak<MessengerInner>,
    pub(crate) outgoing: bool,
    state: AtomicU8,
    info: Mutex<ConnInfo>,
    outbox: Mutex<Outbox>,
}

/// Messages sent from any thread, waiting for the connection's worker to take them (one
/// cross-thread event drains many), and where the session went if another connection took it
/// over. Both under one lock, so a send either lands here or follows the session, in order.
#[derive(Default)]
struct Outbox {
    queue: std::collections::VecDeque<RawMessage>,
    /// An emptied queue kept for its capacity (swapped with `queue` on each drain).
    spare: std::collections::VecDeque<RawMessage>,
    drain_scheduled: bool,
    /// The worker is pumping this connection (dispatching what it received): sends from the
    /// dispatcher are picked up at the end of that pump, with no event scheduled.
    in_pump: bool,
    replaced_by: Option<Connection>,
}

struct ConnInfo {
    peer_type: Option<EntityType>,
    peer_addrs: EntityAddrvec,
    peer: Option<PeerInfo>,
}

/// A connection to a peer (Ceph's `Connection`). Cheap to clone; usable from any thread.
/// Sending queues the message on the connection's worker, which writes it when the session
/// is ready (and, for lossless sessions, replays it after a reconnect until acknowledged).
#[derive(Clone)]
pub struct Connection(pub(crate) Arc<ConnShared>);

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.0.id)
            .field("outgoing", &self.0.outgoing)
            .finish()
    }
}

impl PartialEq for Connection {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Connection {
    pub(crate) fn new(
        id: u64,
        center: CenterHandle,
        msgr: std::sync::Weak<MessengerInner>,
        outgoing: bool,
        peer_type: Option<EntityType>,
        peer_addrs: EntityAddrvec,
    ) -> Self {
        Connection(Arc::new(ConnShared {
            id,
            center,
            msgr,
            outgoing,
            state: AtomicU8::new(CONNECTING),
            info: Mutex::new(ConnInfo {
                peer_type,
                peer_addrs,
                peer: None,
            }),
            outbox: Mutex::new(Outbox::default()),
        }))
    }

    fn info(&self) -> std::sync::MutexGuard<'_, ConnInfo> {
        self.0.info.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A number unique within the messenger.
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// True for connections we dialled.
    pub fn is_outgoing(&self) -> bool {
        self.0.outgoing
    }

    /// The peer's entity type (known at once for outgoing connections, after HELLO otherwise).
    pub fn peer_type(&self) -> Option<EntityType> {
        let i = self.info();
        i.peer.as_ref().map(|p| p.name.ty).or(i.peer_type)
    }

    /// The peer's addresses (those dialled, or those it announced).
    pub fn peer_addrs(&self) -> EntityAddrvec {
        self.info().peer_addrs.clone()
    }

    /// The established session's peer (name, features, global id, lossiness).
    pub fn peer(&self) -> Option<PeerInfo> {
        self.info().peer.clone()
    }

    /// True while the session is READY.
    pub fn is_connected(&self) -> bool {
        self.0.state.load(Ordering::Acquire) == READY
    }

    /// True once the connection is closed for good (reset or marked down).
    pub fn is_closed(&self) -> bool {
        self.0.state.load(Ordering::Acquire) == CLOSED
    }

    /// Queues `msg` for the peer (any thread). Its seq is assigned when it is written. Messages
    /// sent through one handle reach the peer in the order sent, also when the session moves
    /// to another connection (§4.9 reuse).
    pub fn send_message(&self, msg: RawMessage) {
        let mut target = self.clone();
        loop {
            let mut ob = target.outbox();
            if let Some(next) = ob.replaced_by.clone() {
                drop(ob);
                target = next;
                continue;
            }
            ob.queue.push_back(msg);
            let schedule = !ob.in_pump && !std::mem::replace(&mut ob.drain_scheduled, true);
            drop(ob);
            if schedule {
                target.schedule_drain();
            }
            return;
        }
    }

    fn outbox(&self) -> std::sync::MutexGuard<'_, Outbox> {
        self.0.outbox.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn schedule_drain(&self) {
        let me = self.clone();
        self.0
            .center
            .dispatch_event_external(move |c| me.drain_outbox(c));
    }

    /// Takes what was queued (keeping an emptied queue's capacity for next time).
    fn take_outbox(ob: &mut Outbox) -> std::collections::VecDeque<RawMessage> {
        let spare = std::mem::take(&mut ob.spare);
        std::mem::replace(&mut ob.queue, spare)
    }

    /// Gives an emptied queue back for its capacity.
    fn return_outbox(&self, msgs: std::collections::VecDeque<RawMessage>) {
        let mut ob = self.outbox();
        if ob.spare.capacity() < msgs.capacity() {
            ob.spare = msgs;
        }
    }

    /// Marks the start or end of a pump; at the end, returns what the dispatcher sent meanwhile.
    fn set_in_pump(&self, on: bool) -> std::collections::VecDeque<RawMessage> {
        let mut ob = self.outbox();
        ob.in_pump = on;
        if on || ob.queue.is_empty() {
            return std::collections::VecDeque::new();
        }
        Self::take_outbox(&mut ob)
    }

    /// On the connection's worker: hands every queued message to the protocol.
    fn drain_outbox(&self, c: &mut EventCenter) {
        let msgs = {
            let mut ob = self.outbox();
            ob.drain_scheduled = false;
            Self::take_outbox(&mut ob)
        };
        if msgs.is_empty() {
            return;
        }
        let Some(rc) = table(c).get(self.id()) else {
            tracing::debug!(
                conn = self.id(),
                dropped = msgs.len(),
                "send on a closed connection: messages dropped"
            );
            return;
        };
        self.feed(&rc, msgs);
        pump(c, &rc);
    }

    /// Hands taken outbox messages to the protocol, then gives the emptied queue back.
    fn feed(&self, rc: &Rc<RefCell<ConnInner>>, mut msgs: std::collections::VecDeque<RawMessage>) {
        let now = Instant::now();
        {
            let mut i = rc.borrow_mut();
            for m in msgs.drain(..) {
                i.proto.send_message(m, now);
            }
        }
        self.return_outbox(msgs);
    }

    /// Encodes a typed message with the session's features (all of ours before the session is
    /// up) and queues it; `tid` goes in the header.
    pub fn send<M: CephMessage>(&self, msg: &M, tid: u64) {
        let features = self.peer().map_or(CEPH_FEATURES_ALL, |p| p.features);
        let mut raw = msg.to_raw(features);
        raw.header.tid = tid;
        self.send_message(raw);
    }

    /// Sends a KEEPALIVE2 (§3.3.16).
    pub fn send_keepalive(&self) {
        let id = self.0.id;
        self.0.center.dispatch_event_external(move |c| {
            if let Some(rc) = table(c).get(id) {
                rc.borrow_mut().proto.send_keepalive(Instant::now());
                pump(c, &rc);
            }
        });
    }

    /// Closes the connection for good and drops what it had queued (Ceph's `mark_down`); no
    /// reset is reported for it.
    pub fn mark_down(&self) {
        self.0.state.store(CLOSED, Ordering::Release);
        let id = self.0.id;
        self.0.center.dispatch_event_external(move |c| {
            let Some(rc) = table(c).get(id) else { return };
            rc.borrow_mut().proto.close();
            let msgr = rc.borrow().conn.0.msgr.upgrade();
            match msgr {
                Some(m) => close_inner(c, &m, &rc),
                None => drop(table(c).remove(id)),
            }
        });
    }

    /// Resumes reading after the dispatch throttle drained.
    pub(crate) fn resume_recv(&self) {
        let id = self.0.id;
        self.0.center.dispatch_event_external(move |c| {
            if let Some(rc) = table(c).get(id) {
                let mut i = rc.borrow_mut();
                i.paused = false;
                if let Some(s) = i.sock {
                    c.set_recv_paused(s, false);
                }
            }
        });
    }
}

/// The connections a center owns, by id.
#[derive(Default)]
pub(crate) struct ConnTable {
    conns: RefCell<HashMap<u64, Rc<RefCell<ConnInner>>>>,
}

impl ConnTable {
    pub(crate) fn get(&self, id: u64) -> Option<Rc<RefCell<ConnInner>>> {
        self.conns.borrow().get(&id).cloned()
    }
    pub(crate) fn insert(&self, inner: Rc<RefCell<ConnInner>>) {
        let id = inner.borrow().conn.id();
        self.conns.borrow_mut().insert(id, inner);
    }
    pub(crate) fn remove(&self, id: u64) -> Option<Rc<RefCell<ConnInner>>> {
        self.conns.borrow_mut().remove(&id)
    }
    /// One line per connection: id, direction, protocol state, seqs, queues, socket.
    pub(crate) fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .conns
            .borrow()
            .values()
            .map(|rc| {
                let i = rc.borrow();
                let (out_seq, in_seq) = i.proto.seqs();
                let (queued, sent) = i.proto.queue_lens();
                format!(
                    "conn {} {} state={} out_seq={out_seq} in_seq={in_seq} queued={queued} unacked={sent} sock={:?} paused={} peer={}",
                    i.conn.id(),
                    if i.conn.is_outgoing() { "out" } else { "in" },
                    i.proto.state_name(),
                    i.sock,
                    i.paused,
                    i.conn.peer_addrs(),
                )
            })
            .collect();
        lines.sort();
        lines
    }
}

pub(crate) fn table(c: &mut EventCenter) -> Rc<ConnTable> {
    c.local::<ConnTable>()
}

/// Fault injection (Ceph's `ms_inject_socket_failures`): fail a socket operation with
/// probability 1/`every`.
struct Inject {
    every: u64,
    rng: u64,
}

impl Inject {
    fn fire(&mut self) -> bool {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng
            .wrapping_mul(0x2545_f491_4f6c_dd1d)
            .is_multiple_of(self.every)
    }
}

/// What a worker keeps for one connection.
pub(crate) struct ConnInner {
    pub(crate) conn: Connection,
    pub(crate) proto: Protocol,
    pub(crate) sock: Option<SocketId>,
    timer: Option<(TimerId, Instant)>,
    paused: bool,
    /// Frame pieces being batched for the socket (kept for its capacity).
    out: Vec<Bytes>,
    inject: Option<Inject>,
}

impl ConnInner {
    pub(crate) fn new(conn: Connection, proto: Protocol, inject_every: u64) -> Rc<RefCell<Self>> {
        let inject = (inject_every > 0).then(|| Inject {
            every: inject_every,
            rng: 0x9e37_79b9 ^ conn.id().wrapping_mul(0x1000_0001) | 1,
        });
        Rc::new(RefCell::new(ConnInner {
            conn,
            proto,
            sock: None,
            timer: None,
            paused: false,
            out: Vec::new(),
            inject,
        }))
    }

    /// Drops the transport as if the socket had failed (fault injection).
    fn inject_fault(&mut self, c: &mut EventCenter, now: Instant) {
        if let Some(s) = self.sock.take() {
            tracing::debug!(conn = self.conn.id(), "injecting socket failure");
            if let Some(m) = self.conn.0.msgr.upgrade() {
                m.injected.fetch_add(1, Ordering::Relaxed);
            }
            c.close(s);
            self.proto.handle_transport_closed(now);
        }
    }

    fn injects(&mut self) -> bool {
        self.inject.as_mut().is_some_and(Inject::fire)
    }
}

/// The socket handler of a connection's current transport.
pub(crate) struct ConnSocket(pub(crate) Rc<RefCell<ConnInner>>);

/// What a socket handed over.
enum Received {
    Bytes(Bytes),
    /// `n` bytes appended to the protocol's direct buffer (epoll).
    InPlace(usize),
    /// The direct buffer back from an io_uring receive, `n` bytes appended.
    Lent(Vec<u8>, usize),
}

/// Payload still to come, in bytes, from which the rest of a segment is read straight into
/// its own buffer instead of through the center's receive buffer (epoll).
const DIRECT_RECV_MIN: usize = 32 * 1024;

impl ConnSocket {
    /// Feeds received bytes, or the count of a direct read (with the lent buffer, if it was
    /// lent), to the protocol.
    fn received(&mut self, c: &mut EventCenter, sock: SocketId, data: Received) {
        let now = Instant::now();
        let Some(m) = self.0.borrow().conn.0.msgr.upgrade() else {
            return;
        };
        {
            let mut i = self.0.borrow_mut();
            if i.sock != Some(sock) {
                return;
            }
            if i.injects() {
                i.inject_fault(c, now);
            } else {
                match data {
                    Received::Bytes(bytes) => i.proto.handle_bytes(bytes, now),
                    Received::InPlace(n) => i.proto.direct_filled(n, now),
                    Received::Lent(buf, n) => i.proto.put_direct(buf, n, now),
                }
            }
            let st = i.proto.take_rx_stats();
            m.rx_copied.fetch_add(st.copied, Ordering::Relaxed);
            m.rx_shared.fetch_add(st.shared, Ordering::Relaxed);
            m.rx_direct.fetch_add(st.direct, Ordering::Relaxed);
        }
        pump(c, &self.0);
        // Back-pressure for every connection, not only the one whose message overflowed the
        // dispatch queue: while it is over its limit, stop reading here too.
        if m.dispatch.throttle.is_over() {
            pause_for_throttle(c, &m, &self.0);
        }
    }
}

impl SocketHandler for ConnSocket {
    fn on_data(&mut self, c: &mut EventCenter, sock: SocketId, data: &[u8]) {
        self.received(c, sock, Received::Bytes(Bytes::copy_from_slice(data)));
    }

    fn on_bytes(&mut self, c: &mut EventCenter, sock: SocketId, data: Bytes) {
        self.received(c, sock, Received::Bytes(data));
    }

    fn recv_direct(
        &mut self,
        c: &mut EventCenter,
        sock: SocketId,
        read: &mut dyn FnMut(&mut Vec<u8>) -> std::io::Result<usize>,
    ) -> Option<std::io::Result<usize>> {
        let res = {
            let mut i = self.0.borrow_mut();
            if i.sock != Some(sock) {
                return None;
            }
            read(i.proto.direct_buf(DIRECT_RECV_MIN)?)
        };
        if let Ok(n) = res
            && n > 0
        {
            self.received(c, sock, Received::InPlace(n));
        }
        Some(res)
    }

    fn wants_direct(&mut self) -> bool {
        self.0
            .borrow_mut()
            .proto
            .direct_buf(DIRECT_RECV_MIN)
            .is_some()
    }

    fn take_direct_buf(&mut self) -> Option<Vec<u8>> {
        self.0.borrow_mut().proto.take_direct(DIRECT_RECV_MIN)
    }

    fn direct_done(&mut self, c: &mut EventCenter, sock: SocketId, buf: Vec<u8>, n: usize) {
        self.received(c, sock, Received::Lent(buf, n));
    }

    fn on_closed(&mut self, c: &mut EventCenter, sock: SocketId, reason: CloseReason) {
        let now = Instant::now();
        let refused = matches!(&reason, CloseReason::Error(e) if e.kind() == std::io::ErrorKind::ConnectionRefused);
        {
            let mut i = self.0.borrow_mut();
            if i.sock != Some(sock) {
                return;
            }
            tracing::debug!(conn = i.conn.id(), ?reason, "transport closed");
            i.sock = None;
            if refused && let Some(m) = i.conn.0.msgr.upgrade() {
                m.dispatch.enqueue(Item::Refused(i.conn.clone()));
            }
            i.proto.handle_transport_closed(now);
        }
        pump(c, &self.0);
    }
}

/// Carries out everything the protocol asks for until it has nothing more, then re-arms its
/// timer.
pub(crate) fn pump(c: &mut EventCenter, rc: &Rc<RefCell<ConnInner>>) {
    let Some(msgr) = rc.borrow().conn.0.msgr.upgrade() else {
        return;
    };
    let conn = rc.borrow().conn.clone();
    loop {
        let mut progressed = false;
        let mut frames = false;
        loop {
            // Every frame due goes into one batch, written with one send_vectored.
            let (t, sent) = {
                let mut i = rc.borrow_mut();
                let mut out = std::mem::take(&mut i.out);
                let t = i.proto.poll_transmit_batch(&mut out);
                let sent = !out.is_empty();
                if sent && let Some(s) = i.sock {
                    let _ = c.send_vectored(s, out.drain(..));
                }
                out.clear();
                i.out = out;
                (t, sent)
            };
            frames |= sent;
            progressed |= sent;
            let Some(t) = t else { break };
            progressed = true;
            transmit(c, rc, t);
        }
        // Fault injection counts a batch of frames as one socket operation (one writev), as
        // Ceph counts each send: per frame, a long queue would never get out.
        if frames {
            let mut i = rc.borrow_mut();
            if i.injects() {
                i.inject_fault(c, Instant::now());
            }
        }
        conn.set_in_pump(true);
        loop {
            let e = rc.borrow_mut().proto.poll_event();
            let Some(e) = e else { break };
            progressed = true;
            on_event(c, &msgr, rc, e);
        }
        // What the dispatcher sent on this connection meanwhile goes out in this pump.
        let sent = conn.set_in_pump(false);
        if !sent.is_empty() {
            progressed = true;
            conn.feed(rc, sent);
        }
        if !progressed {
            break;
        }
    }
    rearm_timer(c, rc);
}

fn transmit(c: &mut EventCenter, rc: &Rc<RefCell<ConnInner>>, t: Transmit) {
    let mut i = rc.borrow_mut();
    match t {
        Transmit::Banner(b) => {
            if let Some(s) = i.sock {
                let _ = c.send(s, b);
            }
        }
        Transmit::Frame { wire, .. } => {
            if let Some(s) = i.sock {
                let _ = c.send_vectored(s, wire);
            }
        }
        Transmit::Close => {
            if let Some(s) = i.sock.take() {
                c.close(s);
            }
        }
        Transmit::Connect(addr) => {
            if let Some(s) = i.sock.take() {
                c.close(s);
            }
            drop(i);
            let dialled = match addr.sockaddr {
                Some(sa) => c.connect_boxed(sa, Box::new(ConnSocket(rc.clone()))),
                None => Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "blank peer address",
                )),
            };
            let mut i = rc.borrow_mut();
            match dialled {
                Ok(s) => {
                    i.sock = Some(s);
                    if i.paused {
                        c.set_recv_paused(s, true);
                    }
                }
                Err(e) => {
                    tracing::debug!(conn = i.conn.id(), error = %e, "redial failed");
                    i.proto.handle_transport_closed(Instant::now());
                }
            }
        }
    }
}

fn on_event(
    c: &mut EventCenter,
    msgr: &Arc<MessengerInner>,
    rc: &Rc<RefCell<ConnInner>>,
    e: Event,
) {
    let conn = rc.borrow().conn.clone();
    match e {
        Event::Connected { peer, resumed } => {
            {
                let mut info = conn.info();
                info.peer_addrs = if conn.is_outgoing() {
                    info.peer_addrs.clone()
                } else {
                    peer.addrs.clone()
                };
                info.peer = Some(peer);
            }
            conn.0.state.store(READY, Ordering::Release);
            registry::remember(msgr, &conn);
            if !resumed {
                msgr.dispatch.enqueue(if conn.is_outgoing() {
                    Item::Connect(conn)
                } else {
                    Item::Accept(conn)
                });
            }
        }
        Event::Message(raw) => deliver(c, msgr, rc, &conn, raw),
        Event::KeepaliveAck(_) => {}
        Event::Faulted(reason) => {
            tracing::debug!(conn = conn.id(), %reason, "connection faulted; recovering");
            if conn.is_connected() {
                conn.0.state.store(CONNECTING, Ordering::Release);
            }
        }
        Event::Reset(reason) => {
            tracing::debug!(conn = conn.id(), %reason, "connection reset");
            close_inner(c, msgr, rc);
            msgr.dispatch.enqueue(Item::Reset(conn));
        }
        Event::RemoteReset => msgr.dispatch.enqueue(Item::RemoteReset(conn)),
        Event::AuthRequest(info) => {
            let gid = match info.payload.global_id() {
                0 => rc.borrow().proto_shared_next_global_id(),
                g => g,
            };
            rc.borrow_mut().proto.accept_auth(gid, Instant::now());
        }
        Event::SessionLookup(lookup) => registry::lookup(c, msgr, rc, lookup),
        Event::Replaced => {
            close_inner(c, msgr, rc);
        }
    }
}

impl ConnInner {
    fn proto_shared_next_global_id(&self) -> u64 {
        self.conn
            .0
            .msgr
            .upgrade()
            .map_or(0, |m| m.config().shared.next_global_id())
    }
}

/// Removes a connection that is closed for good from its center and the registry.
fn close_inner(c: &mut EventCenter, msgr: &Arc<MessengerInner>, rc: &Rc<RefCell<ConnInner>>) {
    let mut i = rc.borrow_mut();
    i.conn.0.state.store(CLOSED, Ordering::Release);
    if let Some(s) = i.sock.take() {
        c.close(s);
    }
    if let Some((t, _)) = i.timer.take() {
        c.delete_time_event(t);
    }
    let conn = i.conn.clone();
    drop(i);
    table(c).remove(conn.id());
    registry::forget(msgr, &conn);
}

fn deliver(
    c: &mut EventCenter,
    msgr: &Arc<MessengerInner>,
    rc: &Rc<RefCell<ConnInner>>,
    conn: &Connection,
    raw: RawMessage,
) {
    let header = raw.header;
    let bytes = raw.front.len() + raw.middle.len() + raw.data.len();
    let message = match Message::decode(raw) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(conn = conn.id(), msg_type = header.msg_type, error = %e, "undecodable message; closing the connection");
            rc.borrow_mut().proto.close();
            return;
        }
    };
    let incoming = Incoming {
        header,
        message,
        bytes,
    };
    if let Some(d) = msgr.dispatch.chain.fast_target(&incoming) {
        d.ms_fast_dispatch(conn, incoming);
        return;
    }
    let over = msgr.dispatch.throttle.take(bytes);
    msgr.dispatch.enqueue(Item::Message(conn.clone(), incoming));
    if over {
        pause_for_throttle(c, msgr, rc);
    }
}

/// Pauses receiving on this connection until the dispatch queue drains.
fn pause_for_throttle(
    c: &mut EventCenter,
    msgr: &Arc<MessengerInner>,
    rc: &Rc<RefCell<ConnInner>>,
) {
    let mut i = rc.borrow_mut();
    if i.paused {
        return;
    }
    i.paused = true;
    if let Some(s) = i.sock {
        c.set_recv_paused(s, true);
    }
    let conn = i.conn.clone();
    drop(i);
    msgr.dispatch.throttle.park(conn);
}

fn rearm_timer(c: &mut EventCenter, rc: &Rc<RefCell<ConnInner>>) {
    let mut i = rc.borrow_mut();
    let want = i.proto.poll_timeout();
    match (want, i.timer) {
        (None, Some((t, _))) => {
            c.delete_time_event(t);
            i.timer = None;
        }
        // An armed timer that fires no later than needed is kept: when it fires early the
        // protocol does nothing and we re-arm (saves a cancel + insert per message).
        (Some(d), Some((_, armed))) if armed <= d => {}
        (Some(d), current) => {
            if let Some((t, _)) = current {
                c.delete_time_event(t);
            }
            let weak: Weak<RefCell<ConnInner>> = Rc::downgrade(rc);
            let after = d.saturating_duration_since(Instant::now());
            let id = c.create_time_event(after, move |c| {
                let Some(rc) = weak.upgrade() else { return };
                {
                    let mut i = rc.borrow_mut();
                    i.timer = None;
                    i.proto.handle_timeout(Instant::now());
                }
                pump(c, &rc);
            });
            i.timer = Some((id, d));
        }
        (None, None) => {}
    }
}

/// Records that `old`'s session moved to `new` (on `old`'s worker, right after the judge):
/// later sends on `old` go to `new`, and what `old` had not yet taken from its outbox goes to
/// the front of `new`'s, keeping the order of sends.
pub(crate) fn set_replaced(old: &Connection, new: &Connection) {
    let mut from = old.outbox();
    from.replaced_by = Some(new.clone());
    let moved = std::mem::take(&mut from.queue);
    from.drain_scheduled = false;
    let mut to = new.outbox();
    for m in moved.into_iter().rev() {
        to.queue.push_front(m);
    }
    let schedule = !to.queue.is_empty() && !std::mem::replace(&mut to.drain_scheduled, true);
    drop(to);
    drop(from);
    if schedule {
        new.schedule_drain();
    }
}
