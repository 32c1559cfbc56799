//! Protocol tests on the in-memory [`Net`](super::pair::Net) harness and against captured
//! Ceph 16.2.15 streams.

mod capture;
mod fuzz;
mod handoff;
mod handshake;
mod judge;
mod session;

use std::net::SocketAddr;

use bytes::Bytes;

use super::pair::Net;
use super::{Config, Event, Policies, Policy, SharedState};
use crate::messages::{MsgHeader2, RawMessage};
use crate::wire::{EntityAddr, EntityAddrvec, EntityName, EntityType, Features};

/// `v2:IP:PORT/NONCE`.
pub(super) fn v2(s: &str, nonce: u32) -> EntityAddr {
    EntityAddr::msgr2(s.parse::<SocketAddr>().unwrap(), nonce)
}

/// A mon at `v2:127.0.0.1:3300/0`, rank 0, stateless towards clients (§4.1).
pub(super) fn mon_config() -> Config {
    let mut cfg = Config::new(EntityName::new(EntityType::MON, "a"));
    cfg.gid = 0;
    cfg.addrs = EntityAddrvec::single(v2("127.0.0.1:3300", 0));
    cfg.policies = Policies::uniform(Policy::stateless_server(Features::EMPTY));
    cfg.shared = SharedState::new(1, 4099);
    cfg
}

/// A `ceph` CLI-like client: `client.admin`, lossy, not listening.
pub(super) fn client_config() -> Config {
    let mut cfg = Config::new(EntityName::new(EntityType::CLIENT, "admin"));
    cfg.nonce = 0x5e69_6433;
    cfg.policies = Policies::uniform(Policy::librados());
    cfg.shared = SharedState::new(2, 1);
    cfg
}

/// A server with a lossless stateful policy (an OSD-like daemon) at `addr`.
pub(super) fn stateful_server(addr: &str) -> Config {
    let mut cfg = Config::new(EntityName::new(EntityType::OSD, "0"));
    cfg.gid = 0;
    cfg.addrs = EntityAddrvec::single(v2(addr, 77));
    cfg.policies = Policies::uniform(Policy::stateful_server(Features::EMPTY));
    cfg.shared = SharedState::new(3, 5000);
    cfg
}

/// A client with a lossless policy.
pub(super) fn lossless_client() -> Config {
    let mut cfg = client_config();
    cfg.policies = Policies::uniform(Policy::lossless_client(Features::EMPTY));
    cfg
}

/// A message of type MPing (2) whose front is `tag`.
pub(super) fn msg(tag: &[u8]) -> RawMessage {
    RawMessage::new(MsgHeader2::new(2, 1, 0), Bytes::copy_from_slice(tag))
}

/// The events of `conn` matching `f`.
pub(super) fn count(net: &Net, conn: usize, f: impl Fn(&Event) -> bool) -> usize {
    net.conns[conn].events.iter().filter(|e| f(e)).count()
}

/// [`Net::pair`]: a server (node 0) and a client (node 1) connected to it.
pub(super) fn mon_pair(
    server: Config,
    client: Config,
    peer_type: EntityType,
) -> (Net, usize, usize) {
    Net::pair(server, client, peer_type)
}
