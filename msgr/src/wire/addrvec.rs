//! `entity_addrvec_t` (msgr2.md §6.4.6): the list of addresses an entity listens on, e.g.
//! `[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]`.

use super::addr::AddrType;
use super::features::{self, Features};
use super::{Decode, DecodeError, Encode, EntityAddr, Reader};

/// The marker byte of the vector form.
const VEC_MARKER: u8 = 2;

/// `entity_addrvec_t`: an entity's addresses, usually one `v2:` and/or one `v1:` (§6.4.6).
///
/// [`Encode`] writes marker 2, a `u32` count and each address in the new form.
/// [`Decode`] also accepts a single address in the new (marker 1) or legacy (marker 0) form and
/// returns it as a one-element vector, as Ceph does.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityAddrvec {
    /// The addresses, in the sender's order (the order matters: clients try them in turn).
    pub addrs: Vec<EntityAddr>,
}

impl EntityAddrvec {
    /// An address vector holding `addrs`.
    pub fn new(addrs: Vec<EntityAddr>) -> Self {
        Self { addrs }
    }

    /// A one-address vector.
    pub fn single(addr: EntityAddr) -> Self {
        Self { addrs: vec![addr] }
    }

    /// True if there are no addresses.
    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.addrs.len()
    }

    /// The addresses.
    pub fn iter(&self) -> std::slice::Iter<'_, EntityAddr> {
        self.addrs.iter()
    }

    /// The first address, or a blank one if there is none (Ceph's `front`).
    pub fn front(&self) -> EntityAddr {
        self.addrs.first().copied().unwrap_or_default()
    }

    /// The first address of type `ty`, if any (Ceph's `addr_of_type`, which gives a blank
    /// address instead of `None`).
    pub fn addr_of_type(&self, ty: AddrType) -> Option<EntityAddr> {
        self.addrs.iter().find(|a| a.ty == ty).copied()
    }

    /// The first `v2:` address, if any.
    pub fn msgr2_addr(&self) -> Option<EntityAddr> {
        self.addr_of_type(AddrType::Msgr2)
    }

    /// The first `v1:` address, if any.
    pub fn legacy_addr(&self) -> Option<EntityAddr> {
        self.addr_of_type(AddrType::Legacy)
    }

    /// True if one of the addresses equals `addr` exactly (type, nonce, IP and port), the test
    /// a client applies to SERVER_IDENT (§3.3.8).
    pub fn contains(&self, addr: &EntityAddr) -> bool {
        self.addrs.contains(addr)
    }

    /// Encodes for a peer with `features`, as Ceph does (§6.5): without `MSG_ADDR2`, only the
    /// first `v1:` address (or a blank one) in the legacy form; otherwise the vector form, with
    /// each address encoded by [`EntityAddr::encode_with_features`].
    pub fn encode_with_features(&self, features: Features, out: &mut Vec<u8>) {
        if !features.has(features::MSG_ADDR2) {
            self.legacy_addr().unwrap_or_default().encode_legacy(out);
            return;
        }
        out.push(VEC_MARKER);
        super::primitives::encode_len(self.addrs.len(), out);
        for addr in &self.addrs {
            addr.encode_with_features(features, out);
        }
    }
}

impl From<Vec<EntityAddr>> for EntityAddrvec {
    fn from(addrs: Vec<EntityAddr>) -> Self {
        Self { addrs }
    }
}

impl From<EntityAddr> for EntityAddrvec {
    fn from(addr: EntityAddr) -> Self {
        Self::single(addr)
    }
}

impl<'a> IntoIterator for &'a EntityAddrvec {
    type Item = &'a EntityAddr;
    type IntoIter = std::slice::Iter<'a, EntityAddr>;

    fn into_iter(self) -> Self::IntoIter {
        self.addrs.iter()
    }
}

impl Encode for EntityAddrvec {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(VEC_MARKER);
        self.addrs.encode(out);
    }
}

impl Decode for EntityAddrvec {
    /// Marker 2 and an empty count.
    const MIN_ENCODED_LEN: usize = 5;

    /// Marker 2: `u32 count` and that many addresses (each of which may itself be in either
    /// form). Marker 1 or 0: one address in that form. Anything else is an error.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let marker = r.rest().first().copied();
        match marker {
            Some(VEC_MARKER) => {
                r.skip(1, "entity_addrvec_t marker")?;
                Ok(Self {
                    addrs: Vec::decode(r)?,
                })
            }
            Some(0 | 1) => EntityAddr::decode(r).map(Self::single),
            Some(m) => {
                r.skip(1, "entity_addrvec_t marker")?;
                Err(r.bad_value("entity_addrvec_t marker", 1, m.into()))
            }
            None => Err(r.truncated("entity_addrvec_t marker", 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::{MON_ADDR, arb_entity_addrvec, check_no_panic, check_roundtrip};
    use crate::wire::{decode_exact, encode_to_vec};
    use proptest::prelude::*;

    fn mon() -> EntityAddr {
        "v2:127.0.0.1:23300/0".parse().unwrap()
    }

    #[test]
    fn spec_example_one_address() {
        // §6.4.6: 02 01 00 00 00 followed by the 35 bytes of §6.4.5, 40 bytes.
        let mut expected = vec![0x02, 0x01, 0x00, 0x00, 0x00];
        expected.extend_from_slice(&MON_ADDR);
        let av = EntityAddrvec::single(mon());
        assert_eq!(encode_to_vec(&av), expected);
        assert_eq!(expected.len(), 40);
        assert_eq!(decode_exact::<EntityAddrvec>(&expected).unwrap(), av);
    }

    #[test]
    fn server_ident_addrvec() {
        // §3.3.8: the SERVER_IDENT payload starts with addrs=[v2:127.0.0.1:23300/0] and then
        // gid=0 (an i64).
        let payload = [
            0x02, 0x01, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x1c, 0x00, 0x00, 0x00, 0x02, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02, 0x00, 0x5b, 0x04,
            0x7f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let mut r = Reader::new(&payload);
        let av = EntityAddrvec::decode(&mut r).unwrap();
        assert_eq!(av.to_string(), "v2:127.0.0.1:23300/0");
        assert!(av.contains(&mon()));
        assert_eq!(r.read_i64("gid").unwrap(), 0);
        assert!(r.is_empty());
    }

    #[test]
    fn a_single_address_decodes_as_a_vector() {
        let av = decode_exact::<EntityAddrvec>(&MON_ADDR).unwrap();
        assert_eq!(av, EntityAddrvec::single(mon()));

        let legacy: EntityAddr = "v1:10.0.0.1:6789/0".parse().unwrap();
        let mut bytes = Vec::new();
        legacy.encode_legacy(&mut bytes);
        assert_eq!(
            decode_exact::<EntityAddrvec>(&bytes).unwrap(),
            EntityAddrvec::single(legacy)
        );

        // Inside the vector form, each element may be legacy too.
        let mut bytes = vec![2, 2, 0, 0, 0];
        bytes.extend_from_slice(&MON_ADDR);
        legacy.encode_legacy(&mut bytes);
        let av = decode_exact::<EntityAddrvec>(&bytes).unwrap();
        assert_eq!(av.addrs, [mon(), legacy]);
        assert_eq!(av.msgr2_addr(), Some(mon()));
        assert_eq!(av.legacy_addr(), Some(legacy));
    }

    #[test]
    fn bad_marker_and_counts() {
        let err = decode_exact::<EntityAddrvec>(&[3, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(
            err,
            DecodeError::BadValue {
                what: "entity_addrvec_t marker",
                offset: 0,
                value: 3
            }
        );
        let err = decode_exact::<EntityAddrvec>(&[2, 0xff, 0xff, 0xff, 0xff]).unwrap_err();
        assert!(matches!(err, DecodeError::CountTooLarge { .. }));
        assert!(decode_exact::<EntityAddrvec>(&[]).is_err());
        assert_eq!(
            decode_exact::<EntityAddrvec>(&[2, 0, 0, 0, 0]).unwrap(),
            EntityAddrvec::default()
        );
    }

    #[test]
    fn encode_with_features_follows_the_peer() {
        let v1: EntityAddr = "v1:10.0.0.1:6789/0".parse().unwrap();
        let av = EntityAddrvec::new(vec![mon(), v1]);
        let mut out = Vec::new();
        av.encode_with_features(crate::wire::features::CEPH_FEATURES_ALL, &mut out);
        assert_eq!(out, encode_to_vec(&av));

        out.clear();
        av.encode_with_features(Features::EMPTY, &mut out);
        assert_eq!(out.len(), 136);
        assert_eq!(
            decode_exact::<EntityAddrvec>(&out).unwrap(),
            EntityAddrvec::single(v1)
        );

        // No v1 address: a blank legacy address.
        out.clear();
        EntityAddrvec::single(mon()).encode_with_features(Features::EMPTY, &mut out);
        assert_eq!(
            decode_exact::<EntityAddr>(&out).unwrap(),
            EntityAddr::blank()
        );
    }

    proptest! {
        #[test]
        fn roundtrips(av in arb_entity_addrvec()) {
            check_roundtrip(&av)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..200)) {
            check_no_panic::<EntityAddrvec>(&data);
        }

        #[test]
        fn mutated_encodings_never_panic(av in arb_entity_addrvec(), at: usize, byte: u8) {
            let mut bytes = encode_to_vec(&av);
            let i = at % bytes.len();
            bytes[i] = byte;
            check_no_panic::<EntityAddrvec>(&bytes);
        }
    }
}
