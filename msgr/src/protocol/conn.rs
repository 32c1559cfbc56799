//! [`Protocol`]: one msgr2 connection as a deterministic, sans-IO object (msgr2.md §4). This
//! file holds the object, its public calls and the plumbing (input decoding, the transmit
//! queue); the connector and acceptor handshakes are in `client.rs` and `server.rs`, READY in
//! `ready.rs`, faults and timers in `fault.rs`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use tracing::{debug, trace};

use super::config::{Config, Policy};
use super::control::{ControlPayload, Hello};
use super::event::{AuthRequestInfo, Event, PeerInfo, Transmit};
use super::session::Session;
use super::{FaultReason, LookupRequest};
use crate::frames::{
    Banner, BannerDecoder, BannerStatus, Decoded, Frame, FrameDecoder, Revision, RxCopyStats,
    assemble_in,
};
use crate::messages::RawMessage;
use crate::wire::{AddrType, EntityAddr, EntityAddrvec, EntityType, UTime};

/// Received bytes being fed in: borrowed, in a shared buffer, or none (a direct read
/// completed a segment, §2.10: the decoder still has to finish it).
enum RxInput<'a> {
    Borrowed(&'a [u8]),
    Shared(Bytes),
    Flush,
}

impl RxInput<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            RxInput::Borrowed(b) => b,
            RxInput::Shared(b) => b,
            RxInput::Flush => &[],
        }
    }

    fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// True while there is input left, and once for a flush.
    fn wants_decode(&mut self) -> bool {
        match self {
            RxInput::Flush => {
                *self = RxInput::Borrowed(&[]);
                true
            }
            _ => self.len() > 0,
        }
    }

    fn advance(&mut self, n: usize) {
        match self {
            RxInput::Borrowed(b) => *b = &b[n.min(b.len())..],
            RxInput::Shared(b) => b.advance(n.min(b.len())),
            RxInput::Flush => {}
        }
    }
}

/// The bytes coming off the current transport: first the peer's banner, then frames.
#[derive(Debug)]
pub(super) enum Input {
    Banner(BannerDecoder),
    /// Boxed: it is large, and allocated once per transport.
    Frames(Box<FrameDecoder>),
}

/// A transport in use.
#[derive(Debug)]
pub(super) struct Link {
    pub input: Input,
    /// When the transport was opened: the ready timeout counts from here (§4.12).
    pub opened: Instant,
    /// When bytes last arrived: the idle timeout counts from here (§4.12).
    pub last_rx: Instant,
}

/// Where the handshake is (§4.3, §4.4), named after Ceph's states. Each variant holds only
/// what that step needs.
#[derive(Debug)]
pub(super) enum Step {
    BannerConnecting,
    HelloConnecting,
    AuthConnecting,
    AuthConnectingSign,
    SessionConnecting,
    SessionReconnecting,
    BannerAccepting,
    HelloAccepting,
    AuthAccepting,
    /// A valid AUTH_REQUEST waits for [`Protocol::accept_auth`].
    AuthDeciding(AuthRequestInfo),
    AuthAcceptingSign,
    SessionAccepting,
    /// CLIENT_IDENT or SESSION_RECONNECT waits for [`Protocol::resolve_lookup`].
    Lookup(Pending),
    Ready,
}

/// The frame behind a pending lookup.
#[derive(Debug)]
pub(super) enum Pending {
    Ident(super::control::ClientIdent),
    Reconnect(super::control::SessionReconnect),
}

/// What part of the life cycle a step belongs to: it decides what a fault does (§4.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Connecting,
    Accepting,
    Ready,
}

impl Step {
    pub fn phase(&self) -> Phase {
        match self {
            Step::BannerConnecting
            | Step::HelloConnecting
            | Step::AuthConnecting
            | Step::AuthConnectingSign
            | Step::SessionConnecting
            | Step::SessionReconnecting => Phase::Connecting,
            Step::Ready => Phase::Ready,
            _ => Phase::Accepting,
        }
    }

    /// Ceph's name of the state, for logs and faults.
    pub fn name(&self) -> &'static str {
        match self {
            Step::BannerConnecting => "BANNER_CONNECTING",
            Step::HelloConnecting => "HELLO_CONNECTING",
            Step::AuthConnecting => "AUTH_CONNECTING",
            Step::AuthConnectingSign => "AUTH_CONNECTING_SIGN",
            Step::SessionConnecting => "SESSION_CONNECTING",
            Step::SessionReconnecting => "SESSION_RECONNECTING",
            Step::BannerAccepting => "BANNER_ACCEPTING",
            Step::HelloAccepting => "HELLO_ACCEPTING",
            Step::AuthAccepting | Step::AuthDeciding(_) => "AUTH_ACCEPTING",
            Step::AuthAcceptingSign => "AUTH_ACCEPTING_SIGN",
            Step::SessionAccepting | Step::Lookup(_) => "SESSION_ACCEPTING",
            Step::Ready => "READY",
        }
    }
}

/// The connection's state: each variant owns only its data.
#[derive(Debug)]
pub(super) enum State {
    /// A transport is open.
    Open { link: Link, step: Step },
    /// A lossless connector waits until `until` before dialling again (§4.8).
    Backoff { until: Instant },
    /// A lossless connection keeps its session and waits: for the peer to reconnect (a
    /// server), or for something to send (§4.8).
    Standby,
    /// The transport of an acceptor failed while its session lookup was pending: it waits
    /// for the verdict, which may hand it a session that must not be lost (§4.9, §4.10;
    /// see `resolve_lookup`); unless it gets one, it then closes, reporting `reason`.
    AwaitingVerdict { reason: FaultReason },
    /// Closed for good.
    Closed,
}

/// One msgr2 connection: the handshake, the session and its replay, as a sans-IO state
/// machine (msgr2.md §4). It never touches a socket or a clock: the caller feeds it bytes
/// ([`Self::handle_input`]) and the time, and carries out what it asks for
/// ([`Self::poll_transmit`], [`Self::poll_timeout`]). Everything it has to report comes out of
/// [`Self::poll_event`].
///
/// After any call, drain [`Self::poll_transmit`] and [`Self::poll_event`], then arm a timer
/// for [`Self::poll_timeout`].
#[derive(Debug)]
pub struct Protocol {
    pub(super) cfg: Config,
    pub(super) policy: Policy,
    /// The peer's type: known up front by a connector, from HELLO by an acceptor.
    pub(super) peer_type: Option<EntityType>,
    /// The address we dial: a connector's target, or inferred from an acceptor's peer.
    pub(super) target: Option<EntityAddr>,
    /// An acceptor's view of the peer's socket address, echoed in HELLO (§3.3.1).
    pub(super) peer_socket: Option<SocketAddr>,
    /// Our addresses, with a learned IP once HELLO told us (§3.3.1).
    pub(super) my_addrs: EntityAddrvec,
    pub(super) state: State,
    pub(super) session: Session,
    /// The frame revision of the current transport (§1.3 rule 5).
    pub(super) rev: Revision,
    /// Bumped for every transport, so that input of a closed one is never misread.
    pub(super) transport: u64,
    /// This connect attempt's global_seq (§4.2).
    pub(super) global_seq: u64,
    /// The global id from AUTH_DONE.
    pub(super) global_id: u64,
    /// The current reconnect backoff; zero after a success (§4.8).
    pub(super) backoff: std::time::Duration,
    /// A KEEPALIVE2 to send once READY, with its timestamp.
    pub(super) keepalive: Option<UTime>,
    pub(super) next_keepalive: Option<Instant>,
    pub(super) last_keepalive_ack: Option<Instant>,
    pub(super) tx: VecDeque<Transmit>,
    /// Where frames' fixed parts (preambles, headers, CRCs, small segments) are written:
    /// reused once the socket has written the pieces cut from it.
    pub(super) arena: BytesMut,
    /// How received segment bytes reached their buffers, since [`Self::take_rx_stats`].
    rx_stats: RxCopyStats,
    pub(super) events: VecDeque<Event>,
    /// The origin of our KEEPALIVE2 timestamps.
    pub(super) epoch: Instant,
}

impl Protocol {
    fn new(cfg: Config, policy: Policy, now: Instant) -> Self {
        let my_addrs = cfg.addrs.clone();
        Protocol {
            cfg,
            policy,
            peer_type: None,
            target: None,
            peer_socket: None,
            my_addrs,
            state: State::Closed,
            session: Session::default(),
            rev: Revision::Rev1,
            transport: 0,
            global_seq: 0,
            global_id: 0,
            backoff: std::time::Duration::ZERO,
            keepalive: None,
            next_keepalive: None,
            last_keepalive_ack: None,
            tx: VecDeque::new(),
            arena: BytesMut::new(),
            rx_stats: RxCopyStats::default(),
            events: VecDeque::new(),
            epoch: now,
        }
    }

    /// A connector to a peer of type `peer_type` at `peer_addrs` (§4.3). The caller is
    /// dialling [`Self::target_addr`] (the first `v2:` address, else the first `any:` one);
    /// the banner is the first thing [`Self::poll_transmit`] returns. Later transports (a
    /// lossless reconnect) are asked for with [`Transmit::Connect`].
    pub fn new_client(
        cfg: Config,
        peer_type: EntityType,
        peer_addrs: &EntityAddrvec,
        now: Instant,
    ) -> Result<Self, NoMsgr2Addr> {
        let target = peer_addrs
            .msgr2_addr()
            .or_else(|| peer_addrs.addr_of_type(AddrType::Any))
            .ok_or_else(|| NoMsgr2Addr(peer_addrs.clone()))?;
        let policy = cfg.policies.policy_for(peer_type);
        let mut p = Protocol::new(cfg, policy, now);
        p.peer_type = Some(peer_type);
        p.target = Some(target);
        p.start_connect(now, false);
        Ok(p)
    }

    /// An acceptor for a transport the peer opened from `peer_socket` (§4.4). Its banner is
    /// the first thing [`Self::poll_transmit`] returns.
    pub fn new_server(cfg: Config, peer_socket: SocketAddr, now: Instant) -> Self {
        let policy = cfg.policies.default;
        let mut p = Protocol::new(cfg, policy, now);
        p.peer_socket = Some(peer_socket);
        p.open_transport(Step::BannerAccepting, now);
        p
    }

    /// The address a connector dials (and redials, §4.8); for an acceptor, the peer's address
    /// once known.
    pub fn target_addr(&self) -> Option<EntityAddr> {
        self.target
    }

    /// The peer, once the session was established.
    pub fn peer(&self) -> Option<&PeerInfo> {
        self.session.peer.as_ref()
    }

    /// True while the session is READY: messages flow.
    pub fn is_ready(&self) -> bool {
        matches!(
            self.state,
            State::Open {
                step: Step::Ready,
                ..
            }
        )
    }

    /// True once the connection is closed for good.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Ceph's name of the current state (`READY`, `STANDBY`, `AUTH_CONNECTING`, ...).
    pub fn state_name(&self) -> &'static str {
        match &self.state {
            State::Open { step, .. } => step.name(),
            State::Backoff { .. } => "START_CONNECT",
            State::Standby => "STANDBY",
            State::AwaitingVerdict { .. } => "SESSION_ACCEPTING",
            State::Closed => "CLOSED",
        }
    }

    /// The policy in force for this connection (a connector adopts the acceptor's lossiness,
    /// §4.1).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// `(out_seq, in_seq)` of the session (§4.2).
    pub fn seqs(&self) -> (u64, u64) {
        (self.session.out_seq, self.session.in_seq)
    }

    /// `(connect_seq, client_cookie, server_cookie)` of the session (§4.2).
    pub fn session_ids(&self) -> (u64, u64, u64) {
        let s = &self.session;
        (s.connect_seq, s.client_cookie, s.server_cookie)
    }

    /// Messages queued and not yet written, and messages written and not yet acknowledged.
    pub fn queue_lens(&self) -> (usize, usize) {
        (self.session.queued_len(), self.session.unacked_len())
    }

    /// The auth request waiting for [`Self::accept_auth`] or [`Self::reject_auth`], if any.
    pub fn pending_auth(&self) -> Option<&AuthRequestInfo> {
        match &self.state {
            State::Open {
                step: Step::AuthDeciding(info),
                ..
            } => Some(info),
            _ => None,
        }
    }

    /// When the last KEEPALIVE2_ACK arrived (MonClient's ping timeout watches this).
    pub fn last_keepalive_ack(&self) -> Option<Instant> {
        self.last_keepalive_ack
    }

    /// Feeds bytes read from the current transport, in any split. Call it whenever bytes
    /// arrive; then drain [`Self::poll_transmit`] and [`Self::poll_event`]. Every message
    /// segment is copied out of `data`; [`Self::handle_bytes`] avoids that.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) {
        self.input(RxInput::Borrowed(data), now);
    }

    /// [`Self::handle_input`] for bytes in a shared receive buffer: message segments that
    /// arrived whole in `data` are slices of it (no copy, no allocation).
    pub fn handle_bytes(&mut self, data: Bytes, now: Instant) {
        self.input(RxInput::Shared(data), now);
    }

    /// Where the rest of a large incoming segment may be read straight into, when at least
    /// `min` bytes of it are still to come (zero-copy receive of big payloads): append to the
    /// vector's spare capacity, then report the count with [`Self::direct_filled`].
    pub fn direct_buf(&mut self, min: usize) -> Option<&mut Vec<u8>> {
        match &mut self.state {
            State::Open {
                link:
                    Link {
                        input: Input::Frames(decoder),
                        ..
                    },
                ..
            } => decoder.direct_buf(min),
            _ => None,
        }
    }

    /// [`Self::direct_buf`] lent out by value, for a receive that owns its buffer
    /// (io_uring); feed nothing else until [`Self::put_direct`] gives it back.
    pub fn take_direct(&mut self, min: usize) -> Option<Vec<u8>> {
        self.direct_buf(min).map(std::mem::take)
    }

    /// Gives back the buffer of [`Self::take_direct`] with `n` bytes appended, as
    /// [`Self::direct_filled`] accounts for them.
    pub fn put_direct(&mut self, buf: Vec<u8>, n: usize, now: Instant) {
        self.after_direct(now, |d| d.put_direct(buf, n));
    }

    /// `n` bytes were appended to the [`Self::direct_buf`]: account for them and finish the
    /// segment (and frame) if they complete it.
    pub fn direct_filled(&mut self, n: usize, now: Instant) {
        self.after_direct(now, |d| d.direct_filled(n));
    }

    /// A direct read reached the frame decoder (`f`): note the time and the bytes, and finish
    /// whatever it completed.
    fn after_direct(&mut self, now: Instant, f: impl FnOnce(&mut FrameDecoder)) {
        let State::Open { link, .. } = &mut self.state else {
            return;
        };
        let Input::Frames(decoder) = &mut link.input else {
            return;
        };
        link.last_rx = now;
        f(decoder);
        self.rx_stats += decoder.take_stats();
        self.input(RxInput::Flush, now);
    }

    /// How received message bytes reached their buffers since the last call: copied,
    /// zero-copy slices of the receive buffer, or read straight into place.
    pub fn take_rx_stats(&mut self) -> RxCopyStats {
        std::mem::take(&mut self.rx_stats)
    }

    fn input(&mut self, mut data: RxInput<'_>, now: Instant) {
        let transport = self.transport;
        while data.wants_decode() && self.transport == transport {
            let State::Open { link, .. } = &mut self.state else {
                trace!(len = data.len(), "input with no open transport dropped");
                return;
            };
            link.last_rx = now;
            match &mut link.input {
                Input::Banner(decoder) => match decoder.decode(data.as_slice()) {
                    Ok(BannerStatus::NeedMore) => return,
                    Ok(BannerStatus::Done {
                        consumed,
                        negotiated,
                    }) => {
                        data.advance(consumed);
                        let start = crate::frames::BANNER_LEN as u64;
                        link.input = Input::Frames(Box::new(
                            FrameDecoder::new(negotiated.revision, self.cfg.limits)
                                .starting_at(start),
                        ));
                        self.rev = negotiated.revision;
                        self.on_banner();
                    }
                    Err(e) => return self.fault(FaultReason::Banner(e), now),
                },
                Input::Frames(decoder) => {
                    let decoded = match &data {
                        RxInput::Shared(b) => decoder.decode_shared(b),
                        _ => decoder.decode(data.as_slice()),
                    };
                    self.rx_stats += decoder.take_stats();
                    match decoded {
                        Ok(Decoded {
                            consumed,
                            frame: Some(frame),
                        }) => {
                            data.advance(consumed);
                            self.on_frame(frame, now);
                        }
                        Ok(Decoded { frame: None, .. }) => return,
                        Err(e) => return self.fault(FaultReason::Frame(e), now),
                    }
                }
            }
        }
    }

    /// The transport was closed by the peer, failed, or could not be dialled: a fault (§4.8).
    pub fn handle_transport_closed(&mut self, now: Instant) {
        if matches!(self.state, State::Open { .. }) {
            self.fault(FaultReason::TransportClosed, now);
        }
    }

    /// The next thing to carry out, in order: bytes to write, or a transport to close or
    /// dial. Call it until it returns `None` after every other call. Messages are framed here,
    /// as late as possible, so that a higher-priority message queued meanwhile goes first.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(t) = self.tx.pop_front() {
            return Some(t);
        }
        if self.is_ready() {
            self.write_ready();
            return self.tx.pop_front();
        }
        None
    }

    /// [`Self::poll_transmit`] for a batch: the pieces of every frame due before the next
    /// non-frame order are appended to `out` (messages are framed straight into it), and that
    /// order is returned, or `None` once nothing is left. Write `out` before carrying out the
    /// returned order. One call drains a whole send queue into one `writev`.
    pub fn poll_transmit_batch(&mut self, out: &mut Vec<Bytes>) -> Option<Transmit> {
        loop {
            match self.tx.pop_front() {
                Some(Transmit::Frame { wire, .. }) => out.extend(wire),
                Some(t) => return Some(t),
                None if self.is_ready() => {
                    if !self.write_ready_into(out) {
                        return None;
                    }
                }
                None => return None,
            }
        }
    }

    /// The next event, if any. Call it until it returns `None` after every other call.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Queues `msg` for the peer (§4.7). Its `seq` and `ack_seq` are set when it is written;
    /// it waits until the session is READY. Dropped if the connection is closed. In STANDBY a
    /// lossless connector dials again (§4.8).
    pub fn send_message(&mut self, msg: RawMessage, now: Instant) {
        if self.is_closed() {
            debug!(
                msg_type = msg.header.msg_type,
                "connection closed, message dropped"
            );
            return;
        }
        self.session.queue(msg);
        self.wake_from_standby(now);
    }

    /// Sends a KEEPALIVE2 stamped with `now` once READY (§3.3.16, §4.7).
    pub fn send_keepalive(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        self.keepalive = Some(UTime::from_duration(
            now.saturating_duration_since(self.epoch),
        ));
        self.wake_from_standby(now);
    }

    /// Closes the connection (Ceph's `mark_down`): queued messages are dropped, the transport
    /// is closed, and no event is reported.
    pub fn close(&mut self) {
        if self.is_closed() {
            return;
        }
        debug!(state = self.state_name(), "closing");
        self.stop();
    }

    // ---- plumbing shared by the handshake files ----

    /// Starts a connect attempt: a new global_seq, a new transport and our banner (§4.3).
    /// `dial` asks the caller to open the transport first (a reconnect).
    pub(super) fn start_connect(&mut self, now: Instant, dial: bool) {
        self.global_seq = self.cfg.shared.next_global_seq(0);
        if dial && let Some(target) = self.target {
            self.tx.push_back(Transmit::Connect(target));
        }
        self.open_transport(Step::BannerConnecting, now);
    }

    /// A fresh transport in `step`, with our banner queued (§1.1).
    pub(super) fn open_transport(&mut self, step: Step, now: Instant) {
        self.transport += 1;
        self.rev = Revision::Rev1;
        let banner = Banner::pacific();
        self.tx
            .push_back(Transmit::Banner(bytes::Bytes::copy_from_slice(
                &banner.encode(),
            )));
        self.state = State::Open {
            link: Link {
                input: Input::Banner(BannerDecoder::new(banner)),
                opened: now,
                last_rx: now,
            },
            step,
        };
    }

    /// Queues `frame` for the current transport.
    pub(super) fn send_frame(&mut self, frame: &Frame) {
        trace!(tag = %frame.tag(), len = frame.payload_len(), "send");
        self.tx.push_back(Transmit::Frame {
            tag: frame.tag(),
            wire: assemble_in(frame.tag(), frame.segments(), self.rev, &mut self.arena),
        });
    }

    /// Queues a control payload.
    pub(super) fn send<T: ControlPayload>(&mut self, payload: &T) {
        self.send_frame(&payload.to_frame());
    }

    /// Replaces the current step, if a transport is open.
    pub(super) fn set_step(&mut self, next: Step) {
        if let State::Open { step, .. } = &mut self.state {
            *step = next;
        }
    }

    /// Both roles write HELLO once the peer's banner is read (§1.3, §3.3.1).
    fn on_banner(&mut self) {
        let State::Open { step, .. } = &self.state else {
            return;
        };
        let (peer_addr, next) = match step {
            Step::BannerConnecting => (self.target.unwrap_or_default(), Step::HelloConnecting),
            _ => (
                self.peer_socket
                    .map_or_else(EntityAddr::blank, |s| EntityAddr::msgr2(s, 0)),
                Step::HelloAccepting,
            ),
        };
        self.send(&Hello {
            entity_type: self.cfg.entity_type(),
            peer_addr,
        });
        self.set_step(next);
    }

    /// Dispatches a frame to the handler of the current step. A handler returns the next
    /// step, or the reason to fault.
    fn on_frame(&mut self, frame: Frame, now: Instant) {
        let step = match &mut self.state {
            State::Open { step, .. } => std::mem::replace(step, Step::Ready),
            _ => return,
        };
        let phase = step.phase();
        let name = step.name();
        trace!(tag = %frame.tag(), state = name, "received");
        let transport = self.transport;
        let result = match phase {
            Phase::Connecting => self.client_frame(step, &frame, now),
            Phase::Accepting => self.server_frame(step, &frame, now),
            Phase::Ready => self.ready_frame(frame, now).map(|()| Step::Ready),
        };
        if self.transport != transport || !matches!(self.state, State::Open { .. }) {
            return;
        }
        match result {
            Ok(next) => self.set_step(next),
            Err(reason) => self.fault_in(reason, phase, now),
        }
    }

    /// Our addresses for an ident: the configured ones, with the IP learned from the peer's
    /// HELLO filled in where it is blank (§3.3.1). A client that does not listen advertises
    /// `any:IP:0/nonce`.
    pub(super) fn learn_addr(&mut self, seen: &EntityAddr) {
        let Some(ip) = seen.ip().filter(|ip| !ip.is_unspecified()) else {
            return;
        };
        if self.my_addrs.is_empty() {
            self.my_addrs = EntityAddrvec::single(EntityAddr::new(
                AddrType::Any,
                SocketAddr::new(ip, 0),
                self.cfg.nonce,
            ));
            debug!(addrs = %self.my_addrs, "learned my address");
            return;
        }
        for addr in &mut self.my_addrs.addrs {
            if addr.is_blank_ip() {
                addr.sockaddr = Some(SocketAddr::new(ip, addr.port()));
            }
        }
    }

    /// The lookup request of a pending step, for tests and the messenger.
    pub(super) fn pending_request(p: &Pending) -> LookupRequest {
        match p {
            Pending::Ident(i) => LookupRequest::Ident {
                client_cookie: i.cookie,
                global_seq: i.global_seq,
            },
            Pending::Reconnect(r) => LookupRequest::Reconnect(r.clone()),
        }
    }
}

/// [`Protocol::new_client`] was given no `v2:` (or `any:`) address to dial.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no v2 address to connect to in {0}")]
pub struct NoMsgr2Addr(pub EntityAddrvec);
