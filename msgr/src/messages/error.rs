//! [`MessageError`]: why a MESSAGE frame or a message payload was refused.

use thiserror::Error;

use crate::frames::Tag;
use crate::wire::DecodeError;

/// A message that cannot be taken apart or decoded. Each is a connection fault with a logged
/// reason at the protocol layer (peer input never panics).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MessageError {
    /// [`RawMessage::from_frame`](super::RawMessage::from_frame) was given a frame that is not
    /// a MESSAGE (§5).
    #[error("frame tag {tag:?} is not MESSAGE (§5)")]
    NotAMessage {
        /// The frame's tag.
        tag: Tag,
    },
    /// A MESSAGE frame with no segment, or more than 4 (§5.1).
    #[error("a MESSAGE frame has 1 to 4 segments, got {count} (§5.1)")]
    BadSegmentCount {
        /// How many segments were given.
        count: usize,
    },
    /// Segment 0 is not the 41 bytes of `ceph_msg_header2` (§5.2).
    #[error("segment 0 is {len} bytes, ceph_msg_header2 is 41 (§5.2)")]
    BadHeaderLen {
        /// Length of segment 0.
        len: usize,
    },
    /// A typed decoder was handed a message of another type.
    #[error("{name}: message type {found} is not {expected}")]
    WrongType {
        /// The decoder's message class.
        name: &'static str,
        /// The decoder's type number.
        expected: u16,
        /// The header's type number.
        found: u16,
    },
    /// The sender's `compat_version` is above the highest version this decoder knows: Ceph
    /// would not understand it either (§5.6).
    #[error(
        "{name} (type {msg_type}): encoding v{version} needs a decoder of v{compat_version} \
         or newer, this one is v{supported} (§5.6)"
    )]
    IncompatibleVersion {
        /// The message class.
        name: &'static str,
        /// The type number.
        msg_type: u16,
        /// The header's `version`.
        version: u16,
        /// The header's `compat_version`.
        compat_version: u16,
        /// This decoder's HEAD_VERSION.
        supported: u16,
    },
    /// A segment that this message type never uses is not empty (§5.1, §6.6).
    #[error("{name} (type {msg_type}): unexpected {len}-byte {segment} segment (§6.6)")]
    UnexpectedSegment {
        /// The message class.
        name: &'static str,
        /// The type number.
        msg_type: u16,
        /// `"middle"` or `"data"`.
        segment: &'static str,
        /// The segment's length.
        len: usize,
    },
    /// The front (or data) does not hold a valid encoding of the message (§6.6).
    #[error("{name} (type {msg_type}) v{version}: {source}")]
    Payload {
        /// The message class.
        name: &'static str,
        /// The type number.
        msg_type: u16,
        /// The header's `version`.
        version: u16,
        /// What is wrong, and at which offset of the segment.
        #[source]
        source: DecodeError,
    },
}
