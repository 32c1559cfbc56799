//! The event engine: one [`EventCenter`] per thread, on a run-time chosen driver.
//!
//! An iteration of [`EventCenter::process_events`] does, in order: flush the output queued
//! by the previous iteration's handlers (one `writev`/`sendmsg` per socket), wait in the
//! kernel until something is ready or the next timer is due, run fired file and socket
//! events, run expired timers, run external events.

mod busy_poll;
mod driver;
mod epoll;
mod external;
mod timer;
#[allow(unsafe_code)]
mod uring;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub(crate) use driver::{Driver, Ready};
pub use driver::{DriverConfig, DriverKind, EventMask, UnknownDriver};
pub(crate) use epoll::socket_token;
pub(crate) use external::Shared;
pub use external::{CenterGone, CenterHandle, ExternalEvent};
pub use timer::{TimerId, TimerQueue};
pub use uring::RecvBuf;

use crate::net::{SocketId, SocketTable};
use busy_poll::BusyPoll;

/// A file event callback: `(center, fd, fired mask)`.
pub type FileHandler = Box<dyn FnMut(&mut EventCenter, RawFd, EventMask)>;
/// A time event callback.
pub type TimeHandler = Box<dyn FnOnce(&mut EventCenter)>;

struct FileEvent {
    mask: EventMask,
    handler: Option<FileHandler>,
    /// Distinguishes re-registrations of the same fd made from inside a handler.
    generation: u64,
}

/// Counters of one center (Ceph's `l_msgr_*` style); read them through
/// [`EventCenter::counters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CenterCounters {
    /// Iterations of `process_events`.
    pub loops: u64,
    /// Kernel waits that slept or polled (one per iteration).
    pub waits: u64,
    /// File and socket events handled.
    pub file_events: u64,
    /// Timers fired.
    pub time_events: u64,
    /// External events run.
    pub external_events: u64,
    /// Busy-poll spins before a sleep ([`DriverConfig::busy_poll`]).
    pub spins: u64,
    /// Spins that found an event (the sleep and its wakeup were saved).
    pub spin_hits: u64,
}

/// An event loop owned by one thread (Ceph's `EventCenter`).
///
/// Not `Send`: create it on the thread that runs it. Other threads reach it through a
/// [`CenterHandle`].
pub struct EventCenter {
    pub(crate) shared: Arc<Shared>,
    pub(crate) driver: Driver,
    pub(crate) config: DriverConfig,
    files: HashMap<RawFd, FileEvent>,
    file_generation: u64,
    timers: TimerQueue<TimeHandler>,
    pub(crate) sockets: SocketTable,
    /// Sockets with output queued since the last flush.
    pub(crate) dirty: Vec<SocketId>,
    /// Sockets (epoll) whose read loop yielded for fairness; resumed next iteration.
    pub(crate) pending_reads: Vec<SocketId>,
    ready: Vec<Ready>,
    external: Vec<ExternalEvent>,
    /// The receive buffer: reads land in its spare capacity and are split off as shared
    /// `Bytes`, so handlers may keep slices of them; a fresh one is allocated only while
    /// slices of the last one are still alive.
    pub(crate) rx: bytes::BytesMut,
    stopped: bool,
    counters: CenterCounters,
    busy_poll: Option<BusyPoll>,
    /// State that upper layers keep per center (e.g. the messenger's connection table).
    locals: HashMap<TypeId, Rc<dyn Any>>,
}

impl EventCenter {
    /// Creates a center owned by the calling thread. `id` names it in logs (worker index).
    pub fn new(id: usize, config: &DriverConfig) -> io::Result<Self> {
        let shared = Arc::new(Shared::new(id)?);
        let driver = Driver::new(config, shared.waker().as_raw_fd(), id)?;
        if driver.kind() == DriverKind::IoUring {
            // io_uring consumes the eventfd with a read op, which must be allowed to block.
            crate::sys::set_nonblocking(shared.waker().as_raw_fd(), false)?;
        }
        tracing::debug!(center = id, driver = %driver.kind(), "event center created");
        Ok(EventCenter {
            shared,
            driver,
            config: config.clone(),
            files: HashMap::new(),
            file_generation: 0,
            timers: TimerQueue::default(),
            sockets: SocketTable::default(),
            dirty: Vec::new(),
            pending_reads: Vec::new(),
            ready: Vec::with_capacity(256),
            external: Vec::new(),
            rx: bytes::BytesMut::new(),
            stopped: false,
            counters: CenterCounters::default(),
            busy_poll: config
                .busy_poll
                .and_then(|b| BusyPoll::new(b, crate::sys::process_cpu_count())),
            locals: HashMap::new(),
        })
    }

    /// This center's id.
    pub fn id(&self) -> usize {
        self.shared.id
    }

    /// A handle other threads can use to reach this center.
    pub fn handle(&self) -> CenterHandle {
        CenterHandle {
            shared: self.shared.clone(),
        }
    }

    /// The driver actually in use (io_uring may have fallen back to epoll).
    pub fn driver_kind(&self) -> DriverKind {
        self.driver.kind()
    }

    /// The configuration the center was built with.
    pub fn config(&self) -> &DriverConfig {
        &self.config
    }

    /// This center's instance of `T`, created with `T::default()` on first use. Upper layers
    /// keep per-thread state here (the messenger's connection table); use interior
    /// mutability inside `T`. The `Rc` does not borrow the center.
    pub fn local<T: Default + 'static>(&mut self) -> Rc<T> {
        let entry = self
            .locals
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Rc::new(T::default()) as Rc<dyn Any>);
        Rc::clone(entry)
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("locals are keyed by their TypeId"))
    }

    /// Counters since creation.
    pub fn counters(&self) -> CenterCounters {
        self.counters
    }

    // ---- file events ----------------------------------------------------------------------

    /// Watches `fd` for `mask` (added to any mask already registered) and sets its handler.
    /// Edge-triggered: the handler must drain the fd (until `WouldBlock`) before it is told again.
    pub fn create_file_event(
        &mut self,
        fd: RawFd,
        mask: EventMask,
        handler: impl FnMut(&mut EventCenter, RawFd, EventMask) + 'static,
    ) -> io::Result<()> {
        let old = self.files.get(&fd).map_or(EventMask::NONE, |f| f.mask);
        let new = old | mask;
        self.driver.set_file(fd, old, new)?;
        self.file_generation += 1;
        self.files.insert(
            fd,
            FileEvent {
                mask: new,
                handler: Some(Box::new(handler)),
                generation: self.file_generation,
            },
        );
        Ok(())
    }

    /// Stops watching `fd` for `mask`; when no interest remains the handler is dropped.
    ///
    /// As in Ceph, delete the event *before* closing the fd. Closing first is safe (no
    /// handler runs for a deleted event, unknown fds are ignored), but on io_uring the armed
    /// poll holds a reference to the file, so it stays open (the peer does not see the close)
    /// until this call.
    pub fn delete_file_event(&mut self, fd: RawFd, mask: EventMask) {
        let Some(fe) = self.files.get_mut(&fd) else {
            return;
        };
        let old = fe.mask;
        let new = old.without(mask);
        if let Err(e) = self.driver.set_file(fd, old, new) {
            tracing::debug!(fd, error = %e, "delete_file_event: driver refused (fd already closed?)");
        }
        if new.is_empty() {
            self.files.remove(&fd);
        } else {
            fe.mask = new;
        }
    }

    fn dispatch_file(&mut self, fd: RawFd, fired: EventMask) {
        let Some(fe) = self.files.get_mut(&fd) else {
            return;
        };
        let fired = fired & fe.mask;
        if fired.is_empty() {
            return;
        }
        let generation = fe.generation;
        let Some(mut handler) = fe.handler.take() else {
            return;
        };
        handler(self, fd, fired);
        if let Some(fe) = self.files.get_mut(&fd)
            && fe.generation == generation
            && fe.handler.is_none()
        {
            fe.handler = Some(handler);
        }
    }

    // ---- time events ----------------------------------------------------------------------

    /// Runs `f` once, `after` from now (never earlier). O(log n).
    pub fn create_time_event(
        &mut self,
        after: Duration,
        f: impl FnOnce(&mut EventCenter) + 'static,
    ) -> TimerId {
        self.timers.insert(Instant::now() + after, Box::new(f))
    }

    /// Cancels a pending time event. Returns false if it already fired or was cancelled.
    pub fn delete_time_event(&mut self, id: TimerId) -> bool {
        self.timers.cancel(id).is_some()
    }

    /// Number of pending time events.
    pub fn pending_time_events(&self) -> usize {
        self.timers.len()
    }

    // ---- the loop -------------------------------------------------------------------------

    /// Runs one iteration: flush queued output, wait up to `timeout` (`None`: until something
    /// happens) or until the next timer, then run what fired. Returns how many events ran.
    pub fn process_events(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        self.counters.loops += 1;
        self.flush_dirty();
        let now = Instant::now();
        let mut deadline = timeout.map(|t| now + t);
        // Only a timer needs a precise wakeup; the caller's own timeout may be late by < 1 ms.
        let mut precise = false;
        if let Some(t) = self.timers.next_deadline()
            && deadline.is_none_or(|d| t <= d)
        {
            deadline = Some(t);
            precise = true;
        }
        if self.shared.has_pending() || !self.pending_reads.is_empty() {
            deadline = Some(now);
        }
        let mut ready = std::mem::take(&mut self.ready);
        self.counters.waits += 1;
        let woken = self.wait(now, deadline, precise, &mut ready)?;
        if woken && self.driver.wake_needs_drain() {
            self.shared.waker().drain()?;
        }
        let mut ran = ready.len();
        self.counters.file_events += ready.len() as u64;
        for r in ready.drain(..) {
            match r {
                Ready::File { fd, mask } => self.dispatch_file(fd, mask),
                other => self.dispatch_socket(other),
            }
        }
        self.ready = ready;
        ran += self.resume_reads();

        let now = Instant::now();
        while let Some((_, f)) = self.timers.pop_expired(now) {
            self.counters.time_events += 1;
            ran += 1;
            f(self);
        }

        let mut ext = std::mem::take(&mut self.external);
        self.shared.take_all(&mut ext);
        ran += ext.len();
        self.counters.external_events += ext.len() as u64;
        for f in ext.drain(..) {
            f(self);
        }
        self.external = ext;
        Ok(ran)
    }

    /// The kernel wait of one iteration; with busy polling on, first polls without blocking
    /// for up to the spin budget. Returns whether the wake eventfd fired.
    fn wait(
        &mut self,
        now: Instant,
        deadline: Option<Instant>,
        precise: bool,
        ready: &mut Vec<Ready>,
    ) -> io::Result<bool> {
        let sleeps = deadline.is_none_or(|d| d > now);
        let Some(spin) = self
            .busy_poll
            .as_ref()
            .and_then(BusyPoll::spin_for)
            .filter(|_| sleeps)
        else {
            let woken = self.driver.wait(deadline, precise, ready)?;
            if let Some(b) = &mut self.busy_poll
                && (woken || !ready.is_empty())
            {
                b.slept(now.elapsed());
            }
            return Ok(woken);
        };
        self.counters.spins += 1;
        let until = deadline.map_or(now + spin, |d| d.min(now + spin));
        loop {
            let t = Instant::now();
            let woken = self.driver.wait(Some(t), false, ready)?;
            if woken || !ready.is_empty() || self.shared.has_pending() {
                self.counters.spin_hits += 1;
                if let Some(b) = &mut self.busy_poll {
                    b.hit();
                }
                return Ok(woken);
            }
            if t >= until {
                break;
            }
            std::hint::spin_loop();
        }
        if let Some(b) = &mut self.busy_poll {
            b.miss();
        }
        self.driver.wait(deadline, precise, ready)
    }

    /// Runs iterations until `done` returns true or `timeout` passes. Returns whether `done`
    /// became true. For tools and tests that drive a center on the current thread.
    pub fn run_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&mut EventCenter) -> bool,
    ) -> io::Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            if done(self) {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            self.process_events(Some(deadline - now))?;
        }
    }

    /// Asks the loop driving this center to exit (see [`is_stopped`](Self::is_stopped)) and
    /// closes every socket it owns.
    pub fn stop(&mut self) {
        self.stopped = true;
        self.close_all_sockets();
    }

    /// True once [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }
}

impl Drop for EventCenter {
    fn drop(&mut self) {
        self.close_all_sockets();
        self.files.clear();
        self.locals.clear();
        self.shared.discard_all();
        self.shared.references.store(0, Ordering::Relaxed);
    }
}
