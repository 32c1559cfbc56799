//! Control-frame payloads (msgr2.md §3.2, §3.3): one struct per tag, each with its Ceph
//! encoding. The fields are simply concatenated, with no versioned envelope (§3.2); addresses use
//! the new marker-based encoding.
//!
//! Every payload implements [`ControlPayload`]: [`ControlPayload::to_frame`] builds the
//! one-segment [`Frame`], [`ControlPayload::from_frame`] checks the tag and decodes it.
//! Decoding ignores trailing bytes after the last known field, as Ceph's frame decoders do.

use bytes::Bytes;

use crate::frames::{Frame, Tag};
use crate::wire::{
    Decode, DecodeError, Encode, EntityAddr, EntityAddrvec, EntityType, Features, Reader, UTime,
};

/// Auth method `none` (§3.3.2).
pub const AUTH_METHOD_NONE: u32 = 1;
/// Auth method `cephx` (§3.3.2); not implemented, named for AUTH_BAD_METHOD replies.
pub const AUTH_METHOD_CEPHX: u32 = 2;
/// Connection mode CRC (§3.3.2): the only mode auth none allows (§3.4.2).
pub const CON_MODE_CRC: u32 = 1;
/// Connection mode SECURE (§3.3.2); not implemented.
pub const CON_MODE_SECURE: u32 = 2;
/// `CEPH_MSG_CONNECT_LOSSY`, bit 0 of the ident flags (§3.3.7, §3.3.8).
pub const CONNECT_LOSSY: u64 = 1;
/// Length of an AUTH_SIGNATURE digest (§3.3.6).
pub const SIGNATURE_LEN: usize = 32;

/// A control-frame payload of one tag (§3.3).
pub trait ControlPayload: Encode + Decode {
    /// The frame tag that carries this payload.
    const TAG: Tag;

    /// The one-segment control frame carrying `self`.
    fn to_frame(&self) -> Frame {
        let mut out = Vec::new();
        self.encode(&mut out);
        control_frame(Self::TAG, Bytes::from(out))
    }

    /// Decodes the payload of `frame`, which must carry [`Self::TAG`]. Trailing bytes after
    /// the known fields are ignored (§3.2: the payloads have no length of their own).
    fn from_frame(frame: &Frame) -> Result<Self, DecodeError> {
        if frame.tag() != Self::TAG {
            return Err(DecodeError::BadValue {
                what: "control frame tag",
                offset: 0,
                value: u64::from(frame.tag().as_u8()),
            });
        }
        let payload = frame.payload();
        Self::decode(&mut Reader::from_bytes(payload))
    }
}

/// The one-segment control frame `tag` carrying `payload`.
pub(crate) fn control_frame(tag: Tag, payload: Bytes) -> Frame {
    let len = payload.len();
    // Only a segment over `u32::MAX` bytes is refused, which no control payload reaches.
    Frame::control(tag, payload).unwrap_or_else(|_| {
        tracing::error!(%tag, len, "control payload does not fit one segment; sending it empty");
        Frame::from_parts(tag, Default::default(), 1)
    })
}

/// Implements [`ControlPayload`] for a struct whose fields are encoded in declaration order.
macro_rules! control_payload {
    ($(#[$meta:meta])* $name:ident = $tag:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty => $what:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl Encode for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                $(self.$field.encode(out);)*
            }
        }

        impl Decode for $name {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                $(let $field = <$ty as Decode>::decode(r).map_err(|e| rename(e, $what))?;)*
                Ok(Self { $($field,)* })
            }
        }

        impl ControlPayload for $name {
            const TAG: Tag = Tag::$tag;
        }
    };
}

/// Puts the field path into a truncation error, so a fault names the field that was short.
fn rename(e: DecodeError, what: &'static str) -> DecodeError {
    match e {
        DecodeError::Truncated {
            offset,
            needed,
            available,
            ..
        } => DecodeError::Truncated {
            what,
            offset,
            needed,
            available,
        },
        other => other,
    }
}

control_payload! {
    /// HELLO (1, §3.3.1): the sender's entity type and the receiver's address as the sender
    /// sees it.
    Hello = Hello {
        /// The sender's entity type.
        entity_type: EntityType => "HELLO.entity_type",
        /// The receiving peer's address as the sender sees it.
        peer_addr: EntityAddr => "HELLO.peer_addr",
    }
}

control_payload! {
    /// AUTH_REQUEST (2, §3.3.2).
    AuthRequest = AuthRequest {
        /// Auth method: [`AUTH_METHOD_NONE`] here.
        method: u32 => "AUTH_REQUEST.method",
        /// Connection modes in preference order ([`CON_MODE_CRC`]).
        preferred_modes: Vec<u32> => "AUTH_REQUEST.preferred_modes",
        /// Method-specific payload (§3.4, [`super::auth::AuthNonePayload`]).
        auth_payload: Bytes => "AUTH_REQUEST.auth_payload",
    }
}

control_payload! {
    /// AUTH_BAD_METHOD (3, §3.3.3): the server refuses the method or mode.
    AuthBadMethod = AuthBadMethod {
        /// The method the client asked for.
        method: u32 => "AUTH_BAD_METHOD.method",
        /// A negative errno: -95 (EOPNOTSUPP) or -13 (EACCES).
        result: i32 => "AUTH_BAD_METHOD.result",
        /// Methods the server accepts for this peer type.
        allowed_methods: Vec<u32> => "AUTH_BAD_METHOD.allowed_methods",
        /// Modes the server accepts.
        allowed_modes: Vec<u32> => "AUTH_BAD_METHOD.allowed_modes",
    }
}

control_payload! {
    /// AUTH_REPLY_MORE (4, §3.3.4): a multi-round (cephx) server reply. Never sent with auth
    /// none.
    AuthReplyMore = AuthReplyMore {
        /// Method-specific payload.
        auth_payload: Bytes => "AUTH_REPLY_MORE.auth_payload",
    }
}

control_payload! {
    /// AUTH_REQUEST_MORE (5, §3.3.4): a multi-round (cephx) client request. Never sent with
    /// auth none.
    AuthRequestMore = AuthRequestMore {
        /// Method-specific payload.
        auth_payload: Bytes => "AUTH_REQUEST_MORE.auth_payload",
    }
}

control_payload! {
    /// AUTH_DONE (6, §3.3.5): authentication succeeded.
    AuthDone = AuthDone {
        /// The client's global id.
        global_id: u64 => "AUTH_DONE.global_id",
        /// The mode the server chose ([`CON_MODE_CRC`]).
        con_mode: u32 => "AUTH_DONE.con_mode",
        /// Method-specific final reply (empty for none).
        auth_payload: Bytes => "AUTH_DONE.auth_payload",
    }
}

control_payload! {
    /// AUTH_SIGNATURE (7, §3.3.6, §3.5): 32 raw bytes, all zero with auth none.
    AuthSignature = AuthSignature {
        /// The HMAC-SHA256 digest, no length prefix.
        signature: [u8; SIGNATURE_LEN] => "AUTH_SIGNATURE.signature",
    }
}

impl AuthSignature {
    /// The signature both sides send and expect with auth none (§3.5): 32 zero bytes.
    pub const fn zero() -> Self {
        Self {
            signature: [0; SIGNATURE_LEN],
        }
    }
}

control_payload! {
    /// CLIENT_IDENT (8, §3.3.7): the identity of a new session.
    ClientIdent = ClientIdent {
        /// The client's own addresses.
        addrs: EntityAddrvec => "CLIENT_IDENT.addrs",
        /// The server address the client dialled.
        target_addr: EntityAddr => "CLIENT_IDENT.target_addr",
        /// The client's entity number (-1 before it has a global id).
        gid: i64 => "CLIENT_IDENT.gid",
        /// The client messenger's global_seq for this attempt (§4.6).
        global_seq: u64 => "CLIENT_IDENT.global_seq",
        /// `CEPH_FEATURE_*` bits the client supports.
        supported_features: Features => "CLIENT_IDENT.supported_features",
        /// Features the client requires from the server (`policy.required | MSG_ADDR2`).
        required_features: Features => "CLIENT_IDENT.required_features",
        /// Bit 0: [`CONNECT_LOSSY`].
        flags: u64 => "CLIENT_IDENT.flags",
        /// The client cookie: random non-zero if lossless, else 0.
        cookie: u64 => "CLIENT_IDENT.cookie",
    }
}

control_payload! {
    /// SERVER_IDENT (9, §3.3.8): the server's identity reply.
    ServerIdent = ServerIdent {
        /// The server's bound addresses; must contain the client's target address.
        addrs: EntityAddrvec => "SERVER_IDENT.addrs",
        /// The server's entity number (mon rank, mgr global id, osd id).
        gid: i64 => "SERVER_IDENT.gid",
        /// The server messenger's global_seq for this reply.
        global_seq: u64 => "SERVER_IDENT.global_seq",
        /// `CEPH_FEATURE_*` bits the server supports.
        supported_features: Features => "SERVER_IDENT.supported_features",
        /// `policy.required | MSG_ADDR2`.
        required_features: Features => "SERVER_IDENT.required_features",
        /// Bit 0: [`CONNECT_LOSSY`].
        flags: u64 => "SERVER_IDENT.flags",
        /// The server cookie: random non-zero if lossless, else 0.
        cookie: u64 => "SERVER_IDENT.cookie",
    }
}

control_payload! {
    /// IDENT_MISSING_FEATURES (10, §3.3.9): features the server requires and the client
    /// lacks.
    IdentMissingFeatures = IdentMissingFeatures {
        /// `(server_required | MSG_ADDR2) & !client_supported`.
        features: Features => "IDENT_MISSING_FEATURES.features",
    }
}

control_payload! {
    /// SESSION_RECONNECT (11, §3.3.10): resume a lossless session.
    SessionReconnect = SessionReconnect {
        /// The client's addresses.
        addrs: EntityAddrvec => "SESSION_RECONNECT.addrs",
        /// The cookie of the session being resumed.
        client_cookie: u64 => "SESSION_RECONNECT.client_cookie",
        /// The server cookie from the earlier SERVER_IDENT.
        server_cookie: u64 => "SESSION_RECONNECT.server_cookie",
        /// The client's global_seq for this attempt.
        global_seq: u64 => "SESSION_RECONNECT.global_seq",
        /// The client's connect_seq (at least 1).
        connect_seq: u64 => "SESSION_RECONNECT.connect_seq",
        /// The client's in_seq: the last message seq it received.
        msg_seq: u64 => "SESSION_RECONNECT.msg_seq",
    }
}

control_payload! {
    /// SESSION_RESET (12, §3.3.11).
    SessionReset = SessionReset {
        /// True: forget the whole session; false: only restart session establishment.
        full: bool => "SESSION_RESET.full",
    }
}

control_payload! {
    /// SESSION_RETRY (13, §3.3.12).
    SessionRetry = SessionRetry {
        /// The server's connect_seq for the session.
        connect_seq: u64 => "SESSION_RETRY.connect_seq",
    }
}

control_payload! {
    /// SESSION_RETRY_GLOBAL (14, §3.3.13).
    SessionRetryGlobal = SessionRetryGlobal {
        /// The highest peer global_seq the server has seen.
        global_seq: u64 => "SESSION_RETRY_GLOBAL.global_seq",
    }
}

control_payload! {
    /// SESSION_RECONNECT_OK (15, §3.3.14).
    SessionReconnectOk = SessionReconnectOk {
        /// The server's in_seq: the last message it received from the client.
        msg_seq: u64 => "SESSION_RECONNECT_OK.msg_seq",
    }
}

/// WAIT (16, §3.3.15): the payload is empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wait;

impl Encode for Wait {
    fn encode(&self, _out: &mut Vec<u8>) {}
}

impl Decode for Wait {
    fn decode(_r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Wait)
    }
}

impl ControlPayload for Wait {
    const TAG: Tag = Tag::Wait;
}

control_payload! {
    /// KEEPALIVE2 (18, §3.3.16).
    Keepalive2 = Keepalive2 {
        /// The sender's timestamp, echoed in the ack.
        timestamp: UTime => "KEEPALIVE2.timestamp",
    }
}

control_payload! {
    /// KEEPALIVE2_ACK (19, §3.3.16).
    Keepalive2Ack = Keepalive2Ack {
        /// The timestamp of the KEEPALIVE2 being acknowledged.
        timestamp: UTime => "KEEPALIVE2_ACK.timestamp",
    }
}

control_payload! {
    /// ACK (20, §3.3.17): sent only on lossless connections.
    Ack = Ack {
        /// The highest message seq received in order.
        seq: u64 => "ACK.seq",
    }
}

#[cfg(test)]
#[path = "control_tests.rs"]
pub(crate) mod tests;
