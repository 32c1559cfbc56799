//! A run's result ([`Measured`]: its report and the CPU time the process spent in the
//! window) and the probe that reads that CPU time.

use std::thread;
use std::time::Instant;

use serde_json::{Value, json};

use super::params::Window;
use crate::stats::Report;

/// A run's report and the CPU time this process spent during its measured window.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Throughput and latency.
    pub report: Report,
    /// CPU seconds (user + system, every thread of this process) spent in the window; `None`
    /// if `/proc/self/stat` could not be read. On a shared machine this is the steadier
    /// figure: it does not count time spent waiting for a CPU.
    pub cpu_s: Option<f64>,
}

impl Measured {
    /// CPU microseconds per completed message (both sides, when they share the process).
    pub fn cpu_us_per_msg(&self) -> Option<f64> {
        let n = self.report.messages;
        self.cpu_s.filter(|_| n > 0).map(|c| c * 1e6 / n as f64)
    }

    /// Average CPUs busy during the window.
    pub fn cpu_cores(&self) -> Option<f64> {
        self.cpu_s.map(|c| c / self.report.window.as_secs_f64())
    }

    /// The transport the report's `params` name (`"?"` if none).
    pub fn transport(&self) -> &str {
        self.report.params["transport"].as_str().unwrap_or("?")
    }

    /// The report as JSON, with a `cpu` object.
    pub fn to_json(&self) -> Value {
        let mut v = self.report.to_json();
        v["cpu"] = json!({
            "seconds": self.cpu_s,
            "cores": self.cpu_cores(),
            "us_per_msg": self.cpu_us_per_msg(),
        });
        v
    }

    /// The report as text, with a CPU line.
    pub fn to_text(&self) -> String {
        match (self.cpu_cores(), self.cpu_us_per_msg()) {
            (Some(cores), Some(per)) => format!(
                "{}\n  cpu: {cores:.2} cores busy, {per:.2} us per message",
                self.report.to_text()
            ),
            _ => self.report.to_text(),
        }
    }
}

/// CPU seconds this process has used so far (`utime + stime` of `/proc/self/stat`, in
/// 10 ms ticks: `USER_HZ` is 100 on Linux).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        thread::sleep(t - now);
    }
}

/// Reads the process's CPU time at the window's start and end, from a thread of its own.
pub(super) struct CpuProbe(thread::JoinHandle<Option<f64>>);

impl CpuProbe {
    pub(super) fn start(w: Window) -> CpuProbe {
        CpuProbe(thread::spawn(move || {
            sleep_until(w.start);
            let before = process_cpu_seconds()?;
            sleep_until(w.end);
            Some(process_cpu_seconds()? - before)
        }))
    }

    /// Waits for the window's end reading.
    pub(super) fn finish(self) -> Option<f64> {
        self.0.join().ok().flatten()
    }
}
