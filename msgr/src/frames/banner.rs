//! The banner exchange (§1): 8 bytes of magic, a u16 payload length, and the msgr2 feature
//! bits each side supports and requires.

use super::{BannerError, Revision};

/// The banner magic, `ceph v2\n` (§1.1).
pub const BANNER_PREFIX: [u8; 8] = *b"ceph v2\n";

/// Start of the msgr v1 banner (`ceph v027`), recognised only to say what the peer is
/// (§1.3 rule 1).
const MSGR1_PREFIX: [u8; 8] = *b"ceph v02";

/// Size of the payload we send: two u64 feature fields (§1.1).
pub const BANNER_PAYLOAD_LEN: u16 = 16;

/// Size of the whole banner we send: magic, payload length, payload (§1.1).
pub const BANNER_LEN: usize = BANNER_PREFIX.len() + 2 + BANNER_PAYLOAD_LEN as usize;

/// msgr2 feature bit 0: frame format revision 1, "msgr2.1" (§1.2).
pub const MSGR2_FEATURE_REVISION_1: u64 = 1 << 0;

/// msgr2 feature bit 1: on-wire compression, Quincy and later (§1.2, §2.8).
pub const MSGR2_FEATURE_COMPRESSION: u64 = 1 << 1;

/// The msgr2 feature bits a banner carries (§1.1). Unrelated to the 64-bit `CEPH_FEATURE_*`
/// set exchanged later in the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Banner {
    /// msgr2 features this side supports.
    pub supported: u64,
    /// msgr2 features this side requires from its peer.
    pub required: u64,
}

impl Banner {
    /// What Pacific sends, client and server alike: supports `REVISION_1`, requires nothing
    /// (§1.1 \[VERIFIED\]). Also what cuttle sends.
    pub const fn pacific() -> Self {
        Banner {
            supported: MSGR2_FEATURE_REVISION_1,
            required: 0,
        }
    }

    /// The 26 bytes on the wire (§1.1).
    pub fn encode(&self) -> [u8; BANNER_LEN] {
        let mut out = [0u8; BANNER_LEN];
        out[..8].copy_from_slice(&BANNER_PREFIX);
        out[8..10].copy_from_slice(&BANNER_PAYLOAD_LEN.to_le_bytes());
        out[10..18].copy_from_slice(&self.supported.to_le_bytes());
        out[18..26].copy_from_slice(&self.required.to_le_bytes());
        out
    }

    fn from_payload(payload: &[u8; 16]) -> Self {
        let mut supported = [0u8; 8];
        let mut required = [0u8; 8];
        supported.copy_from_slice(&payload[..8]);
        required.copy_from_slice(&payload[8..]);
        Banner {
            supported: u64::from_le_bytes(supported),
            required: u64::from_le_bytes(required),
        }
    }
}

/// What the banner exchange settled (§1.3 rules 5 and 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The peer's banner.
    pub peer: Banner,
    /// Frame revision for both directions.
    pub revision: Revision,
    /// Whether both sides advertise compression (never the case with Pacific).
    pub compression: bool,
}

/// Applies §1.3 rules 3 to 6 to our banner and the peer's.
pub fn negotiate(local: &Banner, peer: &Banner) -> Result<Negotiated, BannerError> {
    let missing = peer.required & !local.supported;
    if missing != 0 {
        return Err(BannerError::PeerRequiresUnsupported {
            missing,
            peer_required: peer.required,
            local_supported: local.supported,
        });
    }
    let missing = local.required & !peer.supported;
    if missing != 0 {
        return Err(BannerError::PeerLacksRequired {
            missing,
            local_required: local.required,
            peer_supported: peer.supported,
        });
    }
    Ok(Negotiated {
        peer: *peer,
        revision: Revision::for_peer_supported(peer.supported),
        compression: local.supported & peer.supported & MSGR2_FEATURE_COMPRESSION != 0,
    })
}

/// Progress of a [`BannerDecoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BannerStatus {
    /// All input was consumed and more is needed.
    NeedMore,
    /// The banner is complete and accepted. The first `consumed` bytes of the last input
    /// belonged to it; the rest is the start of the first frame.
    Done {
        /// Bytes of the last input that belonged to the banner.
        consumed: usize,
        /// The outcome of the exchange.
        negotiated: Negotiated,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    Prefix,
    Length,
    /// The two feature fields, then `extra` payload bytes.
    Features {
        extra: usize,
    },
    /// Payload bytes beyond the two feature fields, which Ceph ignores (§1.3 rule 2).
    Skip {
        left: usize,
        peer: Banner,
    },
    Done,
    Failed(BannerError),
}

/// Reads the peer's banner incrementally (§1.3): feed it bytes as they arrive, in any split.
#[derive(Debug, Clone)]
pub struct BannerDecoder {
    local: Banner,
    stage: Stage,
    scratch: [u8; 16],
    filled: usize,
}

impl BannerDecoder {
    /// A decoder that checks the peer's banner against ours, `local`.
    pub fn new(local: Banner) -> Self {
        BannerDecoder {
            local,
            stage: Stage::Prefix,
            scratch: [0; 16],
            filled: 0,
        }
    }

    /// Consumes banner bytes from `input`. Call it with each chunk read from the socket until
    /// it returns [`BannerStatus::Done`]; the bytes after `consumed` go to the frame decoder.
    /// After an error it keeps returning that error.
    pub fn decode(&mut self, input: &[u8]) -> Result<BannerStatus, BannerError> {
        let mut pos = 0;
        loop {
            let next = match std::mem::replace(&mut self.stage, Stage::Done) {
                Stage::Prefix => {
                    if !self.fill(8, input, &mut pos) {
                        Stage::Prefix
                    } else {
                        let mut prefix = [0u8; 8];
                        prefix.copy_from_slice(&self.scratch[..8]);
                        if prefix == BANNER_PREFIX {
                            Stage::Length
                        } else if prefix == MSGR1_PREFIX {
                            Stage::Failed(BannerError::Msgr1Peer { prefix })
                        } else {
                            Stage::Failed(BannerError::BadPrefix { prefix })
                        }
                    }
                }
                Stage::Length => {
                    if !self.fill(2, input, &mut pos) {
                        Stage::Length
                    } else {
                        let len = u16::from_le_bytes([self.scratch[0], self.scratch[1]]);
                        match len.checked_sub(BANNER_PAYLOAD_LEN) {
                            Some(extra) => Stage::Features {
                                extra: usize::from(extra),
                            },
                            None => Stage::Failed(BannerError::PayloadTooShort { len }),
                        }
                    }
                }
                Stage::Features { extra } => {
                    if !self.fill(16, input, &mut pos) {
                        Stage::Features { extra }
                    } else {
                        Stage::Skip {
                            left: extra,
                            peer: Banner::from_payload(&self.scratch),
                        }
                    }
                }
                Stage::Skip { left, peer } => {
                    let take = left.min(input.len() - pos);
                    pos += take;
                    if take < left {
                        Stage::Skip {
                            left: left - take,
                            peer,
                        }
                    } else {
                        match negotiate(&self.local, &peer) {
                            Ok(negotiated) => {
                                return Ok(BannerStatus::Done {
                                    consumed: pos,
                                    negotiated,
                                });
                            }
                            Err(e) => Stage::Failed(e),
                        }
                    }
                }
                Stage::Done => Stage::Failed(BannerError::AlreadyComplete),
                Stage::Failed(e) => {
                    self.stage = Stage::Failed(e.clone());
                    return Err(e);
                }
            };
            let blocked = pos == input.len()
                && matches!(
                    next,
                    Stage::Prefix
                        | Stage::Length
                        | Stage::Features { .. }
                        | Stage::Skip { left: 1.., .. }
                );
            self.stage = next;
            if blocked {
                return Ok(BannerStatus::NeedMore);
            }
        }
    }

    /// Copies input into the scratch buffer until it holds `want` bytes; true once it does.
    fn fill(&mut self, want: usize, input: &[u8], pos: &mut usize) -> bool {
        super::fill::fill(&mut self.scratch, &mut self.filled, want, input, pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The banner Pacific sends, client and server alike (§1.1 \[VERIFIED\]).
    const PACIFIC_BANNER: [u8; 26] = [
        0x63, 0x65, 0x70, 0x68, 0x20, 0x76, 0x32, 0x0a, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    fn banner_bytes(len: u16, supported: u64, required: u64, extra: usize) -> Vec<u8> {
        let mut v = BANNER_PREFIX.to_vec();
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(&supported.to_le_bytes());
        v.extend_from_slice(&required.to_le_bytes());
        v.extend(std::iter::repeat_n(0xAA, extra));
        v
    }

    #[test]
    fn encodes_the_pacific_banner() {
        assert_eq!(Banner::pacific().encode(), PACIFIC_BANNER);
    }

    #[test]
    fn decodes_the_pacific_banner_at_any_split() {
        let mut stream = PACIFIC_BANNER.to_vec();
        stream.extend_from_slice(b"frame bytes");
        for chunk in 1..stream.len() {
            let mut dec = BannerDecoder::new(Banner::pacific());
            let mut offset = 0;
            let done = loop {
                let end = (offset + chunk).min(stream.len());
                match dec.decode(&stream[offset..end]).unwrap() {
                    BannerStatus::NeedMore => offset = end,
                    BannerStatus::Done {
                        consumed,
                        negotiated,
                    } => break (offset + consumed, negotiated),
                }
            };
            assert_eq!(done.0, BANNER_LEN, "chunk {chunk}");
            assert_eq!(done.1.peer, Banner::pacific());
            assert_eq!(done.1.revision, Revision::Rev1);
            assert!(!done.1.compression);
            assert_eq!(dec.decode(b"x"), Err(BannerError::AlreadyComplete));
        }
    }

    #[test]
    fn ignores_extra_payload_bytes() {
        let stream = banner_bytes(20, 1, 0, 4);
        let mut dec = BannerDecoder::new(Banner::pacific());
        assert_eq!(dec.decode(&stream[..26]).unwrap(), BannerStatus::NeedMore);
        let BannerStatus::Done { consumed, .. } = dec.decode(&stream[26..]).unwrap() else {
            panic!("not done");
        };
        assert_eq!(consumed, 4);
    }

    #[test]
    fn receiver_rules() {
        let check = |bytes: &[u8], local: Banner| BannerDecoder::new(local).decode(bytes);
        let p = Banner::pacific();
        assert_eq!(
            check(b"ceph v027 and a v1 address", p),
            Err(BannerError::Msgr1Peer {
                prefix: *b"ceph v02"
            })
        );
        assert_eq!(
            check(b"GET / HTTP/1.1", p),
            Err(BannerError::BadPrefix {
                prefix: *b"GET / HT"
            })
        );
        assert_eq!(
            check(&banner_bytes(15, 1, 0, 0), p),
            Err(BannerError::PayloadTooShort { len: 15 })
        );
        // Rule 3: the peer requires COMPRESSION, which Pacific lacks.
        assert_eq!(
            check(&banner_bytes(16, 3, 2, 0), p),
            Err(BannerError::PeerRequiresUnsupported {
                missing: 2,
                peer_required: 2,
                local_supported: 1
            })
        );
        // Rule 4: we require REVISION_1 (as the kernel does) from a rev0-only peer.
        let kernel_like = Banner {
            supported: 1,
            required: 1,
        };
        assert_eq!(
            check(&banner_bytes(16, 0, 0, 0), kernel_like),
            Err(BannerError::PeerLacksRequired {
                missing: 1,
                local_required: 1,
                peer_supported: 0
            })
        );
        // Rule 5: a peer without REVISION_1 gets rev0.
        let Ok(BannerStatus::Done { negotiated, .. }) = check(&banner_bytes(16, 0, 0, 0), p) else {
            panic!("rev0 peer refused");
        };
        assert_eq!(negotiated.revision, Revision::Rev0);
        // Rule 6: compression only when both advertise it.
        let quincy = Banner {
            supported: 3,
            required: 0,
        };
        assert!(negotiate(&quincy, &quincy).unwrap().compression);
        assert!(!negotiate(&p, &quincy).unwrap().compression);
    }

    proptest::proptest! {
        #[test]
        fn random_input_never_panics(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            chunk in 1usize..30,
            valid_prefix in proptest::prelude::any::<bool>(),
        ) {
            let mut stream = bytes;
            if valid_prefix {
                stream.splice(0..0, BANNER_PREFIX);
            }
            let mut dec = BannerDecoder::new(Banner::pacific());
            let mut total = 0;
            for piece in stream.chunks(chunk) {
                match dec.decode(piece) {
                    Ok(BannerStatus::NeedMore) => total += piece.len(),
                    Ok(BannerStatus::Done { consumed, .. }) => {
                        proptest::prop_assert!(total + consumed >= BANNER_LEN);
                        break;
                    }
                    Err(e) => {
                        proptest::prop_assert_eq!(dec.decode(piece), Err(e));
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn stays_failed() {
        let mut dec = BannerDecoder::new(Banner::pacific());
        let err = dec.decode(b"ceph v1\n").unwrap_err();
        assert_eq!(dec.decode(&PACIFIC_BANNER), Err(err));
    }
}
