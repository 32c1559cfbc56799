//! Control payloads against every control frame printed in msgr2.md (§2.9, §3.3, §3.4, §3.5,
//! §3.6), and round trips.

use std::net::SocketAddr;

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::frames::{FrameDecoder, FrameLimits, Revision, assemble};
use crate::wire::{AddrType, decode_exact, encode_to_vec};

/// Parses a hex dump in the spec's layout: an offset column, then bytes; text after two spaces
/// following the bytes (annotations) is ignored.
pub(crate) fn hexdump(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let rest = line.split_once("  ").map_or("", |(_, r)| r);
        let bytes = rest.split("  ").next().unwrap_or("");
        for byte in bytes.split_whitespace() {
            out.push(u8::from_str_radix(byte, 16).expect("hex byte"));
        }
    }
    out
}

/// Decodes one rev1 frame that must fill `bytes` exactly.
pub(crate) fn one_frame(bytes: &[u8]) -> Frame {
    let mut dec = FrameDecoder::new(Revision::Rev1, FrameLimits::default());
    let mut frames = Vec::new();
    dec.decode_all(bytes, &mut frames).expect("frame decodes");
    assert_eq!(frames.len(), 1);
    assert!(dec.is_at_frame_boundary());
    frames.pop().expect("one frame")
}

/// `payload` decodes from `bytes` to `expected`, and re-encodes to exactly `bytes`.
fn check_spec<T: ControlPayload + PartialEq + std::fmt::Debug>(dump: &str, expected: &T) {
    let bytes = hexdump(dump);
    let frame = one_frame(&bytes);
    let got = T::from_frame(&frame).expect("payload decodes");
    assert_eq!(&got, expected);
    assert_eq!(
        assemble(&expected.to_frame(), Revision::Rev1).to_vec(),
        bytes
    );
}

fn v2(s: &str, nonce: u32) -> EntityAddr {
    EntityAddr::msgr2(s.parse::<SocketAddr>().unwrap(), nonce)
}

const CLIENT_HELLO: &str = "
0000  01 01 24 00 00 00 08 00 00 00 00 00 00 00 00 00
0010  00 00 00 00 00 00 00 00 00 00 00 00 3f bd 6b 06
0020  08 01 01 01 1c 00 00 00 02 00 00 00 00 00 00 00
0030  10 00 00 00 02 00 5b 04 7f 00 00 01 00 00 00 00
0040  00 00 00 00 3c 9b 6b a3";

const MON_HELLO: &str = "
0000  01 01 24 00 00 00 08 00 00 00 00 00 00 00 00 00
0010  00 00 00 00 00 00 00 00 00 00 00 00 3f bd 6b 06
0020  01 01 01 01 1c 00 00 00 02 00 00 00 00 00 00 00
0030  10 00 00 00 02 00 84 7c 7f 00 00 01 00 00 00 00
0040  00 00 00 00 ca ba d4 06";

#[test]
fn hello_2_9() {
    check_spec(
        CLIENT_HELLO,
        &Hello {
            entity_type: EntityType::CLIENT,
            peer_addr: v2("127.0.0.1:23300", 0),
        },
    );
    check_spec(
        MON_HELLO,
        &Hello {
            entity_type: EntityType::MON,
            peer_addr: v2("127.0.0.1:33916", 0),
        },
    );
    // The worked example (192.168.1.10:3300).
    let payload = hexdump(
        "0020  08 01 01 01 1c 00 00 00 02 00 00 00 00 00 00 00
         0030  10 00 00 00 02 00 0c e4 c0 a8 01 0a 00 00 00 00
         0040  00 00 00 00",
    );
    let hello = Hello {
        entity_type: EntityType::CLIENT,
        peer_addr: v2("192.168.1.10:3300", 0),
    };
    assert_eq!(encode_to_vec(&hello), payload);
}

#[test]
fn auth_request_3_4_1() {
    let payload = Bytes::from(hexdump(
        "0030  0a 08 00 00 00 05 00 00 00 61 64 6d 69 6e 00 00
         0040  00 00 00 00 00 00",
    ));
    check_spec(
        "0000  02 01 26 00 00 00 08 00 00 00 00 00 00 00 00 00
         0010  00 00 00 00 00 00 00 00 00 00 00 00 8c 5e e4 be
         0020  01 00 00 00 01 00 00 00 01 00 00 00 16 00 00 00
         0030  0a 08 00 00 00 05 00 00 00 61 64 6d 69 6e 00 00
         0040  00 00 00 00 00 00 d8 ed e5 0c",
        &AuthRequest {
            method: AUTH_METHOD_NONE,
            preferred_modes: vec![CON_MODE_CRC],
            auth_payload: payload,
        },
    );
}

#[test]
fn auth_bad_method_3_3_3() {
    check_spec(
        "0000  03 01 18 00 00 00 08 00 00 00 00 00 00 00 00 00
         0010  00 00 00 00 00 00 00 00 00 00 00 00 d4 1a 33 ef
         0020  02 00 00 00 a1 ff ff ff 01 00 00 00 01 00 00 00
         0030  01 00 00 00 01 00 00 00 c5 a8 fa 85",
        &AuthBadMethod {
            method: AUTH_METHOD_CEPHX,
            result: -95,
            allowed_methods: vec![AUTH_METHOD_NONE],
            allowed_modes: vec![CON_MODE_CRC],
        },
    );
}

#[test]
fn auth_done_3_4_2() {
    check_spec(
        "0000  06 01 10 00 00 00 08 00 00 00 00 00 00 00 00 00
         0010  00 00 00 00 00 00 00 00 00 00 00 00 5b 06 30 a6
         0020  03 10 00 00 00 00 00 00 01 00 00 00 00 00 00 00
         0030  f7 9e cd 83",
        &AuthDone {
            global_id: 4099,
            con_mode: CON_MODE_CRC,
            auth_payload: Bytes::new(),
        },
    );
}

#[test]
fn auth_signature_3_5() {
    check_spec(
        "0000  07 01 20 00 00 00 08 00 00 00 00 00 00 00 00 00
         0010  00 00 00 00 00 00 00 00 00 00 00 00 a8 0c 98 72
         0020  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
         0030  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
         0040  55 c9 6e 75",
        &AuthSignature::zero(),
    );
}

#[test]
fn client_ident_3_6() {
    let me = EntityAddr::new(AddrType::Any, "127.0.0.1:0".parse().unwrap(), 0x87d4_dcb4);
    check_spec(
        "0000  08 01 7b 00 00 00 08 00 00 00 00 00 00 00 00 00
         0010  00 00 00 00 00 00 00 00 00 00 00 00 73 8a 98 95
         0020  02 01 00 00 00 01 01 01 1c 00 00 00 03 00 00 00
         0030  b4 dc d4 87 10 00 00 00 02 00 00 00 7f 00 00 01
         0040  00 00 00 00 00 00 00 00 01 01 01 1c 00 00 00 02
         0050  00 00 00 00 00 00 00 10 00 00 00 02 00 5b 04 7f
         0060  00 00 01 00 00 00 00 00 00 00 00 ff ff ff ff ff
         0070  ff ff ff 01 00 00 00 00 00 00 00 ff ff fd ff bd
         0080  cf 01 3f 00 10 00 00 00 00 00 08 01 00 00 00 00
         0090  00 00 00 00 00 00 00 00 00 00 00 41 59 8c 40",
        &ClientIdent {
            addrs: EntityAddrvec::single(me),
            target_addr: v2("127.0.0.1:23300", 0),
            gid: -1,
            global_seq: 1,
            supported_features: Features::from_bits(0x3f01_cfbd_fffd_ffff),
            required_features: Features::from_bits(0x0800_0000_0000_1000),
            flags: CONNECT_LOSSY,
            cookie: 0,
        },
    );
}

#[test]
fn server_ident_3_3_8() {
    check_spec(
        "0000  09 01 58 00 00 00 08 00 00 00 00 00 00 00 00 00
         0010  00 00 00 00 00 00 00 00 00 00 00 00 83 a1 f3 e6
         0020  02 01 00 00 00 01 01 01 1c 00 00 00 02 00 00 00
         0030  00 00 00 00 10 00 00 00 02 00 5b 04 7f 00 00 01
         0040  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
         0050  03 00 00 00 00 00 00 00 ff ff fd ff bd cf 01 3f
         0060  00 00 04 02 00 02 01 0c 01 00 00 00 00 00 00 00
         0070  00 00 00 00 00 00 00 00 5c 72 c8 31",
        &ServerIdent {
            addrs: EntityAddrvec::single(v2("127.0.0.1:23300", 0)),
            gid: 0,
            global_seq: 3,
            supported_features: Features::from_bits(0x3f01_cfbd_fffd_ffff),
            required_features: Features::from_bits(0x0c01_0200_0204_0000),
            flags: CONNECT_LOSSY,
            cookie: 0,
        },
    );
}

#[test]
fn ident_missing_features_3_3_9() {
    check_spec(
        "0000  0a 01 08 00 00 00 08 00 00 00 00 00 00 00 00 00
         0010  00 00 00 00 00 00 00 00 00 00 00 00 67 c8 e7 9e
         0020  00 00 04 02 00 02 01 04 3f f8 57 2a",
        &IdentMissingFeatures {
            features: Features::from_bits(0x0401_0200_0204_0000),
        },
    );
}

#[test]
fn session_reset_3_3_11() {
    check_spec(
        "0000  0c 01 01 00 00 00 08 00 00 00 00 00 00 00 00 00
         0010  00 00 00 00 00 00 00 00 00 00 00 00 4a bb 98 19
         0020  01 ad 2f e9 5f",
        &SessionReset { full: true },
    );
}

#[test]
fn wait_2_9() {
    check_spec(
        "0000  10 01 00 00 00 00 08 00 00 00 00 00 00 00 00 00
         0010  00 00 00 00 00 00 00 00 00 00 00 00 c8 e3 aa b0",
        &Wait,
    );
}

#[test]
fn keepalive2_3_3_16() {
    check_spec(
        "0000  12 01 08 00 00 00 08 00 00 00 00 00 00 00 00 00
         0010  00 00 00 00 00 00 00 00 00 00 00 00 d8 d5 f5 99
         0020  00 f1 53 65 40 e2 01 00 d1 26 79 61",
        &Keepalive2 {
            timestamp: UTime::new(1_700_000_000, 123_456),
        },
    );
}

#[test]
fn fixed_layouts() {
    // Layouts with no captured frame, checked field by field against §3.3.
    let reconnect = SessionReconnect {
        addrs: EntityAddrvec::single(v2("10.0.0.1:6800", 7)),
        client_cookie: 0x1111,
        server_cookie: 0x2222,
        global_seq: 3,
        connect_seq: 4,
        msg_seq: 5,
    };
    let bytes = encode_to_vec(&reconnect);
    let addrvec_len = encode_to_vec(&reconnect.addrs).len();
    assert_eq!(bytes.len(), addrvec_len + 5 * 8);
    assert_eq!(
        &bytes[addrvec_len..addrvec_len + 8],
        &0x1111u64.to_le_bytes()
    );
    assert_eq!(&bytes[bytes.len() - 8..], &5u64.to_le_bytes());
    for (frame, tag, len) in [
        (
            SessionRetry { connect_seq: 9 }.to_frame(),
            Tag::SessionRetry,
            8,
        ),
        (
            SessionRetryGlobal { global_seq: 9 }.to_frame(),
            Tag::SessionRetryGlobal,
            8,
        ),
        (
            SessionReconnectOk { msg_seq: 9 }.to_frame(),
            Tag::SessionReconnectOk,
            8,
        ),
        (Ack { seq: 9 }.to_frame(), Tag::Ack, 8),
        (
            Keepalive2Ack {
                timestamp: UTime::new(1, 2),
            }
            .to_frame(),
            Tag::Keepalive2Ack,
            8,
        ),
        (
            AuthReplyMore {
                auth_payload: Bytes::from_static(b"xy"),
            }
            .to_frame(),
            Tag::AuthReplyMore,
            6,
        ),
        (
            AuthRequestMore {
                auth_payload: Bytes::from_static(b"xy"),
            }
            .to_frame(),
            Tag::AuthRequestMore,
            6,
        ),
    ] {
        assert_eq!(frame.tag(), tag);
        assert_eq!(frame.payload().len(), len, "{tag}");
    }
    assert_eq!(
        decode_exact::<SessionRetry>(&9u64.to_le_bytes()).unwrap(),
        SessionRetry { connect_seq: 9 }
    );
}

#[test]
fn wrong_tag_and_truncation_are_errors() {
    let frame = Ack { seq: 1 }.to_frame();
    assert!(SessionRetry::from_frame(&frame).is_err());
    let short = Frame::control(Tag::Ack, Bytes::from_static(&[1, 2, 3])).unwrap();
    let err = Ack::from_frame(&short).unwrap_err();
    assert!(err.to_string().contains("ACK.seq"), "{err}");
    // Trailing bytes are ignored, as Ceph does.
    let long = Frame::control(Tag::Ack, Bytes::from_static(&[1, 0, 0, 0, 0, 0, 0, 0, 9])).unwrap();
    assert_eq!(Ack::from_frame(&long).unwrap(), Ack { seq: 1 });
}

fn arb_addr() -> impl Strategy<Value = EntityAddr> {
    (any::<[u8; 4]>(), any::<u16>(), any::<u32>(), 0u32..5).prop_map(|(ip, port, nonce, ty)| {
        EntityAddr::new(
            AddrType::from_u32(ty).unwrap_or(AddrType::Msgr2),
            SocketAddr::from((ip, port)),
            nonce,
        )
    })
}

fn arb_addrvec() -> impl Strategy<Value = EntityAddrvec> {
    proptest::collection::vec(arb_addr(), 0..3).prop_map(EntityAddrvec::new)
}

fn roundtrip<T: ControlPayload + PartialEq + std::fmt::Debug>(x: &T) -> Result<(), TestCaseError> {
    let frame = x.to_frame();
    prop_assert_eq!(frame.tag(), T::TAG);
    let wire = assemble(&frame, Revision::Rev1).to_vec();
    let back = T::from_frame(&one_frame(&wire)).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, x);
    // Every strict prefix of a payload that has fields fails to decode, never panics.
    let payload = frame.payload().clone();
    for cut in 0..payload.len() {
        let short = Frame::control(T::TAG, payload.slice(..cut)).unwrap();
        prop_assert!(T::from_frame(&short).is_err());
    }
    Ok(())
}

proptest! {
    #[test]
    fn roundtrips(
        addrs in arb_addrvec(),
        addr in arb_addr(),
        a in any::<u64>(), b in any::<u64>(), c in any::<u64>(), d in any::<u64>(),
        g in any::<i64>(), r in any::<i32>(), w in any::<u32>(), flag in any::<bool>(),
        modes in proptest::collection::vec(any::<u32>(), 0..4),
        payload in proptest::collection::vec(any::<u8>(), 0..40),
        sig in any::<[u8; 32]>(),
        ty in any::<u8>(),
    ) {
        let payload = Bytes::from(payload);
        roundtrip(&Hello { entity_type: EntityType(ty), peer_addr: addr })?;
        roundtrip(&AuthRequest { method: w, preferred_modes: modes.clone(), auth_payload: payload.clone() })?;
        roundtrip(&AuthBadMethod { method: w, result: r, allowed_methods: modes.clone(), allowed_modes: modes.clone() })?;
        roundtrip(&AuthReplyMore { auth_payload: payload.clone() })?;
        roundtrip(&AuthRequestMore { auth_payload: payload.clone() })?;
        roundtrip(&AuthDone { global_id: a, con_mode: w, auth_payload: payload })?;
        roundtrip(&AuthSignature { signature: sig })?;
        roundtrip(&ClientIdent {
            addrs: addrs.clone(), target_addr: addr, gid: g, global_seq: a,
            supported_features: Features::from_bits(b), required_features: Features::from_bits(c),
            flags: d, cookie: a ^ b,
        })?;
        roundtrip(&ServerIdent {
            addrs: addrs.clone(), gid: g, global_seq: a,
            supported_features: Features::from_bits(b), required_features: Features::from_bits(c),
            flags: d, cookie: c ^ d,
        })?;
        roundtrip(&IdentMissingFeatures { features: Features::from_bits(a) })?;
        roundtrip(&SessionReconnect {
            addrs, client_cookie: a, server_cookie: b, global_seq: c, connect_seq: d, msg_seq: a ^ c,
        })?;
        roundtrip(&SessionReset { full: flag })?;
        roundtrip(&SessionRetry { connect_seq: a })?;
        roundtrip(&SessionRetryGlobal { global_seq: b })?;
        roundtrip(&SessionReconnectOk { msg_seq: c })?;
        roundtrip(&Wait)?;
        roundtrip(&Keepalive2 { timestamp: UTime::new(w, r as u32) })?;
        roundtrip(&Keepalive2Ack { timestamp: UTime::new(r as u32, w) })?;
        roundtrip(&Ack { seq: d })?;
    }

    #[test]
    fn arbitrary_payloads_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..80)) {
        let payload = Bytes::from(payload);
        macro_rules! try_all {
            ($($t:ty),*) => {$(
                let _ = <$t>::from_frame(&Frame::control(<$t>::TAG, payload.clone()).unwrap());
            )*};
        }
        try_all!(Hello, AuthRequest, AuthBadMethod, AuthReplyMore, AuthRequestMore, AuthDone,
            AuthSignature, ClientIdent, ServerIdent, IdentMissingFeatures, SessionReconnect,
            SessionReset, SessionRetry, SessionRetryGlobal, SessionReconnectOk, Wait, Keepalive2,
            Keepalive2Ack, Ack);
    }
}
