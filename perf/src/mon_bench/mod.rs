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

use msgr::messenger::MessengerConfig;
use msgr::{DriverConfig, DriverKind, StackConfig};

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

/// Busy-poll budget (µs) for every cuttle messenger of this process, 0 = off
/// (`--busy-poll-us`; the responder child is given the same flag).
static BUSY_POLL_US: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Sets the busy-poll budget of the cuttle messengers this process creates (0 = off).
pub fn set_busy_poll_us(us: u64) {
    BUSY_POLL_US.store(us, std::sync::atomic::Ordering::Relaxed);
}

/// The busy-poll budget set with [`set_busy_poll_us`].
pub fn busy_poll_us() -> u64 {
    BUSY_POLL_US.load(std::sync::atomic::Ordering::Relaxed)
}

/// A messenger configuration with `workers` workers on `driver`, defaults otherwise.
pub(crate) fn messenger_config(driver: DriverKind, workers: usize) -> MessengerConfig {
    let mut driver = DriverConfig::with_kind(driver);
    driver.busy_poll = match busy_poll_us() {
        0 => None,
        us => Some(std::time::Duration::from_micros(us)),
    };
    MessengerConfig {
        stack: StackConfig {
            workers,
            driver,
            cpus: Vec::new(),
        },
        ..MessengerConfig::default()
    }
}

// The driver check and the machine description are perf-msgr's.
pub use crate::msgr_bench::{check_driver, load_average, machine};
