//! The handshake (§4.3, §4.4), keepalive and message flow, and faults on bad input.

use std::time::Duration;

use super::*;
use crate::frames::Tag;
use crate::protocol::FaultReason;
use crate::protocol::Protocol;
use crate::protocol::pair::{Action, Dir};
use crate::wire::EntityNameT;

#[test]
fn handshake_completes_both_ways_at_any_chunking() {
    for max_chunk in [1, 3, 7, 64, 100_000] {
        let mut net = Net::new();
        net.max_chunk = max_chunk;
        let s = net.add_node(mon_config());
        let c = net.add_node(client_config());
        let cc = net.connect(c, s, EntityType::MON);
        net.run();
        let sc = net.live(s)[0];
        let Some(Event::Connected { peer, resumed }) = net.conns[cc].events.first() else {
            panic!("client not connected: {:?}", net.conns[cc].events);
        };
        assert!(!resumed);
        assert_eq!(peer.name, EntityNameT::new(EntityType::MON, 0));
        assert!(peer.lossy, "the mon's choice (§4.1)");
        assert_eq!(peer.global_id, 4099, "allocated by the mon");
        assert_eq!(peer.addrs, net.addrs(s));
        let Some(Event::Connected { peer, .. }) = net.conns[sc].events.first() else {
            panic!("server not connected: {:?}", net.conns[sc].events);
        };
        assert_eq!(peer.name, EntityNameT::new(EntityType::CLIENT, -1));
        // The client advertised its learned address: any:IP:0/nonce (§3.3.7).
        let learned = peer.addrs.front();
        assert_eq!(learned.ty, crate::wire::AddrType::Any);
        assert_eq!(learned.port(), 0);
        assert_eq!(learned.nonce, 0x5e69_6433);
        assert!(net.conns[cc].proto.is_ready() && net.conns[sc].proto.is_ready());
        assert_eq!(net.conns[cc].proto.state_name(), "READY");
    }
}

#[test]
fn messages_flow_both_ways_in_order() {
    let (mut net, cc, sc) = mon_pair(mon_config(), client_config(), EntityType::MON);
    for i in 0..20u8 {
        net.conns[cc].proto.send_message(msg(&[i]), net.now);
        net.conns[sc].proto.send_message(msg(&[100 + i]), net.now);
    }
    net.run();
    let to_server = net.take_messages(sc);
    let to_client = net.take_messages(cc);
    assert_eq!(to_server, (0..20u8).map(|i| vec![i]).collect::<Vec<_>>());
    assert_eq!(
        to_client,
        (0..20u8).map(|i| vec![100 + i]).collect::<Vec<_>>()
    );
    assert_eq!(net.conns[cc].proto.seqs(), (20, 20));
    assert_eq!(net.conns[sc].proto.seqs(), (20, 20));
    // Lossy: nothing kept for replay, no ACK frames (§4.7).
    assert_eq!(net.conns[cc].proto.queue_lens(), (0, 0));
}

#[test]
fn lossless_acks_trim_the_sent_list() {
    let (mut net, cc, sc) = mon_pair(
        stateful_server("127.0.0.1:6800"),
        lossless_client(),
        EntityType::OSD,
    );
    assert!(!net.conns[cc].proto.policy().lossy);
    for i in 0..5u8 {
        net.conns[cc].proto.send_message(msg(&[i]), net.now);
    }
    net.run();
    assert_eq!(net.take_messages(sc).len(), 5);
    // The server had nothing to send, so it ACKed with an ACK frame.
    assert_eq!(net.conns[cc].proto.queue_lens(), (0, 0));
    // Piggybacked acks work as well.
    net.conns[sc].proto.send_message(msg(b"x"), net.now);
    net.run();
    assert_eq!(net.conns[sc].proto.queue_lens(), (0, 0));
}

#[test]
fn keepalive_round_trip() {
    let (mut net, cc, sc) = mon_pair(mon_config(), client_config(), EntityType::MON);
    net.advance(Duration::from_secs(3));
    net.conns[cc].proto.send_keepalive(net.now);
    net.run();
    let acks: Vec<_> = net.conns[cc]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::KeepaliveAck(t) => Some(*t),
            _ => None,
        })
        .collect();
    assert_eq!(acks, [crate::wire::UTime::new(3, 0)]);
    assert_eq!(net.conns[cc].proto.last_keepalive_ack(), Some(net.now));
    assert!(net.conns[sc].proto.is_ready());
}

#[test]
fn periodic_keepalive_keeps_an_idle_connection() {
    let mut client = client_config();
    client.timeouts.keepalive_interval = Some(Duration::from_secs(10));
    let mut server = mon_config();
    server.timeouts.idle = Some(Duration::from_secs(30));
    let (mut net, cc, sc) = mon_pair(server, client, EntityType::MON);
    net.advance(Duration::from_secs(95));
    assert!(net.conns[sc].proto.is_ready());
    let acks = count(&net, cc, |e| matches!(e, Event::KeepaliveAck(_)));
    assert_eq!(acks, 9);
}

#[test]
fn idle_and_ready_timeouts() {
    let mut server = mon_config();
    server.timeouts.idle = Some(Duration::from_secs(30));
    let (mut net, cc, sc) = mon_pair(server, client_config(), EntityType::MON);
    net.advance(Duration::from_secs(31));
    assert!(net.conns[sc].proto.is_closed());
    assert!(matches!(
        net.conns[sc].events.last(),
        Some(Event::Reset(FaultReason::Idle(_)))
    ));
    // The lossy client learns it through the transport closing.
    assert!(net.conns[cc].proto.is_closed());
    assert!(matches!(
        net.conns[cc].events.last(),
        Some(Event::Reset(FaultReason::TransportClosed))
    ));

    // A server that never answers HELLO: the client times out, backs off and retries.
    let mut net = Net::new();
    let s = net.add_node(mon_config());
    let c = net.add_node(client_config());
    net.interceptor.at(Dir::S2C, Tag::Hello, 1, Action::Stall);
    let cc = net.connect(c, s, EntityType::MON);
    net.advance(Duration::from_millis(10_100));
    let faults: Vec<_> = net.conns[cc].events.iter().collect();
    assert!(
        matches!(
            faults.first(),
            Some(Event::Faulted(FaultReason::ReadyTimeout(_)))
        ),
        "{faults:?}"
    );
    net.release(Dir::S2C);
    net.advance(Duration::from_secs(1));
    assert!(
        net.conns[cc].proto.is_ready(),
        "{}",
        net.conns[cc].proto.state_name()
    );
}

#[test]
fn auth_by_the_application() {
    let mut server = mon_config();
    server.auth = crate::protocol::AuthDecision::Application;
    let (net, cc, sc) = mon_pair(server, client_config(), EntityType::MON);
    let Some(Event::AuthRequest(info)) = net.conns[sc].events.first() else {
        panic!("{:?}", net.conns[sc].events);
    };
    assert_eq!(info.peer_type, EntityType::CLIENT);
    assert_eq!(info.payload.name().to_string(), "client.admin");
    assert!(net.conns[cc].proto.is_ready());
}

/// Shuttles bytes between two protocols until neither has anything to send.
fn exchange(a: &mut Protocol, b: &mut Protocol, now: std::time::Instant) {
    loop {
        let mut moved = false;
        while let Some(t) = a.poll_transmit() {
            b.handle_input(&t.to_vec(), now);
            moved = true;
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_input(&t.to_vec(), now);
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

fn socket() -> std::net::SocketAddr {
    "127.0.0.1:5000".parse().unwrap()
}

#[test]
fn auth_refused_busy_closes_silently() {
    // A mon without quorum refuses with -EBUSY: close without a reply (§3.4.2 step 3).
    let now = std::time::Instant::now();
    let mut cfg = mon_config();
    cfg.auth = crate::protocol::AuthDecision::Application;
    let mut server = Protocol::new_server(cfg.clone(), socket(), now);
    let mut client =
        Protocol::new_client(client_config(), EntityType::MON, &cfg.addrs, now).unwrap();
    exchange(&mut client, &mut server, now);
    assert_eq!(
        server.pending_auth().map(|a| a.payload.global_id()),
        Some(0)
    );
    server.reject_auth(crate::protocol::auth::AuthRefusal::Busy, now);
    assert!(server.is_closed());
    assert!(matches!(server.poll_event(), Some(Event::AuthRequest(_))));
    assert!(matches!(
        server.poll_event(),
        Some(Event::Reset(FaultReason::AuthBusy))
    ));
    let left: Vec<_> = std::iter::from_fn(|| server.poll_transmit()).collect();
    assert!(
        matches!(left.as_slice(), [crate::protocol::Transmit::Close]),
        "no reply is sent: {left:?}"
    );
}

#[test]
fn auth_bad_method_then_retry_on_the_same_connection() {
    // AUTH_BAD_METHOD keeps the connection open (§3.3.3); our client has no other method,
    // so it faults and retries later.
    let now = std::time::Instant::now();
    let mut cfg = mon_config();
    cfg.auth = crate::protocol::AuthDecision::Application;
    let mut server = Protocol::new_server(cfg.clone(), socket(), now);
    let mut client =
        Protocol::new_client(client_config(), EntityType::MON, &cfg.addrs, now).unwrap();
    exchange(&mut client, &mut server, now);
    server.reject_auth(crate::protocol::auth::AuthRefusal::NotSupported, now);
    assert_eq!(server.state_name(), "AUTH_ACCEPTING");
    exchange(&mut client, &mut server, now);
    let events: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
    let [
        Event::Faulted(FaultReason::AuthBadMethod {
            result: -95,
            allowed_methods,
            ..
        }),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(allowed_methods, &[1]);
}

#[test]
fn peer_type_mismatch_is_a_reset() {
    let mut net = Net::new();
    let s = net.add_node(mon_config());
    let c = net.add_node(client_config());
    let cc = net.connect(c, s, EntityType::MGR);
    net.run();
    assert!(net.conns[cc].proto.is_closed());
    assert!(matches!(
        net.conns[cc].events.as_slice(),
        [Event::Reset(FaultReason::PeerTypeMismatch { .. })]
    ));
}

#[test]
fn wrong_target_address() {
    // The client dials a nonce the server does not have (§4.5): the server faults.
    let now = std::time::Instant::now();
    let wrong = EntityAddrvec::single(v2("127.0.0.1:3300", 9));
    let mut client = Protocol::new_client(client_config(), EntityType::MON, &wrong, now).unwrap();
    let mut server = Protocol::new_server(mon_config(), socket(), now);
    exchange(&mut client, &mut server, now);
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(
        matches!(
            events.as_slice(),
            [Event::Reset(FaultReason::NotOurAddr { .. })]
        ),
        "{events:?}"
    );
}

#[test]
fn bad_crc_faults_with_a_clear_reason() {
    let now = std::time::Instant::now();
    let cfg = mon_config();
    let mut client =
        Protocol::new_client(client_config(), EntityType::MON, &cfg.addrs, now).unwrap();
    let banner = client.poll_transmit().unwrap();
    let mut server = Protocol::new_server(cfg, socket(), now);
    server.handle_input(&banner.to_vec(), now);
    assert!(
        client.poll_transmit().is_none(),
        "HELLO waits for the peer's banner"
    );
    let server_banner = server.poll_transmit().unwrap();
    client.handle_input(&server_banner.to_vec(), now);
    let mut bytes = client.poll_transmit().unwrap().to_vec();
    bytes[40] ^= 0x01; // a payload byte: the inline crc0 no longer matches
    server.handle_input(&bytes, now);
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    let [Event::Reset(reason)] = events.as_slice() else {
        panic!("{events:?}");
    };
    let text = reason.to_string();
    assert!(text.contains("bad crc of segment 0"), "{text}");
    assert!(text.contains("offset 26"), "{text}");
}

#[test]
fn wrong_banner_faults_with_a_clear_reason() {
    let now = std::time::Instant::now();
    let mut server = Protocol::new_server(mon_config(), socket(), now);
    server.handle_input(b"ceph v027\x00\x00\x00", now);
    let Some(Event::Reset(reason)) = server.poll_event() else {
        panic!()
    };
    assert!(reason.to_string().contains("msgr v1"), "{reason}");
    // A peer that requires a feature we lack: fatal even for a lossless connector (§1.3).
    let mut client = Protocol::new_client(
        lossless_client(),
        EntityType::OSD,
        &EntityAddrvec::single(v2("127.0.0.1:6800", 1)),
        now,
    )
    .unwrap();
    let mut banner = crate::frames::Banner {
        supported: 3,
        required: 2,
    }
    .encode()
    .to_vec();
    banner.truncate(26);
    client.handle_input(&banner, now);
    assert!(client.is_closed());
    assert!(matches!(
        client.poll_event(),
        Some(Event::Reset(FaultReason::Banner(_)))
    ));
}

#[test]
fn unexpected_frame_faults() {
    // SERVER_IDENT before auth: the client faults, naming the state (§4.3).
    let now = std::time::Instant::now();
    let addrs = EntityAddrvec::single(v2("127.0.0.1:3300", 0));
    let mut client = Protocol::new_client(client_config(), EntityType::MON, &addrs, now).unwrap();
    client.handle_input(&crate::frames::Banner::pacific().encode(), now);
    let ident = crate::protocol::control::ServerIdent {
        addrs,
        gid: 0,
        global_seq: 1,
        supported_features: Features::from_bits(1),
        required_features: Features::from_bits(1),
        flags: 1,
        cookie: 0,
    };
    use crate::protocol::control::ControlPayload;
    let bytes = crate::frames::assemble(&ident.to_frame(), crate::frames::Revision::Rev1).to_vec();
    client.handle_input(&bytes, now);
    let events: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
    let [Event::Faulted(reason)] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(
        reason.to_string(),
        "unexpected SERVER_IDENT in state HELLO_CONNECTING"
    );
    // A lossy connector retries after a backoff (Ceph's _fault during connect).
    assert_eq!(client.state_name(), "START_CONNECT");
    assert_eq!(
        client.poll_timeout(),
        Some(now + Duration::from_millis(200))
    );
}

#[test]
fn ident_missing_features() {
    let mut server = mon_config();
    server.policies = Policies::uniform(Policy::stateless_server(Features::from_bits(1 << 17)));
    let mut net = Net::new();
    let s = net.add_node(server);
    let c = net.add_node(client_config());
    let cc = net.connect(c, s, EntityType::MON);
    net.run();
    assert!(matches!(
        net.conns[cc].events.first(),
        Some(Event::Faulted(FaultReason::MissingFeatures(f))) if f.bits() == 1 << 17
    ));
}

#[test]
fn rev0_peer() {
    // A peer without REVISION_1 gets rev0 frames, and its rev0 frames are read (§1.3, §2.6).
    use crate::frames::{Banner, FrameDecoder, FrameLimits, Revision, assemble};
    use crate::protocol::auth::AuthNonePayload;
    use crate::protocol::control::{ControlPayload, Hello};
    let now = std::time::Instant::now();
    let cfg = mon_config();
    let mut server = Protocol::new_server(cfg.clone(), socket(), now);
    let mut input = Banner {
        supported: 0,
        required: 0,
    }
    .encode()
    .to_vec();
    let hello = Hello {
        entity_type: EntityType::CLIENT,
        peer_addr: cfg.addrs.front(),
    };
    input.extend(assemble(&hello.to_frame(), Revision::Rev0).to_vec());
    let auth = AuthNonePayload::Mon {
        name: "client.admin".parse().unwrap(),
        global_id: 0,
    };
    input.extend(assemble(&auth.to_request().to_frame(), Revision::Rev0).to_vec());
    server.handle_input(&input, now);
    let out: Vec<u8> = std::iter::from_fn(|| server.poll_transmit())
        .flat_map(|t| t.to_vec())
        .collect();
    let mut dec = FrameDecoder::new(Revision::Rev0, FrameLimits::default());
    let mut frames = Vec::new();
    dec.decode_all(&out[26..], &mut frames).unwrap();
    let tags: Vec<Tag> = frames.iter().map(|f| f.tag()).collect();
    assert_eq!(tags, [Tag::Hello, Tag::AuthDone, Tag::AuthSignature]);
    assert_eq!(server.state_name(), "AUTH_ACCEPTING_SIGN");
}
