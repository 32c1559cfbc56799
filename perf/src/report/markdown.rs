//! Rendering a [`Report`] as GitHub-flavoured markdown: the page, the targets summary and
//! the machine table here, the measured sections in [`super::sections`]. Pure functions: the
//! report in, text out.

use super::sections;
use super::targets::{self, Target, Verdict};
use super::{Machine, Report, Section, Step};

/// `v` rounded, with thousands separators (`-` if not finite).
pub fn fmt_int(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 && digits != "0" {
        out.insert(0, '-');
    }
    out
}

/// A ratio: `0.93x`, `12.4x`, `140x`.
pub fn fmt_ratio(v: f64) -> String {
    match v {
        v if !v.is_finite() => "-".into(),
        v if v >= 100.0 => format!("{v:.0}x"),
        v if v >= 10.0 => format!("{v:.1}x"),
        v => format!("{v:.2}x"),
    }
}

/// An optional ratio.
pub fn opt_ratio(v: Option<f64>) -> String {
    v.map_or("-".into(), fmt_ratio)
}

/// One decimal (`-` if absent or not finite).
pub fn fmt_1(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.1}"),
        _ => "-".into(),
    }
}

/// Two decimals (`-` if absent or not finite).
pub fn fmt_2(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.2}"),
        _ => "-".into(),
    }
}

/// A message size: `64 B`, `4 KiB`, `4 MiB`.
pub fn fmt_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

/// A load average triple: `1.20 1.05 0.90` (`?` if unknown).
pub fn fmt_load(l: &[f64]) -> String {
    if l.is_empty() {
        return "?".into();
    }
    l.iter()
        .map(|x| format!("{x:.2}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Seconds as `2 min 41 s` or `17.3 s`.
pub fn fmt_duration(s: f64) -> String {
    if s >= 60.0 {
        let s = s.round() as u64;
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{s:.1} s")
    }
}

/// A GitHub table: the first column and the last (a text column such as "target / met?")
/// left-aligned, the figures between them right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let n = header.len();
    let align: String = (0..n)
        .map(|i| if i == 0 || i + 1 == n { 'l' } else { 'r' })
        .collect();
    table_aligned(header, &align, rows)
}

/// A GitHub table; `align` has one letter per column: `l` left, `r` right.
pub fn table_aligned(header: &[&str], align: &str, rows: &[Vec<String>]) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = format!("| {} |\n|", header.join(" | "));
    for a in align.chars() {
        out += if a == 'r' { " ---: |" } else { " --- |" };
    }
    out.push('\n');
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
        out += &format!("| {} |\n", cells.join(" | "));
    }
    out
}

/// A short verdict: `met (+3.3 %)`, `**not met** (−5.0 %)`, `not measured`.
pub fn verdict_short(t: &Target) -> String {
    match t.verdict() {
        Verdict::Met(m) => format!("met ({})", signed_pct(m, true)),
        Verdict::NotMet(m) => format!("**not met** ({})", signed_pct(m, false)),
        Verdict::Unmeasured(_) => "not measured".into(),
    }
}

fn signed_pct(margin: f64, good: bool) -> String {
    let sign = if good { '+' } else { '−' };
    format!("{sign}{:.1} %", margin * 100.0)
}

/// The "target / met?" cell of a section table's row: every target of `section` shown on
/// `row`, one per line (empty if none).
pub fn target_cell(all: &[Target], section: Section, row: &str) -> String {
    all.iter()
        .filter(|t| t.section == section && t.row == row)
        .map(|t| format!("{}: {}", t.requirement(), verdict_short(t)))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// The summary of every target: requirement, figure, verdict and margin.
pub fn targets_table(all: &[Target]) -> String {
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|t| {
            let measured = match &t.measured {
                Ok(v) => t.unit.format(*v),
                Err(_) => "-".into(),
            };
            let result = match t.verdict() {
                Verdict::Met(m) => format!("met, by {:.1} %", m * 100.0),
                Verdict::NotMet(m) => format!("**not met**, short by {:.1} %", m * 100.0),
                Verdict::Unmeasured(why) => format!("not measured ({why})"),
            };
            vec![
                format!("[{}](#{})", t.section.number(), anchor(t.section)),
                t.what.clone(),
                t.requirement(),
                measured,
                result,
            ]
        })
        .collect();
    let met = all
        .iter()
        .filter(|t| matches!(t.verdict(), Verdict::Met(_)))
        .count();
    let unmeasured = all
        .iter()
        .filter(|t| matches!(t.verdict(), Verdict::Unmeasured(_)))
        .count();
    format!(
        "{}\n{met} of {} targets met, {} not met, {unmeasured} not measured. Margins are relative \
         to the required value.\n",
        table_aligned(
            &["§", "target", "required", "measured", "result"],
            "llrrl",
            &rows
        ),
        all.len(),
        all.len() - met - unmeasured,
    )
}

/// GitHub's anchor of a section heading.
pub fn anchor(s: Section) -> String {
    let heading = format!("{} {}", s.number(), s.title());
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() => Some(c),
            ' ' | '-' => Some('-'),
            _ => None,
        })
        .collect()
}

/// `before → after` load averages of a run of steps (the first step's before, the last
/// one's after), if they ran.
pub fn load_span<T>(steps: &[&Step<T>]) -> Option<String> {
    let before = steps.iter().find(|s| !s.load_before.is_empty())?;
    let after = steps.iter().rev().find(|s| !s.load_after.is_empty())?;
    Some(format!(
        "{} → {}",
        fmt_load(&before.load_before),
        fmt_load(&after.load_after)
    ))
}

/// `Load average (1/5/15 min) before → after: ...` of a run of steps (empty if none ran).
pub fn load_line<T>(steps: &[&Step<T>]) -> String {
    load_span(steps).map_or(String::new(), |l| {
        format!("Load average (1/5/15 min) before → after: {l}.\n")
    })
}

/// The commands that reproduce a section, as a shell block.
pub fn commands(cmds: &[&str]) -> String {
    let cmds: Vec<&str> = cmds.iter().copied().filter(|c| !c.is_empty()).collect();
    if cmds.is_empty() {
        return String::new();
    }
    format!("Reproduce:\n\n```sh\n{}\n```\n", cmds.join("\n"))
}

/// Why a step has no figures, as a line of its own (empty if it has).
pub fn not_run<T>(step: &Step<T>) -> String {
    match step.outcome.why_not() {
        None => String::new(),
        Some(why) => {
            let (first, rest) = why.split_once('\n').unwrap_or((&why, ""));
            let mut s = format!("_{}_\n", first.trim());
            if !rest.trim().is_empty() {
                s += &format!("\n```text\n{}\n```\n", rest.trim_end());
            }
            s
        }
    }
}

fn machine_table(m: &Machine, r: &Report) -> String {
    let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "?".into());
    let commit = match (&m.commit, m.dirty_files) {
        (Some(c), Some(0)) => format!("`{c}` (clean)"),
        (Some(c), Some(n)) => {
            format!("`{c}` plus uncommitted changes to {n} tracked file(s): dirty")
        }
        (Some(c), None) => format!("`{c}`"),
        (None, _) => "?".into(),
    };
    let msgr_threads = r.pipelined.done().map_or("?".into(), |run| {
        format!(
            "{} client worker(s) and {} server worker(s), client and server in one process",
            run.threads, run.server_workers
        )
    });
    let mon_threads = r.ceph.mon.done().map_or("not run".into(), |run| {
        let servers: Vec<String> = run
            .servers
            .iter()
            .map(|s| {
                let name = if s.target == "ceph" {
                    "ceph-mon"
                } else {
                    "cuttle responder"
                };
                format!(
                    "{name} ({}): {} msgr worker(s), {} threads",
                    s.software, s.msgr_workers, s.threads
                )
            })
            .collect();
        format!(
            "cuttle client: {} worker(s), epoll; {}",
            run.client_workers,
            servers.join("; ")
        )
    });
    let rows = vec![
        vec![
            "CPU".into(),
            format!(
                "{}, {} logical CPU(s) ({} usable by this process)",
                opt(&m.cpu_model),
                m.cpus,
                m.cpus_usable
            ),
        ],
        vec![
            "memory".into(),
            m.mem_kib.map_or("?".into(), |k| {
                format!("{:.1} GiB", k as f64 / (1024.0 * 1024.0))
            }),
        ],
        vec!["kernel".into(), opt(&m.kernel)],
        vec!["rustc".into(), opt(&m.rustc)],
        vec!["commit".into(), commit],
        vec!["date".into(), opt(&m.date)],
        vec!["nice".into(), m.nice.map_or("?".into(), |n| n.to_string())],
        vec![
            "load average (1/5/15 min), start → end".into(),
            format!("{} → {}", fmt_load(&m.load_start), fmt_load(&m.load_end)),
        ],
        vec![
            "cuttle (perf-msgr)".into(),
            format!(
                "drivers epoll and io_uring (each run checks the kernel gives the driver asked \
                 for), msgr2 CRC mode; {msgr_threads}"
            ),
        ],
        vec![
            "baselines (perf-msgr)".into(),
            "4-byte length prefix, no msgr2: raw_tcp (blocking std::net, a thread per \
             connection and side), tokio and tokio_uring (as many runtime threads per side as \
             cuttle's workers)"
                .into(),
        ],
        vec!["perf-mon".into(), mon_threads],
        vec![
            "rados-peer".into(),
            "the rados crate's MonClient, 1 tokio worker thread (`--threads 1`)".into(),
        ],
        vec!["whole run".into(), fmt_duration(r.wall_s)],
    ];
    table_aligned(&["", ""], "ll", &rows)
}

/// The whole page.
pub fn render(r: &Report) -> String {
    let all = targets::collect(r);
    let s = &r.settings;
    let mut out = String::from("# cuttle benchmarks\n\n");
    out += &format!(
        "Generated by `perf-report` (`perf/src/bin/perf-report.rs`) on {}. Every figure below \
         comes from the runs of that report, and every ratio compares two figures of the same \
         tool run (same process or same mon, back to back). Each point: {} s measured after \
         {} s of warm-up. Do not edit by hand; regenerate:\n\n```sh\n{}\n```\n\n",
        r.machine.date.clone().unwrap_or_else(|| "?".into()),
        s.secs,
        s.warmup,
        s.command,
    );
    if s.quick {
        out += "> **Quick smoke run** (`--quick`): windows far too short to mean anything; it \
                shows that every part runs, not how fast.\n\n";
    }
    if !s.optimized {
        out += "> **Debug build**: perf-report and its tools were built without optimisations; \
                the figures are not meaningful.\n\n";
    }
    let load = fmt_load(&r.machine.load_start);
    let cpus = r.machine.cpus;
    out += &format!(
        "Machine: {}, {cpus} CPU(s), load average {load} at the start (see [1](#{})).\n\n",
        r.machine.cpu_model.clone().unwrap_or_else(|| "?".into()),
        anchor(Section::Machine),
    );
    out += "## Targets\n\n";
    out += &targets_table(&all);
    for section in Section::ALL {
        out += &format!("\n{}\n\n", section.heading());
        out += &match section {
            Section::Machine => machine_table(&r.machine, r),
            _ => sections::render(section, r, &all),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::targets::{Cmp, Unit};

    fn target(cmp: Cmp, measured: Result<f64, String>) -> Target {
        Target {
            section: Section::Pipelined,
            row: "epoll".into(),
            what: "cuttle epoll bytes/s ÷ raw_tcp".into(),
            cmp,
            threshold: 0.9,
            unit: Unit::Ratio,
            measured,
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(fmt_int(1_234_567.4), "1,234,567");
        assert_eq!(fmt_int(999.0), "999");
        assert_eq!(fmt_int(f64::NAN), "-");
        assert_eq!(fmt_ratio(0.934), "0.93x");
        assert_eq!(fmt_ratio(12.44), "12.4x");
        assert_eq!(fmt_size(4096), "4 KiB");
        assert_eq!(fmt_size(4 << 20), "4 MiB");
        assert_eq!(fmt_size(64), "64 B");
        assert_eq!(fmt_duration(161.0), "2 min 41 s");
    }

    #[test]
    fn target_rows_say_met_or_not_met() {
        let met = targets_table(&[target(Cmp::AtLeast, Ok(0.99))]);
        assert!(met.contains("| 0.99x | met, by 10.0 % |"), "{met}");
        assert!(met.contains("1 of 1 targets met, 0 not met"), "{met}");
        let missed = targets_table(&[target(Cmp::AtLeast, Ok(0.81))]);
        assert!(
            missed.contains("| 0.81x | **not met**, short by 10.0 % |"),
            "{missed}"
        );
        assert!(missed.contains("0 of 1 targets met, 1 not met"), "{missed}");
        let none = targets_table(&[target(Cmp::AtLeast, Err("skipped: --skip-ceph".into()))]);
        assert!(
            none.contains("not measured (skipped: --skip-ceph)"),
            "{none}"
        );
        let cell = target_cell(
            &[target(Cmp::AtLeast, Ok(0.81))],
            Section::Pipelined,
            "epoll",
        );
        assert_eq!(cell, "≥ 0.90x: **not met** (−10.0 %)");
        assert_eq!(
            target_cell(&[target(Cmp::AtLeast, Ok(0.99))], Section::Small, "epoll"),
            ""
        );
    }

    #[test]
    fn anchors_follow_github() {
        assert_eq!(
            anchor(Section::Pipelined),
            "2-4-kib-messages-pipelined-depth-64-1-connection"
        );
    }

    #[test]
    fn tables_escape_pipes() {
        let t = table(&["a", "b"], &[vec!["x|y".into(), "1".into()]]);
        assert_eq!(t, "| a | b |\n| --- | --- |\n| x\\|y | 1 |\n");
        let t = table(&["a", "b", "c"], &[]);
        assert_eq!(t, "| a | b | c |\n| --- | ---: | --- |\n");
    }
}
