//! The MonMap and `mon_info_t` (msgr2.md §6.6.4) in their SERVER_NAUTILUS form.

use std::collections::{BTreeMap, BTreeSet};

use super::UnknownTail;
use crate::wire::{
    Decode, DecodeError, Encode, EntityAddrvec, MonFeatures, Reader, UTime, Uuid, read_envelope,
};

/// The election strategy of a MonMap (§6.6.4 field 11), a `u8`. Unknown values are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElectionStrategy(pub u8);

impl ElectionStrategy {
    /// 1: classic, what a default cluster runs.
    pub const CLASSIC: Self = Self(1);
    /// 2: disallow.
    pub const DISALLOW: Self = Self(2);
    /// 3: connectivity.
    pub const CONNECTIVITY: Self = Self(3);
}

impl Default for ElectionStrategy {
    fn default() -> Self {
        Self::CLASSIC
    }
}

/// `mon_info_t`, `env(5, 1)` (§6.6.4): one monitor of the map.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MonInfo {
    /// The mon's name, e.g. `"a"` (since v1).
    pub name: String,
    /// Its public addresses; a single legacy address before Nautilus (since v1).
    pub public_addrs: EntityAddrvec,
    /// Election priority (since v2).
    pub priority: u16,
    /// Weight, as set by `ceph mon set-weight` (since v4).
    pub weight: u16,
    /// CRUSH location, as set by `set_location` (since v5).
    pub crush_loc: BTreeMap<String, String>,
    /// Fields a newer sender appended, kept for re-encoding (§6.2).
    pub unknown: Option<UnknownTail>,
}

impl MonInfo {
    /// Version written by [`Encode`], and the highest one decoded.
    pub const STRUCT_V: u8 = 5;
    /// Compat version written by [`Encode`].
    pub const STRUCT_COMPAT: u8 = 1;

    /// A mon named `name` at `public_addrs`, priority and weight 0, no CRUSH location.
    pub fn new(name: impl Into<String>, public_addrs: EntityAddrvec) -> Self {
        Self {
            name: name.into(),
            public_addrs,
            ..Self::default()
        }
    }
}

impl Encode for MonInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        let (v, c) = (Self::STRUCT_V, Self::STRUCT_COMPAT);
        UnknownTail::encode_with(self.unknown.as_ref(), v, c, out, |out| {
            self.name.encode(out);
            self.public_addrs.encode(out);
            self.priority.encode(out);
            self.weight.encode(out);
            self.crush_loc.encode(out);
        });
    }
}

impl Decode for MonInfo {
    const MIN_ENCODED_LEN: usize = 6;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut env = read_envelope(r, "mon_info_t", Self::STRUCT_V)?;
        let (body, v) = (&mut env.body, env.header.struct_v);
        let mut info = Self {
            name: body.decode()?,
            public_addrs: body.decode()?,
            ..Self::default()
        };
        if v >= 2 {
            info.priority = body.read_u16("mon_info_t.priority")?;
        }
        if v >= 4 {
            info.weight = body.read_u16("mon_info_t.weight")?;
        }
        if v >= 5 {
            info.crush_loc = body.decode()?;
        }
        info.unknown = UnknownTail::capture(env.header, Self::STRUCT_V, Self::STRUCT_COMPAT, body)?;
        Ok(info)
    }
}

/// The MonMap (§6.6.4): `env(9, 6)`, as Pacific sends it to SERVER_NAUTILUS peers.
///
/// Decoding accepts struct_v 6 to 9 (fields newer than the sender's version keep their
/// defaults) and rejects the pre-Nautilus layout (struct_v < 6, §9.4 U10). A newer sender's
/// extra fields are kept in [`Self::unknown`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MonMap {
    /// The cluster's fsid.
    pub fsid: Uuid,
    /// Map epoch; a client needs one above 0 (§8.2).
    pub epoch: u32,
    /// When the map last changed.
    pub last_changed: UTime,
    /// When the map was created.
    pub created: UTime,
    /// Features every mon has (0xff for Pacific, §6.4.7).
    pub persistent_features: MonFeatures,
    /// Optional features.
    pub optional_features: MonFeatures,
    /// The mons, by name.
    pub mon_info: BTreeMap<String, MonInfo>,
    /// Mon names in rank order (since v7).
    pub ranks: Vec<String>,
    /// `ceph_release_t` of the oldest mon allowed: 16 for Pacific (since v8).
    pub min_mon_release: u8,
    /// Ranks removed (since v9).
    pub removed_ranks: BTreeSet<i32>,
    /// Election strategy (since v9).
    pub strategy: ElectionStrategy,
    /// Mons that may not lead (since v9).
    pub disallowed_leaders: BTreeSet<String>,
    /// Stretch mode (since v9).
    pub stretch_mode_enabled: bool,
    /// The stretch-mode tiebreaker mon (since v9).
    pub tiebreaker_mon: String,
    /// Mons marked down in stretch mode (since v9).
    pub stretch_marked_down_mons: BTreeSet<String>,
    /// Fields a newer sender appended, kept for re-encoding (§6.2).
    pub unknown: Option<UnknownTail>,
}

impl MonMap {
    /// Version written by [`Encode`], and the highest one decoded.
    pub const STRUCT_V: u8 = 9;
    /// Compat version written by [`Encode`].
    pub const STRUCT_COMPAT: u8 = 6;
    /// The oldest layout decoded: 6, the first SERVER_NAUTILUS one.
    pub const MIN_STRUCT_V: u8 = 6;
    /// `ceph_release_t` of Pacific (§6.1).
    pub const RELEASE_PACIFIC: u8 = 16;

    /// An empty Pacific map of cluster `fsid` at `epoch`: persistent features 0xff,
    /// min_mon_release 16, classic elections (§8.2).
    pub fn new(fsid: Uuid, epoch: u32) -> Self {
        Self {
            fsid,
            epoch,
            last_changed: UTime::default(),
            created: UTime::default(),
            persistent_features: MonFeatures::PACIFIC_PERSISTENT,
            optional_features: MonFeatures(0),
            mon_info: BTreeMap::new(),
            ranks: Vec::new(),
            min_mon_release: Self::RELEASE_PACIFIC,
            removed_ranks: BTreeSet::new(),
            strategy: ElectionStrategy::CLASSIC,
            disallowed_leaders: BTreeSet::new(),
            stretch_mode_enabled: false,
            tiebreaker_mon: String::new(),
            stretch_marked_down_mons: BTreeSet::new(),
            unknown: None,
        }
    }

    /// Adds `info` at the next rank.
    pub fn add_mon(&mut self, info: MonInfo) {
        self.ranks.push(info.name.clone());
        self.mon_info.insert(info.name.clone(), info);
    }
}

impl Encode for MonMap {
    fn encode(&self, out: &mut Vec<u8>) {
        let (v, c) = (Self::STRUCT_V, Self::STRUCT_COMPAT);
        UnknownTail::encode_with(self.unknown.as_ref(), v, c, out, |out| {
            self.fsid.encode(out);
            self.epoch.encode(out);
            self.last_changed.encode(out);
            self.created.encode(out);
            self.persistent_features.encode(out);
            self.optional_features.encode(out);
            self.mon_info.encode(out);
            self.ranks.encode(out);
            self.min_mon_release.encode(out);
            self.removed_ranks.encode(out);
            self.strategy.0.encode(out);
            self.disallowed_leaders.encode(out);
            self.stretch_mode_enabled.encode(out);
            self.tiebreaker_mon.encode(out);
            self.stretch_marked_down_mons.encode(out);
        });
    }
}

impl Decode for MonMap {
    const MIN_ENCODED_LEN: usize = 6;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let offset = r.offset();
        let mut env = read_envelope(r, "MonMap", Self::STRUCT_V)?;
        let (body, v) = (&mut env.body, env.header.struct_v);
        if v < Self::MIN_STRUCT_V {
            return Err(DecodeError::BadValue {
                what: "MonMap struct_v (pre-Nautilus layouts are not supported)",
                offset,
                value: u64::from(v),
            });
        }
        let mut map = Self::new(body.decode()?, body.read_u32("MonMap.epoch")?);
        map.min_mon_release = 0;
        map.last_changed = body.decode()?;
        map.created = body.decode()?;
        map.persistent_features = body.decode()?;
        map.optional_features = body.decode()?;
        map.mon_info = body.decode()?;
        if v >= 7 {
            map.ranks = body.decode()?;
        }
        if v >= 8 {
            map.min_mon_release = body.read_u8("MonMap.min_mon_release")?;
        }
        if v >= 9 {
            map.removed_ranks = body.decode()?;
            map.strategy = ElectionStrategy(body.read_u8("MonMap.strategy")?);
            map.disallowed_leaders = body.decode()?;
            map.stretch_mode_enabled = body.read_bool("MonMap.stretch_mode_enabled")?;
            map.tiebreaker_mon = body.decode()?;
            map.stretch_marked_down_mons = body.decode()?;
        }
        map.unknown = UnknownTail::capture(env.header, Self::STRUCT_V, Self::STRUCT_COMPAT, body)?;
        Ok(map)
    }
}
