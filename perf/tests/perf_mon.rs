//! Smoke test: `perf-mon --target cuttle` (the cuttle client against the cuttle responder
//! in a child process; no real Ceph) with tiny settings prints one JSON object with the
//! servers, a point per `conns` value with replies on every connection, and the fields a
//! report generator reads.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// perf-mon bounds itself (ready line, drain); this only keeps a broken build from hanging.
const DEADLINE: Duration = Duration::from_secs(120);

fn perf_mon(args: &[&str]) -> std::process::Output {
    let child = Command::new(env!("CARGO_BIN_EXE_perf-mon"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run perf-mon");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(DEADLINE)
        .expect("perf-mon did not finish in time")
        .expect("wait for perf-mon")
}

#[test]
fn perf_mon_cuttle_json_has_the_fields() {
    let out = perf_mon(&[
        "--target", "cuttle", "--conns", "1,2", "--depth", "4", "--secs", "0.3", "--warmup", "0.1",
        "--json",
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(v["tool"], "perf-mon");
    assert!(v["machine"]["cpus"].as_u64().unwrap() > 0);
    let params = &v["params"];
    assert_eq!(params["targets"], serde_json::json!(["cuttle"]));
    assert_eq!(params["conns"], serde_json::json!([1, 2]));
    assert_eq!(params["depth"], 4);
    assert_eq!(params["what"], "osdmap");
    for key in [
        "secs",
        "warmup",
        "driver",
        "client_workers",
        "server_workers",
    ] {
        assert!(!params[key].is_null(), "params.{key}");
    }

    let servers = v["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1);
    let s = &servers[0];
    assert_eq!(s["target"], "cuttle");
    assert!(s["pid"].as_u64().unwrap() > 0);
    assert!(s["addr"].as_str().unwrap().starts_with("v2:127.0.0.1:"));
    assert_eq!(s["configured_msgr_workers"], 1);
    assert_eq!(s["threads"]["msgr_workers"], 1, "{s}");
    assert!(s["threads"]["total"].as_u64().unwrap() >= 1);
    assert!(s["idle_cpu"]["seconds"].is_number());

    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    for (p, conns) in points.iter().zip([1u64, 2]) {
        assert_eq!(p["target"], "cuttle");
        assert_eq!(p["conns"], conns);
        let replies = p["replies"].as_u64().unwrap();
        assert!(replies > 0, "{p}");
        let per_conn: Vec<u64> = p["replies_per_conn"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        assert_eq!(per_conn.len() as u64, conns);
        assert!(per_conn.iter().all(|&n| n > 0), "{p}");
        assert_eq!(per_conn.iter().sum::<u64>(), replies);
        assert_eq!(p["sent_total"], p["replies_total"], "{p}");
        assert!(p["replies_total"].as_u64().unwrap() >= replies);
        for key in ["window_s", "req_per_sec"] {
            assert!(p[key].as_f64().unwrap() > 0.0, "{key} in {p}");
        }
        for key in ["p50", "p90", "p99", "p99.9", "max"] {
            assert!(p["latency_us"][key].as_f64().unwrap() > 0.0, "{key} in {p}");
        }
        assert!(p["latency_samples"].as_u64().unwrap() > 0);
        // CPU is counted in 10 ms ticks: a tiny run may see none, but it is a number.
        for side in ["server_cpu", "client_cpu"] {
            for key in ["seconds", "cores", "us_per_req"] {
                assert!(p[side][key].is_number(), "{side}.{key} in {p}");
            }
            assert!(p[side]["threads"].is_object());
        }
        assert_eq!(p["reply"]["version"], 1);
        assert_eq!(p["reply"]["oldest_version"], 1);
        assert!(p["unsolicited"].as_object().unwrap().is_empty());
    }
    // No ceph point, so no ratio.
    assert_eq!(v["ratios"], serde_json::json!([]));
}

#[test]
fn perf_mon_help_explains_the_defaults() {
    let out = perf_mon(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for s in ["--depth", "--conns", "ceph-mon", "down.sh"] {
        assert!(text.contains(s), "{s} in --help");
    }
}
