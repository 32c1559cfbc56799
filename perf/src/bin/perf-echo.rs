//! `perf-echo`: an echo server and client on loopback, on a chosen driver and worker count;
//! prints messages/s, MB/s and round-trip latency percentiles as text or JSON.
//!
//! ```text
//! perf-echo --driver io_uring --size 4096 --depth 64 --secs 5
//! perf-echo --driver all --size 64 --depth 1 --pin same --json
//! ```

#![forbid(unsafe_code)]

use anyhow::Context;
use clap::{Parser, ValueEnum};
use cuttle_perf::echo::{EchoParams, run_cuttle, run_std};
use msgr::DriverKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Driver {
    Epoll,
    #[value(name = "io_uring")]
    IoUring,
    /// Blocking std::net threads (baseline).
    Std,
    /// std, epoll and io_uring one after another, with ratios to std.
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Pin {
    /// Let the scheduler place threads.
    None,
    /// Every thread on CPU 0 (no cross-CPU wakeups).
    Same,
    /// Server on CPU 0, client on CPU 1.
    Split,
}

/// Loopback echo benchmark for cuttle's event engine.
#[derive(Parser, Debug)]
#[command(name = "perf-echo", version)]
struct Args {
    /// Event driver (Ceph-style option ms_async_driver), or a baseline.
    #[arg(long, value_enum, default_value = "epoll")]
    driver: Driver,
    /// Message size in bytes.
    #[arg(long, default_value_t = 4096)]
    size: usize,
    /// Messages in flight per connection (1 = ping-pong).
    #[arg(long, default_value_t = 64)]
    depth: usize,
    /// Connections.
    #[arg(long, default_value_t = 1)]
    conns: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
    /// Warm-up seconds before measuring.
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
    /// Server worker threads (Ceph's ms_async_op_threads).
    #[arg(long, default_value_t = 1)]
    server_workers: usize,
    /// Client worker threads.
    #[arg(long, default_value_t = 1)]
    client_workers: usize,
    /// Thread placement.
    #[arg(long, value_enum, default_value = "none")]
    pin: Pin,
    /// Print JSON (one object per run) instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> anyhow::Result<()> {
    cuttle_perf::init_tracing();
    let a = Args::parse();
    anyhow::ensure!(
        a.size > 0 && a.depth > 0 && a.conns > 0 && a.secs > 0.0,
        "size, depth, conns and secs must be positive"
    );
    let (server_cpus, client_cpus) = match a.pin {
        Pin::None => (vec![], vec![]),
        Pin::Same => (vec![0], vec![0]),
        Pin::Split => (vec![0], vec![1]),
    };
    let p = EchoParams {
        size: a.size,
        depth: a.depth,
        conns: a.conns,
        secs: a.secs,
        warmup: a.warmup,
        server_workers: a.server_workers,
        client_workers: a.client_workers,
        server_cpus,
        client_cpus,
    };
    let drivers: Vec<Driver> = match a.driver {
        Driver::All => vec![Driver::Std, Driver::Epoll, Driver::IoUring],
        d => vec![d],
    };
    let mut reports = Vec::new();
    for d in drivers {
        let r = match d {
            Driver::Std => {
                anyhow::ensure!(a.pin == Pin::None, "--pin applies to cuttle drivers only");
                run_std(&p)
            }
            Driver::Epoll => run_cuttle(DriverKind::Epoll, &p),
            Driver::IoUring => run_cuttle(DriverKind::IoUring, &p),
            Driver::All => unreachable!(),
        }
        .with_context(|| format!("{d:?} run failed"))?;
        if a.json {
            println!("{}", r.to_json());
        } else {
            println!("{}", r.to_text());
        }
        reports.push(r);
    }
    if !a.json && reports.len() > 1 {
        let base = reports[0].mb_per_sec();
        for r in &reports[1..] {
            println!(
                "{}: {:.2}x std bytes/s",
                r.params["driver"],
                r.mb_per_sec() / base
            );
        }
    }
    Ok(())
}
