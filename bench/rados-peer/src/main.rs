//! Closed-loop load generator against a real ceph-mon, using the `rados` crate's `MonClient`
//! (crates.io `rados` 0.1.4, github.com/tchaikov/rados-rs: a tokio msgr2 client).
//!
//! For every point (conns, depth) it opens `conns` independent `MonClient`s (one msgr2 session
//! each), keeps `depth` requests in flight on each, runs a warm-up and then a measured window, and
//! prints one JSON object per point on stdout:
//!
//! `{"target":"rados-rs","op":"get_version","conns":4,"depth":1,"req_per_s":..,"p50_us":..,"p99_us":..}`
//!
//! The default request is `MonClient::get_version(osdmap)`, i.e. MMonGetVersion ->
//! MMonGetVersionReply, the cheapest mon round trip. `--op command` sends the mon command
//! `{"prefix": "version"}` (MMonCommand -> MMonCommandAck) instead; the mon audits and persists
//! every command, so it is much heavier.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rados::monclient::{AuthConfig, MonClient, MonClientConfig, MonService};

const USAGE: &str = "usage: rados-peer [--mon v2:127.0.0.1:13300] [--conns 1,4,16] [--depth 1] \
[--secs 5] [--warmup 1] [--op get_version|command] [--threads N]";

#[derive(Clone, Copy, PartialEq)]
enum Op {
    GetVersion,
    Command,
}

struct Args {
    mon: String,
    conns: Vec<usize>,
    depths: Vec<usize>,
    secs: f64,
    warmup: f64,
    op: Op,
    threads: Option<usize>,
}

fn list(v: &str) -> Vec<usize> {
    v.split(',')
        .map(|s| s.trim().parse().expect(USAGE))
        .collect()
}

fn parse_args() -> Args {
    let mut a = Args {
        mon: "v2:127.0.0.1:13300".into(),
        conns: vec![1, 4, 16],
        depths: vec![1],
        secs: 5.0,
        warmup: 1.0,
        op: Op::GetVersion,
        threads: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "-h" || k == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let v = it.next().unwrap_or_else(|| panic!("{USAGE}"));
        match k.as_str() {
            "--mon" => a.mon = v,
            "--conns" => a.conns = list(&v),
            "--depth" => a.depths = list(&v),
            "--secs" => a.secs = v.parse().expect(USAGE),
            "--warmup" => a.warmup = v.parse().expect(USAGE),
            "--threads" => a.threads = Some(v.parse().expect(USAGE)),
            "--op" => {
                a.op = match v.as_str() {
                    "get_version" => Op::GetVersion,
                    "command" => Op::Command,
                    _ => panic!("{USAGE}"),
                }
            }
            _ => panic!("{USAGE}"),
        }
    }
    a
}

async fn connect(mon: &str) -> Arc<MonClient> {
    let cfg = MonClientConfig {
        mon_addrs: vec![mon.to_string()],
        // Explicit: the default would read /etc/ceph/ceph.conf.
        auth: Some(AuthConfig::no_auth("client.admin".into())),
        ..Default::default()
    };
    let mc = MonClient::new(cfg, None).await.expect("MonClient::new");
    mc.init().await.expect("MonClient::init");
    // Not wait_for_auth(): with auth none it never completes in rados 0.1.4 (it also waits for a
    // cephx service-ticket provider, which does not exist without cephx). The first MonMap proves
    // the session is up.
    mc.wait_for_monmap(Duration::from_secs(10))
        .await
        .expect("no MonMap from the mon within 10 s");
    mc
}

async fn one_request(mc: &MonClient, op: Op) -> bool {
    match op {
        Op::GetVersion => mc.get_version(MonService::OsdMap).await.is_ok(),
        Op::Command => mc
            .invoke(vec![r#"{"prefix": "version"}"#.into()], bytes::Bytes::new())
            .await
            .is_ok_and(|r| r.retval == 0),
    }
}

/// One in-flight slot: issues requests back to back until `end`, returns the latencies (ns) of
/// the requests that completed inside [start, end] and the number of failed requests.
async fn slot(mc: Arc<MonClient>, op: Op, start: Instant, end: Instant) -> (Vec<u64>, u64) {
    let mut lat = Vec::with_capacity(1 << 16);
    let mut errors = 0;
    loop {
        let t = Instant::now();
        if t >= end {
            break;
        }
        let ok = one_request(&mc, op).await;
        let done = Instant::now();
        if !ok {
            errors += 1;
        } else if t >= start && done <= end {
            lat.push((done - t).as_nanos() as u64);
        }
    }
    (lat, errors)
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

async fn run_point(a: &Args, conns: usize, depth: usize) {
    let mut clients = Vec::with_capacity(conns);
    for _ in 0..conns {
        clients.push(connect(&a.mon).await);
    }
    let start = Instant::now() + Duration::from_secs_f64(a.warmup);
    let end = start + Duration::from_secs_f64(a.secs);
    let mut tasks = Vec::with_capacity(conns * depth);
    for mc in &clients {
        for _ in 0..depth {
            tasks.push(tokio::spawn(slot(mc.clone(), a.op, start, end)));
        }
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("slot task panicked");
        lat.extend(l);
        errors += e;
    }
    for mc in &clients {
        let _ = mc.shutdown().await;
    }
    lat.sort_unstable();
    if errors > 0 {
        eprintln!("rados-peer: conns={conns} depth={depth}: {errors} failed requests");
    }
    let op = match a.op {
        Op::GetVersion => "get_version",
        Op::Command => "command",
    };
    println!(
        r#"{{"target":"rados-rs","op":"{op}","conns":{conns},"depth":{depth},"req_per_s":{:.0},"p50_us":{:.1},"p99_us":{:.1}}}"#,
        lat.len() as f64 / a.secs,
        pct(&lat, 0.50),
        pct(&lat, 0.99),
    );
}

fn main() {
    let a = parse_args();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = a.threads {
        rt.worker_threads(n);
    }
    let rt = rt.enable_all().build().expect("tokio runtime");
    rt.block_on(async {
        for &c in &a.conns {
            for &d in &a.depths {
                run_point(&a, c, d).await;
            }
        }
    });
}
