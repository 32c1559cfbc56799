//! CPU time and threads of a process, read from `/proc` (Linux only).
//!
//! Times come from `utime + stime` in `/proc/<pid>/stat` (and `/proc/<pid>/task/<tid>/stat`
//! per thread), counted in clock ticks of 10 ms: `USER_HZ` is 100 on every Linux
//! architecture we run on. A 3-second window therefore resolves CPU use to ~0.3 %.

use std::collections::HashMap;
use std::fs;
use std::time::Instant;

use serde_json::{Value, json};

/// Clock ticks per second of `/proc/*/stat` times (`USER_HZ`).
const TICKS_PER_SEC: f64 = 100.0;

/// Which process to read: ourselves or another one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pid {
    /// `/proc/self`.
    Myself,
    /// `/proc/<pid>`.
    Other(u32),
}

impl Pid {
    fn dir(self) -> String {
        match self {
            Pid::Myself => "/proc/self".to_owned(),
            Pid::Other(p) => format!("/proc/{p}"),
        }
    }
}

/// `(comm, utime + stime)` from the text of a `stat` file. The command name sits in
/// parentheses and may itself contain spaces and parentheses, so fields are counted from
/// the last `)`.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // After the name: state(0) ppid(1) ... utime(11) stime(12).
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((comm, ticks(11)? + ticks(12)?))
}

/// CPU seconds (user + system, all threads) `pid` has used so far.
pub fn cpu_seconds(pid: Pid) -> Option<f64> {
    let stat = fs::read_to_string(format!("{}/stat", pid.dir())).ok()?;
    parse_stat(&stat).map(|(_, t)| t as f64 / TICKS_PER_SEC)
}

/// The nice value of `pid` (a process started by a niced one inherits it).
pub fn nice(pid: Pid) -> Option<i64> {
    let stat = fs::read_to_string(format!("{}/stat", pid.dir())).ok()?;
    // After the name: state(0) ppid(1) ... priority(15) nice(16).
    stat.get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .nth(16)?
        .parse()
        .ok()
}

/// The command name (`comm`) of `pid`.
pub fn comm(pid: Pid) -> Option<String> {
    fs::read_to_string(format!("{}/comm", pid.dir()))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// The NUL-separated command line of `pid`, joined with spaces.
pub fn cmdline(pid: u32) -> Option<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        raw.split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Every process whose `comm` is `name`.
pub fn processes_named(name: &str) -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&p| comm(Pid::Other(p)).as_deref() == Some(name))
        .collect();
    pids.sort_unstable();
    pids
}

/// Each thread's name and CPU ticks, by thread id.
fn thread_ticks(pid: Pid) -> HashMap<u32, (String, u64)> {
    let Ok(dir) = fs::read_dir(format!("{}/task", pid.dir())) else {
        return HashMap::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let tid: u32 = e.file_name().to_str()?.parse().ok()?;
        let stat = fs::read_to_string(e.path().join("stat")).ok()?;
        Some((tid, parse_stat(&stat)?))
    })
    .collect()
}

/// The threads of a process: how many, and how many are messenger workers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Threads {
    /// Every thread, the main one included.
    pub total: usize,
    /// Threads named `msgr-worker-N` (Ceph's and cuttle's name for a network worker).
    pub msgr_workers: usize,
}

impl Threads {
    /// Counts the threads of `pid` now.
    pub fn of(pid: Pid) -> Threads {
        let t = thread_ticks(pid);
        Threads {
            total: t.len(),
            msgr_workers: t
                .values()
                .filter(|(n, _)| n.starts_with("msgr-worker"))
                .count(),
        }
    }

    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({"total": self.total, "msgr_workers": self.msgr_workers})
    }
}

/// A reading of a process's CPU time, whole and per thread.
#[derive(Clone, Debug)]
pub struct CpuSnapshot {
    at: Instant,
    total: Option<f64>,
    threads: HashMap<u32, (String, u64)>,
}

impl CpuSnapshot {
    /// Reads `pid` now.
    pub fn take(pid: Pid) -> CpuSnapshot {
        CpuSnapshot {
            at: Instant::now(),
            total: cpu_seconds(pid),
            threads: thread_ticks(pid),
        }
    }

    /// What `pid` spent between `self` (earlier) and `later`.
    pub fn until(&self, later: &CpuSnapshot) -> CpuUse {
        let mut by_name: HashMap<String, f64> = HashMap::new();
        for (tid, (name, t1)) in &later.threads {
            let t0 = self.threads.get(tid).map_or(0, |(_, t)| *t);
            let d = t1.saturating_sub(t0);
            if d > 0 {
                *by_name.entry(name.clone()).or_default() += d as f64 / TICKS_PER_SEC;
            }
        }
        let mut threads: Vec<(String, f64)> = by_name.into_iter().collect();
        threads.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        CpuUse {
            seconds: match (self.total, later.total) {
                (Some(a), Some(b)) => Some((b - a).max(0.0)),
                _ => None,
            },
            wall: later.at.saturating_duration_since(self.at).as_secs_f64(),
            threads,
        }
    }
}

/// CPU a process spent over an interval.
#[derive(Clone, Debug, Default)]
pub struct CpuUse {
    /// CPU seconds, every thread (`None`: the process could not be read).
    pub seconds: Option<f64>,
    /// Wall-clock seconds between the two readings.
    pub wall: f64,
    /// CPU seconds per thread name, busiest first (threads with none left out; threads
    /// that share a name are added up).
    pub threads: Vec<(String, f64)>,
}

impl CpuUse {
    /// Average CPUs busy.
    pub fn cores(&self) -> Option<f64> {
        self.seconds
            .filter(|_| self.wall > 0.0)
            .map(|s| s / self.wall)
    }

    /// CPU microseconds per operation, for `ops` operations.
    pub fn us_per(&self, ops: u64) -> Option<f64> {
        self.seconds
            .filter(|_| ops > 0)
            .map(|s| s * 1e6 / ops as f64)
    }

    /// As JSON, with `us_per_req` for `ops` requests.
    pub fn to_json(&self, ops: u64) -> Value {
        let threads: serde_json::Map<String, Value> = self
            .threads
            .iter()
            .map(|(n, s)| (n.clone(), json!(s)))
            .collect();
        json!({
            "seconds": self.seconds,
            "cores": self.cores(),
            "us_per_req": self.us_per(ops),
            "threads": threads,
        })
    }

    /// The busiest `n` threads as `name 0.52` pairs (cores busy).
    pub fn top_threads(&self, n: usize) -> String {
        self.threads
            .iter()
            .take(n)
            .map(|(name, s)| format!("{name} {:.2}", s / self.wall.max(1e-9)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_names() {
        let s = "42 (msgr-worker-0) S 1 2 3 4 5 6 7 8 9 10 250 30 0 0 20 0 3";
        assert_eq!(parse_stat(s), Some(("msgr-worker-0".into(), 280)));
        let s = "7 (a) b (c) R 1 2 3 4 5 6 7 8 9 10 1 2 0 0";
        assert_eq!(parse_stat(s), Some(("a) b (c".into(), 3)));
        assert_eq!(parse_stat("7 (x) R 1"), None);
    }

    #[test]
    fn reads_this_process() {
        assert!(cpu_seconds(Pid::Myself).is_some());
        assert!(nice(Pid::Myself).is_some_and(|n| (-20..=19).contains(&n)));
        let t = Threads::of(Pid::Myself);
        assert!(t.total >= 1);
        let a = CpuSnapshot::take(Pid::Myself);
        let b = CpuSnapshot::take(Pid::Myself);
        let u = a.until(&b);
        assert!(u.seconds.is_some_and(|s| s >= 0.0));
        assert_eq!(u.us_per(0), None);
    }
}
