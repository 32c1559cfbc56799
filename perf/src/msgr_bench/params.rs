//! What a run does ([`LoadParams`], [`Reply`]), its measured window and the per-connection
//! tally of completions every transport fills the same way.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::stats::{Percentiles, Report};

/// What the client side runs.
#[derive(Clone, Debug)]
pub struct LoadParams {
    /// Request payload bytes (the data segment).
    pub size: usize,
    /// Requests in flight per connection.
    pub depth: usize,
    /// Connections.
    pub conns: usize,
    /// Client worker threads (Ceph's `ms_async_op_threads` of the client messenger; the
    /// tokio baselines give their client runtime as many).
    pub threads: usize,
    /// Measured seconds.
    pub secs: f64,
    /// Unmeasured seconds before the window (handshake, slow start).
    pub warmup: f64,
    /// cuttle only: the driver's receive chunk (`DriverConfig::recv_buf_size`; io_uring
    /// provides `recv_buf_count` buffers of this size per worker). `None`: the default.
    pub recv_buf_size: Option<u32>,
}

impl LoadParams {
    /// Checks that every count is positive.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.size > 0 && self.depth > 0 && self.conns > 0 && self.threads > 0,
            "size, depth, conns and threads must be positive"
        );
        anyhow::ensure!(
            self.secs > 0.0 && self.warmup >= 0.0,
            "secs must be positive, warmup not negative"
        );
        anyhow::ensure!(
            self.size <= u32::MAX as usize - 8,
            "size must fit a 4-byte length prefix"
        );
        Ok(())
    }

    /// The parameters as JSON, for a report's `params`.
    pub fn to_json(&self) -> Value {
        json!({
            "size": self.size, "depth": self.depth, "conns": self.conns,
            "threads": self.threads, "secs": self.secs, "warmup": self.warmup,
            "recv_buf_size": self.recv_buf_size,
        })
    }
}

/// What the server answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The request's data segment, shared (no copy).
    Echo,
    /// A data segment of this many bytes (allocated once, shared by every reply).
    Fixed(usize),
}

impl Reply {
    /// `None`: echo; `Some(n)`: `n` bytes.
    pub fn from_size(size: Option<usize>) -> Reply {
        size.map_or(Reply::Echo, Reply::Fixed)
    }

    pub(super) fn to_json(self) -> Value {
        match self {
            Reply::Echo => json!("echo"),
            Reply::Fixed(n) => json!(n),
        }
    }
}

/// The measured window of one run, and the clock messages carry their send time on.
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    pub(super) origin: Instant,
    pub(super) start: Instant,
    pub(super) end: Instant,
}

impl Window {
    pub(super) fn new(p: &LoadParams) -> Window {
        let origin = Instant::now();
        let start = origin + Duration::from_secs_f64(p.warmup);
        Window {
            origin,
            start,
            end: start + Duration::from_secs_f64(p.secs),
        }
    }

    /// `now` as nanoseconds since the origin: what a message carries.
    pub(super) fn stamp(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.origin).as_nanos() as u64
    }
}

/// Completions of one connection (or of a whole run, once merged).
#[derive(Default)]
pub(super) struct Tally {
    pub(super) messages: u64,
    pub(super) bytes: u64,
    pub(super) lat_ns: Vec<u64>,
}

impl Tally {
    /// Records a reply that arrived at `now` for a request stamped `stamp`.
    pub(super) fn record(&mut self, w: &Window, stamp: u64, now: Instant, bytes: usize) {
        if now < w.start || now > w.end {
            return;
        }
        self.messages += 1;
        self.bytes += bytes as u64;
        let sent = w.origin + Duration::from_nanos(stamp);
        if sent >= w.start {
            self.lat_ns
                .push(now.saturating_duration_since(sent).as_nanos() as u64);
        }
    }

    pub(super) fn merge(&mut self, other: Tally) {
        self.messages += other.messages;
        self.bytes += other.bytes;
        self.lat_ns.extend(other.lat_ns);
    }

    pub(super) fn into_report(mut self, params: Value, w: &Window) -> Report {
        Report {
            params,
            window: w.end - w.start,
            messages: self.messages,
            bytes: self.bytes,
            latency: Percentiles::from_nanos(&mut self.lat_ns),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_only_the_window() {
        let p = LoadParams {
            size: 10,
            depth: 1,
            conns: 1,
            threads: 1,
            secs: 1.0,
            warmup: 1.0,
            recv_buf_size: None,
        };
        let w = Window::new(&p);
        let mut t = Tally::default();
        let early = w.stamp(w.origin);
        t.record(&w, early, w.origin + Duration::from_millis(500), 10);
        t.record(&w, early, w.start + Duration::from_millis(1), 10);
        let in_window = w.stamp(w.start + Duration::from_millis(2));
        t.record(&w, in_window, w.start + Duration::from_millis(3), 10);
        t.record(&w, in_window, w.end + Duration::from_millis(1), 10);
        assert_eq!((t.messages, t.bytes), (2, 20));
        assert_eq!(t.lat_ns, vec![1_000_000]);
    }
}
