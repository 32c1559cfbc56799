//! The incremental, sans-IO frame decoder (§2.10 for rev1, §2.6 for rev0).

use std::mem;

use bytes::Bytes;

use super::{
    CRC_LEN, DecodeError, EPILOGUE_REV0_LEN, EPILOGUE_REV1_LEN, Frame, FrameError, FrameLimits,
    MAX_NUM_SEGMENTS, PREAMBLE_LEN, Preamble, Revision, crc::SegmentCrc, epilogue,
};

/// How received segment bytes reached their buffers (counts of bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxCopyStats {
    /// Copied in user space from the input into a segment buffer (a segment split across
    /// inputs, or input given as a borrowed slice).
    pub copied: u64,
    /// Handed out as slices of a shared input buffer: no copy.
    pub shared: u64,
    /// Read by the kernel straight into the segment buffer ([`FrameDecoder::direct_buf`]).
    pub direct: u64,
}

impl std::ops::AddAssign for RxCopyStats {
    fn add_assign(&mut self, o: Self) {
        self.copied += o.copied;
        self.shared += o.shared;
        self.direct += o.direct;
    }
}

/// What one [`FrameDecoder::decode`] call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Bytes of the input consumed. Less than the input's length only when `frame` is `Some`:
    /// the rest belongs to the next frame and must be passed in again.
    pub consumed: usize,
    /// The frame completed by this input, if any.
    pub frame: Option<Frame>,
}

/// A frame being received: its preamble, the segments read so far and their CRCs.
#[derive(Debug)]
struct RxFrame {
    preamble: Preamble,
    /// Index of the segment being read, or of the last one read.
    index: usize,
    /// The segment being read, allocated at its exact length on its first byte.
    buf: Vec<u8>,
    crc: SegmentCrc,
    segments: [Bytes; MAX_NUM_SEGMENTS],
    crcs: [u32; MAX_NUM_SEGMENTS],
}

impl RxFrame {
    fn num_segments(&self) -> usize {
        usize::from(self.preamble.num_segments)
    }

    fn len(&self, index: usize) -> usize {
        self.preamble.segments[index].length as usize
    }

    /// Hands out the completed frame, leaving the segment slots empty.
    fn take_frame(&mut self) -> Frame {
        let num_segments = self.num_segments();
        Frame::from_parts(
            self.preamble.tag,
            mem::take(&mut self.segments),
            num_segments,
        )
    }
}

/// Where the decoder is. The frame being received lives beside it in the decoder (it is
/// large, and is updated in place rather than moved from step to step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Preamble,
    Segment,
    /// rev1 only: the 4-byte CRC after a non-empty segment 0.
    InlineCrc,
    Epilogue,
}

/// What one step of the state machine did.
enum Step {
    /// Needs more input than is left.
    Blocked,
    /// Made progress; run again.
    Next,
    /// A frame is complete.
    Frame,
}

/// The input of one decode call: borrowed bytes (every segment is copied out), or a shared
/// receive buffer whose whole segments are handed out as slices of it, without a copy.
#[derive(Clone, Copy)]
enum Chunk<'a> {
    Borrowed(&'a [u8]),
    Shared(&'a Bytes),
}

impl Chunk<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Borrowed(b) => b,
            Chunk::Shared(b) => b,
        }
    }
}

/// Decodes a stream of CRC-mode frames (§2.10) fed in slices of any size: a byte at a time,
/// or many frames at once. Fed with [`decode_shared`](Self::decode_shared), a segment that
/// lies whole inside the input is a slice of it (zero copy, no allocation); a segment split
/// across inputs, or any segment fed with [`decode`](Self::decode), is copied once into a
/// buffer allocated at the segment's exact length after [`FrameLimits`] accepted the preamble.
/// A large segment's remainder can also be read straight into that buffer
/// ([`direct_buf`](Self::direct_buf)). Frames the sender aborted (late status, §2.3) are
/// dropped and counted. The first malformed byte puts the decoder in a failed state for good.
#[derive(Debug)]
pub struct FrameDecoder {
    rev: Revision,
    limits: FrameLimits,
    stage: Stage,
    /// Set by the first malformed byte, for good.
    failed: Option<DecodeError>,
    /// The frame being received (meaningful outside [`Stage::Preamble`]).
    rx: RxFrame,
    scratch: [u8; PREAMBLE_LEN],
    filled: usize,
    position: u64,
    frame_start: u64,
    aborted: u64,
    stats: RxCopyStats,
}

impl FrameDecoder {
    /// A decoder for revision `rev` (the banner exchange picks it, §1.3 rule 5) that refuses
    /// frames over `limits`.
    pub fn new(rev: Revision, limits: FrameLimits) -> Self {
        FrameDecoder {
            rev,
            limits,
            stage: Stage::Preamble,
            failed: None,
            rx: RxFrame {
                preamble: Preamble {
                    tag: super::Tag::Hello,
                    num_segments: 1,
                    segments: Default::default(),
                    flags: 0,
                },
                index: 0,
                buf: Vec::new(),
                crc: SegmentCrc::default(),
                segments: Default::default(),
                crcs: [0; MAX_NUM_SEGMENTS],
            },
            scratch: [0; PREAMBLE_LEN],
            filled: 0,
            position: 0,
            frame_start: 0,
            aborted: 0,
            stats: RxCopyStats::default(),
        }
    }

    /// Counts stream offsets from `offset` instead of 0, e.g. from the banner's length, so that
    /// errors name the byte offset in the connection's stream.
    pub fn starting_at(mut self, offset: u64) -> Self {
        self.position = offset;
        self.frame_start = offset;
        self
    }

    /// The frame revision this decoder reads.
    pub fn revision(&self) -> Revision {
        self.rev
    }

    /// Stream offset of the next byte to be consumed.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// How many frames were dropped because their sender marked them aborted (§2.3, §2.6).
    pub fn frames_aborted(&self) -> u64 {
        self.aborted
    }

    /// How segment bytes reached their buffers since the last call (then resets).
    pub fn take_stats(&mut self) -> RxCopyStats {
        std::mem::take(&mut self.stats)
    }

    /// Whether a previous call returned an error (which every later call repeats).
    pub fn is_failed(&self) -> bool {
        self.failed.is_some()
    }

    /// Whether the decoder sits between frames, with no partial frame buffered.
    pub fn is_at_frame_boundary(&self) -> bool {
        self.stage == Stage::Preamble && self.filled == 0 && self.failed.is_none()
    }

    /// The preamble of the frame being received, once its 32 bytes have arrived and passed
    /// the checks. The protocol layer can look at the tag and lengths here, e.g. to throttle
    /// a large MESSAGE before feeding its segments.
    pub fn pending_preamble(&self) -> Option<&Preamble> {
        match self.stage {
            _ if self.failed.is_some() => None,
            Stage::Preamble => None,
            Stage::Segment | Stage::InlineCrc | Stage::Epilogue => Some(&self.rx.preamble),
        }
    }

    /// Consumes bytes from `input` until a frame is complete or the input runs out. Call it
    /// whenever bytes arrive; when it returns a frame, call it again with
    /// `&input[consumed..]` (which may hold further frames, or be empty).
    pub fn decode(&mut self, input: &[u8]) -> Result<Decoded, DecodeError> {
        self.decode_chunk(Chunk::Borrowed(input))
    }

    /// [`decode`](Self::decode) for input in a shared buffer: segments that lie whole inside
    /// `input` come out as slices of it, without copying. (They keep the buffer alive as long
    /// as the frame, or the message built from it, lives.)
    pub fn decode_shared(&mut self, input: &Bytes) -> Result<Decoded, DecodeError> {
        self.decode_chunk(Chunk::Shared(input))
    }

    /// The buffer the rest of the segment being received belongs in, when at least `min`
    /// bytes of it are still to come: read up to its spare capacity straight into it (no
    /// copy in between), then call [`direct_filled`](Self::direct_filled). `None` between
    /// segments, or when less than `min` remains.
    pub fn direct_buf(&mut self, min: usize) -> Option<&mut Vec<u8>> {
        if self.stage != Stage::Segment || self.failed.is_some() {
            return None;
        }
        let rx = &mut self.rx;
        let len = rx.len(rx.index);
        if len - rx.buf.len() < min.max(1) {
            return None;
        }
        if rx.buf.capacity() == 0 {
            rx.buf = Vec::with_capacity(len);
        }
        Some(&mut rx.buf)
    }

    /// Accounts for `n` bytes appended to the [`direct_buf`](Self::direct_buf) (CRC, stream
    /// position). Does nothing if the decoder is not inside a segment or `n` exceeds what was
    /// appended. A segment completed this way is finished by the next decode call (which
    /// may be given empty input).
    pub fn direct_filled(&mut self, n: usize) {
        if self.stage != Stage::Segment || self.failed.is_some() {
            return;
        }
        let rx = &mut self.rx;
        let end = rx.buf.len();
        let Some(start) = end.checked_sub(n) else {
            return;
        };
        rx.crc.update(&rx.buf[start..end]);
        self.position += n as u64;
        self.stats.direct += n as u64;
    }

    /// Lends out the [`direct_buf`](Self::direct_buf) (same condition), for a receive that
    /// owns its buffer (io_uring). Feed no input until [`put_direct`](Self::put_direct) gives
    /// it back.
    pub fn take_direct(&mut self, min: usize) -> Option<Vec<u8>> {
        self.direct_buf(min).map(mem::take)
    }

    /// Takes back a buffer lent by [`take_direct`](Self::take_direct), with `n` bytes
    /// appended to it, and accounts for them as [`direct_filled`](Self::direct_filled) does.
    pub fn put_direct(&mut self, buf: Vec<u8>, n: usize) {
        if self.stage != Stage::Segment || self.failed.is_some() {
            return;
        }
        self.rx.buf = buf;
        self.direct_filled(n);
    }

    fn decode_chunk(&mut self, input: Chunk<'_>) -> Result<Decoded, DecodeError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let mut pos = 0;
        let result = loop {
            match self.step(input, &mut pos) {
                Ok(Step::Next) => {}
                Ok(Step::Blocked) => break Ok(None),
                Ok(Step::Frame) => {
                    self.stage = Stage::Preamble;
                    break Ok(Some(self.rx.take_frame()));
                }
                Err(kind) => {
                    let error = DecodeError {
                        frame_offset: self.frame_start,
                        kind,
                    };
                    self.failed = Some(error.clone());
                    break Err(error);
                }
            }
        };
        self.position += pos as u64;
        result.map(|frame| Decoded {
            consumed: pos,
            frame,
        })
    }

    /// Decodes all of `input`, pushing each completed frame onto `out`. On error, the frames
    /// completed before the bad one are in `out`.
    pub fn decode_all(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<Frame>,
    ) -> Result<(), DecodeError> {
        loop {
            let Decoded { consumed, frame } = self.decode(input)?;
            input = &input[consumed..];
            match frame {
                Some(frame) => out.push(frame),
                None => return Ok(()),
            }
        }
    }

    fn step(&mut self, chunk: Chunk<'_>, pos: &mut usize) -> Result<Step, FrameError> {
        let input = chunk.bytes();
        match self.stage {
            Stage::Preamble => {
                if self.filled == 0 {
                    self.frame_start = self.position + *pos as u64;
                }
                if !self.fill(PREAMBLE_LEN, input, pos) {
                    return Ok(Step::Blocked);
                }
                let preamble = Preamble::decode(&self.scratch)?;
                self.limits.check(&preamble)?;
                let rx = &mut self.rx;
                rx.preamble = preamble;
                rx.index = 0;
                rx.buf = Vec::new();
                rx.crc = SegmentCrc::default();
                rx.crcs = [0; MAX_NUM_SEGMENTS];
                self.stage = Stage::Segment;
                Ok(Step::Next)
            }
            Stage::Segment => {
                let rx = &mut self.rx;
                let len = rx.len(rx.index);
                let i = rx.index;
                if let Chunk::Shared(shared) = chunk
                    && rx.buf.is_empty()
                    && input.len() - *pos >= len
                {
                    let segment = shared.slice(*pos..*pos + len);
                    rx.crcs[i] = super::crc::segment_crc(&segment);
                    rx.segments[i] = segment;
                    *pos += len;
                    self.stats.shared += len as u64;
                    return Ok(self.after_segment());
                }
                let chunk = &input[*pos..];
                let take = (len - rx.buf.len()).min(chunk.len());
                if take > 0 {
                    if rx.buf.capacity() == 0 {
                        rx.buf = Vec::with_capacity(len);
                    }
                    rx.buf.extend_from_slice(&chunk[..take]);
                    rx.crc.update(&chunk[..take]);
                    *pos += take;
                    self.stats.copied += take as u64;
                }
                if rx.buf.len() < len {
                    return Ok(Step::Blocked);
                }
                rx.crcs[i] = mem::take(&mut rx.crc).value();
                rx.segments[i] = Bytes::from(mem::take(&mut rx.buf));
                Ok(self.after_segment())
            }
            Stage::InlineCrc => {
                if !self.fill(CRC_LEN, input, pos) {
                    return Ok(Step::Blocked);
                }
                let expected = u32::from_le_bytes([
                    self.scratch[0],
                    self.scratch[1],
                    self.scratch[2],
                    self.scratch[3],
                ]);
                if expected != self.rx.crcs[0] {
                    return Err(FrameError::BadSegmentCrc {
                        segment: 0,
                        expected,
                        computed: self.rx.crcs[0],
                    });
                }
                Ok(self.next_segment_or_done())
            }
            Stage::Epilogue => {
                let len = match self.rev {
                    Revision::Rev1 => EPILOGUE_REV1_LEN,
                    Revision::Rev0 => EPILOGUE_REV0_LEN,
                };
                if !self.fill(len, input, pos) {
                    return Ok(Step::Blocked);
                }
                let bytes = &self.scratch[..len];
                let rx = &self.rx;
                let complete = match self.rev {
                    Revision::Rev1 => epilogue::check_rev1(bytes, rx.num_segments(), &rx.crcs)?,
                    Revision::Rev0 => epilogue::check_rev0(bytes, rx.num_segments(), &rx.crcs)?,
                };
                if complete {
                    Ok(Step::Frame)
                } else {
                    self.aborted += 1;
                    self.rx.segments = Default::default();
                    self.stage = Stage::Preamble;
                    Ok(Step::Next)
                }
            }
        }
    }

    /// Where to go once segment `rx.index` is complete.
    fn after_segment(&mut self) -> Step {
        let rx = &mut self.rx;
        match self.rev {
            Revision::Rev1 if rx.index == 0 && rx.len(0) > 0 => {
                self.stage = Stage::InlineCrc;
                Step::Next
            }
            Revision::Rev1 if rx.index == 0 => self.next_segment_or_done(),
            _ if rx.index + 1 < rx.num_segments() => {
                rx.index += 1;
                self.stage = Stage::Segment;
                Step::Next
            }
            _ => {
                self.stage = Stage::Epilogue;
                Step::Next
            }
        }
    }

    /// rev1, after segment 0 and its CRC: a single-segment frame is complete (no epilogue);
    /// otherwise segment 1 follows.
    fn next_segment_or_done(&mut self) -> Step {
        if self.rx.num_segments() == 1 {
            Step::Frame
        } else {
            self.rx.index = 1;
            self.stage = Stage::Segment;
            Step::Next
        }
    }

    /// Copies input into the scratch buffer until it holds `want` bytes; true once it does.
    fn fill(&mut self, want: usize, input: &[u8], pos: &mut usize) -> bool {
        super::fill::fill(&mut self.scratch, &mut self.filled, want, input, pos)
    }
}
