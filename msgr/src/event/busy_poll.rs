//! Opt-in adaptive busy polling: before a wait that would sleep, poll the driver without
//! blocking for a bounded time, so that an event arriving within it is handled without the
//! sleep and the wakeup (~20-25 µs on a virtual CPU). Off by default: it trades CPU for
//! latency, and only pays where the peer runs on another CPU.
//!
//! Adaptive: a run of polls that found nothing stops the spinning. It resumes once sleeps
//! show that events come soon enough for a poll to have caught them; each time spinning
//! resumes and fails again, it takes twice as many such sleeps to resume (so a peer that only
//! runs while we sleep, e.g. on the same CPU, does not keep paying for fruitless spins).
//! A process confined to one CPU never spins.

use std::time::Duration;

/// Fruitless spins in a row after which spinning stops.
const CREDIT: u8 = 8;
/// Most qualifying sleeps ever required before spinning resumes.
const MAX_PENALTY: u32 = 1 << 12;

/// Busy-poll state of one center.
#[derive(Debug)]
pub(crate) struct BusyPoll {
    budget: Duration,
    credit: u8,
    /// Qualifying sleeps required before spinning resumes (doubles on each relapse).
    penalty: u32,
    /// Qualifying sleeps seen since spinning stopped.
    seen: u32,
}

impl BusyPoll {
    /// A busy poller that spins at most `budget` before each sleep; `None` if it could not
    /// help (zero budget, or `cpus` < 2 available to the process).
    pub(crate) fn new(budget: Duration, cpus: usize) -> Option<Self> {
        (!budget.is_zero() && cpus > 1).then_some(BusyPoll {
            budget,
            credit: CREDIT,
            penalty: 1,
            seen: 0,
        })
    }

    /// How long to spin before the next sleep, if at all.
    pub(crate) fn spin_for(&self) -> Option<Duration> {
        (self.credit > 0).then_some(self.budget)
    }

    /// A spin found an event.
    pub(crate) fn hit(&mut self) {
        self.credit = CREDIT;
        self.penalty = 1;
    }

    /// A spin ran out of budget with nothing found.
    pub(crate) fn miss(&mut self) {
        self.credit = self.credit.saturating_sub(1);
        if self.credit == 0 {
            self.seen = 0;
        }
    }

    /// A sleep (not preceded by a spin) ended with an event after `slept`: enough of these
    /// within the budget and spinning resumes.
    pub(crate) fn slept(&mut self, slept: Duration) {
        if self.credit > 0 || slept > self.budget {
            return;
        }
        self.seen += 1;
        if self.seen >= self.penalty {
            self.credit = CREDIT;
            self.penalty = (self.penalty * 2).min(MAX_PENALTY);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Duration = Duration::from_micros(50);

    fn exhaust(b: &mut BusyPoll) {
        for _ in 0..CREDIT {
            assert_eq!(b.spin_for(), Some(B));
            b.miss();
        }
        assert_eq!(b.spin_for(), None);
    }

    #[test]
    fn spinning_stops_after_misses_and_resumes_when_it_would_pay() {
        let mut b = BusyPoll::new(B, 2).unwrap();
        exhaust(&mut b);
        b.slept(Duration::from_millis(5));
        assert_eq!(b.spin_for(), None, "a long sleep is no reason to spin");
        b.slept(Duration::from_micros(30));
        assert!(b.spin_for().is_some());
        b.hit();
        for _ in 0..CREDIT - 1 {
            b.miss();
        }
        assert!(b.spin_for().is_some(), "a hit restores the full credit");
    }

    #[test]
    fn each_relapse_doubles_the_sleeps_needed() {
        let mut b = BusyPoll::new(B, 2).unwrap();
        for need in [1, 2, 4, 8] {
            exhaust(&mut b);
            for _ in 0..need - 1 {
                b.slept(Duration::from_micros(10));
                assert_eq!(b.spin_for(), None, "resumed before {need} sleeps");
            }
            b.slept(Duration::from_micros(10));
            assert!(b.spin_for().is_some(), "not resumed after {need} sleeps");
        }
        b.hit();
        exhaust(&mut b);
        b.slept(Duration::from_micros(10));
        assert!(b.spin_for().is_some(), "a hit resets the penalty");
    }

    #[test]
    fn never_with_one_cpu_or_no_budget() {
        assert!(BusyPoll::new(Duration::ZERO, 2).is_none());
        assert!(BusyPoll::new(B, 1).is_none());
    }
}
