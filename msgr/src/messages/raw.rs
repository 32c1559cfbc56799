//! [`RawMessage`]: a MESSAGE frame taken apart into header2, front, middle and data (§5.1),
//! with the payload left undecoded.

use bytes::{Bytes, BytesMut};

use super::{MessageError, MsgHeader2};
use crate::frames::assemble::{Seg0, assemble_parts};
use crate::frames::{AssembleError, Frame, MAX_NUM_SEGMENTS, Revision, Tag, WirePieces};
use crate::wire::Encode;

/// Segment 0 of a MESSAGE frame, decoded: exactly [`MsgHeader2::LEN`] bytes (§5.2).
fn header_of(seg0: &[u8]) -> Result<MsgHeader2, MessageError> {
    if seg0.len() != MsgHeader2::LEN {
        return Err(MessageError::BadHeaderLen { len: seg0.len() });
    }
    MsgHeader2::from_bytes(seg0).map_err(|_| MessageError::BadHeaderLen { len: seg0.len() })
}

/// The three payload segments of a message (§5.1): what a typed message encodes to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Payload {
    /// Segment 1: the message's fields (§6.6).
    pub front: Bytes,
    /// Segment 2: empty for every message of §6.6.
    pub middle: Bytes,
    /// Segment 3: bulk data, e.g. command input or output.
    pub data: Bytes,
}

impl Payload {
    /// A payload with only a front.
    pub fn front(front: impl Into<Bytes>) -> Self {
        Self {
            front: front.into(),
            ..Self::default()
        }
    }

    /// A payload with a front and a data segment.
    pub fn front_and_data(front: impl Into<Bytes>, data: Bytes) -> Self {
        Self {
            front: front.into(),
            middle: Bytes::new(),
            data,
        }
    }
}

/// A message as it travels in a MESSAGE frame (§5): the 41-byte header and the front, middle
/// and data segments, undecoded. Segments a frame omits (trailing empty ones, §2.2) are empty.
///
/// Cloning is cheap: the segments are reference-counted [`Bytes`].
///
/// ```
/// use bytes::Bytes;
/// use msgr::frames::{Frame, Tag};
/// use msgr::messages::{MsgHeader2, RawMessage, CEPH_MSG_MON_GET_MAP};
///
/// let raw = RawMessage::new(MsgHeader2::new(CEPH_MSG_MON_GET_MAP, 1, 1), Bytes::new());
/// let frame = Frame::new(Tag::Message, raw.to_segments()).unwrap();
/// assert_eq!(frame.num_segments(), 1); // empty front, middle and data are dropped
/// assert_eq!(RawMessage::from_segments(frame.segments()).unwrap(), raw);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RawMessage {
    /// Segment 0, decoded (§5.2).
    pub header: MsgHeader2,
    /// Segment 1 (§6.6).
    pub front: Bytes,
    /// Segment 2.
    pub middle: Bytes,
    /// Segment 3.
    pub data: Bytes,
}

impl RawMessage {
    /// A message with a front only.
    pub fn new(header: MsgHeader2, front: Bytes) -> Self {
        Self {
            header,
            front,
            middle: Bytes::new(),
            data: Bytes::new(),
        }
    }

    /// A message made of `header` and `payload`.
    pub fn from_payload(header: MsgHeader2, payload: Payload) -> Self {
        Self {
            header,
            front: payload.front,
            middle: payload.middle,
            data: payload.data,
        }
    }

    /// Takes apart the segments of a MESSAGE frame ([`Frame::segments`]): 1 to 4 of them, the
    /// first exactly [`MsgHeader2::LEN`] bytes. Missing segments are empty. The payload
    /// segments are shared, not copied.
    pub fn from_segments(segments: &[Bytes]) -> Result<Self, MessageError> {
        let count = segments.len();
        if count == 0 || count > MAX_NUM_SEGMENTS {
            return Err(MessageError::BadSegmentCount { count });
        }
        let header = header_of(&segments[0])?;
        let segment = |i: usize| segments.get(i).cloned().unwrap_or_default();
        Ok(Self {
            header,
            front: segment(1),
            middle: segment(2),
            data: segment(3),
        })
    }

    /// [`Self::from_segments`] of a frame that must be tagged [`Tag::Message`].
    pub fn from_frame(frame: &Frame) -> Result<Self, MessageError> {
        match frame.tag() {
            Tag::Message => Self::from_segments(frame.segments()),
            tag => Err(MessageError::NotAMessage { tag }),
        }
    }

    /// [`Self::from_frame`] taking the frame by value: its segments move into the message
    /// (no reference count is touched, no buffer is promoted to a shared one).
    pub fn from_frame_owned(frame: Frame) -> Result<Self, MessageError> {
        if frame.tag() != Tag::Message {
            return Err(MessageError::NotAMessage { tag: frame.tag() });
        }
        let header = header_of(frame.payload())?;
        // Slots past the frame's segment count are empty, as a missing segment means.
        let (_, [_, front, middle, data]) = frame.into_parts();
        Ok(Self {
            header,
            front,
            middle,
            data,
        })
    }

    /// The four segments: the encoded header, front, middle and data. Pass them to
    /// [`Frame::new`]`(Tag::Message, ..)`, which drops trailing empty ones (§2.2).
    pub fn to_segments(&self) -> [Bytes; 4] {
        let mut header = Vec::with_capacity(MsgHeader2::LEN);
        self.header.encode(&mut header);
        [
            Bytes::from(header),
            self.front.clone(),
            self.middle.clone(),
            self.data.clone(),
        ]
    }

    /// The MESSAGE frame carrying this message.
    pub fn to_frame(&self) -> Result<Frame, AssembleError> {
        Frame::new(Tag::Message, self.to_segments())
    }

    /// Assembles the MESSAGE frame carrying this message for revision `rev` (what
    /// [`assemble`](crate::frames::assemble) of [`Self::to_frame`] gives, byte for byte),
    /// appending its pieces to `out`. The header and the frame's fixed parts are written
    /// into `arena` once (see [`assemble_in`](crate::frames::assemble_in)): no allocation per
    /// message once the arena is warm. The payload segments are moved into the frame, not
    /// copied.
    pub fn assemble_into(
        self,
        rev: Revision,
        arena: &mut BytesMut,
        out: &mut impl WirePieces,
    ) -> Result<(), AssembleError> {
        for (i, s) in [&self.front, &self.middle, &self.data]
            .into_iter()
            .enumerate()
        {
            if u32::try_from(s.len()).is_err() {
                return Err(AssembleError::SegmentTooLong {
                    segment: i + 1,
                    len: s.len(),
                });
            }
        }
        let header = self.header.to_bytes();
        let rest = [self.front, self.middle, self.data];
        let n = rest
            .iter()
            .rposition(|s| !s.is_empty())
            .map_or(0, |i| i + 1);
        assemble_parts(
            Tag::Message,
            Seg0::Inline(&header),
            &rest[..n],
            rev,
            arena,
            out,
        );
        Ok(())
    }

    /// The payload segments, shared.
    pub fn payload(&self) -> Payload {
        Payload {
            front: self.front.clone(),
            middle: self.middle.clone(),
            data: self.data.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frames::{FrameDecoder, FrameLimits, Revision, assemble};
    use proptest::prelude::*;

    /// The MMonCommandAck frame of §5.7 (123 bytes).
    const SPEC_ACK_FRAME: &str = "\
        11 04 29 00 00 00 08 00 1e 00 00 00 08 00 00 00 \
        00 00 08 00 03 00 00 00 00 10 00 00 e0 1c 85 c1 \
        03 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 \
        33 00 c4 00 01 00 00 00 00 00 00 00 03 00 00 00 \
        00 00 00 00 03 01 00 00 00 54 62 1e e1 00 00 00 \
        00 00 00 00 00 ff ff 00 00 00 00 00 00 00 00 00 \
        00 00 00 00 00 00 00 00 00 00 00 6f 6b 0a 0e 05 \
        b4 3e 31 ff ff ff ff fb 1b 96 b7";

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn spec_command_ack_frame() {
        let wire = unhex(SPEC_ACK_FRAME);
        assert_eq!(wire.len(), 123);
        let mut frames = Vec::new();
        FrameDecoder::new(Revision::Rev1, FrameLimits::default())
            .decode_all(&wire, &mut frames)
            .unwrap();
        let raw = RawMessage::from_frame(&frames[0]).unwrap();
        assert_eq!(raw.header.tid, 7);
        assert_eq!(raw.front.len(), 30);
        assert!(raw.middle.is_empty());
        assert_eq!(&raw.data[..], b"ok\n");
        let frame = raw.to_frame().unwrap();
        assert_eq!(frame.num_segments(), 4);
        assert_eq!(assemble(&frame, Revision::Rev1).to_vec(), wire);
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert_eq!(
            RawMessage::from_segments(&[]),
            Err(MessageError::BadSegmentCount { count: 0 })
        );
        let h = Bytes::from(vec![0; 41]);
        assert_eq!(
            RawMessage::from_segments(&vec![h.clone(); 5]),
            Err(MessageError::BadSegmentCount { count: 5 })
        );
        assert_eq!(
            RawMessage::from_segments(&[Bytes::from(vec![0; 40])]),
            Err(MessageError::BadHeaderLen { len: 40 })
        );
        let wait = Frame::control(Tag::Wait, Bytes::new()).unwrap();
        assert_eq!(
            RawMessage::from_frame(&wait),
            Err(MessageError::NotAMessage { tag: Tag::Wait })
        );
        assert!(RawMessage::from_segments(&[h]).is_ok());
    }

    proptest! {
        /// The arena path writes what assembling the frame gives, for any payload shape.
        #[test]
        fn assemble_in_matches_assemble(
            seq: u64, tid: u64, rev1: bool, warm in 0usize..3,
            front in prop::collection::vec(any::<u8>(), 0..80),
            middle in prop::collection::vec(any::<u8>(), 0..8),
            data in prop::collection::vec(any::<u8>(), 0..600),
        ) {
            let rev = if rev1 { Revision::Rev1 } else { Revision::Rev0 };
            let mut header = MsgHeader2::new(7, 1, 1);
            header.seq = seq;
            header.tid = tid;
            let raw = RawMessage { header, front: front.into(), middle: middle.into(), data: data.into() };
            let want = assemble(&raw.to_frame().unwrap(), rev).to_vec();
            let mut arena = BytesMut::new();
            for _ in 0..warm {
                raw.clone().assemble_into(rev, &mut arena, &mut Vec::new()).unwrap();
            }
            let mut got = crate::frames::WireFrame::default();
            raw.clone().assemble_into(rev, &mut arena, &mut got).unwrap();
            prop_assert_eq!(got.to_vec(), want);
        }

        #[test]
        fn roundtrips_through_a_frame(
            seq: u64, tid: u64, msg_type: u16, version: u16,
            front in prop::collection::vec(any::<u8>(), 0..64),
            middle in prop::collection::vec(any::<u8>(), 0..8),
            data in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut header = MsgHeader2::new(msg_type, version, 1);
            header.seq = seq;
            header.tid = tid;
            let raw = RawMessage {
                header,
                front: front.into(),
                middle: middle.into(),
                data: data.into(),
            };
            let frame = raw.to_frame().unwrap();
            prop_assert_eq!(RawMessage::from_frame(&frame).unwrap(), raw.clone());
            prop_assert_eq!(RawMessage::from_frame_owned(frame).unwrap(), raw);
        }

        #[test]
        fn arbitrary_segments_never_panic(
            segments in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..48), 0..6),
        ) {
            let segments: Vec<Bytes> = segments.into_iter().map(Bytes::from).collect();
            let _ = RawMessage::from_segments(&segments);
        }
    }
}
