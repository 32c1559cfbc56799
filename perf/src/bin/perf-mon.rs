//! `perf-mon`: a real Ceph 16.2 `ceph-mon` against cuttle's minimal mon-like responder,
//! both driven by the same cuttle client with the same MMonGetVersion load. See
//! `cuttle_perf::mon_bench` and `--help`.
//!
//! ```text
//! perf-mon                                        # both targets, conns 1,4,16, depth 16
//! perf-mon --target cuttle --conns 1,2 --secs 0.5 --json
//! perf-mon --target ceph --mon-addr v2:127.0.0.1:3300/0 --mon-pid 1234   # a running mon
//! perf-mon --serve 127.0.0.1:0 --server-workers 1  # the responder alone (stops at EOF on stdin)
//! ```

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use cuttle_perf::mon_bench::{self, CephSource, Params, Target, ceph, responder};
use msgr::DriverKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TargetArg {
    /// A real ceph-mon (started with shared/ceph/up.sh unless --ceph-conf/--mon-addr).
    Ceph,
    /// cuttle's responder, spawned as `perf-mon --serve`.
    Cuttle,
    /// Both, interleaved per --conns value.
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Driver {
    Epoll,
    #[value(name = "io_uring")]
    IoUring,
}

const ABOUT: &str = "ceph-mon vs cuttle: MMonGetVersion round trips from the same cuttle client";

const LONG_ABOUT: &str = "\
ceph-mon vs cuttle: MMonGetVersion round trips from the same cuttle client.

Each connection keeps --depth MMonGetVersion(\"osdmap\") requests in flight; every reply is timed
and at once replaced. For each target and --conns value it reports requests/s, latency
percentiles, and the CPU the SERVER process spent per request (utime+stime of /proc/<pid>/stat
over the measured window), plus the client's CPU for information.

Targets:
  ceph    a real Ceph 16.2 ceph-mon, one mon and no mgr, started with shared/ceph/up.sh under
          --ceph-dir on --ceph-port and stopped with down.sh at the end (also on error). With
          --ceph-conf or --mon-addr a running mon is used instead and left running.
          ceph-mon uses 3 msgr-worker threads (ms_async_op_threads) and answers MMonGetVersion
          on its single ms_dispatch thread under the monitor lock.
  cuttle  cuttle's minimal mon-like responder in a child process (perf-mon --serve), answering
          from its --server-workers worker thread(s) with fast dispatch.

Defaults: --depth 16, --conns 1,4,16, --secs 3, --warmup 0.5. Depth 16 keeps the mon's
dispatch thread busy (at depth 1 a point would mostly measure loopback wake-up latency) while
16 x 16 = 256 requests outstanding stay far below every mon throttle (mon_client_bytes
100 MiB) and latency stays in milliseconds, far below any time-out: ceph-mon is loaded, not
starved, and every connection is checked to get replies (a run fails otherwise). 3 s per
point after 0.5 s of warm-up (which covers the handshakes) resolves CPU to ~0.3 % of a core
(10 ms ticks) and keeps a whole default run near 30 s. On a busy machine, CPU us/req is the
steadier figure: req/s and latency also count time spent waiting for a CPU.

If interrupted, stop the mon with:
  CEPH_REF_DIR=<--ceph-dir> CEPH_REF_PORT=<--ceph-port> shared/ceph/down.sh";

/// Command line.
#[derive(Parser, Debug)]
#[command(name = "perf-mon", version, about = ABOUT, long_about = LONG_ABOUT)]
struct Args {
    /// Which server(s) to measure.
    #[arg(long, value_enum, default_value = "both")]
    target: TargetArg,
    /// Connection counts, one point per target each.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4, 16])]
    conns: Vec<usize>,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 16)]
    depth: usize,
    /// Measured seconds per point.
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
    /// Unmeasured seconds before each point (handshakes, slow start).
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
    /// Opt-in busy polling (DriverConfig::busy_poll) of cuttle's client and responder, in
    /// µs of spin before sleeping; 0 = off (the default).
    #[arg(long, default_value_t = 0)]
    busy_poll_us: u64,
    /// Event driver of cuttle's client and responder.
    #[arg(long, value_enum, default_value = "epoll")]
    driver: Driver,
    /// Worker threads of the client messenger.
    #[arg(long, default_value_t = 1)]
    client_workers: usize,
    /// Worker threads of cuttle's responder.
    #[arg(long, visible_alias = "workers", default_value_t = 1)]
    server_workers: usize,
    /// The map asked about (ceph-mon answers only these four).
    #[arg(long, default_value = "osdmap",
          value_parser = ["osdmap", "monmap", "mdsmap", "fsmap"])]
    what: String,
    /// Use the running cluster of this ceph.conf instead of starting one.
    #[arg(long)]
    ceph_conf: Option<PathBuf>,
    /// Use the running mon at this address (v2:IP:PORT/0) instead of starting one.
    #[arg(long)]
    mon_addr: Option<String>,
    /// The running mon's process (found from --ceph-conf, or the only ceph-mon, otherwise).
    #[arg(long)]
    mon_pid: Option<u32>,
    /// CEPH_REF_DIR of the cluster perf-mon starts (removed by down.sh at the end).
    #[arg(long, default_value = "/tmp/ceph-perfmon")]
    ceph_dir: PathBuf,
    /// CEPH_REF_PORT of the cluster perf-mon starts (the mon's port).
    #[arg(long, default_value_t = 15300)]
    ceph_port: u16,
    /// Folder holding up.sh and down.sh (default: shared/ceph beside the checkout).
    #[arg(long)]
    ceph_scripts: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Run only cuttle's responder on this address, print its ready line, and serve until
    /// stdin closes (how perf-mon starts its child).
    #[arg(long, value_name = "ADDR")]
    serve: Option<SocketAddr>,
}

fn main() -> anyhow::Result<()> {
    cuttle_perf::init_tracing();
    let a = Args::parse();
    mon_bench::set_busy_poll_us(a.busy_poll_us);
    let driver = match a.driver {
        Driver::Epoll => DriverKind::Epoll,
        Driver::IoUring => DriverKind::IoUring,
    };
    if let Some(bind) = a.serve {
        return responder::serve_until_stdin_closes(bind, driver, a.server_workers);
    }
    let targets = match a.target {
        TargetArg::Ceph => vec![Target::Ceph],
        TargetArg::Cuttle => vec![Target::Cuttle],
        TargetArg::Both => vec![Target::Ceph, Target::Cuttle],
    };
    let params = Params {
        targets,
        conns: a.conns,
        depth: a.depth,
        secs: a.secs,
        warmup: a.warmup,
        driver,
        client_workers: a.client_workers,
        server_workers: a.server_workers,
        what: a.what,
    };
    let source = if a.ceph_conf.is_some() || a.mon_addr.is_some() {
        CephSource::Attach {
            conf: a.ceph_conf,
            addr: a.mon_addr,
            pid: a.mon_pid,
        }
    } else {
        CephSource::Start {
            scripts: a.ceph_scripts.unwrap_or_else(ceph::default_scripts),
            dir: a.ceph_dir,
            port: a.ceph_port,
        }
    };
    let report = mon_bench::run(&params, &source, |p| {
        if !a.json {
            eprintln!("{}", p.progress_line());
        }
    })?;
    if a.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}
