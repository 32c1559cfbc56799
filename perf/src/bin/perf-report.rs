//! `perf-report`: runs the whole performance comparison and writes `BENCHMARKS.md`.
//!
//! It runs the tools of this crate (`perf-msgr`, `perf-alloc`, `perf-mon`) and
//! `bench/rados-peer` as subprocesses with `--json`, takes them from the folder of its own
//! executable, and renders their figures as markdown: a summary of the targets, the machine,
//! then one section per comparison with the baseline beside every figure and the command
//! that reproduces it. See `cuttle_perf::report`.
//!
//! Build the tools first, in the same target folder (`cargo run --bin perf-report` builds
//! only perf-report itself):
//!
//! ```text
//! cargo build --release -p cuttle-perf --bins
//! target/release/perf-report                       # 2-3 minutes, writes BENCHMARKS.md
//! target/release/perf-report --quick --skip-ceph --out /tmp/b.md   # ~20 s smoke run
//! ```
//!
//! Section 7 starts a real Ceph 16.2 ceph-mon with `up.sh` of `shared/ceph` (beside the
//! checkout) under `--ceph-dir` and `--ceph-port`, and stops it with `down.sh`, also when a
//! step fails. If perf-report itself is killed meanwhile, stop the mon with the `down.sh`
//! command it printed before starting it (also the last command of section 7).

#![forbid(unsafe_code)]

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use cuttle_perf::report::cluster::ClusterSpec;
use cuttle_perf::report::exec::shell_quote;
use cuttle_perf::report::markdown;
use cuttle_perf::report::runs::{self, Plan, RADOS_PEER_BUILD};
use cuttle_perf::report::targets::{self, Verdict};

const LONG_ABOUT: &str = "\
Runs the whole performance comparison and writes BENCHMARKS.md.

Sections: 1 machine; 2 4 KiB pipelined (depth 64) vs raw_tcp, tokio, tokio_uring; 3 64 B
(depth 256); 4 4 MiB (depth 4) with the server's receive-copy statistics; 5 64 and 1000
connections (64 B, depth 4) vs tokio and tokio_uring; 6 allocations per received message
(perf-alloc); 7 a real ceph-mon vs cuttle's responder (perf-mon, 1/4/16 connections) and the
rados crate's client (rados-peer) against the same mon; 8 busy poll off/on for 64 B ping-pong,
unpinned and pinned to one CPU. Each point: --secs measured after --warmup (default 2 s after
0.5 s); the whole run takes 2-3 minutes.

The tools are taken from --bin-dir (default: the folder of this executable). Build them
first: cargo build --release -p cuttle-perf --bins";

/// Command line.
#[derive(Parser, Debug)]
#[command(name = "perf-report", version, about = "Runs every benchmark and writes BENCHMARKS.md", long_about = LONG_ABOUT)]
struct Args {
    /// Measured seconds per point [default: 2, or 0.25 with --quick].
    #[arg(long)]
    secs: Option<f64>,
    /// Warm-up seconds per point [default: 0.5, or 0.1 with --quick].
    #[arg(long)]
    warmup: Option<f64>,
    /// A smoke run of ~20 s: tiny windows, few messages; the figures mean nothing.
    #[arg(long)]
    quick: bool,
    /// Skip section 7 (no Ceph started).
    #[arg(long)]
    skip_ceph: bool,
    /// Where to write the report [default: BENCHMARKS.md at the workspace root].
    #[arg(long)]
    out: Option<PathBuf>,
    /// The rados-peer binary (section 7 says how to build it if missing).
    #[arg(long, default_value = "/work/target-rados/release/rados-peer")]
    rados_peer: PathBuf,
    /// The folder of perf-msgr, perf-alloc and perf-mon [default: this executable's].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// CEPH_REF_DIR of the mon started for section 7 (removed by down.sh at the end).
    #[arg(long, default_value = "/tmp/ceph-perfreport")]
    ceph_dir: PathBuf,
    /// CEPH_REF_PORT of that mon.
    #[arg(long, default_value_t = 18300)]
    ceph_port: u16,
    /// The folder of up.sh and down.sh [default: shared/ceph beside the checkout].
    #[arg(long)]
    ceph_scripts: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let workspace = runs::workspace_root();
    let bin_dir = match a.bin_dir {
        Some(d) => d,
        None => std::env::current_exe()
            .context("where is this executable?")?
            .parent()
            .context("the executable has no folder")?
            .to_path_buf(),
    };
    let secs = a.secs.unwrap_or(if a.quick { 0.25 } else { 2.0 });
    let warmup = a.warmup.unwrap_or(if a.quick { 0.1 } else { 0.5 });
    anyhow::ensure!(
        secs > 0.0 && warmup >= 0.0,
        "--secs must be positive, --warmup not negative"
    );
    let command = std::env::args()
        .map(|s| shell_quote(&s))
        .collect::<Vec<_>>()
        .join(" ");
    let plan = Plan {
        bin_dir,
        workspace: workspace.clone(),
        command,
        secs,
        warmup,
        quick: a.quick,
        skip_ceph: a.skip_ceph,
        rados_peer: a.rados_peer,
        cluster: ClusterSpec {
            scripts: {
                let s = a
                    .ceph_scripts
                    .unwrap_or_else(cuttle_perf::mon_bench::ceph::default_scripts);
                s.canonicalize().unwrap_or(s)
            },
            dir: a.ceph_dir,
            port: a.ceph_port,
        },
    };
    let missing = plan.missing_tools();
    anyhow::ensure!(
        missing.is_empty(),
        "missing {}: build the tools first, in the same target folder as perf-report: \
         cargo build --release -p cuttle-perf --bins",
        missing
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !a.skip_ceph && !plan.rados_peer.is_file() {
        eprintln!(
            "perf-report: no {}: the rados-rs rows will be skipped (build: {RADOS_PEER_BUILD})",
            plan.rados_peer.display()
        );
    }
    let out = a.out.unwrap_or_else(|| workspace.join("BENCHMARKS.md"));
    eprintln!(
        "perf-report: {} points of {secs} s + {warmup} s warm-up, about {:.0} s in all; \
         writing {}",
        plan.points(),
        plan.estimate_secs(),
        out.display()
    );
    let report = runs::run(&plan, &mut |line| eprintln!("perf-report: {line}"));
    let text = markdown::render(&report);
    std::fs::write(&out, &text).with_context(|| format!("write {}", out.display()))?;
    let all = targets::collect(&report);
    let met = all
        .iter()
        .filter(|t| matches!(t.verdict(), Verdict::Met(_)))
        .count();
    println!(
        "wrote {} in {:.0} s: {met} of {} targets met",
        out.display(),
        report.wall_s,
        all.len()
    );
    Ok(())
}
