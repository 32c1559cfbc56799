//! The decision tables of §4.9 (CLIENT_IDENT) and §4.10 (SESSION_RECONNECT), row by row, on
//! an existing connection set up by hand.

use std::time::Instant;

use super::*;
use crate::protocol::conn::{State, Step};
use crate::protocol::control::SessionReconnect;
use crate::protocol::{FaultReason, LookupRequest, Protocol, SessionLookup, Verdict};

const ME: &str = "127.0.0.2:3300";

/// An existing connection from us (ME) to a peer at `peer`, READY, with the given session.
fn existing(policy: Policy, peer: &str, cookies: (u64, u64), pgs: u64, cs: u64) -> Protocol {
    let mut cfg = Config::new(EntityName::new(EntityType::MON, "me"));
    cfg.addrs = EntityAddrvec::single(v2(ME, 0));
    cfg.policies = Policies::uniform(policy);
    let addrs = EntityAddrvec::single(v2(peer, 0));
    let mut p = Protocol::new_client(cfg, EntityType::MON, &addrs, Instant::now()).unwrap();
    p.session.client_cookie = cookies.0;
    p.session.server_cookie = cookies.1;
    p.session.peer_global_seq = pgs;
    p.session.connect_seq = cs;
    p.set_step(Step::Ready);
    p
}

fn ident(peer: &str, cookie: u64, gs: u64) -> SessionLookup {
    SessionLookup {
        peer_addrs: EntityAddrvec::single(v2(peer, 0)),
        my_addr: v2(ME, 0),
        request: LookupRequest::Ident {
            client_cookie: cookie,
            global_seq: gs,
        },
    }
}

fn reconnect(peer: &str, cookies: (u64, u64), gs: u64, cs: u64) -> SessionLookup {
    let addrs = EntityAddrvec::single(v2(peer, 0));
    SessionLookup {
        peer_addrs: addrs.clone(),
        my_addr: v2(ME, 0),
        request: LookupRequest::Reconnect(SessionReconnect {
            addrs,
            client_cookie: cookies.0,
            server_cookie: cookies.1,
            global_seq: gs,
            connect_seq: cs,
            msg_seq: 0,
        }),
    }
}

fn name(v: &Verdict) -> String {
    match v {
        Verdict::Reuse(h) => format!("Reuse(reset={})", h.1),
        other => format!("{other:?}"),
    }
}

fn judge(p: &mut Protocol, l: &SessionLookup) -> String {
    name(&p.judge(l, Instant::now()))
}

const LOW: &str = "127.0.0.1:3300"; // sorts below ME
const HIGH: &str = "127.0.0.3:3300"; // sorts above ME

#[test]
fn client_ident_rows_4_9() {
    let peer = Policy::lossless_peer(Features::EMPTY);
    // Row 1: a closed existing connection is no session at all.
    let mut p = existing(peer, LOW, (1, 2), 5, 0);
    p.close();
    assert_eq!(judge(&mut p, &ident(LOW, 1, 6)), "NoSession");
    // Row 3: the newcomer's global_seq is older than the session's.
    let mut p = existing(peer, LOW, (1, 2), 5, 0);
    assert_eq!(judge(&mut p, &ident(LOW, 1, 4)), "Stale");
    assert!(p.is_ready(), "the existing one is untouched");
    // Row 4: a lossy existing connection is thrown out.
    let mut p = existing(Policy::lossy_client(Features::EMPTY), LOW, (0, 0), 5, 0);
    assert_eq!(judge(&mut p, &ident(LOW, 0, 6)), "NoSession");
    assert!(p.is_closed());
    assert!(matches!(
        p.poll_event(),
        Some(Event::Reset(FaultReason::Superseded))
    ));
    // Row 5: both cookies and a different client cookie: the peer restarted.
    let mut p = existing(Policy::stateful_server(Features::EMPTY), LOW, (1, 2), 5, 3);
    assert_eq!(judge(&mut p, &ident(LOW, 9, 6)), "Reuse(reset=true)");
    assert!(matches!(p.poll_event(), Some(Event::Replaced)));
    let mut p = existing(peer, LOW, (1, 2), 5, 3);
    assert_eq!(
        judge(&mut p, &ident(LOW, 9, 6)),
        "Reuse(reset=false)",
        "no resetcheck"
    );
    // Row 6: same cookie: establishment was interrupted.
    let mut p = existing(peer, LOW, (1, 0), 0, 0);
    p.set_step(Step::SessionConnecting);
    assert_eq!(judge(&mut p, &ident(LOW, 1, 6)), "Reuse(reset=false)");
    // Row 7: READY or STANDBY.
    let mut p = existing(peer, LOW, (1, 0), 0, 0);
    assert_eq!(judge(&mut p, &ident(HIGH, 7, 6)), "Reuse(reset=false)");
    let mut p = existing(peer, LOW, (1, 0), 0, 0);
    p.state = State::Standby;
    assert_eq!(judge(&mut p, &ident(HIGH, 7, 6)), "Reuse(reset=false)");
    // Row 8: a race; the lower address wins, or a server existing connection.
    let mut p = existing(peer, LOW, (1, 0), 0, 0);
    p.set_step(Step::SessionConnecting);
    assert_eq!(judge(&mut p, &ident(LOW, 7, 6)), "Reuse(reset=false)");
    let mut p = existing(peer, HIGH, (1, 0), 0, 0);
    p.set_step(Step::SessionConnecting);
    assert_eq!(judge(&mut p, &ident(HIGH, 7, 6)), "Wait");
    assert!(!p.is_closed(), "the existing dial goes on");
    let mut p = existing(Policy::stateful_server(Features::EMPTY), HIGH, (1, 0), 0, 0);
    p.set_step(Step::SessionConnecting);
    assert_eq!(judge(&mut p, &ident(HIGH, 7, 6)), "Reuse(reset=false)");
}

#[test]
fn session_reconnect_rows_4_10() {
    let peer = Policy::lossless_peer(Features::EMPTY);
    // Row 2: closed.
    let mut p = existing(peer, LOW, (1, 2), 5, 1);
    p.close();
    assert_eq!(
        judge(&mut p, &reconnect(LOW, (1, 2), 6, 1)),
        "Reset { full: true }"
    );
    // Row 4: another client cookie: we reset that session; full if resetcheck.
    let mut p = existing(peer, LOW, (1, 2), 5, 1);
    assert_eq!(
        judge(&mut p, &reconnect(LOW, (9, 2), 6, 1)),
        "Reset { full: false }"
    );
    let mut p = existing(Policy::stateful_server(Features::EMPTY), LOW, (1, 2), 5, 1);
    assert_eq!(
        judge(&mut p, &reconnect(LOW, (9, 2), 6, 1)),
        "Reset { full: true }"
    );
    // Row 5: we never got SERVER_IDENT.
    let mut p = existing(peer, LOW, (1, 0), 5, 1);
    assert_eq!(
        judge(&mut p, &reconnect(LOW, (1, 2), 6, 1)),
        "Reset { full: false }"
    );
    // Row 6: an older global_seq.
    let mut p = existing(peer, LOW, (1, 2), 5, 1);
    assert_eq!(
        judge(&mut p, &reconnect(LOW, (1, 2), 4, 1)),
        "RetryGlobal(5)"
    );
    // Row 7: an older connect_seq.
    let mut p = existing(peer, LOW, (1, 2), 5, 3);
    assert_eq!(judge(&mut p, &reconnect(LOW, (1, 2), 6, 2)), "Retry(3)");
    // Row 8: both reconnecting: the higher peer address waits.
    let mut p = existing(peer, HIGH, (1, 2), 5, 3);
    assert_eq!(judge(&mut p, &reconnect(HIGH, (1, 2), 6, 3)), "Wait");
    let mut p = existing(peer, LOW, (1, 2), 5, 3);
    assert_eq!(
        judge(&mut p, &reconnect(LOW, (1, 2), 6, 3)),
        "Reuse(reset=false)"
    );
    // Row 9: accepted; the session moves.
    let mut p = existing(peer, HIGH, (1, 2), 5, 3);
    assert_eq!(
        judge(&mut p, &reconnect(HIGH, (1, 2), 6, 4)),
        "Reuse(reset=false)"
    );
    assert!(p.is_closed());
}

#[test]
fn address_order_is_cephs() {
    use crate::protocol::addr_cmp;
    use std::cmp::Ordering;
    assert_eq!(addr_cmp(&v2(LOW, 0), &v2(ME, 0)), Ordering::Less);
    assert_eq!(addr_cmp(&v2(HIGH, 0), &v2(ME, 0)), Ordering::Greater);
    // The port is compared big-endian, as in the sockaddr.
    assert_eq!(
        addr_cmp(&v2("127.0.0.1:256", 0), &v2("127.0.0.1:1", 0)),
        Ordering::Greater
    );
    // The nonce is compared as little-endian bytes (a memcmp), before the address.
    assert_eq!(addr_cmp(&v2(HIGH, 256), &v2(LOW, 1)), Ordering::Less);
}
