//! `perf-msgr`: `perf-msgr-server` and `perf-msgr-client` in one process on loopback, plus
//! hand-written baselines measured in the same run on the same message size, depth and
//! connections, with a 4-byte length prefix and no msgr2:
//!
//! - `raw_tcp`: blocking `std::net`, threads per connection (up to 256 connections);
//! - `tokio`: tokio runtimes, a task per connection (current-thread for a side with one
//!   thread, multi-thread otherwise; as many threads per side as cuttle's server and client);
//! - `tokio_uring`: tokio-uring runtimes, one per thread, a task per connection.
//!
//! Every figure is printed as a ratio to each baseline (and io_uring to epoll). With
//! `--rounds N` everything runs N times, interleaved, and the median ratios are reported
//! (useful on a busy machine). Each run also reports the CPU time the process spent per
//! message: on a shared machine (other processes, or autogroup scheduling giving this one a
//! single CPU) it is the steadier figure. The open-file limit is raised for many connections.
//!
//! Each cuttle run also reports how the bytes its SERVER messenger received reached their
//! buffers (`Messenger::rx_copy_stats`, per received message, handshake and warm-up
//! included): copied in user space, handed out as slices of the receive buffer, or read by
//! the kernel straight into place (`server_rx` in JSON, with `rx_copied_bytes_per_msg`,
//! `rx_shared_bytes_per_msg`, `rx_direct_bytes_per_msg`). `--busy-poll-us N` turns on
//! `DriverConfig::busy_poll` for both cuttle messengers (the baselines are unaffected).
//!
//! ```text
//! perf-msgr --size 4096 --depth 64                  # both drivers vs every baseline
//! perf-msgr --size 64 --depth 4 --conns 1000 --secs 2 --baseline tokio,tokio_uring
//! perf-msgr --size 64 --depth 256 --driver epoll --secs 5
//! perf-msgr --size 4194304 --depth 4 --rounds 3 --json
//! perf-msgr --size 64 --depth 1 --baseline raw_tcp --busy-poll-us 50   # ping-pong, spinning
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
    Baseline, CuttleTuning, LoadParams, Measured, RATIO_KEYS, Reply, fds_needed, load_average,
    machine, median, params_json, raise_fd_limit, ratios, run_cuttle,
};
use msgr::DriverKind;
use serde_json::{Map, Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Driver {
    Epoll,
    #[value(name = "io_uring")]
    IoUring,
    /// Both.
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BaselineArg {
    /// Blocking std::net, threads per connection.
    #[value(name = "raw_tcp")]
    RawTcp,
    /// tokio runtimes.
    Tokio,
    /// tokio-uring runtimes.
    #[value(name = "tokio_uring")]
    TokioUring,
    /// All three.
    All,
}

/// msgr2 Messenger loopback benchmark against hand-written raw TCP, tokio and tokio-uring
/// baselines.
#[derive(Parser, Debug)]
#[command(name = "perf-msgr", version)]
struct Args {
    /// Event driver(s) to measure.
    #[arg(long, value_enum, default_value = "all")]
    driver: Driver,
    /// Baselines to measure in the same run (comma-separated). raw_tcp is skipped, with a
    /// message, above 256 connections.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    baseline: Vec<BaselineArg>,
    /// Request data bytes.
    #[arg(long, default_value_t = 4096)]
    size: usize,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 64)]
    depth: usize,
    /// Connections.
    #[arg(long, default_value_t = 1)]
    conns: usize,
    /// Client worker threads (cuttle's client messenger; the baselines' client side).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Server worker threads (cuttle's server messenger; the baselines' server side, except
    /// raw_tcp's thread per connection).
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
    /// Rounds of (baselines, drivers…); ratios are per round, summarised by their median.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// cuttle's receive chunk in bytes (DriverConfig::recv_buf_size; default 16 KiB). With
    /// io_uring each worker provides 512 buffers of this size.
    #[arg(long)]
    recv_buf_size: Option<u32>,
    /// cuttle's busy poll (DriverConfig::busy_poll; default off): before sleeping in the
    /// kernel, each worker of both messengers polls without blocking for up to N
    /// microseconds (adaptive: it stops spinning while it keeps finding nothing).
    #[arg(long, value_name = "N")]
    busy_poll_us: Option<u64>,
    /// Pin cuttle's client workers to CPU 0 and its server workers to CPU 1 (StackConfig::cpus),
    /// e.g. to keep the scheduler from stacking both on one CPU; the baselines stay unpinned.
    #[arg(long)]
    pin_split: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// One round: each baseline, then each driver.
struct Round {
    results: Vec<Measured>,
}

impl Round {
    fn get(&self, transport: &str) -> Option<&Measured> {
        self.results.iter().find(|m| m.transport() == transport)
    }
}

/// The ratios of `ratios()` as one line.
fn ratio_line(v: &Value) -> String {
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    format!(
        "{:.3}x bytes/s, {:.3}x msg/s, latency p50 {:.2}x p99 {:.2}x, cpu/msg {:.2}x",
        f("mb_per_sec"),
        f("msgs_per_sec"),
        f("latency_p50"),
        f("latency_p99"),
        f("cpu_us_per_msg"),
    )
}

/// Median throughput, latency and CPU cost of several runs, and for cuttle the median
/// receive-copy bytes per message of the server (null for the baselines).
fn medians(runs: &[&Measured]) -> Value {
    let med =
        |f: &dyn Fn(&Measured) -> Option<f64>| median(runs.iter().filter_map(|r| f(r)).collect());
    let rx = |i: usize| {
        let v = med(&|r| {
            r.server_rx.map(|x| {
                let (c, s, d) = x.per_msg();
                [c, s, d][i]
            })
        });
        if v.is_nan() { Value::Null } else { json!(v) }
    };
    json!({
        "msgs_per_sec": med(&|r| Some(r.report.msgs_per_sec())),
        "mb_per_sec": med(&|r| Some(r.report.mb_per_sec())),
        "latency_p50_us": med(&|r| Some(r.report.latency.p50)),
        "latency_p99_us": med(&|r| Some(r.report.latency.p99)),
        "cpu_us_per_msg": med(&Measured::cpu_us_per_msg),
        "rx_copied_bytes_per_msg": rx(0),
        "rx_shared_bytes_per_msg": rx(1),
        "rx_direct_bytes_per_msg": rx(2),
    })
}

/// Key by key, the median of several `ratios()` objects.
fn median_ratio(per_round: &[Value]) -> Value {
    let med = |key: &str| median(per_round.iter().filter_map(|v| v[key].as_f64()).collect());
    let m: Map<String, Value> = RATIO_KEYS
        .iter()
        .map(|&k| (k.to_owned(), json!(med(k))))
        .collect();
    Value::Object(m)
}

/// Transports in the order they ran.
fn transports(rounds: &[Round]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for m in rounds.iter().flat_map(|r| &r.results) {
        if !v.iter().any(|t| t == m.transport()) {
            v.push(m.transport().to_owned());
        }
    }
    v
}

/// `t`'s median figures and its median ratio to every transport (itself included, so every
/// entry has the same keys).
fn transport_summary(rounds: &[Round], t: &str, all: &[String]) -> Value {
    let runs: Vec<&Measured> = rounds.iter().filter_map(|r| r.get(t)).collect();
    let vs: Map<String, Value> = all
        .iter()
        .map(|o| {
            let per_round: Vec<Value> = rounds
                .iter()
                .filter_map(|r| Some(ratios(r.get(t)?, r.get(o)?)))
                .collect();
            (o.clone(), median_ratio(&per_round))
        })
        .collect();
    json!({"transport": t, "median": medians(&runs), "median_ratios": vs})
}

/// A result as JSON with its ratio to every transport of its round, and (as before the
/// tokio baselines) `ratio_to_baseline`: its ratio to raw_tcp, null without raw_tcp.
fn result_json(m: &Measured, round: &Round) -> Value {
    let mut v = m.to_json();
    let vs: Map<String, Value> = round
        .results
        .iter()
        .map(|o| (o.transport().to_owned(), ratios(m, o)))
        .collect();
    v["ratio_to_baseline"] = vs.get("raw_tcp").cloned().unwrap_or(Value::Null);
    v["ratios"] = Value::Object(vs);
    v
}

fn is_baseline(t: &str) -> bool {
    Baseline::ALL.iter().any(|b| b.as_str() == t)
}

/// The summary table: median figures and median msg/s ratios to the baselines and epoll.
fn print_table(summaries: &[Value], all: &[String], rounds: usize) {
    let cols: Vec<&String> = all
        .iter()
        .filter(|t| is_baseline(t) || *t == "epoll")
        .collect();
    print!(
        "median of {rounds} round(s)\n{:<12} {:>10} {:>8} {:>8} {:>8} {:>10}",
        "transport", "msg/s", "MB/s", "p50 us", "p99 us", "cpu us/msg"
    );
    for c in &cols {
        print!(" {:>12}", format!("x{c}"));
    }
    println!();
    for s in summaries {
        let m = &s["median"];
        let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
        print!(
            "{:<12} {:>10.0} {:>8.1} {:>8.1} {:>8.1} {:>10.2}",
            s["transport"].as_str().unwrap_or("?"),
            f("msgs_per_sec"),
            f("mb_per_sec"),
            f("latency_p50_us"),
            f("latency_p99_us"),
            f("cpu_us_per_msg"),
        );
        for c in &cols {
            let r = s["median_ratios"][c.as_str()]["msgs_per_sec"].as_f64();
            print!(" {:>12}", r.map_or("-".into(), |r| format!("{r:.3}")));
        }
        println!();
    }
}

/// The targets of the many-connections issue, from the summaries' msg/s ratios.
fn print_targets(summaries: &[Value]) {
    let ratio = |t: &str, o: &str| {
        summaries
            .iter()
            .find(|s| s["transport"] == t)
            .and_then(|s| s["median_ratios"][o]["msgs_per_sec"].as_f64())
    };
    let mut parts = Vec::new();
    if let Some(r) = ratio("io_uring", "epoll") {
        parts.push(format!("io_uring/epoll {r:.3} (>= 1.1: {})", r >= 1.1));
    }
    for d in ["epoll", "io_uring"] {
        if let Some(r) = ratio(d, "tokio") {
            parts.push(format!("{d}/tokio {r:.3} (>= 1: {})", r >= 1.0));
        }
    }
    if !parts.is_empty() {
        println!("targets (msg/s): {}", parts.join(", "));
    }
}

fn main() -> anyhow::Result<()> {
    cuttle_perf::init_tracing();
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
    raise_fd_limit(fds_needed(p.conns))?;
    let reply = Reply::from_size(a.reply_size);
    let tuning = CuttleTuning {
        busy_poll: a.busy_poll_us.map(std::time::Duration::from_micros),
        pin_split: a.pin_split,
    };
    let drivers = match a.driver {
        Driver::Epoll => vec![DriverKind::Epoll],
        Driver::IoUring => vec![DriverKind::IoUring],
        Driver::All => DriverKind::ALL.to_vec(),
    };
    let baselines: Vec<Baseline> = Baseline::ALL
        .into_iter()
        .filter(|b| {
            a.baseline.iter().any(|x| match x {
                BaselineArg::All => true,
                BaselineArg::RawTcp => *b == Baseline::RawTcp,
                BaselineArg::Tokio => *b == Baseline::Tokio,
                BaselineArg::TokioUring => *b == Baseline::TokioUring,
            })
        })
        .filter(|b| match b.unsupported(&p) {
            Some(why) => {
                eprintln!("{why}");
                false
            }
            None => true,
        })
        .collect();
    let machine_before = machine();
    if !a.json {
        println!("machine: {machine_before}");
    }
    let mut rounds = Vec::new();
    for round in 0..a.rounds {
        let mut results = Vec::new();
        for &b in &baselines {
            results.push(
                b.run(&p, a.server_workers, reply)
                    .with_context(|| format!("{b} run failed"))?,
            );
        }
        for &d in &drivers {
            results.push(
                run_cuttle(d, &p, a.server_workers, reply, tuning)
                    .with_context(|| format!("{d} run failed"))?,
            );
        }
        let rd = Round { results };
        if !a.json {
            for m in &rd.results {
                println!("[round {}] {}", round + 1, m.to_text());
                let t = m.transport();
                for o in &rd.results {
                    let ot = o.transport();
                    if ot != t && (is_baseline(ot) || (t == "io_uring" && ot == "epoll")) {
                        println!("  {t} vs {ot}: {}", ratio_line(&ratios(m, o)));
                    }
                }
            }
        }
        rounds.push(rd);
    }
    let all = transports(&rounds);
    let summaries: Vec<Value> = all
        .iter()
        .map(|t| transport_summary(&rounds, t, &all))
        .collect();
    let load_after = load_average();
    if a.json {
        let rounds_json: Vec<Value> = rounds
            .iter()
            .map(|rd| {
                let of = |base: bool| -> Vec<Value> {
                    rd.results
                        .iter()
                        .filter(|m| is_baseline(m.transport()) == base)
                        .map(|m| result_json(m, rd))
                        .collect()
                };
                let raw = rd.get("raw_tcp").map(|m| result_json(m, rd));
                json!({"baseline": raw, "baselines": of(true), "runs": of(false)})
            })
            .collect();
        let raw_runs: Vec<&Measured> = rounds.iter().filter_map(|r| r.get("raw_tcp")).collect();
        let drivers_summary: Vec<Value> = summaries
            .iter()
            .filter(|s| !is_baseline(s["transport"].as_str().unwrap_or("")))
            .map(|s| {
                json!({
                    "driver": s["transport"],
                    "median": s["median"],
                    "median_ratio": s["median_ratios"].get("raw_tcp").cloned().unwrap_or(Value::Null),
                })
            })
            .collect();
        let mut machine = machine_before;
        machine["loadavg_after"] = json!(load_after);
        let mut params = params_json("all", &p, a.server_workers, reply);
        params["busy_poll_us"] = json!(a.busy_poll_us);
        let out = json!({
            "tool": "perf-msgr",
            "machine": machine,
            "params": params,
            "rounds": rounds_json,
            "summary": {
                "baseline": (!raw_runs.is_empty()).then(|| medians(&raw_runs)),
                "drivers": drivers_summary,
                "transports": summaries,
            },
        });
        println!("{out}");
    } else {
        print_table(&summaries, &all, a.rounds);
        print_targets(&summaries);
        println!("load average after: {load_after:?}");
    }
    Ok(())
}
