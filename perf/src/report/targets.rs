//! The performance targets and how a measured figure fares against one ([`Target`],
//! [`Verdict`]), and the list of every target the report checks ([`collect`]), read from
//! the runs' figures only.

use super::model::{Metric, MonRun, Outcome, Step, ratio};
use super::{Report, Section};

/// How a figure must compare with the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `measured >= threshold`.
    AtLeast,
    /// `measured <= threshold`.
    AtMost,
    /// `measured < threshold`.
    Below,
}

impl Cmp {
    fn symbol(self) -> &'static str {
        match self {
            Cmp::AtLeast => "≥",
            Cmp::AtMost => "≤",
            Cmp::Below => "<",
        }
    }
}

/// The unit a target's figures are shown in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A ratio to a baseline (`0.93x`).
    Ratio,
    /// Messages per second.
    MsgsPerSec,
    /// Heap allocations per message.
    AllocsPerMsg,
    /// Bytes per message.
    BytesPerMsg,
}

impl Unit {
    /// `v` in this unit.
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Ratio => super::markdown::fmt_ratio(v),
            Unit::MsgsPerSec => format!("{} msg/s", super::markdown::fmt_int(v)),
            Unit::AllocsPerMsg => format!("{v:.3} allocs/msg"),
            Unit::BytesPerMsg => format!("{} B/msg", super::markdown::fmt_int(v)),
        }
    }
}

/// One target: a figure from the runs against a threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The section it belongs to.
    pub section: Section,
    /// The row of the section's table it is shown on (a transport, `"16:cuttle"`, ...).
    pub row: String,
    /// What is compared, as a short phrase ("cuttle epoll bytes/s / raw_tcp").
    pub what: String,
    /// How the figure must compare.
    pub cmp: Cmp,
    /// The threshold.
    pub threshold: f64,
    /// Unit of figure and threshold.
    pub unit: Unit,
    /// The figure, or why there is none.
    pub measured: Result<f64, String>,
}

/// How a [`Target`] fared.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Met; by this fraction of the threshold (0.05: 5 % better than needed).
    Met(f64),
    /// Not met; short by this fraction of the threshold.
    NotMet(f64),
    /// No figure: why.
    Unmeasured(String),
}

impl Target {
    /// Compares the figure with the threshold.
    pub fn verdict(&self) -> Verdict {
        let m = match &self.measured {
            Ok(m) if m.is_finite() => *m,
            Ok(_) => return Verdict::Unmeasured("no finite figure".into()),
            Err(why) => return Verdict::Unmeasured(why.clone()),
        };
        let t = self.threshold;
        let met = match self.cmp {
            Cmp::AtLeast => m >= t,
            Cmp::AtMost => m <= t,
            Cmp::Below => m < t,
        };
        // How far from the threshold, as a fraction of it, on the good side if met.
        let margin = match (self.cmp, t == 0.0) {
            (_, true) => (m - t).abs(),
            (Cmp::AtLeast, false) => ((m - t) / t).abs(),
            (Cmp::AtMost | Cmp::Below, false) => ((t - m) / t).abs(),
        };
        if met {
            Verdict::Met(margin)
        } else {
            Verdict::NotMet(margin)
        }
    }

    /// The threshold as text (`≥ 0.90x`).
    pub fn requirement(&self) -> String {
        format!("{} {}", self.cmp.symbol(), self.unit.format(self.threshold))
    }
}

/// Figure `m` of transport `t` over that of `base`, both from the run of `step`.
fn msgr_ratio(
    step: &Step<super::model::MsgrRun>,
    t: &str,
    base: &str,
    m: Metric,
) -> Result<f64, String> {
    match &step.outcome {
        Outcome::Done(run) => run
            .ratio(t, base, m)
            .ok_or_else(|| format!("no {t} or {base} figure in the run")),
        other => Err(other.why_not().unwrap_or_default()),
    }
}

/// A figure of transport `t` in the run of `step`.
fn msgr_figure(
    step: &Step<super::model::MsgrRun>,
    t: &str,
    f: impl Fn(&super::model::MsgrRow) -> Option<f64>,
) -> Result<f64, String> {
    match &step.outcome {
        Outcome::Done(run) => run
            .row(t)
            .and_then(f)
            .ok_or_else(|| format!("no {t} figure in the run")),
        other => Err(other.why_not().unwrap_or_default()),
    }
}

/// cuttle's two drivers, as perf-msgr names them.
pub const DRIVERS: [&str; 2] = ["epoll", "io_uring"];

/// Bytes a 4 MiB message may have copied in user space: the first receive chunk (64 KiB),
/// which also held the frame's preamble; the rest must be read in place (as
/// `msgr/tests/zero_copy.rs` checks).
pub const LARGE_COPY_LIMIT: f64 = 64.0 * 1024.0;

/// Every target of the report, in section order, each with its figure from the runs.
pub fn collect(r: &Report) -> Vec<Target> {
    let mut v = Vec::new();
    let target = |section, row: String, what: String, cmp, threshold, unit, measured| Target {
        section,
        row,
        what,
        cmp,
        threshold,
        unit,
        measured,
    };
    for d in DRIVERS {
        v.push(target(
            Section::Pipelined,
            d.into(),
            format!("cuttle {d} bytes/s ÷ raw_tcp"),
            Cmp::AtLeast,
            0.90,
            Unit::Ratio,
            msgr_ratio(&r.pipelined, d, "raw_tcp", Metric::BytesPerSec),
        ));
    }
    for d in DRIVERS {
        v.push(target(
            Section::Small,
            d.into(),
            format!("cuttle {d} msg/s"),
            Cmp::AtLeast,
            1_000_000.0,
            Unit::MsgsPerSec,
            msgr_figure(&r.small, d, |row| Some(row.msgs_per_sec)),
        ));
    }
    for d in DRIVERS {
        v.push(target(
            Section::Small,
            format!("busy:{d}"),
            format!(
                "cuttle {d} msg/s, busy poll {} µs",
                super::runs::BUSY_POLL_US
            ),
            Cmp::AtLeast,
            1_000_000.0,
            Unit::MsgsPerSec,
            msgr_figure(&r.small_busy, d, |row| Some(row.msgs_per_sec)),
        ));
    }
    for d in DRIVERS {
        v.push(target(
            Section::Large,
            d.into(),
            format!("cuttle {d} bytes/s ÷ raw_tcp"),
            Cmp::AtLeast,
            0.80,
            Unit::Ratio,
            msgr_ratio(&r.large, d, "raw_tcp", Metric::BytesPerSec),
        ));
    }
    for d in DRIVERS {
        v.push(target(
            Section::Large,
            format!("rx:{d}"),
            format!("cuttle {d}: bytes copied in user space per received 4 MiB message"),
            Cmp::AtMost,
            LARGE_COPY_LIMIT,
            Unit::BytesPerMsg,
            msgr_figure(&r.large, d, |row| row.rx.map(|x| x.copied)),
        ));
    }
    for step in &r.many {
        let conns = match step.done() {
            Some(run) => run.conns.to_string(),
            None => step_conns(&step.command),
        };
        v.push(target(
            Section::ManyConns,
            format!("{conns}:io_uring"),
            format!(
                "{}: cuttle io_uring msg/s ÷ cuttle epoll",
                conns_label(&conns)
            ),
            Cmp::AtLeast,
            1.1,
            Unit::Ratio,
            msgr_ratio(step, "io_uring", "epoll", Metric::MsgsPerSec),
        ));
        for d in DRIVERS {
            v.push(target(
                Section::ManyConns,
                format!("{conns}:{d}"),
                format!("{}: cuttle {d} msg/s ÷ tokio", conns_label(&conns)),
                Cmp::AtLeast,
                1.0,
                Unit::Ratio,
                msgr_ratio(step, d, "tokio", Metric::MsgsPerSec),
            ));
        }
    }
    match &r.alloc.outcome {
        Outcome::Done(rows) => {
            for a in rows {
                v.push(target(
                    Section::Alloc,
                    format!("{}:{}", a.driver, a.size),
                    format!(
                        "{} B messages, {}: allocations per received message",
                        a.size, a.driver
                    ),
                    Cmp::AtMost,
                    1.0,
                    Unit::AllocsPerMsg,
                    Ok(a.allocs_per_msg),
                ));
            }
        }
        other => v.push(target(
            Section::Alloc,
            String::new(),
            "allocations per received message".into(),
            Cmp::AtMost,
            1.0,
            Unit::AllocsPerMsg,
            Err(other.why_not().unwrap_or_default()),
        )),
    }
    mon_targets(r, &mut v);
    v
}

/// `1 conn`, `64 conns`.
pub fn conns_label(n: &str) -> String {
    if n == "1" {
        "1 conn".into()
    } else {
        format!("{n} conns")
    }
}

/// The `--conns N` of a perf-msgr command line ("?" if absent).
fn step_conns(command: &str) -> String {
    let mut it = command.split_whitespace();
    while let Some(w) = it.next() {
        if w == "--conns" {
            return it.next().unwrap_or("?").to_owned();
        }
    }
    "?".into()
}

/// The conns values perf-mon is asked for.
pub const MON_CONNS: [u64; 3] = [1, 4, 16];

fn mon_targets(r: &Report, v: &mut Vec<Target>) {
    mon_step_targets(&r.ceph.mon, "", v);
    mon_step_targets(&r.ceph.mon_busy, " (busy poll)", v);
}

fn mon_step_targets(step: &Step<MonRun>, tag: &str, v: &mut Vec<Target>) {
    let run = step.done();
    let why = step.outcome.why_not().unwrap_or_default();
    for c in MON_CONNS {
        let pair = run
            .and_then(|m| Some((m.point("cuttle", c)?, m.point("ceph", c)?)))
            .ok_or_else(|| {
                if run.is_some() {
                    format!(
                        "no point at {} for both servers",
                        conns_label(&c.to_string())
                    )
                } else {
                    why.clone()
                }
            });
        let fig = |f: &dyn Fn(&super::model::MonPoint) -> Option<f64>| {
            pair.clone().and_then(|(x, b)| {
                f(x).zip(f(b))
                    .and_then(|(x, b)| ratio(x, b))
                    .ok_or_else(|| "a figure is missing".to_owned())
            })
        };
        let mut t = |what: &str, cmp, threshold, measured| {
            v.push(Target {
                section: Section::Mon,
                row: format!("{c}:cuttle{tag}"),
                what: format!(
                    "{}{tag}: cuttle responder {what} ÷ ceph-mon",
                    conns_label(&c.to_string())
                ),
                cmp,
                threshold,
                unit: Unit::Ratio,
                measured,
            })
        };
        t(
            "requests/s",
            Cmp::AtLeast,
            5.0,
            fig(&|p| Some(p.req_per_sec)),
        );
        t(
            "server CPU µs/request",
            Cmp::AtMost,
            1.0,
            fig(&|p| p.server_cpu_us_per_req),
        );
        t("p99 latency", Cmp::Below, 1.0, fig(&|p| Some(p.p99_us)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(cmp: Cmp, threshold: f64, measured: Result<f64, String>) -> Target {
        Target {
            section: Section::Pipelined,
            row: "epoll".into(),
            what: "x".into(),
            cmp,
            threshold,
            unit: Unit::Ratio,
            measured,
        }
    }

    #[test]
    fn verdicts() {
        let close = |v: Verdict, want: Verdict| match (v, want) {
            (Verdict::Met(a), Verdict::Met(b)) | (Verdict::NotMet(a), Verdict::NotMet(b)) => {
                assert!((a - b).abs() < 1e-9, "{a} vs {b}")
            }
            (v, w) => panic!("{v:?} vs {w:?}"),
        };
        close(t(Cmp::AtLeast, 0.9, Ok(0.99)).verdict(), Verdict::Met(0.1));
        close(
            t(Cmp::AtLeast, 0.9, Ok(0.81)).verdict(),
            Verdict::NotMet(0.1),
        );
        close(t(Cmp::AtLeast, 1.0, Ok(1.0)).verdict(), Verdict::Met(0.0));
        close(t(Cmp::AtMost, 1.0, Ok(0.25)).verdict(), Verdict::Met(0.75));
        close(t(Cmp::AtMost, 1.0, Ok(1.5)).verdict(), Verdict::NotMet(0.5));
        close(t(Cmp::Below, 1.0, Ok(1.0)).verdict(), Verdict::NotMet(0.0));
        close(t(Cmp::Below, 1.0, Ok(0.5)).verdict(), Verdict::Met(0.5));
        assert_eq!(
            t(Cmp::AtLeast, 1.0, Err("skipped: x".into())).verdict(),
            Verdict::Unmeasured("skipped: x".into())
        );
        assert!(matches!(
            t(Cmp::AtLeast, 1.0, Ok(f64::NAN)).verdict(),
            Verdict::Unmeasured(_)
        ));
        assert_eq!(t(Cmp::AtLeast, 0.9, Ok(1.0)).requirement(), "≥ 0.90x");
    }

    #[test]
    fn conns_from_a_command_line() {
        assert_eq!(
            step_conns("perf-msgr --size 64 --conns 1000 --json"),
            "1000"
        );
        assert_eq!(step_conns("perf-msgr"), "?");
    }
}
