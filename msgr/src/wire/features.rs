//! Ceph's 64-bit `CEPH_FEATURE_*` set (msgr2.md §7): the named bits a Pacific peer knows, their
//! incarnation masks, the masks Pacific advertises and requires, and [`Features`], a feature
//! set with `HAVE_FEATURE`-style tests.
//!
//! Some bit numbers have been reused, so a feature is a *mask*: its bit plus the marker bits of
//! the incarnation that defined it (§7.2). [`Features::has`] tests the whole mask, as Ceph's
//! `HAVE_FEATURE` does; a peer that sets bit 2 but not bits 28 and 57 does not have
//! `SERVER_NAUTILUS`, it has the retired `MONCLOCKCHECK`.
//!
//! These are unrelated to the msgr2 *banner* features (§1.2), which live with the frames.

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign, Not};

use super::{Decode, DecodeError, Encode, Reader};

/// Incarnation 1: features defined before any bit was reused.
pub const INCARNATION_1: u64 = 0;
/// Incarnation 2: marked by bit 57 (`SERVER_JEWEL`).
pub const INCARNATION_2: u64 = 1 << 57;
/// Incarnation 3: marked by bits 57 and 28 (`SERVER_MIMIC`).
pub const INCARNATION_3: u64 = (1 << 57) | (1 << 28);

/// One named feature: Ceph's `CEPH_FEATURE_<name>` bit and `CEPH_FEATUREMASK_<name>` mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Feature {
    name: &'static str,
    bit: u8,
    incarnation: u64,
}

impl Feature {
    const fn new(bit: u8, incarnation: u64, name: &'static str) -> Self {
        Self {
            name,
            bit,
            incarnation,
        }
    }

    /// Ceph's name, without the `CEPH_FEATURE_` prefix.
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// The bit number.
    pub const fn bit(self) -> u8 {
        self.bit
    }

    /// The bit alone: `CEPH_FEATURE_<name>`.
    pub const fn value(self) -> u64 {
        1 << self.bit
    }

    /// The incarnation marker bits (§7.2).
    pub const fn incarnation(self) -> u64 {
        self.incarnation
    }

    /// The bit and its incarnation marker: `CEPH_FEATUREMASK_<name>`.
    pub const fn mask(self) -> u64 {
        self.value() | self.incarnation
    }
}

macro_rules! features {
    ($($bit:literal, $inc:ident, $name:ident, $doc:literal;)*) => {
        $(
            #[doc = concat!("`CEPH_FEATURE_", stringify!($name), "`, bit ", stringify!($bit), ". ", $doc)]
            pub const $name: Feature = Feature::new($bit, $inc, stringify!($name));
        )*

        /// Every feature above, by bit; where several names share a bit, the first is the one
        /// [`Features::names`] prints.
        pub const ALL: &[Feature] = &[$($name),*];
    };
}

features! {
    0, INCARNATION_1, UID, "";
    1, INCARNATION_1, NOSRCADDR, "";
    2, INCARNATION_3, SERVER_NAUTILUS, "a Nautilus or later daemon (the bit was MONCLOCKCHECK).";
    3, INCARNATION_1, FLOCK, "";
    4, INCARNATION_1, SUBSCRIBE2, "";
    5, INCARNATION_1, MONNAMES, "pre-historic MonMap forms.";
    6, INCARNATION_1, RECONNECT_SEQ, "";
    7, INCARNATION_1, DIRLAYOUTHASH, "";
    8, INCARNATION_1, OBJECTLOCATOR, "";
    9, INCARNATION_1, PGID64, "";
    10, INCARNATION_1, INCSUBOSDMAP, "";
    11, INCARNATION_1, PGPOOL3, "";
    12, INCARNATION_1, OSDREPLYMUX, "required by librados (§7.4).";
    13, INCARNATION_1, OSDENC, "";
    14, INCARNATION_2, SERVER_KRAKEN, "";
    15, INCARNATION_1, MONENC, "pre-historic MonMap forms.";
    16, INCARNATION_3, SERVER_OCTOPUS, "";
    16, INCARNATION_3, OSD_REPOP_MLCOD, "shares its bit with SERVER_OCTOPUS.";
    17, INCARNATION_3, OS_PERF_STAT_NS, "defined but not advertised.";
    18, INCARNATION_1, CRUSH_TUNABLES, "";
    19, INCARNATION_2, OSD_PGLOG_HARDLIMIT, "";
    20, INCARNATION_3, SERVER_PACIFIC, "";
    21, INCARNATION_2, SERVER_LUMINOUS, "";
    21, INCARNATION_2, RESEND_ON_SPLIT, "shares its bit with SERVER_LUMINOUS.";
    21, INCARNATION_2, RADOS_BACKOFF, "shares its bit with SERVER_LUMINOUS.";
    21, INCARNATION_2, OSDMAP_PG_UPMAP, "shares its bit with SERVER_LUMINOUS.";
    21, INCARNATION_2, CRUSH_CHOOSE_ARGS, "shares its bit with SERVER_LUMINOUS.";
    22, INCARNATION_2, OSD_FIXED_COLLECTION_LIST, "";
    23, INCARNATION_1, MSG_AUTH, "";
    24, INCARNATION_2, RECOVERY_RESERVATION_2, "";
    25, INCARNATION_1, CRUSH_TUNABLES2, "";
    26, INCARNATION_1, CREATEPOOLID, "";
    27, INCARNATION_1, REPLY_CREATE_INODE, "";
    28, INCARNATION_2, SERVER_MIMIC, "also half of the incarnation-3 marker.";
    29, INCARNATION_1, MDSENC, "";
    30, INCARNATION_1, OSDHASHPSPOOL, "";
    31, INCARNATION_1, MON_SINGLE_PAXOS, "deprecated, still advertised.";
    32, INCARNATION_3, STRETCH_MODE, "";
    34, INCARNATION_3, RANGE_BLOCKLIST, "a late-Pacific backport (§9.3 item 2).";
    35, INCARNATION_1, OSD_CACHEPOOL, "";
    36, INCARNATION_1, CRUSH_V2, "";
    37, INCARNATION_1, EXPORT_PEER, "";
    39, INCARNATION_1, OSDMAP_ENC, "";
    40, INCARNATION_1, MDS_INLINE_DATA, "";
    41, INCARNATION_1, CRUSH_TUNABLES3, "";
    41, INCARNATION_1, OSD_PRIMARY_AFFINITY, "shares its bit with CRUSH_TUNABLES3.";
    42, INCARNATION_1, MSGR_KEEPALIVE2, "";
    43, INCARNATION_1, OSD_POOLRESEND, "";
    46, INCARNATION_1, OSD_FADVISE_FLAGS, "";
    47, INCARNATION_1, MDS_QUOTA, "";
    48, INCARNATION_1, CRUSH_V4, "";
    56, INCARNATION_1, NEW_OSDOP_ENCODING, "";
    57, INCARNATION_1, SERVER_JEWEL, "also the incarnation-2 marker.";
    57, INCARNATION_1, MON_STATEFUL_SUB, "shares its bit with SERVER_JEWEL; no MMonSubscribeAck.";
    58, INCARNATION_1, CRUSH_TUNABLES5, "";
    58, INCARNATION_1, NEW_OSDOPREPLY_ENCODING, "shares its bit with CRUSH_TUNABLES5.";
    58, INCARNATION_1, FS_FILE_LAYOUT_V2, "shares its bit with CRUSH_TUNABLES5.";
    59, INCARNATION_1, MSG_ADDR2, "the new address encoding, mandatory for msgr2 (§6.5).";
    59, INCARNATION_1, FS_BTIME, "shares its bit with MSG_ADDR2.";
    59, INCARNATION_1, FS_CHANGE_ATTR, "shares its bit with MSG_ADDR2.";
    60, INCARNATION_1, OSD_RECOVERY_DELETES, "";
    61, INCARNATION_1, CEPHX_V2, "";
    62, INCARNATION_1, RESERVED, "a sentinel, never set.";
    63, INCARNATION_1, RESERVED_BROKEN, "never set.";
}

/// `CEPH_FEATURES_ALL` of Ceph 16.2.15, what a Pacific daemon or client advertises
/// (§7.1, verified on the wire). Advertise this.
pub const CEPH_FEATURES_ALL: Features = Features(0x3f01_cfbd_fffd_ffff);

/// `CEPH_FEATURES_ALL` of early 16.2.x, before the `RANGE_BLOCKLIST` backport (§7.1).
pub const CEPH_FEATURES_ALL_EARLY_PACIFIC: Features = Features(0x3f01_cfb9_fffd_ffff);

/// The msgr2 floor: both sides put `MSG_ADDR2` into the required features they send and check
/// (§7.4).
pub const MSGR2_REQUIRED: Features = Features(MSG_ADDR2.mask());

/// What a fresh 16.2.15 mon with default CRUSH tunables requires of clients, MDSs and OSDs
/// (§7.4, observed): `MSG_ADDR2 | CRUSH_TUNABLES5 | CRUSH_V4 | CRUSH_TUNABLES3 |
/// CRUSH_TUNABLES2 | CRUSH_TUNABLES`. The real value depends on the OSDMap.
pub const PACIFIC_MON_REQUIRED_FROM_CLIENTS: Features = Features(0x0c01_0200_0204_0000);

/// What librados and the `ceph` CLI require of every server: `OSDREPLYMUX | MSG_ADDR2`
/// (§7.4). A server must therefore advertise bit 12.
pub const LIBRADOS_REQUIRED: Features = Features(0x0800_0000_0000_1000);

/// A set of `CEPH_FEATURE_*` bits, as exchanged in CLIENT_IDENT and SERVER_IDENT (§3.3.7-9).
///
/// `Display` prints the hex value; `Debug` and [`Features::describe`] add the names.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Features(u64);

impl Features {
    /// No features.
    pub const EMPTY: Self = Self(0);

    /// The set with exactly these bits.
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// `HAVE_FEATURE`: true if every bit of `f`'s mask (its bit and incarnation marker) is set.
    pub const fn has(self, f: Feature) -> bool {
        self.0 & f.mask() == f.mask()
    }

    /// True if every bit of `other` is set in `self`.
    pub const fn contains(self, other: Features) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits of `required` that `self` lacks: `required & !self`, what
    /// IDENT_MISSING_FEATURES carries (§3.3.9). Empty when `self` satisfies `required`.
    pub const fn missing(self, required: Features) -> Features {
        Features(required.0 & !self.0)
    }

    /// True if no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The name of each set bit, lowest first: the first name [`ALL`] gives the bit, or
    /// `bit N` for a retired or unknown bit.
    pub fn names(self) -> impl Iterator<Item = std::borrow::Cow<'static, str>> {
        (0..64u8)
            .filter(move |&b| self.0 & (1u64 << b) != 0)
            .map(|b| match ALL.iter().find(|f| f.bit == b) {
                Some(f) => f.name.into(),
                None => format!("bit {b}").into(),
            })
    }

    /// The hex value followed by the names of the set bits, for logs and errors, e.g.
    /// `0x0800000000001000 [OSDREPLYMUX, MSG_ADDR2]`.
    pub fn describe(self) -> String {
        let names: Vec<_> = self.names().collect();
        format!("{self} [{}]", names.join(", "))
    }
}

impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#018x}", self.0)
    }
}

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Features({})", self.describe())
    }
}

impl From<Feature> for Features {
    /// The feature's mask, incarnation marker included.
    fn from(f: Feature) -> Self {
        Features(f.mask())
    }
}

impl BitOr for Features {
    type Output = Features;
    fn bitor(self, rhs: Self) -> Self {
        Features(self.0 | rhs.0)
    }
}

impl BitOr<Feature> for Features {
    type Output = Features;
    fn bitor(self, rhs: Feature) -> Self {
        Features(self.0 | rhs.mask())
    }
}

impl BitOrAssign for Features {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Features {
    type Output = Features;
    fn bitand(self, rhs: Self) -> Self {
        Features(self.0 & rhs.0)
    }
}

impl Not for Features {
    type Output = Features;
    fn not(self) -> Self {
        Features(!self.0)
    }
}

impl Encode for Features {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
}

impl Decode for Features {
    const MIN_ENCODED_LEN: usize = 8;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_u64("features").map(Features)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::{check_no_panic, check_roundtrip};
    use crate::wire::{decode_exact, encode_to_vec};
    use proptest::prelude::*;

    #[test]
    fn masks_match_the_spec() {
        // §7.2 examples.
        assert_eq!(SERVER_NAUTILUS.mask(), 0x0200_0000_1000_0004);
        assert_eq!(SERVER_LUMINOUS.mask(), 0x0200_0000_0020_0000);
        assert_eq!(SERVER_OCTOPUS.mask(), 0x0200_0000_1001_0000);
        assert_eq!(SERVER_PACIFIC.mask(), 0x0200_0000_1010_0000);
        assert_eq!(MSG_ADDR2.mask(), 0x0800_0000_0000_0000);
        assert_eq!(SERVER_JEWEL.value(), INCARNATION_2);
        assert_eq!(SERVER_MIMIC.mask(), INCARNATION_3);
    }

    #[test]
    fn pacific_all_is_the_union_of_the_advertised_features() {
        let not_advertised = ["OS_PERF_STAT_NS", "RESERVED", "RESERVED_BROKEN"];
        let mut all = Features::EMPTY;
        for f in ALL.iter().filter(|f| !not_advertised.contains(&f.name())) {
            all = all | *f;
        }
        assert_eq!(all, CEPH_FEATURES_ALL);
        assert_eq!(
            Features(all.bits() & !RANGE_BLOCKLIST.value()),
            CEPH_FEATURES_ALL_EARLY_PACIFIC
        );
        for f in ALL {
            let expect = !not_advertised.contains(&f.name());
            assert_eq!(CEPH_FEATURES_ALL.has(*f), expect, "{}", f.name());
        }
    }

    #[test]
    fn bits_are_unique_per_name_and_sorted() {
        for pair in ALL.windows(2) {
            assert!(pair[0].bit() <= pair[1].bit());
            assert_ne!(pair[0].name(), pair[1].name());
        }
    }

    #[test]
    fn incarnation_matters() {
        // The retired MONCLOCKCHECK meaning of bit 2 is not SERVER_NAUTILUS.
        let old = Features::from_bits(1 << 2);
        assert!(!old.has(SERVER_NAUTILUS));
        assert!(old.contains(Features::from_bits(SERVER_NAUTILUS.value())));
        assert!(CEPH_FEATURES_ALL.has(SERVER_NAUTILUS));
    }

    #[test]
    fn required_masks_and_missing_features() {
        assert!(CEPH_FEATURES_ALL.contains(PACIFIC_MON_REQUIRED_FROM_CLIENTS));
        assert!(CEPH_FEATURES_ALL.contains(LIBRADOS_REQUIRED));
        assert!(CEPH_FEATURES_ALL_EARLY_PACIFIC.contains(PACIFIC_MON_REQUIRED_FROM_CLIENTS));
        // §3.3.9: a client advertising only MSG_ADDR2 is missing the CRUSH bits.
        let missing = MSGR2_REQUIRED.missing(PACIFIC_MON_REQUIRED_FROM_CLIENTS);
        assert_eq!(missing.bits(), 0x0401_0200_0204_0000);
        assert_eq!(
            missing.describe(),
            "0x0401020002040000 [CRUSH_TUNABLES, CRUSH_TUNABLES2, CRUSH_TUNABLES3, CRUSH_V4, CRUSH_TUNABLES5]"
        );
        assert!(CEPH_FEATURES_ALL.missing(LIBRADOS_REQUIRED).is_empty());
        assert_eq!(LIBRADOS_REQUIRED.to_string(), "0x0800000000001000");
        assert_eq!(
            Features::from_bits(1 << 33 | 1).describe(),
            "0x0000000200000001 [UID, bit 33]"
        );
        // The IDENT_MISSING_FEATURES payload of §3.3.9.
        assert_eq!(
            encode_to_vec(&missing),
            [0x00, 0x00, 0x04, 0x02, 0x00, 0x02, 0x01, 0x04]
        );
        // SERVER_IDENT's supported features (§3.3.8).
        let sup = [0xff, 0xff, 0xfd, 0xff, 0xbd, 0xcf, 0x01, 0x3f];
        assert_eq!(decode_exact::<Features>(&sup).unwrap(), CEPH_FEATURES_ALL);
    }

    proptest! {
        #[test]
        fn roundtrips(bits: u64) {
            check_roundtrip(&Features::from_bits(bits))?;
            let f = Features::from_bits(bits);
            prop_assert_eq!(f.names().count(), bits.count_ones() as usize);
            prop_assert!(f.contains(f.missing(CEPH_FEATURES_ALL) | f) == f.missing(CEPH_FEATURES_ALL).is_empty());
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..12)) {
            check_no_panic::<Features>(&data);
        }
    }
}
