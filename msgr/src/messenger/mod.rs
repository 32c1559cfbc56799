//! The Messenger (Ceph's `AsyncMessenger`): binds, accepts and dials msgr2 connections on the
//! NetworkStack's workers, applies a [`Policy`] per peer type, and hands messages to a chain
//! of [`Dispatcher`]s.
//!
//! ```no_run
//! use std::sync::Arc;
//! use msgr::messenger::{Dispatcher, Incoming, Messenger, MessengerConfig, Connection};
//! use msgr::wire::{EntityName, EntityType};
//!
//! struct Print;
//! impl Dispatcher for Print {
//!     fn ms_dispatch(&self, conn: &Connection, msg: Incoming) -> Option<Incoming> {
//!         println!("{} from {:?}", msg.message.name(), conn.peer());
//!         None
//!     }
//! }
//!
//! let msgr = Messenger::new(EntityName::new(EntityType::CLIENT, "admin"), 1234, MessengerConfig::default());
//! msgr.add_dispatcher_tail(Arc::new(Print));
//! msgr.start().unwrap();
//! let mon = "v2:127.0.0.1:3300/0".parse().unwrap();
//! let conn = msgr.connect_to(EntityType::MON, &mon).unwrap();
//! conn.send(&msgr::messages::MMonGetMap::default(), 0);
//! ```

mod connection;
mod dispatch;
mod registry;

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

pub use connection::Connection;
pub use dispatch::{Dispatcher, Incoming};

use connection::{ConnInner, ConnSocket, pump, table};
use dispatch::DispatchQueue;

use crate::event::{CenterHandle, EventCenter};
use crate::frames::{FrameLimits, RxCopyStats};
use crate::protocol::{Config, Policies, Policy, Protocol, SharedState, Timeouts};
use crate::wire::{AddrType, EntityAddr, EntityAddrvec, EntityName, EntityType};
use crate::worker::{NetworkStack, StackConfig, StackError, least_loaded};

/// Messenger settings (Ceph's `ms_*` options that apply here).
#[derive(Clone, Debug)]
pub struct MessengerConfig {
    /// Worker threads and driver (`ms_async_op_threads`, `ms_async_driver`).
    pub stack: StackConfig,
    /// Policy per peer type (§4.1); the default applies to unlisted types.
    pub policies: Policies,
    /// Protocol timers (§4.12).
    pub timeouts: Timeouts,
    /// Limits on received frames (§2.5).
    pub limits: FrameLimits,
    /// Bytes of messages waiting for the dispatch thread before connections stop reading
    /// (`ms_dispatch_throttle_bytes`, 100 MiB).
    pub dispatch_throttle_bytes: usize,
    /// Fail a socket operation on average once every N (`ms_inject_socket_failures`; 0: off).
    pub inject_socket_failures: u64,
    /// Our gid in idents (-1 until a client knows its global id; a mon's rank).
    pub gid: i64,
}

impl Default for MessengerConfig {
    fn default() -> Self {
        MessengerConfig {
            stack: StackConfig::default(),
            policies: Policies::default(),
            timeouts: Timeouts::default(),
            limits: FrameLimits::default(),
            dispatch_throttle_bytes: 100 << 20,
            inject_socket_failures: 0,
            gid: -1,
        }
    }
}

pub(crate) struct MessengerInner {
    name: EntityName,
    nonce: u32,
    settings: MessengerConfig,
    config: Mutex<Config>,
    stack: Mutex<Option<NetworkStack>>,
    centers: Mutex<Vec<CenterHandle>>,
    listeners: Mutex<Vec<TcpListener>>,
    pub(crate) dispatch: DispatchQueue,
    registry: Mutex<HashMap<EntityAddrvec, Connection>>,
    all: Mutex<HashMap<u64, Connection>>,
    next_id: AtomicU64,
    /// Socket failures injected so far (`ms_inject_socket_failures`).
    pub(crate) injected: AtomicU64,
    /// Received message bytes copied / sliced without a copy / read straight into place.
    pub(crate) rx_copied: AtomicU64,
    pub(crate) rx_shared: AtomicU64,
    pub(crate) rx_direct: AtomicU64,
    started: AtomicBool,
    stopped: (Mutex<bool>, Condvar),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MessengerInner {
    pub(crate) fn registry(&self) -> MutexGuard<'_, HashMap<EntityAddrvec, Connection>> {
        lock(&self.registry)
    }
    pub(crate) fn all(&self) -> MutexGuard<'_, HashMap<u64, Connection>> {
        lock(&self.all)
    }
    pub(crate) fn config(&self) -> Config {
        lock(&self.config).clone()
    }
}

/// Errors from the messenger's API.
#[derive(Debug, thiserror::Error)]
pub enum MessengerError {
    /// An OS error while binding or starting.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The worker threads failed.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// `start` was not called, or `shutdown` was.
    #[error("the messenger is not running")]
    NotRunning,
    /// The peer has no address we can dial with msgr2.
    #[error("no msgr2 address to dial in {0}")]
    NoAddress(EntityAddrvec),
}

/// An AsyncMessenger. Cheap to clone; all clones are the same messenger.
#[derive(Clone)]
pub struct Messenger {
    inner: Arc<MessengerInner>,
}

impl Messenger {
    /// A messenger for entity `name`, with `nonce` in its addresses (Ceph uses the pid for
    /// daemons, a random value for clients).
    pub fn new(name: EntityName, nonce: u32, settings: MessengerConfig) -> Self {
        let mut config = Config::new(name.clone());
        config.nonce = nonce;
        config.gid = settings.gid;
        config.policies = settings.policies.clone();
        config.timeouts = settings.timeouts;
        config.limits = settings.limits;
        config.shared = SharedState::new(u64::from(nonce) ^ 0x5eed_0000_0000, 4096);
        Messenger {
            inner: Arc::new(MessengerInner {
                name,
                nonce,
                dispatch: DispatchQueue::new(settings.dispatch_throttle_bytes),
                settings,
                config: Mutex::new(config),
                stack: Mutex::new(None),
                centers: Mutex::new(Vec::new()),
                listeners: Mutex::new(Vec::new()),
                registry: Mutex::new(HashMap::new()),
                all: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                injected: AtomicU64::new(0),
                rx_copied: AtomicU64::new(0),
                rx_shared: AtomicU64::new(0),
                rx_direct: AtomicU64::new(0),
                started: AtomicBool::new(false),
                stopped: (Mutex::new(false), Condvar::new()),
            }),
        }
    }

    /// Our entity name.
    pub fn name(&self) -> &EntityName {
        &self.inner.name
    }

    /// Our nonce.
    pub fn nonce(&self) -> u32 {
        self.inner.nonce
    }

    /// Our bound addresses (empty for a client that does not listen).
    pub fn my_addrs(&self) -> EntityAddrvec {
        lock(&self.inner.config).addrs.clone()
    }

    /// Sets the policy for peers of type `ty` (before connections to them exist).
    pub fn set_policy(&self, ty: EntityType, policy: Policy) {
        let mut c = lock(&self.inner.config);
        c.policies = std::mem::take(&mut c.policies).with(ty, policy);
    }

    /// Sets the policy for peer types without one of their own.
    pub fn set_default_policy(&self, policy: Policy) {
        lock(&self.inner.config).policies.default = policy;
    }

    /// Adds a dispatcher at the head of the chain.
    pub fn add_dispatcher_head(&self, d: Arc<dyn Dispatcher>) {
        self.inner.dispatch.chain.add_head(d);
    }

    /// Adds a dispatcher at the tail of the chain.
    pub fn add_dispatcher_tail(&self, d: Arc<dyn Dispatcher>) {
        self.inner.dispatch.chain.add_tail(d);
    }

    /// Binds a listening address (port 0: any free port). Returns the address as advertised.
    pub fn bind(&self, addr: SocketAddr) -> Result<EntityAddr, MessengerError> {
        self.bind_range(addr.ip(), addr.port()..=addr.port())
    }

    /// Binds the first free port of `ports` on `ip` (Ceph's `ms_bind_port_min/max`).
    pub fn bind_range(
        &self,
        ip: std::net::IpAddr,
        ports: std::ops::RangeInclusive<u16>,
    ) -> Result<EntityAddr, MessengerError> {
        let l = crate::net::bind_listener(ip, ports).map_err(|source| MessengerError::Io {
            what: "bind",
            source,
        })?;
        let local = l.local_addr().map_err(|source| MessengerError::Io {
            what: "bind",
            source,
        })?;
        let addr = EntityAddr::new(AddrType::Msgr2, local, self.inner.nonce);
        lock(&self.inner.config).addrs.addrs.push(addr);
        if self.inner.started.load(Ordering::Acquire) {
            self.listen(l)?;
        } else {
            lock(&self.inner.listeners).push(l);
        }
        Ok(addr)
    }

    /// Binds several addresses (Ceph's `bindv`).
    pub fn bindv(&self, addrs: &[SocketAddr]) -> Result<EntityAddrvec, MessengerError> {
        for a in addrs {
            self.bind(*a)?;
        }
        Ok(self.my_addrs())
    }

    /// Starts the worker threads, the dispatch thread and the bound listeners.
    pub fn start(&self) -> Result<(), MessengerError> {
        if self.inner.started.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let stack = NetworkStack::start(&self.inner.settings.stack)?;
        *lock(&self.inner.centers) = stack.centers();
        *lock(&self.inner.stack) = Some(stack);
        self.inner
            .dispatch
            .start()
            .map_err(|source| MessengerError::Io {
                what: "dispatch thread",
                source,
            })?;
        for l in std::mem::take(&mut *lock(&self.inner.listeners)) {
            self.listen(l)?;
        }
        Ok(())
    }

    fn listen(&self, l: TcpListener) -> Result<(), MessengerError> {
        let weak = Arc::downgrade(&self.inner);
        let stack = lock(&self.inner.stack);
        let stack = stack.as_ref().ok_or(MessengerError::NotRunning)?;
        let owner = stack.workers()[0].center().clone();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        owner.dispatch_event_external(move |center| {
            let res = center.listen(l, move |_, stream, peer| {
                if let Some(m) = weak.upgrade() {
                    accept(&m, stream, peer);
                }
            });
            let _ = tx.send(res);
        });
        rx.recv()
            .map_err(|_| MessengerError::NotRunning)?
            .map_err(|source| MessengerError::Io {
                what: "listen",
                source,
            })?;
        Ok(())
    }

    /// Returns the connection to the peer at `addrs`, dialling it if there is none (Ceph's
    /// `connect_to`). The policy for `peer_type` decides lossy or lossless.
    pub fn connect_to(
        &self,
        peer_type: EntityType,
        addrs: &EntityAddrvec,
    ) -> Result<Connection, MessengerError> {
        if !self.inner.started.load(Ordering::Acquire) {
            return Err(MessengerError::NotRunning);
        }
        if let Some(c) = self.inner.registry().get(addrs).filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let cfg = self.inner.config();
        let target = addrs
            .msgr2_addr()
            .or_else(|| addrs.addr_of_type(AddrType::Any))
            .and_then(|a| a.sockaddr)
            .ok_or_else(|| MessengerError::NoAddress(addrs.clone()))?;
        let center = least_loaded(&lock(&self.inner.centers)).clone();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Connection::new(
            id,
            center.clone(),
            Arc::downgrade(&self.inner),
            true,
            Some(peer_type),
            addrs.clone(),
        );
        self.inner.registry().insert(addrs.clone(), conn.clone());
        self.inner.all().insert(id, conn.clone());
        let (c2, addrs2, inject) = (
            conn.clone(),
            addrs.clone(),
            self.inner.settings.inject_socket_failures,
        );
        center.dispatch_event_external(move |center| {
            let now = Instant::now();
            let proto = match Protocol::new_client(cfg, peer_type, &addrs2, now) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "connect_to: no msgr2 address");
                    return;
                }
            };
            let rc = ConnInner::new(c2, proto, inject);
            table(center).insert(rc.clone());
            match center.connect_boxed(target, Box::new(ConnSocket(rc.clone()))) {
                Ok(s) => rc.borrow_mut().sock = Some(s),
                Err(e) => {
                    tracing::debug!(%target, error = %e, "dial failed");
                    rc.borrow_mut().proto.handle_transport_closed(now);
                }
            }
            pump(center, &rc);
        });
        Ok(conn)
    }

    /// Marks down every connection to `addrs`.
    pub fn mark_down(&self, addrs: &EntityAddrvec) {
        let conns: Vec<Connection> = self
            .inner
            .all()
            .values()
            .filter(|c| &c.peer_addrs() == addrs)
            .cloned()
            .collect();
        for c in conns {
            c.mark_down();
        }
    }

    /// Marks down every connection.
    pub fn mark_down_all(&self) {
        let conns: Vec<Connection> = self.inner.all().values().cloned().collect();
        for c in conns {
            c.mark_down();
        }
    }

    /// Socket failures injected so far (see [`MessengerConfig::inject_socket_failures`]).
    pub fn injected_socket_failures(&self) -> u64 {
        self.inner.injected.load(Ordering::Relaxed)
    }

    /// How the bytes of received message segments reached their buffers, summed over all
    /// connections: copied in user space, handed out as slices of the receive buffer (zero
    /// copy), or read by the kernel straight into place (zero copy, large segments on epoll).
    pub fn rx_copy_stats(&self) -> RxCopyStats {
        RxCopyStats {
            copied: self.inner.rx_copied.load(Ordering::Relaxed),
            shared: self.inner.rx_shared.load(Ordering::Relaxed),
            direct: self.inner.rx_direct.load(Ordering::Relaxed),
        }
    }

    /// One line per connection, from each worker: state, seqs, queue lengths (Ceph's
    /// `messenger dump`). Blocks until every worker answered; do not call it from a worker.
    pub fn dump_connections(&self) -> Vec<String> {
        let centers = lock(&self.inner.centers).clone();
        let mut out = Vec::new();
        for c in centers {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            c.dispatch_event_external(move |center| {
                let _ = tx.send(table(center).describe());
            });
            if let Ok(lines) = rx.recv_timeout(std::time::Duration::from_secs(5)) {
                out.extend(lines.into_iter().map(|l| format!("worker {}: {l}", c.id())));
            }
        }
        out
    }

    /// Bytes of messages waiting for the dispatch thread.
    pub fn dispatch_queue_bytes(&self) -> usize {
        self.inner.dispatch.throttle.queued()
    }

    /// Closes every connection, stops the workers and the dispatch thread, and joins them.
    pub fn shutdown(&self) -> Result<(), MessengerError> {
        self.mark_down_all();
        let stack = lock(&self.inner.stack).take();
        let res = match stack {
            Some(mut s) => s.stop().map_err(MessengerError::from),
            None => Ok(()),
        };
        self.inner.dispatch.stop();
        self.inner.registry().clear();
        self.inner.all().clear();
        let (m, cv) = &self.inner.stopped;
        *lock(m) = true;
        cv.notify_all();
        res
    }

    /// Blocks until [`shutdown`](Self::shutdown) has completed (from any thread).
    pub fn wait(&self) {
        let (m, cv) = &self.inner.stopped;
        let mut done = lock(m);
        while !*done {
            done = cv.wait(done).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Places an accepted stream on the least-loaded worker and starts its server protocol.
fn accept(m: &Arc<MessengerInner>, stream: TcpStream, peer: SocketAddr) {
    let centers = lock(&m.centers).clone();
    if centers.is_empty() {
        return;
    }
    let center = least_loaded(&centers).clone();
    center.shared.references.fetch_add(1, Ordering::Relaxed);
    let id = m.next_id.fetch_add(1, Ordering::Relaxed);
    let conn = Connection::new(
        id,
        center.clone(),
        Arc::downgrade(m),
        false,
        None,
        EntityAddrvec::default(),
    );
    m.all().insert(id, conn.clone());
    let (cfg, inject) = (m.config(), m.settings.inject_socket_failures);
    center.dispatch_event_external(move |center: &mut EventCenter| {
        let proto = Protocol::new_server(cfg, peer, Instant::now());
        let rc = ConnInner::new(conn, proto, inject);
        table(center).insert(rc.clone());
        match center.adopt_socket(stream, Box::new(ConnSocket(rc.clone()))) {
            Ok(s) => rc.borrow_mut().sock = Some(s),
            Err(e) => {
                tracing::warn!(%peer, error = %e, "could not register accepted socket");
                rc.borrow_mut()
                    .proto
                    .handle_transport_closed(Instant::now());
            }
        }
        pump(center, &rc);
    });
}
