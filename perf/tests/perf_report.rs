//! Smoke test: `perf-report --quick --skip-ceph` runs every tool it drives and writes a page
//! with every section, tables with ratios to a baseline, and the Ceph part skipped with a
//! reason.

use std::process::Command;

/// True if `cell` is a ratio such as `0.93x` or `12.4x`.
fn is_ratio(cell: &str) -> bool {
    cell.strip_suffix('x')
        .is_some_and(|n| n.contains('.') && n.parse::<f64>().is_ok())
}

#[test]
fn quick_report_without_ceph() {
    let out = std::env::temp_dir().join(format!("perf-report-test-{}.md", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_perf-report"))
        .args(["--quick", "--skip-ceph", "--out"])
        .arg(&out)
        .output()
        .expect("run perf-report");
    assert!(
        run.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let page = std::fs::read_to_string(&out).expect("the report was written");
    std::fs::remove_file(&out).ok();

    for heading in [
        "# cuttle benchmarks",
        "## Targets",
        "## 1. Machine",
        "## 2. 4 KiB messages, pipelined",
        "## 3. 64 B messages, 1 connection",
        "## 4. 4 MiB messages",
        "## 5. Many connections",
        "### 64 connections",
        "### 1000 connections",
        "## 6. Allocations per received message",
        "## 7. Real ceph-mon vs cuttle",
        "## 8. Busy poll",
    ] {
        assert!(
            page.lines().any(|l| l.starts_with(heading)),
            "no {heading:?} in:\n{page}"
        );
    }
    // A cuttle row beside its baseline, with the ratio.
    let ratio_row = page
        .lines()
        .find(|l| l.starts_with("| cuttle epoll |") && l.split('|').map(str::trim).any(is_ratio));
    assert!(
        ratio_row.is_some(),
        "no cuttle row with a ratio in:\n{page}"
    );
    assert!(
        page.contains("| raw_tcp |"),
        "no raw_tcp baseline row:\n{page}"
    );
    // Every tool's command is shown, and the Ceph part says why it did not run.
    for tool in [
        "perf-msgr --size 4096",
        "perf-alloc --size",
        "perf-mon --target both",
    ] {
        assert!(page.contains(tool), "no {tool:?} command in:\n{page}");
    }
    assert!(page.contains("_skipped: --skip-ceph_"), "{page}");
    assert!(page.contains("targets met"), "{page}");
    // The receive-copy statistics of section 4 are there.
    assert!(page.contains("copied B/msg"), "{page}");
}
