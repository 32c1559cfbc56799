//! The input layout of the `message_decode` target:
//!
//! ```text
//! u16 type | u16 version | u16 compat_version | u32 front_len | u32 middle_len | front | middle | data
//! ```
//!
//! little endian, short inputs padded with zeros; each length is taken modulo what is left
//! plus one, so every input is valid and a seed's exact lengths are kept.

use bytes::Bytes;
use msgr::messages::{MsgHeader2, Payload, RawMessage};

/// Size of the fixed part.
pub const HEADER_LEN: usize = 14;

/// The message `data` describes: a header from [`MsgHeader2::new`] with the type and versions,
/// and the three segments.
pub fn decode(data: &[u8]) -> RawMessage {
    let mut head = [0u8; HEADER_LEN];
    let n = HEADER_LEN.min(data.len());
    head[..n].copy_from_slice(&data[..n]);
    let rest = &data[n..];
    let u16_at = |i: usize| u16::from_le_bytes([head[i], head[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let header = MsgHeader2::new(u16_at(0), u16_at(2), u16_at(4));
    let front_len = u32_at(6) as usize % (rest.len() + 1);
    let (front, rest) = rest.split_at(front_len);
    let middle_len = u32_at(10) as usize % (rest.len() + 1);
    let (middle, data) = rest.split_at(middle_len);
    RawMessage::from_payload(
        header,
        Payload {
            front: Bytes::copy_from_slice(front),
            middle: Bytes::copy_from_slice(middle),
            data: Bytes::copy_from_slice(data),
        },
    )
}

/// The input that [`decode`]s to `raw`'s type, versions and segments.
pub fn encode(raw: &RawMessage) -> Vec<u8> {
    let h = &raw.header;
    let mut out =
        Vec::with_capacity(HEADER_LEN + raw.front.len() + raw.middle.len() + raw.data.len());
    out.extend_from_slice(&h.msg_type.to_le_bytes());
    out.extend_from_slice(&h.version.to_le_bytes());
    out.extend_from_slice(&h.compat_version.to_le_bytes());
    out.extend_from_slice(&(raw.front.len() as u32).to_le_bytes());
    out.extend_from_slice(&(raw.middle.len() as u32).to_le_bytes());
    out.extend_from_slice(&raw.front);
    out.extend_from_slice(&raw.middle);
    out.extend_from_slice(&raw.data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut raw = RawMessage::new(MsgHeader2::new(0x32, 1, 1), Bytes::from_static(b"front"));
        raw.data = Bytes::from_static(b"data!");
        let got = decode(&encode(&raw));
        assert_eq!(got, raw);
        assert_eq!(decode(&[]).front.len(), 0);
    }
}
