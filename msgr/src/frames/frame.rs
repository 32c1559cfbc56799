//! A frame as the codec sees it: a tag and 1 to 4 segments (§2.1).

use bytes::Bytes;

use super::{
    AssembleError, CRC_LEN, EPILOGUE_REV0_LEN, EPILOGUE_REV1_LEN, MAX_NUM_SEGMENTS, PREAMBLE_LEN,
    Preamble, Revision, SegmentDesc, Tag,
};

/// The alignment Ceph writes for segment `index` of a frame with `tag` (§2.2 \[VERIFIED\]):
/// 4096 (`CEPH_PAGE_SIZE`) for a MESSAGE's data segment (index 3), 8 for everything else.
pub const fn default_alignment(tag: Tag, index: usize) -> u16 {
    match (tag, index) {
        (Tag::Message, 3) => 4096,
        _ => 8,
    }
}

/// The preamble Ceph writes for a frame with `tag` and segments of `lens` (1 to 4 of them):
/// those lengths, Ceph's alignments ([`default_alignment`]), flags 0 (§2.2).
pub(crate) fn preamble_for(tag: Tag, lens: &[usize]) -> Preamble {
    let mut segments = [SegmentDesc::default(); MAX_NUM_SEGMENTS];
    for (i, (desc, &len)) in segments.iter_mut().zip(lens).enumerate() {
        *desc = SegmentDesc {
            // Checked by `Frame::new` and `RawMessage::assemble_into`; a decoded segment
            // came from a u32 length.
            length: u32::try_from(len).unwrap_or(u32::MAX),
            alignment: default_alignment(tag, i),
        };
    }
    Preamble {
        tag,
        num_segments: lens.len().clamp(1, MAX_NUM_SEGMENTS) as u8,
        segments,
        flags: 0,
    }
}

/// A frame: a [`Tag`] and its segments (§2.1). Control frames have one segment holding the
/// payload; MESSAGE frames have header2, front, middle and data (§5.1).
///
/// A frame built with [`Frame::new`] drops trailing empty segments as Ceph's sender does, so
/// it lists at least one segment and never ends with an empty one unless it has only one
/// (§2.2). Frames from a [`FrameDecoder`](super::FrameDecoder) obey the same rule, since it
/// rejects anything else, so assembling and decoding give back an equal frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    tag: Tag,
    segments: [Bytes; MAX_NUM_SEGMENTS],
    num_segments: u8,
}

impl Frame {
    /// A frame with up to 4 segments. Segments at indices past the last non-empty one are
    /// dropped; an empty list gives one empty segment, like a WAIT frame. Cloning a `Bytes`
    /// only bumps a reference count: no payload is copied.
    pub fn new(tag: Tag, segments: impl IntoIterator<Item = Bytes>) -> Result<Self, AssembleError> {
        let mut slots: [Bytes; MAX_NUM_SEGMENTS] = Default::default();
        let mut count = 0;
        for segment in segments {
            if count < MAX_NUM_SEGMENTS {
                if u32::try_from(segment.len()).is_err() {
                    return Err(AssembleError::SegmentTooLong {
                        segment: count,
                        len: segment.len(),
                    });
                }
                slots[count] = segment;
            }
            count += 1;
        }
        if count > MAX_NUM_SEGMENTS {
            return Err(AssembleError::TooManySegments { count });
        }
        let num_segments = slots
            .iter()
            .rposition(|s| !s.is_empty())
            .map_or(1, |i| i + 1);
        Ok(Self::from_parts(tag, slots, num_segments))
    }

    /// A control frame: one segment holding `payload` (§2.1).
    pub fn control(tag: Tag, payload: Bytes) -> Result<Self, AssembleError> {
        Self::new(tag, [payload])
    }

    /// Builds a frame whose segments are already normalised. `num_segments` is 1..=4.
    pub(crate) fn from_parts(
        tag: Tag,
        segments: [Bytes; MAX_NUM_SEGMENTS],
        num_segments: usize,
    ) -> Self {
        Frame {
            tag,
            segments,
            num_segments: num_segments.clamp(1, MAX_NUM_SEGMENTS) as u8,
        }
    }

    /// The frame's tag.
    pub fn tag(&self) -> Tag {
        self.tag
    }

    /// Number of segments listed in the preamble, 1..=4.
    pub fn num_segments(&self) -> usize {
        usize::from(self.num_segments)
    }

    /// The segments listed in the preamble (inner ones may be empty).
    pub fn segments(&self) -> &[Bytes] {
        &self.segments[..self.num_segments()]
    }

    /// Segment `index`; an empty `Bytes` for an index past the listed segments, which is what
    /// such a segment means (e.g. a MESSAGE without data, §5.1).
    pub fn segment(&self, index: usize) -> Bytes {
        self.segments.get(index).cloned().unwrap_or_default()
    }

    /// The first segment: a control frame's whole payload.
    pub fn payload(&self) -> &Bytes {
        &self.segments[0]
    }

    /// The tag and all four segment slots (unlisted ones empty), without copying.
    pub fn into_parts(self) -> (Tag, [Bytes; MAX_NUM_SEGMENTS]) {
        (self.tag, self.segments)
    }

    /// Sum of the segment lengths.
    pub fn payload_len(&self) -> u64 {
        self.segments().iter().map(|s| s.len() as u64).sum()
    }

    /// The preamble [`assemble`](super::assemble) writes: the segment lengths, Ceph's
    /// alignments ([`default_alignment`]), flags 0 (§2.2).
    pub fn preamble(&self) -> Preamble {
        let mut lens = [0usize; MAX_NUM_SEGMENTS];
        for (len, data) in lens.iter_mut().zip(self.segments()) {
            *len = data.len();
        }
        preamble_for(self.tag, &lens[..self.num_segments()])
    }

    /// Bytes on the wire in CRC mode (§2.3 for rev1, §2.6 for rev0).
    pub fn onwire_len(&self, rev: Revision) -> u64 {
        let preamble = PREAMBLE_LEN as u64;
        match rev {
            Revision::Rev1 => {
                let len0 = self.segments[0].len() as u64;
                let crc0 = if len0 > 0 { CRC_LEN as u64 } else { 0 };
                let rest = if self.num_segments > 1 {
                    self.payload_len() - len0 + EPILOGUE_REV1_LEN as u64
                } else {
                    0
                };
                preamble + len0 + crc0 + rest
            }
            Revision::Rev0 => preamble + self.payload_len() + EPILOGUE_REV0_LEN as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(n: usize) -> Bytes {
        Bytes::from(vec![0x5A; n])
    }

    #[test]
    fn trailing_empty_segments_are_dropped() {
        // §2.2 and §5.1 examples.
        let f = Frame::new(Tag::Message, [b(41), b(0), b(0), b(0)]).unwrap();
        assert_eq!(f.num_segments(), 1);
        assert_eq!(f.onwire_len(Revision::Rev1), 77);
        let f = Frame::new(Tag::Message, [b(41), b(52)]).unwrap();
        assert_eq!(f.num_segments(), 2);
        assert_eq!(f.onwire_len(Revision::Rev1), 142);
        let f = Frame::new(Tag::Message, [b(41), b(30), b(0), b(3)]).unwrap();
        assert_eq!(f.num_segments(), 4);
        assert_eq!(f.onwire_len(Revision::Rev1), 123);
        assert_eq!(f.segments()[2].len(), 0);
        let wait = Frame::new(Tag::Wait, []).unwrap();
        assert_eq!(wait.num_segments(), 1);
        assert_eq!(wait.onwire_len(Revision::Rev1), 32);
        assert_eq!(wait.onwire_len(Revision::Rev0), 49);
        assert_eq!(wait, Frame::control(Tag::Wait, Bytes::new()).unwrap());
        let hello = Frame::control(Tag::Hello, b(36)).unwrap();
        assert_eq!(hello.onwire_len(Revision::Rev1), 72);
        assert_eq!(hello.onwire_len(Revision::Rev0), 85);
    }

    #[test]
    fn too_many_segments() {
        assert_eq!(
            Frame::new(Tag::Message, [b(1), b(1), b(1), b(1), b(0)]),
            Err(AssembleError::TooManySegments { count: 5 })
        );
    }

    #[test]
    fn preamble_uses_ceph_alignments() {
        let f = Frame::new(Tag::Message, [b(41), b(1), b(0), b(2)]).unwrap();
        let p = f.preamble();
        let aligns: Vec<u16> = p.segments.iter().map(|s| s.alignment).collect();
        assert_eq!(aligns, [8, 8, 8, 4096]);
        assert_eq!(f.segment(3).len(), 2);
        assert_eq!(f.segment(9).len(), 0);
    }
}
