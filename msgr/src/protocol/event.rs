//! What a [`Protocol`](super::Protocol) hands out: bytes and transport orders
//! ([`Transmit`]), and things that happened ([`Event`]).

use bytes::Bytes;

use super::FaultReason;
use super::auth::AuthNonePayload;
use super::control::SessionReconnect;
use super::session::Session;
use crate::frames::{Tag, WireFrame};
use crate::messages::RawMessage;
use crate::wire::{EntityAddr, EntityAddrvec, EntityNameT, EntityType, Features, UTime};

/// One item from [`Protocol::poll_transmit`](super::Protocol::poll_transmit), to be carried out
/// in order.
// A frame's pieces are moved out by value, as the frames layer hands them over: boxing them
// would cost an allocation per frame to save a move of ~240 bytes.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Transmit {
    /// Our 26-byte banner (§1.1), the first bytes on every transport.
    Banner(Bytes),
    /// One frame, as pieces for one `writev` (§2).
    Frame {
        /// The frame's tag, for logs and test interceptors.
        tag: Tag,
        /// The bytes.
        wire: WireFrame,
    },
    /// Shut the current transport down; bytes read from it must no longer be fed in.
    Close,
    /// Dial `addr` for a new transport (a lossless reconnect, §4.8). What follows belongs to
    /// it; if dialling fails, call
    /// [`Protocol::handle_transport_closed`](super::Protocol::handle_transport_closed).
    Connect(EntityAddr),
}

impl Transmit {
    /// The bytes to write, in order; empty for [`Transmit::Close`] and [`Transmit::Connect`].
    pub fn pieces(&self) -> &[Bytes] {
        match self {
            Transmit::Banner(b) => std::slice::from_ref(b),
            Transmit::Frame { wire, .. } => wire.pieces(),
            Transmit::Close | Transmit::Connect(_) => &[],
        }
    }

    /// The bytes as one vector (tests and logs).
    pub fn to_vec(&self) -> Vec<u8> {
        self.pieces()
            .iter()
            .flat_map(|p| p.iter().copied())
            .collect()
    }
}

/// The peer, once the session is established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer's name: its type (HELLO) and gid (CLIENT_IDENT / SERVER_IDENT), §5.2.
    pub name: EntityNameT,
    /// The peer's addresses from its ident.
    pub addrs: EntityAddrvec,
    /// The connection features: the peer's supported bits and ours (§4.5).
    pub features: Features,
    /// The global id from AUTH_DONE: the one the server gave us (connector) or the one we
    /// gave the client (acceptor).
    pub global_id: u64,
    /// Whether the session is lossy (the acceptor's choice, §4.1).
    pub lossy: bool,
}

/// A valid auth-none request waiting for the application's decision
/// ([`AuthDecision::Application`](super::AuthDecision::Application)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequestInfo {
    /// The peer's entity type from HELLO.
    pub peer_type: EntityType,
    /// The auth payload: the peer's name and the global id it presents.
    pub payload: AuthNonePayload,
}

/// What an acceptor needs from the messenger before it can answer (§4.9, §4.10): is there an
/// existing connection to `peer_addrs`? Find it and pass it this request with
/// [`Protocol::judge`](super::Protocol::judge), then give the verdict (or
/// [`Verdict::NoSession`] if there is none) to
/// [`Protocol::resolve_lookup`](super::Protocol::resolve_lookup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLookup {
    /// The peer's addresses, the registry key.
    pub peer_addrs: EntityAddrvec,
    /// Our msgr2 address, for the connection-race tie-break.
    pub my_addr: EntityAddr,
    /// The request.
    pub request: LookupRequest,
}

/// The frame that started a [`SessionLookup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupRequest {
    /// CLIENT_IDENT for a new session (§4.9).
    Ident {
        /// The client's cookie.
        client_cookie: u64,
        /// The client's global_seq.
        global_seq: u64,
    },
    /// SESSION_RECONNECT (§4.10).
    Reconnect(SessionReconnect),
}

/// The answer to a [`SessionLookup`].
#[derive(Debug)]
pub enum Verdict {
    /// No (live) existing connection: a new session (SERVER_IDENT), or SESSION_RESET(full) to
    /// a reconnect.
    NoSession,
    /// Reply SESSION_RESET(full) (§4.10 rows 2, 4, 5).
    Reset {
        /// Whether the peer must forget the whole session.
        full: bool,
    },
    /// Reply SESSION_RETRY with this connect_seq (§4.10 row 7).
    Retry(u64),
    /// Reply SESSION_RETRY_GLOBAL with this global_seq (§4.10 row 6).
    RetryGlobal(u64),
    /// Reply WAIT: the existing connection wins a race (§4.9 row 8, §4.10 row 8).
    Wait,
    /// This connection is stale: close it without a reply (§4.9 row 3).
    Stale,
    /// Take over the existing session (§4.9 "reuse", §4.10 row 9).
    Reuse(SessionHandoff),
}

/// A session moved out of one [`Protocol`](super::Protocol) into another: its queues, seqs,
/// cookies, and whether it was reset on the way (the peer restarted, §4.9 row 5). Opaque.
#[derive(Debug)]
pub struct SessionHandoff(pub(super) Box<Session>, pub(super) bool);

/// Something that happened, from [`Protocol::poll_event`](super::Protocol::poll_event).
#[derive(Debug, Clone)]
pub enum Event {
    /// The session is READY (SERVER_IDENT, SESSION_RECONNECT_OK, or our reply to them).
    Connected {
        /// Who the peer is.
        peer: PeerInfo,
        /// True if an existing session was resumed (SESSION_RECONNECT, or a session taken
        /// over on the acceptor), false for a new one.
        resumed: bool,
    },
    /// A message from the peer, in order, each once.
    Message(RawMessage),
    /// The peer answered our KEEPALIVE2 with this timestamp (§3.3.16).
    KeepaliveAck(UTime),
    /// The transport failed; the connection recovers by itself (a lossless reconnect, a
    /// backoff, or STANDBY waiting for the peer). Queued messages are kept.
    Faulted(FaultReason),
    /// The connection is closed for good: queued and unacknowledged messages are dropped
    /// (Ceph's `ms_handle_reset`). No further events follow.
    Reset(FaultReason),
    /// The peer forgot our session (SESSION_RESET, or a restart detected through its
    /// cookie): messages not yet acknowledged were dropped (Ceph's `ms_handle_remote_reset`).
    /// The connection itself goes on with a new session.
    RemoteReset,
    /// An acceptor waits for [`Protocol::accept_auth`](super::Protocol::accept_auth) or
    /// [`Protocol::reject_auth`](super::Protocol::reject_auth).
    AuthRequest(AuthRequestInfo),
    /// An acceptor waits for [`Protocol::resolve_lookup`](super::Protocol::resolve_lookup).
    SessionLookup(SessionLookup),
    /// Our session was taken over by another connection to the same peer (a
    /// [`Verdict::Reuse`] from [`Protocol::judge`](super::Protocol::judge)). This object is
    /// closed; no further events follow.
    Replaced,
}
