//! `perf-msgr-server`: a msgr2 Messenger that answers every request from `perf-msgr-client`
//! in its worker threads (fast dispatch), in the manner of Ceph's `perf_msgr_server`.
//! Prints the address to give the client, then serves until killed (or for `--secs`).
//!
//! ```text
//! perf-msgr-server --bind 127.0.0.1:6800 --workers 1 --driver io_uring
//! perf-msgr-server --bind 0.0.0.0:6800 --reply-size 0 --secs 60 --json
//! ```

#![forbid(unsafe_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use cuttle_perf::msgr_bench::{BenchServer, Reply, ServerConfig, machine};
use msgr::DriverKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Driver {
    Epoll,
    #[value(name = "io_uring")]
    IoUring,
}

/// msgr2 benchmark server: replies to every request from its worker threads.
#[derive(Parser, Debug)]
#[command(name = "perf-msgr-server", version)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: SocketAddr,
    /// Nonce in the server's address; the client must dial the address printed.
    #[arg(long, default_value_t = 0)]
    nonce: u32,
    /// Worker threads (Ceph's ms_async_op_threads).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Event driver (Ceph-style option ms_async_driver).
    #[arg(long, value_enum, default_value = "epoll")]
    driver: Driver,
    /// Reply data bytes; without it, each reply echoes the request's data (shared, no copy).
    #[arg(long)]
    reply_size: Option<usize>,
    /// Receive chunk in bytes (DriverConfig::recv_buf_size; default 16 KiB).
    #[arg(long)]
    recv_buf_size: Option<u32>,
    /// Serve for this many seconds, then print what was served and exit (0: until killed).
    #[arg(long, default_value_t = 0.0)]
    secs: f64,
    /// Print the final summary as JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> anyhow::Result<()> {
    cuttle_perf::init_tracing();
    let a = Args::parse();
    let driver = match a.driver {
        Driver::Epoll => DriverKind::Epoll,
        Driver::IoUring => DriverKind::IoUring,
    };
    cuttle_perf::msgr_bench::check_driver(driver)?;
    let reply = Reply::from_size(a.reply_size);
    let server = BenchServer::start(
        &ServerConfig {
            driver,
            workers: a.workers,
            reply,
            nonce: a.nonce,
            recv_buf_size: a.recv_buf_size,
        },
        a.bind,
    )?;
    println!("listening on {}", server.addrs());
    std::io::stdout().flush()?;
    if a.secs <= 0.0 {
        loop {
            std::thread::park();
        }
    }
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(a.secs));
    let elapsed = started.elapsed().as_secs_f64();
    let (messages, bytes) = server.served();
    server.shutdown()?;
    if a.json {
        let out = serde_json::json!({
            "machine": machine(),
            "params": {
                "driver": driver.as_str(), "workers": a.workers, "reply": a.reply_size,
                "recv_buf_size": a.recv_buf_size,
            },
            "seconds": elapsed,
            "messages": messages,
            "bytes": bytes,
            "msgs_per_sec": messages as f64 / elapsed,
            "mb_per_sec": bytes as f64 / elapsed / 1e6,
        });
        println!("{out}");
    } else {
        println!(
            "served {messages} requests ({:.1} MB of request data) in {elapsed:.2} s: {:.0} msg/s",
            bytes as f64 / 1e6,
            messages as f64 / elapsed
        );
    }
    Ok(())
}
