//! Shared test helpers: round-trip and no-panic checks, and proptest strategies for the wire
//! types.

use std::fmt::Debug;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use bytes::Bytes;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{
    AddrType, Decode, Encode, EntityAddr, EntityAddrvec, EntityType, Reader, decode_exact,
    decode_exact_bytes, encode_to_vec,
};

/// msgr2.md §6.4.5: `v2:127.0.0.1:23300/0` in the new form, 35 bytes.
pub const MON_ADDR: [u8; 35] = [
    0x01, 0x01, 0x01, 0x1c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x5b, 0x04, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00,
];

/// `decode(encode(x)) == x`, from a slice and from `Bytes`; every strict prefix of the
/// encoding fails to decode; a trailing byte is left unread.
pub fn check_roundtrip<T: Encode + Decode + PartialEq + Debug>(x: &T) -> Result<(), TestCaseError> {
    let bytes = encode_to_vec(x);
    let back: T = decode_exact(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, x);
    let shared = Bytes::from(bytes.clone());
    let back: T = decode_exact_bytes(&shared).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, x);
    for cut in 0..bytes.len() {
        prop_assert!(
            decode_exact::<T>(&bytes[..cut]).is_err(),
            "prefix of {} decoded",
            cut
        );
    }
    let mut longer = bytes.clone();
    longer.push(0xaa);
    let mut r = Reader::new(&longer);
    let back = T::decode(&mut r).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, x);
    prop_assert_eq!(r.remaining(), 1);
    Ok(())
}

/// Decoding arbitrary bytes returns `Ok` or `Err`, never panics, and never reads out of bounds.
pub fn check_no_panic<T: Decode>(data: &[u8]) {
    let _ = decode_exact::<T>(data);
    let mut r = Reader::new(data);
    if T::decode(&mut r).is_ok() {
        assert!(r.remaining() <= data.len());
    }
    let _ = decode_exact_bytes::<T>(&Bytes::copy_from_slice(data));
}

/// Any socket address, with IPv6 flowinfo and scope id.
pub fn arb_socket_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>())
            .prop_map(|(ip, port)| SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port)),
        (any::<[u8; 16]>(), any::<u16>(), any::<u32>(), any::<u32>()).prop_map(
            |(ip, port, flow, scope)| {
                SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, flow, scope))
            }
        ),
    ]
}

/// Any address type.
pub fn arb_addr_type() -> impl Strategy<Value = AddrType> {
    prop_oneof![
        Just(AddrType::None),
        Just(AddrType::Legacy),
        Just(AddrType::Msgr2),
        Just(AddrType::Any),
        Just(AddrType::Cidr),
    ]
}

/// Any entity address, blank ones included.
pub fn arb_entity_addr() -> impl Strategy<Value = EntityAddr> {
    (
        arb_addr_type(),
        any::<u32>(),
        proptest::option::weighted(0.9, arb_socket_addr()),
    )
        .prop_map(|(ty, nonce, sockaddr)| EntityAddr {
            ty,
            nonce,
            sockaddr,
        })
}

/// Any address vector of up to 4 addresses.
pub fn arb_entity_addrvec() -> impl Strategy<Value = EntityAddrvec> {
    prop::collection::vec(arb_entity_addr(), 0..4).prop_map(EntityAddrvec::from)
}

/// Any entity type, known or not.
pub fn arb_entity_type() -> impl Strategy<Value = EntityType> {
    prop_oneof![
        Just(EntityType::MON),
        Just(EntityType::MDS),
        Just(EntityType::OSD),
        Just(EntityType::CLIENT),
        Just(EntityType::MGR),
        Just(EntityType::AUTH),
        Just(EntityType::ANY),
        any::<u8>().prop_map(EntityType),
    ]
}
