//! Our own connector and acceptor run against each other in memory: a lossless session with a
//! reconnect, recorded for seeds (the captured Ceph sessions are all lossy, so they never
//! reach SESSION_RECONNECT), and the existing connection that the server target's
//! [`OPT1_EXISTING`](crate::drive::OPT1_EXISTING) mode judges newcomers against.
//!
//! Everything is deterministic: the configurations come from [`drive::config`] with fixed
//! [`SharedState`](msgr::protocol::SharedState) seeds, so a fuzzed protocol configured the same
//! way behaves as the recorded one did.

use std::time::Instant;

use bytes::Bytes;
use msgr::messages::{CEPH_MSG_PING, MsgHeader2, RawMessage};
use msgr::protocol::{Config, Event, Protocol, Transmit, Verdict};

use crate::drive::{self, OPT_MGR, OPTION_BYTES, Role};

/// The options of the recorded client: a lossless client of the mon (or the mgr).
pub fn client_options(mgr: bool) -> [u8; OPTION_BYTES] {
    [if mgr { OPT_MGR } else { 0 } | (1 << 2), 0]
}

fn ping(n: u64) -> RawMessage {
    let mut header = MsgHeader2::new(CEPH_MSG_PING, 1, 0);
    header.tid = n;
    RawMessage::new(header, Bytes::from(n.to_le_bytes().to_vec()))
}

fn discard(p: &mut Protocol) {
    while p.poll_transmit().is_some() || p.poll_event().is_some() {}
}

/// Moves bytes both ways until neither side has more to say, recording them. The acceptor's
/// auth requests are accepted; its first lookup is answered with `answer` if given, the
/// others with `existing`'s judgement, or `NoSession`.
fn exchange(
    c: &mut Protocol,
    s: &mut Protocol,
    now: Instant,
    wire: (&mut Vec<u8>, &mut Vec<u8>),
    mut existing: Option<&mut Protocol>,
    mut answer: Option<Verdict>,
) {
    let (c2s, s2c) = wire;
    for _ in 0..1000 {
        let mut moved = false;
        while let Some(t) = c.poll_transmit() {
            if let Transmit::Banner(_) | Transmit::Frame { .. } = t {
                let bytes = t.to_vec();
                c2s.extend_from_slice(&bytes);
                s.handle_input(&bytes, now);
                moved = true;
            }
        }
        while let Some(t) = s.poll_transmit() {
            if let Transmit::Banner(_) | Transmit::Frame { .. } = t {
                let bytes = t.to_vec();
                s2c.extend_from_slice(&bytes);
                c.handle_input(&bytes, now);
                moved = true;
            }
        }
        while let Some(e) = s.poll_event() {
            match e {
                Event::AuthRequest(info) => s.accept_auth(info.payload.global_id().max(1), now),
                Event::SessionLookup(lookup) => {
                    let verdict = answer
                        .take()
                        .unwrap_or_else(|| match existing.as_deref_mut() {
                            Some(x) => {
                                let v = x.judge(&lookup, now);
                                discard(x);
                                v
                            }
                            None => Verdict::NoSession,
                        });
                    s.resolve_lookup(verdict, now);
                }
                _ => {}
            }
            moved = true;
        }
        while c.poll_event().is_some() {}
        if !moved {
            return;
        }
    }
}

/// What each side wrote on one transport.
#[derive(Debug, Clone, Default)]
pub struct Wire {
    /// Client to server.
    pub c2s: Vec<u8>,
    /// Server to client.
    pub s2c: Vec<u8>,
}

/// A session between the [`client_options`] client and an acceptor with `server_cfg`:
/// handshake, messages both ways, a keepalive. Returns both sides, still connected.
pub fn first_transport(server_cfg: &Config, mgr: bool, now: Instant) -> (Protocol, Protocol, Wire) {
    let (cfg, peer_type, addr) = drive::config(Role::Client, client_options(mgr));
    let mut c = drive::new_protocol(Role::Client, cfg, peer_type, addr, now);
    let mut s = Protocol::new_server(server_cfg.clone(), drive::peer_socket(), now);
    let mut w = Wire::default();
    c.send_message(ping(1), now);
    exchange(&mut c, &mut s, now, (&mut w.c2s, &mut w.s2c), None, None);
    s.send_message(ping(2), now);
    c.send_message(ping(3), now);
    c.send_keepalive(now);
    exchange(&mut c, &mut s, now, (&mut w.c2s, &mut w.s2c), None, None);
    (c, s, w)
}

/// The existing connection of [`OPT1_EXISTING`](crate::drive::OPT1_EXISTING):
/// [`first_transport`]'s acceptor after its transport broke (STANDBY for a lossless policy,
/// closed for a lossy one).
pub fn existing(server_cfg: &Config, mgr: bool, now: Instant) -> Protocol {
    let (_, mut s, _) = first_transport(server_cfg, mgr, now);
    s.handle_transport_closed(now);
    discard(&mut s);
    s
}

/// [`first_transport`], then the transport breaks and the client reconnects to a new acceptor
/// with the same configuration, whose lookup is answered with `answer`, or else judged by the
/// first acceptor (§4.10). Returns both transports' bytes.
pub fn reconnect(
    server_cfg: &Config,
    mgr: bool,
    answer: Option<Verdict>,
    now: Instant,
) -> [Wire; 2] {
    let (mut c, mut s1, first) = first_transport(server_cfg, mgr, now);
    c.handle_transport_closed(now);
    s1.handle_transport_closed(now);
    discard(&mut s1);
    let mut s2 = Protocol::new_server(server_cfg.clone(), drive::peer_socket(), now);
    let mut second = Wire::default();
    exchange(
        &mut c,
        &mut s2,
        now,
        (&mut second.c2s, &mut second.s2c),
        Some(&mut s1),
        answer,
    );
    [first, second]
}
