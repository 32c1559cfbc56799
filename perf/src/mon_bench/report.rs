//! The figures of a `perf-mon` run, as a text table or one JSON object.
//!
//! JSON layout (every figure a number or null, never a string):
//!
//! ```text
//! { "tool": "perf-mon", "machine": {...}, "params": {...}, "client": {nice},
//!   "servers": [ {target, pid, addr, software, configured_msgr_workers,
//!                 threads: {total, msgr_workers}, idle_cpu: {...}, nice, started_here} ],
//!   "points":  [ {target, conns, depth, window_s, replies, replies_per_conn: [..],
//!                 sent_total, replies_total, req_per_sec,
//!                 latency_us: {p50, p90, p99, p99.9, max}, latency_samples,
//!                 server_cpu: {seconds, cores, us_per_req, threads: {name: seconds}},
//!                 client_cpu: {...}, reply: {version, oldest_version}, unsolicited: {...}} ],
//!   "ratios":  [ {conns, req_per_sec, latency_p50, latency_p99, server_cpu_us_per_req} ] }
//! ```
//!
//! `ratios` holds cuttle/ceph for every `conns` value both targets were measured at: above 1
//! is better for `req_per_sec`, below 1 is better for the others.

use serde_json::{Value, json};

use super::Target;
use super::client::Outcome;
use super::procfs::{CpuUse, Threads};
use super::run::Params;

/// A server as measured before the first point.
#[derive(Clone, Debug)]
pub struct ServerInfo {
    /// Which one.
    pub target: Target,
    /// Its process.
    pub pid: u32,
    /// Its address.
    pub addr: String,
    /// `ceph-mon --version`, or cuttle's description.
    pub software: String,
    /// Messenger worker threads it is configured with.
    pub configured_workers: usize,
    /// Threads counted in `/proc/<pid>/task`.
    pub threads: Threads,
    /// Its CPU over a second with no load.
    pub idle: CpuUse,
    /// Its nice value (both servers inherit perf-mon's).
    pub nice: Option<i64>,
    /// True if this run started it (and stopped it).
    pub started_here: bool,
}

impl ServerInfo {
    fn to_json(&self) -> Value {
        json!({
            "target": self.target.as_str(),
            "pid": self.pid,
            "addr": self.addr,
            "software": self.software,
            "configured_msgr_workers": self.configured_workers,
            "threads": self.threads.to_json(),
            "idle_cpu": self.idle.to_json(0),
            "nice": self.nice,
            "started_here": self.started_here,
        })
    }
}

/// One (target, conns) measurement.
#[derive(Clone, Debug)]
pub struct Point {
    /// What answered.
    pub target: Target,
    /// Connections.
    pub conns: usize,
    /// Requests in flight per connection.
    pub depth: usize,
    /// What was measured.
    pub outcome: Outcome,
}

impl Point {
    /// As JSON (see the module docs).
    pub fn to_json(&self) -> Value {
        let o = &self.outcome;
        let l = &o.latency;
        let unsolicited: serde_json::Map<String, Value> = o
            .unsolicited
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        json!({
            "target": self.target.as_str(),
            "conns": self.conns,
            "depth": self.depth,
            "window_s": o.window.as_secs_f64(),
            "replies": o.replies,
            "replies_per_conn": o.replies_per_conn,
            "sent_total": o.sent_total,
            "replies_total": o.replies_total,
            "req_per_sec": o.req_per_sec(),
            "latency_us": {
                "p50": l.p50, "p90": l.p90, "p99": l.p99, "p99.9": l.p999, "max": l.max,
            },
            "latency_samples": o.latency_samples,
            "server_cpu": o.server_cpu.to_json(o.replies),
            "client_cpu": o.client_cpu.to_json(o.replies),
            "reply": o.last_version.map(|(v, old)| json!({"version": v, "oldest_version": old})),
            "unsolicited": unsolicited,
        })
    }

    /// One row of the text table.
    fn row(&self) -> String {
        let o = &self.outcome;
        let l = &o.latency;
        let opt = |v: Option<f64>| v.map_or("-".to_owned(), |x| format!("{x:.2}"));
        format!(
            "{:<7}{:>6}{:>11.0}{:>9.1}{:>9.1}{:>9.1}{:>10.1}{:>11}{:>12}{:>11}{:>12}",
            self.target.as_str(),
            self.conns,
            o.req_per_sec(),
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            opt(o.server_cpu.cores()),
            opt(o.server_cpu.us_per(o.replies)),
            opt(o.client_cpu.cores()),
            opt(o.client_cpu.us_per(o.replies)),
        )
    }

    /// The header of [`Self::row`]s.
    pub fn header() -> String {
        format!(
            "{:<7}{:>6}{:>11}{:>9}{:>9}{:>9}{:>10}{:>11}{:>12}{:>11}{:>12}",
            "target",
            "conns",
            "req/s",
            "p50us",
            "p90us",
            "p99us",
            "p99.9us",
            "srv_cores",
            "srv_us/req",
            "cli_cores",
            "cli_us/req",
        )
    }

    /// A one-line progress note.
    pub fn progress_line(&self) -> String {
        let o = &self.outcome;
        format!(
            "{} conns={}: {:.0} req/s, p99 {:.1} us, server {} us/req",
            self.target,
            self.conns,
            o.req_per_sec(),
            o.latency.p99,
            o.server_cpu
                .us_per(o.replies)
                .map_or("-".to_owned(), |x| format!("{x:.2}")),
        )
    }
}

/// A whole run.
#[derive(Clone, Debug)]
pub struct Report {
    /// What was run.
    pub params: Params,
    /// The machine, with load averages before and after.
    pub machine: Value,
    /// The servers, measured idle.
    pub servers: Vec<ServerInfo>,
    /// Every point, in the order measured.
    pub points: Vec<Point>,
    /// The client's (this process's) nice value.
    pub client_nice: Option<i64>,
}

fn div(a: f64, b: f64) -> Option<f64> {
    (b > 0.0 && a.is_finite()).then(|| a / b)
}

impl Report {
    fn point(&self, t: Target, conns: usize) -> Option<&Point> {
        self.points
            .iter()
            .find(|p| p.target == t && p.conns == conns)
    }

    /// cuttle/ceph per `conns` value measured for both.
    pub fn ratios(&self) -> Vec<Value> {
        self.params
            .conns
            .iter()
            .filter_map(|&c| {
                let (x, b) = (
                    &self.point(Target::Cuttle, c)?.outcome,
                    &self.point(Target::Ceph, c)?.outcome,
                );
                let cpu = x
                    .server_cpu
                    .us_per(x.replies)
                    .zip(b.server_cpu.us_per(b.replies))
                    .and_then(|(x, b)| div(x, b));
                Some(json!({
                    "conns": c,
                    "req_per_sec": div(x.req_per_sec(), b.req_per_sec()),
                    "latency_p50": div(x.latency.p50, b.latency.p50),
                    "latency_p99": div(x.latency.p99, b.latency.p99),
                    "server_cpu_us_per_req": cpu,
                }))
            })
            .collect()
    }

    /// The whole run as one JSON object (see the module docs).
    pub fn to_json(&self) -> Value {
        json!({
            "tool": "perf-mon",
            "machine": self.machine,
            "params": self.params.to_json(),
            "client": {"nice": self.client_nice},
            "servers": self.servers.iter().map(ServerInfo::to_json).collect::<Vec<_>>(),
            "points": self.points.iter().map(Point::to_json).collect::<Vec<_>>(),
            "ratios": self.ratios(),
        })
    }

    /// The run as text: the servers, the table, the busiest server threads and the ratios.
    pub fn to_text(&self) -> String {
        let p = &self.params;
        let mut out = format!(
            "perf-mon: MMonGetVersion({}) x depth {} per connection, {} s per point after {} s warm-up; client: 1 messenger, {} worker(s), {}, nice {}\nmachine: {}\n",
            p.what,
            p.depth,
            p.secs,
            p.warmup,
            p.client_workers,
            p.driver,
            self.client_nice.map_or("?".to_owned(), |n| n.to_string()),
            self.machine
        );
        for s in &self.servers {
            out += &format!(
                "{}: {} (pid {}, {}, nice {}), {} msgr worker(s) configured, {} threads ({} msgr-worker), idle {} cores\n",
                s.target,
                s.software,
                s.pid,
                s.addr,
                s.nice.map_or("?".to_owned(), |n| n.to_string()),
                s.configured_workers,
                s.threads.total,
                s.threads.msgr_workers,
                s.idle.cores().map_or("-".to_owned(), |c| format!("{c:.3}")),
            );
        }
        out += &Point::header();
        out.push('\n');
        for pt in &self.points {
            out += &pt.row();
            out.push('\n');
        }
        for pt in &self.points {
            out += &format!(
                "  {} conns={} busiest server threads (cores): {}\n",
                pt.target,
                pt.conns,
                pt.outcome.server_cpu.top_threads(4)
            );
        }
        for r in self.ratios() {
            let f = |k: &str| r[k].as_f64().map_or("-".to_owned(), |x| format!("{x:.2}x"));
            out += &format!(
                "cuttle/ceph conns={}: req/s {}, p50 {}, p99 {}, server cpu/req {}\n",
                r["conns"],
                f("req_per_sec"),
                f("latency_p50"),
                f("latency_p99"),
                f("server_cpu_us_per_req"),
            );
        }
        out
    }
}
