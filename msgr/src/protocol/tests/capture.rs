//! Interop against every TCP stream captured from Ceph 16.2.15 (`shared/ceph/vectors`, 12
//! sessions of `ceph -s`, `ceph mgr stat`, `ceph pg stat` and a librados client, to the mon
//! and to the mgr).
//!
//! For each session, in both roles: our Protocol is configured like the captured peer
//! (values read from the captured idents), fed the other side's captured bytes frame by frame,
//! and given the captured peer's own messages to send at the points where it sent them (when
//! its `in_seq` reached the message's `ack_seq`). What it writes must equal the captured
//! stream byte for byte, except a lossless client's random cookie. It must reach READY and
//! deliver every captured message.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

use super::*;
use crate::frames::{BANNER_LEN, Frame, FrameDecoder, FrameLimits, Revision, Tag, assemble};
use crate::messages::RawMessage;
use crate::protocol::Protocol;
use crate::protocol::auth::AuthNonePayload;
use crate::protocol::control::{
    AuthDone, AuthRequest, ClientIdent, ControlPayload, Hello, ServerIdent,
};
use crate::wire::{Decode, Reader};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/ceph/vectors")
}

/// The banner and the frames of one captured direction, each as its bytes.
fn split(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![stream[..BANNER_LEN].to_vec()];
    let mut dec = FrameDecoder::new(Revision::Rev1, FrameLimits::unlimited());
    let mut rest = &stream[BANNER_LEN..];
    while !rest.is_empty() {
        let d = dec.decode(rest).expect("captured frame decodes");
        assert!(d.frame.is_some(), "captured stream ends mid-frame");
        out.push(rest[..d.consumed].to_vec());
        rest = &rest[d.consumed..];
    }
    out
}

fn frame(bytes: &[u8]) -> Frame {
    super::super::control::tests::one_frame(bytes)
}

fn find<T: ControlPayload>(frames: &[Vec<u8>]) -> T {
    frames[1..]
        .iter()
        .map(|b| frame(b))
        .find(|f| f.tag() == T::TAG)
        .map(|f| T::from_frame(&f).expect("captured payload decodes"))
        .expect("captured frame present")
}

/// Replays `inbound` into `proto`, checking that it writes `outbound`.
fn replay(
    mut proto: Protocol,
    inbound: &[Vec<u8>],
    outbound: &[Vec<u8>],
    name: &str,
) -> Vec<Event> {
    let now = Instant::now();
    let mut inbound: VecDeque<&Vec<u8>> = inbound.iter().collect();
    // Delivers the next captured frame, in two pieces to exercise partial input.
    let feed = |p: &mut Protocol, inbound: &mut VecDeque<&Vec<u8>>| {
        let f = inbound
            .pop_front()
            .unwrap_or_else(|| panic!("{name}: stalled"));
        let half = f.len() / 2;
        p.handle_input(&f[..half], now);
        p.handle_input(&f[half..], now);
    };
    for (i, expected) in outbound.iter().enumerate() {
        if i > 0 && expected[0] == Tag::Message.as_u8() {
            let raw = RawMessage::from_frame(&frame(expected)).expect("captured message");
            while !(proto.is_ready() && proto.seqs().1 >= raw.header.ack_seq) {
                feed(&mut proto, &mut inbound);
            }
            proto.send_message(raw, now);
        }
        let got = loop {
            if let Some(t) = proto.poll_transmit() {
                break t.to_vec();
            }
            feed(&mut proto, &mut inbound);
        };
        if i > 0 && expected[0] == Tag::ClientIdent.as_u8() && got != *expected {
            // A lossless client's cookie is random: compare everything else.
            let theirs = ClientIdent::from_frame(&frame(expected)).unwrap();
            let mut ours = ClientIdent::from_frame(&frame(&got)).unwrap();
            assert!(ours.cookie != 0 && theirs.cookie != 0, "{name}: cookie");
            ours.cookie = theirs.cookie;
            let ours = assemble(&ours.to_frame(), Revision::Rev1).to_vec();
            assert_eq!(ours, *expected, "{name}: CLIENT_IDENT differs");
            continue;
        }
        assert_eq!(got, *expected, "{name}: output #{i} differs");
    }
    while !inbound.is_empty() {
        feed(&mut proto, &mut inbound);
    }
    let events: Vec<Event> = std::iter::from_fn(|| proto.poll_event()).collect();
    assert!(proto.is_ready(), "{name}: {}", proto.state_name());
    events
}

/// Leaves the counter at `to`, so that the next global_seq taken is `to + 1`.
fn advance_global_seq(shared: &SharedState, to: u64) {
    if to > 0 {
        shared.next_global_seq(to - 1);
    }
    assert_eq!(shared.global_seq(), to);
}

fn messages(frames: &[Vec<u8>]) -> Vec<RawMessage> {
    frames[1..]
        .iter()
        .filter(|f| f[0] == Tag::Message.as_u8())
        .map(|f| RawMessage::from_frame(&frame(f)).unwrap())
        .collect()
}

fn check_delivery(events: &[Event], sent: &[RawMessage], name: &str) {
    let got: Vec<&RawMessage> = events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(got.len(), sent.len(), "{name}: messages delivered");
    for (g, s) in got.iter().zip(sent) {
        assert_eq!(*g, s, "{name}: message differs");
    }
    assert!(
        matches!(events.first(), Some(Event::Connected { .. })),
        "{name}"
    );
}

/// Our client, configured like the captured one, against the captured server's bytes.
fn client_side(c2s: &[Vec<u8>], s2c: &[Vec<u8>], name: &str) {
    let request: AuthRequest = find(c2s);
    let auth = AuthNonePayload::decode(&mut Reader::from_bytes(&request.auth_payload)).unwrap();
    let ident: ClientIdent = find(c2s);
    let server_hello: Hello = find(s2c);
    let mut cfg = Config::new(auth.name().clone());
    cfg.gid = ident.gid;
    cfg.global_id = auth.global_id();
    cfg.nonce = ident.addrs.front().nonce;
    let mut policy = if ident.flags & 1 != 0 {
        Policy::librados()
    } else {
        Policy::default()
    };
    policy.features_supported = ident.supported_features;
    cfg.policies = Policies::uniform(policy);
    cfg.shared = SharedState::new(7, 1);
    advance_global_seq(&cfg.shared, ident.global_seq - 1);
    let proto = Protocol::new_client(
        cfg,
        server_hello.entity_type,
        &EntityAddrvec::single(ident.target_addr),
        Instant::now(),
    )
    .unwrap();
    let events = replay(proto, s2c, c2s, name);
    check_delivery(&events, &messages(s2c), name);
    let Some(Event::Connected { peer, .. }) = events.first() else {
        unreachable!()
    };
    let done: AuthDone = find(s2c);
    assert_eq!(peer.global_id, done.global_id, "{name}");
    assert!(peer.lossy, "{name}: the server chose lossy");
}

/// Our server, configured like the captured mon or mgr, against the captured client's bytes.
fn server_side(c2s: &[Vec<u8>], s2c: &[Vec<u8>], name: &str) {
    let hello: Hello = find(s2c);
    let ident: ServerIdent = find(s2c);
    let done: AuthDone = find(s2c);
    let mut cfg = Config::new(EntityName::new(hello.entity_type, "x"));
    cfg.gid = ident.gid;
    cfg.addrs = ident.addrs.clone();
    let mut policy = Policy::stateless_server(Features::from_bits(
        ident.required_features.bits() & !crate::wire::features::MSG_ADDR2.mask(),
    ));
    policy.features_supported = ident.supported_features;
    cfg.policies = Policies::uniform(policy);
    cfg.shared = SharedState::new(7, done.global_id);
    advance_global_seq(&cfg.shared, ident.global_seq - 1);
    let socket = hello.peer_addr.sockaddr.expect("client socket");
    let proto = Protocol::new_server(cfg, socket, Instant::now());
    let events = replay(proto, c2s, s2c, name);
    check_delivery(&events, &messages(c2s), name);
}

#[test]
fn replays_every_captured_session_both_ways() {
    let dir = vectors_dir();
    if !dir.exists() {
        eprintln!("skipping: {} not found", dir.display());
        return;
    }
    let mut sessions = 0;
    for capture in ["ceph_s", "ceph_mgr_stat", "ceph_pg_stat", "rados_once"] {
        for s in 0..3 {
            let read = |d: &str| std::fs::read(dir.join(format!("{capture}.s{s}.{d}.bin")));
            let (Ok(c2s), Ok(s2c)) = (read("c2s"), read("s2c")) else {
                continue;
            };
            let (c2s, s2c) = (split(&c2s), split(&s2c));
            let name = format!("{capture}.s{s}");
            client_side(&c2s, &s2c, &format!("{name} (our client)"));
            server_side(&c2s, &s2c, &format!("{name} (our server)"));
            sessions += 1;
        }
    }
    assert_eq!(sessions, 12);
}

#[test]
fn ceph_s_main_session_details() {
    // §3.6: the `ceph -s` main MonClient session, checked field by field.
    let dir = vectors_dir();
    let Ok(s2c) = std::fs::read(dir.join("ceph_s.s1.s2c.bin")) else {
        eprintln!("skipping: vectors not found");
        return;
    };
    let c2s = std::fs::read(dir.join("ceph_s.s1.c2s.bin")).unwrap();
    let (c2s, s2c) = (split(&c2s), split(&s2c));
    let mut cfg = client_config();
    cfg.nonce = 1_583_938_355;
    let mon = EntityAddrvec::single(v2("127.0.0.1:13300", 0));
    let mut client = Protocol::new_client(cfg, EntityType::MON, &mon, Instant::now()).unwrap();
    let now = Instant::now();
    let mut ours = Vec::new();
    for f in &s2c {
        while let Some(t) = client.poll_transmit() {
            ours.extend(t.to_vec());
        }
        client.handle_input(f, now);
    }
    while let Some(t) = client.poll_transmit() {
        ours.extend(t.to_vec());
    }
    // Banner, HELLO, AUTH_REQUEST, AUTH_SIGNATURE and CLIENT_IDENT: 399 bytes, as captured.
    let handshake: Vec<u8> = c2s[..5].concat();
    assert_eq!(handshake.len(), 399);
    assert_eq!(ours, handshake);
    let events: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
    let Some(Event::Connected { peer, .. }) = events.first() else {
        panic!("{events:?}")
    };
    assert_eq!(peer.name.to_string(), "mon.0");
    assert_eq!(peer.global_id, 4396);
    assert_eq!(peer.features.bits(), 0x3f01_cfbd_fffd_ffff);
    let types: Vec<(u64, u16)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some((m.header.seq, m.header.msg_type)),
            _ => None,
        })
        .collect();
    assert_eq!(
        types,
        [
            (1, 4),
            (2, 62),
            (3, 4),
            (4, 0x704),
            (5, 41),
            (6, 51),
            (7, 51)
        ]
    );
    assert_eq!(client.seqs(), (0, 7));
}

#[test]
fn server_ident_must_list_the_dialled_address() {
    // §4.5: the captured mon identifies as v2:127.0.0.1:13300/0; a client that dialled
    // nonce 5 must refuse it.
    let Ok(s2c) = std::fs::read(vectors_dir().join("ceph_s.s1.s2c.bin")) else {
        eprintln!("skipping: vectors not found");
        return;
    };
    let now = Instant::now();
    let dialled = EntityAddrvec::single(v2("127.0.0.1:13300", 5));
    let mut client = Protocol::new_client(client_config(), EntityType::MON, &dialled, now).unwrap();
    for f in split(&s2c).iter().take(5) {
        client.handle_input(f, now);
    }
    let events: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
    let [Event::Faulted(reason)] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert!(
        matches!(reason, crate::protocol::FaultReason::WrongServer { .. }),
        "{reason}"
    );
    assert_eq!(
        reason.to_string(),
        "server identifies as v2:127.0.0.1:13300/0, which does not include our target \
         v2:127.0.0.1:13300/5 (§4.5)"
    );
}
