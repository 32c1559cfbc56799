//! Latency samples and the report every perf tool prints (text or JSON).

use std::time::Duration;

use serde_json::{Value, json};

/// Latency percentiles in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest sample.
    pub max: f64,
}

impl Percentiles {
    /// Computes percentiles from samples in nanoseconds (sorts them).
    pub fn from_nanos(samples: &mut [u64]) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[i] as f64 / 1000.0
        };
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: at(1.0),
        }
    }
}

/// The outcome of one measured run.
#[derive(Clone, Debug)]
pub struct Report {
    /// What ran (driver, sizes, threads…), printed as given.
    pub params: Value,
    /// Length of the measured window.
    pub window: Duration,
    /// Messages completed in the window.
    pub messages: u64,
    /// Payload bytes completed in the window (one direction).
    pub bytes: u64,
    /// Round-trip latency of messages sent and completed in the window.
    pub latency: Percentiles,
}

impl Report {
    /// Messages per second.
    pub fn msgs_per_sec(&self) -> f64 {
        self.messages as f64 / self.window.as_secs_f64()
    }

    /// Megabytes (10^6) per second, one direction.
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / self.window.as_secs_f64() / 1e6
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> Value {
        json!({
            "params": self.params,
            "window_s": self.window.as_secs_f64(),
            "messages": self.messages,
            "bytes": self.bytes,
            "msgs_per_sec": self.msgs_per_sec(),
            "mb_per_sec": self.mb_per_sec(),
            "latency_us": {
                "p50": self.latency.p50, "p90": self.latency.p90, "p99": self.latency.p99,
                "p99.9": self.latency.p999, "max": self.latency.max,
            },
        })
    }

    /// The report as a few lines of text.
    pub fn to_text(&self) -> String {
        let l = &self.latency;
        format!(
            "{}\n  {:.0} msg/s  {:.1} MB/s  ({} messages in {:.2} s)\n  latency us: p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
            self.params,
            self.msgs_per_sec(),
            self.mb_per_sec(),
            self.messages,
            self.window.as_secs_f64(),
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_ranks() {
        let mut v: Vec<u64> = (1..=1000).map(|i| i * 1000).collect();
        let p = Percentiles::from_nanos(&mut v);
        assert_eq!(p.p50, 500.0);
        assert_eq!(p.p90, 900.0);
        assert_eq!(p.p99, 990.0);
        assert_eq!(p.p999, 999.0);
        assert_eq!(p.max, 1000.0);
        assert_eq!(Percentiles::from_nanos(&mut []), Percentiles::default());
    }
}
