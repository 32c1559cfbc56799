//! [`Message`]: every typed message in one enum, for dispatchers (msgr2.md §5.5, §6.6).

use super::*;
use crate::wire::Features;

/// Generates [`Message`] and its dispatch from one list of (variant, type) pairs.
macro_rules! messages {
    ($($variant:ident($ty:ident)),* $(,)?) => {
        /// A decoded message. [`Message::decode`] picks the variant from the header's type
        /// (§5.5); a type without a typed decoder here stays raw in [`Message::Unknown`], so a
        /// dispatcher still sees it.
        ///
        /// The header (seq, tid, priority, ...) is not part of the variants: keep the
        /// [`RawMessage::header`] (it is `Copy`) before decoding if you need it.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum Message {
            $(
                #[doc = concat!("[`", stringify!($ty), "`].")]
                $variant($ty),
            )*
            /// A message type this crate has no typed decoder for (MOSDMap, MMgrMap, ...).
            Unknown(RawMessage),
        }

        impl Message {
            /// Decodes `raw` into its typed variant, or returns it as [`Message::Unknown`] if
            /// its type has no typed decoder. A known type that fails to decode, or whose
            /// `compat_version` is too new (§5.6), is an error.
            pub fn decode(raw: RawMessage) -> Result<Self, MessageError> {
                match raw.header.msg_type {
                    $(<$ty as CephMessage>::TYPE => $ty::from_raw(&raw).map(Self::$variant),)*
                    _ => Ok(Self::Unknown(raw)),
                }
            }

            /// Whether `msg_type` has a typed variant.
            pub fn is_typed(msg_type: u16) -> bool {
                matches!(msg_type, $(<$ty as CephMessage>::TYPE)|*)
            }

            /// The message type number (§5.5).
            pub fn msg_type(&self) -> u16 {
                match self {
                    $(Self::$variant(_) => <$ty as CephMessage>::TYPE,)*
                    Self::Unknown(raw) => raw.header.msg_type,
                }
            }

            /// Ceph's class name (`"MMonCommand"`), from §5.5 for unknown types, or
            /// `"unknown"`.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$ty as CephMessage>::NAME,)*
                    Self::Unknown(raw) => {
                        message_type_name(raw.header.msg_type).unwrap_or("unknown")
                    }
                }
            }

            /// The message ready to send: a typed one encoded for a peer with `features`
            /// with a fresh header ([`CephMessage::to_raw`]); an unknown one as it was.
            pub fn to_raw(&self, features: Features) -> RawMessage {
                match self {
                    $(Self::$variant(m) => m.to_raw(features),)*
                    Self::Unknown(raw) => raw.clone(),
                }
            }
        }

        $(
            impl From<$ty> for Message {
                fn from(m: $ty) -> Self {
                    Self::$variant(m)
                }
            }
        )*
    };
}

messages!(
    Ping(MPing),
    MonMap(MMonMap),
    MonGetMap(MMonGetMap),
    MonSubscribe(MMonSubscribe),
    MonSubscribeAck(MMonSubscribeAck),
    MonGetVersion(MMonGetVersion),
    MonGetVersionReply(MMonGetVersionReply),
    MonCommand(MMonCommand),
    MonCommandAck(MMonCommandAck),
    Config(MConfig),
    GetConfig(MGetConfig),
    Command(MCommand),
    CommandReply(MCommandReply),
    MgrCommand(MMgrCommand),
    MgrCommandReply(MMgrCommandReply),
);

impl From<RawMessage> for Message {
    /// Wraps `raw` as [`Message::Unknown`] without decoding it.
    fn from(raw: RawMessage) -> Self {
        Self::Unknown(raw)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;
    use crate::wire::Uuid;
    use crate::wire::features::CEPH_FEATURES_ALL;

    #[test]
    fn dispatches_on_type() {
        let msgs: Vec<Message> = vec![
            MPing::new().into(),
            MMonGetMap.into(),
            MMonGetVersion {
                handle: 1,
                what: "osdmap".into(),
            }
            .into(),
            MConfig::default().into(),
            MCommand::new(Uuid::NIL, vec![]).into(),
            MMgrCommandReply::new(-1, "no", Bytes::new()).into(),
        ];
        for msg in msgs {
            let raw = msg.to_raw(CEPH_FEATURES_ALL);
            assert_eq!(raw.header.msg_type, msg.msg_type());
            assert!(Message::is_typed(msg.msg_type()));
            assert_eq!(Message::decode(raw).unwrap(), msg);
        }
    }

    #[test]
    fn unknown_types_stay_raw() {
        let raw = RawMessage::new(MsgHeader2::new(MSG_MGR_MAP, 1, 1), Bytes::from_static(b"x"));
        let msg = Message::decode(raw.clone()).unwrap();
        assert_eq!(msg, Message::Unknown(raw.clone()));
        assert_eq!(msg.name(), "MMgrMap");
        assert_eq!(msg.to_raw(Features::EMPTY), raw);
        let odd = RawMessage::new(MsgHeader2::new(0x4242, 1, 1), Bytes::new());
        assert_eq!(Message::decode(odd).unwrap().name(), "unknown");
    }

    #[test]
    fn bad_known_message_is_an_error() {
        let raw = RawMessage::new(MsgHeader2::new(MSG_CONFIG, 1, 1), Bytes::from_static(b"x"));
        assert!(matches!(
            Message::decode(raw),
            Err(MessageError::Payload {
                name: "MConfig",
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_messages_never_panic(
            ty in prop_oneof![Just(2u16), Just(4), Just(5), 15u16..=20, 50u16..=63, 97u16..=98,
                              0x700u16..=0x70a, any::<u16>()],
            version in 0u16..4, compat in 0u16..4,
            front in prop::collection::vec(any::<u8>(), 0..96),
            middle in prop::collection::vec(any::<u8>(), 0..2),
            data in prop::collection::vec(any::<u8>(), 0..4),
        ) {
            let raw = RawMessage {
                header: MsgHeader2::new(ty, version, compat),
                front: front.into(),
                middle: middle.into(),
                data: data.into(),
            };
            if let Ok(msg) = Message::decode(raw) {
                prop_assert_eq!(msg.msg_type(), ty);
                // Whatever decodes, from any version, re-encodes to something that decodes
                // to the same message.
                let again = Message::decode(msg.to_raw(CEPH_FEATURES_ALL));
                prop_assert_eq!(again.as_ref(), Ok(&msg));
            }
        }
    }
}
