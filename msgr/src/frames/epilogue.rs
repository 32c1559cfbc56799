//! Frame epilogues in CRC mode: rev1's late_status and crc1..crc3 (§2.3), rev0's late_flags
//! and crc0..crc3 (§2.6).

use super::{CRC_LEN, EPILOGUE_REV0_LEN, EPILOGUE_REV1_LEN, FrameError, MAX_NUM_SEGMENTS};

/// rev1 late_status low nibble: the frame is complete (§2.3). What we send.
pub const FRAME_LATE_STATUS_COMPLETE: u8 = 0x0E;
/// rev1 late_status low nibble: the sender aborted the frame; drop it (§2.3).
pub const FRAME_LATE_STATUS_ABORTED: u8 = 0x01;
/// The part of rev1 late_status that carries complete/aborted; the upper nibble is reserved
/// and ignored on receipt (§2.3).
pub const FRAME_LATE_STATUS_MASK: u8 = 0x0F;
/// rev0 late_flags bit 0: the sender aborted the frame (§2.6). We send 0.
pub const FRAME_LATE_FLAG_ABORTED: u8 = 0x01;

/// The rev1 epilogue for a frame whose segments 1.. have the CRCs `crcs` (0 for unused
/// segments, §2.3).
pub(crate) fn encode_rev1(crcs: &[u32; MAX_NUM_SEGMENTS]) -> [u8; EPILOGUE_REV1_LEN] {
    let mut out = [0u8; EPILOGUE_REV1_LEN];
    out[0] = FRAME_LATE_STATUS_COMPLETE;
    for (i, crc) in crcs[1..].iter().enumerate() {
        let at = 1 + CRC_LEN * i;
        out[at..at + CRC_LEN].copy_from_slice(&crc.to_le_bytes());
    }
    out
}

/// The rev0 epilogue: late_flags 0 and all four CRCs (0 for unused segments, §2.6).
pub(crate) fn encode_rev0(crcs: &[u32; MAX_NUM_SEGMENTS]) -> [u8; EPILOGUE_REV0_LEN] {
    let mut out = [0u8; EPILOGUE_REV0_LEN];
    for (i, crc) in crcs.iter().enumerate() {
        let at = 1 + CRC_LEN * i;
        out[at..at + CRC_LEN].copy_from_slice(&crc.to_le_bytes());
    }
    out
}

/// The CRC an epilogue holds for segment `index`.
fn crc_at(epilogue: &[u8], at: usize) -> u32 {
    let mut b = [0u8; CRC_LEN];
    b.copy_from_slice(&epilogue[at..at + CRC_LEN]);
    u32::from_le_bytes(b)
}

/// Checks a rev1 epilogue against the computed CRCs of segments 1..num_segments, then its
/// late_status, in Ceph's order (§2.3, §2.10 step 3). `Ok(false)` means the frame was aborted
/// and must be dropped.
pub(crate) fn check_rev1(
    epilogue: &[u8],
    num_segments: usize,
    computed: &[u32; MAX_NUM_SEGMENTS],
) -> Result<bool, FrameError> {
    for (segment, &computed) in computed.iter().enumerate().take(num_segments).skip(1) {
        let expected = crc_at(epilogue, 1 + CRC_LEN * (segment - 1));
        if expected != computed {
            return Err(FrameError::BadSegmentCrc {
                segment,
                expected,
                computed,
            });
        }
    }
    let late_status = epilogue[0];
    match late_status & FRAME_LATE_STATUS_MASK {
        FRAME_LATE_STATUS_COMPLETE => Ok(true),
        FRAME_LATE_STATUS_ABORTED => Ok(false),
        _ => Err(FrameError::BadLateStatus { late_status }),
    }
}

/// Checks a rev0 epilogue against the computed CRCs of segments 0..num_segments, then its
/// aborted flag (§2.6). Like Ceph, only bit 0 of late_flags has a meaning; the others are
/// ignored. `Ok(false)` means the frame was aborted and must be dropped.
pub(crate) fn check_rev0(
    epilogue: &[u8],
    num_segments: usize,
    computed: &[u32; MAX_NUM_SEGMENTS],
) -> Result<bool, FrameError> {
    for (segment, &computed) in computed.iter().enumerate().take(num_segments) {
        let expected = crc_at(epilogue, 1 + CRC_LEN * segment);
        if expected != computed {
            return Err(FrameError::BadSegmentCrc {
                segment,
                expected,
                computed,
            });
        }
    }
    Ok(epilogue[0] & FRAME_LATE_FLAG_ABORTED == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rev1_round_trip_and_late_status() {
        let crcs = [0xAAAA_AAAA, 0x0403_0201, 0xFFFF_FFFF, 0];
        let e = encode_rev1(&crcs);
        assert_eq!(e, [0x0E, 1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
        assert_eq!(check_rev1(&e, 3, &crcs), Ok(true));
        // crc3 of an unused segment is ignored.
        assert_eq!(
            check_rev1(&e, 3, &[0, 0x0403_0201, 0xFFFF_FFFF, 7]),
            Ok(true)
        );
        let mut e2 = e;
        e2[0] = 0xEE; // reserved upper nibble is ignored
        assert_eq!(check_rev1(&e2, 3, &crcs), Ok(true));
        e2[0] = 0x11;
        assert_eq!(check_rev1(&e2, 3, &crcs), Ok(false));
        e2[0] = 0x0F;
        assert_eq!(
            check_rev1(&e2, 3, &crcs),
            Err(FrameError::BadLateStatus { late_status: 0x0F })
        );
        assert_eq!(
            check_rev1(&e, 3, &[0, 0x0403_0201, 0xFFFF_FFFE, 0]),
            Err(FrameError::BadSegmentCrc {
                segment: 2,
                expected: 0xFFFF_FFFF,
                computed: 0xFFFF_FFFE
            })
        );
    }

    #[test]
    fn rev0_round_trip_and_late_flags() {
        let crcs = [0x67F5_479E, 0, 0, 0];
        let e = encode_rev0(&crcs);
        assert_eq!(e[0], 0);
        assert_eq!(&e[1..5], &[0x9e, 0x47, 0xf5, 0x67]);
        assert_eq!(check_rev0(&e, 1, &crcs), Ok(true));
        let mut e2 = e;
        e2[0] = FRAME_LATE_FLAG_ABORTED;
        assert_eq!(check_rev0(&e2, 1, &crcs), Ok(false));
        e2[0] = 0x02;
        assert_eq!(check_rev0(&e2, 1, &crcs), Ok(true));
        assert!(matches!(
            check_rev0(&e, 1, &[1, 0, 0, 0]),
            Err(FrameError::BadSegmentCrc { segment: 0, .. })
        ));
    }
}
