//! Messenger workloads in the manner of Ceph's `perf_msgr_server` / `perf_msgr_client`
//! (`src/test/msgr/perf_msgr_*.cc`), and the hand-written baselines they are measured against.
//!
//! - [`BenchServer`]: a [`Messenger`](msgr::messenger::Messenger) that answers every request
//!   in the worker thread (`ms_fast_dispatch`), echoing the request's data segment (the same
//!   `Bytes`, not a copy) or a fixed-size reply.
//! - [`run_client`]: `conns` connections on one client messenger with `threads` workers, each
//!   keeping `depth` requests of `size` bytes in flight. Replies are fast-dispatched too, so
//!   the dispatch thread is not on the path: this measures the messenger. [`run_cuttle`] runs
//!   both in one process.
//! - [`Baseline`]: the same load over plain sockets with a 4-byte length prefix per message
//!   and no msgr2, written by hand with blocking `std::net` ([`run_raw_tcp`], the baseline
//!   every cuttle figure has always been a ratio to), tokio ([`run_tokio`]) or tokio-uring
//!   ([`run_tokio_uring`]): what a Rust user would pick instead of cuttle. See
//!   [`Baseline`]'s module for the threads each one uses.
//!
//! Each request carries its send time: in the header's `tid` for msgr2 (the server copies it
//! into the reply), in the first 8 body bytes for the baselines. A run has an unmeasured
//! warm-up (which also covers the msgr2 handshake), then a measured window; a message counts
//! if its reply arrives in the window, and its latency counts if it was also sent in the
//! window. Every run returns a [`Measured`] with the same fields, compared with [`ratios`].
//!
//! Files: `params.rs` (load, window, tally), `measure.rs` (result, CPU probe), `report.rs`
//! (ratios, machine), `server.rs` and `client.rs` (cuttle), `frame.rs` (the baselines'
//! sans-IO framing), `baseline.rs`, `raw_tcp.rs`, `tokio_baseline.rs`, `uring_baseline.rs`,
//! `limits.rs` (open-file limit).

use std::time::Duration;

mod baseline;
mod client;
mod frame;
mod limits;
mod measure;
mod params;
mod raw_tcp;
mod report;
mod server;
mod tokio_baseline;
mod uring_baseline;

pub use baseline::{Baseline, RAW_TCP_MAX_CONNS};
pub use client::{client_nonce, run_client, run_client_tuned, run_cuttle, session_key};
pub use limits::{fds_needed, raise_fd_limit};
pub use measure::{Measured, ServerRx, sleep_until};
pub use params::{LoadParams, Reply};
pub use raw_tcp::run_raw_tcp;
pub use report::{RATIO_KEYS, load_average, machine, median, params_json, ratios};
pub use server::{BenchServer, CuttleTuning, ServerConfig, check_driver};
pub use tokio_baseline::run_tokio;
pub use uring_baseline::run_tokio_uring;

/// Message type of a request (a private number no Ceph message uses).
pub const MSG_PERF_REQUEST: u16 = 0x7f50;
/// Message type of a reply.
pub const MSG_PERF_REPLY: u16 = 0x7f51;

/// How long a client waits after its window for the replies still in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
