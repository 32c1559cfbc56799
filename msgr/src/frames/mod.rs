//! msgr2 framing (msgr2.md §1, §2): banner, preamble, rev1 and rev0 CRC-mode frames,
//! segments and epilogues. A pure codec: bytes in, frames out, no I/O.
//!
//! The pieces, in the order a connection uses them:
//!
//! 1. [`Banner`] (§1): each side writes [`Banner::pacific`]`.encode()` at once and feeds the
//!    peer's bytes to a [`BannerDecoder`], which applies the receiver rules of §1.3 and picks the
//!    frame [`Revision`] (rule 5). Bytes after the banner belong to the first frame.
//! 2. [`Frame`]: a [`Tag`] (§3.1) and 1 to 4 segments held as [`bytes::Bytes`]. Sending is
//!    [`assemble`], which returns a [`WireFrame`]: the frame as a short list of `Bytes` pieces
//!    for one `writev`, with the payload segments referenced, not copied (§2.3, §2.6).
//! 3. Receiving is a [`FrameDecoder`]: feed it byte slices as they come off the socket, in any
//!    split, and it hands back complete frames, each segment copied once, straight from the
//!    input into a buffer of its exact size (§2.10). [`FrameLimits`] (§2.5) bound what it will
//!    allocate; every malformed input is a [`DecodeError`], never a panic.
//!
//! CRC mode has no padding (§2.1): the preamble's alignment fields are hints for the
//! receiver's buffers. Secure mode (§2.7) and compression (§2.8) are out of scope.
//!
//! ```
//! use bytes::Bytes;
//! use msgr::frames::{assemble, Frame, FrameDecoder, FrameLimits, Revision, Tag};
//!
//! let frame = Frame::control(Tag::Keepalive2, Bytes::from_static(&[0; 8])).unwrap();
//! let wire = assemble(&frame, Revision::Rev1);
//! assert_eq!(wire.len() as u64, frame.onwire_len(Revision::Rev1)); // 32 + 8 + 4
//!
//! let mut decoder = FrameDecoder::new(Revision::Rev1, FrameLimits::default());
//! let mut got = Vec::new();
//! for piece in wire.pieces() {
//!     decoder.decode_all(piece, &mut got).unwrap();
//! }
//! assert_eq!(got, vec![frame]);
//! ```

#![forbid(unsafe_code)]

pub(crate) mod assemble;
mod banner;
mod crc;
mod decode;
mod epilogue;
mod error;
mod fill;
mod frame;
mod limits;
mod preamble;
mod tag;

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod shared_tests;
#[cfg(test)]
mod spec_examples;
#[cfg(test)]
mod spec_tests;
#[cfg(test)]
mod test_util;

pub use assemble::{MAX_WIRE_PIECES, WireFrame, WirePieces, assemble, assemble_in, assemble_into};
pub use banner::{
    BANNER_LEN, BANNER_PAYLOAD_LEN, BANNER_PREFIX, Banner, BannerDecoder, BannerStatus,
    MSGR2_FEATURE_COMPRESSION, MSGR2_FEATURE_REVISION_1, Negotiated, negotiate,
};
pub use crc::{crc32c_raw, preamble_crc, segment_crc};
pub use decode::{Decoded, FrameDecoder, RxCopyStats};
pub use epilogue::{
    FRAME_LATE_FLAG_ABORTED, FRAME_LATE_STATUS_ABORTED, FRAME_LATE_STATUS_COMPLETE,
    FRAME_LATE_STATUS_MASK,
};
pub use error::{AssembleError, BannerError, DecodeError, FrameError};
pub use frame::{Frame, default_alignment};
pub use limits::{
    DEFAULT_MAX_CONTROL_LEN, DEFAULT_MAX_DATA_LEN, DEFAULT_MAX_FRONT_LEN, DEFAULT_MAX_MIDDLE_LEN,
    FrameLimits,
};
pub use preamble::{Preamble, SegmentDesc};
pub use tag::Tag;

/// Size of the preamble that starts every frame, in both revisions (§2.2).
pub const PREAMBLE_LEN: usize = 32;

/// Most segments a frame can carry (§2.1, `MAX_NUM_SEGMENTS`).
pub const MAX_NUM_SEGMENTS: usize = 4;

/// Size of one on-wire CRC value (§2.3).
pub const CRC_LEN: usize = 4;

/// Size of the rev1 CRC-mode epilogue: late_status and crc1..crc3 (§2.3).
pub const EPILOGUE_REV1_LEN: usize = 1 + 3 * CRC_LEN;

/// Size of the rev0 CRC-mode epilogue: late_flags and crc0..crc3 (§2.6).
pub const EPILOGUE_REV0_LEN: usize = 1 + 4 * CRC_LEN;

/// A first segment up to this many bytes is copied into the same buffer as the preamble by
/// [`assemble`], so a small control frame goes out as a single piece. It is the size of the
/// inline area that follows the preamble in rev1 secure mode (§2.7); larger first segments
/// are referenced, never copied.
pub const INLINE_SEGMENT0_MAX: usize = 48;

/// Frame format revision, chosen once per connection after the banner exchange (§1.3 rule 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Revision {
    /// msgr2.0 (§2.6): all segments, then a 17-byte epilogue with every segment's CRC,
    /// present even for single-segment frames. Only for peers without `REVISION_1`.
    Rev0,
    /// msgr2.1 (§2.3): the first segment's CRC right after it; a 13-byte epilogue only when
    /// the frame has more than one segment. What every Pacific peer uses.
    Rev1,
}

impl Revision {
    /// The revision both sides use, given the peer's banner `supported` bits (§1.3 rule 5).
    pub fn for_peer_supported(peer_supported: u64) -> Self {
        if peer_supported & MSGR2_FEATURE_REVISION_1 != 0 {
            Revision::Rev1
        } else {
            Revision::Rev0
        }
    }
}
