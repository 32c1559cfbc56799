//! A run's result ([`Measured`]: its report, the CPU time the process spent in the window
//! and, for cuttle, how the server's received bytes reached their buffers) and the probe
//! that reads that CPU time.

use std::thread;
use std::time::Instant;

use msgr::frames::RxCopyStats;
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
    /// cuttle runs with their server in this process: the server messenger's receive-copy
    /// statistics over the whole run. `None` for the baselines and a lone client.
    pub server_rx: Option<ServerRx>,
}

/// The receive-copy statistics of a server messenger over a whole run (handshake and
/// warm-up included) and the requests it received meanwhile.
#[derive(Clone, Copy, Debug)]
pub struct ServerRx {
    /// Requests the server received.
    pub messages: u64,
    /// Its [`Messenger::rx_copy_stats`](msgr::messenger::Messenger::rx_copy_stats).
    pub stats: RxCopyStats,
}

impl ServerRx {
    /// (copied, shared, direct) bytes per received message (0 without messages).
    pub fn per_msg(&self) -> (f64, f64, f64) {
        let per = |b: u64| match self.messages {
            0 => 0.0,
            n => b as f64 / n as f64,
        };
        (
            per(self.stats.copied),
            per(self.stats.shared),
            per(self.stats.direct),
        )
    }

    /// As JSON: totals and `rx_{copied,shared,direct}_bytes_per_msg`.
    pub fn to_json(&self) -> Value {
        let (c, s, d) = self.per_msg();
        json!({
            "messages": self.messages,
            "copied_bytes": self.stats.copied,
            "shared_bytes": self.stats.shared,
            "direct_bytes": self.stats.direct,
            "rx_copied_bytes_per_msg": c,
            "rx_shared_bytes_per_msg": s,
            "rx_direct_bytes_per_msg": d,
        })
    }
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

    /// The report as JSON, with a `cpu` object and `server_rx` (see [`ServerRx::to_json`];
    /// null when not measured).
    pub fn to_json(&self) -> Value {
        let mut v = self.report.to_json();
        v["cpu"] = json!({
            "seconds": self.cpu_s,
            "cores": self.cpu_cores(),
            "us_per_msg": self.cpu_us_per_msg(),
        });
        v["server_rx"] = self.server_rx.map_or(Value::Null, |r| r.to_json());
        v
    }

    /// The report as text, with a CPU line and a server receive-copy line.
    pub fn to_text(&self) -> String {
        let mut s = self.report.to_text();
        if let (Some(cores), Some(per)) = (self.cpu_cores(), self.cpu_us_per_msg()) {
            s += &format!("\n  cpu: {cores:.2} cores busy, {per:.2} us per message");
        }
        if let Some(rx) = self.server_rx {
            let (c, sh, d) = rx.per_msg();
            s += &format!(
                "\n  server rx bytes/msg: {c:.1} copied, {sh:.1} shared (zero copy), {d:.1} direct (zero copy)"
            );
        }
        s
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

/// Sleeps until `t` (a measurement window's edge); returns at once if it passed.
pub fn sleep_until(t: Instant) {
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
