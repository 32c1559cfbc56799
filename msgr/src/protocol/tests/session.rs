//! Session semantics (§4.6-§4.11) on the Net harness: reconnect and replay, resets, retries,
//! standby, and the races of §4.9 and §4.10.

use std::time::Duration;

use super::*;
use crate::frames::Tag;
use crate::protocol::FaultReason;
use crate::protocol::pair::{Action, Dir};

fn fronts(range: std::ops::Range<u8>) -> Vec<Vec<u8>> {
    range.map(|i| vec![i]).collect()
}

fn lossless_pair() -> (Net, usize, usize) {
    mon_pair(
        stateful_server("127.0.0.1:6800"),
        lossless_client(),
        EntityType::OSD,
    )
}

/// The server-side connection now holding the session.
fn server_conn(net: &Net) -> usize {
    let live = net.live(0);
    assert_eq!(live.len(), 1, "one live server connection: {live:?}");
    live[0]
}

#[test]
fn lossy_fault_is_a_reset_without_reconnect() {
    let (mut net, cc, sc) = mon_pair(mon_config(), client_config(), EntityType::MON);
    net.interceptor.at(Dir::C2S, Tag::Message, 2, Action::Fault);
    for i in 0..4u8 {
        net.conns[cc].proto.send_message(msg(&[i]), net.now);
    }
    net.run();
    assert_eq!(net.take_messages(sc), fronts(0..1));
    for id in [cc, sc] {
        assert!(net.conns[id].proto.is_closed());
        assert!(matches!(
            net.conns[id].events.last(),
            Some(Event::Reset(FaultReason::TransportClosed))
        ));
    }
    assert_eq!(net.conns[cc].proto.queue_lens(), (0, 0), "queues dropped");
    net.advance(Duration::from_secs(30));
    assert_eq!(net.conns.len(), 2, "no reconnect");
    net.conns[cc].proto.send_message(msg(b"late"), net.now);
    assert_eq!(
        net.conns[cc].proto.queue_lens(),
        (0, 0),
        "dropped once closed"
    );
}

#[test]
fn lossless_reconnect_replays_unacked_messages() {
    let (mut net, cc, sc) = lossless_pair();
    // Lose the link just before the 3rd message; the server ACKed nothing yet (it gets no
    // chance to write between the frames).
    net.interceptor.at(Dir::C2S, Tag::Message, 3, Action::Fault);
    for i in 0..5u8 {
        net.conns[cc].proto.send_message(msg(&[i]), net.now);
    }
    net.run();
    let sc2 = server_conn(&net);
    assert_ne!(sc, sc2, "the session moved to the new acceptor");
    assert!(matches!(net.conns[sc].events.last(), Some(Event::Replaced)));
    assert_eq!(net.take_messages(sc), fronts(0..2));
    assert_eq!(
        net.take_messages(sc2),
        fronts(2..5),
        "replayed once, in order"
    );
    let events = &net.conns[cc].events;
    assert!(matches!(
        events[1],
        Event::Faulted(FaultReason::TransportClosed)
    ));
    assert!(matches!(events[2], Event::Connected { resumed: true, .. }));
    assert_eq!(net.conns[cc].proto.session_ids().0, 1, "connect_seq");
    assert_eq!(net.conns[cc].proto.seqs(), (5, 0));
    assert_eq!(net.conns[sc2].proto.seqs(), (0, 5));
    assert_eq!(net.conns[cc].proto.queue_lens(), (0, 0), "all acked");
}

#[test]
fn reconnect_ok_discards_what_the_peer_already_has() {
    let (mut net, cc, _) = lossless_pair();
    // The server's ACK is lost, then the link breaks: the client still holds 0..3 as
    // unacknowledged, but RECONNECT_OK(3) tells it the server has them (§4.8).
    net.interceptor.at(Dir::S2C, Tag::Ack, 0, Action::Drop);
    for i in 0..3u8 {
        net.conns[cc].proto.send_message(msg(&[i]), net.now);
    }
    net.run();
    assert_eq!(net.conns[cc].proto.queue_lens(), (0, 3));
    let link = net.link_of(cc).unwrap();
    net.break_link(link);
    net.interceptor = Default::default();
    net.run();
    net.conns[cc].proto.send_message(msg(&[3]), net.now);
    net.run();
    let all: Vec<_> = (0..net.conns.len())
        .flat_map(|id| net.take_messages(id))
        .collect();
    assert_eq!(all, fronts(0..4), "no duplicates");
    assert_eq!(net.conns[cc].proto.queue_lens(), (0, 0));
}

#[test]
fn server_standby_keeps_its_queue() {
    // A stateful server never dials out: after a fault it waits in STANDBY with its queue
    // until the client comes back (§4.8).
    let (mut net, cc, sc) = lossless_pair();
    // Hold the client's next HELLO: it cannot get back in.
    net.interceptor.at(Dir::C2S, Tag::Hello, 1, Action::Stall);
    let link = net.link_of(cc).unwrap();
    net.break_link(link);
    net.run();
    assert_eq!(net.conns[sc].proto.state_name(), "STANDBY");
    net.conns[sc]
        .proto
        .send_message(msg(b"queued in standby"), net.now);
    net.run();
    assert_eq!(
        net.conns[sc].proto.state_name(),
        "STANDBY",
        "a server does not dial"
    );
    assert_eq!(net.conns[sc].proto.queue_lens(), (1, 0));
    net.release(Dir::C2S);
    net.run();
    assert_eq!(net.take_messages(cc), vec![b"queued in standby".to_vec()]);
    assert!(net.conns[cc].proto.is_ready());
}

#[test]
fn idle_peer_waits_in_standby_until_it_has_something_to_send() {
    // lossless_peer has `standby`: with nothing to send a fault parks both ends (§4.8).
    let mut net = Net::new();
    let a = net.add_node(peer_config("127.0.0.1:3300", "a"));
    let b = net.add_node(peer_config("127.0.0.2:3300", "b"));
    let ab = net.connect(a, b, EntityType::MON);
    net.run();
    let ba = net.live(b)[0];
    let link = net.link_of(ab).unwrap();
    net.break_link(link);
    net.advance(Duration::from_secs(60));
    assert_eq!(net.conns[ab].proto.state_name(), "STANDBY");
    assert_eq!(net.conns[ba].proto.state_name(), "STANDBY");
    assert_eq!(net.conns.len(), 2, "nobody dialled");
    net.conns[ab].proto.send_message(msg(b"wake"), net.now);
    net.run();
    assert!(net.conns[ab].proto.is_ready());
    let holder = net.live(b)[0];
    assert_eq!(net.take_messages(holder), vec![b"wake".to_vec()]);
    assert_eq!(net.conns[ab].proto.session_ids().0, 1, "connect_seq");
}

#[test]
fn session_reset_when_the_server_forgot() {
    let (mut net, cc, sc) = lossless_pair();
    net.conns[cc].proto.send_message(msg(&[0]), net.now);
    net.run();
    assert_eq!(net.take_messages(sc), fronts(0..1));
    // The server restarts: it has no session for the client any more. The client notices
    // the transport closing while [1] is queued.
    net.conns[sc].proto.close();
    net.conns[cc].proto.send_message(msg(&[1]), net.now);
    net.run();
    let sc2 = server_conn(&net);
    let events = &net.conns[cc].events;
    assert!(
        events.iter().any(|e| matches!(e, Event::RemoteReset)),
        "{events:?}"
    );
    assert!(matches!(
        events.last(),
        Some(Event::Connected { resumed: false, .. })
    ));
    // The message queued before the reset was dropped with the session (§4.3).
    assert_eq!(net.take_messages(sc2), Vec::<Vec<u8>>::new());
    net.conns[cc].proto.send_message(msg(&[2]), net.now);
    net.run();
    assert_eq!(net.take_messages(sc2), fronts(2..3));
    assert_eq!(
        net.conns[cc].proto.seqs().0,
        1,
        "a new session starts at seq 1"
    );
}

#[test]
fn session_retry_global() {
    let (mut net, cc, sc) = lossless_pair();
    // The client messenger's counter went backwards (§4.10 row 6).
    net.conns[cc].proto.cfg.shared = SharedState::new(9, 1);
    net.conns[sc].proto.session.peer_global_seq = 50;
    net.conns[cc].proto.send_message(msg(&[0]), net.now);
    let link = net.link_of(cc).unwrap();
    net.break_link(link);
    net.run();
    let sc2 = server_conn(&net);
    assert_eq!(net.take_messages(sc2), fronts(0..1));
    assert_eq!(
        net.conns[cc].proto.global_seq, 51,
        "raised past the server's"
    );
    assert_eq!(net.conns[sc2].proto.session.peer_global_seq, 51);
}

#[test]
fn session_retry() {
    let (mut net, cc, sc) = lossless_pair();
    net.conns[sc].proto.session.connect_seq = 5;
    let link = net.link_of(cc).unwrap();
    net.break_link(link);
    net.conns[cc].proto.send_message(msg(&[0]), net.now);
    net.run();
    let sc2 = server_conn(&net);
    assert_eq!(net.take_messages(sc2), fronts(0..1));
    assert_eq!(
        net.conns[cc].proto.session_ids().0,
        6,
        "SESSION_RETRY(5) → 6"
    );
    assert_eq!(net.conns[sc2].proto.session_ids().0, 6);
}

#[test]
fn interrupted_establishment_resumes() {
    // SERVER_IDENT is lost with the link (§4.9 row 6): the client retries with the same
    // cookie after a backoff and the server reuses the session it had begun.
    let mut net = Net::new();
    let s = net.add_node(stateful_server("127.0.0.1:6800"));
    let c = net.add_node(lossless_client());
    net.interceptor
        .at(Dir::S2C, Tag::ServerIdent, 1, Action::Fault);
    let cc = net.connect(c, s, EntityType::OSD);
    net.conns[cc].proto.send_message(msg(&[0]), net.now);
    net.run();
    assert_eq!(net.conns[cc].proto.state_name(), "START_CONNECT");
    let sc = net.live(s)[0];
    net.conns[sc].proto.send_message(msg(&[9]), net.now);
    net.advance(Duration::from_millis(250));
    let sc2 = server_conn(&net);
    assert!(net.conns[cc].proto.is_ready());
    assert_eq!(net.take_messages(sc2), fronts(0..1));
    assert_eq!(
        net.take_messages(cc),
        fronts(9..10),
        "the server's queue survived"
    );
}

#[test]
fn peer_restart_resets_the_old_session() {
    // A new client instance (new cookie) reaches a server holding a session for the same
    // addresses (§4.9 row 5, resetcheck).
    let (mut net, cc, sc) = lossless_pair();
    net.conns[sc]
        .proto
        .send_message(msg(b"for the old instance"), net.now);
    net.interceptor.at(Dir::S2C, Tag::Message, 1, Action::Stall);
    net.run();
    net.conns[cc].proto.close();
    net.run();
    let mut cfg = lossless_client();
    cfg.shared = SharedState::new(99, 1);
    net.nodes[1].cfg = cfg;
    let cc2 = net.connect(1, 0, EntityType::OSD);
    net.release(Dir::S2C);
    net.run();
    let sc2 = server_conn(&net);
    assert!(net.conns[cc2].proto.is_ready());
    let events = &net.conns[sc2].events;
    assert!(
        events.iter().any(|e| matches!(e, Event::RemoteReset)),
        "{events:?}"
    );
    assert_eq!(
        net.take_messages(cc2),
        Vec::<Vec<u8>>::new(),
        "old queue dropped"
    );
}

#[test]
fn stale_connection_is_closed() {
    // A connection with an older global_seq than the session's (§4.9 row 3).
    let (mut net, _cc, sc) = lossless_pair();
    net.conns[sc].proto.session.peer_global_seq = 1000;
    let cc2 = net.connect(1, 0, EntityType::OSD);
    net.run();
    let newest = *net.live(0).last().unwrap();
    assert_eq!(newest, sc, "the newcomer was closed");
    assert!(!net.conns[cc2].proto.is_ready());
    let closed = net.conns.len() - 1;
    assert!(matches!(
        net.conns[closed].events.last(),
        Some(Event::Reset(FaultReason::Stale))
    ));
}

pub(super) fn peer_config(ip: &str, id: &str) -> Config {
    let mut cfg = Config::new(EntityName::new(EntityType::MON, id));
    cfg.gid = 0;
    cfg.addrs = EntityAddrvec::single(v2(ip, 0));
    cfg.policies = Policies::uniform(Policy::lossless_peer(Features::EMPTY));
    cfg.shared = SharedState::new(u64::from(id.as_bytes()[0]), 1);
    cfg
}

/// Node 0 and node 1 connections that are READY, and the messages each received.
pub(super) fn settle(net: &mut Net) -> (Vec<usize>, Vec<Vec<u8>>, Vec<Vec<u8>>) {
    net.advance(Duration::from_secs(40));
    let ready: Vec<usize> = (0..net.conns.len())
        .filter(|&i| net.conns[i].proto.is_ready())
        .collect();
    let mut at = [Vec::new(), Vec::new()];
    for id in 0..net.conns.len() {
        let node = net.conns[id].node;
        at[node].extend(net.take_messages(id));
    }
    let [a, b] = at;
    (ready, a, b)
}

#[test]
fn connection_race_leaves_one_session() {
    // Both peers dial each other at once (§4.9 row 8).
    for max_chunk in [1, 5, 1000] {
        let mut net = Net::new();
        net.max_chunk = max_chunk;
        let a = net.add_node(peer_config("127.0.0.1:3300", "a"));
        let b = net.add_node(peer_config("127.0.0.2:3300", "b"));
        let ab = net.connect(a, b, EntityType::MON);
        let ba = net.connect(b, a, EntityType::MON);
        net.conns[ab].proto.send_message(msg(b"from a"), net.now);
        net.conns[ba].proto.send_message(msg(b"from b"), net.now);
        let (ready, at_a, at_b) = settle(&mut net);
        dump(&net);
        assert_eq!(ready.len(), 2, "one connection, both ends READY: {ready:?}");
        assert_eq!(at_a, vec![b"from b".to_vec()], "chunk {max_chunk}");
        assert_eq!(at_b, vec![b"from a".to_vec()], "chunk {max_chunk}");
    }
}

#[test]
fn reconnect_race_converges() {
    // Both lossless peers reconnect after a fault (§4.10 row 8), each with messages queued.
    let mut net = Net::new();
    let a = net.add_node(peer_config("127.0.0.1:3300", "a"));
    let b = net.add_node(peer_config("127.0.0.2:3300", "b"));
    let ab = net.connect(a, b, EntityType::MON);
    net.run();
    let ba = net.live(b)[0];
    net.conns[ab].proto.send_message(msg(b"a1"), net.now);
    net.conns[ba].proto.send_message(msg(b"b1"), net.now);
    net.run();
    net.conns[ab].proto.send_message(msg(b"a2"), net.now);
    net.conns[ba].proto.send_message(msg(b"b2"), net.now);
    let link = net.link_of(ab).unwrap();
    net.break_link(link);
    let (ready, at_a, at_b) = settle(&mut net);
    assert_eq!(ready.len(), 2, "{ready:?}");
    assert_eq!(at_a, vec![b"b1".to_vec(), b"b2".to_vec()]);
    assert_eq!(at_b, vec![b"a1".to_vec(), b"a2".to_vec()]);
}

#[test]
fn connection_race_without_traffic() {
    // Nothing queued: the race still ends with one READY session (§4.9 row 8), the loser's
    // acceptor answering WAIT and poking the winner with a keepalive.
    let mut net = Net::new();
    let a = net.add_node(peer_config("127.0.0.1:3300", "a"));
    let b = net.add_node(peer_config("127.0.0.2:3300", "b"));
    net.connect(a, b, EntityType::MON);
    let ba = net.connect(b, a, EntityType::MON);
    let (ready, _, _) = settle(&mut net);
    assert_eq!(ready.len(), 2, "{ready:?}");
    assert!(matches!(net.conns[ba].events.as_slice(), [Event::Replaced]));
}

#[test]
fn wait_backs_off_to_the_maximum() {
    // a's CLIENT_IDENT is held back, so b's dial reaches a while a's own dial is still
    // establishing: b has the higher address, so a answers WAIT (§4.9 row 8) and b's
    // connector backs off for ms_max_backoff (§4.8). Once a's ident arrives, b's acceptor
    // lets it win and takes over b's session.
    let mut net = Net::new();
    let a = net.add_node(peer_config("127.0.0.1:3300", "a"));
    let b = net.add_node(peer_config("127.0.0.2:3300", "b"));
    let ab = net.connect(a, b, EntityType::MON);
    net.interceptor
        .at_conn(ab, Dir::C2S, Tag::ClientIdent, 1, Action::Stall);
    let ba = net.connect(b, a, EntityType::MON);
    net.conns[ba].proto.send_message(msg(b"from b"), net.now);
    net.run();
    assert!(
        matches!(
            net.conns[ba].events.as_slice(),
            [Event::Faulted(FaultReason::Wait)]
        ),
        "{:?}",
        net.conns[ba].events
    );
    assert_eq!(net.conns[ba].proto.state_name(), "START_CONNECT");
    assert_eq!(
        net.conns[ba].proto.poll_timeout(),
        Some(net.now + Duration::from_secs(15))
    );
    net.release(Dir::C2S);
    let (ready, at_a, _) = settle(&mut net);
    assert_eq!(ready.len(), 2, "{ready:?}");
    assert!(matches!(net.conns[ba].events.last(), Some(Event::Replaced)));
    assert_eq!(
        at_a,
        vec![b"from b".to_vec()],
        "b's queue moved with its session"
    );
}

pub(super) fn dump(net: &Net) {
    for (i, c) in net.conns.iter().enumerate() {
        eprintln!(
            "conn {i} node {} state {} events:",
            c.node,
            c.proto.state_name()
        );
        for e in &c.events {
            let text = format!("{e:?}");
            eprintln!("   {}", &text[..text.len().min(160)]);
        }
    }
}

#[test]
fn lost_server_ident_between_lossless_peers() {
    // §4.10 row 5: a dials b; b's SERVER_IDENT is lost with the link. b (READY, not a server)
    // reconnects to a with SESSION_RECONNECT; a never had a server cookie, so it answers
    // SESSION_RESET(false); b then sends CLIENT_IDENT, which a takes as its own interrupted
    // establishment (§4.9 row 6). One session results, and nothing is lost or doubled.
    let mut net = Net::new();
    let a = net.add_node(peer_config("127.0.0.1:3300", "a"));
    let b = net.add_node(peer_config("127.0.0.2:3300", "b"));
    net.interceptor
        .at(Dir::S2C, Tag::ServerIdent, 1, Action::Fault);
    net.interceptor
        .at(Dir::S2C, Tag::SessionReset, 0, Action::Pass);
    let ab = net.connect(a, b, EntityType::MON);
    net.conns[ab].proto.send_message(msg(b"from a"), net.now);
    net.run();
    let ba = net.live(b)[0];
    net.conns[ba].proto.send_message(msg(b"from b"), net.now);
    let (ready, at_a, at_b) = settle(&mut net);
    assert_eq!(net.interceptor.seen(Dir::S2C, Tag::SessionReset), 1);
    assert_eq!(ready.len(), 2, "{ready:?}");
    assert_eq!(at_a, vec![b"from b".to_vec()]);
    assert_eq!(at_b, vec![b"from a".to_vec()]);
}
