//! MMonGetVersion (type 19) and MMonGetVersionReply (type 20), msgr2.md §6.6.7.

use super::codec::{decode_front, encode_front, front_only};
use super::{
    CEPH_MSG_MON_GET_VERSION, CEPH_MSG_MON_GET_VERSION_REPLY, CephMessage, MessageError,
    MsgHeader2, Payload,
};
use crate::wire::{Encode, Features};

/// MMonGetVersion (§6.6.7), H1 C1: asks for the latest epoch of a map. MonClient puts its tid
/// both in `handle` and in the header's `tid`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MMonGetVersion {
    /// Request handle, copied into the reply.
    pub handle: u64,
    /// The map: `"osdmap"`, `"mdsmap"`, `"fsmap"`, `"mgrmap"`, `"monmap"`, ...
    pub what: String,
}

impl CephMessage for MMonGetVersion {
    const TYPE: u16 = CEPH_MSG_MON_GET_VERSION;
    const NAME: &'static str = "MMonGetVersion";
    const HEAD_VERSION: u16 = 1;
    const COMPAT_VERSION: u16 = 1;

    fn encode_payload(&self, _features: Features) -> Payload {
        Payload::front(encode_front(|out| {
            self.handle.encode(out);
            self.what.encode(out);
        }))
    }

    fn decode_payload(header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError> {
        front_only::<Self>(payload)?;
        decode_front::<Self, _>(header, &payload.front, |r| {
            Ok(Self {
                handle: r.read_u64("MMonGetVersion.handle")?,
                what: r.decode()?,
            })
        })
    }
}

/// MMonGetVersionReply (§6.6.7), H2 C2. The header's tid is the request's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MMonGetVersionReply {
    /// The request's handle.
    pub handle: u64,
    /// Latest epoch.
    pub version: u64,
    /// Oldest epoch kept (version 2 and later; 0 from an older sender).
    pub oldest_version: u64,
}

impl CephMessage for MMonGetVersionReply {
    const TYPE: u16 = CEPH_MSG_MON_GET_VERSION_REPLY;
    const NAME: &'static str = "MMonGetVersionReply";
    const HEAD_VERSION: u16 = 2;
    const COMPAT_VERSION: u16 = 2;

    fn encode_payload(&self, _features: Features) -> Payload {
        Payload::front(encode_front(|out| {
            self.handle.encode(out);
            self.version.encode(out);
            self.oldest_version.encode(out);
        }))
    }

    fn decode_payload(header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError> {
        front_only::<Self>(payload)?;
        decode_front::<Self, _>(header, &payload.front, |r| {
            let handle = r.read_u64("MMonGetVersionReply.handle")?;
            let version = r.read_u64("MMonGetVersionReply.version")?;
            let oldest_version = if header.version >= 2 {
                r.read_u64("MMonGetVersionReply.oldest_version")?
            } else {
                0
            };
            Ok(Self {
                handle,
                version,
                oldest_version,
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
    fn spec_reply_bytes() {
        // §6.6.7: handle 77 gave `4d00.. 0100.. 0100..`.
        let mut front = vec![0x4d, 0, 0, 0, 0, 0, 0, 0];
        front.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        front.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        let raw = raw_of::<MMonGetVersionReply>(2, 2, &front, &[]);
        let reply = MMonGetVersionReply::from_raw(&raw).unwrap();
        assert_eq!(
            reply,
            MMonGetVersionReply {
                handle: 77,
                version: 1,
                oldest_version: 1
            }
        );
        assert_eq!(reply.to_raw(Features::EMPTY).front, front);
        // A version-1 sender has no oldest_version.
        let v1 = raw_of::<MMonGetVersionReply>(1, 1, &front[..16], &[]);
        assert_eq!(
            MMonGetVersionReply::from_raw(&v1).unwrap().oldest_version,
            0
        );
        // compat 3 is beyond us (§5.6).
        let v3 = raw_of::<MMonGetVersionReply>(3, 3, &front, &[]);
        assert!(matches!(
            MMonGetVersionReply::from_raw(&v3),
            Err(MessageError::IncompatibleVersion { supported: 2, .. })
        ));
    }

    #[test]
    fn request_layout() {
        let req = MMonGetVersion {
            handle: 77,
            what: "osdmap".into(),
        };
        let front = req.to_raw(Features::EMPTY).front;
        assert_eq!(&front[..], b"\x4d\0\0\0\0\0\0\0\x06\0\0\0osdmap");
    }

    proptest! {
        #[test]
        fn roundtrips(handle: u64, what in arb_string(), version: u64, oldest: u64) {
            let req = MMonGetVersion { handle, what };
            check_roundtrip(&req)?;
            check_prefixes_fail(&req)?;
            let reply = MMonGetVersionReply { handle, version, oldest_version: oldest };
            check_roundtrip(&reply)?;
            check_prefixes_fail(&reply)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            version in 0u16..4, compat in 0u16..4,
            front in prop::collection::vec(any::<u8>(), 0..40),
            data in prop::collection::vec(any::<u8>(), 0..4),
        ) {
            check_no_panic::<MMonGetVersion>(version, compat, &front, &data);
            check_no_panic::<MMonGetVersionReply>(version, compat, &front, &data);
        }
    }
}
