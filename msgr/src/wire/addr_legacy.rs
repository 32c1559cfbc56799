//! The feature-dependent and legacy forms of `entity_addr_t` (msgr2.md §6.4.5, §6.5): what
//! Ceph sends to a peer without `MSG_ADDR2` (136 bytes: `u32 0`, `u32 nonce`, a 128-byte
//! `sockaddr_storage` with a big-endian family) or without `SERVER_NAUTILUS`, and the decoder
//! of the legacy form that [`EntityAddr`]'s `Decode` uses for marker 0.

use super::addr::{SOCKADDR_IN6_LEN, family_of, parse_sockaddr, put_sockaddr_data};
use super::features::{self, Features};
use super::{AddrType, DecodeError, Encode, EntityAddr, Reader};

/// `sizeof(sockaddr_storage)` in the legacy encoding.
const SOCKADDR_STORAGE_LEN: usize = 128;

impl EntityAddr {
    /// Encodes for a peer with `features`, as Ceph does (§6.5):
    ///
    /// * without `MSG_ADDR2`, the 136-byte legacy form ([`EntityAddr::encode_legacy`]);
    /// * without `SERVER_NAUTILUS`, the new form with `TYPE_ANY` sent as `TYPE_LEGACY`;
    /// * otherwise exactly [`Encode::encode`].
    pub fn encode_with_features(&self, features: Features, out: &mut Vec<u8>) {
        if !features.has(features::MSG_ADDR2) {
            self.encode_legacy(out);
        } else if !features.has(features::SERVER_NAUTILUS) && self.ty == AddrType::Any {
            Self {
                ty: AddrType::Legacy,
                ..*self
            }
            .encode(out);
        } else {
            self.encode(out);
        }
    }

    /// Encodes the legacy (pre-MSG_ADDR2) form (§6.4.5): `u32 0`, `u32 nonce`, then a
    /// 128-byte `sockaddr_storage` with a big-endian family. The type is not sent: a decoder
    /// sees `TYPE_LEGACY`, or `TYPE_NONE` for a blank address.
    pub fn encode_legacy(&self, out: &mut Vec<u8>) {
        0u32.encode(out);
        self.nonce.encode(out);
        let start = out.len();
        if let Some(sa) = &self.sockaddr {
            out.extend_from_slice(&family_of(sa).to_be_bytes());
            put_sockaddr_data(sa, out);
        }
        out.resize(start + SOCKADDR_STORAGE_LEN, 0);
    }

    /// Decodes the legacy form after its first byte (§6.4.5): three ignored bytes, the nonce
    /// and a 128-byte `sockaddr_storage` with a big-endian family. Like Ceph, a family other
    /// than IPv4 or IPv6 leaves the address blank; a blank address gets `TYPE_NONE`.
    pub(crate) fn decode_legacy_after_marker(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.skip(3, "legacy entity_addr_t")?;
        let nonce = r.read_u32("legacy entity_addr_t.nonce")?;
        let storage: [u8; SOCKADDR_STORAGE_LEN] = r.read_array("legacy entity_addr_t.sockaddr")?;
        let family = u16::from_be_bytes([storage[0], storage[1]]);
        let mut data = [0u8; 26];
        data.copy_from_slice(&storage[2..SOCKADDR_IN6_LEN]);
        let sockaddr = parse_sockaddr(family, &data).flatten();
        let ty = if sockaddr.is_some() {
            AddrType::Legacy
        } else {
            AddrType::None
        };
        Ok(Self {
            ty,
            nonce,
            sockaddr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::decode_exact;
    use crate::wire::encode_to_vec;
    use crate::wire::testutil::arb_socket_addr;
    use proptest::prelude::*;
    use std::net::{SocketAddr, SocketAddrV6};

    fn v4(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn legacy_bytes(nonce: u32, family_be: u16, rest: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0];
        b.extend_from_slice(&nonce.to_le_bytes());
        b.extend_from_slice(&family_be.to_be_bytes());
        b.extend_from_slice(rest);
        b.resize(136, 0);
        b
    }

    #[test]
    fn legacy_form() {
        let bytes = legacy_bytes(328, 2, &[0x1a, 0x85, 10, 0, 0, 1]);
        assert_eq!(bytes.len(), 136);
        let addr = decode_exact::<EntityAddr>(&bytes).unwrap();
        assert_eq!(
            addr,
            EntityAddr::new(AddrType::Legacy, v4("10.0.0.1:6789"), 328)
        );
        let mut out = Vec::new();
        addr.encode_legacy(&mut out);
        assert_eq!(out, bytes);

        // Family 0 decodes as a blank TYPE_NONE address, and so does an unknown family.
        for family in [0, 1, 0x0200] {
            let addr = decode_exact::<EntityAddr>(&legacy_bytes(5, family, &[1, 2, 3])).unwrap();
            assert_eq!(
                addr,
                EntityAddr {
                    ty: AddrType::None,
                    nonce: 5,
                    sockaddr: None
                }
            );
        }

        // IPv6, with flowinfo and scope id.
        let sa = SocketAddr::V6(SocketAddrV6::new(
            "2001:db8::7".parse().unwrap(),
            6789,
            9,
            3,
        ));
        let addr = EntityAddr::new(AddrType::Legacy, sa, 1);
        let mut out = Vec::new();
        addr.encode_legacy(&mut out);
        assert_eq!(&out[8..10], [0, 10]); // AF_INET6, big-endian
        assert_eq!(decode_exact::<EntityAddr>(&out).unwrap(), addr);
    }

    #[test]
    fn encode_with_features_follows_the_peer() {
        let any = EntityAddr::new(AddrType::Any, v4("127.0.0.1:0"), 9);
        let mut out = Vec::new();
        any.encode_with_features(features::CEPH_FEATURES_ALL, &mut out);
        assert_eq!(out, encode_to_vec(&any));

        out.clear();
        any.encode_with_features(Features::from_bits(features::MSG_ADDR2.mask()), &mut out);
        let sent = decode_exact::<EntityAddr>(&out).unwrap();
        assert_eq!(
            sent,
            EntityAddr {
                ty: AddrType::Legacy,
                ..any
            }
        );

        out.clear();
        any.encode_with_features(Features::EMPTY, &mut out);
        assert_eq!(out.len(), 136);
        assert_eq!(
            decode_exact::<EntityAddr>(&out).unwrap(),
            EntityAddr {
                ty: AddrType::Legacy,
                ..any
            }
        );
    }

    proptest! {
        #[test]
        fn legacy_roundtrips(sa in proptest::option::of(arb_socket_addr()), nonce: u32) {
            let ty = if sa.is_some() { AddrType::Legacy } else { AddrType::None };
            let addr = EntityAddr { ty, nonce, sockaddr: sa };
            let mut out = Vec::new();
            addr.encode_legacy(&mut out);
            prop_assert_eq!(out.len(), 136);
            prop_assert_eq!(decode_exact::<EntityAddr>(&out).unwrap(), addr);
        }

    }
}
