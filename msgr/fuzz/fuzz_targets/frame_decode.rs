//! Arbitrary bytes into a `FrameDecoder`, in both revisions, with default limits.
//!
//! Input: `[options] [n] [n chunk sizes] [frame stream]` (`cuttle_msgr_fuzz::layout`).
//! `options` bit 0 set: feed the stream as is; clear (the default): fix its CRCs up first
//! for each revision (`cuttle_msgr_fuzz::fixup`), so that mutations reach past them.
//!
//! Checks, for each revision:
//! * no panic, and `decode` keeps its contract (`consumed` short of the input only with a
//!   frame; a failed decoder repeats its error);
//! * the split is invisible: the same frames and the same error as one call with everything;
//! * so is the input's form: chunks fed as shared `Bytes` (segments sliced, not copied), and
//!   segment remainders taken through `direct_buf` (read in place), give the same again;
//! * every frame re-assembles to `onwire_len` bytes that decode to the same frame, and is
//!   already in `Frame::new`'s normal form.

#![no_main]

use cuttle_msgr_fuzz::{fixup, layout};
use libfuzzer_sys::fuzz_target;
use bytes::{Buf, Bytes};
use msgr::frames::{DecodeError, Decoded, Frame, FrameDecoder, FrameLimits, Revision, assemble};

fuzz_target!(|data: &[u8]| {
    let input = layout::split::<1>(data);
    for rev in [Revision::Rev0, Revision::Rev1] {
        let mut stream = input.stream.to_vec();
        if input.options[0] & 1 == 0 {
            fixup::fix_frames(&mut stream, rev);
        }
        check(rev, &stream, input.schedule);
    }
});

fn check(rev: Revision, stream: &[u8], schedule: &[u8]) {
    let limits = FrameLimits::default();

    let mut whole = FrameDecoder::new(rev, limits);
    let mut expected = Vec::new();
    let expected_result = whole.decode_all(stream, &mut expected);

    let mut dec = FrameDecoder::new(rev, limits);
    let mut frames = Vec::new();
    let mut result = Ok(());
    'feed: for chunk in layout::chunks(stream, schedule) {
        let mut rest = chunk;
        loop {
            match dec.decode(rest) {
                Ok(Decoded { consumed, frame }) => {
                    assert!(consumed <= rest.len());
                    rest = &rest[consumed..];
                    match frame {
                        Some(frame) => frames.push(frame),
                        None => {
                            assert!(rest.is_empty(), "input left over without a frame");
                            break;
                        }
                    }
                }
                Err(e) => {
                    result = Err(e);
                    break 'feed;
                }
            }
        }
    }

    for direct in [false, true] {
        let (shared, shared_result) = feed_shared(rev, stream, schedule, direct);
        assert_eq!(shared, expected, "{rev:?}: shared input (direct {direct}) differs");
        assert_eq!(
            shared_result, expected_result,
            "{rev:?}: shared input (direct {direct}) errs differently"
        );
    }

    assert_eq!(frames, expected, "{rev:?}: frames depend on the split");
    assert_eq!(
        result, expected_result,
        "{rev:?}: error depends on the split"
    );
    assert_eq!(dec.frames_aborted(), whole.frames_aborted());
    match &result {
        Ok(()) => {
            assert_eq!(dec.position(), stream.len() as u64);
            assert_eq!(dec.is_at_frame_boundary(), whole.is_at_frame_boundary());
            assert!(!dec.is_failed());
        }
        Err(e) => {
            assert!(dec.is_failed());
            assert!(e.frame_offset <= stream.len() as u64);
            assert_eq!(dec.decode(&[]).as_ref(), Err(e), "a failed decoder repeats");
            assert_eq!(
                dec.decode(stream).as_ref(),
                Err(e),
                "a failed decoder repeats"
            );
        }
    }

    for frame in &frames {
        let wire = assemble(frame, rev);
        assert_eq!(wire.len() as u64, frame.onwire_len(rev));
        let bytes = wire.to_vec();
        assert_eq!(bytes.len(), wire.len());
        let mut again = FrameDecoder::new(rev, limits);
        let got = again.decode(&bytes).expect("a re-assembled frame decodes");
        assert_eq!(got.consumed, bytes.len());
        assert_eq!(got.frame.as_ref(), Some(frame), "{rev:?}: round trip");
        assert!(again.is_at_frame_boundary());
        let normal = Frame::new(frame.tag(), frame.segments().iter().cloned()).unwrap();
        assert_eq!(&normal, frame, "decoded frame not in normal form");
        assert_eq!(frame.preamble().payload_len(), frame.payload_len());
    }
}

/// Feeds the chunks as shared `Bytes`; with `direct`, whenever the decoder offers a segment
/// buffer, the next bytes are appended to it straight from the chunk (as a socket read in
/// place would) and reported with `direct_filled`.
fn feed_shared(
    rev: Revision,
    stream: &[u8],
    schedule: &[u8],
    direct: bool,
) -> (Vec<Frame>, Result<(), DecodeError>) {
    let mut dec = FrameDecoder::new(rev, FrameLimits::default());
    let mut frames = Vec::new();
    for chunk in layout::chunks(stream, schedule) {
        let mut rest = Bytes::copy_from_slice(chunk);
        loop {
            if direct && !rest.is_empty() {
                if let Some(buf) = dec.direct_buf(1) {
                    let n = (buf.capacity() - buf.len()).min(rest.len());
                    buf.extend_from_slice(&rest[..n]);
                    rest.advance(n);
                    dec.direct_filled(n);
                }
            }
            match dec.decode_shared(&rest) {
                Ok(Decoded { consumed, frame }) => {
                    rest.advance(consumed);
                    match frame {
                        Some(frame) => frames.push(frame),
                        None => {
                            assert!(rest.is_empty(), "shared input left over without a frame");
                            break;
                        }
                    }
                }
                Err(e) => return (frames, Err(e)),
            }
        }
    }
    (frames, Ok(()))
}
