//! Writes the seed corpora under `corpus/<target>/` from the streams captured from Ceph
//! 16.2.15 (`shared/ceph/vectors/*.bin`, see `shared/ceph/README.md`), plus a few hand-made
//! variants, and checks that the protocol seeds reach READY.
//!
//! ```text
//! cd msgr/fuzz && cargo run --example gen_seeds [VECTORS_DIR]
//! ```
//!
//! Seeds are named after their source and content hash, so re-running is idempotent; files
//! of the target directories that it did not write are left alone.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use cuttle_msgr_fuzz::drive::{self, OPT_APP_AUTH, OPT_MGR, OPT1_EXISTING, Role};
use cuttle_msgr_fuzz::{layout, message_input, record};
use msgr::frames::{BANNER_LEN, Banner, Frame, FrameDecoder, FrameLimits, Revision, Tag, assemble};
use msgr::messages::{
    CephMessage, MCommand, MCommandReply, MGetConfig, MMonGetVersion, MMonGetVersionReply,
    MMonSubscribeAck, MPing, Message, RawMessage,
};
use msgr::protocol::Verdict;
use msgr::wire::features::CEPH_FEATURES_ALL;

/// Seeds for the stream targets stop at the last frame boundary below this.
const MAX_STREAM: usize = 32 << 10;
/// Frames above this are left out of the stream seeds.
const MAX_FRAME: usize = 4 << 10;
/// MESSAGE frames above this are not message seeds.
const MAX_MESSAGE: usize = 32 << 10;

struct Capture {
    /// e.g. `ceph_s.s1`
    name: String,
    c2s: Vec<u8>,
    s2c: Vec<u8>,
}

impl Capture {
    /// The mgr sessions are the `s2` ones (see the `*.frames.json` files).
    fn to_mgr(&self) -> bool {
        self.name.ends_with(".s2")
    }
}

/// The banner and the frames of a captured direction.
fn split(stream: &[u8]) -> (Vec<u8>, Vec<(Frame, Vec<u8>)>) {
    let mut dec = FrameDecoder::new(Revision::Rev1, FrameLimits::unlimited());
    let mut rest = &stream[BANNER_LEN..];
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let d = dec.decode(rest).expect("captured frame decodes");
        let frame = d.frame.expect("captured stream ends on a frame boundary");
        frames.push((frame, rest[..d.consumed].to_vec()));
        rest = &rest[d.consumed..];
    }
    (stream[..BANNER_LEN].to_vec(), frames)
}

/// The banner and the frames, without those over [`MAX_FRAME`] bytes (big maps and command
/// output: they only make the inputs slow), and at most `max` bytes in all.
fn truncated(stream: &[u8], max: usize) -> Vec<u8> {
    let (banner, frames) = split(stream);
    let mut out = banner;
    for (_, bytes) in frames {
        if bytes.len() > MAX_FRAME {
            continue;
        }
        if out.len() + bytes.len() > max {
            break;
        }
        out.extend(bytes);
    }
    out
}

/// `drive` schedule ops that feed the banner and then one frame at a time, 1 ms apart (a
/// peer that waits for each answer, as the handshake needs), at most `max` of them.
fn frame_ops(stream: &[u8], max: usize) -> Vec<u8> {
    let (banner, frames) = split(stream);
    let mut ops = Vec::new();
    for len in std::iter::once(banner.len()).chain(frames.iter().map(|(_, b)| b.len())) {
        let mut step = Vec::new();
        step.extend(std::iter::repeat_n(0x40, len / 64)); // 64 bytes
        if len % 64 != 0 {
            step.push((len % 64 - 1) as u8); // 1..=63 bytes
        }
        step.push(0x80); // 1 ms
        if ops.len() + step.len() > max {
            break;
        }
        ops.extend(step);
    }
    ops
}

/// [`frame_ops`], then the rest in 4 KiB chunks.
fn frame_by_frame(stream: &[u8]) -> Vec<u8> {
    let mut ops = frame_ops(stream, 250);
    ops.push(0x7f);
    ops
}

fn hash(data: &[u8]) -> u64 {
    // FNV-1a: stable names across runs and machines.
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

struct Writer {
    root: PathBuf,
    written: BTreeSet<PathBuf>,
    bytes: usize,
}

impl Writer {
    fn put(&mut self, target: &str, name: &str, data: &[u8]) {
        let dir = self.root.join(target);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}-{:016x}", hash(data)));
        if self.written.insert(path.clone()) {
            fs::write(&path, data).unwrap();
            self.bytes += data.len();
        }
    }
}

fn load(dir: &Path) -> Vec<Capture> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            Some(name.strip_suffix(".c2s.bin")?.to_string())
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| Capture {
            c2s: fs::read(dir.join(format!("{name}.c2s.bin"))).unwrap(),
            s2c: fs::read(dir.join(format!("{name}.s2c.bin"))).unwrap(),
            name,
        })
        .collect()
}

fn main() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let vectors = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../../shared/ceph/vectors"));
    let captures = load(&vectors);
    assert!(
        !captures.is_empty(),
        "no *.c2s.bin in {}",
        vectors.display()
    );
    let mut w = Writer {
        root: manifest.join("corpus"),
        written: BTreeSet::new(),
        bytes: 0,
    };

    // protocol_server: what clients wrote; protocol_client: what servers wrote.
    for c in &captures {
        let profile = if c.to_mgr() { OPT_MGR } else { 0 };
        let c2s = truncated(&c.c2s, MAX_STREAM);
        let s2c = truncated(&c.s2c, MAX_STREAM);
        for (role, target, stream) in [
            (Role::Server, "protocol_server", &c2s),
            (Role::Client, "protocol_client", &s2c),
        ] {
            let seed = layout::encode(&[profile, 0], &[], stream);
            let report = drive::run(role, &seed);
            println!(
                "{target:16} {:22} {:6} B  after input: {:18} messages {:3} frames out {:3} faults {:?}",
                c.name,
                stream.len(),
                report.state_after_input,
                report.messages,
                report.frames_out,
                report.faults
            );
            assert!(report.connected, "{target} {}: no session", c.name);
            w.put(target, &c.name, &seed);
        }
    }
    // Variants on one session: chunks and clock steps, an application-decided auth and a
    // registered server (lookups answered), a lossless client with keepalives.
    let c = captures
        .iter()
        .find(|c| c.name == "ceph_s.s1")
        .unwrap_or(&captures[0]);
    let c2s = truncated(&c.c2s, MAX_STREAM);
    let s2c = truncated(&c.s2c, MAX_STREAM);
    for (role, target, stream, options) in [
        (
            Role::Server,
            "protocol_server",
            &c2s,
            [OPT_APP_AUTH | (1 << 2), 1],
        ),
        (Role::Server, "protocol_server", &c2s, [2 << 2, 0]),
        (Role::Client, "protocol_client", &s2c, [0, 1]),
        (Role::Client, "protocol_client", &s2c, [1 << 2, 0]),
    ] {
        let seed = layout::encode(&options, &frame_by_frame(stream), stream);
        let report = drive::run(role, &seed);
        println!(
            "{target:16} variant {options:?}: after input {} faults {:?}",
            report.state_after_input, report.faults
        );
        w.put(
            target,
            &format!("{}-opts{:02x}{:02x}", c.name, options[0], options[1]),
            &seed,
        );
    }

    // Lossless sessions with a reconnect, between our own client and server (the captured
    // sessions are all lossy): the server target gets the client's first transport (a new
    // session with a cookie) and its reconnect, answered with every verdict or judged by an
    // existing connection; the client target gets both transports of the server's side,
    // the transport closed in between, for each answer the server can give a reconnect.
    let now = std::time::Instant::now();
    let stateful = 2 << 2;
    for mgr in [false, true] {
        let profile = if mgr { OPT_MGR } else { 0 };
        let server_options = [profile | stateful, 0];
        let (server_cfg, _, _) = drive::config(Role::Server, server_options);
        let tag = if mgr { "mgr" } else { "mon" };
        let [first, second] = record::reconnect(&server_cfg, mgr, None, now);
        let mut server_seeds = vec![
            (format!("lossless-{tag}"), server_options, first.c2s.clone()),
            (
                format!("lossless-{tag}-existing"),
                [profile | stateful, OPT1_EXISTING],
                first.c2s.clone(),
            ),
            (
                format!("reconnect-{tag}-existing"),
                [profile | stateful, OPT1_EXISTING],
                second.c2s.clone(),
            ),
        ];
        for answer in 0..7u8 {
            server_seeds.push((
                format!("reconnect-{tag}-answer{answer}"),
                [profile | stateful | (answer << 5), 0],
                second.c2s.clone(),
            ));
        }
        for (name, options, stream) in server_seeds {
            let seed = layout::encode(&options, &frame_by_frame(&stream), &stream);
            let report = drive::run(Role::Server, &seed);
            println!(
                "protocol_server  {name:28} after input {:18} resumed {} faults {:?}",
                report.state_after_input, report.resumed, report.faults
            );
            assert!(
                report.connected || name.contains("answer"),
                "{name}: no session"
            );
            w.put("protocol_server", &name, &seed);
        }
        let answers: [(&str, Option<Verdict>); 6] = [
            ("judged", None),
            ("retry", Some(Verdict::Retry(5))),
            ("retry-global", Some(Verdict::RetryGlobal(1000))),
            ("reset", Some(Verdict::Reset { full: false })),
            ("reset-full", Some(Verdict::Reset { full: true })),
            ("wait", Some(Verdict::Wait)),
        ];
        for (name, answer) in answers {
            let [first, second] = record::reconnect(&server_cfg, mgr, answer, now);
            let mut ops = frame_ops(&first.s2c, 120);
            ops.push(0xc2); // transport closed: a lossless client redials at once
            ops.extend(frame_ops(&second.s2c, 120));
            ops.push(0x7f);
            let stream = [first.s2c, second.s2c].concat();
            let seed = layout::encode(&record::client_options(mgr), &ops, &stream);
            let report = drive::run(Role::Client, &seed);
            println!(
                "protocol_client  reconnect-{tag}-{name:14} after input {:18} resumed {} messages {} faults {:?}",
                report.state_after_input, report.resumed, report.messages, report.faults
            );
            assert!(report.connected, "{name}: no session");
            w.put("protocol_client", &format!("reconnect-{tag}-{name}"), &seed);
        }
    }

    // frame_decode: the frames of each direction, whole and in chunks; some in rev0.
    for c in &captures {
        for (dir, stream) in [("c2s", &c.c2s), ("s2c", &c.s2c)] {
            let stream = truncated(stream, MAX_STREAM);
            let frames = &stream[BANNER_LEN..];
            w.put(
                "frame_decode",
                &format!("{}.{dir}", c.name),
                &layout::encode(&[0], &[], frames),
            );
        }
    }
    for c in captures.iter().filter(|c| c.name.ends_with(".s1")).take(1) {
        let (_, frames) = split(&c.c2s);
        let mut rev0 = Vec::new();
        for (f, _) in &frames {
            rev0.extend(assemble(f, Revision::Rev0).to_vec());
        }
        let rev1: Vec<u8> = frames.iter().flat_map(|(_, b)| b.clone()).collect();
        w.put(
            "frame_decode",
            &format!("{}.c2s.rev0", c.name),
            &layout::encode(&[0], &[], &rev0),
        );
        w.put(
            "frame_decode",
            &format!("{}.c2s.chunks", c.name),
            &layout::encode(&[0], &[1, 31, 0, 7, 200], &rev1),
        );
    }

    // banner: the captured banners (all alike) and the cases of §1.3.
    let mut banners = BTreeSet::new();
    for c in &captures {
        banners.insert(c.c2s[..BANNER_LEN].to_vec());
        banners.insert(c.s2c[..BANNER_LEN].to_vec());
    }
    let plain = [0u8; 17];
    for b in &banners {
        w.put("banner", "captured", &layout::encode(&plain, &[], b));
        w.put(
            "banner",
            "captured-chunks",
            &layout::encode(&plain, &[3, 0, 5, 1], b),
        );
    }
    let rev0_peer = Banner {
        supported: 0,
        required: 0,
    }
    .encode();
    w.put(
        "banner",
        "rev0-peer",
        &layout::encode(&plain, &[], &rev0_peer),
    );
    let mut longer = Banner::pacific().encode().to_vec();
    longer[8] = 20;
    longer.extend([0xee; 4]);
    longer.extend(b"first frame bytes");
    w.put(
        "banner",
        "extra-payload",
        &layout::encode(&plain, &[11, 2], &longer),
    );
    let needs = Banner {
        supported: 3,
        required: 2,
    }
    .encode();
    w.put(
        "banner",
        "peer-requires",
        &layout::encode(&plain, &[], &needs),
    );
    let mut strict = [0u8; 17];
    strict[0] = 1;
    strict[1] = 1; // supported = REVISION_1
    strict[9] = 1; // required = REVISION_1
    w.put(
        "banner",
        "we-require",
        &layout::encode(&strict, &[], &rev0_peer),
    );
    w.put(
        "banner",
        "msgr1",
        &layout::encode(&plain, &[], b"ceph v027\n\0\0\0\0\0\0\0\0\0\0"),
    );

    // message_decode: every captured MESSAGE, and a default instance of the typed messages
    // the captures lack.
    for c in &captures {
        for stream in [&c.c2s, &c.s2c] {
            for (frame, bytes) in split(stream).1 {
                if frame.tag() != Tag::Message || bytes.len() > MAX_MESSAGE {
                    continue;
                }
                let raw = RawMessage::from_frame(&frame).expect("captured message");
                let msg = Message::decode(raw.clone());
                let name = msg.as_ref().map_or("undecodable", |m| m.name());
                if !Message::is_typed(raw.header.msg_type) && bytes.len() > 4096 {
                    continue; // big untyped maps add nothing but length
                }
                w.put("message_decode", name, &message_input::encode(&raw));
            }
        }
    }
    let made: [(&str, RawMessage); 7] = [
        (
            MPing::NAME,
            MPing::with_text("{\"health\": \"ok\"}").to_raw(CEPH_FEATURES_ALL),
        ),
        (
            MMonGetVersion::NAME,
            MMonGetVersion::default().to_raw(CEPH_FEATURES_ALL),
        ),
        (
            MMonGetVersionReply::NAME,
            MMonGetVersionReply::default().to_raw(CEPH_FEATURES_ALL),
        ),
        (
            MMonSubscribeAck::NAME,
            MMonSubscribeAck::default().to_raw(CEPH_FEATURES_ALL),
        ),
        (
            MGetConfig::NAME,
            MGetConfig::default().to_raw(CEPH_FEATURES_ALL),
        ),
        (
            MCommand::NAME,
            MCommand::default().to_raw(CEPH_FEATURES_ALL),
        ),
        (
            MCommandReply::NAME,
            MCommandReply::new(0, "ok", Bytes::from_static(b"out")).to_raw(CEPH_FEATURES_ALL),
        ),
    ];
    for (name, raw) in made {
        w.put("message_decode", name, &message_input::encode(&raw));
    }

    let mut per_target = std::collections::BTreeMap::<String, usize>::new();
    for p in &w.written {
        let t = p
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        *per_target.entry(t).or_default() += 1;
    }
    println!(
        "wrote {} seeds, {} bytes: {per_target:?}",
        w.written.len(),
        w.bytes
    );
}
