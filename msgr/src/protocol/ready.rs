//! READY (msgr2.md §4.7): MESSAGE frames with their seqs and piggybacked acks, ACK,
//! KEEPALIVE2 and KEEPALIVE2_ACK.

use std::time::Instant;

use tracing::{debug, error, trace, warn};

use super::FaultReason;
use super::conn::{Protocol, Step};
use super::control::{Ack, ControlPayload, Keepalive2, Keepalive2Ack};
use super::event::{Event, Transmit};
use super::session::Arrival;
use bytes::Bytes;

use crate::frames::{Frame, Tag, WirePieces};
use crate::messages::RawMessage;

/// Decodes a control payload, naming the tag in the fault.
pub(super) fn payload<T: ControlPayload>(frame: &Frame) -> Result<T, FaultReason> {
    T::from_frame(frame).map_err(|source| FaultReason::BadPayload {
        tag: frame.tag(),
        source,
    })
}

impl Protocol {
    /// Handles a frame received while READY.
    pub(super) fn ready_frame(&mut self, frame: Frame, now: Instant) -> Result<(), FaultReason> {
        if frame.tag() == Tag::Message {
            let msg = RawMessage::from_frame_owned(frame).map_err(FaultReason::BadMessage)?;
            self.receive_message(msg);
            return Ok(());
        }
        let frame = &frame;
        match frame.tag() {
            Tag::Keepalive2 => {
                let ka: Keepalive2 = payload(frame)?;
                trace!(stamp = ?ka.timestamp, "KEEPALIVE2");
                self.send(&Keepalive2Ack {
                    timestamp: ka.timestamp,
                });
                Ok(())
            }
            Tag::Keepalive2Ack => {
                let ack: Keepalive2Ack = payload(frame)?;
                self.last_keepalive_ack = Some(now);
                self.events.push_back(Event::KeepaliveAck(ack.timestamp));
                Ok(())
            }
            Tag::Ack => {
                let ack: Ack = payload(frame)?;
                if !self.policy.lossy {
                    self.session.acked(ack.seq);
                }
                Ok(())
            }
            tag => Err(FaultReason::UnexpectedFrame {
                tag,
                state: "READY",
            }),
        }
    }

    /// The receive rules of §4.7.
    fn receive_message(&mut self, msg: RawMessage) {
        let seq = msg.header.seq;
        let lossy = self.policy.lossy;
        match self.session.arrive(seq, lossy) {
            Arrival::Old => {
                debug!(
                    seq,
                    in_seq = self.session.in_seq,
                    "got old message, discarding"
                );
                return;
            }
            Arrival::Deliver { skipped } if skipped > 0 => {
                warn!(seq, skipped, "missed message? seqs skipped");
            }
            Arrival::Deliver { .. } => {}
        }
        if !lossy {
            self.session.acked(msg.header.ack_seq);
        }
        trace!(seq, msg_type = msg.header.msg_type, "message");
        self.events.push_back(Event::Message(msg));
    }

    /// Frames what READY has to send, one item at a time: a pending KEEPALIVE2, then the next
    /// message, then an ACK if one is due (§4.7; Ceph's `write_event` order).
    pub(super) fn write_ready(&mut self) {
        let mut wire = crate::frames::WireFrame::default();
        if self.write_ready_one(&mut wire) && !wire.is_empty() {
            self.tx.push_back(Transmit::Frame {
                tag: Tag::Message,
                wire,
            });
        }
    }

    /// Frames everything READY has to send, in [`Self::write_ready`]'s order: messages go
    /// straight into `out`, control frames into the transmit queue. Returns whether anything
    /// was produced.
    pub(super) fn write_ready_into(&mut self, out: &mut Vec<Bytes>) -> bool {
        let mut any = false;
        while self.tx.is_empty() && self.write_ready_one(out) {
            any = true;
        }
        any
    }

    /// Frames one item: a keepalive or an ACK into the transmit queue, or a message's pieces
    /// into `out`. Returns false when there is nothing to send.
    fn write_ready_one(&mut self, out: &mut impl WirePieces) -> bool {
        if let Some(timestamp) = self.keepalive.take() {
            self.send(&Keepalive2 { timestamp });
            return true;
        }
        let lossy = self.policy.lossy;
        while let Some(msg) = self.session.next_outgoing(lossy) {
            let (seq, msg_type) = (msg.header.seq, msg.header.msg_type);
            match msg.assemble_into(self.rev, &mut self.arena, out) {
                Ok(()) => {
                    trace!(seq, msg_type, "write");
                    return true;
                }
                Err(e) => {
                    error!(seq, %e, "message cannot be framed, dropped");
                    self.session.unsend(lossy);
                }
            }
        }
        if let Some(seq) = self.session.take_ack(lossy) {
            self.send(&Ack { seq });
            return true;
        }
        false
    }

    /// Enters READY: report the peer, start the keepalive timer (§4.3, §4.4).
    pub(super) fn become_ready(&mut self, resumed: bool, now: Instant) -> Step {
        self.backoff = std::time::Duration::ZERO;
        self.next_keepalive = self.cfg.timeouts.keepalive_interval.map(|d| now + d);
        if let Some(peer) = self.session.peer.clone() {
            debug!(
                peer = %peer.name,
                lossy = peer.lossy,
                in_seq = self.session.in_seq,
                out_seq = self.session.out_seq,
                "READY"
            );
            self.events.push_back(Event::Connected { peer, resumed });
        }
        Step::Ready
    }
}
