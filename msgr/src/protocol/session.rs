//! The session (msgr2.md §4.2, §4.7, §4.8): cookies, sequence numbers, the outgoing queue and
//! the list of sent-but-unacknowledged messages. It outlives a transport: a lossless session
//! survives faults and is replayed on reconnect, and may move into another connection object
//! (§4.9, §4.10).

use std::collections::{BTreeMap, VecDeque};

use crate::messages::{CEPH_MSG_PRIO_HIGHEST, RawMessage};

use super::event::PeerInfo;

/// What to do with a received MESSAGE, by its seq (§4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// `seq <= in_seq`: a duplicate after a replay; drop it silently.
    Old,
    /// Deliver it. `skipped` is how many seqs were missed before it (Ceph logs and accepts).
    Deliver {
        /// Seqs missing between the last accepted message and this one.
        skipped: u64,
    },
}

/// Session state (§4.2). Plain data with no I/O.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// Our cookie as a client, or the client's as a server; 0 when lossy.
    pub client_cookie: u64,
    /// The server's cookie; non-zero means "there is a session to resume".
    pub server_cookie: u64,
    /// Successful reconnects of this lossless session.
    pub connect_seq: u64,
    /// The peer's global_seq from its last ident or reconnect.
    pub peer_global_seq: u64,
    /// Seq of the last message handed to the wire.
    pub out_seq: u64,
    /// Seq of the last message accepted from the peer.
    pub in_seq: u64,
    /// Received messages not yet acknowledged (lossless only).
    pub ack_left: u64,
    /// The peer, once a session was established.
    pub peer: Option<PeerInfo>,
    /// Messages waiting to be written, per priority. A message that was sent before and
    /// requeued keeps its old seq in its header; a new one has seq 0.
    out_queue: BTreeMap<u16, VecDeque<RawMessage>>,
    /// Messages written and not yet acknowledged, oldest first (lossless only).
    sent: VecDeque<RawMessage>,
}

impl Session {
    /// Queues `msg` at its priority, as a new message (seq 0).
    pub fn queue(&mut self, mut msg: RawMessage) {
        msg.header.seq = 0;
        self.out_queue
            .entry(msg.header.priority)
            .or_default()
            .push_back(msg);
    }

    /// True if messages are waiting to be written.
    pub fn has_queued(&self) -> bool {
        !self.out_queue.is_empty()
    }

    /// Messages waiting to be written.
    pub fn queued_len(&self) -> usize {
        self.out_queue.values().map(VecDeque::len).sum()
    }

    /// Messages written and not yet acknowledged.
    pub fn unacked_len(&self) -> usize {
        self.sent.len()
    }

    /// The next message to write (highest priority first, FIFO within one), with its header's
    /// `seq = ++out_seq` and `ack_seq = in_seq` (the piggybacked ack, §4.7). A lossless session
    /// keeps a copy until it is acknowledged.
    pub fn next_outgoing(&mut self, lossy: bool) -> Option<RawMessage> {
        let mut entry = self.out_queue.last_entry()?;
        let mut msg = entry.get_mut().pop_front()?;
        if entry.get().is_empty() {
            entry.remove();
        }
        self.out_seq += 1;
        msg.header.seq = self.out_seq;
        msg.header.ack_seq = self.in_seq;
        self.ack_left = 0;
        if !lossy {
            self.sent.push_back(msg.clone());
        }
        Some(msg)
    }

    /// Undoes [`Self::next_outgoing`] for a message that could not be framed.
    pub fn unsend(&mut self, lossy: bool) {
        self.out_seq = self.out_seq.saturating_sub(1);
        if !lossy {
            self.sent.pop_back();
        }
    }

    /// The ACK frame's seq, if one is due (lossless only, §4.7): `in_seq`, clearing `ack_left`.
    pub fn take_ack(&mut self, lossy: bool) -> Option<u64> {
        if lossy || self.ack_left == 0 {
            return None;
        }
        self.ack_left = 0;
        Some(self.in_seq)
    }

    /// Applies the receive rules of §4.7 to a message with `seq`.
    pub fn arrive(&mut self, seq: u64, lossy: bool) -> Arrival {
        if seq <= self.in_seq {
            return Arrival::Old;
        }
        let skipped = seq - self.in_seq - 1;
        self.in_seq = seq;
        if !lossy {
            self.ack_left += 1;
        }
        Arrival::Deliver { skipped }
    }

    /// The peer acknowledged everything up to `seq` (ACK or a piggybacked `ack_seq`): forget
    /// those sent messages. A lossy session keeps none (§4.7).
    pub fn acked(&mut self, seq: u64) {
        while self.sent.front().is_some_and(|m| m.header.seq <= seq) {
            self.sent.pop_front();
        }
    }

    /// After a fault (§4.8 step 1): every unacknowledged message goes back to the front of
    /// the HIGHEST queue, in order, and `out_seq` goes back by as many, so that they are
    /// written again with their original seqs.
    pub fn requeue_sent(&mut self) {
        if self.sent.is_empty() {
            return;
        }
        self.out_seq = self.out_seq.saturating_sub(self.sent.len() as u64);
        let queue = self.out_queue.entry(CEPH_MSG_PRIO_HIGHEST).or_default();
        while let Some(msg) = self.sent.pop_back() {
            queue.push_front(msg);
        }
    }

    /// Ceph's `discard_requeued_up_to(out_seq, seq)`: drops requeued messages the peer already
    /// has (seq ≤ `seq`) and returns the new `out_seq`. With no requeued queue it returns
    /// `seq` itself, as Ceph does (§4.8, §4.9, §4.10 row 9).
    /// A peer claiming more than we ever wrote (beyond `out_seq` and every requeued seq) is
    /// clamped with a warning, so its value can never drive `out_seq` to overflow (found by
    /// fuzzing).
    pub fn discard_requeued_up_to(&mut self, seq: u64) -> u64 {
        let highest_written = self
            .out_queue
            .get(&CEPH_MSG_PRIO_HIGHEST)
            .and_then(|q| q.iter().rev().find(|m| m.header.seq != 0))
            .map_or(0, |m| m.header.seq)
            .max(self.out_seq);
        let seq = if seq > highest_written {
            tracing::warn!(
                claimed = seq,
                highest_written,
                "peer acknowledged messages we never sent; clamped"
            );
            highest_written
        } else {
            seq
        };
        let Some(queue) = self.out_queue.get_mut(&CEPH_MSG_PRIO_HIGHEST) else {
            return seq;
        };
        let mut out_seq = self.out_seq;
        while let Some(front) = queue.front() {
            if front.header.seq == 0 || front.header.seq > seq {
                break;
            }
            queue.pop_front();
            out_seq += 1;
        }
        if queue.is_empty() {
            self.out_queue.remove(&CEPH_MSG_PRIO_HIGHEST);
        }
        out_seq
    }

    /// Queues, after everything already here, the messages `later` had queued (new ones,
    /// seq 0, in their order per priority). For a session taken over (§4.9, §4.10 row 9):
    /// what was sent through the replaced connection meanwhile may already be on the new one.
    pub fn queue_after(&mut self, later: Session) {
        for (priority, msgs) in later.out_queue {
            self.out_queue.entry(priority).or_default().extend(msgs);
        }
    }

    /// Drops every queued and unacknowledged message.
    pub fn discard_queues(&mut self) {
        self.out_queue.clear();
        self.sent.clear();
    }

    /// Ceph's `reset_session` (§4.3): forget everything.
    pub fn reset(&mut self) {
        self.discard_queues();
        self.out_seq = 0;
        self.in_seq = 0;
        self.client_cookie = 0;
        self.server_cookie = 0;
        self.connect_seq = 0;
        self.peer_global_seq = 0;
        self.ack_left = 0;
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::messages::{CEPH_MSG_PRIO_DEFAULT, CEPH_MSG_PRIO_HIGH, MsgHeader2};

    fn msg(tag: u8, priority: u16) -> RawMessage {
        let mut header = MsgHeader2::new(2, 1, 0);
        header.priority = priority;
        RawMessage::new(header, Bytes::from(vec![tag]))
    }

    fn drain(s: &mut Session, lossy: bool) -> Vec<(u8, u64)> {
        std::iter::from_fn(|| s.next_outgoing(lossy))
            .map(|m| (m.front[0], m.header.seq))
            .collect()
    }

    #[test]
    fn priority_then_fifo_with_piggybacked_ack() {
        let mut s = Session::default();
        s.queue(msg(1, CEPH_MSG_PRIO_DEFAULT));
        s.queue(msg(2, CEPH_MSG_PRIO_HIGH));
        s.queue(msg(3, CEPH_MSG_PRIO_DEFAULT));
        assert_eq!(s.arrive(1, false), Arrival::Deliver { skipped: 0 });
        let first = s.next_outgoing(false).unwrap();
        assert_eq!(
            (first.front[0], first.header.seq, first.header.ack_seq),
            (2, 1, 1)
        );
        assert_eq!(s.ack_left, 0, "a message carries the ack");
        assert_eq!(drain(&mut s, false), [(1, 2), (3, 3)]);
        assert_eq!(s.unacked_len(), 3);
        s.acked(2);
        assert_eq!(s.unacked_len(), 1);
    }

    #[test]
    fn receive_rules() {
        let mut s = Session::default();
        assert_eq!(s.arrive(1, false), Arrival::Deliver { skipped: 0 });
        assert_eq!(s.arrive(1, false), Arrival::Old);
        assert_eq!(s.arrive(4, false), Arrival::Deliver { skipped: 2 });
        assert_eq!(s.in_seq, 4);
        assert_eq!(s.take_ack(false), Some(4));
        assert_eq!(s.take_ack(false), None);
        s.arrive(5, true);
        assert_eq!(s.take_ack(true), None, "lossy sessions never ACK");
    }

    #[test]
    fn requeue_and_discard() {
        let mut s = Session::default();
        for i in 1..=4 {
            s.queue(msg(i, CEPH_MSG_PRIO_DEFAULT));
        }
        assert_eq!(drain(&mut s, false).len(), 4);
        s.acked(1);
        s.queue(msg(9, CEPH_MSG_PRIO_DEFAULT));
        s.requeue_sent();
        assert_eq!(s.out_seq, 1);
        // The peer had 2 and 3; 4 and the new 9 remain, with their seqs.
        s.out_seq = s.discard_requeued_up_to(3);
        assert_eq!(s.out_seq, 3);
        assert_eq!(drain(&mut s, false), [(4, 4), (9, 5)]);
        // No requeued queue: Ceph returns the argument.
        assert_eq!(s.discard_requeued_up_to(0), 0);
        s.reset();
        assert_eq!((s.out_seq, s.unacked_len(), s.queued_len()), (0, 0, 0));
    }
}
