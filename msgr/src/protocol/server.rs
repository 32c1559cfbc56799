//! The acceptor's handshake (msgr2.md §4.4): HELLO, the server side of auth none (§3.4.2,
//! §3.4.3), AUTH_SIGNATURE (§3.5), then CLIENT_IDENT or SESSION_RECONNECT and the answer the
//! messenger's lookup decides (§4.9, §4.10, in `judge.rs`).

use std::time::Instant;

use tracing::{debug, info, warn};

use super::FaultReason;
use super::auth::{AuthNonePayload, AuthRefusal, check_request};
use super::config::AuthDecision;
use super::conn::{Pending, Protocol, State, Step};
use super::control::{
    AUTH_METHOD_NONE, AuthBadMethod, AuthDone, AuthRequest, AuthSignature, CON_MODE_CRC,
    CONNECT_LOSSY, ClientIdent, Hello, IdentMissingFeatures, ServerIdent, SessionReconnect,
    SessionReconnectOk, SessionReset, SessionRetry, SessionRetryGlobal, Wait,
};
use super::event::{AuthRequestInfo, Event, PeerInfo, SessionLookup, Verdict};
use super::ready::payload;
use crate::frames::{Frame, Tag};
use crate::wire::{AddrType, EntityAddr, EntityNameT};

impl Protocol {
    /// Handles a frame received during the acceptor's handshake.
    pub(super) fn server_frame(
        &mut self,
        step: Step,
        frame: &Frame,
        now: Instant,
    ) -> Result<Step, FaultReason> {
        match (step, frame.tag()) {
            (Step::HelloAccepting, Tag::Hello) => {
                let hello: Hello = payload(frame)?;
                self.peer_type = Some(hello.entity_type);
                self.policy = self.cfg.policies.policy_for(hello.entity_type);
                debug!(peer_type = %hello.entity_type, lossy = self.policy.lossy, "HELLO");
                Ok(Step::AuthAccepting)
            }
            (Step::AuthAccepting, Tag::AuthRequest) => self.auth_request(payload(frame)?, now),
            (Step::AuthAccepting, Tag::AuthRequestMore) => {
                Err(FaultReason::AuthMoreUnsupported(Tag::AuthRequestMore))
            }
            (Step::AuthAcceptingSign, Tag::AuthSignature) => {
                let sig: AuthSignature = payload(frame)?;
                if sig != AuthSignature::zero() {
                    return Err(FaultReason::BadSignature);
                }
                Ok(Step::SessionAccepting)
            }
            (Step::SessionAccepting, Tag::ClientIdent) => self.client_ident(payload(frame)?, now),
            (Step::SessionAccepting, Tag::SessionReconnect) => {
                self.session_reconnect(payload(frame)?)
            }
            (Step::Lookup(pending), tag) => {
                // Nothing may come before our answer: a fault, but the lookup stays pending
                // (a session may be on its way to us, see `fault_in`).
                self.set_step(Step::Lookup(pending));
                Err(FaultReason::UnexpectedFrame {
                    tag,
                    state: "SESSION_ACCEPTING",
                })
            }
            (step, tag) => Err(FaultReason::UnexpectedFrame {
                tag,
                state: step.name(),
            }),
        }
    }

    /// AUTH_REQUEST (§3.4.2, §3.4.3): refuse with AUTH_BAD_METHOD and stay, or decide.
    fn auth_request(&mut self, request: AuthRequest, now: Instant) -> Result<Step, FaultReason> {
        let auth = match check_request(&request) {
            Ok(auth) => auth,
            Err(refusal) => return self.refuse_auth(request.method, refusal),
        };
        let info = AuthRequestInfo {
            peer_type: self.peer_type.unwrap_or_default(),
            payload: auth,
        };
        match self.cfg.auth {
            AuthDecision::Application => {
                self.events.push_back(Event::AuthRequest(info.clone()));
                Ok(Step::AuthDeciding(info))
            }
            AuthDecision::Automatic => {
                let global_id = match &info.payload {
                    AuthNonePayload::Mon { global_id: 0, .. } => self.cfg.shared.next_global_id(),
                    other => other.global_id(),
                };
                Ok(self.auth_done(global_id, now))
            }
        }
    }

    /// AUTH_BAD_METHOD for `refusal`, staying in AUTH_ACCEPTING; -EBUSY closes instead.
    fn refuse_auth(&mut self, method: u32, refusal: AuthRefusal) -> Result<Step, FaultReason> {
        let Some(result) = refusal.errno() else {
            return Err(FaultReason::AuthBusy);
        };
        debug!(method, result, "AUTH_BAD_METHOD");
        self.send(&AuthBadMethod {
            method,
            result,
            allowed_methods: vec![AUTH_METHOD_NONE],
            allowed_modes: vec![CON_MODE_CRC],
        });
        Ok(Step::AuthAccepting)
    }

    /// AUTH_DONE and, right after it, our AUTH_SIGNATURE (§3.5).
    fn auth_done(&mut self, global_id: u64, _now: Instant) -> Step {
        self.global_id = global_id;
        self.send(&AuthDone {
            global_id,
            con_mode: CON_MODE_CRC,
            auth_payload: bytes::Bytes::new(),
        });
        self.send(&AuthSignature::zero());
        Step::AuthAcceptingSign
    }

    /// Accepts the pending [`Event::AuthRequest`] and gives the client `global_id`.
    pub fn accept_auth(&mut self, global_id: u64, now: Instant) {
        if let State::Open {
            step: step @ Step::AuthDeciding(_),
            ..
        } = &mut self.state
        {
            *step = Step::AuthAccepting;
            let next = self.auth_done(global_id, now);
            self.set_step(next);
        } else {
            warn!(
                state = self.state_name(),
                "accept_auth with no pending request"
            );
        }
    }

    /// Refuses the pending [`Event::AuthRequest`]: AUTH_BAD_METHOD, or for
    /// [`AuthRefusal::Busy`] a close without a reply (§3.4.2 step 3).
    pub fn reject_auth(&mut self, refusal: AuthRefusal, now: Instant) {
        if let State::Open {
            step: step @ Step::AuthDeciding(_),
            ..
        } = &mut self.state
        {
            *step = Step::AuthAccepting;
            match self.refuse_auth(AUTH_METHOD_NONE, refusal) {
                Ok(next) => self.set_step(next),
                Err(reason) => self.fault(reason, now),
            }
        } else {
            warn!(
                state = self.state_name(),
                "reject_auth with no pending request"
            );
        }
    }

    /// CLIENT_IDENT (§4.4): validate, check features, then answer or ask the messenger.
    fn client_ident(&mut self, ident: ClientIdent, now: Instant) -> Result<Step, FaultReason> {
        if ident.addrs.is_empty() || ident.addrs.front() == EntityAddr::blank() {
            return Err(FaultReason::BlankClientAddrs);
        }
        if !self.my_addrs.contains(&ident.target_addr) {
            return Err(FaultReason::NotOurAddr {
                target: ident.target_addr,
                ours: self.my_addrs.clone(),
            });
        }
        self.target = infer_target(&ident.addrs.addrs);
        let missing = self.policy.required_on_wire() & !ident.supported_features;
        if !missing.is_empty() {
            info!(%missing, "peer lacks required features");
            self.send(&IdentMissingFeatures { features: missing });
            return Ok(Step::SessionAccepting);
        }
        if self.skips_lookup() {
            return Ok(self.send_server_ident(&ident, false, now));
        }
        Ok(self.ask_lookup(Pending::Ident(ident)))
    }

    /// SESSION_RECONNECT (§4.10).
    fn session_reconnect(&mut self, reconnect: SessionReconnect) -> Result<Step, FaultReason> {
        self.target = infer_target(&reconnect.addrs.addrs);
        if self.skips_lookup() {
            // An unregistered lossy client has no session to find (§4.10 row 1).
            self.send(&SessionReset { full: true });
            return Ok(Step::SessionAccepting);
        }
        Ok(self.ask_lookup(Pending::Reconnect(reconnect)))
    }

    /// A lossy server that does not register its clients never looks them up (§4.4 step 6).
    fn skips_lookup(&self) -> bool {
        self.policy.server && self.policy.lossy && !self.policy.register_lossy_clients
    }

    fn ask_lookup(&mut self, pending: Pending) -> Step {
        let peer_addrs = match &pending {
            Pending::Ident(i) => i.addrs.clone(),
            Pending::Reconnect(r) => r.addrs.clone(),
        };
        self.events.push_back(Event::SessionLookup(SessionLookup {
            peer_addrs,
            my_addr: self.my_addrs.msgr2_addr().unwrap_or_default(),
            request: Self::pending_request(&pending),
        }));
        Step::Lookup(pending)
    }

    /// Answers the pending [`Event::SessionLookup`] with the verdict of
    /// [`Protocol::judge`] on the existing connection, or [`Verdict::NoSession`] if there
    /// is none.
    pub fn resolve_lookup(&mut self, verdict: Verdict, now: Instant) {
        let pending = match &mut self.state {
            State::Open { step, .. } if matches!(step, Step::Lookup(_)) => {
                match std::mem::replace(step, Step::SessionAccepting) {
                    Step::Lookup(p) => p,
                    _ => return,
                }
            }
            State::AwaitingVerdict { reason } => {
                let reason = reason.clone();
                return self.resolve_without_transport(verdict, reason, now);
            }
            _ => {
                warn!(
                    state = self.state_name(),
                    "resolve_lookup with no pending lookup"
                );
                return;
            }
        };
        let next = match (pending, verdict) {
            (_, Verdict::Stale) => return self.fault(FaultReason::Stale, now),
            (_, Verdict::Wait) => {
                self.send(&Wait);
                Step::SessionAccepting
            }
            (Pending::Ident(ident), Verdict::Reuse(handoff)) => {
                self.adopt(handoff);
                self.send_server_ident(&ident, true, now)
            }
            (Pending::Ident(ident), _) => self.send_server_ident(&ident, false, now),
            (Pending::Reconnect(r), Verdict::Reuse(handoff)) => {
                self.adopt(handoff);
                self.session.connect_seq = r.connect_seq;
                self.session.peer_global_seq = r.global_seq;
                self.session.out_seq = self.session.discard_requeued_up_to(r.msg_seq);
                self.send(&SessionReconnectOk {
                    msg_seq: self.session.in_seq,
                });
                info!(
                    connect_seq = r.connect_seq,
                    msg_seq = r.msg_seq,
                    "session resumed"
                );
                self.become_ready(true, now)
            }
            (Pending::Reconnect(_), Verdict::NoSession) => {
                self.send(&SessionReset { full: true });
                Step::SessionAccepting
            }
            (Pending::Reconnect(_), Verdict::Reset { full }) => {
                self.send(&SessionReset { full });
                Step::SessionAccepting
            }
            (Pending::Reconnect(_), Verdict::Retry(connect_seq)) => {
                self.send(&SessionRetry { connect_seq });
                Step::SessionAccepting
            }
            (Pending::Reconnect(_), Verdict::RetryGlobal(global_seq)) => {
                self.send(&SessionRetryGlobal { global_seq });
                Step::SessionAccepting
            }
        };
        self.set_step(next);
    }

    /// The verdict for a lookup whose transport failed meanwhile ([`State::AwaitingVerdict`]).
    /// A session handed over is kept, as Ceph's existing connection keeps its session when
    /// the socket it took over fails: it faults like a lossless connection (§4.8), to STANDBY
    /// or dialling the peer if it has something to send. Any other verdict closes.
    fn resolve_without_transport(&mut self, verdict: Verdict, reason: FaultReason, now: Instant) {
        let Verdict::Reuse(handoff) = verdict else {
            debug!(%reason, "no session handed over: closing");
            self.stop();
            self.events.push_back(Event::Reset(reason));
            return;
        };
        self.adopt(handoff);
        info!(%reason, "took over a session whose new transport had already failed");
        self.state = State::Standby;
        self.events.push_back(Event::Faulted(reason));
        let nothing_to_send = !self.session.has_queued() && self.keepalive.is_none();
        if !(self.policy.standby && nothing_to_send) {
            self.wake_from_standby(now);
        }
    }

    /// Takes over a session handed off by [`Protocol::judge`]. Messages queued here before
    /// it arrived (sent through the replaced connection once its session was on its way,
    /// the messenger forwarding them) go after the session's own.
    fn adopt(&mut self, handoff: super::event::SessionHandoff) {
        let super::event::SessionHandoff(session, remote_reset) = handoff;
        let early = std::mem::replace(&mut self.session, *session);
        self.session.queue_after(early);
        if remote_reset {
            self.events.push_back(Event::RemoteReset);
        }
    }

    /// SERVER_IDENT and READY (§4.4 step 7). `reused`: the session was taken over (§4.9).
    fn send_server_ident(&mut self, ident: &ClientIdent, reused: bool, now: Instant) -> Step {
        let lossy = self.policy.lossy;
        let s = &mut self.session;
        s.out_seq = s.discard_requeued_up_to(0);
        s.in_seq = 0;
        s.client_cookie = ident.cookie;
        s.peer_global_seq = ident.global_seq;
        if !lossy {
            s.server_cookie = self.cfg.shared.next_cookie();
        }
        s.peer = Some(PeerInfo {
            name: EntityNameT::new(self.peer_type.unwrap_or_default(), ident.gid),
            addrs: ident.addrs.clone(),
            features: ident.supported_features & self.policy.features_supported,
            global_id: self.global_id,
            lossy,
        });
        let reply = ServerIdent {
            addrs: self.my_addrs.clone(),
            gid: self.cfg.gid,
            global_seq: self.cfg.shared.next_global_seq(0),
            supported_features: self.policy.features_supported,
            required_features: self.policy.required_on_wire(),
            flags: if lossy { CONNECT_LOSSY } else { 0 },
            cookie: s.server_cookie,
        };
        debug!(
            global_seq = reply.global_seq,
            cookie = reply.cookie,
            "SERVER_IDENT"
        );
        self.send(&reply);
        self.become_ready(reused, now)
    }
}

/// The address to dial a peer back at, from the addresses it advertised (Ceph's
/// `_infer_target_addr`): its first `v2:` address, or an `any:` one taken as `v2:`.
fn infer_target(addrs: &[EntityAddr]) -> Option<EntityAddr> {
    addrs
        .iter()
        .find(|a| a.ty == AddrType::Msgr2)
        .or_else(|| addrs.iter().find(|a| a.ty == AddrType::Any))
        .map(|a| EntityAddr {
            ty: AddrType::Msgr2,
            ..*a
        })
        .filter(|a| !a.is_blank_ip() && a.port() != 0)
}
