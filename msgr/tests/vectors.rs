//! Decodes every byte stream captured from Ceph 16.2.15 (`shared/ceph/vectors/`, msgr2.md
//! §9.2) and checks it against the capture's `NAME.frames.json` index: banner, then every
//! frame's offset, tag, segment lengths, on-wire size and CRC status, with the stream fed in
//! several splits. Each decoded frame is also re-assembled and must equal the captured bytes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use msgr::frames::{
    BANNER_LEN, Banner, BannerDecoder, BannerStatus, Frame, FrameDecoder, FrameLimits, Revision,
    assemble,
};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/ceph/vectors");
    let has_json = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".frames.json"))
        })
        .unwrap_or(false);
    assert!(
        has_json,
        "Ceph capture vectors not found: expected NAME.frames.json and NAME.sN.{{c2s,s2c}}.bin \
         files in {} (shared/ceph/vectors next to the workspace). They are required; see \
         shared/ceph/README.md.",
        dir.display()
    );
    dir
}

/// One frame entry of a `frames.json` index.
#[derive(Debug, PartialEq)]
struct Entry {
    offset: u64,
    tag: u8,
    tag_name: String,
    seg_lens: Vec<usize>,
    onwire: u64,
    crc_ok: bool,
}

fn entry(v: &Value) -> Entry {
    let u = |k: &str| {
        v[k].as_u64()
            .unwrap_or_else(|| panic!("{k} missing in {v}"))
    };
    Entry {
        offset: u("offset"),
        tag: u8::try_from(u("tag")).unwrap(),
        tag_name: v["tag_name"].as_str().unwrap().to_owned(),
        seg_lens: v["seg_lens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_u64().unwrap() as usize)
            .collect(),
        onwire: u("onwire"),
        crc_ok: v["crc_ok"].as_bool().unwrap(),
    }
}

/// What our decoder saw for one frame, in the same shape.
fn observed(frame: &Frame, end: u64, rev: Revision) -> Entry {
    let onwire = frame.onwire_len(rev);
    Entry {
        offset: end - onwire,
        tag: frame.tag().as_u8(),
        tag_name: frame.tag().ceph_name().to_owned(),
        seg_lens: frame.segments().iter().map(|s| s.len()).collect(),
        onwire,
        // Every CRC (preamble, inline crc0, epilogue) was checked: a mismatch is an error.
        crc_ok: true,
    }
}

/// Feeds the frames part of a stream in chunks of the given sizes (cycled) and returns each
/// frame with the stream offset just past it.
fn decode_stream(bytes: &[u8], start: usize, rev: Revision, sizes: &[usize]) -> Vec<(Frame, u64)> {
    let mut decoder = FrameDecoder::new(rev, FrameLimits::default()).starting_at(start as u64);
    let mut out = Vec::new();
    let mut at = start;
    for &size in sizes.iter().cycle() {
        if at >= bytes.len() {
            break;
        }
        let mut chunk = &bytes[at..at.saturating_add(size).min(bytes.len())];
        at += chunk.len();
        loop {
            let d = decoder
                .decode(chunk)
                .unwrap_or_else(|e| panic!("decode error: {e}"));
            chunk = &chunk[d.consumed..];
            match d.frame {
                Some(frame) => out.push((frame, decoder.position())),
                None => break,
            }
        }
    }
    assert!(decoder.is_at_frame_boundary(), "stream ends inside a frame");
    assert_eq!(decoder.position(), bytes.len() as u64);
    assert_eq!(decoder.frames_aborted(), 0);
    out
}

/// Checks one direction of one TCP stream; returns how many frames it held.
fn check_direction(dir: &Path, name: &str, stream: &str, direction: &str, index: &Value) -> usize {
    let label = format!("{name}.s{stream}.{direction}");
    let bytes =
        fs::read(dir.join(format!("{label}.bin"))).unwrap_or_else(|e| panic!("{label}.bin: {e}"));
    assert_eq!(
        bytes.len() as u64,
        index[format!("{direction}_bytes")].as_u64().unwrap(),
        "{label}: size"
    );
    let entries: Vec<&Value> = index["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["dir"] == direction)
        .collect();

    // The banner (§1): first in the index, 26 bytes, and accepted by a Pacific-like local side.
    let (banner, frames) = entries.split_first().expect("no entries");
    assert_eq!(banner["kind"], "banner", "{label}");
    assert_eq!(banner["offset"], 0, "{label}");
    assert_eq!(banner["onwire"], BANNER_LEN, "{label}");
    let mut banner_decoder = BannerDecoder::new(Banner::pacific());
    let mut negotiated = None;
    for (i, b) in bytes.iter().enumerate() {
        if let BannerStatus::Done { negotiated: n, .. } =
            banner_decoder.decode(std::slice::from_ref(b)).unwrap()
        {
            assert_eq!(i + 1, BANNER_LEN, "{label}: banner length");
            negotiated = Some(n);
            break;
        }
    }
    let negotiated = negotiated.unwrap_or_else(|| panic!("{label}: banner incomplete"));
    assert_eq!(negotiated.peer, Banner::pacific(), "{label}");
    let rev = negotiated.revision;
    assert_eq!(rev, Revision::Rev1, "{label}");

    let expected: Vec<Entry> = frames
        .iter()
        .map(|f| {
            assert_eq!(f["kind"], "frame", "{label}");
            entry(f)
        })
        .collect();
    assert!(
        expected.iter().all(|e| e.crc_ok),
        "{label}: index lists a bad CRC"
    );

    let splits: [&[usize]; 5] = [
        &[usize::MAX],
        &[1],
        &[7, 1, 300, 13, 4096, 2],
        &[32, 41, 4, 13],
        &[65536, 1500, 9000],
    ];
    let mut reference: Option<Vec<(Frame, u64)>> = None;
    for sizes in splits {
        let got = decode_stream(&bytes, BANNER_LEN, rev, sizes);
        let seen: Vec<Entry> = got.iter().map(|(f, end)| observed(f, *end, rev)).collect();
        assert_eq!(seen, expected, "{label}: split {sizes:?}");
        match &reference {
            Some(r) => assert_eq!(&got, r, "{label}: split {sizes:?} changed the frames"),
            None => reference = Some(got),
        }
    }

    // Our assembler reproduces every captured frame byte for byte.
    for ((frame, end), e) in reference.unwrap().iter().zip(&expected) {
        let wire = assemble(frame, rev).to_vec();
        assert_eq!(
            wire,
            &bytes[e.offset as usize..*end as usize],
            "{label}: re-assembled {} at {}",
            e.tag_name,
            e.offset
        );
    }
    expected.len()
}

#[test]
fn every_captured_stream_decodes_completely() {
    let dir = vectors_dir();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_suffix(".frames.json")
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut totals = BTreeMap::new();
    let mut bins_checked = 0;
    for name in &names {
        let json = fs::read_to_string(dir.join(format!("{name}.frames.json"))).unwrap();
        let index: Value = serde_json::from_str(&json).unwrap();
        for (stream, streamed) in index.as_object().expect("object of streams") {
            for direction in ["c2s", "s2c"] {
                let n = check_direction(&dir, name, stream, direction, streamed);
                *totals.entry(name.clone()).or_insert(0) += n;
                bins_checked += 1;
            }
        }
    }
    // Every .bin in the directory was covered by an index.
    let bins = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".bin"))
        .count();
    assert_eq!(
        bins_checked, bins,
        "some .bin files are not listed in a frames.json"
    );
    assert!(bins > 0);
    eprintln!("decoded {bins} streams: frames per capture {totals:?}");
}
