//! [`FaultReason`]: why a connection faulted (msgr2.md §4.8). Every bad frame or field from
//! the peer ends up here, is logged, and is reported in an [`Event`](super::Event).

use std::time::Duration;

use thiserror::Error;

use crate::frames::{BannerError, DecodeError as FrameDecodeError, Tag};
use crate::messages::MessageError;
use crate::wire::{DecodeError, EntityAddr, EntityAddrvec, EntityType, Features};

/// Why a connection faulted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FaultReason {
    /// The peer's banner was refused (§1.3).
    #[error("banner: {0}")]
    Banner(BannerError),
    /// A frame could not be decoded: bad CRC, bad preamble, over a limit (§2).
    #[error("{0}")]
    Frame(FrameDecodeError),
    /// A control payload could not be decoded (§3.3).
    #[error("bad {tag} payload: {source}")]
    BadPayload {
        /// The frame's tag.
        tag: Tag,
        /// What was wrong.
        source: DecodeError,
    },
    /// A MESSAGE frame could not be taken apart (§5).
    #[error("bad MESSAGE: {0}")]
    BadMessage(MessageError),
    /// A frame whose tag is not expected in the current state (§4.3, §4.4, §2.10 step 4).
    #[error("unexpected {tag} in state {state}")]
    UnexpectedFrame {
        /// The frame's tag.
        tag: Tag,
        /// Ceph's name of our state.
        state: &'static str,
    },
    /// The peer's HELLO names another entity type than the one we dialled (§3.3.1).
    #[error("peer is a {found}, expected a {expected} (§3.3.1)")]
    PeerTypeMismatch {
        /// The type we dialled.
        expected: EntityType,
        /// The type in the peer's HELLO.
        found: EntityType,
    },
    /// The server refused our auth method and we have no other (§3.3.3).
    #[error(
        "auth method {method} refused with {result}; server allows methods {allowed_methods:?}, modes {allowed_modes:?} (§3.3.3)"
    )]
    AuthBadMethod {
        /// The method we asked for.
        method: u32,
        /// The server's negative errno.
        result: i32,
        /// Methods the server allows.
        allowed_methods: Vec<u32>,
        /// Modes the server allows.
        allowed_modes: Vec<u32>,
    },
    /// Multi-round auth (AUTH_REPLY_MORE / AUTH_REQUEST_MORE, cephx) is not supported.
    #[error("multi-round auth ({0}) is not supported with auth none (§3.3.4)")]
    AuthMoreUnsupported(Tag),
    /// AUTH_DONE chose a connection mode other than CRC (§3.4.4).
    #[error("server chose connection mode {0}; only CRC (1) is supported (§3.4.4)")]
    BadConMode(u32),
    /// The peer's AUTH_SIGNATURE is not the expected one (zeros with auth none, §3.5).
    #[error("AUTH_SIGNATURE mismatch (§3.5)")]
    BadSignature,
    /// We refused the peer's auth with -EBUSY: close without a reply (§3.4.2 step 3).
    #[error("auth refused: not ready to authenticate (-EBUSY, §3.4.2)")]
    AuthBusy,
    /// SERVER_IDENT does not list the address we dialled (§4.5).
    #[error("server identifies as {addrs}, which does not include our target {target} (§4.5)")]
    WrongServer {
        /// The server's addresses.
        addrs: EntityAddrvec,
        /// The address we dialled.
        target: EntityAddr,
    },
    /// CLIENT_IDENT with no address or a blank first one (§4.4 step 1).
    #[error("CLIENT_IDENT has no address, or a blank one (§4.4)")]
    BlankClientAddrs,
    /// CLIENT_IDENT targets an address that is not ours (§4.4 step 2).
    #[error("peer is trying to reach {target}, which is not us ({ours}) (§4.4)")]
    NotOurAddr {
        /// The client's target address.
        target: EntityAddr,
        /// Our addresses.
        ours: EntityAddrvec,
    },
    /// IDENT_MISSING_FEATURES: the server requires features we lack (§3.3.9).
    #[error("server requires features we lack: {0} (§3.3.9)")]
    MissingFeatures(Features),
    /// WAIT: the server is resolving a connection race; retry after the longest backoff (§4.8).
    #[error("peer told us to WAIT (connection race, §4.9)")]
    Wait,
    /// This new connection lost to an existing one with a newer global_seq (§4.9 row 3).
    #[error("stale connection: the existing session has a newer global_seq (§4.9)")]
    Stale,
    /// A new connection from the same peer took the place of this lossy one (§4.9 row 4).
    #[error("replaced by a new connection from the same peer (§4.9)")]
    Superseded,
    /// The transport was closed by the peer, or failed.
    #[error("transport closed or failed")]
    TransportClosed,
    /// The handshake did not reach READY in time (§4.12).
    #[error("handshake did not complete within {0:?} (§4.12)")]
    ReadyTimeout(Duration),
    /// Nothing was received for too long while READY (§4.12).
    #[error("nothing received for {0:?} (§4.12)")]
    Idle(Duration),
}

impl FaultReason {
    /// True if the connection must not be retried: Ceph `stop()`s and reports a reset whatever
    /// the policy (§1.3 rules 3-4, §3.3.1, §4.9 row 3).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            FaultReason::Banner(
                BannerError::PeerRequiresUnsupported { .. } | BannerError::PeerLacksRequired { .. }
            ) | FaultReason::PeerTypeMismatch { .. }
                | FaultReason::Stale
        )
    }
}
