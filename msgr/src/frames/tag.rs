//! Frame tags (§3.1).

use std::fmt;

use super::FrameError;

/// The tag in preamble byte 0: what a frame is (§3.1). Values 21 and 22 exist only from Quincy
/// on and are never sent by or to Pacific; they are listed so that a decoder names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Tag {
    /// `HELLO` (1): entity type and the address the sender sees for its peer (§3.3.1).
    Hello = 1,
    /// `AUTH_REQUEST` (2), client to server (§3.3.2).
    AuthRequest = 2,
    /// `AUTH_BAD_METHOD` (3), server to client (§3.3.3).
    AuthBadMethod = 3,
    /// `AUTH_REPLY_MORE` (4), server to client, cephx only (§3.3.4).
    AuthReplyMore = 4,
    /// `AUTH_REQUEST_MORE` (5), client to server, cephx only (§3.3.4).
    AuthRequestMore = 5,
    /// `AUTH_DONE` (6), server to client (§3.3.5).
    AuthDone = 6,
    /// `AUTH_SIGNATURE` (7), both ways (§3.3.6).
    AuthSignature = 7,
    /// `CLIENT_IDENT` (8), client to server (§3.3.7).
    ClientIdent = 8,
    /// `SERVER_IDENT` (9), server to client (§3.3.8).
    ServerIdent = 9,
    /// `IDENT_MISSING_FEATURES` (10), server to client (§3.3.9).
    IdentMissingFeatures = 10,
    /// `SESSION_RECONNECT` (11), client to server (§3.3.10).
    SessionReconnect = 11,
    /// `SESSION_RESET` (12), server to client (§3.3.11).
    SessionReset = 12,
    /// `SESSION_RETRY` (13), server to client (§3.3.12).
    SessionRetry = 13,
    /// `SESSION_RETRY_GLOBAL` (14), server to client (§3.3.13).
    SessionRetryGlobal = 14,
    /// `SESSION_RECONNECT_OK` (15), server to client (§3.3.14).
    SessionReconnectOk = 15,
    /// `WAIT` (16), server to client, empty payload (§3.3.15).
    Wait = 16,
    /// `MESSAGE` (17): header2, front, middle, data segments (§5).
    Message = 17,
    /// `KEEPALIVE2` (18) (§3.3.16).
    Keepalive2 = 18,
    /// `KEEPALIVE2_ACK` (19) (§3.3.16).
    Keepalive2Ack = 19,
    /// `ACK` (20) (§3.3.17).
    Ack = 20,
    /// `COMPRESSION_REQUEST` (21), Quincy and later only (§2.8).
    CompressionRequest = 21,
    /// `COMPRESSION_DONE` (22), Quincy and later only (§2.8).
    CompressionDone = 22,
}

impl Tag {
    /// Every tag, in value order.
    pub const ALL: [Tag; 22] = [
        Tag::Hello,
        Tag::AuthRequest,
        Tag::AuthBadMethod,
        Tag::AuthReplyMore,
        Tag::AuthRequestMore,
        Tag::AuthDone,
        Tag::AuthSignature,
        Tag::ClientIdent,
        Tag::ServerIdent,
        Tag::IdentMissingFeatures,
        Tag::SessionReconnect,
        Tag::SessionReset,
        Tag::SessionRetry,
        Tag::SessionRetryGlobal,
        Tag::SessionReconnectOk,
        Tag::Wait,
        Tag::Message,
        Tag::Keepalive2,
        Tag::Keepalive2Ack,
        Tag::Ack,
        Tag::CompressionRequest,
        Tag::CompressionDone,
    ];

    /// The tag with wire value `value`, or `None` for a value §3.1 does not list.
    pub const fn from_u8(value: u8) -> Option<Tag> {
        match value {
            1..=22 => Some(Tag::ALL[value as usize - 1]),
            _ => None,
        }
    }

    /// The wire value.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// Ceph's name for the tag, e.g. `"KEEPALIVE2_ACK"`.
    pub const fn ceph_name(self) -> &'static str {
        match self {
            Tag::Hello => "HELLO",
            Tag::AuthRequest => "AUTH_REQUEST",
            Tag::AuthBadMethod => "AUTH_BAD_METHOD",
            Tag::AuthReplyMore => "AUTH_REPLY_MORE",
            Tag::AuthRequestMore => "AUTH_REQUEST_MORE",
            Tag::AuthDone => "AUTH_DONE",
            Tag::AuthSignature => "AUTH_SIGNATURE",
            Tag::ClientIdent => "CLIENT_IDENT",
            Tag::ServerIdent => "SERVER_IDENT",
            Tag::IdentMissingFeatures => "IDENT_MISSING_FEATURES",
            Tag::SessionReconnect => "SESSION_RECONNECT",
            Tag::SessionReset => "SESSION_RESET",
            Tag::SessionRetry => "SESSION_RETRY",
            Tag::SessionRetryGlobal => "SESSION_RETRY_GLOBAL",
            Tag::SessionReconnectOk => "SESSION_RECONNECT_OK",
            Tag::Wait => "WAIT",
            Tag::Message => "MESSAGE",
            Tag::Keepalive2 => "KEEPALIVE2",
            Tag::Keepalive2Ack => "KEEPALIVE2_ACK",
            Tag::Ack => "ACK",
            Tag::CompressionRequest => "COMPRESSION_REQUEST",
            Tag::CompressionDone => "COMPRESSION_DONE",
        }
    }
}

impl TryFrom<u8> for Tag {
    type Error = FrameError;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Tag::from_u8(value).ok_or(FrameError::UnknownTag { tag: value })
    }
}

impl From<Tag> for u8 {
    fn from(tag: Tag) -> u8 {
        tag.as_u8()
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ceph_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_the_spec_table() {
        let table: [(u8, &str); 22] = [
            (1, "HELLO"),
            (2, "AUTH_REQUEST"),
            (3, "AUTH_BAD_METHOD"),
            (4, "AUTH_REPLY_MORE"),
            (5, "AUTH_REQUEST_MORE"),
            (6, "AUTH_DONE"),
            (7, "AUTH_SIGNATURE"),
            (8, "CLIENT_IDENT"),
            (9, "SERVER_IDENT"),
            (10, "IDENT_MISSING_FEATURES"),
            (11, "SESSION_RECONNECT"),
            (12, "SESSION_RESET"),
            (13, "SESSION_RETRY"),
            (14, "SESSION_RETRY_GLOBAL"),
            (15, "SESSION_RECONNECT_OK"),
            (16, "WAIT"),
            (17, "MESSAGE"),
            (18, "KEEPALIVE2"),
            (19, "KEEPALIVE2_ACK"),
            (20, "ACK"),
            (21, "COMPRESSION_REQUEST"),
            (22, "COMPRESSION_DONE"),
        ];
        for (value, name) in table {
            let tag = Tag::try_from(value).unwrap();
            assert_eq!(tag.as_u8(), value);
            assert_eq!(tag.ceph_name(), name);
            assert_eq!(tag.to_string(), name);
        }
    }

    #[test]
    fn unknown_values_are_errors() {
        for value in (0..=255u8).filter(|v| !(1..=22).contains(v)) {
            assert_eq!(Tag::from_u8(value), None);
            assert_eq!(
                Tag::try_from(value),
                Err(FrameError::UnknownTag { tag: value })
            );
        }
    }
}
