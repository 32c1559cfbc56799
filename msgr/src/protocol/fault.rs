//! Faults, reconnects and timers (msgr2.md §4.8, §4.12): what happens when a transport breaks,
//! by policy and by where the handshake was.

use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use super::FaultReason;
use super::conn::{Phase, Protocol, State, Step};
use super::event::{Event, Transmit};

impl Protocol {
    /// Faults from wherever the connection is.
    pub(super) fn fault(&mut self, reason: FaultReason, now: Instant) {
        let phase = match &self.state {
            State::Open { step, .. } => step.phase(),
            State::Closed => return,
            // No transport: nothing to fault.
            State::Backoff { .. } | State::Standby | State::AwaitingVerdict { .. } => return,
        };
        self.fault_in(reason, phase, now);
    }

    /// Ceph's `_fault` (§4.8), for a fault that happened in `phase`.
    pub(super) fn fault_in(&mut self, reason: FaultReason, phase: Phase, now: Instant) {
        if self.is_closed() {
            return;
        }
        let peer = self.target.map(|t| t.to_string()).unwrap_or_default();
        let connecting = phase == Phase::Connecting;
        // Fatal, or lossy outside a connect attempt: close and report a reset.
        if reason.is_fatal() || (self.policy.lossy && !connecting) {
            info!(%peer, %reason, lossy = self.policy.lossy, "fault: closing");
            self.stop();
            self.events.push_back(Event::Reset(reason));
            return;
        }
        if phase == Phase::Accepting
            && matches!(
                self.state,
                State::Open {
                    step: Step::Lookup(_),
                    ..
                }
            )
        {
            // The existing connection may already have handed its session over to this one
            // (§4.9 reuse, §4.10 row 9), the verdict being on its way from another worker:
            // closing now would lose that session, its queue and its seqs. Wait for it.
            debug!(%peer, %reason, "fault while a session lookup is pending: awaiting the verdict");
            self.close_transport();
            self.state = State::AwaitingVerdict { reason };
            return;
        }
        self.session.requeue_sent();
        // A half-accepted connection with nothing to send just closes.
        if phase == Phase::Accepting && !self.session.has_queued() {
            debug!(%peer, %reason, "fault while accepting: closing");
            self.stop();
            self.events.push_back(Event::Reset(reason));
            return;
        }
        warn!(%peer, %reason, state = self.state_name(), "fault");
        self.close_transport();
        let waited = reason == FaultReason::Wait;
        let nothing_to_send = !self.session.has_queued() && self.keepalive.is_none();
        if (self.policy.standby && nothing_to_send && !waited)
            || self.policy.server
            || self.target.is_none()
        {
            debug!(%peer, "going to STANDBY");
            self.state = State::Standby;
        } else if phase == Phase::Ready {
            // Faulted while READY: reconnect at once (§4.8 step 2).
            self.session.connect_seq = self.session.connect_seq.wrapping_add(1);
            self.backoff = Duration::ZERO;
            info!(%peer, connect_seq = self.session.connect_seq, "reconnecting");
            self.start_connect(now, true);
        } else {
            // Faulted during the handshake: back off (§4.8 step 3).
            let t = &self.cfg.timeouts;
            self.backoff = if waited {
                t.max_backoff
            } else if self.backoff.is_zero() {
                t.initial_backoff
            } else {
                (self.backoff * 2).min(t.max_backoff)
            };
            if self.session.server_cookie != 0 {
                self.session.connect_seq = self.session.connect_seq.wrapping_add(1);
            }
            info!(%peer, backoff = ?self.backoff, "waiting before reconnecting");
            self.state = State::Backoff {
                until: now + self.backoff,
            };
        }
        self.events.push_back(Event::Faulted(reason));
    }

    /// Ceph's `stop`: discard the queues, close the transport, CLOSED.
    pub(super) fn stop(&mut self) {
        self.session.discard_queues();
        self.keepalive = None;
        self.close_transport();
        self.state = State::Closed;
    }

    /// Drops what was not yet written on the current transport and orders it closed.
    pub(super) fn close_transport(&mut self) {
        if !matches!(self.state, State::Open { .. }) {
            return;
        }
        self.tx
            .retain(|t| matches!(t, Transmit::Close | Transmit::Connect(_)));
        self.tx.push_back(Transmit::Close);
        self.transport += 1;
    }

    /// Something to send while in STANDBY: a connection that is not a server dials again
    /// (Ceph's `write_event` in STANDBY).
    pub(super) fn wake_from_standby(&mut self, now: Instant) {
        if matches!(self.state, State::Standby) && !self.policy.server && self.target.is_some() {
            if self.session.server_cookie != 0 {
                self.session.connect_seq = self.session.connect_seq.wrapping_add(1);
            }
            debug!("leaving STANDBY to send");
            self.start_connect(now, true);
        }
    }

    /// When [`Self::handle_timeout`] must next be called, if ever: the handshake deadline,
    /// the idle deadline, the end of a backoff, or the next keepalive (§4.12). Call it after
    /// every other call and arm one timer for it.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = &self.cfg.timeouts;
        match &self.state {
            State::Open { link, step } => {
                if matches!(step, Step::Ready) {
                    let idle = t.idle.map(|d| link.last_rx + d);
                    [idle, self.next_keepalive].into_iter().flatten().min()
                } else {
                    t.ready.map(|d| link.opened + d)
                }
            }
            State::Backoff { until } => Some(*until),
            State::Standby | State::AwaitingVerdict { .. } | State::Closed => None,
        }
    }

    /// Fires the timers that are due at `now` (see [`Self::poll_timeout`]).
    pub fn handle_timeout(&mut self, now: Instant) {
        let t = self.cfg.timeouts;
        match &self.state {
            State::Open { link, step } => {
                let ready = matches!(step, Step::Ready);
                if !ready {
                    if let Some(d) = t.ready
                        && now >= link.opened + d
                    {
                        self.fault(FaultReason::ReadyTimeout(d), now);
                    }
                    return;
                }
                if let Some(d) = t.idle
                    && now >= link.last_rx + d
                {
                    self.fault(FaultReason::Idle(d), now);
                    return;
                }
                if let (Some(due), Some(interval)) = (self.next_keepalive, t.keepalive_interval)
                    && now >= due
                {
                    self.send_keepalive(now);
                    self.next_keepalive = Some(now + interval);
                }
            }
            State::Backoff { until } => {
                if now >= *until {
                    self.start_connect(now, true);
                }
            }
            State::Standby | State::AwaitingVerdict { .. } | State::Closed => {}
        }
    }
}
