//! Comparing runs ([`ratios`], [`median`]) and describing what ran and where ([`params_json`],
//! [`machine`], [`load_average`]).

use std::thread;

use serde_json::{Value, json};

use super::measure::Measured;
use super::params::{LoadParams, Reply};

/// The keys of [`ratios`]' object.
pub const RATIO_KEYS: [&str; 5] = [
    "mb_per_sec",
    "msgs_per_sec",
    "latency_p50",
    "latency_p99",
    "cpu_us_per_msg",
];

/// `m` relative to `base`: throughput ratios (higher is better), latency and CPU-per-message
/// ratios (lower is better). The keys are [`RATIO_KEYS`].
pub fn ratios(m: &Measured, base: &Measured) -> Value {
    let div = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    let (r, b) = (&m.report, &base.report);
    let cpu = match (m.cpu_us_per_msg(), base.cpu_us_per_msg()) {
        (Some(x), Some(y)) => json!(div(x, y)),
        _ => Value::Null,
    };
    json!({
        "msgs_per_sec": div(r.msgs_per_sec(), b.msgs_per_sec()),
        "mb_per_sec": div(r.mb_per_sec(), b.mb_per_sec()),
        "latency_p50": div(r.latency.p50, b.latency.p50),
        "latency_p99": div(r.latency.p99, b.latency.p99),
        "cpu_us_per_msg": cpu,
    })
}

/// The median of `v` (NaN if empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// The `params` of a report: the load, the transport (`"epoll"`, `"io_uring"`, `"raw_tcp"`,
/// `"tokio"`, `"tokio_uring"`), the server's workers and what it replies.
pub fn params_json(transport: &str, p: &LoadParams, server_workers: usize, reply: Reply) -> Value {
    let mut v = p.to_json();
    v["transport"] = json!(transport);
    v["server_workers"] = json!(server_workers);
    v["reply"] = reply.to_json();
    v
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// The machine a run happened on: CPUs, model, kernel, load averages.
pub fn machine() -> Value {
    let model = read_trimmed("/proc/cpuinfo").and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|m| m.trim().to_owned())
    });
    json!({
        "cpus": thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu_model": model,
        "kernel": read_trimmed("/proc/sys/kernel/osrelease"),
        "loadavg": load_average(),
    })
}

/// `/proc/loadavg`'s 1, 5 and 15 minute averages.
pub fn load_average() -> Vec<f64> {
    read_trimmed("/proc/loadavg")
        .map(|s| {
            s.split_whitespace()
                .take(3)
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }
}
