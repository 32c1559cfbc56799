//! What a [`Protocol`](super::Protocol) is told before it starts: who we are, the policy for
//! each peer type (msgr2.md §4.1), timers (§4.12), and the state shared by every connection of
//! one messenger (global_seq, §4.2, §4.6).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::frames::FrameLimits;
use crate::wire::features::{self, CEPH_FEATURES_ALL};
use crate::wire::{EntityAddrvec, EntityName, EntityType, Features};

/// Ceph's `Messenger::Policy` (§4.1): how a connection to a peer of some type behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// A fault closes the connection and drops its messages; no reconnect (§4.8, §4.11).
    pub lossy: bool,
    /// This side never dials out to re-establish the session; after a fault it waits in
    /// STANDBY for the peer (§4.8).
    pub server: bool,
    /// With nothing to send, a lossless connection that faults waits in STANDBY instead of
    /// reconnecting at once.
    pub standby: bool,
    /// Tell the peer to forget its session when it reconnects to one we reset (§4.10 row 4).
    pub resetcheck: bool,
    /// A lossy server still registers its clients, so that §4.9 applies to them.
    pub register_lossy_clients: bool,
    /// `CEPH_FEATURE_*` bits we advertise.
    pub features_supported: Features,
    /// Bits the peer must have (MSG_ADDR2 is always added, §3.3.7).
    pub features_required: Features,
}

impl Policy {
    const fn new(lossy: bool, server: bool, standby: bool, resetcheck: bool, req: u64) -> Self {
        Policy {
            lossy,
            server,
            standby,
            resetcheck,
            register_lossy_clients: true,
            features_supported: CEPH_FEATURES_ALL,
            features_required: Features::from_bits(req),
        }
    }

    /// `stateless_server(req)`: what a mon or mgr applies to clients.
    pub const fn stateless_server(required: Features) -> Self {
        let mut p = Self::new(true, true, false, false, required.bits());
        p.register_lossy_clients = false;
        p
    }

    /// `stateless_registered_server(req)`.
    pub const fn stateless_registered_server(required: Features) -> Self {
        Self::new(true, true, false, false, required.bits())
    }

    /// `stateful_server(req)`: lossless; waits in STANDBY for the client to come back.
    pub const fn stateful_server(required: Features) -> Self {
        Self::new(false, true, true, true, required.bits())
    }

    /// `lossless_peer(req)`: lossless both ways, e.g. mon to mon.
    pub const fn lossless_peer(required: Features) -> Self {
        Self::new(false, false, true, false, required.bits())
    }

    /// `lossless_peer_reuse(req)`.
    pub const fn lossless_peer_reuse(required: Features) -> Self {
        Self::new(false, false, true, false, required.bits())
    }

    /// `lossy_client(req)`: what librados and the `ceph` CLI use (with `OSDREPLYMUX`).
    pub const fn lossy_client(required: Features) -> Self {
        Self::new(true, false, false, false, required.bits())
    }

    /// `lossless_client(req)`: reconnects and replays after a fault.
    pub const fn lossless_client(required: Features) -> Self {
        Self::new(false, false, false, true, required.bits())
    }

    /// The `ceph` CLI's policy for every peer: `lossy_client(OSDREPLYMUX)` (§4.1).
    pub fn librados() -> Self {
        Self::lossy_client(features::OSDREPLYMUX.into())
    }

    /// What goes in CLIENT_IDENT / SERVER_IDENT `required_features`: ours plus MSG_ADDR2.
    pub fn required_on_wire(&self) -> Features {
        self.features_required | features::MSG_ADDR2
    }
}

impl Default for Policy {
    /// Ceph's default `Policy()`: lossless, not a server, resetcheck.
    fn default() -> Self {
        Self::new(false, false, false, true, 0)
    }
}

/// The policy for each peer type, with a default for the others (Ceph's `set_policy` and
/// `set_default_policy`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policies {
    /// For peer types without an entry in `by_type`.
    pub default: Policy,
    /// Per peer type.
    pub by_type: Vec<(EntityType, Policy)>,
}

impl Policies {
    /// One policy for every peer type.
    pub fn uniform(policy: Policy) -> Self {
        Policies {
            default: policy,
            by_type: Vec::new(),
        }
    }

    /// Sets the policy for `ty`.
    pub fn with(mut self, ty: EntityType, policy: Policy) -> Self {
        self.by_type.retain(|(t, _)| *t != ty);
        self.by_type.push((ty, policy));
        self
    }

    /// The policy for a peer of type `ty`.
    pub fn policy_for(&self, ty: EntityType) -> Policy {
        self.by_type
            .iter()
            .find(|(t, _)| *t == ty)
            .map_or(self.default, |(_, p)| *p)
    }
}

/// Timers (§4.12). `None` disables one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// `ms_connection_ready_timeout`: a handshake must reach READY within this (10 s).
    pub ready: Option<Duration>,
    /// `ms_connection_idle_timeout`: a READY connection that received nothing for this long
    /// faults (900 s).
    pub idle: Option<Duration>,
    /// `ms_initial_backoff` (0.2 s): the first wait before a lossless reconnect.
    pub initial_backoff: Duration,
    /// `ms_max_backoff` (15 s): the longest wait, and the wait after WAIT.
    pub max_backoff: Duration,
    /// Send KEEPALIVE2 this often while READY (MonClient: 10 s). Ceph's messenger itself never
    /// does; off by default.
    pub keepalive_interval: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            ready: Some(Duration::from_secs(10)),
            idle: Some(Duration::from_secs(900)),
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(15),
            keepalive_interval: None,
        }
    }
}

/// How an acceptor answers a valid auth-none AUTH_REQUEST (§3.4.2, §3.4.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthDecision {
    /// At once: an authorizer's global id is echoed; a MON-mode request keeps its global id,
    /// or gets the next one from [`SharedState::next_global_id`] if it sent 0.
    #[default]
    Automatic,
    /// Emit [`Event::AuthRequest`](super::Event::AuthRequest) and wait for
    /// [`Protocol::accept_auth`](super::Protocol::accept_auth) or
    /// [`Protocol::reject_auth`](super::Protocol::reject_auth) (a mon allocating global ids,
    /// or refusing while it has no quorum).
    Application,
}

/// State shared by every connection of one messenger: the global_seq counter (§4.2), the
/// cookie generator and the global-id counter. Clones share it. It holds no I/O and no
/// clock: only counters.
#[derive(Clone, Debug)]
pub struct SharedState {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    global_seq: AtomicU64,
    rng: AtomicU64,
    global_id: AtomicU64,
}

impl SharedState {
    /// A fresh state: global_seq 0, cookies drawn from a generator seeded with `seed`, global
    /// ids handed out from `first_global_id`.
    pub fn new(seed: u64, first_global_id: u64) -> Self {
        SharedState {
            inner: Arc::new(Shared {
                global_seq: AtomicU64::new(0),
                rng: AtomicU64::new(seed),
                global_id: AtomicU64::new(first_global_id),
            }),
        }
    }

    /// Ceph's `get_global_seq(hint)` (§4.2): raise the counter to `hint` if it is below, then
    /// return the incremented value.
    pub fn next_global_seq(&self, hint: u64) -> u64 {
        let counter = &self.inner.global_seq;
        let mut current = counter.load(Ordering::Relaxed);
        loop {
            let next = current.max(hint).wrapping_add(1);
            match counter.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(seen) => current = seen,
            }
        }
    }

    /// The current global_seq, without taking one.
    pub fn global_seq(&self) -> u64 {
        self.inner.global_seq.load(Ordering::Relaxed)
    }

    /// A random-looking non-zero cookie (§4.2), from a splitmix64 stream.
    pub fn next_cookie(&self) -> u64 {
        loop {
            let state = self
                .inner
                .rng
                .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
                .wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            if z != 0 {
                return z;
            }
        }
    }

    /// The next global id, for [`AuthDecision::Automatic`].
    pub fn next_global_id(&self) -> u64 {
        self.inner.global_id.fetch_add(1, Ordering::Relaxed)
    }
}

impl Default for SharedState {
    /// Seed 0, global ids from 4096 (a fresh Ceph cluster starts a little above, §3.4.2).
    fn default() -> Self {
        Self::new(0, 4096)
    }
}

/// Everything a [`Protocol`](super::Protocol) needs to know about this side.
#[derive(Clone, Debug)]
pub struct Config {
    /// Our entity name: its type goes in HELLO, the whole name in the auth payload (§3.4).
    pub name: EntityName,
    /// Our entity number in CLIENT_IDENT / SERVER_IDENT `gid` (§3.3.7): -1 before a client
    /// knows its global id, the mon rank, a mgr's global id.
    pub gid: i64,
    /// The global id a client presents in its auth payload: 0 on first contact (§3.4.1).
    pub global_id: u64,
    /// Our bound addresses. A server must list the address clients dial (§4.5). A client that
    /// does not listen leaves it empty and advertises its learned IP (§3.3.1).
    pub addrs: EntityAddrvec,
    /// The messenger nonce, in the learned address of a client that does not listen.
    pub nonce: u32,
    /// Policy per peer type (§4.1).
    pub policies: Policies,
    /// Limits on received frames (§2.5).
    pub limits: FrameLimits,
    /// Timers (§4.12).
    pub timeouts: Timeouts,
    /// How an acceptor decides auth (§3.4.2).
    pub auth: AuthDecision,
    /// Counters shared with the other connections of this messenger.
    pub shared: SharedState,
}

impl Config {
    /// A config for `name` with the default policy, limits and timers, no addresses, gid -1
    /// and a fresh [`SharedState`].
    pub fn new(name: EntityName) -> Self {
        Config {
            name,
            gid: -1,
            global_id: 0,
            addrs: EntityAddrvec::default(),
            nonce: 0,
            policies: Policies::default(),
            limits: FrameLimits::default(),
            timeouts: Timeouts::default(),
            auth: AuthDecision::default(),
            shared: SharedState::default(),
        }
    }

    /// Our entity type.
    pub fn entity_type(&self) -> EntityType {
        self.name.ty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_seq_follows_ceph() {
        let s = SharedState::default();
        assert_eq!(s.next_global_seq(0), 1);
        assert_eq!(s.next_global_seq(0), 2);
        assert_eq!(s.next_global_seq(10), 11);
        assert_eq!(s.clone().next_global_seq(3), 12);
        assert_eq!(s.global_seq(), 12);
    }

    #[test]
    fn cookies_are_nonzero_and_differ() {
        let s = SharedState::new(42, 1);
        let a = s.next_cookie();
        let b = s.next_cookie();
        assert!(a != 0 && b != 0 && a != b);
        assert_eq!(s.next_global_id(), 1);
        assert_eq!(s.next_global_id(), 2);
    }

    #[test]
    fn policies() {
        let p = Policies::uniform(Policy::librados());
        assert_eq!(
            p.policy_for(EntityType::MON).required_on_wire().bits(),
            0x0800_0000_0000_1000
        );
        let p = Policies::uniform(Policy::stateless_server(Features::EMPTY)).with(
            EntityType::MON,
            Policy::lossless_peer_reuse(Features::EMPTY),
        );
        assert!(p.policy_for(EntityType::CLIENT).lossy);
        assert!(!p.policy_for(EntityType::MON).lossy);
        assert_eq!(
            Policy::default().required_on_wire().bits(),
            0x0800_0000_0000_0000
        );
    }
}
