//! `perf-msgr-client`: drives a `perf-msgr-server` with `--conns` msgr2 connections on one
//! client Messenger of `--threads` workers, each connection keeping `--depth` requests of
//! `--size` bytes in flight, in the manner of Ceph's `perf_msgr_client`. Replies are handled
//! in the worker threads (fast dispatch). Prints messages/s, MB/s and round-trip latency.
//!
//! ```text
//! perf-msgr-client --server v2:127.0.0.1:6800/0 --size 4096 --depth 64 --secs 5
//! perf-msgr-client --server 127.0.0.1:6800 --conns 4 --threads 2 --driver io_uring --json
//! ```

#![forbid(unsafe_code)]

use clap::{Parser, ValueEnum};
use cuttle_perf::msgr_bench::{
    LoadParams, check_driver, fds_needed, machine, raise_fd_limit, run_client,
};
use msgr::DriverKind;
use msgr::wire::{AddrType, EntityAddrvec};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Driver {
    Epoll,
    #[value(name = "io_uring")]
    IoUring,
}

/// msgr2 benchmark client.
#[derive(Parser, Debug)]
#[command(name = "perf-msgr-client", version)]
struct Args {
    /// The server's address as perf-msgr-server prints it (`v2:ip:port/nonce`); a bare
    /// `ip:port` means nonce 0.
    #[arg(long)]
    server: String,
    /// Connections to the server.
    #[arg(long, default_value_t = 1)]
    conns: usize,
    /// Client worker threads (the connections are spread over them).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Request data bytes.
    #[arg(long, default_value_t = 4096)]
    size: usize,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 64)]
    depth: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// Unmeasured seconds first (handshake, warm-up).
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
    /// Event driver.
    #[arg(long, value_enum, default_value = "epoll")]
    driver: Driver,
    /// Receive chunk in bytes (DriverConfig::recv_buf_size; default 16 KiB).
    #[arg(long)]
    recv_buf_size: Option<u32>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Parses the server address; an untyped one is taken as msgr2.
fn server_addrs(s: &str) -> anyhow::Result<EntityAddrvec> {
    let mut addrs: EntityAddrvec = s
        .parse()
        .map_err(|e| anyhow::anyhow!("bad --server {s:?}: {e}"))?;
    for a in &mut addrs.addrs {
        if a.ty == AddrType::Any {
            a.ty = AddrType::Msgr2;
        }
    }
    anyhow::ensure!(
        addrs.msgr2_addr().is_some(),
        "--server {s:?} has no msgr2 address"
    );
    Ok(addrs)
}

fn main() -> anyhow::Result<()> {
    cuttle_perf::init_tracing();
    let a = Args::parse();
    let driver = match a.driver {
        Driver::Epoll => DriverKind::Epoll,
        Driver::IoUring => DriverKind::IoUring,
    };
    check_driver(driver)?;
    raise_fd_limit(fds_needed(a.conns))?;
    let server = server_addrs(&a.server)?;
    let p = LoadParams {
        size: a.size,
        depth: a.depth,
        conns: a.conns,
        threads: a.threads,
        secs: a.secs,
        warmup: a.warmup,
        recv_buf_size: a.recv_buf_size,
    };
    let mut label = p.to_json();
    label["transport"] = serde_json::json!(driver.as_str());
    label["server"] = serde_json::json!(server.to_string());
    let load_before = cuttle_perf::msgr_bench::load_average();
    let r = run_client(driver, &server, &p, label)?;
    if a.json {
        let mut out = r.to_json();
        out["machine"] = machine();
        out["machine"]["loadavg_before"] = serde_json::json!(load_before);
        println!("{out}");
    } else {
        println!("{}", r.to_text());
        println!("  (cpu: this client process only)");
        println!(
            "  load average before/after: {load_before:?} / {:?}",
            cuttle_perf::msgr_bench::load_average()
        );
    }
    Ok(())
}
