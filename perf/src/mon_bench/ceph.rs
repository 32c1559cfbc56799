//! The real side of the comparison: one Ceph 16.2 `ceph-mon`, started with
//! `shared/ceph/up.sh 1 0` (no mgr) under a private directory and port and stopped with
//! `down.sh` when the guard drops, or an already running one we only attach to.
//!
//! What the mon needs before it answers MMonGetVersion on a fresh connection: nothing
//! beyond the msgr2 handshake. With `auth none` the AUTH_REQUEST/AUTH_DONE exchange of the
//! handshake authenticates the session (msgr2 carries no MAuth message), so the mon's
//! `dispatch_op` lets the request through to `handle_get_version`, which answers at once
//! from the OSDMonitor's committed epochs once the mon is in quorum (up.sh waits for
//! `ceph -s`, so it is). No MMonSubscribe, MMonGetMap or global id reclaim is needed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use msgr::wire::EntityAddrvec;

use super::procfs::{self, Pid};

/// Where `up.sh` and `down.sh` live when `--ceph-scripts` is not given: the `shared/`
/// folder beside the checkout.
pub fn default_scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/ceph")
}

/// A cluster we started, to stop on drop.
struct Owned {
    scripts: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl Owned {
    fn script(&self, name: &str, args: &[&str]) -> anyhow::Result<std::process::Output> {
        Command::new("bash")
            .arg(self.scripts.join(name))
            .args(args)
            .env("CEPH_REF_DIR", &self.dir)
            .env("CEPH_REF_PORT", self.port.to_string())
            .output()
            .with_context(|| format!("run {}", self.scripts.join(name).display()))
    }
}

/// A running `ceph-mon`: its address and process.
pub struct CephMon {
    /// The address clients dial (`v2:127.0.0.1:PORT/0`).
    pub addrs: EntityAddrvec,
    /// The `ceph-mon` process.
    pub pid: u32,
    /// `ceph-mon --version`.
    pub version: String,
    owned: Option<Owned>,
}

impl CephMon {
    /// Starts one mon and no mgr with `up.sh` under `dir` with rank 0 on `port`. A leftover
    /// cluster under the same `dir` (an interrupted run) is stopped first. The cluster is
    /// stopped when the returned guard drops, and also if starting it fails half way.
    pub fn start(scripts: &Path, dir: &Path, port: u16) -> anyhow::Result<CephMon> {
        anyhow::ensure!(
            scripts.join("up.sh").exists(),
            "no up.sh in {} (give --ceph-scripts)",
            scripts.display()
        );
        let version = ceph_mon_version()?;
        let owned = Owned {
            scripts: scripts.to_owned(),
            dir: dir.to_owned(),
            port,
        };
        owned.script("down.sh", &[])?;
        // From here on, dropping `mon` runs down.sh.
        let mut mon = CephMon {
            addrs: EntityAddrvec::default(),
            pid: 0,
            version,
            owned: Some(owned),
        };
        let owned = mon.owned.as_ref().expect("just set");
        let out = owned.script("up.sh", &["1", "0"])?;
        anyhow::ensure!(
            out.status.success(),
            "up.sh failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let pid_file = dir.join("pids/mon.a.pid");
        let pid: u32 = std::fs::read_to_string(&pid_file)
            .with_context(|| format!("read {}", pid_file.display()))?
            .trim()
            .parse()
            .with_context(|| format!("parse {}", pid_file.display()))?;
        check_is_ceph_mon(pid)?;
        mon.pid = pid;
        mon.addrs = parse_addrs(&format!("v2:127.0.0.1:{port}/0"))?;
        Ok(mon)
    }

    /// Attaches to a running mon. The address is `addr`, or the first `v2:` address of
    /// `mon_host` in `conf`; the process is `pid`, or the one `ceph-mon` whose command line
    /// names `conf`, or the only `ceph-mon` running.
    pub fn attach(
        conf: Option<&Path>,
        addr: Option<&str>,
        pid: Option<u32>,
    ) -> anyhow::Result<CephMon> {
        let addrs = match (addr, conf) {
            (Some(a), _) => parse_addrs(a)?,
            (None, Some(c)) => {
                let text =
                    std::fs::read_to_string(c).with_context(|| format!("read {}", c.display()))?;
                parse_addrs(
                    &mon_addr_from_conf(&text)
                        .with_context(|| format!("no v2 address in mon_host of {}", c.display()))?,
                )?
            }
            (None, None) => anyhow::bail!("attach needs --mon-addr or --ceph-conf"),
        };
        let pid = match pid {
            Some(p) => p,
            None => find_mon_pid(conf)?,
        };
        check_is_ceph_mon(pid)?;
        Ok(CephMon {
            addrs,
            pid,
            version: ceph_mon_version().unwrap_or_else(|_| "unknown".into()),
            owned: None,
        })
    }

    /// True if this guard stops the cluster when it drops.
    pub fn is_owned(&self) -> bool {
        self.owned.is_some()
    }

    /// The directory of the cluster we started.
    pub fn dir(&self) -> Option<&Path> {
        self.owned.as_ref().map(|o| o.dir.as_path())
    }
}

impl Drop for CephMon {
    fn drop(&mut self) {
        if let Some(o) = &self.owned {
            match o.script("down.sh", &[]) {
                Ok(out) if out.status.success() => {}
                Ok(out) => eprintln!(
                    "perf-mon: down.sh failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
                Err(e) => eprintln!("perf-mon: {e:#}"),
            }
        }
    }
}

fn parse_addrs(s: &str) -> anyhow::Result<EntityAddrvec> {
    s.parse()
        .map_err(|e| anyhow::anyhow!("bad mon address {s:?}: {e:?}"))
}

fn ceph_mon_version() -> anyhow::Result<String> {
    let out = Command::new("ceph-mon")
        .arg("--version")
        .output()
        .context("run ceph-mon --version (is Ceph installed? see shared/ceph/install.sh)")?;
    anyhow::ensure!(out.status.success(), "ceph-mon --version failed");
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn check_is_ceph_mon(pid: u32) -> anyhow::Result<()> {
    let comm = procfs::comm(Pid::Other(pid));
    anyhow::ensure!(
        comm.as_deref() == Some("ceph-mon"),
        "process {pid} is {comm:?}, not ceph-mon"
    );
    Ok(())
}

/// The first `v2:` address of `mon_host = [v2:127.0.0.1:3300,v1:...],[...]`, with nonce 0
/// (a mon's).
fn mon_addr_from_conf(conf: &str) -> Option<String> {
    let value = conf.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        let k = k.trim().replace(' ', "_");
        (k == "mon_host").then(|| v.trim().to_owned())
    })?;
    let addr = value
        .split(['[', ']', ',', ' '])
        .find(|a| a.starts_with("v2:"))?;
    Some(if addr.contains('/') {
        addr.to_owned()
    } else {
        format!("{addr}/0")
    })
}

fn find_mon_pid(conf: Option<&Path>) -> anyhow::Result<u32> {
    let mons = procfs::processes_named("ceph-mon");
    let matching: Vec<u32> = match conf {
        Some(c) => {
            let c = c.to_string_lossy();
            mons.into_iter()
                .filter(|&p| procfs::cmdline(p).is_some_and(|l| l.contains(c.as_ref())))
                .collect()
        }
        None => mons,
    };
    match matching.as_slice() {
        [one] => Ok(*one),
        [] => anyhow::bail!("no ceph-mon process found (give --mon-pid)"),
        many => anyhow::bail!("several ceph-mon processes {many:?}: give --mon-pid"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mon_host_forms() {
        let conf = "[global]\nfsid = x\nmon_host = [v2:127.0.0.1:15300]\n";
        assert_eq!(
            mon_addr_from_conf(conf).as_deref(),
            Some("v2:127.0.0.1:15300/0")
        );
        let conf = "mon host = [v1:10.0.0.1:6789,v2:10.0.0.1:3300],[v2:10.0.0.2:3300]";
        assert_eq!(
            mon_addr_from_conf(conf).as_deref(),
            Some("v2:10.0.0.1:3300/0")
        );
        assert_eq!(mon_addr_from_conf("mon_host = 10.0.0.1"), None);
        assert!(parse_addrs("v2:127.0.0.1:15300/0").is_ok());
    }
}
