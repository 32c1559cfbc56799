//! What the report is made of: each tool invocation ([`Step`]) and the figures parsed from
//! its JSON ([`MsgrRun`], [`AllocRow`], [`MonRun`], [`RadosRow`]). Parsing is pure (text in,
//! figures out) so the renderer can be tested on hand-made figures.

use serde_json::Value;

/// How a step ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<T> {
    /// It ran; its figures.
    Done(T),
    /// It was not run, and why (an option, a missing tool).
    Skipped(String),
    /// It ran and failed: the error, with the tail of its stderr.
    Failed(String),
}

impl<T> Outcome<T> {
    /// The figures, if it ran.
    pub fn done(&self) -> Option<&T> {
        match self {
            Outcome::Done(t) => Some(t),
            _ => None,
        }
    }

    /// Why there are no figures (`None` if there are).
    pub fn why_not(&self) -> Option<String> {
        match self {
            Outcome::Done(_) => None,
            Outcome::Skipped(why) => Some(format!("skipped: {why}")),
            Outcome::Failed(why) => Some(format!("failed: {why}")),
        }
    }
}

/// One subprocess: its exact command line, the load average around it, and what came of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Step<T> {
    /// The command as a shell would run it.
    pub command: String,
    /// `/proc/loadavg` (1, 5, 15 min) just before it started; empty if not run.
    pub load_before: Vec<f64>,
    /// `/proc/loadavg` just after it ended; empty if not run.
    pub load_after: Vec<f64>,
    /// Wall-clock seconds it took.
    pub wall_s: f64,
    /// Its figures, or why there are none.
    pub outcome: Outcome<T>,
}

impl<T> Step<T> {
    /// A step that was not run.
    pub fn skipped(command: String, why: impl Into<String>) -> Step<T> {
        Step {
            command,
            load_before: Vec::new(),
            load_after: Vec::new(),
            wall_s: 0.0,
            outcome: Outcome::Skipped(why.into()),
        }
    }

    /// The figures, if it ran.
    pub fn done(&self) -> Option<&T> {
        self.outcome.done()
    }
}

/// Receive-copy bytes per message of a cuttle server messenger.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RxPerMsg {
    /// Copied in user space by the frame decoder.
    pub copied: f64,
    /// Handed out as slices of the receive buffer (zero copy).
    pub shared: f64,
    /// Read by the kernel straight into the segment buffer (zero copy).
    pub direct: f64,
}

/// One transport of a `perf-msgr` run (the median of its rounds).
#[derive(Clone, Debug, PartialEq)]
pub struct MsgrRow {
    /// `raw_tcp`, `tokio`, `tokio_uring`, `epoll` or `io_uring`.
    pub transport: String,
    /// Round trips completed per second.
    pub msgs_per_sec: f64,
    /// Payload megabytes (10^6) per second, one direction.
    pub mb_per_sec: f64,
    /// Round-trip latency percentiles, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// CPU µs the process (client and server) spent per message.
    pub cpu_us_per_msg: Option<f64>,
    /// cuttle only: the server's receive-copy bytes per message.
    pub rx: Option<RxPerMsg>,
}

/// A whole `perf-msgr --json` run.
#[derive(Clone, Debug, PartialEq)]
pub struct MsgrRun {
    /// Message data bytes.
    pub size: u64,
    /// Requests in flight per connection.
    pub depth: u64,
    /// Connections.
    pub conns: u64,
    /// Client worker threads.
    pub threads: u64,
    /// Server worker threads.
    pub server_workers: u64,
    /// cuttle's busy poll, if on.
    pub busy_poll_us: Option<u64>,
    /// Every transport, in the order run.
    pub rows: Vec<MsgrRow>,
}

/// Which figure of a [`MsgrRow`] a ratio compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Messages per second (higher is better).
    MsgsPerSec,
    /// Bytes per second (higher is better).
    BytesPerSec,
    /// Median latency (lower is better).
    P50,
    /// 99th percentile latency (lower is better).
    P99,
    /// CPU per message (lower is better).
    CpuPerMsg,
}

impl MsgrRow {
    /// The figure `m`, if measured.
    pub fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::MsgsPerSec => Some(self.msgs_per_sec),
            Metric::BytesPerSec => Some(self.mb_per_sec),
            Metric::P50 => Some(self.p50_us),
            Metric::P99 => Some(self.p99_us),
            Metric::CpuPerMsg => self.cpu_us_per_msg,
        }
        .filter(|v| v.is_finite())
    }
}

/// `a / b` when both are finite and `b` is positive.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (a.is_finite() && b.is_finite() && b > 0.0).then(|| a / b)
}

impl MsgrRun {
    /// The row of `transport`.
    pub fn row(&self, transport: &str) -> Option<&MsgrRow> {
        self.rows.iter().find(|r| r.transport == transport)
    }

    /// `t`'s figure `m` over `base`'s, both from this run.
    pub fn ratio(&self, t: &str, base: &str, m: Metric) -> Option<f64> {
        ratio(self.row(t)?.get(m)?, self.row(base)?.get(m)?)
    }
}

fn num(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64().ok_or_else(|| format!("no number {what}"))
}

fn int(v: &Value, what: &str) -> Result<u64, String> {
    v.as_u64().ok_or_else(|| format!("no integer {what}"))
}

/// Parses `perf-msgr --json` output (one object): the params and each transport's medians.
pub fn parse_msgr(stdout: &str) -> Result<MsgrRun, String> {
    let v: Value = serde_json::from_str(stdout.trim()).map_err(|e| format!("bad JSON: {e}"))?;
    let p = &v["params"];
    let transports = v["summary"]["transports"]
        .as_array()
        .ok_or("no summary.transports")?;
    let rows = transports
        .iter()
        .map(|t| {
            let m = &t["median"];
            let rx = match (
                m["rx_copied_bytes_per_msg"].as_f64(),
                m["rx_shared_bytes_per_msg"].as_f64(),
                m["rx_direct_bytes_per_msg"].as_f64(),
            ) {
                (Some(copied), Some(shared), Some(direct)) => Some(RxPerMsg {
                    copied,
                    shared,
                    direct,
                }),
                _ => None,
            };
            Ok(MsgrRow {
                transport: t["transport"].as_str().ok_or("no transport")?.to_owned(),
                msgs_per_sec: num(&m["msgs_per_sec"], "msgs_per_sec")?,
                mb_per_sec: num(&m["mb_per_sec"], "mb_per_sec")?,
                p50_us: num(&m["latency_p50_us"], "latency_p50_us")?,
                p99_us: num(&m["latency_p99_us"], "latency_p99_us")?,
                cpu_us_per_msg: m["cpu_us_per_msg"].as_f64(),
                rx,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(MsgrRun {
        size: int(&p["size"], "params.size")?,
        depth: int(&p["depth"], "params.depth")?,
        conns: int(&p["conns"], "params.conns")?,
        threads: int(&p["threads"], "params.threads")?,
        server_workers: int(&p["server_workers"], "params.server_workers")?,
        busy_poll_us: p["busy_poll_us"].as_u64(),
        rows,
    })
}

/// Allocations on the server's worker per received message (`perf-alloc`).
#[derive(Clone, Debug, PartialEq)]
pub struct AllocRow {
    /// `epoll` or `io_uring`.
    pub driver: String,
    /// Message data bytes.
    pub size: u64,
    /// Messages in the counted window.
    pub messages: u64,
    /// Heap allocations per message.
    pub allocs_per_msg: f64,
    /// Bytes allocated per message.
    pub bytes_per_msg: f64,
}

/// Parses `perf-alloc --json` output: one object per line.
pub fn parse_alloc(stdout: &str) -> Result<Vec<AllocRow>, String> {
    let rows = json_lines(stdout)?
        .iter()
        .map(|v| {
            Ok(AllocRow {
                driver: v["driver"].as_str().ok_or("no driver")?.to_owned(),
                size: int(&v["size"], "size")?,
                messages: int(&v["messages"], "messages")?,
                allocs_per_msg: num(&v["allocs_per_msg"], "allocs_per_msg")?,
                bytes_per_msg: num(&v["bytes_per_msg"], "bytes_per_msg")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if rows.is_empty() {
        return Err("no output".into());
    }
    Ok(rows)
}

fn json_lines(stdout: &str) -> Result<Vec<Value>, String> {
    stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// One (server, conns) point of `perf-mon`.
#[derive(Clone, Debug, PartialEq)]
pub struct MonPoint {
    /// `ceph` (ceph-mon) or `cuttle` (cuttle's responder).
    pub target: String,
    /// Connections.
    pub conns: u64,
    /// Requests in flight per connection.
    pub depth: u64,
    /// Requests answered per second.
    pub req_per_sec: f64,
    /// Latency percentiles, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// CPU µs the server process spent per request.
    pub server_cpu_us_per_req: Option<f64>,
}

/// A server `perf-mon` measured.
#[derive(Clone, Debug, PartialEq)]
pub struct MonServer {
    /// `ceph` or `cuttle`.
    pub target: String,
    /// `ceph-mon --version`, or cuttle's description.
    pub software: String,
    /// Messenger worker threads configured.
    pub msgr_workers: u64,
    /// Threads of the process.
    pub threads: u64,
}

/// A whole `perf-mon --json` run.
#[derive(Clone, Debug, PartialEq)]
pub struct MonRun {
    /// Worker threads of the (cuttle) client messenger.
    pub client_workers: u64,
    /// The servers.
    pub servers: Vec<MonServer>,
    /// Every point.
    pub points: Vec<MonPoint>,
}

impl MonRun {
    /// The point of `target` at `conns`.
    pub fn point(&self, target: &str, conns: u64) -> Option<&MonPoint> {
        self.points
            .iter()
            .find(|p| p.target == target && p.conns == conns)
    }

    /// The `conns` values measured, in order, without repeats.
    pub fn conns(&self) -> Vec<u64> {
        let mut v: Vec<u64> = Vec::new();
        for p in &self.points {
            if !v.contains(&p.conns) {
                v.push(p.conns);
            }
        }
        v
    }
}

/// Parses `perf-mon --json` output (one object).
pub fn parse_mon(stdout: &str) -> Result<MonRun, String> {
    let v: Value = serde_json::from_str(stdout.trim()).map_err(|e| format!("bad JSON: {e}"))?;
    let servers = v["servers"]
        .as_array()
        .ok_or("no servers")?
        .iter()
        .map(|s| {
            Ok(MonServer {
                target: s["target"].as_str().ok_or("no target")?.to_owned(),
                software: s["software"].as_str().unwrap_or("?").to_owned(),
                msgr_workers: s["configured_msgr_workers"].as_u64().unwrap_or(0),
                threads: s["threads"]["total"].as_u64().unwrap_or(0),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let points = v["points"]
        .as_array()
        .ok_or("no points")?
        .iter()
        .map(|p| {
            Ok(MonPoint {
                target: p["target"].as_str().ok_or("no target")?.to_owned(),
                conns: int(&p["conns"], "conns")?,
                depth: int(&p["depth"], "depth")?,
                req_per_sec: num(&p["req_per_sec"], "req_per_sec")?,
                p50_us: num(&p["latency_us"]["p50"], "latency_us.p50")?,
                p99_us: num(&p["latency_us"]["p99"], "latency_us.p99")?,
                server_cpu_us_per_req: p["server_cpu"]["us_per_req"].as_f64(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(MonRun {
        client_workers: v["params"]["client_workers"].as_u64().unwrap_or(0),
        servers,
        points,
    })
}

/// One point of `rados-peer` (the `rados` crate's MonClient against a mon).
#[derive(Clone, Debug, PartialEq)]
pub struct RadosRow {
    /// Connections (one MonClient each).
    pub conns: u64,
    /// Requests in flight per connection.
    pub depth: u64,
    /// Requests answered per second.
    pub req_per_sec: f64,
    /// Latency percentiles, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
}

/// Parses `rados-peer` output: one JSON object per line.
pub fn parse_rados(stdout: &str) -> Result<Vec<RadosRow>, String> {
    let rows = json_lines(stdout)?
        .iter()
        .map(|v| {
            Ok(RadosRow {
                conns: int(&v["conns"], "conns")?,
                depth: int(&v["depth"], "depth")?,
                req_per_sec: num(&v["req_per_s"], "req_per_s")?,
                p50_us: num(&v["p50_us"], "p50_us")?,
                p99_us: num(&v["p99_us"], "p99_us")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if rows.is_empty() {
        return Err("no output".into());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msgr_json_is_parsed() {
        let json = r#"{"params":{"size":64,"depth":4,"conns":2,"threads":1,"server_workers":1,
            "busy_poll_us":50},
            "summary":{"transports":[
              {"transport":"raw_tcp","median":{"msgs_per_sec":100.0,"mb_per_sec":0.5,
               "latency_p50_us":10.0,"latency_p99_us":20.0,"cpu_us_per_msg":null,
               "rx_copied_bytes_per_msg":null}},
              {"transport":"epoll","median":{"msgs_per_sec":150.0,"mb_per_sec":0.75,
               "latency_p50_us":8.0,"latency_p99_us":30.0,"cpu_us_per_msg":2.0,
               "rx_copied_bytes_per_msg":1.5,"rx_shared_bytes_per_msg":64.0,
               "rx_direct_bytes_per_msg":0.0}}]}}"#;
        let run = parse_msgr(json).unwrap();
        assert_eq!((run.size, run.conns, run.busy_poll_us), (64, 2, Some(50)));
        assert_eq!(run.rows[0].rx, None);
        assert_eq!(run.rows[1].rx.unwrap().shared, 64.0);
        assert_eq!(run.ratio("epoll", "raw_tcp", Metric::MsgsPerSec), Some(1.5));
        assert_eq!(run.ratio("epoll", "raw_tcp", Metric::CpuPerMsg), None);
        assert_eq!(run.ratio("epoll", "tokio", Metric::MsgsPerSec), None);
        assert!(parse_msgr("{}").is_err());
    }

    #[test]
    fn line_outputs_are_parsed() {
        let alloc = "{\"driver\":\"epoll\",\"size\":64,\"messages\":10,\"allocs_per_msg\":0.5,\
                     \"bytes_per_msg\":3.0}\n";
        assert_eq!(parse_alloc(alloc).unwrap()[0].allocs_per_msg, 0.5);
        assert!(parse_alloc("").is_err());
        let rados = "noise\n{\"target\":\"rados-rs\",\"op\":\"get_version\",\"conns\":4,\
                     \"depth\":16,\"req_per_s\":11400,\"p50_us\":68.2,\"p99_us\":159.2}\n";
        let r = parse_rados(rados).unwrap();
        assert_eq!((r[0].conns, r[0].req_per_sec), (4, 11400.0));
    }
}
