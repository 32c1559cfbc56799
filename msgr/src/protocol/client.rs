//! The connector's handshake (msgr2.md §4.3): HELLO, AUTH_REQUEST with auth none (§3.4.1,
//! §3.4.3), AUTH_SIGNATURE (§3.5), then CLIENT_IDENT or SESSION_RECONNECT.

use std::time::Instant;

use tracing::{debug, info};

use super::FaultReason;
use super::auth::AuthNonePayload;
use super::conn::{Protocol, Step};
use super::control::{
    AuthBadMethod, AuthDone, AuthSignature, CON_MODE_CRC, CONNECT_LOSSY, ClientIdent, Hello,
    IdentMissingFeatures, ServerIdent, SessionReconnect, SessionReconnectOk, SessionReset,
    SessionRetry, SessionRetryGlobal,
};
use super::event::{Event, PeerInfo};
use super::ready::payload;
use crate::frames::{Frame, Tag};
use crate::wire::{EntityNameT, EntityType};

impl Protocol {
    /// Handles a frame received during the connector's handshake.
    pub(super) fn client_frame(
        &mut self,
        step: Step,
        frame: &Frame,
        now: Instant,
    ) -> Result<Step, FaultReason> {
        match (step, frame.tag()) {
            (Step::HelloConnecting, Tag::Hello) => self.client_hello(payload(frame)?),
            (Step::AuthConnecting, Tag::AuthBadMethod) => {
                let bad: AuthBadMethod = payload(frame)?;
                // Auth none is our only method: nothing else to offer (§3.3.3).
                Err(FaultReason::AuthBadMethod {
                    method: bad.method,
                    result: bad.result,
                    allowed_methods: bad.allowed_methods,
                    allowed_modes: bad.allowed_modes,
                })
            }
            (Step::AuthConnecting, Tag::AuthReplyMore) => {
                Err(FaultReason::AuthMoreUnsupported(Tag::AuthReplyMore))
            }
            (Step::AuthConnecting, Tag::AuthDone) => {
                let done: AuthDone = payload(frame)?;
                if done.con_mode != CON_MODE_CRC {
                    return Err(FaultReason::BadConMode(done.con_mode));
                }
                self.global_id = done.global_id;
                debug!(global_id = done.global_id, "AUTH_DONE");
                // §3.5: sign at once; the peer's signature crosses ours on the wire.
                self.send(&AuthSignature::zero());
                Ok(Step::AuthConnectingSign)
            }
            (Step::AuthConnectingSign, Tag::AuthSignature) => {
                let sig: AuthSignature = payload(frame)?;
                if sig != AuthSignature::zero() {
                    return Err(FaultReason::BadSignature);
                }
                if self.session.server_cookie == 0 {
                    Ok(self.send_client_ident())
                } else {
                    Ok(self.send_reconnect())
                }
            }
            (Step::SessionConnecting, Tag::ServerIdent) => self.server_ident(payload(frame)?, now),
            (Step::SessionConnecting, Tag::IdentMissingFeatures) => {
                let missing: IdentMissingFeatures = payload(frame)?;
                Err(FaultReason::MissingFeatures(missing.features))
            }
            (Step::SessionConnecting | Step::SessionReconnecting, Tag::Wait) => {
                Err(FaultReason::Wait)
            }
            (Step::SessionReconnecting, Tag::SessionReconnectOk) => {
                let ok: SessionReconnectOk = payload(frame)?;
                self.session.out_seq = self.session.discard_requeued_up_to(ok.msg_seq);
                info!(msg_seq = ok.msg_seq, "reconnect accepted");
                Ok(self.become_ready(true, now))
            }
            (Step::SessionReconnecting, Tag::SessionRetry) => {
                let retry: SessionRetry = payload(frame)?;
                self.session.connect_seq = retry.connect_seq.wrapping_add(1);
                debug!(connect_seq = self.session.connect_seq, "SESSION_RETRY");
                Ok(self.send_reconnect())
            }
            (Step::SessionReconnecting, Tag::SessionRetryGlobal) => {
                let retry: SessionRetryGlobal = payload(frame)?;
                self.global_seq = self.cfg.shared.next_global_seq(retry.global_seq);
                debug!(global_seq = self.global_seq, "SESSION_RETRY_GLOBAL");
                Ok(self.send_reconnect())
            }
            (Step::SessionReconnecting, Tag::SessionReset) => {
                let reset: SessionReset = payload(frame)?;
                info!(full = reset.full, "session reset by peer");
                if reset.full {
                    self.session.reset();
                    self.events.push_back(Event::RemoteReset);
                } else {
                    self.session.server_cookie = 0;
                    self.session.connect_seq = 0;
                    self.session.in_seq = 0;
                }
                Ok(self.send_client_ident())
            }
            (step, tag) => Err(FaultReason::UnexpectedFrame {
                tag,
                state: step.name(),
            }),
        }
    }

    /// The server's HELLO: check its type, learn our IP, then authenticate (§3.3.1, §3.4).
    fn client_hello(&mut self, hello: Hello) -> Result<Step, FaultReason> {
        let expected = self.peer_type.unwrap_or(hello.entity_type);
        if hello.entity_type != expected {
            return Err(FaultReason::PeerTypeMismatch {
                expected,
                found: hello.entity_type,
            });
        }
        if self.my_addrs.is_empty() || self.my_addrs.front().is_blank_ip() {
            self.learn_addr(&hello.peer_addr);
        }
        let name = self.cfg.name.clone();
        let global_id = self.cfg.global_id;
        // MON-mode to a mon, an authorizer to anyone else (§3.4.1, §3.4.3).
        let auth = if expected == EntityType::MON {
            AuthNonePayload::Mon { name, global_id }
        } else {
            AuthNonePayload::Authorizer { name, global_id }
        };
        self.send(&auth.to_request());
        Ok(Step::AuthConnecting)
    }

    /// CLIENT_IDENT for a new session (§3.3.7).
    pub(super) fn send_client_ident(&mut self) -> Step {
        if !self.policy.lossy && self.session.client_cookie == 0 {
            self.session.client_cookie = self.cfg.shared.next_cookie();
        }
        let ident = ClientIdent {
            addrs: self.my_addrs.clone(),
            target_addr: self.target.unwrap_or_default(),
            gid: self.cfg.gid,
            global_seq: self.global_seq,
            supported_features: self.policy.features_supported,
            required_features: self.policy.required_on_wire(),
            flags: if self.policy.lossy { CONNECT_LOSSY } else { 0 },
            cookie: self.session.client_cookie,
        };
        debug!(
            global_seq = ident.global_seq,
            cookie = ident.cookie,
            "CLIENT_IDENT"
        );
        self.send(&ident);
        Step::SessionConnecting
    }

    /// SESSION_RECONNECT to resume our session (§3.3.10).
    pub(super) fn send_reconnect(&mut self) -> Step {
        let s = &self.session;
        let reconnect = SessionReconnect {
            addrs: self.my_addrs.clone(),
            client_cookie: s.client_cookie,
            server_cookie: s.server_cookie,
            global_seq: self.global_seq,
            connect_seq: s.connect_seq,
            msg_seq: s.in_seq,
        };
        debug!(
            global_seq = reconnect.global_seq,
            connect_seq = reconnect.connect_seq,
            msg_seq = reconnect.msg_seq,
            "SESSION_RECONNECT"
        );
        self.send(&reconnect);
        Step::SessionReconnecting
    }

    /// SERVER_IDENT: check that it is who we dialled, adopt its lossiness, READY (§4.5).
    fn server_ident(&mut self, ident: ServerIdent, now: Instant) -> Result<Step, FaultReason> {
        let target = self.target.unwrap_or_default();
        if !ident.addrs.contains(&target) {
            return Err(FaultReason::WrongServer {
                addrs: ident.addrs,
                target,
            });
        }
        let lossy = ident.flags & CONNECT_LOSSY != 0;
        self.policy.lossy = lossy;
        let s = &mut self.session;
        s.server_cookie = ident.cookie;
        s.peer_global_seq = ident.global_seq;
        s.peer = Some(PeerInfo {
            name: EntityNameT::new(self.peer_type.unwrap_or_default(), ident.gid),
            addrs: ident.addrs,
            features: ident.supported_features & self.policy.features_supported,
            global_id: self.global_id,
            lossy,
        });
        Ok(self.become_ready(false, now))
    }
}
