//! Dispatchers and the dispatch queue (Ceph's `Dispatcher` and `DispatchQueue`).
//!
//! Messages a dispatcher can take in the worker thread go to
//! [`Dispatcher::ms_fast_dispatch`] at once; the rest, and connection events, go through one
//! dispatch thread in arrival order. The queue is throttled in bytes
//! (`ms_dispatch_throttle_bytes`): when it is over its limit, connections stop reading from
//! their sockets until the dispatch thread catches up, so a slow dispatcher applies
//! back-pressure to the peers instead of growing memory without bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::{self, JoinHandle};

use crossbeam::channel::{Receiver, Sender, unbounded};

use super::Connection;
use crate::messages::{Message, MsgHeader2};

/// A message as dispatched: its header (seq, tid, priority, versions) and its decoded body.
#[derive(Debug)]
pub struct Incoming {
    /// The msgr2 header (§5.2).
    pub header: MsgHeader2,
    /// The decoded message (unknown types stay raw).
    pub message: Message,
    /// Bytes it occupies (front + middle + data), as counted by the dispatch throttle.
    pub bytes: usize,
}

/// Receives messages and connection events (Ceph's `Dispatcher`). Dispatchers form a chain:
/// each message goes to the first dispatcher whose [`ms_dispatch`](Self::ms_dispatch) takes it.
/// All hooks but the fast ones run on the messenger's dispatch thread.
pub trait Dispatcher: Send + Sync + 'static {
    /// Whether `msg` may be handled by [`ms_fast_dispatch`](Self::ms_fast_dispatch) in the
    /// worker thread (it must not block).
    fn ms_can_fast_dispatch(&self, _msg: &Incoming) -> bool {
        false
    }
    /// Handles a message in the worker thread.
    fn ms_fast_dispatch(&self, _conn: &Connection, _msg: Incoming) {}
    /// Handles a message on the dispatch thread; returns it back if this dispatcher does not
    /// take it, so the next in the chain may.
    fn ms_dispatch(&self, conn: &Connection, msg: Incoming) -> Option<Incoming>;
    /// An outgoing connection reached READY.
    fn ms_handle_connect(&self, _conn: &Connection) {}
    /// An incoming connection reached READY.
    fn ms_handle_accept(&self, _conn: &Connection) {}
    /// A connection closed for good (lossy fault, mark_down by the peer, …); queued messages
    /// were dropped. Returns true if handled.
    fn ms_handle_reset(&self, _conn: &Connection) -> bool {
        false
    }
    /// The peer forgot our session; unacknowledged messages were dropped.
    fn ms_handle_remote_reset(&self, _conn: &Connection) {}
    /// The peer refused the connection (nothing listening). Returns true if handled.
    fn ms_handle_refused(&self, _conn: &Connection) -> bool {
        false
    }
}

/// What the dispatch thread delivers.
// Messages are the common case; boxing them would add an allocation per message.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Item {
    Message(Connection, Incoming),
    Connect(Connection),
    Accept(Connection),
    Reset(Connection),
    RemoteReset(Connection),
    Refused(Connection),
    Stop,
}

/// The dispatcher chain, shared by worker threads and the dispatch thread.
#[derive(Default)]
pub(crate) struct Chain {
    dispatchers: RwLock<Vec<Arc<dyn Dispatcher>>>,
}

impl Chain {
    pub(crate) fn add_head(&self, d: Arc<dyn Dispatcher>) {
        self.dispatchers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(0, d);
    }

    pub(crate) fn add_tail(&self, d: Arc<dyn Dispatcher>) {
        self.dispatchers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(d);
    }

    fn snapshot(&self) -> Vec<Arc<dyn Dispatcher>> {
        self.dispatchers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The first dispatcher that can fast-dispatch `msg`, if any.
    pub(crate) fn fast_target(&self, msg: &Incoming) -> Option<Arc<dyn Dispatcher>> {
        self.dispatchers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|d| d.ms_can_fast_dispatch(msg))
            .cloned()
    }

    fn deliver(&self, item: Item) {
        let chain = self.snapshot();
        match item {
            Item::Message(conn, mut msg) => {
                for d in &chain {
                    match d.ms_dispatch(&conn, msg) {
                        None => return,
                        Some(back) => msg = back,
                    }
                }
                tracing::debug!(
                    conn = conn.id(),
                    msg = msg.message.name(),
                    "no dispatcher took the message"
                );
            }
            Item::Connect(c) => chain.iter().for_each(|d| d.ms_handle_connect(&c)),
            Item::Accept(c) => chain.iter().for_each(|d| d.ms_handle_accept(&c)),
            Item::Reset(c) => {
                let _ = chain.iter().any(|d| d.ms_handle_reset(&c));
            }
            Item::RemoteReset(c) => chain.iter().for_each(|d| d.ms_handle_remote_reset(&c)),
            Item::Refused(c) => {
                let _ = chain.iter().any(|d| d.ms_handle_refused(&c));
            }
            Item::Stop => {}
        }
    }
}

/// The byte throttle in front of the dispatch thread.
pub(crate) struct Throttle {
    limit: usize,
    queued: AtomicUsize,
    /// Connections that paused reading because the throttle was full.
    paused: Mutex<Vec<Connection>>,
}

impl Throttle {
    fn new(limit: usize) -> Self {
        Throttle {
            limit: limit.max(1),
            queued: AtomicUsize::new(0),
            paused: Mutex::new(Vec::new()),
        }
    }

    /// Counts `n` bytes in; returns true if the queue is now over its limit.
    pub(crate) fn take(&self, n: usize) -> bool {
        self.queued.fetch_add(n, Ordering::AcqRel) + n > self.limit
    }

    /// True while the queue holds more than its limit.
    pub(crate) fn is_over(&self) -> bool {
        self.queued.load(Ordering::Acquire) > self.limit
    }

    /// Remembers a connection that paused reading; it is resumed when the queue drains.
    pub(crate) fn park(&self, conn: Connection) {
        self.paused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(conn);
        // The dispatch thread may have drained between `take` and here.
        if self.queued.load(Ordering::Acquire) <= self.limit / 2 {
            self.wake_parked();
        }
    }

    fn put(&self, n: usize) {
        let before = self.queued.fetch_sub(n, Ordering::AcqRel);
        if before - n <= self.limit / 2 {
            self.wake_parked();
        }
    }

    fn wake_parked(&self) {
        let parked = std::mem::take(&mut *self.paused.lock().unwrap_or_else(|p| p.into_inner()));
        for c in parked {
            c.resume_recv();
        }
    }

    /// Bytes currently queued for dispatch.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }
}

/// The dispatch thread and its queue.
pub(crate) struct DispatchQueue {
    tx: Sender<Item>,
    rx: Mutex<Option<Receiver<Item>>>,
    pub(crate) chain: Arc<Chain>,
    pub(crate) throttle: Arc<Throttle>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl DispatchQueue {
    pub(crate) fn new(throttle_bytes: usize) -> Self {
        let (tx, rx) = unbounded();
        DispatchQueue {
            tx,
            rx: Mutex::new(Some(rx)),
            chain: Arc::new(Chain::default()),
            throttle: Arc::new(Throttle::new(throttle_bytes)),
            thread: Mutex::new(None),
        }
    }

    /// Starts the dispatch thread (`ms_dispatch`).
    pub(crate) fn start(&self) -> std::io::Result<()> {
        let Some(rx) = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return Ok(());
        };
        let (chain, throttle) = (self.chain.clone(), self.throttle.clone());
        let t = thread::Builder::new()
            .name("ms_dispatch".into())
            .spawn(move || {
                for item in rx.iter() {
                    let bytes = match &item {
                        Item::Stop => break,
                        Item::Message(_, m) => m.bytes,
                        _ => 0,
                    };
                    chain.deliver(item);
                    if bytes > 0 {
                        throttle.put(bytes);
                    }
                }
            })?;
        *self.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(t);
        Ok(())
    }

    /// Queues an item; messages must have been counted with [`Throttle::take`].
    pub(crate) fn enqueue(&self, item: Item) {
        let _ = self.tx.send(item);
    }

    /// Stops the dispatch thread after what is queued, and joins it.
    pub(crate) fn stop(&self) {
        let _ = self.tx.send(Item::Stop);
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take()
            && t.join().is_err()
        {
            tracing::error!("ms_dispatch thread panicked in a dispatcher");
        }
    }
}
