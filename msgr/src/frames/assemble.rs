//! Frame assembly: a [`Frame`] to the pieces of one `writev` (§2.3, §2.6).

use bytes::{BufMut, Bytes, BytesMut};

use super::{
    CRC_LEN, EPILOGUE_REV0_LEN, EPILOGUE_REV1_LEN, Frame, INLINE_SEGMENT0_MAX, MAX_NUM_SEGMENTS,
    PREAMBLE_LEN, Revision, Tag, crc::segment_crc, epilogue,
};

/// Most pieces a [`WireFrame`] has: the preamble block, segment 0, its CRC, segments 1 to 3
/// and the epilogue.
pub const MAX_WIRE_PIECES: usize = 7;

/// An assembled frame: its bytes as up to [`MAX_WIRE_PIECES`] `Bytes`, in order, none empty.
/// The payload segments appear as the caller's own `Bytes` (same memory); only the preamble,
/// the CRCs, the epilogue and a first segment of at most [`INLINE_SEGMENT0_MAX`] bytes are
/// written to a fresh buffer, a single allocation shared by those pieces.
#[derive(Debug, Clone, Default)]
pub struct WireFrame {
    pieces: [Bytes; MAX_WIRE_PIECES],
    count: usize,
    len: usize,
}

impl WireFrame {
    /// The pieces in wire order, ready for `writev`.
    pub fn pieces(&self) -> &[Bytes] {
        &self.pieces[..self.count]
    }

    /// Total bytes on the wire.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the frame has no bytes (never true for an assembled frame).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The frame as one contiguous buffer. This copies every byte; meant for tests and logs.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        for piece in self.pieces() {
            out.extend_from_slice(piece);
        }
        out
    }
}

/// Where [`assemble_into`] puts the pieces of a frame, in order.
pub trait WirePieces {
    /// Appends a non-empty piece.
    fn push_piece(&mut self, piece: Bytes);
}

impl WirePieces for WireFrame {
    fn push_piece(&mut self, piece: Bytes) {
        if self.count < MAX_WIRE_PIECES {
            self.len += piece.len();
            self.pieces[self.count] = piece;
            self.count += 1;
        }
    }
}

impl WirePieces for Vec<Bytes> {
    fn push_piece(&mut self, piece: Bytes) {
        self.push(piece);
    }
}

/// Moves what was written to `arena` so far into a piece; the rest of its capacity stays for
/// later parts (same allocation).
fn cut(arena: &mut BytesMut, out: &mut impl WirePieces) {
    if !arena.is_empty() {
        out.push_piece(arena.split().freeze());
    }
}

fn push(piece: &Bytes, out: &mut impl WirePieces) {
    if !piece.is_empty() {
        out.push_piece(piece.clone());
    }
}

impl IntoIterator for WireFrame {
    type Item = Bytes;
    type IntoIter = std::iter::Take<std::array::IntoIter<Bytes, MAX_WIRE_PIECES>>;

    fn into_iter(self) -> Self::IntoIter {
        self.pieces.into_iter().take(self.count)
    }
}

/// Assembles `frame` in CRC mode for revision `rev`, as Ceph's sender lays it out (§2.3, §2.6).
/// CRC mode has no padding: the alignments in the preamble are hints only (§2.1).
///
/// rev1: preamble, segment 0, its CRC if segment 0 is non-empty, and only when there is more
/// than one segment: segments 1.., then the 13-byte epilogue (late_status 0x0E, crc1..crc3 with
/// 0xFFFFFFFF for an empty segment in use and 0 for unused ones).
///
/// rev0: preamble, all segments, then the 17-byte epilogue (late_flags 0, crc0..crc3), even
/// for a single segment.
pub fn assemble(frame: &Frame, rev: Revision) -> WireFrame {
    assemble_in(frame.tag(), frame.segments(), rev, &mut BytesMut::new())
}

/// Fresh arena chunk for [`assemble_in`]; a chunk is reused once nothing refers to it.
const ARENA_CHUNK: usize = 64 * 1024;

/// [`assemble`] for a frame given as its tag and segments (1 to 4, normalised as
/// [`Frame::new`] does), writing the fixed parts into `arena`: its spare capacity is used
/// and the written pieces split off, so a long-lived arena costs no allocation per frame
/// once the pieces of earlier frames are dropped.
pub fn assemble_in(tag: Tag, segments: &[Bytes], rev: Revision, arena: &mut BytesMut) -> WireFrame {
    let mut wire = WireFrame::default();
    assemble_into(tag, segments, rev, arena, &mut wire);
    wire
}

/// [`assemble_in`] appending the pieces to `out` (e.g. a batch of frames for one `writev`).
pub fn assemble_into(
    tag: Tag,
    segments: &[Bytes],
    rev: Revision,
    arena: &mut BytesMut,
    out: &mut impl WirePieces,
) {
    let empty = Bytes::new();
    let seg0 = segments.first().unwrap_or(&empty);
    let rest = segments.get(1..).unwrap_or_default();
    assemble_parts(tag, Seg0::Shared(seg0), rest, rev, arena, out);
}

/// Segment 0 of a frame being assembled: shared (referenced if too long to inline), or
/// plain bytes, always inlined (e.g. a 41-byte message header, written once).
pub(crate) enum Seg0<'a> {
    Shared(&'a Bytes),
    Inline(&'a [u8]),
}

/// The assembly itself: segment 0 and segments 1.. (normalised as [`Frame::new`] does).
pub(crate) fn assemble_parts(
    tag: Tag,
    seg0: Seg0<'_>,
    rest: &[Bytes],
    rev: Revision,
    arena: &mut BytesMut,
    out: &mut impl WirePieces,
) {
    let (bytes0, inline): (&[u8], bool) = match seg0 {
        Seg0::Shared(b) => (b, b.len() <= INLINE_SEGMENT0_MAX),
        Seg0::Inline(b) => (b, true),
    };
    let count = (1 + rest.len()).min(MAX_NUM_SEGMENTS);
    let mut lens = [0usize; MAX_NUM_SEGMENTS];
    let mut crcs = [0u32; MAX_NUM_SEGMENTS];
    lens[0] = bytes0.len();
    crcs[0] = segment_crc(bytes0);
    for (i, segment) in rest.iter().enumerate().take(MAX_NUM_SEGMENTS - 1) {
        lens[i + 1] = segment.len();
        crcs[i + 1] = segment_crc(segment);
    }
    let trailer = match rev {
        Revision::Rev1 => CRC_LEN + EPILOGUE_REV1_LEN,
        Revision::Rev0 => EPILOGUE_REV0_LEN,
    };
    let need = PREAMBLE_LEN + if inline { bytes0.len() } else { 0 } + trailer;
    if arena.capacity() - arena.len() < need {
        // A standalone frame (empty arena) gets exactly what it needs.
        let chunk = if arena.capacity() == 0 {
            0
        } else {
            ARENA_CHUNK
        };
        arena.reserve(need.max(chunk));
    }
    arena.put_slice(&super::frame::preamble_for(tag, &lens[..count]).encode());

    // Fixed-size parts accumulate in `arena`; it is cut into a piece only where one of the
    // caller's segments must go in between.
    match seg0 {
        Seg0::Shared(b) if !inline => {
            cut(arena, out);
            push(b, out);
        }
        _ => arena.put_slice(bytes0),
    }
    if rev == Revision::Rev1 && !bytes0.is_empty() {
        arena.put_u32_le(crcs[0]);
    }
    if rev == Revision::Rev0 || count > 1 {
        for segment in rest.iter().filter(|s| !s.is_empty()) {
            cut(arena, out);
            push(segment, out);
        }
        match rev {
            Revision::Rev1 => arena.put_slice(&epilogue::encode_rev1(&crcs)),
            Revision::Rev0 => arena.put_slice(&epilogue::encode_rev0(&crcs)),
        }
    }
    cut(arena, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(n: usize, fill: u8) -> Bytes {
        Bytes::from(vec![fill; n])
    }

    #[test]
    fn small_control_frame_is_one_piece() {
        let f = Frame::control(Tag::Hello, b(36, 1)).unwrap();
        let w = assemble(&f, Revision::Rev1);
        assert_eq!(w.pieces().len(), 1);
        assert_eq!(w.len(), 72);
        let w0 = assemble(&f, Revision::Rev0);
        assert_eq!(w0.pieces().len(), 1);
        assert_eq!(w0.len(), 85);
        let wait = assemble(&Frame::new(Tag::Wait, []).unwrap(), Revision::Rev1);
        assert_eq!(wait.len(), 32);
    }

    #[test]
    fn payload_segments_are_referenced_not_copied() {
        let header = b(41, 1);
        let front = b(1000, 2);
        let data = b(100_000, 3);
        let f = Frame::new(
            Tag::Message,
            [header, front.clone(), Bytes::new(), data.clone()],
        )
        .unwrap();
        let w = assemble(&f, Revision::Rev1);
        let p = w.pieces();
        // [preamble + header + crc0], front, data, epilogue: the empty middle is skipped.
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].len(), 32 + 41 + 4);
        assert_eq!(p[1].as_ptr(), front.as_ptr());
        assert_eq!(p[2].as_ptr(), data.as_ptr());
        assert_eq!(p[3].len(), 13);
        assert_eq!(w.len() as u64, f.onwire_len(Revision::Rev1));
    }

    #[test]
    fn large_first_segment_is_referenced() {
        let big = b(49, 7);
        let f = Frame::new(Tag::Message, [big.clone(), b(3, 1)]).unwrap();
        let w = assemble(&f, Revision::Rev1);
        let p = w.pieces();
        assert_eq!(p.len(), 5); // preamble, seg0, crc0, seg1, epilogue
        assert_eq!(p[1].as_ptr(), big.as_ptr());
        assert_eq!(p[2].len(), 4);
        let w0 = assemble(&f, Revision::Rev0);
        assert_eq!(w0.pieces().len(), 4); // preamble, seg0, seg1, epilogue
        assert_eq!(w0.len() as u64, f.onwire_len(Revision::Rev0));
        let collected: Vec<Bytes> = w0.clone().into_iter().collect();
        assert_eq!(collected.concat(), w0.to_vec());
    }
}
