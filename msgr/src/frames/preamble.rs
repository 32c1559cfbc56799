//! The 32-byte preamble that starts every frame, identical in rev0 and rev1 (§2.2).

use super::{FrameError, MAX_NUM_SEGMENTS, PREAMBLE_LEN, Tag, crc::preamble_crc};

/// Length and alignment of one segment, as the preamble lists them (§2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct SegmentDesc {
    /// Segment length in bytes.
    pub length: u32,
    /// Buffer alignment hint for the receiver: 8, or 4096 for MESSAGE data. In CRC mode it
    /// never causes padding (§2.1).
    pub alignment: u16,
}

/// A decoded or to-be-encoded preamble (§2.2).
///
/// ```text
/// 0 tag | 1 num_segments | 2.. 4 x (u32 length, u16 alignment) | 26 flags | 27 reserved | 28 crc
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Preamble {
    /// The frame tag (§3.1).
    pub tag: Tag,
    /// Segments in use, 1..=4.
    pub num_segments: u8,
    /// Segment descriptors; the entries at `num_segments` and above are zero.
    pub segments: [SegmentDesc; MAX_NUM_SEGMENTS],
    /// Byte 26: reserved in Pacific (written 0), compression flags from Quincy on (§2.8).
    /// Decoding keeps the value and gives it no meaning.
    pub flags: u8,
}

impl Preamble {
    /// The descriptors of the segments in use.
    pub fn segments_in_use(&self) -> &[SegmentDesc] {
        let n = usize::from(self.num_segments).min(MAX_NUM_SEGMENTS);
        &self.segments[..n]
    }

    /// Sum of the lengths of the segments in use.
    pub fn payload_len(&self) -> u64 {
        self.segments_in_use()
            .iter()
            .map(|s| u64::from(s.length))
            .sum()
    }

    /// The 32 bytes on the wire, with the CRC over the first 28 (§2.2). Entries at
    /// `num_segments` and above are written as zeros, and so is byte 27.
    pub fn encode(&self) -> [u8; PREAMBLE_LEN] {
        let mut out = [0u8; PREAMBLE_LEN];
        out[0] = self.tag.as_u8();
        out[1] = self.num_segments;
        for (i, seg) in self.segments_in_use().iter().enumerate() {
            let at = 2 + 6 * i;
            out[at..at + 4].copy_from_slice(&seg.length.to_le_bytes());
            out[at + 4..at + 6].copy_from_slice(&seg.alignment.to_le_bytes());
        }
        out[26] = self.flags;
        let crc = preamble_crc(&out[..28]);
        out[28..].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parses and validates a preamble (§2.2, §2.10 step 1), in Ceph's order: the CRC before
    /// any field is trusted, then the segment count, then the empty-last-segment rule, then the
    /// tag. Entries at `num_segments` and above are not checked (Ceph ignores them) and come
    /// back as zero. Limits and alignments are [`FrameLimits::check`](super::FrameLimits::check)'s
    /// job.
    pub fn decode(bytes: &[u8; PREAMBLE_LEN]) -> Result<Self, FrameError> {
        let expected = u32::from_le_bytes([bytes[28], bytes[29], bytes[30], bytes[31]]);
        let computed = preamble_crc(&bytes[..28]);
        if expected != computed {
            return Err(FrameError::BadPreambleCrc { expected, computed });
        }
        let num_segments = bytes[1];
        let n = usize::from(num_segments);
        if !(1..=MAX_NUM_SEGMENTS).contains(&n) {
            return Err(FrameError::BadSegmentCount { num_segments });
        }
        let mut segments = [SegmentDesc::default(); MAX_NUM_SEGMENTS];
        for (i, seg) in segments.iter_mut().enumerate().take(n) {
            let at = 2 + 6 * i;
            seg.length =
                u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
            seg.alignment = u16::from_le_bytes([bytes[at + 4], bytes[at + 5]]);
        }
        if n > 1 && segments[n - 1].length == 0 {
            return Err(FrameError::EmptyLastSegment { num_segments });
        }
        Ok(Preamble {
            tag: Tag::try_from(bytes[0])?,
            num_segments,
            segments,
            flags: bytes[26],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The §2.9 HELLO preamble: tag 1, one segment of 36 bytes aligned to 8, CRC 0x066BBD3F.
    const HELLO: [u8; 32] = [
        0x01, 0x01, 0x24, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0xbd,
        0x6b, 0x06,
    ];

    fn hello() -> Preamble {
        let mut segments = [SegmentDesc::default(); 4];
        segments[0] = SegmentDesc {
            length: 36,
            alignment: 8,
        };
        Preamble {
            tag: Tag::Hello,
            num_segments: 1,
            segments,
            flags: 0,
        }
    }

    #[test]
    fn hello_preamble_matches_the_spec() {
        assert_eq!(hello().encode(), HELLO);
        assert_eq!(Preamble::decode(&HELLO), Ok(hello()));
        assert_eq!(hello().payload_len(), 36);
    }

    /// §2.9 note: every 36-byte single-segment control frame has the same preamble CRC;
    /// §5.7 gives the preamble CRCs of three MESSAGE layouts.
    #[test]
    fn spec_preamble_crcs() {
        let crc_of = |tag, descs: &[(u32, u16)]| {
            let mut p = hello();
            p.tag = tag;
            p.num_segments = descs.len() as u8;
            p.segments = [SegmentDesc::default(); 4];
            for (i, &(length, alignment)) in descs.iter().enumerate() {
                p.segments[i] = SegmentDesc { length, alignment };
            }
            let bytes = p.encode();
            u32::from_le_bytes(bytes[28..].try_into().unwrap())
        };
        assert_eq!(crc_of(Tag::Hello, &[(36, 8)]), 0x066B_BD3F);
        assert_eq!(crc_of(Tag::Wait, &[(0, 8)]), 0xB0AA_E3C8);
        assert_eq!(crc_of(Tag::Message, &[(41, 8)]), 0xF004_96AF);
        assert_eq!(crc_of(Tag::Message, &[(41, 8), (52, 8)]), 0xC8B1_F1D9);
        assert_eq!(
            crc_of(Tag::Message, &[(41, 8), (30, 8), (0, 8), (3, 4096)]),
            0xC185_1CE0
        );
    }

    #[test]
    fn validation_order_and_errors() {
        let reseal = |mut b: [u8; 32]| {
            let crc = preamble_crc(&b[..28]);
            b[28..].copy_from_slice(&crc.to_le_bytes());
            b
        };
        let mut bad_crc = HELLO;
        bad_crc[31] ^= 0x80;
        assert_eq!(
            Preamble::decode(&bad_crc),
            Err(FrameError::BadPreambleCrc {
                expected: 0x866B_BD3F,
                computed: 0x066B_BD3F
            })
        );
        for n in [0u8, 5, 255] {
            let mut b = HELLO;
            b[1] = n;
            assert_eq!(
                Preamble::decode(&reseal(b)),
                Err(FrameError::BadSegmentCount { num_segments: n })
            );
        }
        let mut b = HELLO;
        b[1] = 2; // segment 1 has length 0
        assert_eq!(
            Preamble::decode(&reseal(b)),
            Err(FrameError::EmptyLastSegment { num_segments: 2 })
        );
        let mut b = HELLO;
        b[0] = 23;
        assert_eq!(
            Preamble::decode(&reseal(b)),
            Err(FrameError::UnknownTag { tag: 23 })
        );
        // Unused entries are ignored, and decoded as zero.
        let mut b = HELLO;
        b[20] = 0x55;
        b[27] = 0x01;
        assert_eq!(Preamble::decode(&reseal(b)), Ok(hello()));
        // The flags byte is kept.
        let mut b = HELLO;
        b[26] = 0x01;
        assert_eq!(Preamble::decode(&reseal(b)).unwrap().flags, 1);
    }
}
