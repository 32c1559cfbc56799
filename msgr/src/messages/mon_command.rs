//! MMonCommand (type 50) and MMonCommandAck (type 51), msgr2.md §6.6.8.

use bytes::Bytes;

use super::codec::{decode_front, encode_front, expect_empty};
use super::{CephMessage, MSG_MON_COMMAND, MSG_MON_COMMAND_ACK, MessageError, MsgHeader2, Payload};
use crate::wire::{Encode, Features, PaxosHeader, Uuid};

/// MMonCommand (§6.6.8), H1 C1: a CLI command for the mon. The front is the paxos header,
/// the fsid and the command strings; the data segment carries the input (`-i file`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MMonCommand {
    /// PaxosServiceMessage header (§6.4.1): version 0 in requests.
    pub paxos: PaxosHeader,
    /// Must match the mon's fsid, or the mon answers r = −1, "wrong fsid".
    pub fsid: Uuid,
    /// Normally one JSON object, e.g. `{"prefix": "status"}`.
    pub cmd: Vec<String>,
    /// Command input (data segment), usually empty.
    pub data: Bytes,
}

impl MMonCommand {
    /// A request for cluster `fsid` running `cmd`, with no input.
    pub fn new(fsid: Uuid, cmd: Vec<String>) -> Self {
        Self {
            paxos: PaxosHeader::default(),
            fsid,
            cmd,
            data: Bytes::new(),
        }
    }
}

impl CephMessage for MMonCommand {
    const TYPE: u16 = MSG_MON_COMMAND;
    const NAME: &'static str = "MMonCommand";
    const HEAD_VERSION: u16 = 1;
    const COMPAT_VERSION: u16 = 1;

    fn encode_payload(&self, _features: Features) -> Payload {
        let front = encode_front(|out| {
            self.paxos.encode(out);
            self.fsid.encode(out);
            self.cmd.encode(out);
        });
        Payload::front_and_data(front, self.data.clone())
    }

    fn decode_payload(header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError> {
        expect_empty::<Self>("middle", &payload.middle)?;
        decode_front::<Self, _>(header, &payload.front, |r| {
            Ok(Self {
                paxos: r.decode()?,
                fsid: r.decode()?,
                cmd: r.decode()?,
                data: payload.data.clone(),
            })
        })
    }
}

/// MMonCommandAck (§6.6.8), H1 C1: the mon's answer. The CLI prints `data` to stdout and `rs`
/// to stderr. The header's tid must be the request's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MMonCommandAck {
    /// PaxosServiceMessage header: version 0 or a map version.
    pub paxos: PaxosHeader,
    /// 0 or a negative errno, e.g. −22 (EINVAL) for an unknown command.
    pub r: i32,
    /// Status string, e.g. `"command not known"`.
    pub rs: String,
    /// The request's `cmd`, echoed.
    pub cmd: Vec<String>,
    /// Command output (data segment).
    pub data: Bytes,
}

impl MMonCommandAck {
    /// The answer to `request`: `cmd` echoed, paxos version 0.
    pub fn reply_to(request: &MMonCommand, r: i32, rs: impl Into<String>, data: Bytes) -> Self {
        Self {
            paxos: PaxosHeader::default(),
            r,
            rs: rs.into(),
            cmd: request.cmd.clone(),
            data,
        }
    }
}

impl CephMessage for MMonCommandAck {
    const TYPE: u16 = MSG_MON_COMMAND_ACK;
    const NAME: &'static str = "MMonCommandAck";
    const HEAD_VERSION: u16 = 1;
    const COMPAT_VERSION: u16 = 1;

    fn encode_payload(&self, _features: Features) -> Payload {
        let front = encode_front(|out| {
            self.paxos.encode(out);
            self.r.encode(out);
            self.rs.encode(out);
            self.cmd.encode(out);
        });
        Payload::front_and_data(front, self.data.clone())
    }

    fn decode_payload(header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError> {
        expect_empty::<Self>("middle", &payload.middle)?;
        decode_front::<Self, _>(header, &payload.front, |r| {
            Ok(Self {
                paxos: r.decode()?,
                r: r.read_i32("MMonCommandAck.r")?,
                rs: r.decode()?,
                cmd: r.decode()?,
                data: payload.data.clone(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::*;
    use proptest::prelude::*;

    #[test]
    fn spec_ack_front() {
        // §5.7: r = 0, rs = "", cmd = [], data "ok\n"; front is 30 bytes.
        let mut front = vec![0u8; 8];
        front.extend_from_slice(&[0xff, 0xff]);
        front.extend_from_slice(&[0; 20]);
        let raw = raw_of::<MMonCommandAck>(1, 1, &front, b"ok\n");
        let ack = MMonCommandAck::from_raw(&raw).unwrap();
        assert_eq!(ack.r, 0);
        assert_eq!(ack.rs, "");
        assert!(ack.cmd.is_empty());
        assert_eq!(&ack.data[..], b"ok\n");
        assert_eq!(ack.to_raw(Features::EMPTY).payload(), raw.payload());
    }

    #[test]
    fn request_layout() {
        let cmd = MMonCommand::new(Uuid([0x11; 16]), vec![r#"{"prefix": "status"}"#.into()]);
        let front = cmd.to_raw(Features::EMPTY).front;
        assert_eq!(front.len(), 18 + 16 + 4 + 4 + 20);
        assert_eq!(
            &front[..18],
            &crate::wire::encode_to_vec(&PaxosHeader::default())[..]
        );
        let ack = MMonCommandAck::reply_to(&cmd, -22, "command not known", Bytes::new());
        assert_eq!(ack.cmd, cmd.cmd);
        let mut bad = cmd.to_raw(Features::EMPTY);
        bad.middle = Bytes::from_static(b"x");
        assert!(matches!(
            MMonCommand::from_raw(&bad),
            Err(MessageError::UnexpectedSegment {
                segment: "middle",
                ..
            })
        ));
    }

    prop_compose! {
        fn arb_paxos()(version: u64, mon: i16, tid: u64) -> PaxosHeader {
            PaxosHeader { version, deprecated_session_mon: mon, deprecated_session_mon_tid: tid }
        }
    }

    proptest! {
        #[test]
        fn roundtrips(
            paxos in arb_paxos(), fsid in arb_uuid(), cmd in arb_strings(), data in arb_bytes(),
            r: i32, rs in arb_string(),
        ) {
            let req = MMonCommand { paxos, fsid, cmd: cmd.clone(), data: data.clone() };
            check_roundtrip(&req)?;
            check_prefixes_fail(&req)?;
            let ack = MMonCommandAck { paxos, r, rs, cmd, data };
            check_roundtrip(&ack)?;
            check_prefixes_fail(&ack)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            version in 0u16..3, compat in 0u16..3,
            front in prop::collection::vec(any::<u8>(), 0..96),
            data in prop::collection::vec(any::<u8>(), 0..4),
        ) {
            check_no_panic::<MMonCommand>(version, compat, &front, &data);
            check_no_panic::<MMonCommandAck>(version, compat, &front, &data);
        }
    }
}
