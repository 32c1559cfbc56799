//! [`CephMessage`]: the trait every typed message implements, and the version rules of
//! msgr2.md §5.6 applied in one place.

use bytes::Bytes;

use super::{MessageError, MsgHeader2, Payload, RawMessage};
use crate::wire::{DecodeError, Features, Reader};

/// A typed Ceph message (msgr2.md §6.6): its type number (§5.5), the (HEAD, COMPAT) versions it
/// is sent with (§5.6), and the encoding of its payload.
///
/// Implementors write [`Self::encode_payload`] and [`Self::decode_payload`]; callers use
/// [`Self::to_raw`] and [`Self::from_raw`], which fill in and check the header.
pub trait CephMessage: Sized {
    /// Message type number (§5.5).
    const TYPE: u16;
    /// Ceph's class name, e.g. `"MMonCommand"`, for errors and logs.
    const NAME: &'static str;
    /// The version this crate encodes, and the highest it decodes (§6.6).
    const HEAD_VERSION: u16;
    /// The `compat_version` this crate sends (§6.6).
    const COMPAT_VERSION: u16;

    /// Encodes the front, middle and data segments for a peer with connection `features`
    /// (§6.5). The messages here have one encoding for every msgr2 peer, so most ignore it.
    fn encode_payload(&self, features: Features) -> Payload;

    /// Decodes the payload of a message whose header is `header`. The type and
    /// `compat_version` have already been checked by [`Self::from_raw`]; `header.version`
    /// selects which fields are present (§5.6).
    fn decode_payload(header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError>;

    /// A header for this message: its type and versions, default priority, zero seq, tid and
    /// ack_seq (see [`MsgHeader2::new`]).
    fn header() -> MsgHeader2 {
        MsgHeader2::new(Self::TYPE, Self::HEAD_VERSION, Self::COMPAT_VERSION)
    }

    /// The message as a [`RawMessage`] with [`Self::header`]. Set `tid` and `priority` on the
    /// result as needed; the session sets `seq` and `ack_seq`.
    fn to_raw(&self, features: Features) -> RawMessage {
        RawMessage::from_payload(Self::header(), self.encode_payload(features))
    }

    /// Decodes `raw`, which must carry [`Self::TYPE`] and a `compat_version` no higher than
    /// [`Self::HEAD_VERSION`] (§5.6).
    fn from_raw(raw: &RawMessage) -> Result<Self, MessageError> {
        let header = &raw.header;
        if header.msg_type != Self::TYPE {
            return Err(MessageError::WrongType {
                name: Self::NAME,
                expected: Self::TYPE,
                found: header.msg_type,
            });
        }
        if header.compat_version > Self::HEAD_VERSION {
            return Err(MessageError::IncompatibleVersion {
                name: Self::NAME,
                msg_type: Self::TYPE,
                version: header.version,
                compat_version: header.compat_version,
                supported: Self::HEAD_VERSION,
            });
        }
        Self::decode_payload(header, &raw.payload())
    }
}

/// Decodes the front of an `M` with `fields`, then checks that nothing is left over, unless
/// the sender's version is newer than ours: a newer sender may append fields, which are
/// skipped (§5.6). Bufferlists read from the front share its allocation.
pub(crate) fn decode_front<M: CephMessage, T>(
    header: &MsgHeader2,
    front: &Bytes,
    fields: impl FnOnce(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<T, MessageError> {
    let mut r = Reader::from_bytes(front);
    let value = fields(&mut r).and_then(|value| {
        if header.version <= M::HEAD_VERSION {
            r.expect_end(M::NAME)?;
        }
        Ok(value)
    });
    value.map_err(|source| MessageError::Payload {
        name: M::NAME,
        msg_type: M::TYPE,
        version: header.version,
        source,
    })
}

/// Fails with [`MessageError::UnexpectedSegment`] if `M` does not use the `segment` (middle
/// or data) but it is not empty.
pub(crate) fn expect_empty<M: CephMessage>(
    segment: &'static str,
    bytes: &Bytes,
) -> Result<(), MessageError> {
    if bytes.is_empty() {
        Ok(())
    } else {
        Err(MessageError::UnexpectedSegment {
            name: M::NAME,
            msg_type: M::TYPE,
            segment,
            len: bytes.len(),
        })
    }
}

/// [`expect_empty`] for the middle and data segments of a message that only has a front.
pub(crate) fn front_only<M: CephMessage>(payload: &Payload) -> Result<(), MessageError> {
    expect_empty::<M>("middle", &payload.middle)?;
    expect_empty::<M>("data", &payload.data)
}

/// Encodes a front with `fields`.
pub(crate) fn encode_front(fields: impl FnOnce(&mut Vec<u8>)) -> Bytes {
    let mut out = Vec::new();
    fields(&mut out);
    Bytes::from(out)
}
