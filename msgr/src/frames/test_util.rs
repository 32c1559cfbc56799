//! Helpers shared by the spec and property tests.

use super::{
    CRC_LEN, EPILOGUE_REV0_LEN, EPILOGUE_REV1_LEN, Frame, FrameDecoder, FrameError, FrameLimits,
    PREAMBLE_LEN, Revision,
};

/// What a byte of an assembled frame is, for predicting what corrupting it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Region {
    /// Covered by the preamble CRC.
    Preamble,
    /// Covered by segment `i`'s CRC (the segment's bytes or the CRC itself).
    Segment(usize),
    /// The epilogue's late_status (rev1) or late_flags (rev0).
    Late,
    /// An epilogue CRC slot of a segment not in use: receivers ignore it (§2.3, §2.6).
    UnusedCrc,
}

/// The region of byte `index` in a frame with segment lengths `lens` (1..=4 entries).
pub(super) fn region(rev: Revision, lens: &[usize], index: usize) -> Region {
    if index < PREAMBLE_LEN {
        return Region::Preamble;
    }
    let mut at = PREAMBLE_LEN;
    for (i, &len) in lens.iter().enumerate() {
        let covered = if rev == Revision::Rev1 && i == 0 && len > 0 {
            len + CRC_LEN
        } else {
            len
        };
        if index < at + covered {
            return Region::Segment(i);
        }
        at += covered;
    }
    // The epilogue.
    let off = index - at;
    if off == 0 {
        return Region::Late;
    }
    let slot = (off - 1) / CRC_LEN; // 0-based slot within the epilogue's CRC array
    let segment = match rev {
        Revision::Rev1 => slot + 1,
        Revision::Rev0 => slot,
    };
    if segment < lens.len() {
        Region::Segment(segment)
    } else {
        Region::UnusedCrc
    }
}

/// Decodes `bytes` from scratch in one call.
pub(super) fn decode_all(rev: Revision, bytes: &[u8]) -> (Vec<Frame>, Option<FrameError>) {
    let mut decoder = FrameDecoder::new(rev, FrameLimits::default());
    let mut out = Vec::new();
    let err = decoder.decode_all(bytes, &mut out).err().map(|e| e.kind);
    (out, err)
}

/// Corrupts byte `index` of the assembled `frame` (`bytes`) by XOR with `xor` (non-zero) and
/// checks that the decoder reports exactly what the byte's region implies.
pub(super) fn check_flip(rev: Revision, frame: &Frame, bytes: &[u8], index: usize, xor: u8) {
    assert_ne!(xor, 0);
    let lens: Vec<usize> = frame.segments().iter().map(|s| s.len()).collect();
    let epilogue_len = match rev {
        Revision::Rev1 if lens.len() == 1 => 0,
        Revision::Rev1 => EPILOGUE_REV1_LEN,
        Revision::Rev0 => EPILOGUE_REV0_LEN,
    };
    assert_eq!(
        bytes.len(),
        PREAMBLE_LEN
            + lens.iter().sum::<usize>()
            + epilogue_len
            + if rev == Revision::Rev1 && lens[0] > 0 {
                4
            } else {
                0
            }
    );
    let mut bad = bytes.to_vec();
    bad[index] ^= xor;
    let (frames, err) = decode_all(rev, &bad);
    let ctx = format!(
        "{rev:?} {:?} lens {lens:?} byte {index} ^ {xor:#04x}",
        frame.tag()
    );
    match region(rev, &lens, index) {
        Region::Preamble => {
            assert!(
                matches!(err, Some(FrameError::BadPreambleCrc { .. })),
                "{ctx}: {err:?}"
            );
        }
        Region::Segment(i) => {
            assert!(
                matches!(err, Some(FrameError::BadSegmentCrc { segment, .. }) if segment == i),
                "{ctx}: {err:?}"
            );
        }
        Region::UnusedCrc => {
            assert_eq!((frames, err), (vec![frame.clone()], None), "{ctx}");
        }
        Region::Late => {
            let byte = bad[index];
            let expect_frame = match rev {
                // §2.3: low nibble 0xE complete, 0x1 aborted, else an error.
                Revision::Rev1 => match byte & 0x0F {
                    0x0E => Some(true),
                    0x01 => Some(false),
                    _ => None,
                },
                // §2.6: bit 0 aborted; Ceph ignores the other bits.
                Revision::Rev0 => Some(byte & 1 == 0),
            };
            match expect_frame {
                Some(true) => assert_eq!((frames, err), (vec![frame.clone()], None), "{ctx}"),
                Some(false) => assert_eq!((frames, err), (vec![], None), "{ctx}"),
                None => assert_eq!(
                    err,
                    Some(FrameError::BadLateStatus { late_status: byte }),
                    "{ctx}"
                ),
            }
        }
    }
}
