//! MMonGetMap (type 5, msgr2.md §6.6.2) and MMonMap (type 4, §6.6.3).

use super::codec::{decode_front, encode_front, front_only};
use super::{
    CEPH_MSG_MON_GET_MAP, CEPH_MSG_MON_MAP, CephMessage, MessageError, MonMap, MsgHeader2, Payload,
};
use crate::wire::{Decode, Encode, Features};

/// MMonGetMap (§6.6.2), H1 C1: asks the mon for its MonMap. The front is empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MMonGetMap;

impl CephMessage for MMonGetMap {
    const TYPE: u16 = CEPH_MSG_MON_GET_MAP;
    const NAME: &'static str = "MMonGetMap";
    const HEAD_VERSION: u16 = 1;
    const COMPAT_VERSION: u16 = 1;

    fn encode_payload(&self, _features: Features) -> Payload {
        Payload::default()
    }

    fn decode_payload(header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError> {
        front_only::<Self>(payload)?;
        decode_front::<Self, _>(header, &payload.front, |_| Ok(Self))
    }
}

/// MMonMap (§6.6.3), H1 C1: a `bufferlist` holding one [`MonMap`] (§6.6.4). The bufferlist
/// must hold exactly the map's envelope.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MMonMap {
    /// The map. Boxed: a MonMap is large, and [`Message`](super::Message) is as large as its largest
    /// variant; every received message moves through it.
    pub monmap: Box<MonMap>,
}

impl CephMessage for MMonMap {
    const TYPE: u16 = CEPH_MSG_MON_MAP;
    const NAME: &'static str = "MMonMap";
    const HEAD_VERSION: u16 = 1;
    const COMPAT_VERSION: u16 = 1;

    /// Always the SERVER_NAUTILUS form, `env(9, 6)`; Ceph writes the older `env(5, 3)` only to
    /// peers without SERVER_NAUTILUS (§6.5), which do not speak msgr2 to Pacific.
    fn encode_payload(&self, _features: Features) -> Payload {
        Payload::front(encode_front(|out| {
            // A bufferlist: u32 length, back-patched, then the map.
            let len_pos = out.len();
            0u32.encode(out);
            self.monmap.encode(out);
            let len = u32::try_from(out.len() - len_pos - 4).expect("MonMap longer than 4 GiB");
            out[len_pos..len_pos + 4].copy_from_slice(&len.to_le_bytes());
        }))
    }

    fn decode_payload(header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError> {
        front_only::<Self>(payload)?;
        decode_front::<Self, _>(header, &payload.front, |r| {
            let len = r.read_len("MMonMap.monmapbl length")?;
            let mut bl = r.sub_reader(len, "MMonMap.monmapbl")?;
            let monmap = MonMap::decode(&mut bl)?;
            bl.expect_end("MMonMap.monmapbl")?;
            Ok(Self {
                monmap: Box::new(monmap),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::messages::test_util::*;
    use crate::messages::{ElectionStrategy, MonInfo, UnknownTail};
    use crate::wire::{EntityAddrvec, MonFeatures, UTime, Uuid, encode_to_vec};
    use proptest::prelude::*;

    /// §6.6.4: the annotated 170-byte front of a captured MMonMap.
    const SPEC_FRONT: &str = "\
        a6 00 00 00 \
        09 06 a0 00 00 00 \
        11 11 11 11 22 22 33 33 44 44 55 55 55 55 55 55 \
        01 00 00 00 \
        cb 5a 01 6b 55 19 d3 02 \
        cb 5a 01 6b 55 19 d3 02 \
        01 01 08 00 00 00 ff 00 00 00 00 00 00 00 \
        01 01 08 00 00 00 00 00 00 00 00 00 00 00 \
        01 00 00 00 \
        01 00 00 00 61 \
        05 01 35 00 00 00 \
        01 00 00 00 61 \
        02 01 00 00 00 01 01 01 1c 00 00 00 02 00 00 00 \
        00 00 00 00 10 00 00 00 02 00 5b 04 7f 00 00 01 \
        00 00 00 00 00 00 00 00 \
        00 00 \
        00 00 \
        00 00 00 00 \
        01 00 00 00 01 00 00 00 61 \
        10 \
        00 00 00 00 \
        01 \
        00 00 00 00 \
        00 \
        00 00 00 00 \
        00 00 00 00";

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn spec_map() -> MonMap {
        let fsid: Uuid = "11111111-2222-3333-4444-555555555555".parse().unwrap();
        let mut map = MonMap::new(fsid, 1);
        let t = UTime::new(0x6b01_5acb, 0x02d3_1955);
        map.last_changed = t;
        map.created = t;
        let addr = "v2:127.0.0.1:23300/0".parse().unwrap();
        map.add_mon(MonInfo::new("a", EntityAddrvec::single(addr)));
        map
    }

    #[test]
    fn spec_front_decodes_and_reencodes() {
        let front = unhex(SPEC_FRONT);
        assert_eq!(front.len(), 170);
        let raw = raw_of::<MMonMap>(1, 1, &front, &[]);
        let msg = MMonMap::from_raw(&raw).unwrap();
        assert_eq!(*msg.monmap, spec_map());
        assert_eq!(msg.to_raw(Features::EMPTY).front, front);
    }

    #[test]
    fn get_map_is_empty() {
        let raw = MMonGetMap.to_raw(Features::EMPTY);
        assert!(raw.front.is_empty() && raw.data.is_empty());
        assert_eq!(MMonGetMap::from_raw(&raw).unwrap(), MMonGetMap);
        assert!(MMonGetMap::from_raw(&raw_of::<MMonGetMap>(1, 1, &[0], &[])).is_err());
        // A newer sender may add fields; they are skipped (§5.6).
        assert!(MMonGetMap::from_raw(&raw_of::<MMonGetMap>(2, 1, &[0], &[])).is_ok());
        assert!(MMonGetMap::from_raw(&raw_of::<MMonGetMap>(2, 2, &[], &[])).is_err());
    }

    #[test]
    fn newer_map_keeps_unknown_fields() {
        let mut map = spec_map();
        map.unknown = Some(UnknownTail {
            struct_v: 10,
            struct_compat: 6,
            bytes: vec![1, 2, 3].into(),
        });
        let bytes = encode_to_vec(&map);
        assert_eq!(&bytes[..2], &[10, 6]);
        let back: MonMap = crate::wire::decode_exact(&bytes).unwrap();
        assert_eq!(back, map);
        // An incompatible one is refused, and so is a pre-Nautilus one.
        let mut bytes = encode_to_vec(&spec_map());
        bytes[1] = 10;
        assert!(crate::wire::decode_exact::<MonMap>(&bytes).is_err());
        bytes[..2].copy_from_slice(&[5, 3]);
        assert!(crate::wire::decode_exact::<MonMap>(&bytes).is_err());
    }

    #[test]
    fn older_map_versions_decode() {
        // v8 lacks the v9 fields: cut them off the spec map and patch the header.
        let full = encode_to_vec(&spec_map());
        let v9_fields = 4 + 1 + 4 + 1 + 4 + 4;
        let mut v8 = full[..full.len() - v9_fields].to_vec();
        v8[0] = 8;
        let len = (v8.len() - 6) as u32;
        v8[2..6].copy_from_slice(&len.to_le_bytes());
        let map: MonMap = crate::wire::decode_exact(&v8).unwrap();
        assert_eq!(map.min_mon_release, 16);
        assert_eq!(map.ranks, ["a"]);
        assert_eq!(map.unknown, None);
    }

    fn arb_mon_info() -> impl Strategy<Value = MonInfo> {
        (
            arb_string(),
            arb_addrvec(),
            any::<u16>(),
            any::<u16>(),
            prop::collection::btree_map(arb_string(), arb_string(), 0..2),
        )
            .prop_map(
                |(name, public_addrs, priority, weight, crush_loc)| MonInfo {
                    name,
                    public_addrs,
                    priority,
                    weight,
                    crush_loc,
                    unknown: None,
                },
            )
    }

    /// No tail, or one that differs from what our encoder writes at (`v`, `c`).
    fn arb_tail(v: u8, c: u8) -> impl Strategy<Value = Option<UnknownTail>> {
        let tail = (v..=12u8, 1..=v, arb_bytes()).prop_map(|(struct_v, struct_compat, bytes)| {
            UnknownTail {
                struct_v,
                struct_compat,
                bytes,
            }
        });
        proptest::option::of(tail).prop_map(move |t| {
            t.filter(|t| t.struct_v != v || t.struct_compat != c || !t.bytes.is_empty())
        })
    }

    prop_compose! {
        fn arb_monmap()(
            fsid in arb_uuid(), epoch: u32, t1: (u32, u32), t2: (u32, u32), pf: u64, of: u64,
            mons in prop::collection::vec((arb_mon_info(), arb_tail(5, 1)), 0..3),
            ranks in arb_strings(), release: u8,
            removed in prop::collection::btree_set(any::<i32>(), 0..3), strategy: u8,
            disallowed in prop::collection::btree_set(arb_string(), 0..2), stretch: bool,
            tiebreaker in arb_string(),
            down in prop::collection::btree_set(arb_string(), 0..2),
            unknown in arb_tail(9, 6),
        ) -> MonMap {
            let mon_info: BTreeMap<String, MonInfo> = mons.into_iter().map(|(mut m, tail)| {
                m.unknown = tail;
                (m.name.clone(), m)
            }).collect();
            MonMap {
                fsid, epoch, last_changed: UTime::new(t1.0, t1.1), created: UTime::new(t2.0, t2.1),
                persistent_features: MonFeatures(pf), optional_features: MonFeatures(of),
                mon_info, ranks, min_mon_release: release, removed_ranks: removed,
                strategy: ElectionStrategy(strategy), disallowed_leaders: disallowed,
                stretch_mode_enabled: stretch, tiebreaker_mon: tiebreaker,
                stretch_marked_down_mons: down, unknown,
            }
        }
    }

    proptest! {
        #[test]
        fn roundtrips(monmap in arb_monmap()) {
            let msg = MMonMap { monmap: Box::new(monmap) };
            check_roundtrip(&msg)?;
            check_prefixes_fail(&msg)?;
            check_roundtrip(&MMonGetMap)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            version in 0u16..3, compat in 0u16..3,
            front in prop::collection::vec(any::<u8>(), 0..200),
            data in prop::collection::vec(any::<u8>(), 0..4),
        ) {
            check_no_panic::<MMonMap>(version, compat, &front, &data);
            check_no_panic::<MMonGetMap>(version, compat, &front, &data);
        }

        #[test]
        fn mutated_spec_front_never_panics(at in 0usize..170, byte: u8) {
            let mut front = unhex(SPEC_FRONT);
            front[at] = byte;
            check_no_panic::<MMonMap>(1, 1, &front, &[]);
        }
    }

    #[test]
    fn sets_use_ceph_order() {
        let mut map = spec_map();
        map.removed_ranks = BTreeSet::from([3, -1]);
        let bytes = encode_to_vec(&map);
        let back: MonMap = crate::wire::decode_exact(&bytes).unwrap();
        assert_eq!(
            back.removed_ranks.iter().copied().collect::<Vec<_>>(),
            [-1, 3]
        );
    }
}
