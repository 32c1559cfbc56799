//! The real Ceph mon of section 7: one `ceph-mon` and no mgr, started with
//! `shared/ceph/up.sh 1 0` under a private `CEPH_REF_DIR` and `CEPH_REF_PORT`, measured by
//! `perf-mon` (which attaches to it) and by `rados-peer`, and stopped with `down.sh` when
//! the [`Cluster`] guard drops, also when a step fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::exec::{CommandSpec, run_limited};

/// Where the cluster lives and which scripts start and stop it.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// The folder holding `up.sh` and `down.sh`.
    pub scripts: PathBuf,
    /// `CEPH_REF_DIR`: conf, data, logs, pids (removed by `down.sh`).
    pub dir: PathBuf,
    /// `CEPH_REF_PORT`: the mon's msgr2 port.
    pub port: u16,
}

impl ClusterSpec {
    fn script(&self, name: &str, args: &[&str]) -> CommandSpec {
        CommandSpec {
            env: vec![
                ("CEPH_REF_DIR".into(), self.dir.display().to_string()),
                ("CEPH_REF_PORT".into(), self.port.to_string()),
            ],
            program: PathBuf::from("bash"),
            args: std::iter::once(self.scripts.join(name).display().to_string())
                .chain(args.iter().map(|a| a.to_string()))
                .collect(),
        }
    }

    /// `up.sh 1 0`: one mon, no mgr.
    pub fn up(&self) -> CommandSpec {
        self.script("up.sh", &["1", "0"])
    }

    /// `down.sh`.
    pub fn down(&self) -> CommandSpec {
        self.script("down.sh", &[])
    }

    /// The cluster's `ceph.conf` (perf-mon finds the mon's address and process from it).
    pub fn conf(&self) -> PathBuf {
        self.dir.join("ceph.conf")
    }

    /// The mon's address as rados-peer takes it.
    pub fn mon_addr(&self) -> String {
        format!("v2:127.0.0.1:{}", self.port)
    }
}

/// A running mon; dropping it runs `down.sh`.
#[derive(Debug)]
pub struct Cluster {
    spec: ClusterSpec,
}

/// How long `up.sh` may take (it waits up to ~30 s for quorum itself).
const UP_LIMIT: Duration = Duration::from_secs(180);
/// How long `down.sh` may take (it waits 5 s per daemon before SIGKILL).
const DOWN_LIMIT: Duration = Duration::from_secs(60);

impl Cluster {
    /// Stops a leftover cluster under the same directory (an interrupted run), then starts
    /// one. On failure the half-started cluster is stopped before returning.
    pub fn start(spec: &ClusterSpec) -> Result<Cluster, String> {
        if !spec.scripts.join("up.sh").exists() {
            return Err(format!("no up.sh in {}", spec.scripts.display()));
        }
        run_limited(&spec.down(), DOWN_LIMIT)?;
        // From here on, dropping `cluster` runs down.sh.
        let cluster = Cluster { spec: spec.clone() };
        run_limited(&spec.up(), UP_LIMIT)?;
        if !spec.conf().exists() {
            return Err(format!("up.sh wrote no {}", spec.conf().display()));
        }
        Ok(cluster)
    }

    /// Its conf file.
    pub fn conf(&self) -> PathBuf {
        self.spec.conf()
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.spec.dir
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Err(e) = run_limited(&self.spec.down(), DOWN_LIMIT) {
            eprintln!(
                "perf-report: down.sh failed ({e}); stop the mon with: {}",
                self.spec.down().display()
            );
        }
    }
}
