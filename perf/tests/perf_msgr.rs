//! Smoke tests: `perf-msgr` with tiny settings prints one JSON object with the baselines, a
//! run per driver, ratios and the machine.

use std::process::Command;

use serde_json::Value;

/// Runs `perf-msgr --json` with `args` and parses its output.
fn perf_msgr(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_perf-msgr"))
        .args(args)
        .arg("--json")
        .output()
        .expect("run perf-msgr");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

fn transports(results: &Value) -> Vec<&str> {
    results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["params"]["transport"].as_str().unwrap())
        .collect()
}

/// Every result has the same fields, whatever its transport; `size` is the message size.
fn check_result(r: &Value, size: u64, round_transports: &[&str]) {
    assert!(r["messages"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(
        r["bytes"].as_u64().unwrap(),
        r["messages"].as_u64().unwrap() * size
    );
    for key in ["window_s", "msgs_per_sec", "mb_per_sec"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key} in {r}");
    }
    for key in ["seconds", "cores", "us_per_msg"] {
        assert!(r["cpu"][key].is_number(), "cpu {key} in {r}");
    }
    for key in ["p50", "p90", "p99", "p99.9", "max"] {
        assert!(r["latency_us"][key].is_number(), "{key} in {r}");
    }
    assert!(r.get("ratio_to_baseline").is_some(), "{r}");
    let ratios = r["ratios"].as_object().unwrap();
    let mut keys: Vec<&str> = ratios.keys().map(String::as_str).collect();
    let mut want = round_transports.to_vec();
    keys.sort_unstable();
    want.sort_unstable();
    assert_eq!(keys, want, "ratios in {r}");
    for ratio in ratios.values() {
        for key in ["mb_per_sec", "msgs_per_sec", "latency_p50", "latency_p99"] {
            assert!(ratio[key].as_f64().unwrap() > 0.0, "{key} in {ratio}");
        }
        // CPU time is counted in 10 ms ticks: a tiny run may see none.
        assert!(ratio.get("cpu_us_per_msg").is_some(), "{ratio}");
    }
}

#[test]
fn perf_msgr_json_has_the_fields() {
    let v = perf_msgr(&[
        "--size", "512", "--depth", "8", "--conns", "2", "--secs", "0.25", "--warmup", "0.1",
    ]);
    assert_eq!(v["tool"], "perf-msgr");
    assert!(v["machine"]["cpus"].as_u64().unwrap() > 0);
    assert!(v["machine"]["loadavg"].is_array());
    assert_eq!(v["params"]["size"], 512);
    let rounds = v["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 1);
    let base = &rounds[0]["baseline"];
    assert_eq!(base["params"]["transport"], "raw_tcp");
    let baselines = &rounds[0]["baselines"];
    assert_eq!(transports(baselines), ["raw_tcp", "tokio", "tokio_uring"]);
    let runs = &rounds[0]["runs"];
    assert_eq!(transports(runs), ["epoll", "io_uring"]);
    let all = ["raw_tcp", "tokio", "tokio_uring", "epoll", "io_uring"];
    let results = baselines.as_array().unwrap().iter();
    for r in results.chain(runs.as_array().unwrap()) {
        check_result(r, 512, &all);
        assert_eq!(r["ratio_to_baseline"], r["ratios"]["raw_tcp"]);
    }
    assert!(v["summary"]["baseline"]["msgs_per_sec"].as_f64().unwrap() > 0.0);
    let summary = v["summary"]["drivers"].as_array().unwrap();
    assert_eq!(summary.len(), 2);
    for s in summary {
        assert!(s["median"]["mb_per_sec"].as_f64().unwrap() > 0.0);
        assert!(s["median_ratio"]["mb_per_sec"].as_f64().unwrap() > 0.0);
    }
    let per_transport = v["summary"]["transports"].as_array().unwrap();
    assert_eq!(per_transport.len(), all.len());
    for s in per_transport {
        for t in all {
            assert!(
                s["median_ratios"][t]["msgs_per_sec"].as_f64().unwrap() > 0.0,
                "{s}"
            );
        }
    }
}

/// The cheap one: the tokio baseline alone against one driver, no raw TCP.
#[test]
fn tokio_baseline_runs_and_has_the_fields() {
    let v = perf_msgr(&[
        "--baseline",
        "tokio",
        "--driver",
        "epoll",
        "--size",
        "64",
        "--depth",
        "4",
        "--conns",
        "3",
        "--secs",
        "0.2",
        "--warmup",
        "0.05",
    ]);
    let round = &v["rounds"][0];
    assert!(round["baseline"].is_null(), "no raw_tcp: {round}");
    assert_eq!(transports(&round["baselines"]), ["tokio"]);
    assert_eq!(transports(&round["runs"]), ["epoll"]);
    for r in [&round["baselines"][0], &round["runs"][0]] {
        check_result(r, 64, &["tokio", "epoll"]);
        assert!(r["ratio_to_baseline"].is_null());
    }
    assert!(v["summary"]["baseline"].is_null());
    let epoll = &v["summary"]["transports"][1];
    assert_eq!(epoll["transport"], "epoll");
    assert!(
        epoll["median_ratios"]["tokio"]["msgs_per_sec"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}
