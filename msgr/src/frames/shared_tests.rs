//! The zero-copy receive paths: shared input sliced into segments, and segments read
//! straight into the decoder's buffer.

use bytes::{Buf, Bytes};
use proptest::prelude::*;

use super::*;

fn message(data_len: usize) -> Frame {
    let data: Vec<u8> = (0..data_len).map(|i| (i * 7 + 3) as u8).collect();
    Frame::new(
        Tag::Message,
        [
            Bytes::from(vec![1u8; 41]),
            Bytes::from(vec![2u8; 100]),
            Bytes::new(),
            Bytes::from(data),
        ],
    )
    .unwrap()
}

fn stream(frames: &[Frame], rev: Revision) -> Vec<u8> {
    frames
        .iter()
        .flat_map(|f| assemble(f, rev).to_vec())
        .collect()
}

/// Feeds `input` whole with `decode_shared`, collecting the frames.
fn feed_shared(decoder: &mut FrameDecoder, mut input: Bytes, out: &mut Vec<Frame>) {
    loop {
        let d = decoder.decode_shared(&input).unwrap();
        input.advance(d.consumed);
        match d.frame {
            Some(f) => out.push(f),
            None => return,
        }
    }
}

fn inside(piece: &Bytes, buf: &Bytes) -> bool {
    let start = buf.as_ptr() as usize;
    let p = piece.as_ptr() as usize;
    p >= start && p + piece.len() <= start + buf.len()
}

#[test]
fn whole_segments_are_slices_of_the_input() {
    for rev in [Revision::Rev0, Revision::Rev1] {
        let frames = [message(4096), message(0), message(64)];
        let input = Bytes::from(stream(&frames, rev));
        let mut decoder = FrameDecoder::new(rev, FrameLimits::default());
        let mut got = Vec::new();
        feed_shared(&mut decoder, input.clone(), &mut got);
        assert_eq!(got, frames);
        for f in &got {
            for s in f.segments().iter().filter(|s| !s.is_empty()) {
                assert!(inside(s, &input), "segment of {} bytes was copied", s.len());
            }
        }
        assert!(decoder.is_at_frame_boundary());
    }
}

#[test]
fn direct_reads_fill_the_segment_buffer_in_place() {
    let frame = message(200_000);
    let wire = stream(std::slice::from_ref(&frame), Revision::Rev1);
    let mut decoder = FrameDecoder::new(Revision::Rev1, FrameLimits::default());
    let mut got = Vec::new();
    // The preamble, header and front arrive with the first 1000 data bytes.
    let head = 32 + 41 + 4 + 100 + 1000;
    feed_shared(
        &mut decoder,
        Bytes::copy_from_slice(&wire[..head]),
        &mut got,
    );
    assert!(got.is_empty());
    assert!(
        decoder.direct_buf(300_000).is_none(),
        "less than min remains"
    );
    let data_end = wire.len() - 13;
    let mut at = head;
    let mut base = None;
    while at < data_end {
        let buf = decoder.direct_buf(1).expect("inside the data segment");
        base.get_or_insert(buf.as_ptr() as usize);
        let n = (data_end - at).min(70_000).min(buf.capacity() - buf.len());
        buf.extend_from_slice(&wire[at..at + n]);
        decoder.direct_filled(n);
        at += n;
    }
    // The segment is complete; the epilogue comes through the ordinary path.
    assert!(decoder.direct_buf(1).is_none());
    feed_shared(&mut decoder, Bytes::copy_from_slice(&wire[at..]), &mut got);
    assert_eq!(got, [frame]);
    assert_eq!(got[0].segments()[3].as_ptr() as usize, base.unwrap());
    assert_eq!(decoder.position(), wire.len() as u64);
}

#[test]
fn direct_filled_outside_a_segment_is_ignored() {
    let mut decoder = FrameDecoder::new(Revision::Rev1, FrameLimits::default());
    decoder.direct_filled(10);
    assert_eq!(decoder.position(), 0);
    assert!(decoder.direct_buf(0).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Shared input at any split decodes to what borrowed input gives, and a corrupted byte
    /// is caught the same way.
    #[test]
    fn shared_and_borrowed_agree(
        rev in prop_oneof![Just(Revision::Rev0), Just(Revision::Rev1)],
        lens in proptest::collection::vec(0usize..3000, 1..5),
        cut in proptest::collection::vec(1usize..2000, 1..8),
        flip in proptest::option::of(any::<proptest::sample::Index>()),
    ) {
        let frames: Vec<Frame> = lens.iter().map(|&n| message(n)).collect();
        let mut wire = stream(&frames, rev);
        if let Some(i) = flip {
            let i = i.index(wire.len());
            wire[i] ^= 0x20;
        }
        let mut borrowed = FrameDecoder::new(rev, FrameLimits::default());
        let mut want = Vec::new();
        let want_err = borrowed.decode_all(&wire, &mut want).err();

        let mut shared = FrameDecoder::new(rev, FrameLimits::default());
        let mut got = Vec::new();
        let mut got_err = None;
        let mut at = 0;
        'outer: for &size in cut.iter().cycle() {
            if at >= wire.len() {
                break;
            }
            let end = (at + size).min(wire.len());
            let mut input = Bytes::copy_from_slice(&wire[at..end]);
            at = end;
            loop {
                match shared.decode_shared(&input) {
                    Ok(d) => {
                        input.advance(d.consumed);
                        match d.frame {
                            Some(f) => got.push(f),
                            None => break,
                        }
                    }
                    Err(e) => {
                        got_err = Some(e);
                        break 'outer;
                    }
                }
            }
        }
        prop_assert_eq!(got, want);
        prop_assert_eq!(got_err, want_err);
    }
}
