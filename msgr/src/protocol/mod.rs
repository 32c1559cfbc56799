//! ProtocolV2, the msgr2 connection protocol (msgr2.md §3, §4), as a sans-IO state machine in
//! the manner of quinn-proto: bytes and `now` go in; bytes to write, transport orders, events
//! and the next timeout come out. Nothing here touches a socket, an fd, the event loop or the
//! clock.
//!
//! # Driving a [`Protocol`]
//!
//! * Make one per transport you dial ([`Protocol::new_client`]) or accept
//!   ([`Protocol::new_server`]). A lossless connector survives its transports: it asks for
//!   new ones itself ([`Transmit::Connect`]).
//! * Feed received bytes to [`Protocol::handle_input`], in any split; report a closed or
//!   failed transport with [`Protocol::handle_transport_closed`].
//! * After every call, drain [`Protocol::poll_transmit`] (write the bytes in order, or close /
//!   dial as told), then [`Protocol::poll_event`], then arm a timer for
//!   [`Protocol::poll_timeout`] and call [`Protocol::handle_timeout`] when it fires.
//! * Send with [`Protocol::send_message`] and [`Protocol::send_keepalive`]; stop with
//!   [`Protocol::close`].
//! * An acceptor may need two answers from its messenger: [`Event::AuthRequest`] (with
//!   [`AuthDecision::Application`]) and [`Event::SessionLookup`] (§4.9, §4.10: find the
//!   existing connection to the same peer, [`Protocol::judge`] it, and pass the [`Verdict`]
//!   to [`Protocol::resolve_lookup`]).
//!
//! ```
//! use std::time::Instant;
//! use msgr::protocol::{Config, Event, Policies, Policy, Protocol};
//! use msgr::wire::{EntityAddrvec, EntityType, Features};
//!
//! let now = Instant::now();
//! let mut mon = Config::new("mon.a".parse().unwrap());
//! mon.gid = 0;
//! mon.addrs = EntityAddrvec::single("v2:127.0.0.1:3300/0".parse().unwrap());
//! mon.policies = Policies::uniform(Policy::stateless_server(Features::EMPTY));
//! let mut cli = Config::new("client.admin".parse().unwrap());
//! cli.policies = Policies::uniform(Policy::librados());
//!
//! let mut client = Protocol::new_client(cli, EntityType::MON, &mon.addrs, now).unwrap();
//! let mut server = Protocol::new_server(mon, "127.0.0.1:40000".parse().unwrap(), now);
//! for _ in 0..4 {
//!     while let Some(t) = client.poll_transmit() {
//!         server.handle_input(&t.to_vec(), now);
//!     }
//!     while let Some(t) = server.poll_transmit() {
//!         client.handle_input(&t.to_vec(), now);
//!     }
//! }
//! assert!(matches!(client.poll_event(), Some(Event::Connected { .. })));
//! assert!(client.is_ready() && server.is_ready());
//! ```
//!
//! # Layout
//!
//! | file | contents | spec |
//! |---|---|---|
//! | `control` | control-frame payloads | §3.3 |
//! | `auth` | auth none: the two payload forms, the server's checks | §3.4 |
//! | `config` | [`Config`], [`Policy`], timers, [`SharedState`] | §4.1, §4.12 |
//! | `conn` | [`Protocol`]: public calls, input, transmit queue | §4 |
//! | `client`, `server` | the connector's and acceptor's handshakes | §4.3, §4.4 |
//! | `judge` | decisions about a newcomer from the same peer | §4.9, §4.10 |
//! | `ready`, `session` | READY: seqs, acks, keepalive; the session and its replay | §4.7 |
//! | `fault` | faults, reconnect, backoff, standby, timers | §4.8, §4.12 |
//!
//! Tests run on an in-memory harness (`pair.rs`) with a simulated clock and an interceptor
//! that drops, faults or stalls frames by tag and direction, and against every stream captured
//! from Ceph 16.2.15.
//!
//! # Not implemented
//!
//! cephx and its multi-round auth, AUTH_SIGNATURE with a session key (§3.5: auth none signs
//! with zeros), secure mode (§2.7) and compression (§2.8). An acceptor does not learn its own
//! address from HELLO (§3.3.1). Throttling is left to the caller. Rev0 framing (§2.6) is used
//! in both directions with a peer that lacks REVISION_1.

#![forbid(unsafe_code)]

pub mod auth;
mod client;
mod config;
mod conn;
pub mod control;
mod error;
mod event;
mod fault;
mod judge;
mod ready;
mod server;
mod session;

pub use config::{AuthDecision, Config, Policies, Policy, SharedState, Timeouts};
pub use conn::{NoMsgr2Addr, Protocol};
pub use error::FaultReason;
pub use event::{
    AuthRequestInfo, Event, LookupRequest, PeerInfo, SessionHandoff, SessionLookup, Transmit,
    Verdict,
};
pub use judge::addr_cmp;

#[cfg(test)]
mod pair;
#[cfg(test)]
mod tests;
