//! Helpers shared by the integration tests: the per-driver test macro, bounded waits, an fd
//! lock for tests that count or reuse fd numbers, socket handlers and test data.
//!
//! Every wait here is on a condition with a deadline ([`DEADLINE`]); nothing sleeps.

#![allow(dead_code)] // each test binary uses a different subset

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::Bytes;
use msgr::{
    CloseReason, DriverConfig, DriverKind, EventCenter, NetworkStack, SocketHandler, SocketId,
    StackConfig,
};

/// How long any wait may take before the test fails. Tests normally finish in milliseconds.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Instantiates each `fn name(kind: DriverKind)` of the calling file as two tests,
/// `epoll::name` and `io_uring::name`. Each test holds the binary's fd lock: shared by default,
/// exclusive when written `name: exclusive` (for tests that count fds, reuse fd numbers or
/// look at the process's threads).
macro_rules! driver_tests {
    ($($name:ident $(: $excl:ident)?),* $(,)?) => {
        mod epoll {
            $(
                #[test]
                fn $name() {
                    let _fds = crate::common::lock_fds(driver_tests!(@excl $($excl)?));
                    super::$name(msgr::DriverKind::Epoll)
                }
            )*
        }
        mod io_uring {
            $(
                #[test]
                fn $name() {
                    let _fds = crate::common::lock_fds(driver_tests!(@excl $($excl)?));
                    super::$name(msgr::DriverKind::IoUring)
                }
            )*
        }
    };
    (@excl exclusive) => { true };
    (@excl) => { false };
}

static FDS: RwLock<()> = RwLock::new(());

/// Held for the duration of one test; see [`driver_tests!`].
pub enum FdGuard {
    /// Other shared holders may run alongside.
    Shared(RwLockReadGuard<'static, ()>),
    /// Nothing else in this test binary runs.
    Exclusive(RwLockWriteGuard<'static, ()>),
}

/// Takes the fd lock of this test binary (a failed test poisons nothing).
pub fn lock_fds(exclusive: bool) -> FdGuard {
    if exclusive {
        FdGuard::Exclusive(FDS.write().unwrap_or_else(|p| p.into_inner()))
    } else {
        FdGuard::Shared(FDS.read().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A center on `kind`, failing the test if the driver silently fell back.
pub fn center(kind: DriverKind) -> EventCenter {
    center_with_id(0, kind)
}

/// [`center`] with an explicit id.
pub fn center_with_id(id: usize, kind: DriverKind) -> EventCenter {
    let c = EventCenter::new(id, &DriverConfig::with_kind(kind)).expect("EventCenter::new");
    assert_eq!(c.driver_kind(), kind, "asked for {kind}, got a fallback");
    c
}

/// Runs `c` until `done` holds; fails the test with `what` after [`DEADLINE`].
pub fn run(c: &mut EventCenter, what: &str, done: impl FnMut(&mut EventCenter) -> bool) {
    let ok = c.run_until(DEADLINE, done).expect("process_events");
    assert!(ok, "{}: timed out waiting for {what}", c.driver_kind());
}

/// Spins (yielding) until `cond` holds; fails the test with `what` after [`DEADLINE`].
/// For conditions other threads make true and that no channel reports.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::yield_now();
    }
}

/// Runs `f` on a new thread and returns its result, or fails the test if it is still blocked
/// after [`DEADLINE`] (e.g. deadlocked in `submit_to`; the stuck thread is left behind).
pub fn within_deadline<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (done, rx) = mpsc::channel::<()>();
    let t = thread::spawn(move || {
        let r = f();
        drop(done);
        r
    });
    // Disconnected once `f` returned or panicked; a timeout means it is stuck.
    if rx.recv_timeout(DEADLINE) == Err(mpsc::RecvTimeoutError::Timeout) {
        panic!("{what}: still blocked after {DEADLINE:?}");
    }
    t.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Rescues a test whose center blocks forever in `process_events(None)`: if not dropped within
/// [`DEADLINE`], it records that it fired and wakes the center, so the test fails on
/// [`Watchdog::fired`] instead of hanging.
pub struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    fired: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching the center behind `handle`.
    pub fn new(handle: msgr::CenterHandle) -> Self {
        let (done, rx) = mpsc::channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let f = fired.clone();
        let thread = thread::spawn(move || {
            if rx.recv_timeout(DEADLINE) == Err(mpsc::RecvTimeoutError::Timeout) {
                f.store(true, Ordering::SeqCst);
                handle.wakeup();
            }
        });
        Watchdog {
            done: Some(done),
            fired,
            thread: Some(thread),
        }
    }

    /// True if the deadline passed (the center had to be rescued).
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A connected pair of Unix stream sockets, both non-blocking.
pub fn nonblocking_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// Reads `s` until `WouldBlock` (or EOF), returning what was read: the edge-triggered contract.
pub fn drain(mut s: &UnixStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return out,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// `len` bytes in which every 4-byte word encodes `(stream, position)`, so a lost, duplicated,
/// reordered or cross-wired chunk changes the content.
pub fn pattern(stream: u32, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len + 4);
    let mut i = 0u32;
    while v.len() < len {
        v.extend_from_slice(
            &(i.wrapping_mul(2_654_435_761) ^ stream.rotate_left(16)).to_le_bytes(),
        );
        i += 1;
    }
    v.truncate(len);
    v
}

/// Names of this process's threads (`/proc/self/task/*/comm`) that start with `prefix`, sorted.
pub fn thread_names(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .map(|s| s.trim_end().to_string())
        .filter(|s| s.starts_with(prefix))
        .collect();
    names.sort();
    names
}

/// Where the calling thread's `/proc` entry lives (for [`thread_state`] from another thread).
pub fn current_thread_proc_dir() -> std::path::PathBuf {
    let rel = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    std::path::Path::new("/proc").join(rel)
}

/// The scheduler state letter of a thread (`R` running, `S` sleeping, ...), from its `stat`.
pub fn thread_state(proc_dir: &std::path::Path) -> Option<char> {
    let stat = std::fs::read_to_string(proc_dir.join("stat")).ok()?;
    // "tid (comm) S ...": comm may contain anything, so look after the last ')'.
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

// ---- socket handlers -------------------------------------------------------------------------

/// Echoes every byte back.
pub struct Echo;

impl SocketHandler for Echo {
    fn on_data(&mut self, c: &mut EventCenter, s: SocketId, d: &[u8]) {
        c.send(s, Bytes::copy_from_slice(d)).expect("echo send");
    }
}

/// What a [`Recorder`] saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub connected: bool,
    pub data: Vec<u8>,
    pub closed: Option<CloseReason>,
    /// Callbacks that arrived after `on_closed` (must stay 0).
    pub after_close: usize,
}

/// Shared view of a [`Recorder`]'s observations, for the thread that owns the center.
pub type SeenRef = Rc<RefCell<Seen>>;

/// Records connect, data and close callbacks.
pub struct Recorder(pub SeenRef);

impl Recorder {
    /// A recorder and the handle to read what it saw.
    pub fn new() -> (Recorder, SeenRef) {
        let seen = SeenRef::default();
        (Recorder(seen.clone()), seen)
    }
}

impl SocketHandler for Recorder {
    fn on_connected(&mut self, _c: &mut EventCenter, _s: SocketId) {
        let mut s = self.0.borrow_mut();
        s.after_close += usize::from(s.closed.is_some());
        s.connected = true;
    }
    fn on_data(&mut self, _c: &mut EventCenter, _s: SocketId, d: &[u8]) {
        let mut s = self.0.borrow_mut();
        s.after_close += usize::from(s.closed.is_some());
        s.data.extend_from_slice(d);
    }
    fn on_closed(&mut self, _c: &mut EventCenter, _s: SocketId, reason: CloseReason) {
        let mut s = self.0.borrow_mut();
        s.after_close += usize::from(s.closed.is_some());
        s.closed = Some(reason);
    }
}

// ---- network stacks --------------------------------------------------------------------------

/// Starts a stack of `workers` on `kind`, checking every worker really runs `kind`.
pub fn start_stack(kind: DriverKind, workers: usize) -> NetworkStack {
    let stack = NetworkStack::start(&StackConfig {
        workers,
        driver: DriverConfig::with_kind(kind),
        ..Default::default()
    })
    .expect("NetworkStack::start");
    assert_eq!(stack.workers().len(), workers);
    for w in stack.workers() {
        assert_eq!(w.driver(), kind, "worker {} fell back", w.id());
    }
    stack
}

/// A stack on `kind` whose listener on 127.0.0.1 echoes every connection.
pub fn echo_stack(kind: DriverKind, workers: usize) -> (NetworkStack, SocketAddr) {
    let stack = start_stack(kind, workers);
    let listener = msgr::bind_listener("127.0.0.1".parse().unwrap(), 0..=0).expect("bind");
    let (_, addr) = stack
        .listen(listener, |_| Box::new(Echo))
        .expect("stack listen");
    (stack, addr)
}

/// The calling thread's name (worker threads are `msgr-worker-N`).
pub fn thread_name() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_string()
}

/// How many times each value occurs.
pub fn tally<T: Ord>(items: impl IntoIterator<Item = T>) -> BTreeMap<T, usize> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i).or_default() += 1;
    }
    m
}
