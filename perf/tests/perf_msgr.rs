//! Smoke test: `perf-msgr` with tiny settings prints one JSON object with the baseline, a
//! run per driver, ratios and the machine.

use std::process::Command;

use serde_json::Value;

#[test]
fn perf_msgr_json_has_the_fields() {
    let out = Command::new(env!("CARGO_BIN_EXE_perf-msgr"))
        .args([
            "--size", "512", "--depth", "8", "--conns", "2", "--secs", "0.25", "--warmup", "0.1",
            "--json",
        ])
        .output()
        .expect("run perf-msgr");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(v["tool"], "perf-msgr");
    assert!(v["machine"]["cpus"].as_u64().unwrap() > 0);
    assert!(v["machine"]["loadavg"].is_array());
    assert_eq!(v["params"]["size"], 512);
    let rounds = v["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 1);
    let base = &rounds[0]["baseline"];
    assert_eq!(base["params"]["transport"], "raw_tcp");
    let runs = rounds[0]["runs"].as_array().unwrap();
    let transports: Vec<&str> = runs
        .iter()
        .map(|r| r["params"]["transport"].as_str().unwrap())
        .collect();
    assert_eq!(transports, ["epoll", "io_uring"]);
    for r in std::iter::once(base).chain(runs) {
        assert!(r["messages"].as_u64().unwrap() > 0, "{r}");
        assert_eq!(
            r["bytes"].as_u64().unwrap(),
            r["messages"].as_u64().unwrap() * 512
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
    }
    for r in runs {
        let ratio = &r["ratio_to_baseline"];
        for key in ["mb_per_sec", "msgs_per_sec", "latency_p50", "latency_p99"] {
            assert!(ratio[key].as_f64().unwrap() > 0.0, "{key} in {ratio}");
        }
        // CPU time is counted in 10 ms ticks: a tiny run may see none.
        assert!(ratio.get("cpu_us_per_msg").is_some(), "{ratio}");
    }
    assert!(v["summary"]["baseline"]["msgs_per_sec"].as_f64().unwrap() > 0.0);
    let summary = v["summary"]["drivers"].as_array().unwrap();
    assert_eq!(summary.len(), 2);
    for s in summary {
        assert!(s["median"]["mb_per_sec"].as_f64().unwrap() > 0.0);
        assert!(s["median_ratio"]["mb_per_sec"].as_f64().unwrap() > 0.0);
    }
}
