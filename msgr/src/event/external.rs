//! External events: closures handed to a center by any thread, and the handle that carries
//! them ([`CenterHandle`]).
//!
//! Like Ceph's `EventCenter::dispatch_event_external`, the owner thread is woken only on the
//! empty → non-empty transition of the queue, and never when the caller is the owner itself
//! (it will drain the queue before it next sleeps).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, ThreadId};

use crate::event::EventCenter;
use crate::sys::EventFd;

/// A closure run on a center's owner thread.
pub type ExternalEvent = Box<dyn FnOnce(&mut EventCenter) + Send>;

/// The part of a center that other threads may touch.
pub(crate) struct Shared {
    pub(crate) id: usize,
    pub(crate) owner: ThreadId,
    /// `None` once the center is gone: late events are dropped at once.
    queue: Mutex<Option<Vec<ExternalEvent>>>,
    /// Mirrors `!queue.is_empty()` so the owner can skip the lock when idle.
    pending: AtomicBool,
    waker: EventFd,
    /// Connections owned by this center, plus those assigned to it and not yet registered
    /// (Ceph's `Worker::references`); used for least-loaded placement.
    pub(crate) references: AtomicUsize,
    /// Counter of kernel wakeups sent (for benchmarks and tests).
    pub(crate) wakeups_sent: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(id: usize) -> std::io::Result<Self> {
        Ok(Shared {
            id,
            owner: thread::current().id(),
            queue: Mutex::new(Some(Vec::new())),
            pending: AtomicBool::new(false),
            waker: EventFd::new()?,
            references: AtomicUsize::new(0),
            wakeups_sent: AtomicUsize::new(0),
        })
    }

    pub(crate) fn waker(&self) -> &EventFd {
        &self.waker
    }

    pub(crate) fn in_owner_thread(&self) -> bool {
        thread::current().id() == self.owner
    }

    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    fn push(&self, ev: ExternalEvent) {
        let was_empty = {
            let mut guard = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let Some(q) = guard.as_mut() else {
                // The center is gone; dropping the event tells any waiter (CenterGone).
                drop(guard);
                drop(ev);
                return;
            };
            let was_empty = q.is_empty();
            q.push(ev);
            self.pending.store(true, Ordering::Release);
            was_empty
        };
        if was_empty && !self.in_owner_thread() {
            self.wakeups_sent.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = self.waker.wake() {
                tracing::error!(center = self.id, error = %e, "failed to wake event center");
            }
        }
    }

    /// Takes every queued event (owner thread only). `buf` is reused to avoid allocating.
    pub(crate) fn take_all(&self, buf: &mut Vec<ExternalEvent>) {
        if !self.has_pending() {
            return;
        }
        let mut guard = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = guard.as_mut() {
            std::mem::swap(q, buf);
        }
        self.pending.store(false, Ordering::Release);
    }

    /// Closes the queue and drops what it held without running it (center shutdown); the
    /// waiters of those events see [`CenterGone`].
    pub(crate) fn discard_all(&self) {
        let dropped = self.queue.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.pending.store(false, Ordering::Release);
        drop(dropped);
    }
}

/// The center was dropped before it ran the submitted closure.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("event center {0} stopped before running the submitted event")]
pub struct CenterGone(pub usize);

/// A cloneable, `Send + Sync` reference to an [`EventCenter`], for other threads.
#[derive(Clone)]
pub struct CenterHandle {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for CenterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CenterHandle")
            .field("id", &self.shared.id)
            .finish()
    }
}

impl CenterHandle {
    /// The center's id (the worker index for worker centers).
    pub fn id(&self) -> usize {
        self.shared.id
    }

    /// True when called on the thread that owns the center.
    pub fn in_thread(&self) -> bool {
        self.shared.in_owner_thread()
    }

    /// Queues `f` to run on the owner thread during its next
    /// [`process_events`](EventCenter::process_events). Events from one sender run in the
    /// order sent. Wakes the owner only if the queue was empty and the caller is another thread.
    pub fn dispatch_event_external(&self, f: impl FnOnce(&mut EventCenter) + Send + 'static) {
        self.shared.push(Box::new(f));
    }

    /// Runs `f` on the owner thread and waits for its result: inline if the caller is the
    /// owner thread, otherwise queued as an external event (Ceph's `submit_to`).
    ///
    /// Do not call this from another center's thread while that center is needed to make
    /// progress on the target: the caller blocks.
    pub fn submit_to<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, CenterGone> {
        if self.in_thread() {
            return Ok(f());
        }
        let (tx, rx) = mpsc::sync_channel(1);
        self.dispatch_event_external(move |_| {
            let _ = tx.send(f());
        });
        rx.recv().map_err(|_| CenterGone(self.id()))
    }

    /// Like [`submit_to`](Self::submit_to) without waiting: inline on the owner thread,
    /// otherwise queued.
    pub fn submit_to_async(&self, f: impl FnOnce() + Send + 'static) {
        if self.in_thread() {
            f();
        } else {
            self.dispatch_event_external(move |_| f());
        }
    }

    /// Wakes the owner thread if it sleeps in the kernel.
    pub fn wakeup(&self) {
        if let Err(e) = self.shared.waker.wake() {
            tracing::error!(center = self.shared.id, error = %e, "failed to wake event center");
        }
    }

    /// Connections this center owns or has been assigned (least-loaded placement).
    pub fn references(&self) -> usize {
        self.shared.references.load(Ordering::Relaxed)
    }

    /// How many kernel wakeups other threads have sent this center.
    pub fn wakeups_sent(&self) -> usize {
        self.shared.wakeups_sent.load(Ordering::Relaxed)
    }
}
