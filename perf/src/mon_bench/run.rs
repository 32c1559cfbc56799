//! One `perf-mon` run: start the servers, measure them idle, then one point per
//! (`conns`, target), the targets interleaved per `conns` value so that a change in the
//! machine's load during the run hits both alike. The servers stay up for the whole run and
//! are stopped by their guards, also when a point fails.

use std::path::PathBuf;
use std::time::Duration;

use msgr::DriverKind;
use msgr::wire::EntityAddrvec;
use serde_json::{Value, json};

use super::ceph::CephMon;
use super::client::{self, Load};
use super::procfs::{self, CpuSnapshot, CpuUse, Pid, Threads};
use super::report::{Point, Report, ServerInfo};
use super::responder::ResponderProcess;
use super::{Target, load_average, machine};

/// How long each server is watched idle before the first point.
const IDLE_WINDOW: Duration = Duration::from_secs(1);

/// ceph-mon's messenger workers (`ms_async_op_threads`, 3 by default in 16.2, which up.sh
/// keeps); reported beside the `msgr-worker` threads actually counted in `/proc`.
const CEPH_MSGR_WORKERS: usize = 3;

/// Everything a run measures.
#[derive(Clone, Debug)]
pub struct Params {
    /// Targets, in the order each `conns` value measures them.
    pub targets: Vec<Target>,
    /// Connection counts, one point each per target.
    pub conns: Vec<usize>,
    /// Requests in flight per connection.
    pub depth: usize,
    /// Measured seconds per point.
    pub secs: f64,
    /// Unmeasured seconds before each point's window (handshakes, slow start).
    pub warmup: f64,
    /// Event driver of cuttle's client and responder.
    pub driver: DriverKind,
    /// Worker threads of the client messenger.
    pub client_workers: usize,
    /// Worker threads of cuttle's responder.
    pub server_workers: usize,
    /// The map every request asks about.
    pub what: String,
}

impl Params {
    /// Checks the lists are not empty and the counts positive.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.targets.is_empty(), "no target");
        anyhow::ensure!(!self.conns.is_empty(), "no conns value");
        anyhow::ensure!(self.server_workers > 0, "the responder needs a worker");
        for &c in &self.conns {
            self.load(c).validate()?;
        }
        Ok(())
    }

    fn load(&self, conns: usize) -> Load {
        Load {
            conns,
            depth: self.depth,
            secs: self.secs,
            warmup: self.warmup,
            driver: self.driver,
            client_workers: self.client_workers,
            what: self.what.clone(),
        }
    }

    /// As JSON, for a report's `params`.
    pub fn to_json(&self) -> Value {
        let targets: Vec<&str> = self.targets.iter().map(|t| t.as_str()).collect();
        json!({
            "targets": targets,
            "conns": self.conns,
            "depth": self.depth,
            "secs": self.secs,
            "warmup": self.warmup,
            "driver": self.driver.as_str(),
            "client_workers": self.client_workers,
            "server_workers": self.server_workers,
            "what": self.what,
        })
    }
}

/// Where the real mon comes from.
#[derive(Clone, Debug)]
pub enum CephSource {
    /// Start one with `up.sh` (and stop it with `down.sh`).
    Start {
        /// The folder holding `up.sh` and `down.sh`.
        scripts: PathBuf,
        /// `CEPH_REF_DIR`: conf, data, logs and pid files.
        dir: PathBuf,
        /// `CEPH_REF_PORT`: the mon's port.
        port: u16,
    },
    /// Use a running one.
    Attach {
        /// Its `ceph.conf`.
        conf: Option<PathBuf>,
        /// Its address (`v2:ip:port/0`).
        addr: Option<String>,
        /// Its process.
        pid: Option<u32>,
    },
}

/// A running server of either kind; dropping it stops what we started.
enum Server {
    Ceph(CephMon),
    Cuttle(ResponderProcess),
}

impl Server {
    fn start(target: Target, p: &Params, ceph: &CephSource) -> anyhow::Result<Server> {
        Ok(match target {
            Target::Ceph => Server::Ceph(match ceph {
                CephSource::Start { scripts, dir, port } => CephMon::start(scripts, dir, *port)?,
                CephSource::Attach { conf, addr, pid } => {
                    CephMon::attach(conf.as_deref(), addr.as_deref(), *pid)?
                }
            }),
            Target::Cuttle => Server::Cuttle(ResponderProcess::spawn(p.driver, p.server_workers)?),
        })
    }

    fn addrs(&self) -> &EntityAddrvec {
        match self {
            Server::Ceph(m) => &m.addrs,
            Server::Cuttle(r) => &r.addrs,
        }
    }

    fn pid(&self) -> u32 {
        match self {
            Server::Ceph(m) => m.pid,
            Server::Cuttle(r) => r.pid(),
        }
    }

    fn info(&self, target: Target, p: &Params, idle: CpuUse) -> ServerInfo {
        let (software, configured_workers, started_here) = match self {
            Server::Ceph(m) => (m.version.clone(), CEPH_MSGR_WORKERS, m.is_owned()),
            Server::Cuttle(_) => (
                format!("cuttle perf-mon --serve ({})", p.driver),
                p.server_workers,
                true,
            ),
        };
        ServerInfo {
            target,
            pid: self.pid(),
            addr: self.addrs().to_string(),
            software,
            configured_workers,
            threads: Threads::of(Pid::Other(self.pid())),
            idle,
            nice: procfs::nice(Pid::Other(self.pid())),
            started_here,
        }
    }
}

/// Runs every point of `p`, calling `each` as each one is measured.
pub fn run(p: &Params, ceph: &CephSource, mut each: impl FnMut(&Point)) -> anyhow::Result<Report> {
    p.validate()?;
    super::check_driver(p.driver)?;
    let machine_before = machine();
    let mut servers: Vec<(Target, Server)> = Vec::new();
    for &t in &p.targets {
        if servers.iter().all(|(s, _)| *s != t) {
            servers.push((t, Server::start(t, p, ceph)?));
        }
    }
    // Idle CPU of every server over the same second.
    let before: Vec<CpuSnapshot> = servers
        .iter()
        .map(|(_, s)| CpuSnapshot::take(Pid::Other(s.pid())))
        .collect();
    std::thread::sleep(IDLE_WINDOW); // the measurement itself, not a wait for an event
    let infos: Vec<ServerInfo> = servers
        .iter()
        .zip(&before)
        .map(|((t, s), b)| s.info(*t, p, b.until(&CpuSnapshot::take(Pid::Other(s.pid())))))
        .collect();
    let mut points = Vec::new();
    for &conns in &p.conns {
        for &t in &p.targets {
            let (_, server) = servers
                .iter()
                .find(|(s, _)| *s == t)
                .expect("every target started");
            let outcome = client::run(&p.load(conns), server.addrs(), server.pid())
                .map_err(|e| e.context(format!("{t} with {conns} connection(s)")))?;
            let point = Point {
                target: t,
                conns,
                depth: p.depth,
                outcome,
            };
            each(&point);
            points.push(point);
        }
    }
    drop(servers);
    let mut machine = machine_before;
    machine["loadavg_after"] = json!(load_average());
    Ok(Report {
        params: p.clone(),
        machine,
        servers: infos,
        points,
        client_nice: procfs::nice(Pid::Myself),
    })
}
