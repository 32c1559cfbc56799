//! msgr2 layer benches: the frame codec, the message codec and the sans-IO protocol, all in
//! memory (no sockets, no syscalls), each beside a baseline measured in the same run.
//!
//! - `frames`: a rev1 MESSAGE frame whose payload is one data segment (41-byte header2,
//!   empty front and middle, data of 64 B, 4 KiB, 64 KiB or 4 MiB: preamble + header2 + crc0,
//!   data, 13-byte epilogue), throughput counted over the payload bytes.
//!   * `assemble`: [`assemble`] to a [`WireFrame`]. The data is referenced, not copied, so the
//!     cost is the CRC of the data plus a small fixed part.
//!   * `decode`: a reused [`FrameDecoder`] fed the whole frame as one contiguous buffer (one
//!     socket read), returning the frame: each segment copied once into its own buffer and
//!     CRC'd on the way.
//!   * Baselines: `crc32c`, Ceph's segment CRC over the payload alone (the same `crc32c`
//!     crate, through [`segment_crc`]): the floor of CRC mode for assembly; `memcpy`, a copy of
//!     the payload into a preallocated buffer. `decode` can do no better than their sum.
//! - `codec`: typed messages to and from their [`RawMessage`] segments, one element per
//!   message: `MMonCommand` (`{"prefix": "status", ...}`), `MMonCommandAck` with a 4 KiB data
//!   segment (shared, never copied) and a bare `MonMap` with 3 mons (v2 + v1 addresses each,
//!   [`encode_to_vec`] / [`decode_exact`]). Baseline per message, `alloc_copy`: a fresh `Vec`
//!   holding a copy of the encoded front (the floor of any encoder that returns new bytes).
//! - `protocol_pair`: a client [`Protocol`] (librados policy: lossy client) and a server one
//!   (stateless server, auth none) whose handshake ran once before the measured loop. One
//!   iteration is one message sent by the client and received by the server: `send_message`,
//!   `poll_transmit` (header encoding, frame assembly and CRC), each wire piece fed straight to
//!   the server's `handle_input` (frame decoding with copy and CRC, seq checks) and the
//!   `Event::Message` drained from `poll_event`. Lossy sessions send no ACK, so the traffic is
//!   one way. The message is a raw one whose payload is its data segment (the frame shape of
//!   the `frames` group), 64 B or 4 KiB; the baselines are that group's `assemble` + `decode`
//!   figures for the same size: the difference is what the protocol adds per message.
//!
//! Every benchmark is short (sample size 20, 0.2 s of warm-up, 1.8 s of measurement) so the 27
//! of them run in under a minute. Run: `cargo bench -p cuttle-bench --bench msgr2`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use msgr::frames::{FrameDecoder, FrameLimits, Revision, WireFrame, assemble, segment_crc};
use msgr::messages::{
    CEPH_MSG_PING, CephMessage, MMonCommand, MMonCommandAck, MonInfo, MonMap, MsgHeader2,
    RawMessage,
};
use msgr::protocol::{Config, Event, Policies, Policy, Protocol, Transmit, Verdict};
use msgr::wire::features::CEPH_FEATURES_ALL;
use msgr::wire::{EntityAddrvec, EntityType, Features, Uuid, decode_exact, encode_to_vec};

/// Payload sizes of the `frames` group.
const FRAME_SIZES: [(usize, &str); 4] = [
    (64, "64B"),
    (4 << 10, "4KiB"),
    (64 << 10, "64KiB"),
    (4 << 20, "4MiB"),
];

/// Message sizes of the `protocol_pair` group.
const MESSAGE_SIZES: [(usize, &str); 2] = [(64, "64B"), (4 << 10, "4KiB")];

/// `len` bytes of a fixed pseudo-random pattern (xorshift), so nothing compresses or folds.
fn pattern(len: usize) -> Bytes {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    Bytes::from(out)
}

/// A raw message whose whole payload is a data segment of `data`. The type only labels it:
/// the protocol and frame layers never decode the payload.
fn data_message(data: Bytes) -> RawMessage {
    RawMessage {
        header: MsgHeader2::new(CEPH_MSG_PING, 1, 1),
        front: Bytes::new(),
        middle: Bytes::new(),
        data,
    }
}

fn frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("frames");
    for (size, label) in FRAME_SIZES {
        let payload = pattern(size);
        let frame = data_message(payload.clone())
            .to_frame()
            .expect("frame a message");
        let wire = assemble(&frame, Revision::Rev1).to_vec();
        group.throughput(Throughput::Bytes(size as u64));

        group.bench_function(BenchmarkId::new("assemble", label), |b| {
            b.iter(|| -> WireFrame { assemble(black_box(&frame), Revision::Rev1) })
        });

        let mut decoder = FrameDecoder::new(Revision::Rev1, FrameLimits::default());
        let first = decoder.decode(&wire).expect("decode").frame;
        assert_eq!(
            first.as_ref(),
            Some(&frame),
            "the frame survives a round trip"
        );
        group.bench_function(BenchmarkId::new("decode", label), |b| {
            b.iter(|| {
                let decoded = decoder.decode(black_box(&wire)).expect("decode");
                assert_eq!(decoded.consumed, wire.len());
                decoded.frame.expect("a whole frame")
            })
        });

        group.bench_function(BenchmarkId::new("crc32c", label), |b| {
            b.iter(|| segment_crc(black_box(&payload)))
        });

        let mut dst = vec![0u8; size];
        group.bench_function(BenchmarkId::new("memcpy", label), |b| {
            b.iter(|| {
                dst.copy_from_slice(black_box(&payload));
                black_box(&mut dst);
            })
        });
    }
    group.finish();
}

fn fsid() -> Uuid {
    "11111111-2222-3333-4444-555555555555"
        .parse()
        .expect("fsid")
}

/// A Pacific MonMap of 3 mons, each with a v2 and a v1 address, as `ceph mon dump` shows one.
fn monmap_3() -> MonMap {
    let mut map = MonMap::new(fsid(), 3);
    for (name, ip) in [("a", "10.0.0.1"), ("b", "10.0.0.2"), ("c", "10.0.0.3")] {
        let addrs: EntityAddrvec = format!("[v2:{ip}:3300/0,v1:{ip}:6789/0]")
            .parse()
            .expect("mon addresses");
        map.add_mon(MonInfo::new(name, addrs));
    }
    map
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Elements(1));

    let cmd = MMonCommand::new(
        fsid(),
        vec![r#"{"prefix": "status", "format": "json"}"#.into()],
    );
    let cmd_raw = cmd.to_raw(CEPH_FEATURES_ALL);
    assert_eq!(MMonCommand::from_raw(&cmd_raw).as_ref(), Ok(&cmd));
    group.bench_function("MMonCommand/encode", |b| {
        b.iter(|| black_box(&cmd).to_raw(CEPH_FEATURES_ALL))
    });
    group.bench_function("MMonCommand/decode", |b| {
        b.iter(|| MMonCommand::from_raw(black_box(&cmd_raw)).expect("decode"))
    });
    group.bench_function("MMonCommand/alloc_copy", |b| {
        b.iter(|| black_box(&cmd_raw.front[..]).to_vec())
    });

    let ack = MMonCommandAck::reply_to(&cmd, 0, "", pattern(4 << 10));
    let ack_raw = ack.to_raw(CEPH_FEATURES_ALL);
    assert_eq!(MMonCommandAck::from_raw(&ack_raw).as_ref(), Ok(&ack));
    group.bench_function("MMonCommandAck_4KiB/encode", |b| {
        b.iter(|| black_box(&ack).to_raw(CEPH_FEATURES_ALL))
    });
    group.bench_function("MMonCommandAck_4KiB/decode", |b| {
        b.iter(|| MMonCommandAck::from_raw(black_box(&ack_raw)).expect("decode"))
    });
    group.bench_function("MMonCommandAck_4KiB/alloc_copy", |b| {
        b.iter(|| black_box(&ack_raw.front[..]).to_vec())
    });

    let map = monmap_3();
    let map_bytes = encode_to_vec(&map);
    assert_eq!(decode_exact::<MonMap>(&map_bytes).as_ref(), Ok(&map));
    group.bench_function("MonMap_3mons/encode", |b| {
        b.iter(|| encode_to_vec(black_box(&map)))
    });
    group.bench_function("MonMap_3mons/decode", |b| {
        b.iter(|| decode_exact::<MonMap>(black_box(&map_bytes)).expect("decode"))
    });
    group.bench_function("MonMap_3mons/alloc_copy", |b| {
        b.iter(|| black_box(&map_bytes[..]).to_vec())
    });
    group.finish();

    eprintln!(
        "codec: encoded fronts: MMonCommand {} B, MMonCommandAck {} B (+ {} B data), MonMap {} B",
        cmd_raw.front.len(),
        ack_raw.front.len(),
        ack_raw.data.len(),
        map_bytes.len()
    );
}

/// A connected client/server pair of [`Protocol`]s wired back to back in memory: the bench's
/// own tiny driver loop (the test crate's `Pair` harness is not public).
struct MemPair {
    client: Protocol,
    server: Protocol,
    now: Instant,
}

impl MemPair {
    /// Builds both ends and runs the handshake to READY.
    fn connect() -> Self {
        let now = Instant::now();
        let mut mon = Config::new("mon.a".parse().expect("name"));
        mon.gid = 0;
        mon.addrs = "v2:127.0.0.1:3300/0".parse().expect("mon address");
        mon.policies = Policies::uniform(Policy::stateless_server(Features::EMPTY));
        let mut cli = Config::new("client.admin".parse().expect("name"));
        cli.policies = Policies::uniform(Policy::librados());
        let client =
            Protocol::new_client(cli, EntityType::MON, &mon.addrs, now).expect("v2 address");
        let peer_socket = "127.0.0.1:40000".parse().expect("socket address");
        let server = Protocol::new_server(mon, peer_socket, now);
        let mut pair = MemPair {
            client,
            server,
            now,
        };
        for _ in 0..16 {
            if pair.client.is_ready() && pair.server.is_ready() {
                break;
            }
            pair.pump();
        }
        assert!(
            pair.client.is_ready() && pair.server.is_ready(),
            "handshake stuck: client {}, server {}",
            pair.client.state_name(),
            pair.server.state_name()
        );
        assert!(
            pair.client.policy().lossy,
            "the client adopts the lossy policy"
        );
        while pair.client.poll_event().is_some() {}
        while pair.server.poll_event().is_some() {}
        pair
    }

    /// One round of the driver loop: each side's transmits to the other, then the events an
    /// acceptor must answer (auth, session lookup). Returns the number of bytes moved.
    fn pump(&mut self) -> usize {
        let now = self.now;
        let mut moved = forward(&mut self.client, &mut self.server, now);
        moved += forward(&mut self.server, &mut self.client, now);
        while let Some(event) = self.server.poll_event() {
            match event {
                Event::AuthRequest(info) => {
                    let gid = match info.payload.global_id() {
                        0 => 4096,
                        g => g,
                    };
                    self.server.accept_auth(gid, now);
                }
                Event::SessionLookup(_) => self.server.resolve_lookup(Verdict::NoSession, now),
                Event::Faulted(r) | Event::Reset(r) => panic!("server fault: {r}"),
                _ => {}
            }
        }
        moved
    }

    /// Sends `msg` from the client and delivers it to the server; returns the message the
    /// server received.
    fn one_way(&mut self, msg: RawMessage) -> RawMessage {
        let now = self.now;
        self.client.send_message(msg, now);
        forward(&mut self.client, &mut self.server, now);
        let mut got = None;
        while let Some(event) = self.server.poll_event() {
            match event {
                Event::Message(m) if got.is_none() => got = Some(m),
                other => panic!("unexpected server event {other:?}"),
            }
        }
        // A lossy server has nothing to say back; keep the loop honest if it ever does.
        forward(&mut self.server, &mut self.client, now);
        got.expect("the server received the message")
    }
}

/// Drains `from`'s transmits into `to`, piece by piece as a `writev` would put them on the
/// stream. Returns the number of bytes moved.
fn forward(from: &mut Protocol, to: &mut Protocol, now: Instant) -> usize {
    let mut moved = 0;
    while let Some(t) = from.poll_transmit() {
        match &t {
            Transmit::Banner(_) | Transmit::Frame { .. } => {
                for piece in t.pieces() {
                    to.handle_input(piece, now);
                    moved += piece.len();
                }
            }
            Transmit::Close | Transmit::Connect(_) => panic!("unexpected transmit {t:?}"),
        }
    }
    moved
}

fn protocol_pair(c: &mut Criterion) {
    let mut group = c.benchmark_group("protocol_pair");
    group.throughput(Throughput::Elements(1));
    for (size, label) in MESSAGE_SIZES {
        let msg = data_message(pattern(size));
        let mut pair = MemPair::connect();
        let got = pair.one_way(msg.clone());
        assert_eq!(got.data, msg.data, "the payload arrives intact");
        assert_eq!(got.header.seq, 1);
        group.bench_function(BenchmarkId::new("one_way", label), |b| {
            b.iter(|| pair.one_way(black_box(msg.clone())))
        });
        let (out_seq, _) = pair.client.seqs();
        let (_, in_seq) = pair.server.seqs();
        assert_eq!(out_seq, in_seq, "every message sent was received");
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(1800))
        .sample_size(20)
        // 20 samples need no more: this keeps the analysis of 27 benches to a few seconds.
        .nresamples(10_000);
    targets = frames, codec, protocol_pair
}
criterion_main!(benches);
