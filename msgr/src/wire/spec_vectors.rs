//! Whole payloads from msgr2.md decoded and re-encoded with the wire types: the CLIENT_IDENT
//! (§3.6) and SERVER_IDENT (§3.3.8) payloads and the captured MMonMap front (§6.6.4). They
//! exercise addresses, address vectors, features, envelopes nested in maps, uuid and utime
//! together, byte for byte.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::features::{CEPH_FEATURES_ALL, LIBRADOS_REQUIRED, PACIFIC_MON_REQUIRED_FROM_CLIENTS};
use super::{
    AddrType, Decode, DecodeError, Encode, EntityAddr, EntityAddrvec, Features, MonFeatures,
    Reader, UTime, Uuid, decode_envelope, decode_exact, decode_exact_bytes, encode_envelope,
    encode_to_vec,
};

const CLIENT_IDENT: [u8; 123] = [
    0x02, 0x01, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x1c, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
    0xb4, 0xdc, 0xd4, 0x87, 0x10, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x1c, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02, 0x00, 0x5b, 0x04, 0x7f,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xfd, 0xff, 0xbd,
    0xcf, 0x01, 0x3f, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];
const SERVER_IDENT: [u8; 88] = [
    0x02, 0x01, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x1c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02, 0x00, 0x5b, 0x04, 0x7f, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xfd, 0xff, 0xbd, 0xcf, 0x01, 0x3f,
    0x00, 0x00, 0x04, 0x02, 0x00, 0x02, 0x01, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];
const MMONMAP_FRONT: [u8; 170] = [
    0xa6, 0x00, 0x00, 0x00, 0x09, 0x06, 0xa0, 0x00, 0x00, 0x00, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22,
    0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x01, 0x00, 0x00, 0x00, 0xcb, 0x5a,
    0x01, 0x6b, 0x55, 0x19, 0xd3, 0x02, 0xcb, 0x5a, 0x01, 0x6b, 0x55, 0x19, 0xd3, 0x02, 0x01, 0x01,
    0x08, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x08, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x61, 0x05, 0x01, 0x35, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x61, 0x02, 0x01,
    0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x1c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02, 0x00, 0x5b, 0x04, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x61, 0x10, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// The crc0 that follows each payload in the spec's frame dumps: `crc32c_raw(-1, payload)`,
/// which is the bitwise NOT of the standard CRC-32C (§2.4). Checks the transcription.
fn crc0(payload: &[u8]) -> u32 {
    !crc32c::crc32c(payload)
}

/// The fields of CLIENT_IDENT (§3.3.7) and SERVER_IDENT (§3.3.8) after the address(es).
#[derive(Debug, PartialEq)]
struct IdentTail {
    gid: i64,
    global_seq: u64,
    supported: Features,
    required: Features,
    flags: u64,
    cookie: u64,
}

impl IdentTail {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            gid: r.read_i64("gid")?,
            global_seq: r.read_u64("global_seq")?,
            supported: Features::decode(r)?,
            required: Features::decode(r)?,
            flags: r.read_u64("flags")?,
            cookie: r.read_u64("cookie")?,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        self.gid.encode(out);
        self.global_seq.encode(out);
        self.supported.encode(out);
        self.required.encode(out);
        self.flags.encode(out);
        self.cookie.encode(out);
    }
}

#[test]
fn client_ident_payload() {
    assert_eq!(crc0(&CLIENT_IDENT), 0x408c_5941);
    let mut r = Reader::new(&CLIENT_IDENT);
    let addrs = EntityAddrvec::decode(&mut r).unwrap();
    let target = EntityAddr::decode(&mut r).unwrap();
    let tail = IdentTail::decode(&mut r).unwrap();
    r.expect_end("CLIENT_IDENT").unwrap();

    assert_eq!(addrs.to_string(), "127.0.0.1:0/2278874292");
    assert_eq!(addrs.front().ty, AddrType::Any);
    assert_eq!(addrs.front().nonce, 0x87d4_dcb4);
    assert_eq!(target.to_string(), "v2:127.0.0.1:23300/0");
    let expected = IdentTail {
        gid: -1,
        global_seq: 1,
        supported: CEPH_FEATURES_ALL,
        required: LIBRADOS_REQUIRED,
        flags: 1,
        cookie: 0,
    };
    assert_eq!(tail, expected);

    let mut out = encode_to_vec(&addrs);
    target.encode(&mut out);
    tail.encode(&mut out);
    assert_eq!(out, CLIENT_IDENT);
}

#[test]
fn server_ident_payload() {
    assert_eq!(crc0(&SERVER_IDENT), 0x31c8_725c);
    let mut r = Reader::new(&SERVER_IDENT);
    let addrs = EntityAddrvec::decode(&mut r).unwrap();
    let tail = IdentTail::decode(&mut r).unwrap();
    r.expect_end("SERVER_IDENT").unwrap();

    assert_eq!(addrs, "v2:127.0.0.1:23300/0".parse().unwrap());
    let expected = IdentTail {
        gid: 0,
        global_seq: 3,
        supported: CEPH_FEATURES_ALL,
        required: PACIFIC_MON_REQUIRED_FROM_CLIENTS,
        flags: 1,
        cookie: 0,
    };
    assert_eq!(tail, expected);
    let mut out = encode_to_vec(&addrs);
    tail.encode(&mut out);
    assert_eq!(out, SERVER_IDENT);
}

/// `mon_info_t`, env(5, 1) (§6.6.4), enough of it for the test vector.
#[derive(Debug, PartialEq)]
struct MonInfo {
    name: String,
    public_addrs: EntityAddrvec,
    priority: u16,
    weight: u16,
    crush_loc: BTreeMap<String, String>,
}

impl Encode for MonInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_envelope(out, 5, 1, |out| {
            self.name.encode(out);
            self.public_addrs.encode(out);
            self.priority.encode(out);
            self.weight.encode(out);
            self.crush_loc.encode(out);
        });
    }
}

impl Decode for MonInfo {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        decode_envelope(r, "mon_info_t", 5, |b, _| {
            Ok(Self {
                name: b.decode()?,
                public_addrs: b.decode()?,
                priority: b.decode()?,
                weight: b.decode()?,
                crush_loc: b.decode()?,
            })
        })
    }
}

/// MonMap v9 (§6.6.4), the fields Pacific writes.
#[derive(Debug, PartialEq)]
struct MonMap {
    fsid: Uuid,
    epoch: u32,
    last_changed: UTime,
    created: UTime,
    persistent: MonFeatures,
    optional: MonFeatures,
    mon_info: BTreeMap<String, MonInfo>,
    ranks: Vec<String>,
    min_mon_release: u8,
    removed_ranks: BTreeSet<i32>,
    strategy: u8,
    disallowed_leaders: BTreeSet<String>,
    stretch_mode_enabled: bool,
    tiebreaker_mon: String,
    stretch_marked_down_mons: BTreeSet<String>,
}

impl Encode for MonMap {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_envelope(out, 9, 6, |out| {
            self.fsid.encode(out);
            self.epoch.encode(out);
            self.last_changed.encode(out);
            self.created.encode(out);
            self.persistent.encode(out);
            self.optional.encode(out);
            self.mon_info.encode(out);
            self.ranks.encode(out);
            self.min_mon_release.encode(out);
            self.removed_ranks.encode(out);
            self.strategy.encode(out);
            self.disallowed_leaders.encode(out);
            self.stretch_mode_enabled.encode(out);
            self.tiebreaker_mon.encode(out);
            self.stretch_marked_down_mons.encode(out);
        });
    }
}

impl Decode for MonMap {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        decode_envelope(r, "MonMap", 9, |b, _| {
            Ok(Self {
                fsid: b.decode()?,
                epoch: b.decode()?,
                last_changed: b.decode()?,
                created: b.decode()?,
                persistent: b.decode()?,
                optional: b.decode()?,
                mon_info: b.decode()?,
                ranks: b.decode()?,
                min_mon_release: b.decode()?,
                removed_ranks: b.decode()?,
                strategy: b.decode()?,
                disallowed_leaders: b.decode()?,
                stretch_mode_enabled: b.decode()?,
                tiebreaker_mon: b.decode()?,
                stretch_marked_down_mons: b.decode()?,
            })
        })
    }
}

#[test]
fn mmonmap_front() {
    // The front is a bufferlist holding the encoded MonMap: take it zero-copy, then decode it.
    let front = Bytes::from_static(&MMONMAP_FRONT);
    let bl: Bytes = decode_exact_bytes(&front).unwrap();
    assert_eq!(bl.as_ptr(), front[4..].as_ptr());
    let map: MonMap = decode_exact_bytes(&bl).unwrap();

    assert_eq!(map.fsid.to_string(), "11111111-2222-3333-4444-555555555555");
    assert_eq!(map.epoch, 1);
    assert_eq!(map.last_changed, map.created);
    assert_eq!(map.persistent, MonFeatures::PACIFIC_PERSISTENT);
    assert_eq!(map.optional, MonFeatures(0));
    let a = &map.mon_info["a"];
    assert_eq!(a.name, "a");
    assert_eq!(a.public_addrs.to_string(), "v2:127.0.0.1:23300/0");
    assert_eq!((a.priority, a.weight), (0, 0));
    assert_eq!(map.ranks, ["a"]);
    assert_eq!(map.min_mon_release, 16);
    assert_eq!(map.strategy, 1);
    assert!(!map.stretch_mode_enabled);

    assert_eq!(
        encode_to_vec(&Bytes::from(encode_to_vec(&map))),
        MMONMAP_FRONT
    );
    assert_eq!(decode_exact::<MonMap>(&MMONMAP_FRONT[4..]).unwrap(), map);
}
