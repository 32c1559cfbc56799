//! `perf-flame`'s pipeline after `perf record`, on a checked-in `perf script` sample (8 samples
//! of `perf-msgr`, recorded with frame pointers and `perf script -F` [`SCRIPT_FIELDS`]):
//! fold, summarise, render. No `perf` needed.

use cuttle_perf::flame::{SCRIPT_FIELDS, Summary, fold_perf_script, render_svg, retain_threads};

const SAMPLE: &str = include_str!("data/perf-script-sample.txt");

fn count(rows: &[(String, u64)], name: &str) -> u64 {
    rows.iter().find(|(n, _)| n == name).map_or(0, |r| r.1)
}

#[test]
fn sample_folds_and_summarises() {
    assert!(SCRIPT_FIELDS.contains("sym"));
    let folded = fold_perf_script(SAMPLE.as_bytes()).unwrap();
    let s = Summary::from_folded(folded.iter().map(String::as_str));
    assert_eq!(s.total, 8);
    assert_eq!(
        s.threads,
        [("msgr-worker-0".into(), 6), ("raw-writer".into(), 2)]
    );

    let crc = "crc32c::hw_x86_64::crc_u64_parallel3";
    let decode = "msgr::frames::decode::FrameDecoder::decode_chunk";
    assert_eq!(s.self_samples[0], (crc.into(), 3));
    assert_eq!(count(&s.self_samples, decode), 2);
    assert_eq!(count(&s.self_samples, "__memmove_avx512_unaligned_erms"), 2);
    assert_eq!(count(&s.self_samples, "do_syscall_64_[k]"), 1);
    assert_eq!(s.self_samples.iter().map(|r| r.1).sum::<u64>(), 8);

    // Ties are ordered by name: four thread-start frames are on all 8 stacks.
    assert_eq!(count(&s.inclusive, "start_thread"), 8);
    assert_eq!(
        s.inclusive[0],
        (
            "<std::sys::thread::unix::Thread>::new::thread_start".into(),
            8
        )
    );
    assert_eq!(
        count(&s.inclusive, "msgr::event::EventCenter::process_events"),
        6
    );
    assert_eq!(count(&s.inclusive, decode), 5);
    assert_eq!(count(&s.inclusive, "crc32c::hw_x86_64::crc32c"), 3);
    assert_eq!(count(&s.inclusive, "read"), 1);

    let report = s.report(3);
    assert!(
        report.contains(&format!("   37.5%        3  {crc}\n")),
        "{report}"
    );
    assert!(
        report.contains("  100.0%        8  start_thread\n"),
        "{report}"
    );

    let mut svg = Vec::new();
    render_svg(&folded, "perf-msgr sample", None, &mut svg).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains("perf-msgr sample") && svg.contains("decode_chunk"));
}

#[test]
fn sample_thread_filter() {
    let mut folded = fold_perf_script(SAMPLE.as_bytes()).unwrap();
    retain_threads(&mut folded, &["msgr-".into()]);
    let s = Summary::from_folded(folded.iter().map(String::as_str));
    assert_eq!(s.total, 6);
    assert_eq!(count(&s.self_samples, "__memmove_avx512_unaligned_erms"), 0);
}
