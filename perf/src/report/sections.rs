//! The measured sections of the page (2 to 8), each a pure function of the report. Every
//! table shows the baseline's own row, the ratio to it, and the targets of its rows; every
//! section ends with the commands that reproduce it.

use super::markdown::{
    commands, fmt_1, fmt_2, fmt_int, fmt_ratio, fmt_size, load_line, load_span, not_run, opt_ratio,
    table, table_aligned, target_cell,
};
use super::model::{Metric, MonRun, MsgrRun, RadosRow, Step, ratio};
use super::runs::BUSY_POLL_US;
use super::targets::{DRIVERS, LARGE_COPY_LIMIT, Target};
use super::{Report, Section};

/// A transport as the tables name it.
fn transport_name(t: &str) -> String {
    match t {
        "epoll" | "io_uring" => format!("cuttle {t}"),
        t => t.to_owned(),
    }
}

/// A ratio column of a perf-msgr table: `metric` of the row over that of `base`.
struct RatioCol {
    metric: Metric,
    base: &'static str,
}

impl RatioCol {
    fn header(&self) -> String {
        let what = match self.metric {
            Metric::MsgsPerSec => "msg/s",
            Metric::BytesPerSec => "bytes/s",
            Metric::P50 => "p50",
            Metric::P99 => "p99",
            Metric::CpuPerMsg => "CPU/msg",
        };
        format!("{what} × {}", self.base)
    }
}

/// The table of one perf-msgr run: every transport's figures, the ratio columns, and the
/// targets of `section` keyed by `row_prefix` + transport.
fn msgr_table(
    run: &MsgrRun,
    cols: &[RatioCol],
    section: Section,
    row_prefix: &str,
    all: &[Target],
) -> String {
    let mut header: Vec<String> = [
        "transport",
        "msg/s",
        "MB/s",
        "p50 µs",
        "p99 µs",
        "CPU µs/msg",
    ]
    .map(String::from)
    .to_vec();
    header.extend(cols.iter().map(RatioCol::header));
    header.push("target / met?".into());
    let rows: Vec<Vec<String>> = run
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![
                transport_name(&r.transport),
                fmt_int(r.msgs_per_sec),
                fmt_int(r.mb_per_sec),
                fmt_1(Some(r.p50_us)),
                fmt_1(Some(r.p99_us)),
                fmt_2(r.cpu_us_per_msg),
            ];
            for c in cols {
                row.push(if r.transport == c.base {
                    "(base)".into()
                } else {
                    opt_ratio(run.ratio(&r.transport, c.base, c.metric))
                });
            }
            row.push(target_cell(
                all,
                section,
                &format!("{row_prefix}{}", r.transport),
            ));
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&header, &rows)
}

/// A section made of one perf-msgr step.
fn msgr_section(
    section: Section,
    step: &Step<MsgrRun>,
    cols: &[RatioCol],
    all: &[Target],
) -> String {
    let mut out = load_line(&[step]);
    out += &not_run(step);
    if let Some(run) = step.done() {
        out += "\n";
        out += &msgr_table(run, cols, section, "", all);
    }
    out
}

fn pipelined(r: &Report, all: &[Target]) -> String {
    let cols = [
        RatioCol {
            metric: Metric::BytesPerSec,
            base: "raw_tcp",
        },
        RatioCol {
            metric: Metric::BytesPerSec,
            base: "tokio",
        },
        RatioCol {
            metric: Metric::CpuPerMsg,
            base: "raw_tcp",
        },
    ];
    let mut out = msgr_section(Section::Pipelined, &r.pipelined, &cols, all);
    out += "\nOne connection keeps 64 requests of 4 KiB in flight; the server echoes each. \
            cuttle runs msgr2 in CRC mode (every frame's CRCs computed and checked). CPU is \
            the whole process (client and server) per message.\n\n";
    out += &commands(&[&r.pipelined.command]);
    out
}

fn small(r: &Report, all: &[Target]) -> String {
    let cols = [
        RatioCol {
            metric: Metric::MsgsPerSec,
            base: "raw_tcp",
        },
        RatioCol {
            metric: Metric::MsgsPerSec,
            base: "tokio",
        },
        RatioCol {
            metric: Metric::CpuPerMsg,
            base: "raw_tcp",
        },
    ];
    let mut out = msgr_section(Section::Small, &r.small, &cols, all);
    out +=
        &format!("\n### The same with busy polling ({BUSY_POLL_US} µs) in cuttle's messengers\n\n");
    out += &load_line(&[&r.small_busy]);
    out += &not_run(&r.small_busy);
    if let Some(run) = r.small_busy.done() {
        out += "\n";
        out += &msgr_table(run, &cols[..1], Section::Small, "busy:", all);
    }
    out += "\n";
    out += &commands(&[&r.small.command, &r.small_busy.command]);
    out
}

fn large(r: &Report, all: &[Target]) -> String {
    let cols = [
        RatioCol {
            metric: Metric::BytesPerSec,
            base: "raw_tcp",
        },
        RatioCol {
            metric: Metric::BytesPerSec,
            base: "tokio",
        },
        RatioCol {
            metric: Metric::CpuPerMsg,
            base: "raw_tcp",
        },
    ];
    let mut out = msgr_section(Section::Large, &r.large, &cols, all);
    if let Some(run) = r.large.done() {
        out += "\nHow the bytes the cuttle server received reached their buffers, per message \
                (the server messenger's `rx_copy_stats()`, over the whole run: handshake and \
                warm-up included; every segment counted, the msgr2 header segment too). \
                *Copied*: copied in user space by the frame decoder. *Shared*: handed out as \
                slices of the receive buffer. *Direct*: read by the kernel straight into the \
                segment's buffer. Only *copied* bytes are a user-space copy.\n\n";
        let rows: Vec<Vec<String>> = DRIVERS
            .iter()
            .filter_map(|d| {
                let rx = run.row(d)?.rx?;
                Some(vec![
                    transport_name(d),
                    fmt_int(run.size as f64),
                    fmt_int(rx.copied),
                    fmt_int(rx.shared),
                    fmt_int(rx.direct),
                    ratio(rx.copied, run.size as f64)
                        .map_or("-".into(), |x| format!("{:.2} %", x * 100.0)),
                    target_cell(all, Section::Large, &format!("rx:{d}")),
                ])
            })
            .collect();
        if rows.is_empty() {
            out += "_no receive-copy statistics in the run_\n";
        } else {
            out += &table(
                &[
                    "server",
                    "payload B/msg",
                    "copied B/msg",
                    "shared B/msg (zero copy)",
                    "direct B/msg (zero copy)",
                    "copied ÷ payload",
                    "target / met?",
                ],
                &rows,
            );
            out += &format!(
                "\nThe copy target allows {} B per message: the bytes that arrive in the same \
                 read as the frame's preamble (one 64 KiB receive chunk); the rest of the \
                 payload must not be copied.\n",
                fmt_int(LARGE_COPY_LIMIT)
            );
        }
    }
    out += "\n";
    out += &commands(&[&r.large.command]);
    out
}

fn many(r: &Report, all: &[Target]) -> String {
    let cols = [
        RatioCol {
            metric: Metric::MsgsPerSec,
            base: "tokio",
        },
        RatioCol {
            metric: Metric::MsgsPerSec,
            base: "epoll",
        },
        RatioCol {
            metric: Metric::CpuPerMsg,
            base: "tokio",
        },
    ];
    let steps: Vec<&Step<MsgrRun>> = r.many.iter().collect();
    let mut out = load_line(&steps);
    out += "\nEach connection keeps 4 requests of 64 B in flight. raw_tcp (a thread per \
            connection) is not run here; the baseline is tokio.\n";
    for step in &r.many {
        let conns = step
            .done()
            .map_or_else(|| "?".to_owned(), |run| run.conns.to_string());
        out += &format!("\n### {conns} connections\n\n");
        out += &not_run(step);
        if let Some(run) = step.done() {
            out += &msgr_table(run, &cols, Section::ManyConns, &format!("{conns}:"), all);
        }
    }
    out += "\n";
    let cmds: Vec<&str> = r.many.iter().map(|s| s.command.as_str()).collect();
    out += &commands(&cmds);
    out
}

fn alloc(r: &Report, all: &[Target]) -> String {
    let step = &r.alloc;
    let mut out = load_line(&[step]);
    out += &not_run(step);
    if let Some(rows) = step.done() {
        out += "\nHeap allocations made by the server's worker thread to receive one message \
                (socket read, frame decode, message assembly, dispatch), counted by a counting \
                global allocator over the measured messages after a warm-up. An absolute \
                figure: there is no baseline.\n\n";
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|a| {
                vec![
                    transport_name(&a.driver),
                    fmt_size(a.size),
                    format!("{:.3}", a.allocs_per_msg),
                    fmt_1(Some(a.bytes_per_msg)),
                    fmt_int(a.messages as f64),
                    target_cell(all, Section::Alloc, &format!("{}:{}", a.driver, a.size)),
                ]
            })
            .collect();
        out += &table(
            &[
                "driver",
                "message",
                "allocations/msg",
                "bytes allocated/msg",
                "messages counted",
                "target / met?",
            ],
            &rows,
        );
    }
    out += "\n";
    out += &commands(&[&step.command]);
    out
}

fn server_name(target: &str) -> &str {
    match target {
        "ceph" => "ceph-mon",
        "cuttle" => "cuttle responder",
        t => t,
    }
}

fn mon_table(run: &MonRun, all: &[Target], tag: &str) -> String {
    let mut rows = Vec::new();
    for c in run.conns() {
        let base = run.point("ceph", c);
        for p in run.points.iter().filter(|p| p.conns == c) {
            let vs = |f: &dyn Fn(&super::model::MonPoint) -> Option<f64>| {
                if p.target == "ceph" {
                    return "(base)".to_owned();
                }
                opt_ratio(base.and_then(|b| ratio(f(p)?, f(b)?)))
            };
            rows.push(vec![
                c.to_string(),
                server_name(&p.target).to_owned(),
                fmt_int(p.req_per_sec),
                vs(&|x| Some(x.req_per_sec)),
                fmt_1(Some(p.p50_us)),
                fmt_1(Some(p.p99_us)),
                vs(&|x| Some(x.p99_us)),
                fmt_2(p.server_cpu_us_per_req),
                vs(&|x| x.server_cpu_us_per_req),
                target_cell(all, Section::Mon, &format!("{c}:{}{tag}", p.target)),
            ]);
        }
    }
    table_aligned(
        &[
            "conns",
            "server",
            "req/s",
            "req/s × ceph-mon",
            "p50 µs",
            "p99 µs",
            "p99 × ceph-mon",
            "server CPU µs/req",
            "CPU/req × ceph-mon",
            "target / met?",
        ],
        "llrrrrrrrl",
        &rows,
    )
}

fn rados_table(mon: Option<&MonRun>, rados: &[RadosRow]) -> String {
    let mut rows = Vec::new();
    for x in rados {
        let ours = mon.and_then(|m| m.point("ceph", x.conns).filter(|p| p.depth == x.depth));
        if let Some(p) = ours {
            rows.push(vec![
                x.conns.to_string(),
                "cuttle client (perf-mon)".into(),
                fmt_int(p.req_per_sec),
                "(base)".into(),
                fmt_1(Some(p.p50_us)),
                fmt_1(Some(p.p99_us)),
                "(base)".into(),
            ]);
        }
        let vs = |a: f64, b: Option<f64>| opt_ratio(b.and_then(|b| ratio(a, b)));
        rows.push(vec![
            x.conns.to_string(),
            "rados-rs client (rados-peer)".into(),
            fmt_int(x.req_per_sec),
            vs(x.req_per_sec, ours.map(|p| p.req_per_sec)),
            fmt_1(Some(x.p50_us)),
            fmt_1(Some(x.p99_us)),
            vs(x.p99_us, ours.map(|p| p.p99_us)),
        ]);
    }
    table_aligned(
        &[
            "conns",
            "client",
            "req/s",
            "req/s × cuttle client",
            "p50 µs",
            "p99 µs",
            "p99 × cuttle client",
        ],
        "llrrrrr",
        &rows,
    )
}

fn mon(r: &Report, all: &[Target]) -> String {
    let c = &r.ceph;
    let spans: Vec<String> = [
        ("up.sh", load_span(&[&c.up])),
        ("perf-mon", load_span(&[&c.mon])),
        ("rados-peer", load_span(&[&c.rados])),
    ]
    .into_iter()
    .filter_map(|(name, l)| Some(format!("{name} {}", l?)))
    .collect();
    let mut out = if spans.is_empty() {
        String::new()
    } else {
        format!(
            "Load average (1/5/15 min) before → after: {}.\n",
            spans.join("; ")
        )
    };
    out += &not_run(&c.up);
    out += "\n### ceph-mon vs cuttle's responder\n\n";
    out += &not_run(&c.mon);
    if let Some(run) = c.mon.done() {
        let depth = run.points.first().map_or(0, |p| p.depth);
        out += &format!(
            "The same cuttle client (one messenger) sends MMonGetVersion(osdmap) to a real \
             Ceph ceph-mon (one mon, no mgr, started for this section) and to cuttle's \
             mon-like responder, {depth} requests in flight per connection. Server CPU is \
             the server process's utime + stime over the window, per request.\n\n"
        );
        out += &mon_table(run, all, "");
    }
    out += &format!(
        "\n### The same, with busy polling ({BUSY_POLL_US} µs) in cuttle's client and responder\n\n"
    );
    out += &not_run(&c.mon_busy);
    if let Some(run) = c.mon_busy.done() {
        out += "`DriverConfig::busy_poll` on in both cuttle messengers (the ceph-mon rows are \
                measured again with that client); spinning counts as server CPU.\n\n";
        out += &mon_table(run, all, " (busy poll)");
    }
    out += "\n### rados-rs client vs cuttle client, same ceph-mon\n\n";
    out += &not_run(&c.rados);
    if let Some(rows) = c.rados.done() {
        out += "The `rados` crate's MonClient (rados-peer) against the same ceph-mon, same \
                request, same depth, measured after perf-mon; the cuttle client's figures are \
                perf-mon's ceph-mon rows.\n\n";
        out += &rados_table(c.mon.done(), rows);
    }
    out += "\n";
    out += &commands(&[
        &c.up.command,
        &c.mon.command,
        &c.mon_busy.command,
        &c.rados.command,
        &c.down,
    ]);
    out
}

fn busy(r: &Report) -> String {
    let steps: Vec<&Step<MsgrRun>> = r.busy.iter().map(|b| &b.step).collect();
    let mut out = load_line(&steps);
    out += &format!(
        "\nOne connection, one 64 B request in flight: each message is a round trip. Busy poll \
         is cuttle's `DriverConfig::busy_poll` (`--busy-poll-us {BUSY_POLL_US}`: each worker \
         spins up to {BUSY_POLL_US} µs before sleeping; the raw_tcp baseline blocks as always). \
         *Pinned*: the whole perf-msgr process under `taskset -c 0`, so client, server and all \
         their threads share one vCPU. Ratios to raw_tcp are within one perf-msgr run; \
         \"× busy poll off\" compares with the run without busy poll at the same placement \
         (another run of this report).\n\n"
    );
    let mut rows = Vec::new();
    for b in &r.busy {
        let place = if b.pinned { "pinned" } else { "unpinned" };
        let bp = b.busy_poll_us.map_or("off".into(), |u| format!("{u} µs"));
        let off = r
            .busy
            .iter()
            .find(|o| o.pinned == b.pinned && o.busy_poll_us.is_none())
            .and_then(|o| o.step.done());
        let Some(run) = b.step.done() else {
            let why = b.step.outcome.why_not().unwrap_or_default();
            let why = why.lines().next().unwrap_or("").to_owned();
            rows.push(vec![place.into(), bp, format!("_{why}_")]);
            continue;
        };
        for row in &run.rows {
            let vs_off = match (b.busy_poll_us, off) {
                (Some(_), Some(off)) if row.transport != "raw_tcp" => off
                    .row(&row.transport)
                    .and_then(|o| ratio(row.msgs_per_sec, o.msgs_per_sec))
                    .map_or("-".into(), fmt_ratio),
                _ => "-".into(),
            };
            let raw = |m| {
                if row.transport == "raw_tcp" {
                    "(base)".to_owned()
                } else {
                    opt_ratio(run.ratio(&row.transport, "raw_tcp", m))
                }
            };
            rows.push(vec![
                place.into(),
                bp.clone(),
                transport_name(&row.transport),
                fmt_int(row.msgs_per_sec),
                raw(Metric::MsgsPerSec),
                vs_off,
                fmt_1(Some(row.p50_us)),
                fmt_1(Some(row.p99_us)),
                raw(Metric::P99),
                fmt_2(row.cpu_us_per_msg),
                raw(Metric::CpuPerMsg),
            ]);
        }
    }
    out += &table_aligned(
        &[
            "placement",
            "busy poll",
            "transport",
            "round trips/s",
            "× raw_tcp",
            "× busy poll off",
            "p50 µs",
            "p99 µs",
            "p99 × raw_tcp",
            "CPU µs/msg",
            "CPU/msg × raw_tcp",
        ],
        "lllrrrrrrrr",
        &rows,
    );
    out += "\n";
    let cmds: Vec<&str> = r.busy.iter().map(|b| b.step.command.as_str()).collect();
    out += &commands(&cmds);
    out
}

/// The body of a measured section (everything but the machine).
pub fn render(section: Section, r: &Report, all: &[Target]) -> String {
    match section {
        Section::Machine => String::new(),
        Section::Pipelined => pipelined(r, all),
        Section::Small => small(r, all),
        Section::Large => large(r, all),
        Section::ManyConns => many(r, all),
        Section::Alloc => alloc(r, all),
        Section::Mon => mon(r, all),
        Section::BusyPoll => busy(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{MonPoint, MonServer, MsgrRow, Outcome, RxPerMsg};
    use crate::report::{BusyCase, CephPart, Machine, Settings, markdown, targets};

    fn row(t: &str, msgs: f64) -> MsgrRow {
        MsgrRow {
            transport: t.into(),
            msgs_per_sec: msgs,
            mb_per_sec: msgs / 1000.0,
            p50_us: 10.0,
            p99_us: 20.0,
            cpu_us_per_msg: Some(1.0),
            rx: (t == "epoll").then_some(RxPerMsg {
                copied: 100.0,
                shared: 0.0,
                direct: 4_194_204.0,
            }),
        }
    }

    fn run(conns: u64, rows: &[(&str, f64)]) -> Step<MsgrRun> {
        Step {
            command: format!("perf-msgr --conns {conns} --json"),
            load_before: vec![1.0, 1.0, 1.0],
            load_after: vec![1.5, 1.0, 1.0],
            wall_s: 1.0,
            outcome: Outcome::Done(MsgrRun {
                size: 4 << 20,
                depth: 4,
                conns,
                threads: 1,
                server_workers: 1,
                busy_poll_us: None,
                rows: rows.iter().map(|(t, m)| row(t, *m)).collect(),
            }),
        }
    }

    fn report(ceph: CephPart) -> Report {
        let base = [
            ("raw_tcp", 100.0),
            ("tokio", 80.0),
            ("epoll", 95.0),
            ("io_uring", 85.0),
        ];
        Report {
            machine: Machine::default(),
            settings: Settings {
                command: "perf-report".into(),
                secs: 2.0,
                warmup: 0.5,
                quick: false,
                optimized: true,
            },
            pipelined: run(1, &base),
            small: run(1, &base),
            small_busy: run(1, &base),
            large: run(1, &base),
            many: vec![
                run(
                    64,
                    &[("tokio", 100.0), ("epoll", 120.0), ("io_uring", 140.0)],
                ),
                Step {
                    outcome: Outcome::Failed("exit status: 1; stderr:\nboom".into()),
                    ..Step::skipped("perf-msgr --conns 1000 --json".into(), "")
                },
            ],
            alloc: Step::skipped("perf-alloc --json".into(), "not asked"),
            ceph,
            busy: vec![BusyCase {
                pinned: true,
                busy_poll_us: None,
                step: run(1, &[("raw_tcp", 50.0), ("epoll", 45.0)]),
            }],
            wall_s: 10.0,
        }
    }

    fn skipped_ceph() -> CephPart {
        CephPart {
            up: Step::skipped("up.sh 1 0".into(), "--skip-ceph"),
            down: "down.sh".into(),
            mon: Step::skipped("perf-mon".into(), "--skip-ceph"),
            mon_busy: Step::skipped("perf-mon --busy-poll-us 50".into(), "--skip-ceph"),
            rados: Step::skipped("rados-peer".into(), "--skip-ceph"),
        }
    }

    #[test]
    fn a_skipped_section_says_why_and_how_to_run_it() {
        let r = report(skipped_ceph());
        let all = targets::collect(&r);
        let text = render(Section::Mon, &r, &all);
        assert!(text.contains("_skipped: --skip-ceph_"), "{text}");
        assert!(!text.contains("| conns |"), "{text}");
        assert!(
            text.contains(
                "```sh\nup.sh 1 0\nperf-mon\nperf-mon --busy-poll-us 50\nrados-peer\ndown.sh\n```"
            ),
            "{text}"
        );
        let text = render(Section::Alloc, &r, &all);
        assert!(text.contains("_skipped: not asked_"), "{text}");
    }

    #[test]
    fn a_failed_step_shows_its_error_beside_the_others() {
        let r = report(skipped_ceph());
        let text = render(Section::ManyConns, &r, &all_of(&r));
        assert!(
            text.contains("_failed: exit status: 1; stderr:_\n\n```text\nboom\n```"),
            "{text}"
        );
        // The 64-connection run still has its table: io_uring 140 / epoll 120 = 1.17x.
        assert!(
            text.contains("| cuttle io_uring | 140 | 0 | 10.0 | 20.0 | 1.00 | 1.40x | 1.17x | 1.00x | ≥ 1.10x: met"),
            "{text}"
        );
    }

    fn all_of(r: &Report) -> Vec<Target> {
        targets::collect(r)
    }

    #[test]
    fn tables_show_the_baseline_and_the_ratio() {
        let r = report(skipped_ceph());
        let text = render(Section::Pipelined, &r, &all_of(&r));
        assert!(text.contains("| raw_tcp | 100 |"), "{text}");
        assert!(text.contains("| (base) |"), "{text}");
        assert!(
            text.contains("| 0.95x | 1.19x | 1.00x | ≥ 0.90x: met (+5.6 %) |"),
            "{text}"
        );
        assert!(
            text.contains("| 0.85x | 1.06x | 1.00x | ≥ 0.90x: **not met** (−5.6 %) |"),
            "{text}"
        );
        let text = render(Section::Large, &r, &all_of(&r));
        assert!(
            text.contains(
                "| cuttle epoll | 4,194,304 | 100 | 0 | 4,194,204 | 0.00 % | ≤ 65,536 B/msg: met"
            ),
            "{text}"
        );
        let text = render(Section::BusyPoll, &r, &all_of(&r));
        assert!(
            text.contains("| pinned | off | cuttle epoll | 45 | 0.90x |"),
            "{text}"
        );
    }

    #[test]
    fn mon_rows_compare_with_ceph_mon() {
        let point = |target: &str, req: f64, p99: f64, cpu: f64| MonPoint {
            target: target.into(),
            conns: 4,
            depth: 16,
            req_per_sec: req,
            p50_us: p99 / 2.0,
            p99_us: p99,
            server_cpu_us_per_req: Some(cpu),
        };
        let mon = MonRun {
            client_workers: 1,
            servers: vec![MonServer {
                target: "ceph".into(),
                software: "ceph version 16.2.15".into(),
                msgr_workers: 3,
                threads: 30,
            }],
            points: vec![
                point("ceph", 10_000.0, 900.0, 80.0),
                point("cuttle", 60_000.0, 300.0, 5.0),
            ],
        };
        fn done<T>(t: T) -> Step<T> {
            Step {
                outcome: Outcome::Done(t),
                ..Step::skipped("x".into(), "")
            }
        }
        let ceph = CephPart {
            up: done(()),
            down: "down.sh".into(),
            mon: done(mon),
            mon_busy: Step::skipped("perf-mon --busy-poll-us 50".into(), "not in this test"),
            rados: done(vec![RadosRow {
                conns: 4,
                depth: 16,
                req_per_sec: 5_000.0,
                p50_us: 500.0,
                p99_us: 1800.0,
            }]),
        };
        let r = report(ceph);
        let text = render(Section::Mon, &r, &all_of(&r));
        assert!(
            text.contains("| 4 | cuttle responder | 60,000 | 6.00x |"),
            "{text}"
        );
        assert!(
            text.contains("≥ 5.00x: met (+20.0 %)<br>≤ 1.00x: met"),
            "{text}"
        );
        assert!(
            text.contains(
                "| 4 | rados-rs client (rados-peer) | 5,000 | 0.50x | 500.0 | 1800.0 | 2.00x |"
            ),
            "{text}"
        );
        // Points not measured at 1 and 16 connections are not measured targets, not misses.
        let page = markdown::render(&r);
        assert!(
            page.contains("not measured (no point at 1 conn for both servers)"),
            "{page}"
        );
    }

    #[test]
    fn the_page_has_every_section() {
        let page = markdown::render(&report(skipped_ceph()));
        for s in Section::ALL {
            assert!(
                page.contains(&format!("\n{}\n", s.heading())),
                "{}",
                s.heading()
            );
        }
        assert!(page.starts_with("# cuttle benchmarks\n"));
        assert!(page.contains("## Targets"));
    }
}
