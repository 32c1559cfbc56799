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
//! * every frame re-assembles to `onwire_len` bytes that decode to the same frame, and is
//!   already in `Frame::new`'s normal form.

#![no_main]

use cuttle_msgr_fuzz::{fixup, layout};
use libfuzzer_sys::fuzz_target;
use msgr::frames::{Decoded, Frame, FrameDecoder, FrameLimits, Revision, assemble};

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
