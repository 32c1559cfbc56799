//! MMonSubscribe (type 15, msgr2.md §6.6.5) and MMonSubscribeAck (type 16, §6.6.6).

use std::collections::BTreeMap;

use super::codec::{decode_front, encode_front, front_only};
use super::{
    CEPH_MSG_MON_SUBSCRIBE, CEPH_MSG_MON_SUBSCRIBE_ACK, CephMessage, MessageError, MsgHeader2,
    Payload,
};
use crate::wire::{Decode, DecodeError, Encode, Features, Reader, Uuid};

/// `CEPH_SUBSCRIBE_ONETIME`: send the map once, then forget the subscription (§6.6.5).
pub const CEPH_SUBSCRIBE_ONETIME: u8 = 1;

/// One subscription, `ceph_mon_subscribe_item`: 9 bytes, no envelope (§6.6.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SubscribeItem {
    /// The first epoch wanted; 0 means "current".
    pub start: u64,
    /// Bit 0: [`CEPH_SUBSCRIBE_ONETIME`].
    pub flags: u8,
}

impl SubscribeItem {
    /// A subscription from epoch `start` with `flags`.
    pub const fn new(start: u64, flags: u8) -> Self {
        Self { start, flags }
    }

    /// Whether [`CEPH_SUBSCRIBE_ONETIME`] is set.
    pub const fn is_onetime(&self) -> bool {
        self.flags & CEPH_SUBSCRIBE_ONETIME != 0
    }
}

impl Encode for SubscribeItem {
    fn encode(&self, out: &mut Vec<u8>) {
        self.start.encode(out);
        self.flags.encode(out);
    }
}

impl Decode for SubscribeItem {
    const MIN_ENCODED_LEN: usize = 9;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            start: r.read_u64("ceph_mon_subscribe_item.start")?,
            flags: r.read_u8("ceph_mon_subscribe_item.flags")?,
        })
    }
}

/// The 17-byte item of version-1 senders: `u64 unused, u64 have, u8 onetime` (§6.6.5).
struct OldItem(SubscribeItem);

impl Decode for OldItem {
    const MIN_ENCODED_LEN: usize = 17;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.skip(8, "ceph_mon_subscribe_item_old.unused")?;
        let have = r.read_u64("ceph_mon_subscribe_item_old.have")?;
        let onetime = r.read_u8("ceph_mon_subscribe_item_old.onetime")?;
        // They named the epoch they had; the new form names the first one wanted.
        let start = if have == 0 { 0 } else { have.wrapping_add(1) };
        let flags = if onetime != 0 {
            CEPH_SUBSCRIBE_ONETIME
        } else {
            0
        };
        Ok(Self(SubscribeItem { start, flags }))
    }
}

/// MMonSubscribe (§6.6.5), H3 C1: adds or updates subscriptions in the session's table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MMonSubscribe {
    /// Subscriptions by name: `monmap`, `config`, `mgrmap`, `osdmap`, ...
    pub what: BTreeMap<String, SubscribeItem>,
    /// The client's short hostname (version 3 and later; empty from older senders).
    pub hostname: String,
}

impl MMonSubscribe {
    /// Adds (or replaces) the subscription `name` from epoch `start` with `flags`.
    pub fn sub_want(&mut self, name: impl Into<String>, start: u64, flags: u8) -> &mut Self {
        self.what
            .insert(name.into(), SubscribeItem::new(start, flags));
        self
    }
}

impl CephMessage for MMonSubscribe {
    const TYPE: u16 = CEPH_MSG_MON_SUBSCRIBE;
    const NAME: &'static str = "MMonSubscribe";
    const HEAD_VERSION: u16 = 3;
    const COMPAT_VERSION: u16 = 1;

    fn encode_payload(&self, _features: Features) -> Payload {
        Payload::front(encode_front(|out| {
            self.what.encode(out);
            self.hostname.encode(out);
        }))
    }

    /// Version 1 carries 17-byte items, version 2 the 9-byte ones without a hostname,
    /// version 3 adds the hostname (§6.6.5).
    fn decode_payload(header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError> {
        front_only::<Self>(payload)?;
        decode_front::<Self, _>(header, &payload.front, |r| {
            if header.version < 2 {
                let old: BTreeMap<String, OldItem> = r.decode()?;
                let what = old.into_iter().map(|(k, v)| (k, v.0)).collect();
                return Ok(Self {
                    what,
                    hostname: String::new(),
                });
            }
            let what = r.decode()?;
            let hostname = if header.version >= 3 {
                r.decode()?
            } else {
                String::new()
            };
            Ok(Self { what, hostname })
        })
    }
}

/// MMonSubscribeAck (§6.6.6), H1 C1: the renewal interval and the fsid. A Pacific mon sends
/// it only to peers without MON_STATEFUL_SUB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MMonSubscribeAck {
    /// Seconds between renewals (the mon sent 86400).
    pub interval: u32,
    /// The cluster's fsid.
    pub fsid: Uuid,
}

impl CephMessage for MMonSubscribeAck {
    const TYPE: u16 = CEPH_MSG_MON_SUBSCRIBE_ACK;
    const NAME: &'static str = "MMonSubscribeAck";
    const HEAD_VERSION: u16 = 1;
    const COMPAT_VERSION: u16 = 1;

    fn encode_payload(&self, _features: Features) -> Payload {
        Payload::front(encode_front(|out| {
            self.interval.encode(out);
            self.fsid.encode(out);
        }))
    }

    fn decode_payload(header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError> {
        front_only::<Self>(payload)?;
        decode_front::<Self, _>(header, &payload.front, |r| {
            Ok(Self {
                interval: r.read_u32("MMonSubscribeAck.interval")?,
                fsid: r.decode()?,
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
    fn spec_example_front() {
        // §5.7: {config: {0, 0}, monmap: {0, 0}}, hostname "myhost": 52 bytes.
        let mut msg = MMonSubscribe::default();
        msg.sub_want("monmap", 0, 0).sub_want("config", 0, 0);
        msg.hostname = "myhost".into();
        let front = msg.to_raw(Features::EMPTY).front;
        let mut expected = vec![2, 0, 0, 0, 6, 0, 0, 0];
        expected.extend_from_slice(b"config");
        expected.extend_from_slice(&[0; 9]);
        expected.extend_from_slice(&[6, 0, 0, 0]);
        expected.extend_from_slice(b"monmap");
        expected.extend_from_slice(&[0; 9]);
        expected.extend_from_slice(&[6, 0, 0, 0]);
        expected.extend_from_slice(b"myhost");
        assert_eq!(front.len(), 52);
        assert_eq!(&front[..], &expected[..]);
    }

    #[test]
    fn older_versions_decode() {
        // v2: 9-byte item, no hostname.
        let mut v2 = vec![1, 0, 0, 0, 6, 0, 0, 0];
        v2.extend_from_slice(b"osdmap");
        v2.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0, 1]);
        let got = MMonSubscribe::from_raw(&raw_of::<MMonSubscribe>(2, 1, &v2, &[])).unwrap();
        assert_eq!(got.what["osdmap"], SubscribeItem::new(5, 1));
        assert!(got.what["osdmap"].is_onetime());
        assert_eq!(got.hostname, "");
        // v1: 17-byte item; "have 5" means "start 6".
        let mut v1 = vec![2, 0, 0, 0, 6, 0, 0, 0];
        v1.extend_from_slice(b"monmap");
        v1.extend_from_slice(&[9; 8]);
        v1.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0, 7]);
        v1.extend_from_slice(&[6, 0, 0, 0]);
        v1.extend_from_slice(b"osdmap");
        v1.extend_from_slice(&[0; 17]);
        let got = MMonSubscribe::from_raw(&raw_of::<MMonSubscribe>(1, 1, &v1, &[])).unwrap();
        assert_eq!(got.what["monmap"], SubscribeItem::new(6, 1));
        assert_eq!(got.what["osdmap"], SubscribeItem::new(0, 0));
    }

    #[test]
    fn ack_layout() {
        let ack = MMonSubscribeAck {
            interval: 86400,
            fsid: Uuid([7; 16]),
        };
        let front = ack.to_raw(Features::EMPTY).front;
        assert_eq!(&front[..4], &86400u32.to_le_bytes());
        assert_eq!(&front[4..], &[7; 16]);
    }

    prop_compose! {
        fn arb_subscribe()(
            what in prop::collection::btree_map(arb_string(), (any::<u64>(), any::<u8>()), 0..4),
            hostname in arb_string(),
        ) -> MMonSubscribe {
            let what = what.into_iter().map(|(k, (s, f))| (k, SubscribeItem::new(s, f))).collect();
            MMonSubscribe { what, hostname }
        }
    }

    proptest! {
        #[test]
        fn roundtrips(msg in arb_subscribe(), interval: u32, fsid in arb_uuid()) {
            check_roundtrip(&msg)?;
            check_prefixes_fail(&msg)?;
            let ack = MMonSubscribeAck { interval, fsid };
            check_roundtrip(&ack)?;
            check_prefixes_fail(&ack)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            version in 0u16..5, compat in 0u16..4,
            front in prop::collection::vec(any::<u8>(), 0..80),
            data in prop::collection::vec(any::<u8>(), 0..4),
        ) {
            check_no_panic::<MMonSubscribe>(version, compat, &front, &data);
            check_no_panic::<MMonSubscribeAck>(version, compat, &front, &data);
        }
    }
}
