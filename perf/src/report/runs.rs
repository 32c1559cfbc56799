//! What the report runs ([`Plan`], [`run`]): the tools, their arguments, the order, and
//! the Ceph part with its mon; each tool runs as one [`Step`] (see [`super::exec`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::cluster::{Cluster, ClusterSpec};
use super::exec::{CommandSpec, run_step};
use super::machine::{Machine, load_now};
use super::model::{self, Outcome, Step};
use super::targets::MON_CONNS;
use super::{BusyCase, CephPart, Report, Settings};

/// The tools of this crate the report runs, looked for beside `perf-report`.
pub const TOOLS: [&str; 3] = ["perf-msgr", "perf-alloc", "perf-mon"];

/// Connection counts of section 5.
pub const MANY_CONNS: [usize; 2] = [64, 1000];

/// `--busy-poll-us` of section 8's "on" cases.
pub const BUSY_POLL_US: u64 = 50;

/// Requests in flight per connection in section 7 (perf-mon's default).
pub const MON_DEPTH: usize = 16;

/// What to run and where.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The folder of perf-msgr, perf-alloc and perf-mon.
    pub bin_dir: PathBuf,
    /// The workspace (git, rustc).
    pub workspace: PathBuf,
    /// perf-report's own command line.
    pub command: String,
    /// Measured seconds per point.
    pub secs: f64,
    /// Warm-up seconds per point.
    pub warmup: f64,
    /// A smoke run: short windows, few messages.
    pub quick: bool,
    /// Skip section 7.
    pub skip_ceph: bool,
    /// The rados-peer binary.
    pub rados_peer: PathBuf,
    /// The mon of section 7.
    pub cluster: ClusterSpec,
}

impl Plan {
    /// Tools missing from `bin_dir`.
    pub fn missing_tools(&self) -> Vec<PathBuf> {
        TOOLS
            .iter()
            .map(|t| self.bin_dir.join(t))
            .filter(|p| !p.is_file())
            .collect()
    }

    /// `name` from `bin_dir` with `args`.
    fn tool(&self, name: &str, args: Vec<String>) -> CommandSpec {
        CommandSpec {
            env: Vec::new(),
            program: self.bin_dir.join(name),
            args,
        }
    }

    /// `--secs S --warmup W`.
    fn window_args(&self) -> Vec<String> {
        words(&format!("--secs {} --warmup {}", self.secs, self.warmup))
    }

    /// `perf-msgr LOAD --secs S --warmup W --json`.
    fn perf_msgr(&self, load: &str) -> CommandSpec {
        let mut args = words(load);
        args.extend(self.window_args());
        args.push("--json".into());
        self.tool("perf-msgr", args)
    }

    /// How long a tool running `points` measured points may take before it is killed.
    fn limit(&self, points: usize) -> Duration {
        Duration::from_secs_f64(60.0 + points as f64 * (self.secs + self.warmup + 10.0))
    }

    /// Measured points of the whole plan (for an estimate of its length).
    pub fn points(&self) -> usize {
        let msgr = 3 * 5 + MANY_CONNS.len() * 4 + 4 * 3;
        let ceph = if self.skip_ceph {
            0
        } else {
            3 * MON_CONNS.len()
        };
        msgr + ceph
    }

    /// A rough length of the whole run, in seconds.
    pub fn estimate_secs(&self) -> f64 {
        let ceph_setup = if self.skip_ceph { 0.0 } else { 15.0 };
        self.points() as f64 * (self.secs + self.warmup + 0.3) + 10.0 + ceph_setup
    }

    /// Runs `perf_msgr(load)`, under `taskset -c 0` if `pin`.
    fn msgr_step(&self, load: &str, pin: bool) -> Step<model::MsgrRun> {
        let mut cmd = self.perf_msgr(load);
        if pin {
            cmd = cmd.pinned("0");
        }
        run_step(&cmd, self.limit(5), model::parse_msgr)
    }
}

/// `args` split at spaces (no argument the report builds this way contains one).
fn words(args: &str) -> Vec<String> {
    args.split_whitespace().map(String::from).collect()
}

/// perf-msgr's load options: every driver against `baselines`.
fn msgr_load(size: usize, depth: usize, conns: usize, baselines: &str) -> String {
    format!("--size {size} --depth {depth} --conns {conns} --baseline {baselines} --driver all")
}

/// Every `--baseline` of perf-msgr.
const ALL_BASELINES: &str = "raw_tcp,tokio,tokio_uring";

fn taskset_available() -> bool {
    Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the whole plan, calling `progress` with a line before each step.
pub fn run(plan: &Plan, progress: &mut dyn FnMut(String)) -> Report {
    let t0 = Instant::now();
    let mut machine = Machine::probe(&plan.workspace);
    let total = 8;
    let mut note = |n: usize, what: &str| {
        progress(format!(
            "[{n}/{total}] {what} ({:.0} s so far)",
            t0.elapsed().as_secs_f64()
        ))
    };

    note(2, "4 KiB pipelined");
    let pipelined = plan.msgr_step(&msgr_load(4096, 64, 1, ALL_BASELINES), false);
    note(3, "64 B, depth 256");
    let small = plan.msgr_step(&msgr_load(64, 256, 1, ALL_BASELINES), false);
    note(3, "64 B, depth 256, busy poll");
    let small_busy = plan.msgr_step(
        &format!(
            "{} --busy-poll-us {BUSY_POLL_US}",
            msgr_load(64, 256, 1, "raw_tcp")
        ),
        false,
    );
    note(4, "4 MiB, depth 4");
    let large = plan.msgr_step(&msgr_load(4 << 20, 4, 1, ALL_BASELINES), false);
    let many = MANY_CONNS
        .iter()
        .map(|&c| {
            note(5, &format!("{c} connections"));
            plan.msgr_step(&msgr_load(64, 4, c, "tokio,tokio_uring"), false)
        })
        .collect();

    note(6, "allocations per message");
    let (messages, warmup) = if plan.quick {
        (5_000, 1_000)
    } else {
        (100_000, 10_000)
    };
    let alloc_cmd = plan.tool(
        "perf-alloc",
        words(&format!(
            "--size 64,4096 --driver all --messages {messages} --warmup {warmup} --json"
        )),
    );
    let alloc = run_step(&alloc_cmd, Duration::from_secs(300), model::parse_alloc);

    note(
        7,
        &if plan.skip_ceph {
            "skipped (--skip-ceph)".to_owned()
        } else {
            format!(
                "ceph-mon vs cuttle, rados-rs (if interrupted, stop the mon with: {})",
                plan.cluster.down().display()
            )
        },
    );
    let ceph = ceph_part(plan);

    let pin_ok = taskset_available();
    let busy = [(false, None), (false, Some(BUSY_POLL_US))]
        .into_iter()
        .chain([(true, None), (true, Some(BUSY_POLL_US))])
        .map(|(pinned, busy_poll_us)| {
            note(
                8,
                &format!(
                    "busy poll {}, {}",
                    busy_poll_us.map_or("off".into(), |u| format!("{u} µs")),
                    if pinned { "pinned" } else { "unpinned" }
                ),
            );
            let mut load = msgr_load(64, 1, 1, "raw_tcp");
            if let Some(us) = busy_poll_us {
                load += &format!(" --busy-poll-us {us}");
            }
            let step = if pinned && !pin_ok {
                Step::skipped(
                    plan.perf_msgr(&load).pinned("0").display(),
                    "taskset not found",
                )
            } else {
                plan.msgr_step(&load, pinned)
            };
            BusyCase {
                pinned,
                busy_poll_us,
                step,
            }
        })
        .collect();

    machine.load_end = load_now();
    Report {
        machine,
        settings: Settings {
            command: plan.command.clone(),
            secs: plan.secs,
            warmup: plan.warmup,
            quick: plan.quick,
            optimized: !cfg!(debug_assertions),
        },
        pipelined,
        small,
        small_busy,
        large,
        many,
        alloc,
        ceph,
        busy,
        wall_s: t0.elapsed().as_secs_f64(),
    }
}

/// How to build rados-peer (it is not a workspace member).
pub const RADOS_PEER_BUILD: &str =
    "cd bench/rados-peer && CARGO_TARGET_DIR=/work/target-rados cargo build --release";

fn ceph_part(plan: &Plan) -> CephPart {
    let spec = &plan.cluster;
    let conns = MON_CONNS.map(|c| c.to_string()).join(",");
    let depth = MON_DEPTH.to_string();
    let mut mon_args = words(&format!(
        "--target both --conns {conns} --depth {depth} --ceph-conf"
    ));
    mon_args.push(spec.conf().display().to_string());
    mon_args.extend(plan.window_args());
    mon_args.push("--json".into());
    let mut busy_args = mon_args.clone();
    busy_args.extend(words(&format!("--busy-poll-us {BUSY_POLL_US}")));
    let mon_cmd = plan.tool("perf-mon", mon_args);
    let mon_busy_cmd = plan.tool("perf-mon", busy_args);
    let mut rados_args = words(&format!(
        "--mon {} --conns {conns} --depth {depth} --threads 1",
        spec.mon_addr()
    ));
    rados_args.extend(plan.window_args());
    let rados_cmd = CommandSpec {
        env: Vec::new(),
        program: plan.rados_peer.clone(),
        args: rados_args,
    };
    let down = spec.down().display();
    if plan.skip_ceph {
        let why = "--skip-ceph";
        return CephPart {
            up: Step::skipped(spec.up().display(), why),
            down,
            mon: Step::skipped(mon_cmd.display(), why),
            mon_busy: Step::skipped(mon_busy_cmd.display(), why),
            rados: Step::skipped(rados_cmd.display(), why),
        };
    }
    let load_before = load_now();
    let t0 = Instant::now();
    let started = Cluster::start(spec);
    let up = Step {
        command: spec.up().display(),
        load_before,
        load_after: load_now(),
        wall_s: t0.elapsed().as_secs_f64(),
        outcome: match &started {
            Ok(_) => Outcome::Done(()),
            Err(e) => Outcome::Failed(e.clone()),
        },
    };
    let Ok(cluster) = started else {
        let why = "the mon did not start (see up.sh above)";
        return CephPart {
            up,
            down,
            mon: Step::skipped(mon_cmd.display(), why),
            mon_busy: Step::skipped(mon_busy_cmd.display(), why),
            rados: Step::skipped(rados_cmd.display(), why),
        };
    };
    let mon = run_step(&mon_cmd, plan.limit(2 * MON_CONNS.len()), model::parse_mon);
    let mon_busy = run_step(
        &mon_busy_cmd,
        plan.limit(2 * MON_CONNS.len()),
        model::parse_mon,
    );
    let rados = if plan.rados_peer.is_file() {
        run_step(&rados_cmd, plan.limit(MON_CONNS.len()), model::parse_rados)
    } else {
        Step::skipped(
            rados_cmd.display(),
            format!(
                "{} not found; build it with `{RADOS_PEER_BUILD}`",
                plan.rados_peer.display()
            ),
        )
    };
    drop(cluster);
    CephPart {
        up,
        down,
        mon,
        mon_busy,
        rados,
    }
}

/// The workspace root: this crate's parent folder, as compiled.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
