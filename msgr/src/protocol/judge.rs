//! The decisions a connection makes about a newcomer from the same peer (msgr2.md §4.9 for
//! CLIENT_IDENT, §4.10 for SESSION_RECONNECT): called on the *existing* connection by the
//! messenger, which hands the verdict to the new one.

use std::cmp::Ordering;
use std::time::Instant;

use tracing::info;

use super::FaultReason;
use super::conn::{Protocol, State, Step};
use super::event::{Event, LookupRequest, SessionHandoff, SessionLookup, Verdict};
use crate::wire::{AddrType, EntityAddr};

impl Protocol {
    /// Judges `lookup` (from a new connection's [`Event::SessionLookup`]) against this
    /// existing connection to the same peer, following §4.9 and §4.10 row by row. May close
    /// this connection (a lossy one is superseded) or hand its session over
    /// ([`Verdict::Reuse`]; this one then reports [`Event::Replaced`]).
    pub fn judge(&mut self, lookup: &SessionLookup, now: Instant) -> Verdict {
        let verdict = match &lookup.request {
            LookupRequest::Ident {
                client_cookie,
                global_seq,
            } => self.judge_ident(lookup, *client_cookie, *global_seq, now),
            LookupRequest::Reconnect(r) => self.judge_reconnect(lookup, r),
        };
        info!(state = self.state_name(), verdict = ?VerdictName(&verdict), "judged a newcomer");
        verdict
    }

    fn judge_ident(
        &mut self,
        lookup: &SessionLookup,
        cookie: u64,
        global_seq: u64,
        now: Instant,
    ) -> Verdict {
        if self.is_closed() {
            return Verdict::NoSession; // row 1
        }
        if self.takes_over() {
            return Verdict::Wait; // row 2
        }
        let s = &self.session;
        if s.peer_global_seq > global_seq {
            return Verdict::Stale; // row 3
        }
        if self.policy.lossy {
            // Row 4: throw the lossy one out in favour of the newcomer.
            self.stop();
            self.events.push_back(Event::Reset(FaultReason::Superseded));
            return Verdict::NoSession;
        }
        if s.server_cookie != 0 && s.client_cookie != 0 && s.client_cookie != cookie {
            // Row 5: the peer restarted.
            let reset = self.policy.resetcheck;
            if reset {
                self.session.reset();
            }
            return self.hand_over(reset);
        }
        if s.client_cookie == cookie {
            return self.hand_over(false); // row 6
        }
        let settled = matches!(
            self.state,
            State::Standby
                | State::Open {
                    step: Step::Ready,
                    ..
                }
        );
        if settled {
            return self.hand_over(false); // row 7
        }
        // Row 8: both sides dialled each other.
        let peer = lookup.peer_addrs.msgr2_addr().unwrap_or_default();
        if addr_cmp(&peer, &lookup.my_addr) == Ordering::Less || self.policy.server {
            self.hand_over(false)
        } else {
            self.send_keepalive(now);
            Verdict::Wait
        }
    }

    fn judge_reconnect(
        &mut self,
        lookup: &SessionLookup,
        r: &super::control::SessionReconnect,
    ) -> Verdict {
        if self.is_closed() {
            return Verdict::Reset { full: true }; // row 2
        }
        if self.takes_over() {
            return Verdict::RetryGlobal(self.session.peer_global_seq); // row 3
        }
        let s = &self.session;
        if s.client_cookie != r.client_cookie {
            return Verdict::Reset {
                full: self.policy.resetcheck,
            }; // row 4
        }
        if s.server_cookie == 0 {
            return Verdict::Reset { full: false }; // row 5
        }
        if s.peer_global_seq > r.global_seq {
            return Verdict::RetryGlobal(s.peer_global_seq); // row 6
        }
        if s.connect_seq > r.connect_seq {
            return Verdict::Retry(s.connect_seq); // row 7
        }
        if s.connect_seq == r.connect_seq {
            // Row 8: both sides reconnecting at once.
            let peer = lookup.peer_addrs.msgr2_addr().unwrap_or_default();
            if addr_cmp(&peer, &lookup.my_addr) == Ordering::Greater && !self.policy.server {
                return Verdict::Wait;
            }
        }
        self.hand_over(false) // row 9
    }

    /// Ceph's "existing is being replaced" (§4.9 row 2, §4.10 row 3): this acceptor's own
    /// lookup is unanswered, so the session it is to take over may be on its way from the
    /// connection it replaces (the messenger registers it as the session's holder from the
    /// hand-over on). The newcomer must come back once it has arrived.
    fn takes_over(&self) -> bool {
        matches!(
            self.state,
            State::AwaitingVerdict { .. }
                | State::Open {
                    step: Step::Lookup(_),
                    ..
                }
        )
    }

    /// Moves the session out (its unacknowledged messages requeued first, as Ceph's
    /// `reuse_connection` does) and closes this connection.
    fn hand_over(&mut self, reset: bool) -> Verdict {
        self.session.requeue_sent();
        let session = std::mem::take(&mut self.session);
        self.keepalive = None;
        self.close_transport();
        self.state = State::Closed;
        self.events.push_back(Event::Replaced);
        Verdict::Reuse(SessionHandoff(Box::new(session), reset))
    }
}

/// Orders addresses as Ceph's `entity_addr_t` comparison does (a `memcmp` of the struct:
/// type and nonce as little-endian `u32`, then the sockaddr with its family in host order and
/// the port big-endian), for the connection-race tie-breaks of §4.9 row 8 and §4.10 row 8.
pub fn addr_cmp(a: &EntityAddr, b: &EntityAddr) -> Ordering {
    ceph_key(a).cmp(&ceph_key(b))
}

fn ceph_key(a: &EntityAddr) -> Vec<u8> {
    let ty = match a.ty {
        AddrType::None => 0u32,
        other => other.as_u32(),
    };
    let mut key = Vec::with_capacity(36);
    key.extend_from_slice(&ty.to_le_bytes());
    key.extend_from_slice(&a.nonce.to_le_bytes());
    match a.sockaddr {
        None => key.extend_from_slice(&0u16.to_le_bytes()),
        Some(std::net::SocketAddr::V4(v4)) => {
            key.extend_from_slice(&2u16.to_le_bytes());
            key.extend_from_slice(&v4.port().to_be_bytes());
            key.extend_from_slice(&v4.ip().octets());
        }
        Some(std::net::SocketAddr::V6(v6)) => {
            key.extend_from_slice(&10u16.to_le_bytes());
            key.extend_from_slice(&v6.port().to_be_bytes());
            key.extend_from_slice(&v6.flowinfo().to_be_bytes());
            key.extend_from_slice(&v6.ip().octets());
        }
    }
    key
}

/// Logs a verdict without its session.
struct VerdictName<'a>(&'a Verdict);

impl std::fmt::Debug for VerdictName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Verdict::Reuse(_) => f.write_str("Reuse"),
            other => write!(f, "{other:?}"),
        }
    }
}
