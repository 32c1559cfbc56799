//! Receive limits (§2.5), checked against the preamble before any segment is allocated.

use super::{FrameError, MAX_NUM_SEGMENTS, Preamble};

/// Default limit for segment 0 (a control payload or a MESSAGE's header2): 16 MiB, the
/// kernel's `CEPH_MSG_MAX_CONTROL_LEN` (§2.5).
pub const DEFAULT_MAX_CONTROL_LEN: u32 = 16 << 20;
/// Default limit for segment 1 (MESSAGE front): 16 MiB, `CEPH_MSG_MAX_FRONT_LEN` (§2.5).
pub const DEFAULT_MAX_FRONT_LEN: u32 = 16 << 20;
/// Default limit for segment 2 (MESSAGE middle): 16 MiB, `CEPH_MSG_MAX_MIDDLE_LEN` (§2.5).
pub const DEFAULT_MAX_MIDDLE_LEN: u32 = 16 << 20;
/// Default limit for segment 3 (MESSAGE data): 64 MiB, `CEPH_MSG_MAX_DATA_LEN` (§2.5).
pub const DEFAULT_MAX_DATA_LEN: u32 = 64 << 20;

/// Bounds on what a [`FrameDecoder`](super::FrameDecoder) accepts (§2.5). The protocol has
/// no maximum below u32; Ceph userspace bounds memory with throttles, the kernel with the
/// fixed caps used as defaults here. A frame over a limit is a connection fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Largest accepted length per segment index.
    pub max_segment_len: [u32; MAX_NUM_SEGMENTS],
    /// Largest accepted sum of the segment lengths of one frame.
    pub max_frame_len: u64,
    /// Reject an alignment that is neither 0 nor a power of two. Ceph allocates its receive
    /// buffers with the alignment and faults when it cannot; §2.2 asks receivers to accept any
    /// value, so this can be turned off. Ceph itself only sends 8 and 4096.
    pub check_alignment: bool,
}

impl Default for FrameLimits {
    /// The kernel client's caps (§2.5): 16 MiB for segments 0 to 2, 64 MiB for data; the
    /// frame limit is their sum, so by default only the per-segment caps bind.
    fn default() -> Self {
        let max_segment_len = [
            DEFAULT_MAX_CONTROL_LEN,
            DEFAULT_MAX_FRONT_LEN,
            DEFAULT_MAX_MIDDLE_LEN,
            DEFAULT_MAX_DATA_LEN,
        ];
        FrameLimits {
            max_segment_len,
            max_frame_len: max_segment_len.iter().map(|&l| u64::from(l)).sum(),
            check_alignment: true,
        }
    }
}

impl FrameLimits {
    /// Limits that accept every frame the format can describe (lengths up to `u32::MAX`, any
    /// alignment). For tests and trusted peers only.
    pub fn unlimited() -> Self {
        FrameLimits {
            max_segment_len: [u32::MAX; MAX_NUM_SEGMENTS],
            max_frame_len: u64::MAX,
            check_alignment: false,
        }
    }

    /// Checks a decoded preamble: each segment's length against its index's limit, the sum
    /// against `max_frame_len`, then the alignments.
    pub fn check(&self, preamble: &Preamble) -> Result<(), FrameError> {
        let segments = preamble.segments_in_use();
        for (segment, (desc, &max)) in segments.iter().zip(&self.max_segment_len).enumerate() {
            if desc.length > max {
                return Err(FrameError::SegmentTooLong {
                    segment,
                    len: desc.length,
                    max,
                });
            }
        }
        let len = preamble.payload_len();
        if len > self.max_frame_len {
            return Err(FrameError::FrameTooLong {
                len,
                max: self.max_frame_len,
            });
        }
        if self.check_alignment {
            for (segment, desc) in segments.iter().enumerate() {
                if desc.alignment != 0 && !desc.alignment.is_power_of_two() {
                    return Err(FrameError::BadAlignment {
                        segment,
                        alignment: desc.alignment,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SegmentDesc, Tag};
    use super::*;

    fn preamble(descs: &[(u32, u16)]) -> Preamble {
        let mut segments = [SegmentDesc::default(); MAX_NUM_SEGMENTS];
        for (i, &(length, alignment)) in descs.iter().enumerate() {
            segments[i] = SegmentDesc { length, alignment };
        }
        Preamble {
            tag: Tag::Message,
            num_segments: descs.len() as u8,
            segments,
            flags: 0,
        }
    }

    #[test]
    fn defaults_follow_the_kernel_caps() {
        let l = FrameLimits::default();
        assert_eq!(l.max_segment_len, [16 << 20, 16 << 20, 16 << 20, 64 << 20]);
        assert_eq!(l.max_frame_len, 112 << 20);
        let ok = preamble(&[
            (16 << 20, 8),
            (16 << 20, 8),
            (16 << 20, 8),
            (64 << 20, 4096),
        ]);
        assert_eq!(l.check(&ok), Ok(()));
        let big = preamble(&[(41, 8), (1, 8), (0, 8), ((64 << 20) + 1, 4096)]);
        assert_eq!(
            l.check(&big),
            Err(FrameError::SegmentTooLong {
                segment: 3,
                len: (64 << 20) + 1,
                max: 64 << 20
            })
        );
    }

    #[test]
    fn frame_limit_and_alignment() {
        let l = FrameLimits {
            max_frame_len: 100,
            ..FrameLimits::default()
        };
        assert_eq!(
            l.check(&preamble(&[(41, 8), (60, 8)])),
            Err(FrameError::FrameTooLong { len: 101, max: 100 })
        );
        for ok in [0u16, 1, 2, 8, 4096, 32768] {
            assert_eq!(l.check(&preamble(&[(1, ok)])), Ok(()), "{ok}");
        }
        assert_eq!(
            l.check(&preamble(&[(1, 8), (1, 24)])),
            Err(FrameError::BadAlignment {
                segment: 1,
                alignment: 24
            })
        );
        assert_eq!(
            FrameLimits::unlimited().check(&preamble(&[(u32::MAX, 3); 4])),
            Ok(())
        );
    }
}
