//! Every MESSAGE frame captured from Ceph 16.2.15 (`shared/ceph/vectors/*.bin`, msgr2.md §9.2)
//! goes through [`RawMessage`] and, for the types with a typed decoder, through [`Message`].
//!
//! For each typed message the decoder must consume the whole front (our decoders refuse
//! trailing bytes when the sender's version is not newer than ours, §5.6, and every captured
//! message is at our HEAD version), and re-encoding must reproduce Ceph's bytes. Every
//! encoding checked here is deterministic: maps and sets go out in key order (as C++
//! `std::map`/`std::set` do), the MonMap is written field by field in its v9 layout, and no
//! message carries a timestamp or a random value that the encoder would invent. So the whole
//! frame is compared: preamble, header2, front, data and CRCs, with only seq, tid, priority
//! and ack_seq copied from the captured header (they belong to the session, not to the
//! message).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use msgr::frames::{
    Banner, BannerDecoder, BannerStatus, Frame, FrameDecoder, FrameLimits, Revision, Tag, assemble,
};
use msgr::messages::{CephMessage, Message, MsgHeader2, RawMessage, message_type_name};
use msgr::wire::features::CEPH_FEATURES_ALL;

fn vectors_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/ceph/vectors");
    assert!(
        dir.is_dir(),
        "capture vectors not found at {}: they come with the shared Ceph tooling (msgr2.md §9.2)",
        dir.display()
    );
    dir
}

/// The `.bin` streams, sorted by name.
fn vector_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .expect("read vectors dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .bin files in the vectors dir");
    files
}

/// A frame and the exact bytes it occupied in the stream.
struct Captured {
    offset: usize,
    frame: Frame,
    bytes: Vec<u8>,
}

/// Skips the banner, then decodes every rev1 frame of `stream`.
fn frames_of(name: &str, stream: &[u8]) -> Vec<Captured> {
    let mut banner = BannerDecoder::new(Banner::pacific());
    let start = match banner.decode(stream) {
        Ok(BannerStatus::Done { consumed, .. }) => consumed,
        other => panic!("{name}: banner: {other:?}"),
    };
    let mut decoder =
        FrameDecoder::new(Revision::Rev1, FrameLimits::default()).starting_at(start as u64);
    let mut pos = start;
    let mut out = Vec::new();
    while pos < stream.len() {
        let decoded = decoder
            .decode(&stream[pos..])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let end = pos + decoded.consumed;
        match decoded.frame {
            Some(frame) => out.push(Captured {
                offset: pos,
                frame,
                bytes: stream[pos..end].to_vec(),
            }),
            None => panic!("{name}: truncated frame at offset {pos}"),
        }
        pos = end;
    }
    out
}

/// Number of MESSAGE frames `frames.json` lists for the stream in `path`, to be sure that
/// nothing was skipped.
fn indexed_message_count(path: &Path) -> usize {
    let file = path.file_name().unwrap().to_str().unwrap();
    let parts: Vec<&str> = file.split('.').collect();
    let (name, stream, dir) = (parts[0], &parts[1][1..], parts[2]);
    let index = path.with_file_name(format!("{name}.frames.json"));
    let text = std::fs::read_to_string(&index).expect("frames.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("frames.json is JSON");
    json[stream]["frames"]
        .as_array()
        .expect("frames array")
        .iter()
        .filter(|f| f["dir"] == dir && f["tag"] == 17)
        .count()
}

/// `typed` re-encoded with the captured session fields, as a whole frame.
fn reencode(typed: &Message, captured: &MsgHeader2) -> Vec<u8> {
    let mut raw = typed.to_raw(CEPH_FEATURES_ALL);
    raw.header.seq = captured.seq;
    raw.header.tid = captured.tid;
    raw.header.priority = captured.priority;
    raw.header.ack_seq = captured.ack_seq;
    assemble(&raw.to_frame().expect("frame"), Revision::Rev1).to_vec()
}

#[test]
fn captured_messages_decode_and_reencode_exactly() {
    let mut typed_counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut raw_counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for path in vector_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let stream = std::fs::read(&path).expect("read vector");
        let mut messages = 0;
        for cap in frames_of(&name, &stream) {
            if cap.frame.tag() != Tag::Message {
                continue;
            }
            messages += 1;
            let at = format!("{name} @ {}", cap.offset);
            let raw = RawMessage::from_frame(&cap.frame).unwrap_or_else(|e| panic!("{at}: {e}"));
            // The raw layer alone reproduces the frame.
            let again = assemble(&raw.to_frame().unwrap(), Revision::Rev1).to_vec();
            assert_eq!(again, cap.bytes, "{at}: raw re-assembly");
            let header = raw.header;
            let typed = Message::decode(raw).unwrap_or_else(|e| panic!("{at}: {e}"));
            if let Message::Unknown(_) = typed {
                *raw_counts.entry(typed.name()).or_default() += 1;
                continue;
            }
            let fresh = typed.to_raw(CEPH_FEATURES_ALL).header;
            assert!(
                header.version <= fresh.version,
                "{at}: sender newer than us, so trailing bytes would be tolerated"
            );
            assert_eq!(
                reencode(&typed, &header),
                cap.bytes,
                "{at}: {} re-encode",
                typed.name()
            );
            *typed_counts.entry(typed.name()).or_default() += 1;
        }
        assert_eq!(
            messages,
            indexed_message_count(&path),
            "{name}: frames.json"
        );
    }
    println!("typed: {typed_counts:?}\nleft raw: {raw_counts:?}");
    // What the four captures hold (§8.1, §8.4). MPing, MMonGetVersion(Reply),
    // MMonSubscribeAck, MCommand(Reply) and MGetConfig do not occur in them; their layouts are
    // checked against the byte examples of §5.7 and §6.6 in the unit tests.
    let minimum = [
        ("MMonGetMap", 8),
        ("MMonMap", 16),
        ("MMonSubscribe", 16),
        ("MConfig", 8),
        ("MMonCommand", 6),
        ("MMonCommandAck", 6),
        ("MMgrCommand", 2),
        ("MMgrCommandReply", 2),
    ];
    for (name, min) in minimum {
        let got = typed_counts.get(name).copied().unwrap_or(0);
        assert!(got >= min, "{name}: checked {got}, expected at least {min}");
    }
    // Types without a typed decoder still reach a dispatcher, raw.
    assert!(raw_counts.get("MOSDMap").copied().unwrap_or(0) >= 4);
    assert!(raw_counts.get("MMgrMap").copied().unwrap_or(0) >= 4);
}

#[test]
fn captured_command_traffic_reads_as_expected() {
    let path = vectors_dir().join("ceph_s.s1.c2s.bin");
    let stream = std::fs::read(&path).expect("ceph_s.s1.c2s.bin");
    let mut cmds = Vec::new();
    for cap in frames_of("ceph_s.s1.c2s", &stream) {
        if cap.frame.tag() != Tag::Message {
            continue;
        }
        let raw = RawMessage::from_frame(&cap.frame).unwrap();
        if let Message::MonCommand(cmd) = Message::decode(raw.clone()).unwrap() {
            assert_eq!(message_type_name(raw.header.msg_type), Some("MMonCommand"));
            assert_eq!(cmd, msgr::messages::MMonCommand::from_raw(&raw).unwrap());
            cmds.push((raw.header.tid, cmd.cmd));
        }
    }
    // §8.1 steps 6 and 8.
    assert_eq!(cmds.len(), 2);
    assert_eq!(cmds[0].0, 1);
    assert_eq!(cmds[0].1, [r#"{"prefix": "get_command_descriptions"}"#]);
    assert_eq!(cmds[1].0, 2);
    assert!(cmds[1].1[0].contains(r#""prefix": "status""#));
}
