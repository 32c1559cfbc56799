//! Shared pieces of cuttle's criterion benches: echo servers and echo clients for the engine
//! (either driver) and for three baselines, plus a helper that runs an [`EventCenter`](msgr::EventCenter) on its
//! own thread.
//!
//! # The echo contest
//!
//! Every contender is a *server* (one thread, one loopback TCP listener, echoes every byte it
//! reads) and a *client* (one connection to that server) that implements [`EchoClient`]:
//! [`EchoClient::run`] sends `n` messages of [`Workload::size`] bytes, keeping at most
//! [`Workload::depth`] of them in flight (sent and not yet fully echoed), and returns once every
//! byte came back. The work is the same for all of them:
//!
//! | contender | server | client |
//! |-----------|--------|--------|
//! | cuttle (epoll or io_uring) | [`CuttleEchoServer`]: one [`EventCenter`](msgr::EventCenter) on its own thread, copies each received chunk into a `Bytes` and [`EventCenter::send`](msgr::EventCenter::send)s it | [`CuttleEchoClient`]: one [`EventCenter`](msgr::EventCenter) on the caller's thread; sends the next message from `on_data` as soon as one completes |
//! | std::net | [`StdEchoServer`]: a thread per connection, blocking `read` then `write_all` | [`StdEchoClient`]: a writer thread and a reader (caller) thread, a window of `depth` messages between them; for `depth == 1` one thread doing `write_all` + `read_exact` |
//! | tokio | [`TokioEchoServer`]: a current-thread runtime on its own thread, a task per connection doing `read` then `write_all` | [`TokioEchoClient`]: a current-thread runtime on the caller's thread, a writer and a reader future joined in one task, a `Semaphore` of `depth` permits between them; for `depth == 1` `write_all` + `read_exact` |
//! | tokio-uring (baseline only) | [`TokioUringEchoServer`]: a tokio-uring runtime (what `tokio_uring::start` builds) on its own thread, a task per connection doing `read` then `write_all` from the same owned buffer | [`TokioUringEchoClient`]: a tokio-uring runtime on the caller's thread, like the tokio client, with owned buffers |
//!
//! All sockets have `TCP_NODELAY`; every server reads into (at most) [`SERVER_READ_BUF`] bytes,
//! the default receive buffer size of the engine's drivers. Clients write one message per
//! `write` call, except cuttle's, which writes whatever its handlers queued during one loop
//! iteration with a single `writev`/`sendmsg` (that batching is the engine's design, so it is
//! measured as is). Clients count echoed bytes but do not compare them: correctness is checked
//! by this crate's tests, not inside the timed loop.
//!
//! ```no_run
//! use cuttle_bench::{CuttleEchoClient, CuttleEchoServer, EchoClient, Workload};
//! use msgr::DriverKind;
//!
//! let server = CuttleEchoServer::start(DriverKind::Epoll).unwrap();
//! let mut client =
//!     CuttleEchoClient::connect(server.addr(), DriverKind::Epoll, Workload::PIPELINED_4K).unwrap();
//! client.run(10_000).unwrap(); // 10,000 × 4 KiB echoed, 64 in flight
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

mod center;
mod cuttle_echo;
mod std_echo;
mod tokio_echo;
mod tokio_uring_echo;

#[cfg(test)]
mod tests;

pub use center::CenterThread;
pub use cuttle_echo::{CuttleEchoClient, CuttleEchoServer};
pub use std_echo::{StdEchoClient, StdEchoServer};
pub use tokio_echo::{TokioEchoClient, TokioEchoServer};
pub use tokio_uring_echo::{TokioUringEchoClient, TokioUringEchoServer};

/// Size of the servers' read buffer: the engine's default `recv_buf_size` (16 KiB), so every
/// server sees chunks of the same size.
pub const SERVER_READ_BUF: usize = 16 * 1024;

/// How long one [`EchoClient::run`] may take before it is reported as stuck.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// How long an idle center thread sleeps in the kernel per loop (it wakes on any event).
pub(crate) const IDLE_WAIT: Duration = Duration::from_secs(30);

pub(crate) const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Message size and pipelining depth of an echo run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    /// Bytes per message.
    pub size: usize,
    /// Messages in flight at most (1: ping-pong).
    pub depth: usize,
}

impl Workload {
    /// 4 KiB messages, 64 in flight: a throughput test.
    pub const PIPELINED_4K: Workload = Workload {
        size: 4096,
        depth: 64,
    };
    /// 64-byte messages, one in flight: a latency test.
    pub const PING_PONG_64: Workload = Workload { size: 64, depth: 1 };

    /// The message every client sends (a fixed byte pattern).
    pub fn payload(&self) -> Vec<u8> {
        (0..self.size).map(|i| (i % 251) as u8).collect()
    }

    pub(crate) fn check(&self) -> io::Result<()> {
        if self.size == 0 || self.depth == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "workload size and depth must be at least 1",
            ));
        }
        Ok(())
    }
}

/// A client connected to an echo server.
pub trait EchoClient {
    /// Sends `messages` messages, at most `depth` in flight, and returns once all their bytes
    /// were echoed back (or an error, or `TimedOut` after [`RUN_TIMEOUT`]). Leaves the
    /// connection idle, so it can be called again.
    fn run(&mut self, messages: u64) -> io::Result<()>;

    /// The workload it was connected with.
    fn workload(&self) -> Workload;
}

pub(crate) fn protocol_error(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}
