//! `msgr2-dissect`: prints the frames of one direction of a captured msgr2 stream (banner
//! first, then CRC-mode frames, msgr2.md §1-§2), with the `ceph_msg_header2` fields (§5.2) and
//! a short summary of every MESSAGE whose type cuttle decodes (§6.6).
//!
//! ```text
//! msgr2-dissect shared/ceph/vectors/ceph_s.s1.c2s.bin
//! msgr2-dissect --json shared/ceph/vectors/ceph_s.s1.s2c.bin | jq .summary
//! ```
//!
//! Every frame that is printed passed its CRC checks (the preamble CRC and each segment's,
//! §2.3). A CRC mismatch, a malformed frame, a truncated stream or a MESSAGE that its typed
//! decoder refuses ends the run with a message on stderr and exit status 1.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use msgr::frames::{Banner, BannerDecoder, BannerStatus, Frame, FrameDecoder, FrameLimits, Tag};
use msgr::messages::{Message, MsgHeader2, RawMessage, message_type_constant};
use serde_json::{Value, json};

/// Dissects one direction of a msgr2 TCP stream (banner first).
#[derive(Parser, Debug)]
#[command(name = "msgr2-dissect", version)]
struct Args {
    /// The stream: raw bytes of one direction, starting with the banner.
    file: PathBuf,
    /// Print one JSON object per line (the banner, then each frame) instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("msgr2-dissect: {}: {e:#}", args.file.display());
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let stream =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let mut banner = BannerDecoder::new(Banner::pacific());
    let (start, negotiated) = match banner.decode(&stream).context("banner (§1)")? {
        BannerStatus::Done {
            consumed,
            negotiated,
        } => (consumed, negotiated),
        BannerStatus::NeedMore => bail!("stream ends inside the banner ({} bytes)", stream.len()),
    };
    let peer = negotiated.peer;
    emit(
        args.json,
        json!({
            "offset": 0, "kind": "banner", "onwire": start,
            "supported": peer.supported, "required": peer.required,
            "revision": format!("{:?}", negotiated.revision),
        }),
        format!(
            "{:>8}  banner  supported={:#x} required={:#x} -> {:?}",
            0, peer.supported, peer.required, negotiated.revision
        ),
    );

    let mut decoder =
        FrameDecoder::new(negotiated.revision, FrameLimits::default()).starting_at(start as u64);
    let mut pos = start;
    while pos < stream.len() {
        let decoded = decoder
            .decode(&stream[pos..])
            .context("frame rejected (CRC or format error)")?;
        let Some(frame) = decoded.frame else {
            bail!(
                "stream ends inside the frame at offset {pos} ({} bytes left)",
                stream.len() - pos
            );
        };
        dissect(args.json, pos, decoded.consumed, &frame)
            .with_context(|| format!("frame at offset {pos}"))?;
        pos += decoded.consumed;
    }
    if decoder.frames_aborted() > 0 {
        eprintln!(
            "note: {} frame(s) marked aborted by the sender were skipped (§2.3)",
            decoder.frames_aborted()
        );
    }
    Ok(())
}

/// Prints one frame; a MESSAGE is also decoded.
fn dissect(json: bool, offset: usize, onwire: usize, frame: &Frame) -> anyhow::Result<()> {
    let tag = frame.tag();
    let lens: Vec<usize> = frame.segments().iter().map(|s| s.len()).collect();
    let mut obj = json!({
        "offset": offset, "kind": "frame", "tag": tag.as_u8(), "tag_name": tag.ceph_name(),
        "seg_lens": lens, "onwire": onwire, "crc_ok": true,
    });
    let mut text = format!(
        "{offset:>8}  {:<20} segs={lens:?} len={onwire} crc=ok",
        tag.ceph_name()
    );
    if tag == Tag::Message {
        let raw = RawMessage::from_frame(frame)?;
        let h = raw.header;
        let msg = Message::decode(raw.clone())
            .with_context(|| format!("decoding message type {}", h.msg_type))?;
        let summary = summarize(&msg, &raw);
        obj["header"] = header_json(&h);
        obj["type_name"] = json!(msg.name());
        obj["typed"] = json!(!matches!(msg, Message::Unknown(_)));
        obj["summary"] = json!(summary);
        let constant = message_type_constant(h.msg_type).unwrap_or("?");
        let _ = write!(
            text,
            "\n          {} (type {} {constant}) seq={} tid={} prio={} v={} compat={} ack_seq={} \
             flags={:#x} front={} middle={} data={}",
            msg.name(),
            h.msg_type,
            h.seq,
            h.tid,
            h.priority,
            h.version,
            h.compat_version,
            h.ack_seq,
            h.flags,
            raw.front.len(),
            raw.middle.len(),
            raw.data.len(),
        );
        if !summary.is_empty() {
            let _ = write!(text, "\n          {summary}");
        }
    }
    emit(json, obj, text);
    Ok(())
}

fn header_json(h: &MsgHeader2) -> Value {
    json!({
        "seq": h.seq, "tid": h.tid, "type": h.msg_type, "priority": h.priority,
        "version": h.version, "data_pre_padding_len": h.data_pre_padding_len,
        "data_off": h.data_off, "ack_seq": h.ack_seq, "flags": h.flags,
        "compat_version": h.compat_version, "reserved": h.reserved,
    })
}

/// One line about a message's content.
fn summarize(msg: &Message, raw: &RawMessage) -> String {
    match msg {
        Message::Ping(m) => match m.text() {
            Some(t) => format!("text: {}", clip(t, 80)),
            None => format!("front {} bytes", m.front.len()),
        },
        Message::MonMap(m) => {
            let map = &m.monmap;
            let mons: Vec<String> = map
                .mon_info
                .values()
                .map(|i| format!("{}={}", i.name, i.public_addrs))
                .collect();
            format!(
                "monmap e{} fsid {} mons [{}] min_mon_release {}",
                map.epoch,
                map.fsid,
                mons.join(", "),
                map.min_mon_release
            )
        }
        Message::MonGetMap(_) => String::new(),
        Message::MonSubscribe(m) => {
            let subs: Vec<String> = m
                .what
                .iter()
                .map(|(k, v)| format!("{k}@{}/{}", v.start, v.flags))
                .collect();
            format!("subs [{}] hostname {:?}", subs.join(", "), m.hostname)
        }
        Message::MonSubscribeAck(m) => format!("interval {} fsid {}", m.interval, m.fsid),
        Message::MonGetVersion(m) => format!("handle {} what {:?}", m.handle, m.what),
        Message::MonGetVersionReply(m) => format!(
            "handle {} version {} oldest {}",
            m.handle, m.version, m.oldest_version
        ),
        Message::MonCommand(m) => format!("cmd {:?} fsid {} in {}B", m.cmd, m.fsid, m.data.len()),
        Message::MonCommandAck(m) => format!(
            "r {} rs {:?} cmd {:?} out {}B",
            m.r,
            m.rs,
            m.cmd,
            m.data.len()
        ),
        Message::Config(m) => format!("{} option(s)", m.config.len()),
        Message::GetConfig(m) => format!("name {} host {:?}", m.name, m.host),
        Message::Command(m) => format!("cmd {:?} fsid {} in {}B", m.cmd, m.fsid, m.data.len()),
        Message::MgrCommand(m) => {
            format!("cmd {:?} fsid {} in {}B", m.cmd, m.fsid, m.data.len())
        }
        Message::CommandReply(m) => format!("r {} rs {:?} out {}B", m.r, m.rs, m.data.len()),
        Message::MgrCommandReply(m) => {
            format!("r {} rs {:?} out {}B", m.r, m.rs, m.data.len())
        }
        Message::Unknown(_) => format!(
            "not decoded: front {}B middle {}B data {}B",
            raw.front.len(),
            raw.middle.len(),
            raw.data.len()
        ),
    }
}

/// `s` cut to at most `max` characters, with `...` when cut.
fn clip(s: &str, max: usize) -> String {
    let flat: String = s.chars().map(|c| if c == '\n' { ' ' } else { c }).collect();
    match flat.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &flat[..i]),
        None => flat,
    }
}

fn emit(json: bool, obj: Value, text: String) {
    if json {
        println!("{obj}");
    } else {
        println!("{text}");
    }
}
