//! `perf-report`: the whole performance comparison in one command, written as
//! `BENCHMARKS.md`.
//!
//! It drives the whole-program tools of this crate (`perf-msgr`, `perf-alloc`, `perf-mon`)
//! and `bench/rados-peer` as subprocesses with `--json`, and turns their figures into
//! GitHub-flavoured markdown. Every figure is shown beside its baseline from the same tool
//! run, with the ratio; every target is checked against the figures and summarised at the
//! top; every section names the exact command that reproduces it.
//!
//! - [`model`]: one invocation ([`Step`]) and the figures parsed from each tool's JSON.
//! - [`machine`]: CPU, memory, kernel, toolchain, commit, load.
//! - [`targets`]: the targets and their verdicts.
//! - [`markdown`] and [`sections`]: rendering, pure: a [`Report`] in, a `String` out.
//! - [`runs`]: the plan: which commands, in which order.
//! - [`exec`]: running one command with a time limit, as a [`Step`].
//! - [`cluster`]: the Ceph mon for section 7, stopped by a guard.

pub mod cluster;
pub mod exec;
pub mod machine;
pub mod markdown;
pub mod model;
pub mod runs;
pub mod sections;
pub mod targets;

pub use machine::Machine;
pub use model::{AllocRow, MonRun, MsgrRun, Outcome, RadosRow, Step};

/// The sections of the report, numbered as in `BENCHMARKS.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// 1. The machine.
    Machine,
    /// 2. 4 KiB messages, pipelined.
    Pipelined,
    /// 3. 64 B messages, one connection.
    Small,
    /// 4. 4 MiB messages.
    Large,
    /// 5. Many connections.
    ManyConns,
    /// 6. Allocations per received message.
    Alloc,
    /// 7. ceph-mon vs cuttle, and rados-rs.
    Mon,
    /// 8. Busy poll, ping-pong.
    BusyPoll,
}

impl Section {
    /// Every section, in order.
    pub const ALL: [Section; 8] = [
        Section::Machine,
        Section::Pipelined,
        Section::Small,
        Section::Large,
        Section::ManyConns,
        Section::Alloc,
        Section::Mon,
        Section::BusyPoll,
    ];

    /// Its number.
    pub fn number(self) -> usize {
        Section::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    /// Its title.
    pub fn title(self) -> &'static str {
        match self {
            Section::Machine => "Machine",
            Section::Pipelined => "4 KiB messages, pipelined (depth 64, 1 connection)",
            Section::Small => "64 B messages, 1 connection (depth 256)",
            Section::Large => "4 MiB messages (depth 4, 1 connection)",
            Section::ManyConns => "Many connections (64 B, depth 4)",
            Section::Alloc => "Allocations per received message",
            Section::Mon => "Real ceph-mon vs cuttle (MMonGetVersion)",
            Section::BusyPoll => "Busy poll: 64 B ping-pong (depth 1, 1 connection)",
        }
    }

    /// The markdown heading (`## 2. 4 KiB messages, ...`).
    pub fn heading(self) -> String {
        format!("## {}. {}", self.number(), self.title())
    }
}

/// How the report was asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// perf-report's own command line.
    pub command: String,
    /// Measured seconds per point.
    pub secs: f64,
    /// Warm-up seconds per point.
    pub warmup: f64,
    /// `--quick`: a smoke run, figures not meaningful.
    pub quick: bool,
    /// Built with optimisations (a debug build's figures are not meaningful either).
    pub optimized: bool,
}

/// The Ceph part (section 7): the mon started for it, ceph-mon vs cuttle, and rados-rs.
#[derive(Clone, Debug, PartialEq)]
pub struct CephPart {
    /// How the mon was started (`up.sh`), or why not.
    pub up: Step<()>,
    /// How it was stopped (`down.sh`).
    pub down: String,
    /// `perf-mon`: ceph-mon and cuttle's responder.
    pub mon: Step<MonRun>,
    /// `perf-mon` again with busy polling on in cuttle's client and responder.
    pub mon_busy: Step<MonRun>,
    /// `rados-peer`: the rados crate's client against the same mon.
    pub rados: Step<Vec<RadosRow>>,
}

/// One busy-poll case of section 8.
#[derive(Clone, Debug, PartialEq)]
pub struct BusyCase {
    /// The whole perf-msgr process under `taskset -c 0`.
    pub pinned: bool,
    /// `--busy-poll-us`, if on.
    pub busy_poll_us: Option<u64>,
    /// The run.
    pub step: Step<MsgrRun>,
}

/// Everything measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Where and when.
    pub machine: Machine,
    /// How.
    pub settings: Settings,
    /// 2.
    pub pipelined: Step<MsgrRun>,
    /// 3.
    pub small: Step<MsgrRun>,
    /// 3, again with busy polling in cuttle's messengers.
    pub small_busy: Step<MsgrRun>,
    /// 4.
    pub large: Step<MsgrRun>,
    /// 5: one step per connection count.
    pub many: Vec<Step<MsgrRun>>,
    /// 6.
    pub alloc: Step<Vec<AllocRow>>,
    /// 7 (every step skipped with `--skip-ceph`).
    pub ceph: CephPart,
    /// 8.
    pub busy: Vec<BusyCase>,
    /// Wall-clock seconds of the whole run.
    pub wall_s: f64,
}
