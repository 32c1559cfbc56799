//! Worker threads and the NetworkStack (Ceph's `Worker` / `NetworkStack`): N threads named
//! `msgr-worker-N`, each running its own [`EventCenter`]; new connections go to the
//! least-loaded worker.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::event::{CenterHandle, DriverConfig, DriverKind, EventCenter};
use crate::net::{ListenerId, SocketHandler};

/// How long an idle worker sleeps in the kernel before looping (it wakes on any event).
const IDLE_WAIT: Duration = Duration::from_secs(30);

/// NetworkStack settings.
#[derive(Clone, Debug)]
pub struct StackConfig {
    /// Worker threads (Ceph's `ms_async_op_threads`, default 3).
    pub workers: usize,
    /// Driver for every worker's center (Ceph-style option `ms_async_driver`).
    pub driver: DriverConfig,
    /// CPUs to pin workers to: worker i runs on `cpus[i % cpus.len()]`. Empty: no pinning.
    pub cpus: Vec<usize>,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            workers: 3,
            driver: DriverConfig::default(),
            cpus: Vec::new(),
        }
    }
}

/// Errors from starting or stopping the stack.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// A worker could not create its center or thread.
    #[error("msgr-worker-{id} failed to start: {source}")]
    Start {
        /// Worker index.
        id: usize,
        /// The OS error.
        source: std::io::Error,
    },
    /// A handler panicked on a worker; the worker stopped.
    #[error("msgr-worker-{id} panicked: {message}")]
    WorkerPanicked {
        /// Worker index.
        id: usize,
        /// The panic payload, if it was a string.
        message: String,
    },
    /// A worker's event loop failed in the kernel and stopped.
    #[error("msgr-worker-{id} event loop failed: {message}")]
    LoopFailed {
        /// Worker index.
        id: usize,
        /// The error.
        message: String,
    },
}

/// One worker thread and its center.
pub struct Worker {
    id: usize,
    handle: CenterHandle,
    driver: DriverKind,
    thread: Option<JoinHandle<()>>,
    failure: Arc<Mutex<Option<StackError>>>,
}

impl Worker {
    /// Index (the N of `msgr-worker-N`).
    pub fn id(&self) -> usize {
        self.id
    }
    /// A handle to the worker's center.
    pub fn center(&self) -> &CenterHandle {
        &self.handle
    }
    /// The driver the worker's center actually runs.
    pub fn driver(&self) -> DriverKind {
        self.driver
    }
    /// Connections owned or assigned (Ceph's `Worker::references`).
    pub fn references(&self) -> usize {
        self.handle.references()
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_string())
}

fn worker_main(
    id: usize,
    cfg: DriverConfig,
    cpu: Option<usize>,
    ready: mpsc::SyncSender<std::io::Result<(CenterHandle, DriverKind)>>,
    failure: Arc<Mutex<Option<StackError>>>,
) {
    let span = tracing::info_span!("worker", id);
    let _enter = span.enter();
    if let Some(cpu) = cpu
        && let Err(e) = crate::sys::pin_current_thread(cpu)
    {
        tracing::warn!(cpu, error = %e, "could not pin msgr-worker-{id}");
    }
    let mut center = match EventCenter::new(id, &cfg) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok((center.handle(), center.driver_kind())));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        while !center.is_stopped() {
            center.process_events(Some(IDLE_WAIT))?;
        }
        Ok::<(), std::io::Error>(())
    }));
    let err = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "msgr-worker-{id} event loop failed");
            Some(StackError::LoopFailed {
                id,
                message: e.to_string(),
            })
        }
        Err(p) => {
            let message = panic_message(&*p);
            tracing::error!(%message, "msgr-worker-{id} panicked in an event handler; worker stopped");
            Some(StackError::WorkerPanicked { id, message })
        }
    };
    *failure.lock().unwrap_or_else(|p| p.into_inner()) = err;
    drop(center); // closes its sockets, listeners, ring and eventfd on this thread
}

/// Picks the worker with the fewest references (lowest index on ties).
pub fn least_loaded(centers: &[CenterHandle]) -> &CenterHandle {
    centers
        .iter()
        .min_by_key(|c| c.references())
        .expect("a stack has at least one worker")
}

/// Assigns `stream` to the least-loaded of `centers` and registers it there with the handler
/// `make` builds (on the worker's thread).
pub fn assign(
    centers: &[CenterHandle],
    stream: TcpStream,
    make: impl FnOnce() -> Box<dyn SocketHandler> + Send + 'static,
) {
    let target = least_loaded(centers);
    target.shared.references.fetch_add(1, Ordering::Relaxed);
    target.dispatch_event_external(move |center| {
        if let Err(e) = center.adopt_socket(stream, make()) {
            tracing::warn!(center = center.id(), error = %e, "could not register assigned socket");
        }
    });
}

/// The set of worker threads (Ceph's `NetworkStack`).
pub struct NetworkStack {
    workers: Vec<Worker>,
    stopped: bool,
}

impl NetworkStack {
    /// Starts `cfg.workers` threads (at least one), each with its own center, and waits until
    /// all are running.
    pub fn start(cfg: &StackConfig) -> Result<NetworkStack, StackError> {
        let mut stack = NetworkStack {
            workers: Vec::new(),
            stopped: false,
        };
        for id in 0..cfg.workers.max(1) {
            let (tx, rx) = mpsc::sync_channel(1);
            let failure = Arc::new(Mutex::new(None));
            let (dcfg, f) = (cfg.driver.clone(), failure.clone());
            let cpu = (!cfg.cpus.is_empty()).then(|| cfg.cpus[id % cfg.cpus.len()]);
            let thread = thread::Builder::new()
                .name(format!("msgr-worker-{id}"))
                .spawn(move || worker_main(id, dcfg, cpu, tx, f))
                .map_err(|source| StackError::Start { id, source })?;
            let (handle, driver) = match rx.recv() {
                Ok(Ok(v)) => v,
                Ok(Err(source)) => return Err(StackError::Start { id, source }),
                Err(_) => {
                    return Err(StackError::Start {
                        id,
                        source: std::io::Error::other("worker exited"),
                    });
                }
            };
            stack.workers.push(Worker {
                id,
                handle,
                driver,
                thread: Some(thread),
                failure,
            });
        }
        Ok(stack)
    }

    /// The workers.
    pub fn workers(&self) -> &[Worker] {
        &self.workers
    }

    /// Handles of every worker's center.
    pub fn centers(&self) -> Vec<CenterHandle> {
        self.workers.iter().map(|w| w.handle.clone()).collect()
    }

    /// The worker with the fewest connections.
    pub fn get_worker(&self) -> &Worker {
        self.workers
            .iter()
            .min_by_key(|w| w.references())
            .expect("a stack has at least one worker")
    }

    /// Hands a connected stream to the least-loaded worker.
    pub fn assign(
        &self,
        stream: TcpStream,
        make: impl FnOnce() -> Box<dyn SocketHandler> + Send + 'static,
    ) {
        assign(&self.centers(), stream, make);
    }

    /// Listens on `listener` from worker 0; each accepted connection goes to the least-loaded
    /// worker with a handler from `factory`. Returns the bound address.
    pub fn listen(
        &self,
        listener: TcpListener,
        factory: impl Fn(SocketAddr) -> Box<dyn SocketHandler> + Send + Sync + 'static,
    ) -> std::io::Result<(ListenerId, SocketAddr)> {
        let addr = listener.local_addr()?;
        let owner = &self.workers[0].handle;
        if owner.in_thread() {
            return Err(std::io::Error::other(
                "NetworkStack::listen called from msgr-worker-0 itself",
            ));
        }
        let centers = self.centers();
        let factory = Arc::new(factory);
        let (tx, rx) = mpsc::sync_channel(1);
        owner.dispatch_event_external(move |center| {
            let res = center.listen(listener, move |_, stream, peer| {
                let f = factory.clone();
                assign(&centers, stream, move || f(peer));
            });
            let _ = tx.send(res);
        });
        let lid = rx.recv().map_err(std::io::Error::other)??;
        Ok((lid, addr))
    }

    /// Connects to `addr` from the least-loaded worker with the handler `make` builds.
    /// The worker's reference is counted now, so a burst of connects spreads out.
    pub fn connect(
        &self,
        addr: SocketAddr,
        make: impl FnOnce() -> Box<dyn SocketHandler> + Send + 'static,
    ) {
        let target = self.get_worker().handle.clone();
        target.shared.references.fetch_add(1, Ordering::Relaxed);
        target.dispatch_event_external(move |center| {
            if let Err(e) = center.connect_assigned(addr, make()) {
                tracing::warn!(center = center.id(), %addr, error = %e, "connect failed");
            }
        });
    }

    /// Stops every worker (closing their sockets and listeners) and joins the threads.
    /// Reports the first worker that panicked or failed.
    pub fn stop(&mut self) -> Result<(), StackError> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        for w in &self.workers {
            w.handle.dispatch_event_external(|c| c.stop());
        }
        let mut first = None;
        let me = thread::current().id();
        for w in &mut self.workers {
            // A worker cannot join itself (the last owner of the stack may be dropping it from
            // inside a handler): it exits on its own once this event returns.
            if let Some(t) = w.thread.take_if(|t| t.thread().id() != me)
                && t.join().is_err()
            {
                first.get_or_insert(StackError::WorkerPanicked {
                    id: w.id,
                    message: "thread died".into(),
                });
            }
            if let Some(e) = w.failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

impl Drop for NetworkStack {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::error!(error = %e, "network stack stopped with an error");
        }
    }
}
