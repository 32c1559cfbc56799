//! `perf-msgr`: `perf-msgr-server` and `perf-msgr-client` in one process on loopback, plus a
//! raw TCP baseline measured in the same run (blocking `std::net` sockets, the same message
//! size and depth, a 4-byte length prefix and no msgr2). Every cuttle figure is printed as a
//! ratio to the baseline. With `--rounds N` the baseline and each driver run N times,
//! interleaved, and the median ratios are reported (useful on a busy machine). Each run also
//! reports the CPU time the process spent per message: on a shared machine (other processes,
//! or autogroup scheduling giving this one a single CPU) it is the steadier figure.
//!
//! ```text
//! perf-msgr --size 4096 --depth 64                  # both drivers vs raw TCP
//! perf-msgr --size 64 --depth 256 --driver epoll --secs 5
//! perf-msgr --size 4194304 --depth 4 --rounds 3 --json
//! ```
//!
//! Profiling one side at a time (no baseline threads in the profile), with frame pointers:
//!
//! ```text
//! RUSTFLAGS="-C force-frame-pointers=yes" cargo build --release -p cuttle-perf
//! perf record -e cpu-clock -g -o srv.data target/release/perf-msgr-server --bind 127.0.0.1:6800 --secs 5 &
//! perf record -e cpu-clock -g -o cli.data target/release/perf-msgr-client --server 127.0.0.1:6800 --size 4096 --secs 3
//! perf report -i srv.data --no-children --sort sym      # or: perf script | inferno-flamegraph
//! ```

#![forbid(unsafe_code)]

use anyhow::Context;
use clap::{Parser, ValueEnum};
use cuttle_perf::msgr_bench::{
    LoadParams, Measured, Reply, load_average, machine, median, ratios, run_cuttle, run_raw_tcp,
};
use msgr::DriverKind;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Driver {
    Epoll,
    #[value(name = "io_uring")]
    IoUring,
    /// Both.
    All,
}

/// msgr2 Messenger loopback benchmark against a raw TCP baseline.
#[derive(Parser, Debug)]
#[command(name = "perf-msgr", version)]
struct Args {
    /// Event driver(s) to measure.
    #[arg(long, value_enum, default_value = "all")]
    driver: Driver,
    /// Request data bytes.
    #[arg(long, default_value_t = 4096)]
    size: usize,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 64)]
    depth: usize,
    /// Connections.
    #[arg(long, default_value_t = 1)]
    conns: usize,
    /// Client worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Server worker threads.
    #[arg(long, default_value_t = 1)]
    server_workers: usize,
    /// Reply data bytes; without it, replies echo the request's data.
    #[arg(long)]
    reply_size: Option<usize>,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
    /// Unmeasured seconds before each run's window.
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
    /// Rounds of (baseline, drivers…); ratios are per round, summarised by their median.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// cuttle's receive chunk in bytes (DriverConfig::recv_buf_size; default 16 KiB). With
    /// io_uring each worker provides 512 buffers of this size.
    #[arg(long)]
    recv_buf_size: Option<u32>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// One round: the baseline and each driver, with ratios to that round's baseline.
struct Round {
    baseline: Measured,
    runs: Vec<(DriverKind, Measured)>,
}

/// The ratios of `ratios()` as one line.
fn ratio_line(v: &Value) -> String {
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    format!(
        "{:.3}x raw TCP bytes/s, {:.3}x msg/s, latency p50 {:.2}x p99 {:.2}x, cpu/msg {:.2}x",
        f("mb_per_sec"),
        f("msgs_per_sec"),
        f("latency_p50"),
        f("latency_p99"),
        f("cpu_us_per_msg"),
    )
}

const RATIO_KEYS: [&str; 5] = [
    "mb_per_sec",
    "msgs_per_sec",
    "latency_p50",
    "latency_p99",
    "cpu_us_per_msg",
];

/// Median throughput and CPU cost of several runs.
fn medians(runs: &[&Measured]) -> Value {
    let med =
        |f: &dyn Fn(&Measured) -> Option<f64>| median(runs.iter().filter_map(|r| f(r)).collect());
    json!({
        "msgs_per_sec": med(&|r| Some(r.report.msgs_per_sec())),
        "mb_per_sec": med(&|r| Some(r.report.mb_per_sec())),
        "latency_p50_us": med(&|r| Some(r.report.latency.p50)),
        "cpu_us_per_msg": med(&Measured::cpu_us_per_msg),
    })
}

fn median_line(v: &Value) -> String {
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    format!(
        "{:.0} msg/s, {:.1} MB/s, latency p50 {:.1} us, {:.2} cpu us/msg",
        f("msgs_per_sec"),
        f("mb_per_sec"),
        f("latency_p50_us"),
        f("cpu_us_per_msg")
    )
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let a = Args::parse();
    anyhow::ensure!(a.rounds > 0, "rounds must be positive");
    let p = LoadParams {
        size: a.size,
        depth: a.depth,
        conns: a.conns,
        threads: a.threads,
        secs: a.secs,
        warmup: a.warmup,
        recv_buf_size: a.recv_buf_size,
    };
    p.validate()?;
    let reply = Reply::from_size(a.reply_size);
    let drivers = match a.driver {
        Driver::Epoll => vec![DriverKind::Epoll],
        Driver::IoUring => vec![DriverKind::IoUring],
        Driver::All => DriverKind::ALL.to_vec(),
    };
    let machine_before = machine();
    if !a.json {
        println!("machine: {machine_before}");
    }
    let mut rounds = Vec::new();
    for round in 0..a.rounds {
        let baseline = run_raw_tcp(&p, a.server_workers, reply).context("raw TCP run failed")?;
        if !a.json {
            println!("[round {}] {}", round + 1, baseline.to_text());
        }
        let mut runs = Vec::new();
        for &d in &drivers {
            let r = run_cuttle(d, &p, a.server_workers, reply)
                .with_context(|| format!("{d} run failed"))?;
            if !a.json {
                println!("[round {}] {}", round + 1, r.to_text());
                println!("  {d}: {}", ratio_line(&ratios(&r, &baseline)));
            }
            runs.push((d, r));
        }
        rounds.push(Round { baseline, runs });
    }
    let summary: Vec<Value> = drivers
        .iter()
        .map(|&d| {
            let per_round: Vec<Value> = rounds
                .iter()
                .flat_map(|rd| {
                    rd.runs
                        .iter()
                        .filter(move |(k, _)| *k == d)
                        .map(|(_, r)| ratios(r, &rd.baseline))
                })
                .collect();
            let med =
                |key: &str| median(per_round.iter().filter_map(|v| v[key].as_f64()).collect());
            let median_ratio: serde_json::Map<String, Value> = RATIO_KEYS
                .iter()
                .map(|&k| (k.to_owned(), json!(med(k))))
                .collect();
            let runs: Vec<&Measured> = rounds
                .iter()
                .flat_map(|rd| rd.runs.iter().filter(|(k, _)| *k == d).map(|(_, r)| r))
                .collect();
            json!({
                "driver": d.as_str(),
                "median": medians(&runs),
                "median_ratio": median_ratio,
            })
        })
        .collect();
    let baselines: Vec<&Measured> = rounds.iter().map(|rd| &rd.baseline).collect();
    let baseline_summary = medians(&baselines);
    let load_after = load_average();
    if a.json {
        let rounds_json: Vec<Value> = rounds
            .iter()
            .map(|rd| {
                let runs: Vec<Value> = rd
                    .runs
                    .iter()
                    .map(|(_, r)| {
                        let mut v = r.to_json();
                        v["ratio_to_baseline"] = ratios(r, &rd.baseline);
                        v
                    })
                    .collect();
                json!({"baseline": rd.baseline.to_json(), "runs": runs})
            })
            .collect();
        let mut machine = machine_before;
        machine["loadavg_after"] = json!(load_after);
        let out = json!({
            "tool": "perf-msgr",
            "machine": machine,
            "params": cuttle_perf::msgr_bench::params_json("all", &p, a.server_workers, reply),
            "rounds": rounds_json,
            "summary": {"baseline": baseline_summary, "drivers": summary},
        });
        println!("{out}");
    } else {
        if a.rounds > 1 {
            println!(
                "median over {} rounds, raw_tcp: {}",
                a.rounds,
                median_line(&baseline_summary)
            );
            for s in &summary {
                println!(
                    "median over {} rounds, {}: {}\n  {}",
                    a.rounds,
                    s["driver"].as_str().unwrap_or("?"),
                    median_line(&s["median"]),
                    ratio_line(&s["median_ratio"])
                );
            }
        }
        println!("load average after: {load_after:?}");
    }
    Ok(())
}
