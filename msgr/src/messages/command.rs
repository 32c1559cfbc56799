//! MCommand (97) / MCommandReply (98), msgr2.md §6.6.10, and MMgrCommand (0x709) /
//! MMgrCommandReply (0x70A), §6.6.11, whose layouts are identical.

use bytes::Bytes;

use super::codec::{decode_front, encode_front, expect_empty};
use super::{
    CephMessage, MSG_COMMAND, MSG_COMMAND_REPLY, MSG_MGR_COMMAND, MSG_MGR_COMMAND_REPLY,
    MessageError, MsgHeader2, Payload,
};
use crate::wire::{Encode, Features, Uuid};

/// Defines a command message: `uuid fsid, string[] cmd` in the front, input in data.
macro_rules! command_message {
    ($(#[$doc:meta])* $name:ident, $ty:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name {
            /// The cluster's fsid: a real one marks a "tell"; all zeros from MgrClient's
            /// MMgrCommand (§6.6.11).
            pub fsid: Uuid,
            /// The command strings, normally one JSON object.
            pub cmd: Vec<String>,
            /// Command input (data segment), usually empty.
            pub data: Bytes,
        }

        impl $name {
            /// A command for cluster `fsid` with no input.
            pub fn new(fsid: Uuid, cmd: Vec<String>) -> Self {
                Self { fsid, cmd, data: Bytes::new() }
            }
        }

        impl CephMessage for $name {
            const TYPE: u16 = $ty;
            const NAME: &'static str = stringify!($name);
            const HEAD_VERSION: u16 = 1;
            const COMPAT_VERSION: u16 = 1;

            fn encode_payload(&self, _features: Features) -> Payload {
                let front = encode_front(|out| {
                    self.fsid.encode(out);
                    self.cmd.encode(out);
                });
                Payload::front_and_data(front, self.data.clone())
            }

            fn decode_payload(
                header: &MsgHeader2,
                payload: &Payload,
            ) -> Result<Self, MessageError> {
                expect_empty::<Self>("middle", &payload.middle)?;
                decode_front::<Self, _>(header, &payload.front, |r| {
                    Ok(Self { fsid: r.decode()?, cmd: r.decode()?, data: payload.data.clone() })
                })
            }
        }
    };
}

/// Defines a command reply: `i32 r, string rs` in the front, output in data.
macro_rules! command_reply {
    ($(#[$doc:meta])* $name:ident, $ty:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name {
            /// 0 or a negative errno.
            pub r: i32,
            /// Status string.
            pub rs: String,
            /// Command output (data segment).
            pub data: Bytes,
        }

        impl $name {
            /// A reply with result `r`, status `rs` and output `data`.
            pub fn new(r: i32, rs: impl Into<String>, data: Bytes) -> Self {
                Self { r, rs: rs.into(), data }
            }
        }

        impl CephMessage for $name {
            const TYPE: u16 = $ty;
            const NAME: &'static str = stringify!($name);
            const HEAD_VERSION: u16 = 1;
            const COMPAT_VERSION: u16 = 1;

            fn encode_payload(&self, _features: Features) -> Payload {
                let front = encode_front(|out| {
                    self.r.encode(out);
                    self.rs.encode(out);
                });
                Payload::front_and_data(front, self.data.clone())
            }

            fn decode_payload(
                header: &MsgHeader2,
                payload: &Payload,
            ) -> Result<Self, MessageError> {
                expect_empty::<Self>("middle", &payload.middle)?;
                decode_front::<Self, _>(header, &payload.front, |r| {
                    Ok(Self {
                        r: r.read_i32(concat!(stringify!($name), ".r"))?,
                        rs: r.decode()?,
                        data: payload.data.clone(),
                    })
                })
            }
        }
    };
}

command_message!(
    /// MCommand (§6.6.10), H1 C1: a "tell" command to a daemon (`ceph tell mgr.x ...`).
    MCommand,
    MSG_COMMAND
);
command_reply!(
    /// MCommandReply (§6.6.10), H1 C1: the daemon's answer; output in data.
    MCommandReply,
    MSG_COMMAND_REPLY
);
command_message!(
    /// MMgrCommand (§6.6.11), H1 C1: a mgr-routed CLI command (`ceph pg stat`), fsid zero.
    MMgrCommand,
    MSG_MGR_COMMAND
);
command_reply!(
    /// MMgrCommandReply (§6.6.11), H1 C1: the mgr's answer; output in data.
    MMgrCommandReply,
    MSG_MGR_COMMAND_REPLY
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::*;
    use proptest::prelude::*;

    #[test]
    fn spec_reply_front() {
        // §6.6.10: r = 0 and rs = "" is `00000000 00000000`, the output in data.
        let raw = raw_of::<MCommandReply>(1, 1, &[0; 8], b"{\"version\":\"16.2.15\"}");
        let reply = MCommandReply::from_raw(&raw).unwrap();
        assert_eq!(reply, MCommandReply::new(0, "", raw.data.clone()));
        assert!(MMgrCommandReply::from_raw(&raw).is_err(), "wrong type");
        let cmd = MMgrCommand::new(Uuid::NIL, vec!["{}".into()]);
        let front = cmd.to_raw(Features::EMPTY).front;
        assert_eq!(
            &front[..],
            b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\x02\0\0\0{}"
        );
    }

    proptest! {
        #[test]
        fn roundtrips(
            fsid in arb_uuid(), cmd in arb_strings(), data in arb_bytes(), r: i32,
            rs in arb_string(),
        ) {
            let tell = MCommand { fsid, cmd: cmd.clone(), data: data.clone() };
            check_roundtrip(&tell)?;
            check_prefixes_fail(&tell)?;
            let mgr = MMgrCommand { fsid, cmd, data: data.clone() };
            check_roundtrip(&mgr)?;
            check_prefixes_fail(&mgr)?;
            let reply = MCommandReply::new(r, rs.clone(), data.clone());
            check_roundtrip(&reply)?;
            check_prefixes_fail(&reply)?;
            let mgr_reply = MMgrCommandReply::new(r, rs, data);
            check_roundtrip(&mgr_reply)?;
            check_prefixes_fail(&mgr_reply)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            version in 0u16..3, compat in 0u16..3,
            front in prop::collection::vec(any::<u8>(), 0..64),
            data in prop::collection::vec(any::<u8>(), 0..4),
        ) {
            check_no_panic::<MCommand>(version, compat, &front, &data);
            check_no_panic::<MCommandReply>(version, compat, &front, &data);
            check_no_panic::<MMgrCommand>(version, compat, &front, &data);
            check_no_panic::<MMgrCommandReply>(version, compat, &front, &data);
        }
    }
}
