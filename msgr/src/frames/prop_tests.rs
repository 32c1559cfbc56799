//! Property tests: assemble/decode round trips at random splits, arbitrary input never
//! panics, every single-byte corruption is caught.

use bytes::Bytes;
use proptest::prelude::*;

use super::test_util::check_flip;
use super::*;

fn rev() -> impl Strategy<Value = Revision> {
    prop_oneof![Just(Revision::Rev0), Just(Revision::Rev1)]
}

fn tag() -> impl Strategy<Value = Tag> {
    proptest::sample::select(Tag::ALL.to_vec())
}

/// Segment contents: mostly small (around the 48-byte inline threshold), sometimes empty,
/// sometimes a few KiB.
fn segment() -> impl Strategy<Value = Bytes> {
    let len = prop_oneof![
        2 => Just(0usize),
        6 => 0usize..100,
        1 => 100usize..5000,
    ];
    len.prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n))
        .prop_map(Bytes::from)
}

fn frame() -> impl Strategy<Value = Frame> {
    (tag(), proptest::collection::vec(segment(), 0..=4))
        .prop_map(|(tag, segs)| Frame::new(tag, segs).unwrap())
}

/// Splits `bytes` at the given chunk sizes (cycled; a 0 adds an empty slice, then 1 byte).
fn chunks<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    for &size in sizes.iter().cycle() {
        if at >= bytes.len() {
            break;
        }
        if size == 0 {
            out.push(&bytes[at..at]);
        }
        let end = (at + size.max(1)).min(bytes.len());
        out.push(&bytes[at..end]);
        at = end;
    }
    out
}

fn feed(decoder: &mut FrameDecoder, parts: &[&[u8]]) -> (Vec<Frame>, Option<DecodeError>) {
    let mut out = Vec::new();
    for part in parts {
        if let Err(e) = decoder.decode_all(part, &mut out) {
            return (out, Some(e));
        }
    }
    (out, None)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn assemble_then_decode_at_random_splits(
        rev in rev(),
        frames in proptest::collection::vec(frame(), 1..6),
        sizes in proptest::collection::vec(0usize..300, 1..20),
    ) {
        let mut stream = Vec::new();
        for f in &frames {
            let wire = assemble(f, rev);
            prop_assert_eq!(wire.len() as u64, f.onwire_len(rev));
            prop_assert!(wire.pieces().iter().all(|p| !p.is_empty()));
            stream.extend_from_slice(&wire.to_vec());
        }
        let mut decoder = FrameDecoder::new(rev, FrameLimits::default());
        let (got, err) = feed(&mut decoder, &chunks(&stream, &sizes));
        prop_assert_eq!(err, None);
        prop_assert_eq!(got, frames);
        prop_assert!(decoder.is_at_frame_boundary());
        prop_assert_eq!(decoder.position(), stream.len() as u64);
    }

    #[test]
    fn random_bytes_never_panic(
        rev in rev(),
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        sizes in proptest::collection::vec(1usize..100, 1..10),
        small in any::<bool>(),
    ) {
        let limits = if small {
            FrameLimits { max_segment_len: [64; 4], max_frame_len: 128, check_alignment: true }
        } else {
            FrameLimits::unlimited()
        };
        let mut decoder = FrameDecoder::new(rev, limits);
        if let (_, Some(e)) = feed(&mut decoder, &chunks(&bytes, &sizes)) {
            prop_assert!(decoder.is_failed());
            prop_assert_eq!(decoder.decode(&bytes), Err(e));
        }
    }

    /// Random frames behind a preamble with a valid CRC, so the decoder gets past step 1 and
    /// exercises the limits, segment, CRC and epilogue paths on garbage.
    #[test]
    fn sealed_random_preambles_never_panic(
        rev in rev(),
        tag in prop_oneof![9 => 1u8..=22, 1 => any::<u8>()],
        nseg in prop_oneof![9 => 1u8..=4, 1 => any::<u8>()],
        descs in proptest::collection::vec(
            (0u32..200, prop_oneof![4 => Just(8u16), 1 => Just(4096u16), 1 => any::<u16>()]),
            4,
        ),
        reserved in any::<[u8; 2]>(),
        tail in proptest::collection::vec(any::<u8>(), 0..1200),
        sizes in proptest::collection::vec(1usize..64, 1..8),
    ) {
        let mut pre = [0u8; 32];
        pre[0] = tag;
        pre[1] = nseg;
        for (i, (len, align)) in descs.iter().enumerate() {
            pre[2 + 6 * i..6 + 6 * i].copy_from_slice(&len.to_le_bytes());
            pre[6 + 6 * i..8 + 6 * i].copy_from_slice(&align.to_le_bytes());
        }
        pre[26..28].copy_from_slice(&reserved);
        let crc = preamble_crc(&pre[..28]);
        pre[28..].copy_from_slice(&crc.to_le_bytes());
        let stream = [&pre[..], &tail].concat();
        let mut decoder = FrameDecoder::new(rev, FrameLimits::default());
        let (frames, _) = feed(&mut decoder, &chunks(&stream, &sizes));
        for f in frames {
            prop_assert!((1..=MAX_NUM_SEGMENTS).contains(&f.num_segments()));
        }
    }

    #[test]
    fn any_single_byte_corruption_is_caught(
        rev in rev(),
        frame in frame(),
        pick in any::<proptest::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let bytes = assemble(&frame, rev).to_vec();
        check_flip(rev, &frame, &bytes, pick.index(bytes.len()), xor);
    }
}
