//! Time events: a deadline-ordered queue with O(log n) insert, cancel and pop.
//!
//! Pure data, no clock: callers pass `now`. Ties in deadline fire in insertion order,
//! because the id (a sequence number) is the second half of the ordering key.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// Identifies a scheduled time event; returned by
/// [`EventCenter::create_time_event`](crate::EventCenter::create_time_event).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub(crate) u64);

/// Pending time events ordered by `(deadline, id)`.
#[derive(Debug)]
pub struct TimerQueue<T> {
    by_deadline: BTreeMap<(Instant, TimerId), T>,
    deadline_of: HashMap<TimerId, Instant>,
    next_id: u64,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue {
            by_deadline: BTreeMap::new(),
            deadline_of: HashMap::new(),
            next_id: 1,
        }
    }
}

impl<T> TimerQueue<T> {
    /// Schedules `item` at `deadline`.
    pub fn insert(&mut self, deadline: Instant, item: T) -> TimerId {
        let id = TimerId(self.next_id);
        self.next_id += 1;
        self.by_deadline.insert((deadline, id), item);
        self.deadline_of.insert(id, deadline);
        id
    }

    /// Removes a pending event. Returns it, or `None` if it already fired or was cancelled.
    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        let deadline = self.deadline_of.remove(&id)?;
        self.by_deadline.remove(&(deadline, id))
    }

    /// The earliest deadline, if any event is pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.by_deadline.first_key_value().map(|((d, _), _)| *d)
    }

    /// Removes and returns the earliest event whose deadline is `<= now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<(TimerId, T)> {
        let entry = self.by_deadline.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        let ((_, id), item) = entry.remove_entry();
        self.deadline_of.remove(&id);
        Some((id, item))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.by_deadline.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.by_deadline.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    #[derive(Debug, Clone)]
    enum Step {
        Insert(u16),
        Cancel(usize),
        Advance(u16),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => (0u16..500).prop_map(Step::Insert),
            1 => (0usize..64).prop_map(Step::Cancel),
            2 => (0u16..200).prop_map(Step::Advance),
        ]
    }

    proptest! {
        /// The queue fires exactly what a naive model (a Vec scanned in full) fires, in the
        /// same order, and cancel succeeds exactly when the model still holds the event.
        #[test]
        fn matches_model(steps in proptest::collection::vec(step(), 1..200)) {
            let base = Instant::now();
            let mut now = base;
            let mut q = TimerQueue::default();
            // model: (deadline, seq, id, payload)
            let mut model: Vec<(Instant, u64, TimerId, usize)> = Vec::new();
            let mut ids = Vec::new();
            let mut seq = 0u64;
            for (n, s) in steps.into_iter().enumerate() {
                match s {
                    Step::Insert(ms) => {
                        let d = now + Duration::from_millis(u64::from(ms));
                        let id = q.insert(d, n);
                        model.push((d, seq, id, n));
                        seq += 1;
                        ids.push(id);
                    }
                    Step::Cancel(i) => {
                        if ids.is_empty() { continue; }
                        let id = ids[i % ids.len()];
                        let pos = model.iter().position(|e| e.2 == id);
                        let got = q.cancel(id);
                        prop_assert_eq!(got, pos.map(|p| model.remove(p).3));
                    }
                    Step::Advance(ms) => {
                        now += Duration::from_millis(u64::from(ms));
                        let mut fired = Vec::new();
                        while let Some((id, item)) = q.pop_expired(now) { fired.push((id, item)); }
                        model.sort_by_key(|e| (e.0, e.1));
                        let split = model.iter().take_while(|e| e.0 <= now).count();
                        let expect: Vec<_> = model.drain(..split).map(|e| (e.2, e.3)).collect();
                        prop_assert_eq!(fired, expect);
                    }
                }
                prop_assert_eq!(q.len(), model.len());
                prop_assert_eq!(q.next_deadline(), model.iter().map(|e| e.0).min());
            }
        }
    }

    #[test]
    fn ten_thousand_timers_fire_in_deadline_order() {
        let base = Instant::now();
        let mut q = TimerQueue::default();
        // Deadlines inserted in a scrambled order.
        for i in 0..10_000u64 {
            let ms = (i * 7919) % 10_000;
            q.insert(base + Duration::from_micros(ms), ms);
        }
        let mut last = None;
        let mut n = 0;
        while let Some((_, ms)) = q.pop_expired(base + Duration::from_secs(1)) {
            assert!(last.is_none_or(|l| l <= ms), "{last:?} then {ms}");
            last = Some(ms);
            n += 1;
        }
        assert_eq!(n, 10_000);
        assert!(q.is_empty());
    }
}
