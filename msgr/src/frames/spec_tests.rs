//! Tests against the exact bytes of msgr2.md: every frame it prints, decoded at every split
//! and re-assembled byte for byte, plus decoder behaviour the spec describes.

use bytes::Bytes;

use super::spec_examples::EXAMPLES;
use super::test_util::{check_flip, decode_all};
use super::*;

/// Feeds `bytes` in chunks of `chunk` bytes and collects the frames.
fn decode_chunked(rev: Revision, bytes: &[u8], chunk: usize) -> Vec<Frame> {
    let mut decoder = FrameDecoder::new(rev, FrameLimits::default());
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk) {
        decoder.decode_all(piece, &mut out).unwrap();
    }
    assert!(decoder.is_at_frame_boundary());
    assert_eq!(decoder.position(), bytes.len() as u64);
    out
}

#[test]
fn every_spec_frame_decodes_at_every_split_and_reassembles_exactly() {
    assert_eq!(EXAMPLES.len(), 18);
    for ex in EXAMPLES {
        let name = format!("{} ({})", ex.name, ex.section);
        let (frames, err) = decode_all(ex.rev, ex.bytes);
        assert_eq!(err, None, "{name}");
        assert_eq!(frames.len(), 1, "{name}");
        let frame = &frames[0];
        assert_eq!(frame.tag(), ex.tag, "{name}");
        let lens: Vec<usize> = frame.segments().iter().map(|s| s.len()).collect();
        assert_eq!(lens, ex.seg_lens, "{name}");
        assert_eq!(frame.onwire_len(ex.rev), ex.bytes.len() as u64, "{name}");
        for chunk in 1..=ex.bytes.len() {
            assert_eq!(
                decode_chunked(ex.rev, ex.bytes, chunk),
                frames,
                "{name} /{chunk}"
            );
        }
        // Our sender produces the very same bytes (alignments, CRCs, epilogue, late status).
        assert_eq!(assemble(frame, ex.rev).to_vec(), ex.bytes, "{name}");
    }
}

#[test]
fn all_spec_frames_back_to_back() {
    for rev in [Revision::Rev0, Revision::Rev1] {
        let examples: Vec<_> = EXAMPLES.iter().filter(|e| e.rev == rev).collect();
        let stream: Vec<u8> = examples
            .iter()
            .flat_map(|e| e.bytes.iter().copied())
            .collect();
        for chunk in [1, 3, 31, 32, 33, 77, 500, stream.len()] {
            let frames = decode_chunked(rev, &stream, chunk);
            let tags: Vec<Tag> = frames.iter().map(Frame::tag).collect();
            let want: Vec<Tag> = examples.iter().map(|e| e.tag).collect();
            assert_eq!(tags, want, "{rev:?} /{chunk}");
        }
    }
}

/// The §2.9 HELLO payload, built from its field table.
fn hello_payload() -> Bytes {
    let mut p = vec![
        0x08, 0x01, 0x01, 0x01, 0x1c, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0,
    ];
    p.extend_from_slice(&[
        0x10, 0, 0, 0, 0x02, 0x00, 0x0c, 0xe4, 0xc0, 0xa8, 0x01, 0x0a,
    ]);
    p.extend_from_slice(&[0; 8]);
    assert_eq!(p.len(), 36);
    Bytes::from(p)
}

#[test]
fn hello_worked_example() {
    let frame = Frame::control(Tag::Hello, hello_payload()).unwrap();
    assert_eq!(segment_crc(frame.payload()), 0x67F5_479E);
    let find = |name| EXAMPLES.iter().find(|e| e.name == name).unwrap().bytes;
    assert_eq!(assemble(&frame, Revision::Rev1).to_vec(), find("HELLO"));
    assert_eq!(
        assemble(&frame, Revision::Rev0).to_vec(),
        find("REV0_HELLO")
    );
    // rev0: the epilogue ends `00 | crc0 | 00000000 x3` (§2.6).
    let rev0 = find("REV0_HELLO");
    assert_eq!(rev0[68], 0);
    assert_eq!(&rev0[69..73], &0x67F5_479Eu32.to_le_bytes());
    assert_eq!(&rev0[73..], &[0; 12]);
}

#[test]
fn epilogue_crcs_of_the_message_examples() {
    let find = |name| EXAMPLES.iter().find(|e| e.name == name).unwrap().bytes;
    // MMonSubscribe (§5.7): late 0x0e, crc1, crc2 = crc3 = 0 for the unused segments.
    let sub = find("MMONSUBSCRIBE");
    let epi = &sub[sub.len() - 13..];
    assert_eq!(epi[0], FRAME_LATE_STATUS_COMPLETE);
    assert_eq!(&epi[5..], &[0; 8]);
    // MMonCommandAck (§5.7): the empty middle in use has crc 0xFFFFFFFF.
    let ack = find("MMONCOMMANDACK");
    let epi = &ack[ack.len() - 13..];
    assert_eq!(&epi[5..9], &[0xff; 4]);
    let (frames, _) = decode_all(Revision::Rev1, ack);
    assert_eq!(&frames[0].segments()[3][..], b"ok\n");
}

#[test]
fn every_single_byte_corruption_of_every_spec_frame_is_caught() {
    for ex in EXAMPLES {
        let (frames, _) = decode_all(ex.rev, ex.bytes);
        for index in 0..ex.bytes.len() {
            for xor in [0x01, 0x10, 0x80, 0xFF] {
                check_flip(ex.rev, &frames[0], ex.bytes, index, xor);
            }
        }
    }
}

fn wire(rev: Revision, tag: Tag, segments: &[&[u8]]) -> Vec<u8> {
    let segs: Vec<Bytes> = segments.iter().map(|s| Bytes::copy_from_slice(s)).collect();
    assemble(&Frame::new(tag, segs).unwrap(), rev).to_vec()
}

#[test]
fn aborted_frames_are_dropped_and_counted() {
    for rev in [Revision::Rev1, Revision::Rev0] {
        let mut aborted = wire(rev, Tag::Message, &[b"header", b"front"]);
        let late_at = aborted.len() - if rev == Revision::Rev1 { 13 } else { 17 };
        aborted[late_at] = match rev {
            Revision::Rev1 => FRAME_LATE_STATUS_ABORTED,
            Revision::Rev0 => FRAME_LATE_FLAG_ABORTED,
        };
        let good = wire(rev, Tag::Ack, &[&7u64.to_le_bytes()]);
        let stream = [aborted, good].concat();
        let mut decoder = FrameDecoder::new(rev, FrameLimits::default());
        let mut out = Vec::new();
        decoder.decode_all(&stream, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].tag(), Tag::Ack);
        assert_eq!(decoder.frames_aborted(), 1);
    }
}

#[test]
fn errors_carry_stream_offsets_and_stick() {
    let good = wire(Revision::Rev1, Tag::Keepalive2, &[&[0; 8]]);
    let mut bad = wire(Revision::Rev1, Tag::Keepalive2Ack, &[&[0; 8]]);
    bad[40] ^= 1; // byte 40 = 32 + 8 is the first byte of the inline crc0
    let stream = [good.clone(), bad].concat();
    let mut decoder = FrameDecoder::new(Revision::Rev1, FrameLimits::default()).starting_at(26);
    let mut out = Vec::new();
    let err = decoder.decode_all(&stream, &mut out).unwrap_err();
    assert_eq!(out.len(), 1, "the frame before the bad one is delivered");
    assert_eq!(err.frame_offset, 26 + good.len() as u64);
    assert!(matches!(
        err.kind,
        FrameError::BadSegmentCrc { segment: 0, .. }
    ));
    assert!(decoder.is_failed());
    assert_eq!(decoder.decode(&good), Err(err.clone()));
    assert_eq!(decoder.decode(&[]), Err(err));
}

#[test]
fn limits_are_checked_before_any_segment_byte() {
    let limits = FrameLimits {
        max_segment_len: [100, 1000, 1000, 1 << 20],
        max_frame_len: 1 << 20,
        check_alignment: true,
    };
    let frame = Frame::new(Tag::Message, [Bytes::from(vec![1; 101])]).unwrap();
    let bytes = assemble(&frame, Revision::Rev1).to_vec();
    let mut decoder = FrameDecoder::new(Revision::Rev1, limits);
    // The preamble alone is enough to refuse it.
    let err = decoder.decode(&bytes[..PREAMBLE_LEN]).unwrap_err();
    assert_eq!(
        err.kind,
        FrameError::SegmentTooLong {
            segment: 0,
            len: 101,
            max: 100
        }
    );
    // A 4 GiB data segment announced by a preamble is refused without allocating it.
    let mut p = Frame::new(Tag::Message, [Bytes::from_static(b"h")])
        .unwrap()
        .preamble();
    p.num_segments = 4;
    p.segments[3] = SegmentDesc {
        length: u32::MAX,
        alignment: 4096,
    };
    let mut decoder = FrameDecoder::new(Revision::Rev1, FrameLimits::default());
    let err = decoder.decode(&p.encode()).unwrap_err();
    assert!(matches!(
        err.kind,
        FrameError::SegmentTooLong { segment: 3, .. }
    ));
    // An alignment that is not a power of two.
    p.segments[3] = SegmentDesc {
        length: 10,
        alignment: 4095,
    };
    let mut decoder = FrameDecoder::new(Revision::Rev1, FrameLimits::default());
    let err = decoder.decode(&p.encode()).unwrap_err();
    assert_eq!(
        err.kind,
        FrameError::BadAlignment {
            segment: 3,
            alignment: 4095
        }
    );
}

#[test]
fn pending_preamble_is_visible_mid_frame() {
    let bytes = wire(Revision::Rev1, Tag::Message, &[&[1; 41], &[2; 100]]);
    let mut decoder = FrameDecoder::new(Revision::Rev1, FrameLimits::default());
    assert_eq!(decoder.pending_preamble(), None);
    let d = decoder.decode(&bytes[..40]).unwrap();
    assert_eq!((d.consumed, d.frame), (40, None));
    let p = decoder.pending_preamble().unwrap();
    assert_eq!(
        (p.tag, p.num_segments, p.segments[1].length),
        (Tag::Message, 2, 100)
    );
    assert!(!decoder.is_at_frame_boundary());
    let d = decoder.decode(&bytes[40..]).unwrap();
    assert_eq!(d.consumed, bytes.len() - 40);
    assert_eq!(d.frame.unwrap().segments()[1].len(), 100);
    assert!(decoder.is_at_frame_boundary());
}

#[test]
fn decode_returns_after_each_frame() {
    let one = wire(Revision::Rev1, Tag::Wait, &[]);
    let stream = [one.clone(), one.clone()].concat();
    let mut decoder = FrameDecoder::new(Revision::Rev1, FrameLimits::default());
    let d = decoder.decode(&stream).unwrap();
    assert_eq!(d.consumed, 32);
    assert_eq!(d.frame.unwrap().tag(), Tag::Wait);
    let d = decoder.decode(&stream[32..]).unwrap();
    assert_eq!(d.consumed, 32);
    assert!(d.frame.is_some());
    assert_eq!(
        decoder.decode(&[]).unwrap(),
        Decoded {
            consumed: 0,
            frame: None
        }
    );
}

#[test]
fn a_large_segment_lands_in_one_exactly_sized_buffer() {
    let data = Bytes::from((0..100_000u32).map(|i| i as u8).collect::<Vec<u8>>());
    let frame = Frame::new(
        Tag::Message,
        [
            Bytes::from_static(&[0; 41]),
            Bytes::new(),
            Bytes::new(),
            data.clone(),
        ],
    )
    .unwrap();
    let bytes = assemble(&frame, Revision::Rev1).to_vec();
    let frames = decode_chunked(Revision::Rev1, &bytes, 1000);
    let (_, [_, _, _, got]) = frames.into_iter().next().unwrap().into_parts();
    assert_eq!(got, data);
    // Handing the segment back as a Vec reuses its buffer: one allocation of exactly the
    // segment's length, filled by the decoder as the chunks came in.
    let vec = Vec::from(got);
    assert_eq!(vec.capacity(), 100_000);
}
