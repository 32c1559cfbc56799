//! Arbitrary (type, version, compat, front, middle, data) into `RawMessage` ->
//! `Message::decode`.
//!
//! Input (`cuttle_msgr_fuzz::message_input`): `u16 type, u16 version, u16 compat_version,
//! u32 front_len, u32 middle_len` (little endian), then front, middle, and the rest as data;
//! each length is taken modulo what is left plus one.
//!
//! Checks: no panic; whatever decodes re-encodes (`Message::to_raw`) to a message that
//! decodes equal, under the same type, and travels through a MESSAGE frame unchanged. With
//! `CUTTLE_FUZZ_CANONICAL=1` in the environment, also: a message received at our HEAD
//! version re-encodes to the very bytes received (the strictness rule of `messages/mod.rs`).
//! That stricter check fails at once on inputs the decoders accept on purpose: map keys out
//! of order or repeated (a `BTreeMap` re-encodes them sorted, once; MMonSubscribe), and an
//! older nested struct (MonMap `struct_v` < 9 inside an MMonMap at HEAD), re-encoded at our
//! version. Use it to look for other kinds of non-canonical input.

#![no_main]

use std::sync::LazyLock;

use cuttle_msgr_fuzz::message_input;
use libfuzzer_sys::fuzz_target;
use msgr::frames::Frame;
use msgr::messages::{Message, RawMessage};
use msgr::wire::features::CEPH_FEATURES_ALL;

static CANONICAL: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("CUTTLE_FUZZ_CANONICAL").is_some_and(|v| v == "1"));

fuzz_target!(|data: &[u8]| {
    let raw = message_input::decode(data);
    let ty = raw.header.msg_type;

    // The frame layer gives the message back as it was.
    let frame = raw.to_frame().expect("segments fit a frame");
    assert_eq!(RawMessage::from_frame(&frame).unwrap(), raw);
    assert_eq!(
        Frame::new(frame.tag(), frame.segments().iter().cloned()).unwrap(),
        frame
    );

    let Ok(msg) = Message::decode(raw.clone()) else {
        return;
    };
    assert_eq!(msg.msg_type(), ty);
    assert_eq!(Message::is_typed(ty), !matches!(msg, Message::Unknown(_)));
    let _ = msg.name();

    let again = msg.to_raw(CEPH_FEATURES_ALL);
    assert_eq!(again.header.msg_type, ty);
    let decoded = Message::decode(again.clone())
        .unwrap_or_else(|e| panic!("re-encoded {} does not decode: {e}", msg.name()));
    assert_eq!(decoded, msg, "{}: decode(encode(m)) != m", msg.name());
    let frame = again.to_frame().expect("segments fit a frame");
    assert_eq!(RawMessage::from_frame(&frame).unwrap(), again);

    if *CANONICAL && again.header.version == raw.header.version {
        assert_eq!(
            again.payload(),
            raw.payload(),
            "{}: not re-encoded byte for byte",
            msg.name()
        );
    }
});
