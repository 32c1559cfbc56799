//! A counting global allocator: how many allocations (and bytes) a thread makes.
//!
//! [`CountingAlloc`] wraps [`System`] and counts every `alloc`, `alloc_zeroed` and `realloc`
//! (one allocation each, of the size asked for) in a counter of the calling thread, read with
//! [`thread_allocs`], and in process-wide totals ([`total_allocs`]). Frees are not counted.
//! The library only defines it; a binary (or test) installs it:
//!
//! ```no_run
//! use cuttle_perf::alloc_count::{CountingAlloc, thread_allocs};
//!
//! #[global_allocator]
//! static ALLOC: CountingAlloc = CountingAlloc;
//!
//! let (n0, _) = thread_allocs();
//! let v = vec![1u8; 100];
//! let (n1, bytes) = thread_allocs();
//! assert_eq!(n1 - n0, 1);
//! # drop((v, bytes));
//! ```
//!
//! A thread that calls `alloc_count` code on itself (a messenger worker in a fast dispatcher,
//! say) can difference two readings to count what happened on it in between.
//!
//! **Where allocations come from.** [`sample_backtraces`] makes the calling thread capture a
//! [`Backtrace`] of every `period`-th allocation it makes from then on; [`take_samples`]
//! collects them and [`call_sites`] groups them by call site. Capturing allocates: the
//! sampler marks its thread busy while it runs, and the allocations it makes are neither
//! counted nor sampled, so the counts stay exact with sampling on.
//!
//! The per-thread state is a `const`-initialised `thread_local!` without a destructor, read
//! with `try_with`: the allocator never allocates for itself, and never panics while a
//! thread is being torn down (an allocation after its TLS is gone is counted only in the
//! totals).

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A [`GlobalAlloc`] that forwards to [`System`] and counts allocations per thread and in
/// total. Install it with `#[global_allocator]` in a binary.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingAlloc;

/// What one thread has allocated, and its sampler's state.
struct Local {
    allocs: Cell<u64>,
    bytes: Cell<u64>,
    /// Capture a backtrace every this many allocations (0: off).
    period: Cell<u64>,
    /// Allocations since the last capture.
    tick: Cell<u64>,
    /// The sampler is running on this thread: its own allocations are not counted.
    busy: Cell<bool>,
}

impl Local {
    const fn new() -> Local {
        Local {
            allocs: Cell::new(0),
            bytes: Cell::new(0),
            period: Cell::new(0),
            tick: Cell::new(0),
            busy: Cell::new(false),
        }
    }
}

thread_local! {
    static LOCAL: Local = const { Local::new() };
}

static TOTAL_ALLOCS: AtomicU64 = AtomicU64::new(0);
static TOTAL_BYTES: AtomicU64 = AtomicU64::new(0);

/// At most this many backtraces are kept between two [`take_samples`] calls.
pub const MAX_SAMPLES: usize = 20_000;

/// One sampled allocation: its size and where it was made.
#[derive(Debug)]
pub struct Sample {
    /// Bytes asked for.
    pub size: usize,
    /// The allocating thread's stack (captured unresolved; resolved when formatted).
    pub backtrace: Backtrace,
}

static SAMPLES: Mutex<Vec<Sample>> = Mutex::new(Vec::new());
/// Samples taken (kept or not) since the last [`take_samples`].
static SAMPLES_TAKEN: AtomicUsize = AtomicUsize::new(0);

/// Counts an allocation of `size` bytes made by the current thread, and samples it.
fn record(size: usize) {
    let counted = LOCAL.try_with(|l| {
        if l.busy.get() {
            return false;
        }
        l.allocs.set(l.allocs.get() + 1);
        l.bytes.set(l.bytes.get() + size as u64);
        let period = l.period.get();
        if period != 0 {
            let tick = l.tick.get() + 1;
            if tick >= period {
                l.tick.set(0);
                l.busy.set(true);
                capture(size);
                l.busy.set(false);
            } else {
                l.tick.set(tick);
            }
        }
        true
    });
    if counted != Ok(false) {
        TOTAL_ALLOCS.fetch_add(1, Ordering::Relaxed);
        TOTAL_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
}

/// Captures the current stack (the caller has marked the thread busy).
fn capture(size: usize) {
    if SAMPLES_TAKEN.fetch_add(1, Ordering::Relaxed) >= MAX_SAMPLES {
        return;
    }
    let backtrace = Backtrace::force_capture();
    let mut samples = SAMPLES.lock().unwrap_or_else(|p| p.into_inner());
    samples.push(Sample { size, backtrace });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are ours; the bookkeeping in `record` neither allocates through
// this allocator (it only touches a const thread-local and atomics, except the sampler,
// which runs with its thread marked busy so it is not re-entered) nor unwinds.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is `System::alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            record(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            record(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, hence from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` with `layout`; the caller upholds the rest.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            record(new_size);
        }
        p
    }
}

/// Allocations and bytes the current thread has made so far (0 if [`CountingAlloc`] is not
/// the global allocator). Difference two readings to count a stretch of code.
pub fn thread_allocs() -> (u64, u64) {
    LOCAL
        .try_with(|l| (l.allocs.get(), l.bytes.get()))
        .unwrap_or((0, 0))
}

/// Allocations and bytes of every thread so far.
pub fn total_allocs() -> (u64, u64) {
    (
        TOTAL_ALLOCS.load(Ordering::Relaxed),
        TOTAL_BYTES.load(Ordering::Relaxed),
    )
}

/// True if [`CountingAlloc`] is the global allocator (it counts an allocation made here).
pub fn is_installed() -> bool {
    let before = thread_allocs().0;
    let b = std::hint::black_box(Box::new(0u64));
    drop(b);
    thread_allocs().0 != before
}

/// From now on, capture a backtrace of every `period`-th allocation the current thread
/// makes; 0 stops. At most [`MAX_SAMPLES`] are kept until [`take_samples`].
pub fn sample_backtraces(period: u64) {
    let _ = LOCAL.try_with(|l| {
        l.period.set(period);
        l.tick.set(0);
    });
}

/// The samples captured so far (every thread), and how many were taken but not kept
/// (over [`MAX_SAMPLES`]); starts afresh.
pub fn take_samples() -> (Vec<Sample>, usize) {
    let samples = std::mem::take(&mut *SAMPLES.lock().unwrap_or_else(|p| p.into_inner()));
    let taken = SAMPLES_TAKEN.swap(0, Ordering::Relaxed);
    let dropped = taken.saturating_sub(samples.len());
    (samples, dropped)
}

/// One frame of a resolved backtrace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Demangled symbol, without its hash.
    pub symbol: String,
    /// `file:line`, shortened (workspace-relative, registry and toolchain prefixes cut).
    pub location: Option<String>,
}

/// The frames of a [`Backtrace`]'s text (`{}` format: `  N: symbol` lines, each followed by
/// an optional `at file:line:col` line), innermost first. `cwd` is the working directory
/// the text was printed in (it names files under it `./…`).
pub fn parse_frames(text: &str, cwd: &Path) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(at) = t.strip_prefix("at ") {
            if let Some(f) = frames.last_mut() {
                f.location.get_or_insert_with(|| short_location(at, cwd));
            }
            continue;
        }
        let Some((num, symbol)) = t.split_once(": ") else {
            continue;
        };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        frames.push(Frame {
            symbol: short_symbol(strip_hash(symbol.trim())),
            location: None,
        });
    }
    frames
}

/// `foo::bar::h0123456789abcdef` → `foo::bar`.
fn strip_hash(sym: &str) -> &str {
    match sym.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head
        }
        _ => sym,
    }
}

/// The workspace this crate was built in: debug info names its files under it.
fn workspace_root() -> &'static Path {
    let perf = Path::new(env!("CARGO_MANIFEST_DIR"));
    perf.parent().unwrap_or(perf)
}

/// `/home/u/.cargo/registry/src/index.crates.io-xxxx/bytes-1.12.1/src/bytes.rs:10:5` →
/// `bytes-1.12.1/src/bytes.rs:10`; `/rustc/<hash>/library/alloc/src/vec/mod.rs:1:2` →
/// `library/alloc/src/vec/mod.rs:1`; a file of the workspace → `msgr/src/lib.rs:3`
/// (the backtrace printer names files under the working directory `./…`: `cwd` resolves
/// them).
fn short_location(at: &str, cwd: &Path) -> String {
    let at = at.trim();
    // Drop the column.
    let at = match at.rsplit_once(':') {
        Some((head, col)) if head.contains(':') && col.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => at,
    };
    if let Some(i) = at.find("/registry/src/") {
        let rest = &at[i + "/registry/src/".len()..];
        return rest.split_once('/').map_or(rest, |(_, r)| r).to_owned();
    }
    if let Some(i) = at.find("/library/") {
        return at[i + 1..].to_owned();
    }
    let abs = match at.strip_prefix("./") {
        Some(rel) => cwd.join(rel),
        None => PathBuf::from(at),
    };
    match abs.strip_prefix(workspace_root()) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => at.to_owned(),
    }
}

/// Shortens every path in a symbol to its last segment (two when the last is a closure or
/// impl block): `new<alloc::sync::Arc<msgr::X>>` → `new<Arc<X>>`.
pub fn short_symbol(sym: &str) -> String {
    let mut out = String::with_capacity(sym.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.starts_with("::") {
            out.push_str("::");
        }
        let segs: Vec<&str> = token.trim_start_matches("::").split("::").collect();
        let keep = match segs.last() {
            Some(last) if last.starts_with('{') && segs.len() > 1 => 2,
            _ => 1,
        };
        out.push_str(&segs[segs.len().saturating_sub(keep)..].join("::"));
        token.clear();
    };
    for c in sym.chars() {
        if c.is_alphanumeric() || "_:{}#".contains(c) {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

/// Frames of the allocator, of `alloc`'s allocation plumbing, of thread-local access and of
/// backtrace capture: none of them is the caller's.
fn is_allocator_frame(f: &Frame) -> bool {
    const FILES: [&str; 6] = [
        "perf/src/alloc_count.rs",
        "library/alloc/src/alloc.rs",
        "library/std/src/alloc.rs",
        "library/std/src/thread/local.rs",
        "library/std/src/backtrace",
        "backtrace/src/",
    ];
    const SYMBOLS: [&str; 6] = [
        "alloc_count::",
        "std::backtrace",
        "__rust_alloc",
        "__rust_realloc",
        "__rdl_",
        "__rg_",
    ];
    match &f.location {
        Some(at) => FILES.iter().any(|p| at.contains(p)),
        None => SYMBOLS.iter().any(|n| f.symbol.contains(n)),
    }
}

/// Allocations grouped by where they were made.
#[derive(Clone, Debug)]
pub struct CallSite {
    /// The innermost frame outside the allocator: what allocated (`RawVec::grow_one`,
    /// `Box::new`, …).
    pub allocator: Frame,
    /// The frames `keep` accepted, innermost first, at most `depth` of them.
    pub frames: Vec<Frame>,
    /// Samples at this site.
    pub samples: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Groups `samples` by call site: the innermost frame outside the allocator plus the first
/// `depth` frames `keep` accepts (e.g. those in `msgr/src/` and the `bytes` crate). Most
/// frequent first. Resolves every backtrace (slow: seconds for thousands).
///
/// With line tables only, an inlined frame's symbol is its bare name (`queue`, `new<T>`):
/// its location says whose it is, so `keep` should look at both.
pub fn call_sites(
    samples: &[Sample],
    keep: &dyn Fn(&Frame) -> bool,
    depth: usize,
) -> Vec<CallSite> {
    let mut sites: HashMap<(Frame, Vec<Frame>), (u64, u64)> = HashMap::new();
    let cwd = std::env::current_dir().unwrap_or_default();
    for s in samples {
        let frames = parse_frames(&s.backtrace.to_string(), &cwd);
        let mut outside = frames.into_iter().skip_while(is_allocator_frame);
        let Some(allocator) = outside.next() else {
            continue;
        };
        let kept: Vec<Frame> = std::iter::once(allocator.clone())
            .chain(outside)
            .filter(|f| keep(f))
            .take(depth)
            .collect();
        let e = sites.entry((allocator, kept)).or_default();
        e.0 += 1;
        e.1 += s.size as u64;
    }
    let mut out: Vec<CallSite> = sites
        .into_iter()
        .map(|((allocator, frames), (samples, bytes))| CallSite {
            allocator,
            frames,
            samples,
            bytes,
        })
        .collect();
    out.sort_by(|a, b| {
        b.samples
            .cmp(&a.samples)
            .then_with(|| a.allocator.symbol.cmp(&b.allocator.symbol))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "   0: std::backtrace::Backtrace::force_capture
             at /rustc/0123abcd/library/std/src/backtrace.rs:312:9
   1: cuttle_perf::alloc_count::capture
             at ./src/alloc_count.rs:120:21
   2: __rust_alloc
   3: alloc::raw_vec::RawVec<T,A>::grow_one::h0123456789abcdef
             at /rustc/0123abcd/library/alloc/src/raw_vec/mod.rs:340:5
   4: push<alloc::sync::Arc<msgr::X>>
             at ./msgr/src/frames/assemble.rs:88:13
   5: bytes::bytes_mut::BytesMut::freeze
             at /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/bytes-1.12.1/src/bytes_mut.rs:250:9
";

    #[test]
    fn parses_symbols_and_short_locations() {
        // Printed in perf/: `./src/…` is perf's, `./msgr/…` would not exist there.
        let f = parse_frames(TEXT, &workspace_root().join("perf"));
        assert_eq!(
            f[1].location.as_deref(),
            Some("perf/src/alloc_count.rs:120")
        );
        let f = parse_frames(TEXT, workspace_root());
        assert_eq!(f.len(), 6);
        assert_eq!(f[3].symbol, "RawVec<T,A>::grow_one");
        assert_eq!(f[4].symbol, "push<Arc<X>>");
        assert_eq!(
            f[3].location.as_deref(),
            Some("library/alloc/src/raw_vec/mod.rs:340")
        );
        assert_eq!(f[2].location, None);
        assert_eq!(
            f[4].location.as_deref(),
            Some("msgr/src/frames/assemble.rs:88")
        );
        assert_eq!(
            f[5].location.as_deref(),
            Some("bytes-1.12.1/src/bytes_mut.rs:250")
        );
    }

    #[test]
    fn allocator_frames_are_skipped() {
        let f = parse_frames(TEXT, &workspace_root().join("perf"));
        let first = f
            .iter()
            .find(|f| !is_allocator_frame(f))
            .map(|f| f.symbol.as_str());
        assert_eq!(first, Some("RawVec<T,A>::grow_one"));
    }

    #[test]
    fn symbols_keep_last_segments() {
        assert_eq!(
            short_symbol("call_once<msgr::worker::worker_main::{closure_env#0}, ()>"),
            "call_once<worker_main::{closure_env#0}, ()>"
        );
        assert_eq!(
            short_symbol("<alloc::vec::Vec<u8> as core::clone::Clone>::clone"),
            "<Vec<u8> as Clone>::clone"
        );
    }

    #[test]
    fn hashes_only_look_like_hashes() {
        assert_eq!(strip_hash("a::b::h0123456789abcdef"), "a::b");
        assert_eq!(strip_hash("a::b::hello"), "a::b::hello");
    }
}
