//! CRC fix-up: a mutated frame almost never carries valid CRCs, so without help the fuzzer
//! only ever reaches `BadPreambleCrc`. These functions walk a stream the way a receiver
//! would and overwrite every CRC field with the value that checks (§2.2, §2.3, §2.6),
//! leaving every other byte (tags, counts, lengths, alignments, flags, late status) as the
//! fuzzer wrote it. They are idempotent: a valid stream comes back unchanged.

use msgr::frames::{
    BANNER_PREFIX, CRC_LEN, EPILOGUE_REV0_LEN, EPILOGUE_REV1_LEN, MAX_NUM_SEGMENTS, PREAMBLE_LEN,
    Revision, preamble_crc, segment_crc,
};

fn put_crc(buf: &mut [u8], at: usize, crc: u32) {
    buf[at..at + CRC_LEN].copy_from_slice(&crc.to_le_bytes());
}

/// Fixes the frame starting at `buf[0]`. Returns its on-wire length, or `None` if the stream
/// ends inside it or its segment count is out of range (the preamble CRC is still fixed when
/// the 32 bytes are there, so the decoder reaches the check that fails).
pub fn fix_frame(buf: &mut [u8], rev: Revision) -> Option<usize> {
    if buf.len() < PREAMBLE_LEN {
        return None;
    }
    let crc = preamble_crc(&buf[..28]);
    put_crc(buf, 28, crc);
    let n = usize::from(buf[1]);
    if !(1..=MAX_NUM_SEGMENTS).contains(&n) {
        return None;
    }
    let mut lens = [0usize; MAX_NUM_SEGMENTS];
    for (i, len) in lens.iter_mut().enumerate().take(n) {
        let at = 2 + 6 * i;
        *len = u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
    }
    let mut pos = PREAMBLE_LEN;
    let mut crcs = [0u32; MAX_NUM_SEGMENTS];
    for (i, &len) in lens.iter().enumerate().take(n) {
        let end = pos.checked_add(len).filter(|&e| e <= buf.len())?;
        crcs[i] = segment_crc(&buf[pos..end]);
        pos = end;
        if rev == Revision::Rev1 && i == 0 && len > 0 {
            // rev1: segment 0's CRC follows it (§2.3).
            if buf.len() - pos < CRC_LEN {
                return None;
            }
            put_crc(buf, pos, crcs[0]);
            pos += CRC_LEN;
        }
    }
    match rev {
        Revision::Rev1 if n == 1 => Some(pos),
        Revision::Rev1 => {
            if buf.len() - pos < EPILOGUE_REV1_LEN {
                return None;
            }
            for (i, &crc) in crcs.iter().enumerate().take(n).skip(1) {
                put_crc(buf, pos + 1 + CRC_LEN * (i - 1), crc);
            }
            Some(pos + EPILOGUE_REV1_LEN)
        }
        Revision::Rev0 => {
            if buf.len() - pos < EPILOGUE_REV0_LEN {
                return None;
            }
            for (i, &crc) in crcs.iter().enumerate().take(n) {
                put_crc(buf, pos + 1 + CRC_LEN * i, crc);
            }
            Some(pos + EPILOGUE_REV0_LEN)
        }
    }
}

/// Fixes a stream of frames of revision `rev`, from a frame boundary, until a frame cannot
/// be walked. Returns how many bytes were walked.
pub fn fix_frames(buf: &mut [u8], rev: Revision) -> usize {
    let mut pos = 0;
    while let Some(len) = fix_frame(&mut buf[pos..], rev) {
        pos += len;
    }
    pos
}

/// The length of the banner at the start of `buf` and the revision its `supported` bits pick
/// against a Pacific peer (§1.3 rule 5), if a complete msgr2 banner is there.
pub fn banner_at(buf: &[u8]) -> Option<(usize, Revision)> {
    if buf.len() < 10 || buf[..8] != BANNER_PREFIX {
        return None;
    }
    let payload = usize::from(u16::from_le_bytes([buf[8], buf[9]]));
    if payload < 16 || buf.len() < 10 + payload {
        return None;
    }
    let mut supported = [0u8; 8];
    supported.copy_from_slice(&buf[10..18]);
    let rev = Revision::for_peer_supported(u64::from_le_bytes(supported));
    Some((10 + payload, rev))
}

/// Fixes a whole transport's input: a banner, then frames in the revision it picks. A banner
/// found where a frame would start (the next transport of a reconnecting connection, fed on
/// by the driver) starts over.
pub fn fix_stream(buf: &mut [u8]) {
    let mut pos = 0;
    while let Some((banner_len, rev)) = banner_at(&buf[pos..]) {
        pos += banner_len;
        loop {
            if banner_at(&buf[pos..]).is_some() {
                break;
            }
            match fix_frame(&mut buf[pos..], rev) {
                Some(len) => pos += len,
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use msgr::frames::{Banner, Frame, Tag, assemble};

    fn frames() -> Vec<Frame> {
        vec![
            Frame::control(Tag::Hello, Bytes::from_static(&[1; 36])).unwrap(),
            Frame::new(Tag::Wait, []).unwrap(),
            Frame::new(
                Tag::Message,
                [
                    Bytes::from_static(&[2; 41]),
                    Bytes::new(),
                    Bytes::from_static(&[3; 5]),
                    Bytes::from_static(&[4; 9]),
                ],
            )
            .unwrap(),
        ]
    }

    #[test]
    fn valid_streams_are_unchanged_and_corruptions_repaired() {
        for rev in [Revision::Rev0, Revision::Rev1] {
            let mut wire = Vec::new();
            for f in frames() {
                wire.extend(assemble(&f, rev).to_vec());
            }
            let mut fixed = wire.clone();
            assert_eq!(fix_frames(&mut fixed, rev), wire.len());
            assert_eq!(fixed, wire);
            // Zero every CRC-bearing byte... by corrupting the whole tail of each frame.
            let mut broken = wire.clone();
            for b in broken.iter_mut().skip(28).step_by(7) {
                *b ^= 0x5a;
            }
            fix_frames(&mut broken, rev);
            let mut dec = msgr::frames::FrameDecoder::new(rev, Default::default());
            let mut out = Vec::new();
            // Payload bytes changed, CRCs now agree: it decodes or fails on a non-CRC check.
            if let Err(e) = dec.decode_all(&broken, &mut out) {
                assert!(
                    !matches!(
                        e.kind,
                        msgr::frames::FrameError::BadPreambleCrc { .. }
                            | msgr::frames::FrameError::BadSegmentCrc { .. }
                    ),
                    "{e}"
                );
            }
        }
        let mut stream = Banner::pacific().encode().to_vec();
        for f in frames() {
            stream.extend(assemble(&f, Revision::Rev1).to_vec());
        }
        let mut fixed = stream.clone();
        fix_stream(&mut fixed);
        assert_eq!(fixed, stream);
    }
}
