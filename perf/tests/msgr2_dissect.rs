//! `msgr2-dissect` on a captured Ceph 16.2.15 stream, and on corrupted copies of it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vector(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/ceph/vectors")
        .join(name);
    assert!(
        path.is_file(),
        "capture vector {} not found (msgr2.md §9.2)",
        path.display()
    );
    path
}

fn dissect(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_msgr2-dissect"))
        .args(args)
        .arg(file)
        .output()
        .expect("run msgr2-dissect")
}

/// A scratch copy of `bytes` in a directory of its own under the system temp dir.
fn temp_copy(tag: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("msgr2-dissect-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("stream.bin");
    std::fs::write(&path, bytes).expect("write temp copy");
    path
}

#[test]
fn text_output_names_frames_and_messages() {
    let out = dissect(&[], &vector("ceph_s.s1.c2s.bin"));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("       0  banner"));
    for needle in [
        "HELLO",
        "CLIENT_IDENT",
        "MMonGetMap (type 5 CEPH_MSG_MON_GET_MAP) seq=1",
        "subs [config@0/0, monmap@0/0]",
        "MMonCommand (type 50 MSG_MON_COMMAND) seq=5 tid=1",
        r#"get_command_descriptions"#,
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in\n{stdout}");
    }
    assert!(!stdout.contains("crc=bad"));
}

#[test]
fn json_output_is_one_object_per_frame() {
    let out = dissect(&["--json"], &vector("ceph_s.s1.c2s.bin"));
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines[0]["kind"], "banner");
    let messages: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|f| f["tag_name"] == "MESSAGE")
        .collect();
    assert_eq!(
        messages.len(),
        6,
        "GetMap, 3 x Subscribe, 2 x MonCommand (§8.1)"
    );
    assert!(lines[1..].iter().all(|f| f["crc_ok"] == true));
    let status = messages[5];
    assert_eq!(status["type_name"], "MMonCommand");
    assert_eq!(status["typed"], true);
    assert_eq!(status["header"]["tid"], 2);
    assert_eq!(status["header"]["priority"], 127);
    assert_eq!(status["seg_lens"], serde_json::json!([41, 62]));
    assert!(status["summary"].as_str().unwrap().contains("status"));
    // Offsets chain: each frame starts where the previous one ended.
    for pair in lines.windows(2) {
        let end = pair[0]["offset"].as_u64().unwrap() + pair[0]["onwire"].as_u64().unwrap();
        assert_eq!(pair[1]["offset"].as_u64().unwrap(), end);
    }
}

#[test]
fn corrupted_stream_fails_with_a_clear_message() {
    let original = std::fs::read(vector("ceph_s.s1.c2s.bin")).unwrap();
    // A byte inside the front of the MMonCommand at offset 852 (preamble 32, header2 41, crc 4).
    let mut corrupted = original.clone();
    corrupted[852 + 32 + 41 + 4 + 40] ^= 0x01;
    let path = temp_copy("crc", &corrupted);
    let out = dissect(&[], &path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("bad crc of segment 1"), "{stderr}");
    assert!(stderr.contains("offset 852"), "{stderr}");
    // The frames before it were still printed.
    assert!(String::from_utf8_lossy(&out.stdout).contains("seq=4"));
    std::fs::remove_dir_all(path.parent().unwrap()).ok();

    let path = temp_copy("trunc", &original[..original.len() - 5]);
    let out = dissect(&["--json"], &path);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("stream ends inside the frame"));
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}

#[test]
fn undecodable_message_fails_with_a_clear_message() {
    use bytes::Bytes;
    use msgr::frames::{Banner, Revision, assemble};
    use msgr::messages::{MSG_CONFIG, MsgHeader2, RawMessage};

    // Valid framing and CRCs, but an MConfig whose front is not a map (§6.6.9).
    let raw = RawMessage::new(
        MsgHeader2::new(MSG_CONFIG, 1, 1),
        Bytes::from_static(b"\x05\0\0\0"),
    );
    let mut stream = Banner::pacific().encode().to_vec();
    stream.extend(assemble(&raw.to_frame().unwrap(), Revision::Rev1).to_vec());
    let path = temp_copy("decode", &stream);
    let out = dissect(&[], &path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("frame at offset 26"), "{stderr}");
    assert!(stderr.contains("MConfig"), "{stderr}");
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}
