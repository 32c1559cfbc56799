//! Two small mon-side types from msgr2.md §6.4: the PaxosServiceMessage header (§6.4.1) and
//! `mon_feature_t` (§6.4.7).

use super::{Decode, DecodeError, Encode, Reader, decode_envelope, encode_envelope};

/// The "paxos header" that starts the front of MMonCommand, MMonCommandAck, MMgrBeacon and other
/// PaxosServiceMessages: 18 bytes, no envelope (§6.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PaxosHeader {
    /// Map version: 0 in requests; acks may carry one.
    pub version: u64,
    /// Always −1.
    pub deprecated_session_mon: i16,
    /// Always 0.
    pub deprecated_session_mon_tid: u64,
}

impl PaxosHeader {
    /// A header carrying map version `version`, the deprecated fields at their fixed values.
    pub const fn new(version: u64) -> Self {
        Self {
            version,
            deprecated_session_mon: -1,
            deprecated_session_mon_tid: 0,
        }
    }
}

impl Default for PaxosHeader {
    /// What a request sends: version 0.
    fn default() -> Self {
        Self::new(0)
    }
}

impl Encode for PaxosHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        self.version.encode(out);
        self.deprecated_session_mon.encode(out);
        self.deprecated_session_mon_tid.encode(out);
    }
}

impl Decode for PaxosHeader {
    const MIN_ENCODED_LEN: usize = 18;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            version: r.read_u64("paxos header.version")?,
            deprecated_session_mon: r.read_i16("paxos header.deprecated_session_mon")?,
            deprecated_session_mon_tid: r.read_u64("paxos header.deprecated_session_mon_tid")?,
        })
    }
}

/// `mon_feature_t`: the mon cluster's own feature bits, `env(1,1){ u64 features }`, 14 bytes
/// (§6.4.7). A Pacific MonMap carries persistent = [`MonFeatures::PACIFIC_PERSISTENT`] and
/// optional = 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MonFeatures(pub u64);

impl MonFeatures {
    /// Bit 0.
    pub const KRAKEN: u64 = 1 << 0;
    /// Bit 1.
    pub const LUMINOUS: u64 = 1 << 1;
    /// Bit 2.
    pub const MIMIC: u64 = 1 << 2;
    /// Bit 3.
    pub const OSDMAP_PRUNE: u64 = 1 << 3;
    /// Bit 4.
    pub const NAUTILUS: u64 = 1 << 4;
    /// Bit 5.
    pub const OCTOPUS: u64 = 1 << 5;
    /// Bit 6.
    pub const PACIFIC: u64 = 1 << 6;
    /// Bit 7: elector pinging.
    pub const PINGING: u64 = 1 << 7;
    /// The persistent features of a Pacific MonMap: bits 0-7, 0xff (verified, §6.4.7).
    pub const PACIFIC_PERSISTENT: MonFeatures = MonFeatures(0xff);

    /// True if every bit of `bits` is set.
    pub const fn contains(self, bits: u64) -> bool {
        self.0 & bits == bits
    }
}

impl Encode for MonFeatures {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_envelope(out, 1, 1, |out| self.0.encode(out));
    }
}

impl Decode for MonFeatures {
    const MIN_ENCODED_LEN: usize = 14;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        decode_envelope(r, "mon_feature_t", 1, |body, _| {
            body.read_u64("mon_feature_t.features").map(MonFeatures)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::{check_no_panic, check_roundtrip};
    use crate::wire::{decode_exact, encode_to_vec};
    use proptest::prelude::*;

    #[test]
    fn paxos_header_spec_bytes() {
        // §6.4.1: a request's header.
        let bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(encode_to_vec(&PaxosHeader::default()), bytes);
        assert_eq!(
            decode_exact::<PaxosHeader>(&bytes).unwrap(),
            PaxosHeader::new(0)
        );
    }

    #[test]
    fn mon_feature_spec_bytes() {
        // §6.6.4: persistent_features = 0xff, optional_features = 0 in the captured MonMap.
        let persistent = [0x01, 0x01, 0x08, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0];
        let optional = [0x01, 0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(encode_to_vec(&MonFeatures::PACIFIC_PERSISTENT), persistent);
        assert_eq!(
            decode_exact::<MonFeatures>(&optional).unwrap(),
            MonFeatures(0)
        );
        assert!(
            MonFeatures::PACIFIC_PERSISTENT.contains(MonFeatures::PACIFIC | MonFeatures::PINGING)
        );
    }

    proptest! {
        #[test]
        fn roundtrips(version: u64, session_mon: i16, tid: u64, bits: u64) {
            check_roundtrip(&PaxosHeader { version, deprecated_session_mon: session_mon, deprecated_session_mon_tid: tid })?;
            check_roundtrip(&MonFeatures(bits))?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..24)) {
            check_no_panic::<PaxosHeader>(&data);
            check_no_panic::<MonFeatures>(&data);
        }
    }
}
