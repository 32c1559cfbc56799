//! Errors of the banner exchange, of frame decoding and of frame assembly.

use thiserror::Error;

/// Why the peer's banner was refused (§1.3). Every one of them closes the connection; the
/// feature mismatches are not retryable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BannerError {
    /// The peer sent the msgr v1 banner (`ceph v027`), which Pacific only logs before closing
    /// (§1.3 rule 1).
    #[error("peer speaks msgr v1 (banner prefix {prefix:02x?}), not msgr2 (§1.3)")]
    Msgr1Peer {
        /// The first 8 bytes received.
        prefix: [u8; 8],
    },
    /// The first 8 bytes are not `ceph v2\n` (§1.3 rule 1).
    #[error("bad banner prefix {prefix:02x?}, expected \"ceph v2\\n\" (§1.3)")]
    BadPrefix {
        /// The first 8 bytes received.
        prefix: [u8; 8],
    },
    /// The payload length is below the 16 bytes of the two feature fields (§1.3 rule 2).
    #[error("banner payload length {len} is below 16 (§1.3)")]
    PayloadTooShort {
        /// The `payload_len` the peer sent.
        len: u16,
    },
    /// The peer requires msgr2 features we do not support (§1.3 rule 3).
    #[error(
        "peer requires msgr2 features {missing:#x} we lack \
         (peer required {peer_required:#x}, we support {local_supported:#x}) (§1.3)"
    )]
    PeerRequiresUnsupported {
        /// `peer_required & !local_supported`.
        missing: u64,
        /// The peer's `required` field.
        peer_required: u64,
        /// Our `supported` field.
        local_supported: u64,
    },
    /// We require msgr2 features the peer does not support (§1.3 rule 4).
    #[error(
        "we require msgr2 features {missing:#x} the peer lacks \
         (we require {local_required:#x}, peer supports {peer_supported:#x}) (§1.3)"
    )]
    PeerLacksRequired {
        /// `local_required & !peer_supported`.
        missing: u64,
        /// Our `required` field.
        local_required: u64,
        /// The peer's `supported` field.
        peer_supported: u64,
    },
    /// [`BannerDecoder::decode`](super::BannerDecoder::decode) was called again after it had
    /// returned the peer's banner.
    #[error("the peer's banner was already decoded")]
    AlreadyComplete,
}

/// What is wrong with a frame (§2.2, §2.3, §2.6, §2.10). Values are as read from the wire
/// (`expected`) and as computed here (`computed`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The preamble CRC does not match its first 28 bytes (§2.2); no field was trusted.
    #[error("bad preamble crc: on wire {expected:#010x}, computed {computed:#010x} (§2.2)")]
    BadPreambleCrc {
        /// The CRC in preamble bytes 28..32.
        expected: u32,
        /// `crc32c_raw(0, preamble[0..28])`.
        computed: u32,
    },
    /// `num_segments` is 0 or above 4 (§2.2).
    #[error("bad segment count {num_segments}, must be 1..=4 (§2.2)")]
    BadSegmentCount {
        /// The preamble's `num_segments`.
        num_segments: u8,
    },
    /// A frame with more than one segment lists an empty last segment, which Ceph rejects and
    /// never sends (§2.2).
    #[error("last of {num_segments} segments is empty (§2.2)")]
    EmptyLastSegment {
        /// The preamble's `num_segments`.
        num_segments: u8,
    },
    /// The tag is not one of §3.1.
    #[error("unknown frame tag {tag} (§3.1)")]
    UnknownTag {
        /// The preamble's tag byte.
        tag: u8,
    },
    /// A segment is longer than [`FrameLimits::max_segment_len`](super::FrameLimits) allows
    /// for its index (§2.5).
    #[error("segment {segment} length {len} exceeds the limit {max} (§2.5)")]
    SegmentTooLong {
        /// Segment index, 0..4.
        segment: usize,
        /// Its length in the preamble.
        len: u32,
        /// The configured limit.
        max: u32,
    },
    /// The segments together are longer than
    /// [`FrameLimits::max_frame_len`](super::FrameLimits) (§2.5).
    #[error("frame payload length {len} exceeds the limit {max} (§2.5)")]
    FrameTooLong {
        /// Sum of the segment lengths.
        len: u64,
        /// The configured limit.
        max: u64,
    },
    /// A segment's alignment is not a power of two (nor 0), so no buffer could honour it;
    /// Ceph's receiver faults on it too (§2.2).
    #[error("segment {segment} has alignment {alignment}, not a power of two (§2.2)")]
    BadAlignment {
        /// Segment index, 0..4.
        segment: usize,
        /// Its alignment in the preamble.
        alignment: u16,
    },
    /// A segment's CRC does not match: segment 0's inline CRC in rev1, an epilogue CRC
    /// otherwise (§2.3, §2.6).
    #[error(
        "bad crc of segment {segment}: on wire {expected:#010x}, computed {computed:#010x} (§2.3)"
    )]
    BadSegmentCrc {
        /// Segment index, 0..4.
        segment: usize,
        /// The CRC read from the wire.
        expected: u32,
        /// `crc32c_raw(0xFFFFFFFF, segment)`.
        computed: u32,
    },
    /// The rev1 epilogue's late_status low nibble is neither complete (0xE) nor aborted (0x1)
    /// (§2.3).
    #[error("bad late_status {late_status:#04x} in the epilogue (§2.3)")]
    BadLateStatus {
        /// The late_status byte.
        late_status: u8,
    },
}

/// A [`FrameError`] and where it happened. Once a [`FrameDecoder`](super::FrameDecoder) has
/// returned one, it returns the same error for all further input: the connection must fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("msgr2 frame at stream offset {frame_offset}: {kind}")]
pub struct DecodeError {
    /// Stream offset of the first preamble byte of the offending frame, counted from the
    /// decoder's starting offset (see [`FrameDecoder::starting_at`](super::FrameDecoder)).
    pub frame_offset: u64,
    /// What is wrong.
    pub kind: FrameError,
}

/// Why a [`Frame`](super::Frame) cannot be built from the given segments.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AssembleError {
    /// More than [`MAX_NUM_SEGMENTS`](super::MAX_NUM_SEGMENTS) segments (§2.1).
    #[error("{count} segments given, a frame carries at most 4 (§2.1)")]
    TooManySegments {
        /// How many segments were given.
        count: usize,
    },
    /// A segment does not fit the preamble's u32 length field (§2.5).
    #[error("segment {segment} is {len} bytes, more than a u32 length can describe (§2.5)")]
    SegmentTooLong {
        /// Segment index.
        segment: usize,
        /// Its length.
        len: usize,
    },
}
