//! Robustness of the Messenger against bad peers, slow dispatchers and idle links, on both
//! drivers.
//!
//! * Bad input (§1.3, §2.2, §2.3, §2.5, §2.10, §4.4): raw TCP peers send garbage, wrong banners,
//!   oversized or malformed preambles, bad CRCs, frames out of order, stop mid-frame or stay
//!   silent. Each time the server drops that connection (the peer sees EOF or a reset), logs
//!   why, dispatches nothing from it, allocates nothing the peer merely announced, and keeps
//!   serving: a client connected before and one connected after still get their echoes.
//! * Dispatch throttle: a blocked dispatcher stops the server from reading; its queue stays
//!   bounded while the sender backs up, and while more peers connect; once unblocked, every
//!   message arrives once, in order.
//! * Keepalive and idle timeout (§4.7, §4.12): keepalives count as traffic, so a connection
//!   that sends them outlives the server's idle timeout; one that does not is closed by it.
//!
//! Every wait is on a condition with a deadline; no test sleeps to synchronise.

#[macro_use]
mod common;
mod robust;

use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use msgr::DriverKind;
use msgr::frames::{Banner, Revision, Tag, assemble};
use msgr::messenger::{Connection, Dispatcher, Incoming, Messenger};
use msgr::protocol::control::{ControlPayload, Hello, ServerIdent};
use msgr::protocol::{Policy, Transmit};
use msgr::wire::{EntityAddr, EntityName, EntityType, Features};

use robust::{
    Client, DEADLINE, Ended, RawPeer, RawSession, Server, SrvEvent, alloc_reset, alloc_stats,
    capture_logs, config, connection_ends, expect_log, number_of, numbered, numbered_with,
    preamble, raw_preamble, recv, rss_bytes, salt, server_ends, wait_until,
};

#[global_allocator]
static ALLOC: robust::CountingAlloc = robust::CountingAlloc;

driver_tests! {
    random_bytes_instead_of_a_banner,
    wrong_banners,
    oversized_segments_are_refused_before_any_allocation: exclusive,
    malformed_preambles,
    bad_segment_crcs,
    frames_out_of_order,
    peers_closing_mid_frame,
    silent_peers_are_closed_by_the_ready_timeout,
    dispatch_throttle_bounds_the_queue_and_loses_nothing,
    dispatch_throttle_holds_back_new_connections,
    keepalives_keep_an_idle_connection_up,
    idle_timeout_closes_an_idle_lossy_connection,
}

/// A server (a mon, `stateless_server`) with a client that completed an echo before any
/// abuse. The ready timeout is long (60 s) unless a test sets it, so that a connection
/// dropped within [`DEADLINE`] was dropped for what its peer sent, not by the timer.
struct Bench {
    kind: DriverKind,
    server: Server,
    before: Client,
}

impl Bench {
    fn new(kind: DriverKind) -> Bench {
        Self::with_ready_timeout(kind, Duration::from_secs(60))
    }

    fn with_ready_timeout(kind: DriverKind, ready: Duration) -> Bench {
        capture_logs();
        let server = Server::start(kind, EntityType::MON, |c| c.timeouts.ready = Some(ready));
        let before = Client::connect(kind, &server, |_| {});
        before.echo(1, "client connected before the abuse");
        Bench {
            kind,
            server,
            before,
        }
    }

    /// A raw peer that has sent a correct banner.
    fn after_banner(&self) -> RawPeer {
        let mut peer = RawPeer::connect(self.server.sock);
        peer.send(&Banner::pacific().encode()).expect("banner");
        peer
    }

    /// A raw peer that has sent a correct banner and a correct HELLO.
    fn after_hello(&self) -> RawPeer {
        let mut peer = self.after_banner();
        peer.send(&hello(self.server.sock).to_vec()).expect("HELLO");
        peer
    }

    /// Expects `peer` dropped within [`DEADLINE`] and a log line containing `reason`.
    fn dropped(&self, mut peer: RawPeer, what: &str, reason: &str) -> Ended {
        let what = format!("{}: {what}", self.kind);
        let ended = peer.expect_dropped(&what);
        expect_log(&what, reason);
        ended
    }

    /// The server still serves: the client from before the abuse gets an echo on its
    /// connection, and a client connecting now does too. Then everything stops.
    fn still_serves(self) -> Server {
        let kind = self.kind;
        self.before
            .echo(2, &format!("{kind}: client connected before the abuse"));
        assert!(self.before.conn.is_connected());
        let after = Client::connect(kind, &self.server, |_| {});
        after.echo(3, &format!("{kind}: client connected after the abuse"));
        after.shutdown();
        self.before.shutdown();
        self.server.msgr.shutdown().expect("server shutdown");
        self.server
    }
}

/// A well-formed HELLO from a client, as rev1 bytes.
fn hello(server: std::net::SocketAddr) -> msgr::frames::WireFrame {
    let frame = Hello {
        entity_type: EntityType::CLIENT,
        peer_addr: EntityAddr::msgr2(server, 0),
    }
    .to_frame();
    assemble(&frame, Revision::Rev1)
}

/// Numbered message `n` as a rev1 MESSAGE frame, with seq `seq`.
fn message_frame(n: u64, seq: u64) -> Vec<u8> {
    let mut msg = numbered(n);
    msg.header.seq = seq;
    assemble(&msg.to_frame().expect("frame"), Revision::Rev1).to_vec()
}

/// Tiny deterministic generator for the garbage test (xorshift64*).
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

// ---- 1. bad input ----

/// Random bytes instead of a banner: the server refuses the prefix (§1.3 rule 1).
fn random_bytes_instead_of_a_banner(kind: DriverKind) {
    let bench = Bench::new(kind);
    let bytes = garbage(0x5eed + u64::from(salt(kind)), 64 * 1024);
    assert_ne!(&bytes[..8], b"ceph v2\n");
    let mut peer = RawPeer::connect(bench.server.sock);
    let _ = peer.send(&bytes); // the server may close before taking it all
    let prefix = format!("bad banner prefix {:02x?}", &bytes[..8]);
    bench.dropped(peer, "random bytes", &prefix);
    bench.still_serves();
}

/// Banners that are not msgr2, too short, or that require what we lack (§1.3).
fn wrong_banners(kind: DriverKind) {
    let bench = Bench::new(kind);
    let s = salt(kind);

    let mut peer = RawPeer::connect(bench.server.sock);
    let _ = peer.send(b"ceph v027\n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    bench.dropped(peer, "msgr v1 banner", "peer speaks msgr v1");

    let mut wrong_case = *b"CEPH V2\n";
    wrong_case[7] = b'0' + s as u8;
    let mut peer = RawPeer::connect(bench.server.sock);
    let _ = peer.send(&wrong_case);
    let _ = peer.send(&Banner::pacific().encode()[8..]);
    let reason = format!("bad banner prefix {:02x?}", &wrong_case);
    bench.dropped(peer, "wrong magic", &reason);

    // payload_len below the 16 bytes of the two feature fields.
    let short = 8 + s as u16;
    let mut banner = b"ceph v2\n".to_vec();
    banner.extend_from_slice(&short.to_le_bytes());
    banner.extend_from_slice(&vec![0u8; usize::from(short)]);
    let mut peer = RawPeer::connect(bench.server.sock);
    let _ = peer.send(&banner);
    let reason = format!("banner payload length {short} is below 16");
    bench.dropped(peer, "short banner payload", &reason);

    // A peer that requires a msgr2 feature we do not have (fatal, §1.3 rule 3).
    let required = 0x100u64 << s;
    let banner = Banner {
        supported: 0x1 | required,
        required,
    };
    let mut peer = RawPeer::connect(bench.server.sock);
    let _ = peer.send(&banner.encode());
    let reason = format!("peer requires msgr2 features {required:#x} we lack");
    bench.dropped(peer, "banner requiring unknown features", &reason);

    bench.still_serves();
}

/// Preambles announcing segments far beyond the limits (§2.5): the connection is dropped on
/// the preamble, before anything of the announced size is allocated or read, even while the
/// peer keeps streaming. Runs alone so that the process-wide memory figures are its own.
fn oversized_segments_are_refused_before_any_allocation(kind: DriverKind) {
    const STREAM: usize = 64 << 20;
    let bench = Bench::new(kind);
    let s = salt(kind);
    let live = alloc_reset();
    let rss_before = rss_bytes();

    // Segment 0 of a control frame: 1 GiB (limit 16 MiB), then 64 MiB of "payload".
    let len0 = (1u32 << 30) + s;
    let mut peer = bench.after_banner();
    peer.send(&preamble(Tag::Hello, &[(len0, 8)])).unwrap();
    let chunk = vec![0x5au8; 64 * 1024];
    let mut streamed = 0;
    while streamed < STREAM && peer.send(&chunk).is_ok() {
        streamed += chunk.len();
    }
    assert!(
        streamed < STREAM,
        "{kind}: the server took all {STREAM} bytes of a frame it should have refused"
    );
    let reason = format!("segment 0 length {len0} exceeds the limit");
    bench.dropped(peer, "1 GiB control segment", &reason);

    // A MESSAGE whose data segment is announced as nearly 4 GiB, before the handshake.
    let len3 = u32::MAX - s;
    let mut peer = bench.after_banner();
    let p = preamble(Tag::Message, &[(41, 8), (8, 8), (0, 8), (len3, 4096)]);
    peer.send(&p).unwrap();
    let _ = peer.send(&chunk);
    let reason = format!("segment 3 length {len3} exceeds the limit");
    bench.dropped(peer, "4 GiB data segment", &reason);

    // The same on a READY session: a MESSAGE announcing 1 GiB of data.
    let mut session = RawSession::handshake(&bench.server);
    session.send_message(numbered(901));
    bench.server.expect("the raw session's good message", |e| {
        matches!(e, SrvEvent::Msg { n: 901, .. }).then_some(())
    });
    let len3 = (1u32 << 30) + 16 + s;
    let mut peer = session.into_raw();
    peer.send(&preamble(
        Tag::Message,
        &[(41, 8), (8, 8), (0, 8), (len3, 4096)],
    ))
    .unwrap();
    let _ = peer.send(&chunk);
    let reason = format!("segment 3 length {len3} exceeds the limit");
    bench.dropped(peer, "1 GiB data segment while READY", &reason);

    let stats = alloc_stats(live);
    let rss_growth = rss_bytes().saturating_sub(rss_before);
    eprintln!("{kind}: oversized segments: {stats:?}, RSS growth {rss_growth} bytes");
    assert!(
        stats.largest < 16 << 20,
        "{kind}: a {} byte allocation was made while peers announced huge segments",
        stats.largest
    );
    assert!(
        stats.peak.saturating_sub(stats.live_at_reset) < 32 << 20,
        "{kind}: the heap grew by {} bytes",
        stats.peak - stats.live_at_reset
    );
    assert!(
        rss_growth < 256 << 20,
        "{kind}: RSS grew by {rss_growth} bytes after peers announced 1-4 GiB segments"
    );
    bench.still_serves();
}

/// Preambles that fail validation (§2.2): a bad CRC, an unknown tag, a bad segment count, an
/// empty last segment, an alignment that is not a power of two.
fn malformed_preambles(kind: DriverKind) {
    let bench = Bench::new(kind);
    let s = salt(kind);

    let mut bad_crc = preamble(Tag::Hello, &[(36, 8)]);
    let wire_crc = 0xbadc_0000 | s;
    bad_crc[28..].copy_from_slice(&wire_crc.to_le_bytes());
    let mut peer = bench.after_banner();
    peer.send(&bad_crc).unwrap();
    peer.send(&[0u8; 40]).unwrap();
    let reason = format!("bad preamble crc: on wire {wire_crc:#010x}");
    bench.dropped(peer, "bad preamble crc", &reason);

    let mut raw = [0u8; 28];
    raw[0] = 200 + s as u8; // no such tag (§3.1)
    raw[1] = 1;
    raw[2] = 4;
    raw[6] = 8;
    let mut peer = bench.after_banner();
    peer.send(&raw_preamble(raw)).unwrap();
    let reason = format!("unknown frame tag {}", 200 + s);
    bench.dropped(peer, "unknown tag", &reason);

    let mut raw = [0u8; 28];
    raw[0] = Tag::Hello.as_u8();
    raw[1] = 4 + s as u8; // 5 or 6 segments
    raw[2] = 4;
    let mut peer = bench.after_banner();
    peer.send(&raw_preamble(raw)).unwrap();
    let reason = format!("bad segment count {}", 4 + s);
    bench.dropped(peer, "too many segments", &reason);

    let mut peer = bench.after_banner();
    peer.send(&preamble(Tag::Message, &[(41, 8), (0, 8)]))
        .unwrap();
    bench.dropped(peer, "empty last segment", "last of 2 segments is empty");

    let alignment = 24 + 2 * s as u16;
    let mut peer = bench.after_banner();
    peer.send(&preamble(Tag::Hello, &[(36, alignment)]))
        .unwrap();
    let reason = format!("segment 0 has alignment {alignment}, not a power of two");
    bench.dropped(peer, "bad alignment", &reason);

    bench.still_serves();
}

/// Frames whose segments do not match their CRCs (§2.3): a HELLO's inline CRC during the
/// handshake, and a MESSAGE's epilogue CRC on a READY session. The bad message is never
/// dispatched; the good one before it is.
fn bad_segment_crcs(kind: DriverKind) {
    let bench = Bench::new(kind);
    let s = salt(kind);

    let mut frame = hello(bench.server.sock).to_vec();
    let wire_crc = 0xbad0_0000 | s;
    let at = frame.len() - 4;
    frame[at..].copy_from_slice(&wire_crc.to_le_bytes());
    let mut peer = bench.after_banner();
    peer.send(&frame).unwrap();
    let reason = format!("bad crc of segment 0: on wire {wire_crc:#010x}");
    bench.dropped(peer, "HELLO with a bad crc", &reason);

    let mut session = RawSession::handshake(&bench.server);
    session.send_message(numbered(901));
    session.proto.send_message(numbered(902), Instant::now());
    let Some(Transmit::Frame { tag, wire }) = session.proto.poll_transmit() else {
        panic!("{kind}: the raw session framed nothing")
    };
    assert_eq!(tag, Tag::Message);
    let mut frame = wire.to_vec();
    // Two segments (header, front): the 13-byte epilogue ends the frame; crc1 follows the
    // late_status byte.
    let wire_crc = 0xbad1_0000 | s;
    let at = frame.len() - 12;
    frame[at..at + 4].copy_from_slice(&wire_crc.to_le_bytes());
    let mut peer = session.into_raw();
    peer.send(&frame).unwrap();
    let reason = format!("bad crc of segment 1: on wire {wire_crc:#010x}");
    bench.dropped(peer, "MESSAGE with a bad epilogue crc", &reason);

    let server = bench.still_serves();
    let seen = server.numbers_seen();
    assert!(seen.contains(&901), "{kind}: the good message was lost");
    assert!(
        !seen.contains(&902),
        "{kind}: a message with a bad crc was dispatched"
    );
}

/// Frames the server must not accept where they arrive (§2.10 step 4, §4.4): a MESSAGE
/// before HELLO, a SERVER_IDENT sent to a server, a HELLO on a READY session.
fn frames_out_of_order(kind: DriverKind) {
    let bench = Bench::new(kind);

    let mut peer = bench.after_banner();
    peer.send(&message_frame(7, 1)).unwrap();
    bench.dropped(
        peer,
        "MESSAGE before HELLO",
        "unexpected MESSAGE in state HELLO_ACCEPTING",
    );

    let ident = ServerIdent {
        addrs: bench.server.addrs.clone(),
        gid: 0,
        global_seq: 1,
        supported_features: Features::EMPTY,
        required_features: Features::EMPTY,
        flags: 1,
        cookie: 0,
    };
    let mut peer = bench.after_hello();
    peer.send(&assemble(&ident.to_frame(), Revision::Rev1).to_vec())
        .unwrap();
    bench.dropped(
        peer,
        "SERVER_IDENT sent to a server",
        "unexpected SERVER_IDENT in state AUTH_ACCEPTING",
    );

    let mut peer = bench.after_hello();
    peer.send(&message_frame(8, 1)).unwrap();
    bench.dropped(
        peer,
        "MESSAGE before auth",
        "unexpected MESSAGE in state AUTH_ACCEPTING",
    );

    let session = RawSession::handshake(&bench.server);
    let mut peer = session.into_raw();
    peer.send(&hello(bench.server.sock).to_vec()).unwrap();
    bench.dropped(
        peer,
        "HELLO on a READY session",
        "unexpected HELLO in state READY",
    );

    let server = bench.still_serves();
    let seen = server.numbers_seen();
    assert!(
        !seen.contains(&7) && !seen.contains(&8),
        "{kind}: a message sent out of order was dispatched: {seen:?}"
    );
}

/// Peers that stop in the middle of a frame and close their side: the server sees the end of
/// the stream and closes too; the partial message is not dispatched.
fn peers_closing_mid_frame(kind: DriverKind) {
    let bench = Bench::new(kind);

    let mut peer = bench.after_banner();
    peer.send(&hello(bench.server.sock).to_vec()[..20]).unwrap();
    peer.shutdown_write();
    let ended = bench.dropped(peer, "half a HELLO, then FIN", "transport closed or failed");
    assert_eq!(ended, Ended::Eof, "{kind}: expected a clean close");

    let mut session = RawSession::handshake(&bench.server);
    session.send_message(numbered(901));
    session.proto.send_message(numbered(902), Instant::now());
    let Some(Transmit::Frame { wire, .. }) = session.proto.poll_transmit() else {
        panic!("{kind}: the raw session framed nothing")
    };
    let frame = wire.to_vec();
    let mut peer = session.into_raw();
    peer.send(&frame[..frame.len() - 5]).unwrap();
    peer.shutdown_write();
    bench.dropped(
        peer,
        "most of a MESSAGE, then FIN",
        "transport closed or failed",
    );

    let server = bench.still_serves();
    let seen = server.numbers_seen();
    assert!(seen.contains(&901), "{kind}: the complete message was lost");
    assert!(
        !seen.contains(&902),
        "{kind}: a partial message was dispatched"
    );
}

/// Peers that connect and then say nothing, or stop mid-banner or mid-frame and stay open:
/// the ready timeout closes them (§4.12), not earlier, and the READY client is not affected.
fn silent_peers_are_closed_by_the_ready_timeout(kind: DriverKind) {
    let ready = Duration::from_millis(300 + 10 * u64::from(salt(kind)));
    let bench = Bench::with_ready_timeout(kind, ready);

    let opened = Instant::now();
    let silent = RawPeer::connect(bench.server.sock);
    let mut half_banner = RawPeer::connect(bench.server.sock);
    half_banner.send(&Banner::pacific().encode()[..13]).unwrap();
    let mut half_frame = bench.after_banner();
    half_frame
        .send(&hello(bench.server.sock).to_vec()[..40])
        .unwrap();

    let reason = format!("handshake did not complete within {ready:?}");
    for (peer, what) in [
        (silent, "silent after connecting"),
        (half_banner, "silent mid-banner"),
        (half_frame, "silent mid-frame"),
    ] {
        bench.dropped(peer, what, &reason);
        assert!(
            opened.elapsed() >= ready,
            "{kind}: {what}: closed after {:?}, before the ready timeout of {ready:?}",
            opened.elapsed()
        );
    }
    bench.still_serves();
}

// ---- 2. dispatch throttle ----

/// A dispatcher that blocks on the first message until the test opens the gate.
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
    entered: Mutex<Sender<()>>,
    got: Mutex<Sender<u64>>,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl Dispatcher for Gate {
    fn ms_dispatch(&self, _conn: &Connection, msg: Incoming) -> Option<Incoming> {
        let n = number_of(&msg)?;
        let open = self.open.lock().unwrap();
        if !*open {
            let _ = self.entered.lock().unwrap().send(());
            // Bounded, so that a failed test does not leave the dispatch thread stuck.
            let _ = self
                .opened
                .wait_timeout_while(open, 3 * DEADLINE, |open| !*open)
                .unwrap();
        }
        let _ = self.got.lock().unwrap().send(n);
        None
    }
}

/// The dispatch throttle under test: 64 KiB.
const LIMIT: usize = 64 << 10;
/// Provided buffers in each io_uring worker's ring (see
/// [`dispatch_throttle_bounds_the_queue_and_loses_nothing`]).
const RING: u16 = 64;

/// A server whose dispatcher is a closed [`Gate`], with a 64 KiB dispatch throttle.
struct Gated {
    kind: DriverKind,
    msgr: Messenger,
    sock: std::net::SocketAddr,
    gate: Arc<Gate>,
    entered: std::sync::mpsc::Receiver<()>,
    got: std::sync::mpsc::Receiver<u64>,
    /// Bytes one read can hand over after the connection was paused.
    batch: usize,
}

impl Gated {
    fn start(kind: DriverKind) -> Gated {
        let cfg = config(kind, |c| {
            c.dispatch_throttle_bytes = LIMIT;
            c.stack.driver.recv_buf_count = RING;
        });
        let read_size = cfg.stack.driver.recv_buf_size as usize;
        let batch = match kind {
            DriverKind::Epoll => read_size,
            DriverKind::IoUring => usize::from(RING) * read_size,
        };
        let msgr = Messenger::new(EntityName::new(EntityType::OSD, "0"), 2000, cfg);
        msgr.set_default_policy(Policy::stateless_server(Features::EMPTY));
        msgr.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let (entered_tx, entered) = channel();
        let (got_tx, got) = channel();
        let gate = Arc::new(Gate {
            open: Mutex::new(false),
            opened: Condvar::new(),
            entered: Mutex::new(entered_tx),
            got: Mutex::new(got_tx),
        });
        msgr.add_dispatcher_tail(gate.clone());
        msgr.start().unwrap();
        let sock = msgr.my_addrs().msgr2_addr().unwrap().sockaddr.unwrap();
        Gated {
            kind,
            msgr,
            sock,
            gate,
            entered,
            got,
            batch,
        }
    }

    /// A client messenger connected to this server.
    fn client(&self, nonce: u32) -> (Messenger, Connection) {
        let client = Messenger::new(
            EntityName::new(EntityType::CLIENT, "admin"),
            nonce,
            config(self.kind, |_| {}),
        );
        client.set_default_policy(Policy::librados());
        client.start().unwrap();
        let conn = client
            .connect_to(EntityType::OSD, &self.msgr.my_addrs())
            .unwrap();
        (client, conn)
    }

    /// Polls until the server has stopped reading from `conns` connections: each of its ends
    /// holds unread bytes and nothing moves (queue, socket queues) for 50 polls; asserts on
    /// every poll that at most `bound` bytes are queued for dispatch. The queue never shrinks
    /// while the dispatcher is blocked, so this covers its whole history.
    fn wait_stalled(&self, what: &str, conns: usize, bound: usize) -> Vec<robust::TcpEntry> {
        let kind = self.kind;
        let mut last = None;
        let mut still = 0;
        let mut ends = Vec::new();
        wait_until("the server to stop reading", || {
            let q = self.msgr.dispatch_queue_bytes();
            assert!(
                q <= bound,
                "{kind}: {what}: {q} bytes queued for a blocked dispatcher \
                 (limit {LIMIT}, bound {bound})"
            );
            ends = server_ends(self.sock);
            let snapshot: Vec<(u64, u64)> = ends.iter().map(|e| (e.rx_queue, e.tx_queue)).collect();
            let now = (q, snapshot);
            if ends.len() == conns
                && ends.iter().all(|e| e.rx_queue > 0)
                && last.as_ref() == Some(&now)
            {
                still += 1;
            } else {
                still = 0;
            }
            last = Some(now);
            still >= 50
        });
        ends
    }
}

/// With the dispatcher blocked and a 64 KiB throttle, the server stops reading: its dispatch
/// queue stays under the limit plus one read batch while 64 MiB wait on the sender's side,
/// backed up into both kernel socket buffers. Once the dispatcher runs again, every message
/// arrives exactly once and in order.
///
/// "One read batch" differs by driver. epoll checks the pause before every read, so at most
/// one 16 KiB read follows the message that crossed the limit. io_uring delivers every
/// completion already reaped, and completions keep coming until the cancel of the multishot
/// receive takes effect: up to the whole provided-buffer ring. The ring is cut to 64 buffers
/// (1 MiB) here so that this bound stays under 2 MiB; with the default 512 it is 8 MiB.
fn dispatch_throttle_bounds_the_queue_and_loses_nothing(kind: DriverKind) {
    const DATA: usize = 16 << 10;
    const N: u64 = 4096; // 64 MiB: more than both kernel socket buffers can hold
    let per_msg = DATA + 8; // data and front, as the throttle counts them

    let server = Gated::start(kind);
    let bound = LIMIT + per_msg + server.batch;
    assert!(bound < 2 << 20);
    let (client, conn) = server.client(2001);
    let payload = Bytes::from(vec![0xabu8; DATA]);
    for n in 1..=N {
        conn.send_message(numbered_with(n, payload.clone()));
    }
    recv(
        &server.entered,
        "the dispatcher to block on the first message",
    );

    let ends = server.wait_stalled("one fast sender", 1, bound);
    let (srv, cli) = connection_ends(server.sock).expect("both ends of the connection");
    assert_eq!(srv.local, ends[0].local);
    let queued = server.msgr.dispatch_queue_bytes();
    let read = queued / per_msg + 1; // the queue, and the one the dispatcher holds
    eprintln!(
        "{kind}: throttle: {queued} bytes queued ({read} of {N} messages read); \
         server socket holds {} unread bytes, client socket {} unsent",
        srv.rx_queue, cli.tx_queue
    );
    assert!(
        queued > LIMIT,
        "{kind}: the server stopped reading at {queued} bytes, before its {LIMIT} byte limit"
    );
    assert!(read < N as usize, "{kind}: the server read everything");
    assert!(cli.tx_queue > 0, "{kind}: the sender has no backlog");

    server.gate.open();
    for want in 1..=N {
        let n = recv(
            &server.got,
            &format!("{kind}: message {want} after unblocking"),
        );
        assert_eq!(n, want, "{kind}: message {n} arrived where {want} was due");
    }
    // Exactly once: the next message to arrive is a new one, not a repeat.
    conn.send_message(numbered(N + 1));
    assert_eq!(recv(&server.got, "the message after the stream"), N + 1);
    wait_until("the dispatch queue to drain", || {
        server.msgr.dispatch_queue_bytes() == 0
    });
    client.shutdown().unwrap();
    server.msgr.shutdown().unwrap();
}

/// Once the throttle is full, peers that connect afterwards must not add to the queue either:
/// with the dispatcher blocked and one connection already paused over the 64 KiB limit, four
/// more clients each send one 2 MiB message. (Fails today: each new connection reads and
/// queues its message, because the throttle is only consulted after a message was read, and
/// only pauses the connection that read it; see `deliver` in messenger/connection.rs.) Ceph reserves a message's size in the dispatch
/// throttle after reading its preamble and before reading its segments
/// (`ProtocolV2::throttle_dispatch_queue`), so none of them is read while the queue is over
/// its limit; the queue stays under the limit plus one such message. Then every message is
/// delivered once.
fn dispatch_throttle_holds_back_new_connections(kind: DriverKind) {
    const SMALL: usize = 16 << 10;
    const BIG: usize = 2 << 20;
    const LATE: u64 = 4;
    const EARLY: u64 = 256; // 4 MiB: more than one io_uring read batch

    let server = Gated::start(kind);
    let bound = LIMIT + (BIG + 8) + server.batch;
    let (first, conn) = server.client(3000);
    let small = Bytes::from(vec![0x11u8; SMALL]);
    for n in 1..=EARLY {
        conn.send_message(numbered_with(n, small.clone()));
    }
    recv(
        &server.entered,
        "the dispatcher to block on the first message",
    );
    wait_until("the throttle to fill", || {
        server.msgr.dispatch_queue_bytes() > LIMIT
    });

    let big = Bytes::from(vec![0x22u8; BIG]);
    let late: Vec<(Messenger, Connection)> = (1..=LATE)
        .map(|k| {
            let (m, c) = server.client(3000 + k as u32);
            c.send_message(numbered_with(1000 * k, big.clone()));
            (m, c)
        })
        .collect();
    let ends = server.wait_stalled(
        &format!("{LATE} peers connected after the throttle filled"),
        1 + LATE as usize,
        bound,
    );
    eprintln!(
        "{kind}: throttle with late peers: {} bytes queued; unread per connection: {:?}",
        server.msgr.dispatch_queue_bytes(),
        ends.iter().map(|e| e.rx_queue).collect::<Vec<_>>()
    );

    server.gate.open();
    let mut seen: Vec<u64> = (0..EARLY + LATE)
        .map(|_| {
            recv(
                &server.got,
                &format!("{kind}: every message after unblocking"),
            )
        })
        .collect();
    seen.sort_unstable();
    let mut want: Vec<u64> = (1..=EARLY).chain((1..=LATE).map(|k| 1000 * k)).collect();
    want.sort_unstable();
    assert_eq!(seen, want, "{kind}: messages lost or repeated");
    for (m, _) in late {
        m.shutdown().unwrap();
    }
    first.shutdown().unwrap();
    server.msgr.shutdown().unwrap();
}

// ---- 3. keepalive and idle timeout ----

/// A client sending KEEPALIVE2 every 100 ms outlives the server's 500 ms idle timeout:
/// keepalives count as traffic (§4.7, §4.12). The proof that enough time went by is a control
/// client, connected later and without keepalives, being closed by that timeout three times
/// in a row while the first connection stays up and still echoes, on the same session.
fn keepalives_keep_an_idle_connection_up(kind: DriverKind) {
    let idle = Duration::from_millis(500);
    capture_logs();
    let server = Server::start(kind, EntityType::OSD, |c| c.timeouts.idle = Some(idle));
    let steady = Client::connect(kind, &server, |c| {
        c.timeouts.keepalive_interval = Some(idle / 5);
    });
    steady.echo(1, &format!("{kind}: keepalive client"));
    let steady_srv = server.expect("the keepalive client's message", |e| match e {
        SrvEvent::Msg { n: 1, conn } => Some(*conn),
        _ => None,
    });

    for round in 0..3u64 {
        let control = Client::connect(kind, &server, |_| {});
        let t0 = Instant::now();
        control.echo(100 + round, &format!("{kind}: control client {round}"));
        let reset = control.expect_reset(&format!("{kind}: control client {round} idling out"));
        assert!(
            reset - t0 >= idle,
            "{kind}: control client {round} closed after {:?}, before the idle timeout",
            reset - t0
        );
        control.shutdown();
    }

    assert!(
        steady.conn.is_connected(),
        "{kind}: the keepalive client's connection is down"
    );
    steady.echo(
        2,
        &format!("{kind}: keepalive client after three idle periods"),
    );
    let conn = server.expect("the keepalive client's second message", |e| match e {
        SrvEvent::Msg { n: 2, conn } => Some(*conn),
        _ => None,
    });
    assert_eq!(
        conn, steady_srv,
        "{kind}: the keepalive client's session was replaced"
    );
    assert!(
        !server.history().contains(&SrvEvent::Reset(steady_srv)),
        "{kind}: the server reset the keepalive client's connection"
    );
    steady.shutdown();
    server.msgr.shutdown().unwrap();
}

/// Without keepalives, the server's idle timeout closes a READY lossy connection that
/// received nothing (§4.12): both ends report the reset, and not before the timeout.
fn idle_timeout_closes_an_idle_lossy_connection(kind: DriverKind) {
    let idle = Duration::from_millis(400 + 10 * u64::from(salt(kind)));
    capture_logs();
    let server = Server::start(kind, EntityType::OSD, |c| c.timeouts.idle = Some(idle));
    let client = Client::connect(kind, &server, |_| {});
    let t0 = Instant::now();
    client.echo(1, &format!("{kind}: idle client"));
    let srv_conn = server.expect("the idle client's message", |e| match e {
        SrvEvent::Msg { n: 1, conn } => Some(*conn),
        _ => None,
    });

    let reset = client.expect_reset(&format!("{kind}: idle client"));
    assert!(
        reset - t0 >= idle,
        "{kind}: closed after {:?}, before the idle timeout of {idle:?}",
        reset - t0
    );
    assert!(client.conn.is_closed());
    server.expect("the server's reset of the idle connection", |e| {
        (*e == SrvEvent::Reset(srv_conn)).then_some(())
    });
    expect_log(
        &format!("{kind}: idle timeout"),
        &format!("nothing received for {idle:?}"),
    );

    let next = Client::connect(kind, &server, |_| {});
    next.echo(2, &format!("{kind}: client after the idle close"));
    next.shutdown();
    client.shutdown();
    server.msgr.shutdown().unwrap();
}
