//! `perf-mon`: a real Ceph 16.2 `ceph-mon` against cuttle's minimal mon-like responder,
//! driven by the same cuttle client with the same workload.
//!
//! - [`client`]: the load. `conns` connections on one client messenger, each keeping `depth`
//!   MMonGetVersion(`osdmap`) requests in flight; every reply is timed and replaced.
//! - [`ceph`]: the real mon, started with `shared/ceph/up.sh 1 0` and stopped with `down.sh`
//!   by a guard (or attached to, if already running).
//! - [`responder`]: cuttle's side, a `Messenger` that fast-dispatches MMonGetVersion, run as
//!   a child process (`perf-mon --serve`) so its CPU is read from `/proc` exactly as the
//!   mon's is.
//! - [`procfs`]: process and per-thread CPU time from `/proc/<pid>/stat`.
//! - [`run`] measures every (target, conns) point, interleaving the targets per `conns`
//!   value; [`report`] prints them and the cuttle/ceph ratios, as a table or one JSON object.

#![forbid(unsafe_code)]

pub mod ceph;
pub mod client;
pub mod procfs;
pub mod report;
pub mod responder;
pub mod run;

use std::fmt;
use std::thread;

use msgr::messenger::MessengerConfig;
use msgr::{DriverConfig, DriverKind, NetworkStack, StackConfig};
use serde_json::{Value, json};

pub use report::{Point, Report, ServerInfo};
pub use run::{CephSource, Params, run};

/// What answers the requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// A real Ceph 16.2 `ceph-mon`.
    Ceph,
    /// cuttle's minimal responder ([`responder::MonResponder`]) in a child process.
    Cuttle,
}

impl Target {
    /// The name used in output and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Ceph => "ceph",
            Target::Cuttle => "cuttle",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A messenger configuration with `workers` workers on `driver`, defaults otherwise.
pub(crate) fn messenger_config(driver: DriverKind, workers: usize) -> MessengerConfig {
    MessengerConfig {
        stack: StackConfig {
            workers,
            driver: DriverConfig::with_kind(driver),
            cpus: Vec::new(),
        },
        ..MessengerConfig::default()
    }
}

/// Fails if the kernel would not give `driver` (io_uring silently falls back to epoll):
/// starts a one-worker stack and asks it.
pub fn check_driver(driver: DriverKind) -> anyhow::Result<()> {
    let mut stack = NetworkStack::start(&StackConfig {
        workers: 1,
        driver: DriverConfig::with_kind(driver),
        cpus: Vec::new(),
    })?;
    let actual = stack.workers()[0].driver();
    stack.stop()?;
    anyhow::ensure!(
        actual == driver,
        "asked for {driver} but the kernel gave {actual}"
    );
    Ok(())
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
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
