//! Drives one [`Protocol`] against a byte stream, as a messenger would: feed input in chunks,
//! move a simulated clock, fire timers, drain transmits and events after every step, answer
//! [`Event::AuthRequest`] and [`Event::SessionLookup`].
//!
//! Input layout ([`layout`](crate::layout) with 2 option bytes):
//!
//! ```text
//! options[0]  bit 0    profile: 0 = the captured mon (v2:127.0.0.1:13300/0),
//!                               1 = the captured mgr (v2:127.0.0.1:13310/8720)
//!             bit 1    do NOT fix CRCs up (default: fix_stream on the whole stream)
//!             bits 2-3 policy (server: stateless, stateless-registered, stateful,
//!                      lossless-peer; client: librados, lossless-client, lossy-client,
//!                      lossless-peer)
//!             bit 4    server: AuthDecision::Application (answer AuthRequest events)
//!             bits 5-7 answer: 0 and 7 NoSession (7 also rejects auth), 1 Wait, 2 Retry,
//!                      3 RetryGlobal, 4 Reset{full: false}, 5 Reset{full: true}, 6 Stale
//! options[1]  bit 0    keepalive_interval 10 s
//!             bit 1    no ready timeout
//!             bit 2    no idle timeout
//!             bit 3    server: an existing connection to the same client (a lossless
//!                      session recorded by `record::existing`) judges the lookups
//! schedule    one op per byte: all of them once, then again cyclically while the stream
//!             lasts (feeding nothing once it is consumed):
//!             0b00xxxxxx feed x+1 bytes          0b01xxxxxx feed (x+1)*64 bytes
//!             0b10t.xxxx advance the clock by DURATIONS[xxxx] (t set: to the next timer
//!                        instead), then handle_timeout
//!             0b11xxxxxx an API call: x % 6 = send a message, send a keepalive,
//!                        transport closed, close, fire the next timer, send a message with data
//! ```
//!
//! After the schedule, the rest of the stream is fed at once; then up to 4 timers fire, the
//! transport is closed, and up to 4 more timers fire.
//!
//! Besides "never panics", the driver checks what the protocol writes: the banner is 26
//! bytes, every frame decodes back to one frame of its tag, and every MESSAGE frame is a
//! valid [`RawMessage`].

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use msgr::frames::{BANNER_LEN, FrameDecoder, FrameLimits, Revision, Tag};
use msgr::messages::{MsgHeader2, RawMessage};
use msgr::protocol::auth::AuthRefusal;
use msgr::protocol::{
    AuthDecision, Config, Event, Policies, Policy, Protocol, SharedState, Transmit, Verdict,
};
use msgr::wire::{EntityAddr, EntityAddrvec, EntityName, EntityType, Features};

use crate::{fixup, layout, record};

/// Which side the [`Protocol`] under test plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An acceptor fed what a client writes (`*.c2s.bin`).
    Server,
    /// A connector fed what a server writes (`*.s2c.bin`).
    Client,
}

/// Option bytes in front of the schedule.
pub const OPTION_BYTES: usize = 2;

/// `options[0]` bit: use the mgr profile instead of the mon.
pub const OPT_MGR: u8 = 1 << 0;
/// `options[0]` bit: feed the stream as is, without fixing its CRCs.
pub const OPT_NO_FIXUP: u8 = 1 << 1;
/// `options[0]` bit: the server answers auth requests itself (AuthDecision::Application).
pub const OPT_APP_AUTH: u8 = 1 << 4;
/// `options[1]` bit, server role: there is an existing connection to the same client
/// ([`record::existing`]); lookups are answered with its [`Protocol::judge`].
pub const OPT1_EXISTING: u8 = 1 << 3;

/// The socket address an acceptor sees its peer at.
pub fn peer_socket() -> SocketAddr {
    "127.0.0.1:51520".parse().unwrap()
}

/// A new protocol in `role` with `cfg`: an acceptor of a transport from [`peer_socket`], or a
/// connector dialling `addr`, a peer of type `peer_type`.
pub fn new_protocol(
    role: Role,
    cfg: Config,
    peer_type: EntityType,
    addr: EntityAddr,
    now: Instant,
) -> Protocol {
    match role {
        Role::Server => Protocol::new_server(cfg, peer_socket(), now),
        Role::Client => Protocol::new_client(cfg, peer_type, &EntityAddrvec::single(addr), now)
            .expect("a v2 address"),
    }
}

/// Clock steps for schedule ops `0b10......`.
pub const DURATIONS: [Duration; 16] = [
    Duration::from_millis(1),
    Duration::from_millis(5),
    Duration::from_millis(50),
    Duration::from_millis(199),
    Duration::from_millis(200),
    Duration::from_secs(1),
    Duration::from_secs(3),
    Duration::from_millis(9_999),
    Duration::from_secs(10),
    Duration::from_secs(15),
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(300),
    Duration::from_secs(899),
    Duration::from_secs(900),
    Duration::from_secs(3600),
];

/// The captured mon's address (`shared/ceph/vectors`).
pub fn mon_addr() -> EntityAddr {
    EntityAddr::msgr2("127.0.0.1:13300".parse().unwrap(), 0)
}

/// The captured mgr's address.
pub fn mgr_addr() -> EntityAddr {
    EntityAddr::msgr2("127.0.0.1:13310".parse().unwrap(), 8720)
}

/// What a run reached; for the seed generator's sanity checks.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// A Connected event was seen.
    pub connected: bool,
    /// Connected events with `resumed` set.
    pub resumed: usize,
    /// Message events seen.
    pub messages: usize,
    /// Frames the protocol wrote.
    pub frames_out: usize,
    /// Faulted and Reset events seen.
    pub faults: Vec<String>,
    /// The state once the stream was fed, before the final timers.
    pub state_after_input: &'static str,
}

fn policy(role: Role, bits: u8) -> Policy {
    match (role, bits & 3) {
        (Role::Server, 0) => Policy::stateless_server(Features::EMPTY),
        (Role::Server, 1) => Policy::stateless_registered_server(Features::EMPTY),
        (Role::Server, 2) => Policy::stateful_server(Features::EMPTY),
        (Role::Client, 0) => Policy::librados(),
        (Role::Client, 1) => Policy::lossless_client(Features::EMPTY),
        (Role::Client, 2) => Policy::lossy_client(Features::EMPTY),
        (_, _) => Policy::lossless_peer(Features::EMPTY),
    }
}

/// The configuration `options` select for `role`, the peer type and the address dialled (a
/// client) or bound (a server).
pub fn config(role: Role, options: [u8; OPTION_BYTES]) -> (Config, EntityType, EntityAddr) {
    let mgr = options[0] & OPT_MGR != 0;
    let (peer_type, addr) = if mgr {
        (EntityType::MGR, mgr_addr())
    } else {
        (EntityType::MON, mon_addr())
    };
    let mut cfg = match role {
        Role::Server => {
            let mut cfg = Config::new(EntityName::new(peer_type, if mgr { "x" } else { "a" }));
            cfg.gid = if mgr { 4228 } else { 0 };
            cfg.addrs = EntityAddrvec::single(addr);
            cfg
        }
        Role::Client => {
            let mut cfg = Config::new(EntityName::new(EntityType::CLIENT, "admin"));
            cfg.gid = if mgr { 4396 } else { -1 };
            cfg.nonce = 0x5e69_6433;
            cfg
        }
    };
    cfg.policies = Policies::uniform(policy(role, options[0] >> 2));
    if options[0] & OPT_APP_AUTH != 0 {
        cfg.auth = AuthDecision::Application;
    }
    cfg.shared = SharedState::new(7, 4096);
    if options[1] & 1 != 0 {
        cfg.timeouts.keepalive_interval = Some(Duration::from_secs(10));
    }
    if options[1] & 2 != 0 {
        cfg.timeouts.ready = None;
    }
    if options[1] & 4 != 0 {
        cfg.timeouts.idle = None;
    }
    (cfg, peer_type, addr)
}

fn verdict(options: [u8; OPTION_BYTES]) -> Verdict {
    match options[0] >> 5 {
        1 => Verdict::Wait,
        2 => Verdict::Retry(3),
        3 => Verdict::RetryGlobal(1000),
        4 => Verdict::Reset { full: false },
        5 => Verdict::Reset { full: true },
        6 => Verdict::Stale,
        _ => Verdict::NoSession,
    }
}

struct Driver {
    proto: Protocol,
    now: Instant,
    options: [u8; OPTION_BYTES],
    /// The existing connection lookups are judged against ([`OPT1_EXISTING`]).
    existing: Option<Protocol>,
    report: Report,
}

impl Driver {
    /// Drains transmits and events until both are empty, answering what needs an answer.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.proto.poll_transmit() {
                progressed = true;
                check_transmit(&t);
                if matches!(t, Transmit::Frame { .. }) {
                    self.report.frames_out += 1;
                }
            }
            while let Some(e) = self.proto.poll_event() {
                progressed = true;
                self.on_event(e);
            }
            if !progressed {
                return;
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::AuthRequest(info) => {
                if self.options[0] >> 5 == 7 {
                    self.proto.reject_auth(AuthRefusal::Denied, self.now);
                } else {
                    let id = match info.payload.global_id() {
                        0 => 4242,
                        id => id,
                    };
                    self.proto.accept_auth(id, self.now);
                }
            }
            Event::SessionLookup(lookup) => {
                let v = match &mut self.existing {
                    Some(existing) => {
                        let v = existing.judge(&lookup, self.now);
                        while existing.poll_transmit().is_some() {}
                        while existing.poll_event().is_some() {}
                        v
                    }
                    None => verdict(self.options),
                };
                self.proto.resolve_lookup(v, self.now);
            }
            Event::Connected { resumed, .. } => {
                self.report.connected = true;
                self.report.resumed += usize::from(resumed);
            }
            Event::Message(_) => self.report.messages += 1,
            Event::Faulted(r) | Event::Reset(r) => self.report.faults.push(r.to_string()),
            Event::KeepaliveAck(_) | Event::RemoteReset | Event::Replaced => {}
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        self.proto.handle_input(chunk, self.now);
        self.drain();
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.proto.handle_timeout(self.now);
        self.drain();
    }

    /// Jumps to the next timer, if one is armed, and fires it.
    fn next_timer(&mut self) -> bool {
        match self.proto.poll_timeout() {
            Some(at) => {
                self.now = self.now.max(at);
                self.proto.handle_timeout(self.now);
                self.drain();
                true
            }
            None => false,
        }
    }

    fn api(&mut self, op: u8, counter: &mut u64) {
        match op % 6 {
            0 | 5 => {
                *counter += 1;
                let mut header = MsgHeader2::new(msgr::messages::CEPH_MSG_PING, 1, 0);
                header.tid = *counter;
                let mut msg = RawMessage::new(header, Bytes::from(counter.to_le_bytes().to_vec()));
                if op % 6 == 5 {
                    msg.data = Bytes::from(vec![0xda; 100]);
                }
                self.proto.send_message(msg, self.now);
            }
            1 => self.proto.send_keepalive(self.now),
            2 => self.proto.handle_transport_closed(self.now),
            3 => self.proto.close(),
            _ => {
                self.next_timer();
            }
        }
        self.drain();
    }
}

/// Decodes what the protocol writes: a 26-byte banner, or exactly one frame of the announced
/// tag (in one of the two revisions), a MESSAGE frame holding a valid message.
fn check_transmit(t: &Transmit) {
    match t {
        Transmit::Banner(b) => assert_eq!(b.len(), BANNER_LEN, "our banner"),
        Transmit::Frame { tag, wire } => {
            let bytes = wire.to_vec();
            let decoded = [Revision::Rev1, Revision::Rev0]
                .into_iter()
                .find_map(|rev| {
                    let mut dec = FrameDecoder::new(rev, FrameLimits::unlimited());
                    let d = dec.decode(&bytes).ok()?;
                    (d.consumed == bytes.len()).then_some(d.frame).flatten()
                });
            let frame = decoded.unwrap_or_else(|| panic!("our {tag} frame does not decode"));
            assert_eq!(frame.tag(), *tag, "our frame's tag");
            if *tag == Tag::Message {
                RawMessage::from_frame(&frame).expect("our MESSAGE frame holds a message");
            }
        }
        Transmit::Close | Transmit::Connect(_) => {}
    }
}

/// Runs `data` (the layout in the module docs) against a fresh protocol in `role`.
pub fn run(role: Role, data: &[u8]) -> Report {
    let input = layout::split::<OPTION_BYTES>(data);
    let options = input.options;
    let mut stream = input.stream.to_vec();
    if options[0] & OPT_NO_FIXUP == 0 {
        fixup::fix_stream(&mut stream);
    }
    let now = Instant::now();
    let (cfg, peer_type, addr) = config(role, options);
    let existing = (role == Role::Server && options[1] & OPT1_EXISTING != 0)
        .then(|| record::existing(&cfg, options[0] & OPT_MGR != 0, now));
    let proto = new_protocol(role, cfg, peer_type, addr, now);
    let mut d = Driver {
        proto,
        now,
        options,
        existing,
        report: Report::default(),
    };
    d.drain();

    let mut rest = &stream[..];
    let mut counter = 0;
    let ops = input.schedule;
    let mut budget = stream.len() + 4 * ops.len();
    for (i, &op) in ops.iter().cycle().enumerate() {
        // The whole schedule runs at least once, so that steps after the last byte (a
        // message to send, a timer) happen too; it repeats while input is left.
        if (rest.is_empty() && i >= ops.len()) || budget == 0 {
            break;
        }
        budget -= 1;
        let x = op & 0x3f;
        match op >> 6 {
            0 | 1 if rest.is_empty() => {}
            0 | 1 => {
                let n = usize::from(x) + 1;
                let n = if op >> 6 == 1 { n * 64 } else { n };
                let (chunk, tail) = rest.split_at(n.min(rest.len()));
                rest = tail;
                d.feed(chunk);
            }
            2 => {
                if x & 0x20 != 0 {
                    d.next_timer();
                } else {
                    d.advance(DURATIONS[usize::from(x & 15)]);
                }
            }
            _ => d.api(x, &mut counter),
        }
    }
    if !rest.is_empty() {
        d.feed(rest);
    }
    d.report.state_after_input = d.proto.state_name();
    for _ in 0..4 {
        if !d.next_timer() {
            break;
        }
    }
    d.proto.handle_transport_closed(d.now);
    d.drain();
    for _ in 0..4 {
        if !d.next_timer() {
            break;
        }
    }
    d.report
}
