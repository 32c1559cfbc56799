//! MConfig (type 62) and MGetConfig (type 63), msgr2.md §6.6.9.

use std::collections::BTreeMap;

use super::codec::{decode_front, encode_front, front_only};
use super::{CephMessage, MSG_CONFIG, MSG_GET_CONFIG, MessageError, MsgHeader2, Payload};
use crate::wire::{Encode, EntityName, Features};

/// MConfig (§6.6.9), H1 C1: the options the mon's config database sets for the receiving
/// entity. A client's bootstrap waits for one (§8.2), possibly empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MConfig {
    /// Option name to value.
    pub config: BTreeMap<String, String>,
}

impl CephMessage for MConfig {
    const TYPE: u16 = MSG_CONFIG;
    const NAME: &'static str = "MConfig";
    const HEAD_VERSION: u16 = 1;
    const COMPAT_VERSION: u16 = 1;

    fn encode_payload(&self, _features: Features) -> Payload {
        Payload::front(encode_front(|out| {
            self.config.encode(out);
        }))
    }

    fn decode_payload(header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError> {
        front_only::<Self>(payload)?;
        decode_front::<Self, _>(header, &payload.front, |r| {
            Ok(Self {
                config: r.decode()?,
            })
        })
    }
}

/// MGetConfig (§6.6.9), H1 C1 \[SOURCE only\]: asks for an entity's config; the mon answers
/// with [`MConfig`]. Normal clients subscribe to `config` instead.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MGetConfig {
    /// Whose config.
    pub name: EntityName,
    /// Its host.
    pub host: String,
    /// Its device class.
    pub device_class: String,
}

impl CephMessage for MGetConfig {
    const TYPE: u16 = MSG_GET_CONFIG;
    const NAME: &'static str = "MGetConfig";
    const HEAD_VERSION: u16 = 1;
    const COMPAT_VERSION: u16 = 1;

    fn encode_payload(&self, _features: Features) -> Payload {
        Payload::front(encode_front(|out| {
            self.name.encode(out);
            self.host.encode(out);
            self.device_class.encode(out);
        }))
    }

    fn decode_payload(header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError> {
        front_only::<Self>(payload)?;
        decode_front::<Self, _>(header, &payload.front, |r| {
            Ok(Self {
                name: r.decode()?,
                host: r.decode()?,
                device_class: r.decode()?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::*;
    use crate::wire::EntityType;
    use proptest::prelude::*;

    #[test]
    fn empty_config_is_four_zero_bytes() {
        // §6.6.9 [VERIFIED: `00 00 00 00`].
        let raw = MConfig::default().to_raw(Features::EMPTY);
        assert_eq!(&raw.front[..], &[0, 0, 0, 0]);
        assert_eq!(MConfig::from_raw(&raw).unwrap(), MConfig::default());
    }

    #[test]
    fn get_config_layout() {
        let msg = MGetConfig {
            name: EntityName::new(EntityType::CLIENT, "admin"),
            host: "h".into(),
            device_class: String::new(),
        };
        let front = msg.to_raw(Features::EMPTY).front;
        assert_eq!(&front[..], b"\x08\0\0\0\x05\0\0\0admin\x01\0\0\0h\0\0\0\0");
    }

    proptest! {
        #[test]
        fn roundtrips(
            config in prop::collection::btree_map(arb_string(), arb_string(), 0..4),
            ty: u8, id in arb_string(), host in arb_string(), class in arb_string(),
        ) {
            let msg = MConfig { config };
            check_roundtrip(&msg)?;
            check_prefixes_fail(&msg)?;
            let get = MGetConfig {
                name: EntityName::new(EntityType(ty), id),
                host,
                device_class: class,
            };
            check_roundtrip(&get)?;
            check_prefixes_fail(&get)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            version in 0u16..3, compat in 0u16..3,
            front in prop::collection::vec(any::<u8>(), 0..64),
            data in prop::collection::vec(any::<u8>(), 0..4),
        ) {
            check_no_panic::<MConfig>(version, compat, &front, &data);
            check_no_panic::<MGetConfig>(version, compat, &front, &data);
        }
    }
}
