//! The machine and checkout a report ran on ([`Machine::probe`]), with pure parsers for the
//! `/proc` files it reads.

use std::path::Path;
use std::process::Command;

/// Where and when a report ran.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Machine {
    /// CPU model (`model name` of `/proc/cpuinfo`).
    pub cpu_model: Option<String>,
    /// Logical CPUs in `/proc/cpuinfo`.
    pub cpus: usize,
    /// CPUs this process may run on (`available_parallelism`).
    pub cpus_usable: usize,
    /// `MemTotal` in KiB.
    pub mem_kib: Option<u64>,
    /// `uname -r`.
    pub kernel: Option<String>,
    /// `rustc -V` in the workspace (its `rust-toolchain.toml` applies).
    pub rustc: Option<String>,
    /// `git rev-parse HEAD` of the workspace.
    pub commit: Option<String>,
    /// Tracked files with uncommitted changes (`BENCHMARKS.md` not counted); `None` if git
    /// could not say.
    pub dirty_files: Option<usize>,
    /// When the run started (`date -u`).
    pub date: Option<String>,
    /// perf-report's nice value (the tools inherit it).
    pub nice: Option<i64>,
    /// Load average when the run started.
    pub load_start: Vec<f64>,
    /// Load average when it ended.
    pub load_end: Vec<f64>,
}

/// The model and number of processors in `/proc/cpuinfo` text.
pub fn parse_cpuinfo(text: &str) -> (Option<String>, usize) {
    let field = |l: &str, k: &str| {
        l.split_once(':')
            .filter(|(a, _)| a.trim() == k)
            .map(|(_, b)| b.trim().to_owned())
    };
    let model = text.lines().find_map(|l| field(l, "model name"));
    let count = text
        .lines()
        .filter(|l| field(l, "processor").is_some())
        .count();
    (model, count)
}

/// `MemTotal` in KiB from `/proc/meminfo` text.
pub fn parse_meminfo(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The 1, 5 and 15 minute averages of `/proc/loadavg` text.
pub fn parse_loadavg(text: &str) -> Vec<f64> {
    text.split_whitespace()
        .take(3)
        .filter_map(|x| x.parse().ok())
        .collect()
}

/// The nice value (field 19) of `/proc/<pid>/stat` text.
pub fn parse_stat_nice(text: &str) -> Option<i64> {
    let rest = text.get(text.rfind(')')? + 1..)?;
    // Fields after the command: state is field 3, nice is field 19.
    rest.split_whitespace().nth(19 - 3)?.parse().ok()
}

/// The load average now (empty if unreadable).
pub fn load_now() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| parse_loadavg(&s))
        .unwrap_or_default()
}

/// The first line of a command's stdout, if it succeeded.
fn output_line(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8_lossy(&out.stdout);
    Some(s.lines().next().unwrap_or("").trim().to_owned()).filter(|s| !s.is_empty())
}

impl Machine {
    /// Reads everything but `load_end`; `workspace` is where git and rustc run.
    pub fn probe(workspace: &Path) -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).ok();
        let (cpu_model, cpus) = read("/proc/cpuinfo")
            .map(|s| parse_cpuinfo(&s))
            .unwrap_or((None, 0));
        let git = |args: &[&str]| {
            Command::new("git")
                .arg("-C")
                .arg(workspace)
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        };
        Machine {
            cpu_model,
            cpus,
            cpus_usable: std::thread::available_parallelism().map_or(0, |n| n.get()),
            mem_kib: read("/proc/meminfo").and_then(|s| parse_meminfo(&s)),
            kernel: output_line(Command::new("uname").arg("-r")),
            rustc: output_line(Command::new("rustc").arg("-V").current_dir(workspace)),
            commit: git(&["rev-parse", "HEAD"]).map(|s| s.trim().to_owned()),
            dirty_files: git(&[
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)BENCHMARKS.md",
            ])
            .map(|s| s.lines().count()),
            date: output_line(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M:%S UTC"])),
            nice: read("/proc/self/stat").and_then(|s| parse_stat_nice(&s)),
            load_start: load_now(),
            load_end: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t: x\n\n\
                       processor\t: 1\nmodel name\t: AMD EPYC\n";
        assert_eq!(parse_cpuinfo(cpuinfo), (Some("AMD EPYC".into()), 2));
        assert_eq!(
            parse_meminfo("MemTotal:        8131072 kB\nMemFree: 1 kB\n"),
            Some(8_131_072)
        );
        assert_eq!(
            parse_loadavg("0.50 1.25 2.00 3/120 999\n"),
            vec![0.5, 1.25, 2.0]
        );
        let stat = "42 (perf (x) y) R 1 42 42 0 -1 4194304 100 0 0 0 5 3 0 0 20 19 1 0 77";
        assert_eq!(parse_stat_nice(stat), Some(19));
    }
}
