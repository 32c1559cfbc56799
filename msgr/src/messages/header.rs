//! `ceph_msg_header2` (msgr2.md §5.2) and the message priorities (§5.4).

use crate::wire::{Decode, DecodeError, Encode, Reader};

/// `CEPH_MSG_PRIO_LOW` (§5.4).
pub const CEPH_MSG_PRIO_LOW: u16 = 64;
/// `CEPH_MSG_PRIO_DEFAULT` (§5.4): what clients and mgrs send.
pub const CEPH_MSG_PRIO_DEFAULT: u16 = 127;
/// `CEPH_MSG_PRIO_HIGH` (§5.4): what a mon sends every reply at.
pub const CEPH_MSG_PRIO_HIGH: u16 = 196;
/// `CEPH_MSG_PRIO_HIGHEST` (§5.4): used in the sender's queue for requeued messages; the header
/// keeps the message's own priority.
pub const CEPH_MSG_PRIO_HIGHEST: u16 = 255;

/// Legacy footer flag `CEPH_MSG_FOOTER_COMPLETE` (§5.2).
pub const CEPH_MSG_FOOTER_COMPLETE: u8 = 1;
/// Legacy footer flag `CEPH_MSG_FOOTER_NOCRC` (§5.2).
pub const CEPH_MSG_FOOTER_NOCRC: u8 = 2;
/// Legacy footer flag `CEPH_MSG_FOOTER_SIGNED` (§5.2).
pub const CEPH_MSG_FOOTER_SIGNED: u8 = 4;
/// The `flags` byte Ceph userspace writes: COMPLETE | NOCRC = 3 (§5.2 \[VERIFIED\]).
pub const CEPH_USERSPACE_HEADER_FLAGS: u8 = CEPH_MSG_FOOTER_COMPLETE | CEPH_MSG_FOOTER_NOCRC;

/// The 41-byte packed little-endian header in segment 0 of every MESSAGE frame (§5.2).
///
/// msgr2 carries no front/middle/data lengths here (they are the frame's segment lengths,
/// §5.1), no source name (the session's peer, §5.2) and no per-message CRCs (§5.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MsgHeader2 {
    /// Per-session message sequence number, starting at 1 (§4.7).
    pub seq: u64,
    /// Transaction id: requests carry the caller's, replies copy it; 0 when unsolicited.
    pub tid: u64,
    /// Message type (§5.5), e.g. [`CEPH_MSG_PING`](super::CEPH_MSG_PING).
    pub msg_type: u16,
    /// Priority (§5.4). It never changes how a receiver handles the message.
    pub priority: u16,
    /// Encoding version of the payload, the sender's HEAD_VERSION (§5.6).
    pub version: u16,
    /// Always 0 in Pacific.
    pub data_pre_padding_len: u32,
    /// Alignment hint for the data segment (OSD ops); 0 otherwise.
    pub data_off: u16,
    /// The sender's `in_seq` when it sent this message: a piggybacked ack (§4.7).
    pub ack_seq: u64,
    /// The legacy footer flags: 3 from Ceph userspace, 0 from the kernel. Receivers ignore it.
    pub flags: u8,
    /// Oldest decoder version that can read the payload, the sender's COMPAT_VERSION (§5.6).
    pub compat_version: u16,
    /// Reserved, 0.
    pub reserved: u16,
}

impl MsgHeader2 {
    /// Encoded size: 41 bytes (§5.2).
    pub const LEN: usize = 41;

    /// A header for a message of type `msg_type` encoded at (`version`, `compat_version`),
    /// at [`CEPH_MSG_PRIO_DEFAULT`] with Ceph userspace's flags (3). `seq`, `tid` and
    /// `ack_seq` are 0: the session sets `seq` and `ack_seq` when it sends (§4.7).
    pub const fn new(msg_type: u16, version: u16, compat_version: u16) -> Self {
        Self {
            seq: 0,
            tid: 0,
            msg_type,
            priority: CEPH_MSG_PRIO_DEFAULT,
            version,
            data_pre_padding_len: 0,
            data_off: 0,
            ack_seq: 0,
            flags: CEPH_USERSPACE_HEADER_FLAGS,
            compat_version,
            reserved: 0,
        }
    }

    /// The 41 bytes of this header.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[0..8].copy_from_slice(&self.seq.to_le_bytes());
        b[8..16].copy_from_slice(&self.tid.to_le_bytes());
        b[16..18].copy_from_slice(&self.msg_type.to_le_bytes());
        b[18..20].copy_from_slice(&self.priority.to_le_bytes());
        b[20..22].copy_from_slice(&self.version.to_le_bytes());
        b[22..26].copy_from_slice(&self.data_pre_padding_len.to_le_bytes());
        b[26..28].copy_from_slice(&self.data_off.to_le_bytes());
        b[28..36].copy_from_slice(&self.ack_seq.to_le_bytes());
        b[36] = self.flags;
        b[37..39].copy_from_slice(&self.compat_version.to_le_bytes());
        b[39..41].copy_from_slice(&self.reserved.to_le_bytes());
        b
    }

    /// Decodes a header that must be exactly [`Self::LEN`] bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        crate::wire::decode_exact(bytes)
    }
}

impl Encode for MsgHeader2 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }
}

impl Decode for MsgHeader2 {
    const MIN_ENCODED_LEN: usize = Self::LEN;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            seq: r.read_u64("ceph_msg_header2.seq")?,
            tid: r.read_u64("ceph_msg_header2.tid")?,
            msg_type: r.read_u16("ceph_msg_header2.type")?,
            priority: r.read_u16("ceph_msg_header2.priority")?,
            version: r.read_u16("ceph_msg_header2.version")?,
            data_pre_padding_len: r.read_u32("ceph_msg_header2.data_pre_padding_len")?,
            data_off: r.read_u16("ceph_msg_header2.data_off")?,
            ack_seq: r.read_u64("ceph_msg_header2.ack_seq")?,
            flags: r.read_u8("ceph_msg_header2.flags")?,
            compat_version: r.read_u16("ceph_msg_header2.compat_version")?,
            reserved: r.read_u16("ceph_msg_header2.reserved")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Segment 0 of the MMonCommandAck example in §5.7 (bytes 0x20..0x49).
    const SPEC_ACK_HEADER: [u8; 41] = [
        0x03, 0, 0, 0, 0, 0, 0, 0, 0x07, 0, 0, 0, 0, 0, 0, 0, 0x33, 0x00, 0xc4, 0x00, 0x01, 0x00,
        0, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x01, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn spec_example_fields() {
        let h = MsgHeader2::from_bytes(&SPEC_ACK_HEADER).unwrap();
        assert_eq!(h.seq, 3);
        assert_eq!(h.tid, 7);
        assert_eq!(h.msg_type, super::super::MSG_MON_COMMAND_ACK);
        assert_eq!(h.priority, CEPH_MSG_PRIO_HIGH);
        assert_eq!((h.version, h.compat_version), (1, 1));
        assert_eq!(h.ack_seq, 3);
        assert_eq!(h.flags, CEPH_USERSPACE_HEADER_FLAGS);
        assert_eq!(h.to_bytes(), SPEC_ACK_HEADER);
    }

    #[test]
    fn new_matches_ceph_userspace_defaults() {
        let mut h = MsgHeader2::new(5, 1, 1);
        h.seq = 1;
        // §5.7 MMonGetMap: segment 0 at bytes 0x20..0x49.
        let expected: [u8; 41] = [
            1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, 0x00, 0x7f, 0x00, 0x01, 0x00, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x01, 0x00, 0x00, 0x00,
        ];
        assert_eq!(h.to_bytes(), expected);
    }

    #[test]
    fn wrong_length_is_an_error() {
        assert!(MsgHeader2::from_bytes(&SPEC_ACK_HEADER[..40]).is_err());
        let mut long = SPEC_ACK_HEADER.to_vec();
        long.push(0);
        assert!(MsgHeader2::from_bytes(&long).is_err());
    }

    proptest! {
        #[test]
        fn roundtrips(
            seq: u64, tid: u64, msg_type: u16, priority: u16, version: u16, pad: u32,
            data_off: u16, ack_seq: u64, flags: u8, compat: u16, reserved: u16,
        ) {
            let h = MsgHeader2 {
                seq, tid, msg_type, priority, version, data_pre_padding_len: pad, data_off,
                ack_seq, flags, compat_version: compat, reserved,
            };
            let bytes = h.to_bytes();
            prop_assert_eq!(MsgHeader2::from_bytes(&bytes).unwrap(), h);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = MsgHeader2::from_bytes(&data);
        }
    }
}
