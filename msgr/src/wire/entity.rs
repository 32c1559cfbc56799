//! Entity types and names (msgr2.md §6.4.2-4): [`EntityType`], `entity_name_t`
//! ([`EntityNameT`], `client.4120`), `EntityName` ([`EntityName`], `client.admin`) and
//! `entity_inst_t` ([`EntityInst`]).

use std::fmt;
use std::str::FromStr;

use super::{Decode, DecodeError, Encode, EntityAddr, Reader};

/// An entity type, Ceph's `CEPH_ENTITY_TYPE_*` (§3.3.1, §6.4.2).
///
/// A newtype rather than an enum so that every byte a peer sends is kept exactly (Ceph itself
/// does not validate the type, and a default-constructed `entity_name_t` carries type 0);
/// match on the associated constants.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EntityType(pub u8);

impl EntityType {
    /// `CEPH_ENTITY_TYPE_MON`.
    pub const MON: Self = Self(0x01);
    /// `CEPH_ENTITY_TYPE_MDS`.
    pub const MDS: Self = Self(0x02);
    /// `CEPH_ENTITY_TYPE_OSD`.
    pub const OSD: Self = Self(0x04);
    /// `CEPH_ENTITY_TYPE_CLIENT`.
    pub const CLIENT: Self = Self(0x08);
    /// `CEPH_ENTITY_TYPE_MGR`.
    pub const MGR: Self = Self(0x10);
    /// `CEPH_ENTITY_TYPE_AUTH`.
    pub const AUTH: Self = Self(0x20);
    /// `CEPH_ENTITY_TYPE_ANY`.
    pub const ANY: Self = Self(0xff);

    const NAMED: [(Self, &'static str); 6] = [
        (Self::MON, "mon"),
        (Self::MDS, "mds"),
        (Self::OSD, "osd"),
        (Self::CLIENT, "client"),
        (Self::MGR, "mgr"),
        (Self::AUTH, "auth"),
    ];

    /// Ceph's name for the type (`ceph_entity_type_name`): `mon`, `mds`, `osd`, `client`,
    /// `mgr`, `auth`, and `unknown` for anything else (`ANY` included).
    pub fn name(self) -> &'static str {
        Self::NAMED
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("unknown", |(_, n)| n)
    }

    /// The type called `name` (`mon`, `mds`, `osd`, `client`, `mgr` or `auth`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMED
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(t, _)| *t)
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Self::NAMED.iter().find(|(t, _)| t == self) {
            Some((_, name)) => write!(f, "EntityType({name})"),
            None if *self == Self::ANY => f.write_str("EntityType(any)"),
            None => write!(f, "EntityType({:#04x})", self.0),
        }
    }
}

impl Encode for EntityType {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.0);
    }
}

impl Decode for EntityType {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_u8("entity type").map(Self)
    }
}

/// `entity_name_t`: `u8 type` + `i64 num`, 9 bytes (§6.4.2). The peer name msgr2 assembles
/// from HELLO and the ident frames, written `client.4120` (`client.?` for a negative num).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityNameT {
    /// The entity type.
    pub ty: EntityType,
    /// The entity number: a mon rank, an OSD id, a client's global_id; negative (`NEW`, −1)
    /// when not yet known.
    pub num: i64,
}

impl EntityNameT {
    /// Ceph's `entity_name_t::NEW`: the number of an entity that does not know it yet.
    pub const NEW: i64 = -1;

    /// A name of type `ty` and number `num`.
    pub const fn new(ty: EntityType, num: i64) -> Self {
        Self { ty, num }
    }

    /// True if the number is not yet known (negative).
    pub const fn is_new(&self) -> bool {
        self.num < 0
    }
}

impl fmt::Display for EntityNameT {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_new() {
            write!(f, "{}.?", self.ty)
        } else {
            write!(f, "{}.{}", self.ty, self.num)
        }
    }
}

/// Why a string is not an entity name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid entity name {input:?}: {reason}")]
pub struct ParseNameError {
    /// The rejected text.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn split_name(s: &str) -> Result<(EntityType, &str), ParseNameError> {
    let err = |reason| ParseNameError {
        input: s.to_owned(),
        reason,
    };
    let (ty, rest) = s.split_once('.').ok_or_else(|| err("expected TYPE.ID"))?;
    let ty = EntityType::from_name(ty).ok_or_else(|| err("unknown entity type"))?;
    Ok((ty, rest))
}

/// Parses `TYPE.NUM` (`osd.3`, `client.4120`); `TYPE.?` gives [`EntityNameT::NEW`].
impl FromStr for EntityNameT {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ty, num) = split_name(s)?;
        if num == "?" {
            return Ok(Self::new(ty, Self::NEW));
        }
        if num.starts_with('+') {
            return Err(ParseNameError {
                input: s.to_owned(),
                reason: "invalid number",
            });
        }
        let num = num.parse().map_err(|_| ParseNameError {
            input: s.to_owned(),
            reason: "invalid number",
        })?;
        Ok(Self::new(ty, num))
    }
}

impl Encode for EntityNameT {
    fn encode(&self, out: &mut Vec<u8>) {
        self.ty.encode(out);
        self.num.encode(out);
    }
}

impl Decode for EntityNameT {
    const MIN_ENCODED_LEN: usize = 9;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            ty: EntityType::decode(r)?,
            num: r.read_i64("entity_name_t.num")?,
        })
    }
}

/// `EntityName`: `u32 type` + `string id` (§6.4.4), the name used in auth payloads and
/// MGetConfig, written `client.admin`.
///
/// The type travels as a `u32` but is a `CEPH_ENTITY_TYPE_*` value, so one above 255 is
/// rejected when decoding.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityName {
    /// The entity type.
    pub ty: EntityType,
    /// The id after the dot (`admin`, `x`, `0`).
    pub id: String,
}

impl EntityName {
    /// A name of type `ty` with id `id`.
    pub fn new(ty: EntityType, id: impl Into<String>) -> Self {
        Self { ty, id: id.into() }
    }
}

impl fmt::Display for EntityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.ty, self.id)
    }
}

/// Parses `TYPE.ID` (`client.admin`, `mgr.x`); the id is everything after the first dot.
impl FromStr for EntityName {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ty, id) = split_name(s)?;
        Ok(Self::new(ty, id))
    }
}

impl Encode for EntityName {
    fn encode(&self, out: &mut Vec<u8>) {
        u32::from(self.ty.0).encode(out);
        self.id.encode(out);
    }
}

impl Decode for EntityName {
    const MIN_ENCODED_LEN: usize = 8;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let ty = r.read_u32("EntityName.type")?;
        let ty = u8::try_from(ty).map_err(|_| r.bad_value("EntityName.type", 4, ty.into()))?;
        Ok(Self {
            ty: EntityType(ty),
            id: String::decode(r)?,
        })
    }
}

/// `entity_inst_t`: an [`EntityNameT`] followed by an [`EntityAddr`] (§6.4.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EntityInst {
    /// The entity's name.
    pub name: EntityNameT,
    /// The entity's address.
    pub addr: EntityAddr,
}

impl fmt::Display for EntityInst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.addr)
    }
}

impl Encode for EntityInst {
    fn encode(&self, out: &mut Vec<u8>) {
        self.name.encode(out);
        self.addr.encode(out);
    }
}

impl Decode for EntityInst {
    const MIN_ENCODED_LEN: usize = EntityNameT::MIN_ENCODED_LEN + EntityAddr::MIN_ENCODED_LEN;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            name: EntityNameT::decode(r)?,
            addr: EntityAddr::decode(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::{
        arb_entity_addr, arb_entity_type, check_no_panic, check_roundtrip,
    };
    use crate::wire::{decode_exact, encode_to_vec};
    use proptest::prelude::*;

    #[test]
    fn entity_name_t_spec_example() {
        // §6.4.2: client.4120 is 08 18 10 00 00 00 00 00 00.
        let name: EntityNameT = "client.4120".parse().unwrap();
        assert_eq!(name, EntityNameT::new(EntityType::CLIENT, 4120));
        assert_eq!(encode_to_vec(&name), [0x08, 0x18, 0x10, 0, 0, 0, 0, 0, 0]);
        assert_eq!(name.to_string(), "client.4120");
        assert_eq!(
            EntityNameT::new(EntityType::CLIENT, -1).to_string(),
            "client.?"
        );
        assert_eq!(
            "mon.?".parse::<EntityNameT>().unwrap(),
            EntityNameT::new(EntityType::MON, -1)
        );
        assert_eq!(EntityNameT::default().to_string(), "unknown.0");
    }

    #[test]
    fn entity_type_values_and_names() {
        let expected = [
            (0x01, "mon"),
            (0x02, "mds"),
            (0x04, "osd"),
            (0x08, "client"),
            (0x10, "mgr"),
            (0x20, "auth"),
        ];
        for (value, name) in expected {
            assert_eq!(EntityType::from_name(name), Some(EntityType(value)));
            assert_eq!(EntityType(value).to_string(), name);
        }
        assert_eq!(EntityType::ANY.0, 0xff);
        assert_eq!(EntityType::ANY.to_string(), "unknown");
        assert_eq!(format!("{:?}", EntityType::MGR), "EntityType(mgr)");
        assert_eq!(format!("{:?}", EntityType(0x40)), "EntityType(0x40)");
    }

    #[test]
    fn entity_name_encoding_and_text() {
        // §3.6: the auth-none payload carries EntityName client.admin as 08000000 05000000 "admin".
        let name: EntityName = "client.admin".parse().unwrap();
        assert_eq!(encode_to_vec(&name), b"\x08\0\0\0\x05\0\0\0admin");
        assert_eq!(name.to_string(), "client.admin");
        assert_eq!("mgr.a.b".parse::<EntityName>().unwrap().id, "a.b");
        assert!("admin".parse::<EntityName>().is_err());
        assert!("bogus.admin".parse::<EntityName>().is_err());
        assert!("osd.x".parse::<EntityNameT>().is_err());
        assert!("osd.+3".parse::<EntityNameT>().is_err());
        let err = decode_exact::<EntityName>(b"\x00\x01\0\0\0\0\0\0").unwrap_err();
        assert_eq!(
            err,
            DecodeError::BadValue {
                what: "EntityName.type",
                offset: 0,
                value: 256
            }
        );
    }

    proptest! {
        #[test]
        fn roundtrips(ty in arb_entity_type(), num: i64, id in ".{0,12}", addr in arb_entity_addr()) {
            let name_t = EntityNameT::new(ty, num);
            check_roundtrip(&ty)?;
            check_roundtrip(&name_t)?;
            check_roundtrip(&EntityName::new(ty, id))?;
            check_roundtrip(&EntityInst { name: name_t, addr })?;
        }

        #[test]
        fn text_roundtrips(idx in 0usize..6, num in -1i64..=i64::MAX, id in "[a-z0-9.]{0,12}") {
            let ty = EntityType::NAMED[idx].0;
            let name_t = EntityNameT::new(ty, num);
            prop_assert_eq!(name_t.to_string().parse::<EntityNameT>().unwrap(), name_t);
            let name = EntityName::new(ty, id);
            prop_assert_eq!(name.to_string().parse::<EntityName>().unwrap(), name);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..64), text in ".{0,20}") {
            check_no_panic::<EntityType>(&data);
            check_no_panic::<EntityNameT>(&data);
            check_no_panic::<EntityName>(&data);
            check_no_panic::<EntityInst>(&data);
            let _ = text.parse::<EntityName>();
            let _ = text.parse::<EntityNameT>();
        }
    }
}
