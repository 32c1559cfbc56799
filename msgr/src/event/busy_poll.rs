//! Opt-in adaptive busy polling: before a wait that would sleep, poll the driver without
//! blocking for a bounded time, so that an event arriving within it is handled without the
//! sleep and the wakeup (~20-25 µs on a virtual CPU). Off by default: it trades CPU for
//! latency.
//!
//! Adaptive: a run of polls that found nothing stops the spinning, which resumes once a
//! sleep shows that an event came soon enough for a poll to have caught it. So an idle or
//! lightly loaded loop does not burn a core, while a ping-pong keeps spinning.

use std::time::Duration;

/// Fruitless spins in a row after which spinning stops until it would have paid off.
const CREDIT: u8 = 8;

/// Busy-poll state of one center.
#[derive(Debug)]
pub(crate) struct BusyPoll {
    budget: Duration,
    credit: u8,
}

impl BusyPoll {
    /// A busy poller that spins at most `budget` before each sleep.
    pub(crate) fn new(budget: Duration) -> Self {
        BusyPoll {
            budget,
            credit: CREDIT,
        }
    }

    /// How long to spin before the next sleep, if at all.
    pub(crate) fn spin_for(&self) -> Option<Duration> {
        (self.credit > 0 && !self.budget.is_zero()).then_some(self.budget)
    }

    /// A spin found an event.
    pub(crate) fn hit(&mut self) {
        self.credit = CREDIT;
    }

    /// A spin ran out of budget with nothing found.
    pub(crate) fn miss(&mut self) {
        self.credit = self.credit.saturating_sub(1);
    }

    /// A sleep ended with an event after `slept`: if a spin would have caught it, spin again.
    pub(crate) fn slept(&mut self, slept: Duration) {
        if slept <= self.budget {
            self.credit = CREDIT;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spinning_stops_after_misses_and_resumes_when_it_would_pay() {
        let mut b = BusyPoll::new(Duration::from_micros(50));
        for _ in 0..CREDIT {
            assert_eq!(b.spin_for(), Some(Duration::from_micros(50)));
            b.miss();
        }
        assert_eq!(b.spin_for(), None);
        b.slept(Duration::from_millis(5));
        assert_eq!(b.spin_for(), None, "a long sleep is no reason to spin");
        b.slept(Duration::from_micros(30));
        assert!(b.spin_for().is_some());
        b.miss();
        b.hit();
        for _ in 0..CREDIT - 1 {
            b.miss();
        }
        assert!(b.spin_for().is_some(), "a hit restores the full credit");
    }

    #[test]
    fn zero_budget_never_spins() {
        assert_eq!(BusyPoll::new(Duration::ZERO).spin_for(), None);
    }
}
