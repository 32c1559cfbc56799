//! Flame graphs from `perf` profiles, for the `perf-flame` binary.
//!
//! The steps after `perf record` are pure text transformations and live here, so they are
//! tested without `perf`: [`fold_perf_script`] folds `perf script` output into one line per
//! distinct stack (`thread;outer;…;leaf count`), [`render_svg`] draws those lines as an
//! interactive SVG, and [`Summary`] says which functions the samples landed in.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, BufRead, Write};

use inferno::collapse::Collapse;
use inferno::collapse::perf::{Folder, Options as FoldOptions};
use inferno::flamegraph::{self, Options as SvgOptions};

/// Folds `perf script` text into stack lines `thread;outer;…;leaf count`, via inferno.
///
/// The count is in samples when the script has no period field (`perf script -F` with
/// [`SCRIPT_FIELDS`]); inferno weights each sample by its period when it is present
/// (nanoseconds for `cpu-clock`). The first frame is the sampled thread's name (perf's `comm`, e.g. `msgr-worker-0`);
/// kernel frames carry a `_[k]` suffix; addresses without a symbol become `[unknown]`.
pub fn fold_perf_script<R: BufRead>(script: R) -> io::Result<Vec<String>> {
    let mut opts = FoldOptions::default();
    opts.annotate_kernel = true;
    let mut folded = Vec::new();
    Folder::from(opts).collapse(script, &mut folded)?;
    let text =
        String::from_utf8(folded).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(text.lines().map(str::to_owned).collect())
}

/// The `perf script -F` fields [`fold_perf_script`] needs, without the period, so that
/// folded counts are samples.
pub const SCRIPT_FIELDS: &str = "comm,pid,tid,time,event,ip,sym,dso";

/// Renders folded stack lines (as from [`fold_perf_script`]) as a flame graph SVG.
pub fn render_svg<W: Write>(
    folded: &[String],
    title: &str,
    subtitle: Option<&str>,
    out: W,
) -> io::Result<()> {
    let mut opts = SvgOptions::default();
    opts.title = title.to_owned();
    opts.subtitle = subtitle.map(str::to_owned);
    flamegraph::from_lines(&mut opts, folded.iter().map(String::as_str), out)
}

/// Keeps the folded lines whose thread (first frame) contains any of `patterns`; no
/// patterns keep every line.
pub fn retain_threads(folded: &mut Vec<String>, patterns: &[String]) {
    if patterns.is_empty() {
        return;
    }
    folded.retain(|line| {
        let thread = line.split(';').next().unwrap_or_default();
        patterns.iter().any(|p| thread.contains(p.as_str()))
    });
}

/// Where the samples of a profile went. Every list is sorted by samples, most first (ties
/// by name), and holds every entry; [`Summary::report`] shows the top of each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// All samples in the profile.
    pub total: u64,
    /// Samples per thread name (the first frame of each stack).
    pub threads: Vec<(String, u64)>,
    /// Self samples per function: samples whose leaf frame is that function.
    pub self_samples: Vec<(String, u64)>,
    /// Inclusive samples per function: samples with that function anywhere on the stack,
    /// counted once per sample even when it recurses.
    pub inclusive: Vec<(String, u64)>,
}

impl Summary {
    /// Sums folded stack lines (`thread;outer;…;leaf count`). Lines without a trailing
    /// count are skipped. A stack holding only its thread frame counts towards the total
    /// and its thread, but towards no function.
    pub fn from_folded<'a>(lines: impl IntoIterator<Item = &'a str>) -> Summary {
        let mut total = 0;
        let mut threads = HashMap::new();
        let mut self_samples = HashMap::new();
        let mut inclusive = HashMap::new();
        let mut seen: Vec<&str> = Vec::new();
        for line in lines {
            let Some((stack, count)) = line.trim_end().rsplit_once(' ') else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            let mut frames = stack.split(';');
            let thread = frames.next().unwrap_or_default();
            total += count;
            *threads.entry(thread).or_insert(0) += count;
            seen.clear();
            seen.extend(frames);
            if let Some(leaf) = seen.last() {
                *self_samples.entry(*leaf).or_insert(0) += count;
            }
            seen.sort_unstable();
            seen.dedup();
            for f in &seen {
                *inclusive.entry(*f).or_insert(0) += count;
            }
        }
        Summary {
            total,
            threads: sorted(threads),
            self_samples: sorted(self_samples),
            inclusive: sorted(inclusive),
        }
    }

    /// A plain-text report for notes: the total, then the top `top` threads, functions by
    /// self samples and functions by inclusive samples, each with its share of the total.
    pub fn report(&self, top: usize) -> String {
        let width = self.total.to_string().len().max("samples".len());
        let mut s = format!("total samples: {}\n", self.total);
        let sections = [
            ("threads", "thread", &self.threads),
            ("self samples", "function", &self.self_samples),
            ("inclusive samples", "function", &self.inclusive),
        ];
        for (heading, what, rows) in sections {
            let shown = rows.len().min(top);
            let _ = writeln!(s, "\n{heading} (top {shown} of {}):", rows.len());
            let _ = writeln!(s, "  {:>6}  {:>width$}  {what}", "%", "samples");
            for (name, n) in &rows[..shown] {
                let _ = writeln!(s, "  {:>5.1}%  {n:>width$}  {name}", self.percent(*n));
            }
        }
        s
    }

    /// `n` as a percentage of the total (0 for an empty profile).
    pub fn percent(&self, n: u64) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            n as f64 * 100.0 / self.total as f64
        }
    }
}

fn sorted(counts: HashMap<&str, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().map(|(k, n)| (k.to_owned(), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOLDED: &[&str] = &[
        "worker;main;run;crc32c 6",
        "worker;main;run;writev;copy_user_[k] 3",
        "worker;main;rec;rec;leaf 2",
        "client;main;run 1",
        "idle 4",
        "garbage line",
        "",
    ];

    fn get(rows: &[(String, u64)], name: &str) -> Option<u64> {
        rows.iter().find(|(n, _)| n == name).map(|r| r.1)
    }

    #[test]
    fn self_and_inclusive_counts() {
        let s = Summary::from_folded(FOLDED.iter().copied());
        assert_eq!(s.total, 16);
        assert_eq!(
            s.threads,
            [
                ("worker".into(), 11),
                ("idle".into(), 4),
                ("client".into(), 1)
            ]
        );
        assert_eq!(
            s.self_samples,
            [
                ("crc32c".into(), 6),
                ("copy_user_[k]".into(), 3),
                ("leaf".into(), 2),
                ("run".into(), 1),
            ]
        );
        assert_eq!(get(&s.inclusive, "main"), Some(12));
        assert_eq!(get(&s.inclusive, "run"), Some(10));
        assert_eq!(get(&s.inclusive, "writev"), Some(3));
        // Recursion counts a sample once.
        assert_eq!(get(&s.inclusive, "rec"), Some(2));
        // Thread names are not functions.
        assert_eq!(get(&s.inclusive, "worker"), None);
        assert_eq!(s.inclusive[0], ("main".into(), 12));
    }

    #[test]
    fn report_lists_top_n_with_percentages() {
        let s = Summary::from_folded(FOLDED.iter().copied());
        let r = s.report(2);
        assert!(r.starts_with("total samples: 16\n"), "{r}");
        assert!(r.contains("self samples (top 2 of 4):"), "{r}");
        assert!(r.contains("   37.5%        6  crc32c\n"), "{r}");
        assert!(r.contains("   75.0%       12  main\n"), "{r}");
        assert!(!r.contains("leaf"), "only the top 2: {r}");
    }

    #[test]
    fn thread_filter() {
        let mut folded: Vec<String> = FOLDED.iter().map(|s| s.to_string()).collect();
        retain_threads(&mut folded, &[]);
        assert_eq!(folded.len(), FOLDED.len());
        retain_threads(&mut folded, &["work".into(), "cli".into()]);
        let s = Summary::from_folded(folded.iter().map(String::as_str));
        assert_eq!(s.total, 12);
        assert_eq!(s.threads.len(), 2);
    }

    #[test]
    fn empty_profile() {
        let s = Summary::from_folded([]);
        assert_eq!(s, Summary::default());
        assert_eq!(s.percent(0), 0.0);
        assert!(s.report(5).contains("self samples (top 0 of 0):"));
    }

    #[test]
    fn fold_strips_offsets_and_marks_kernel_frames() {
        let script = "\
app 11/11 100.000001: cpu-clock:
\tffffffff81000010 copy_user_generic+0x10 ([kernel.kallsyms])
\t    55550000aaaa inner+0x1a (/bin/app)
\t    55550000bbbb outer+0x2b (/bin/app)

app 11/12 100.001001: cpu-clock:
\t    55550000aaab inner+0x1b (/bin/app)
\t    55550000bbbc outer+0x2c (/bin/app)

";
        let folded = fold_perf_script(script.as_bytes()).unwrap();
        assert_eq!(
            folded,
            [
                "app;outer;inner 1",
                "app;outer;inner;copy_user_generic_[k] 1"
            ]
        );
        let mut svg = Vec::new();
        render_svg(&folded, "t", Some("sub"), &mut svg).unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.contains("<svg") && svg.contains("copy_user_generic"));
    }
}
