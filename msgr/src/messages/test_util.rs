//! Helpers shared by the message tests: round-trip and no-panic checks, proptest strategies.

use std::fmt::Debug;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::Bytes;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{CephMessage, MsgHeader2, Payload, RawMessage};
use crate::frames::{FrameDecoder, FrameLimits, Revision, assemble};
use crate::wire::features::CEPH_FEATURES_ALL;
use crate::wire::{AddrType, EntityAddr, EntityAddrvec, Uuid};

/// Sends `msg` through a whole rev1 MESSAGE frame and back: the decoded message equals `msg`,
/// and re-encoding it gives the same segments.
pub fn check_roundtrip<M>(msg: &M) -> Result<(), TestCaseError>
where
    M: CephMessage + PartialEq + Debug,
{
    let raw = msg.to_raw(CEPH_FEATURES_ALL);
    prop_assert_eq!(raw.header.msg_type, M::TYPE);
    prop_assert_eq!(raw.header.version, M::HEAD_VERSION);
    prop_assert_eq!(raw.header.compat_version, M::COMPAT_VERSION);
    let frame = raw
        .to_frame()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let wire = assemble(&frame, Revision::Rev1).to_vec();
    let mut frames = Vec::new();
    FrameDecoder::new(Revision::Rev1, FrameLimits::default())
        .decode_all(&wire, &mut frames)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(frames.len(), 1);
    let back_raw =
        RawMessage::from_frame(&frames[0]).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back_raw, &raw);
    let back = M::from_raw(&back_raw).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, msg);
    prop_assert_eq!(back.encode_payload(CEPH_FEATURES_ALL), raw.payload());
    Ok(())
}

/// Every strict prefix of `msg`'s front fails to decode (for types whose front has a fixed
/// structure).
pub fn check_prefixes_fail<M: CephMessage>(msg: &M) -> Result<(), TestCaseError> {
    let raw = msg.to_raw(CEPH_FEATURES_ALL);
    for cut in 0..raw.front.len() {
        let mut short = raw.clone();
        short.front = raw.front.slice(..cut);
        prop_assert!(M::from_raw(&short).is_err(), "prefix of {} decoded", cut);
    }
    // One extra byte is an error at our own version (§5.6) but skipped from a newer sender.
    let mut longer = raw.clone();
    let mut front = raw.front.to_vec();
    front.push(0xaa);
    longer.front = Bytes::from(front);
    prop_assert!(M::from_raw(&longer).is_err());
    longer.header.version = M::HEAD_VERSION + 1;
    prop_assert!(M::from_raw(&longer).is_ok());
    Ok(())
}

/// Decoding `front` and `data` as an `M` at any header version returns `Ok` or `Err` and never
/// panics.
pub fn check_no_panic<M: CephMessage>(version: u16, compat: u16, front: &[u8], data: &[u8]) {
    let mut header = MsgHeader2::new(M::TYPE, version, compat);
    header.tid = 1;
    let payload = Payload {
        front: Bytes::copy_from_slice(front),
        middle: Bytes::new(),
        data: Bytes::copy_from_slice(data),
    };
    let _ = M::from_raw(&RawMessage::from_payload(header, payload));
}

/// A raw message of type `M` at (`version`, `compat`) with the given segments.
pub fn raw_of<M: CephMessage>(version: u16, compat: u16, front: &[u8], data: &[u8]) -> RawMessage {
    let payload = Payload {
        front: Bytes::copy_from_slice(front),
        middle: Bytes::new(),
        data: Bytes::copy_from_slice(data),
    };
    RawMessage::from_payload(MsgHeader2::new(M::TYPE, version, compat), payload)
}

/// Any UUID.
pub fn arb_uuid() -> impl Strategy<Value = Uuid> {
    any::<[u8; 16]>().prop_map(Uuid)
}

/// Short strings, mostly ASCII, sometimes not.
pub fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![4 => "[a-z0-9 {}\":_.-]{0,16}", 1 => ".{0,8}"]
}

/// Up to 3 short strings.
pub fn arb_strings() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(arb_string(), 0..3)
}

/// Short byte strings.
pub fn arb_bytes() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

/// An address vector of 0 to 2 `v1:`/`v2:` IPv4 or IPv6 addresses.
pub fn arb_addrvec() -> impl Strategy<Value = EntityAddrvec> {
    let addr = (
        prop_oneof![Just(AddrType::Msgr2), Just(AddrType::Legacy)],
        any::<u32>(),
        prop_oneof![
            any::<[u8; 4]>().prop_map(|ip| IpAddr::V4(Ipv4Addr::from(ip))),
            any::<[u8; 16]>().prop_map(|ip| IpAddr::V6(Ipv6Addr::from(ip))),
        ],
        any::<u16>(),
    )
        .prop_map(|(ty, nonce, ip, port)| EntityAddr::new(ty, SocketAddr::new(ip, port), nonce));
    prop::collection::vec(addr, 0..3).prop_map(EntityAddrvec::new)
}
