//! A session handed over between connections on different workers (§4.9 reuse, §4.10 row 9):
//! the existing connection is judged on its worker and gives its session up at once; the
//! verdict carrying it reaches the new connection later ([`Net::defer_verdicts`]). Nothing
//! may be lost in that window: not the session, not what is sent meanwhile, and a newcomer
//! must not be told the session is gone.
//!
//! Each test: lossless peers a and b, one session (dialled by a), b's message "b1" delivered,
//! the link broken (both ends idle in STANDBY), then a has "a1" to send and reconnects; b's
//! new acceptor `y` gets the session of b's old connection, the verdict held back.

use std::time::Duration;

use super::session::{dump, peer_config, settle};
use super::*;
use crate::frames::Tag;
use crate::protocol::pair::{Action, Dir};

/// Runs up to the held-back hand-over; returns the net, a's connection and b's acceptor `y`.
fn handoff_in_flight() -> (Net, usize, usize) {
    let mut net = Net::new();
    let a = net.add_node(peer_config("127.0.0.1:3300", "a"));
    let b = net.add_node(peer_config("127.0.0.2:3300", "b"));
    net.interceptor
        .at(Dir::S2C, Tag::SessionReset, 0, Action::Pass);
    net.interceptor
        .at(Dir::S2C, Tag::SessionRetryGlobal, 0, Action::Pass);
    let ab = net.connect(a, b, EntityType::MON);
    net.run();
    let ba = net.live(b)[0];
    net.conns[ba].proto.send_message(msg(b"b1"), net.now);
    net.run();
    net.break_link(net.link_of(ab).unwrap());
    net.run();
    assert_eq!(net.conns[ba].proto.state_name(), "STANDBY");

    net.defer_verdicts = true;
    net.conns[ab].proto.send_message(msg(b"a1"), net.now);
    net.run();
    assert!(
        net.conns[ba].proto.is_closed(),
        "b's old connection gave its session up"
    );
    let y = net.live(b)[0];
    assert_eq!(net.conns[y].proto.state_name(), "SESSION_ACCEPTING");
    // The messenger forwards what is sent on the replaced connection to `y`.
    net.conns[y].proto.send_message(msg(b"b2"), net.now);
    (net, ab, y)
}

/// Everything arrived once, in order, and the session was never reset.
fn assert_nothing_lost(net: &mut Net) {
    let (ready, at_a, at_b) = settle(net);
    dump(net);
    assert_eq!(ready.len(), 2, "one session, READY at both ends: {ready:?}");
    assert_eq!(at_a, vec![b"b1".to_vec(), b"b2".to_vec()]);
    assert_eq!(at_b, vec![b"a1".to_vec()]);
    assert_eq!(net.interceptor.seen(Dir::S2C, Tag::SessionReset), 0);
    for id in 0..net.conns.len() {
        assert_eq!(count(net, id, |e| matches!(e, Event::RemoteReset)), 0);
    }
}

#[test]
fn sends_forwarded_before_the_session_arrives_are_kept() {
    let (mut net, _, _) = handoff_in_flight();
    assert_eq!(net.deliver_verdicts(), 1);
    net.defer_verdicts = false;
    assert_nothing_lost(&mut net);
}

#[test]
fn transport_lost_while_the_session_travels() {
    // y's transport fails before the verdict arrives: y must still take the session (and
    // then dial a, having b2 to send), not close and drop it.
    let (mut net, _, y) = handoff_in_flight();
    net.break_link(net.link_of(y).unwrap());
    net.run();
    assert!(!net.conns[y].proto.is_closed(), "y waits for its verdict");
    assert_eq!(net.deliver_verdicts(), 1);
    assert!(!net.conns[y].proto.is_closed(), "y took the session over");
    net.defer_verdicts = false;
    assert_nothing_lost(&mut net);
}

#[test]
fn a_newcomer_while_the_session_travels_retries() {
    // a's reconnect attempt to y breaks; a dials again and b's next acceptor finds y, the
    // registered holder, still waiting for the session: "being replaced" (§4.10 row 3), so
    // a retries with a new global_seq, instead of being told the session is gone.
    let (mut net, _, y) = handoff_in_flight();
    net.break_link(net.link_of(y).unwrap());
    net.advance(Duration::from_secs(1));
    let pending = net.deliver_verdicts();
    assert_eq!(pending, 2, "y's hand-over and the newcomer's verdict");
    net.defer_verdicts = false;
    assert_nothing_lost(&mut net);
    assert_eq!(net.interceptor.seen(Dir::S2C, Tag::SessionRetryGlobal), 1);
}
