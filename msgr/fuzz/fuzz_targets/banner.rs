//! Arbitrary bytes into a `BannerDecoder`, in arbitrary chunks.
//!
//! Input: `[17 option bytes] [n] [n chunk sizes] [stream]` (`cuttle_msgr_fuzz::layout`).
//! Option byte 0 bit 0 set: our banner is `supported` = options[1..9], `required` =
//! options[9..17] (little endian) instead of `Banner::pacific()`.
//!
//! Checks: no panic; the outcome (done at which stream offset with what, or which error)
//! equals a direct reading of §1.1 and §1.3, whatever the split; after `Done` the decoder
//! answers `AlreadyComplete`, after an error it repeats the error.

#![no_main]

use cuttle_msgr_fuzz::layout;
use libfuzzer_sys::fuzz_target;
use msgr::frames::{
    BANNER_PREFIX, Banner, BannerDecoder, BannerError, BannerStatus, Negotiated, negotiate,
};

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    NeedMore,
    Done { end: usize, negotiated: Negotiated },
    Failed(BannerError),
}

fn u64_le(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// §1.1 and §1.3, read straight off the bytes.
fn oracle(local: &Banner, s: &[u8]) -> Outcome {
    if s.len() < 8 {
        return Outcome::NeedMore;
    }
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&s[..8]);
    if prefix != BANNER_PREFIX {
        return Outcome::Failed(if &prefix == b"ceph v02" {
            BannerError::Msgr1Peer { prefix }
        } else {
            BannerError::BadPrefix { prefix }
        });
    }
    if s.len() < 10 {
        return Outcome::NeedMore;
    }
    let len = u16::from_le_bytes([s[8], s[9]]);
    if len < 16 {
        return Outcome::Failed(BannerError::PayloadTooShort { len });
    }
    let end = 10 + usize::from(len);
    if s.len() < end {
        return Outcome::NeedMore;
    }
    let peer = Banner {
        supported: u64_le(&s[10..]),
        required: u64_le(&s[18..]),
    };
    match negotiate(local, &peer) {
        Ok(negotiated) => Outcome::Done { end, negotiated },
        Err(e) => Outcome::Failed(e),
    }
}

fuzz_target!(|data: &[u8]| {
    let input = layout::split::<17>(data);
    let o = input.options;
    let local = if o[0] & 1 != 0 {
        Banner {
            supported: u64_le(&o[1..]),
            required: u64_le(&o[9..]),
        }
    } else {
        Banner::pacific()
    };

    let mut dec = BannerDecoder::new(local);
    let mut outcome = Outcome::NeedMore;
    let mut offset = 0;
    for chunk in layout::chunks(input.stream, input.schedule) {
        match dec.decode(chunk) {
            Ok(BannerStatus::NeedMore) => offset += chunk.len(),
            Ok(BannerStatus::Done {
                consumed,
                negotiated,
            }) => {
                assert!(consumed <= chunk.len());
                outcome = Outcome::Done {
                    end: offset + consumed,
                    negotiated,
                };
                assert_eq!(
                    dec.decode(&chunk[consumed..]),
                    Err(BannerError::AlreadyComplete)
                );
                break;
            }
            Err(e) => {
                assert_eq!(dec.decode(&[]), Err(e.clone()), "a failed decoder repeats");
                outcome = Outcome::Failed(e);
                break;
            }
        }
    }
    assert_eq!(outcome, oracle(&local, input.stream));
    if let Outcome::Done { negotiated, .. } = outcome {
        assert_eq!(negotiated.peer.supported, u64_le(&input.stream[10..]));
    }
});
