//! MPing (type 2, msgr2.md §6.6.1).

use bytes::Bytes;

use super::codec::front_only;
use super::{CEPH_MSG_PING, CephMessage, MessageError, MsgHeader2, Payload};
use crate::wire::{Encode, Features};

/// MPing (§6.6.1), sent at version 1 with compat_version **0** (§5.6). A request's front is
/// empty; the mon's reply carries a string of health and status JSON. Ceph's decoder ignores
/// the front, so it is kept here as opaque bytes and any content is accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MPing {
    /// The front exactly as sent: empty, or the mon's `string` (u32 length + JSON).
    pub front: Bytes,
}

impl MPing {
    /// A ping with an empty front, as clients send it.
    pub fn new() -> Self {
        Self::default()
    }

    /// A ping whose front is the `string` `text`, as the mon's reply (§6.6.1).
    pub fn with_text(text: &str) -> Self {
        let mut front = Vec::with_capacity(4 + text.len());
        text.encode(&mut front);
        Self {
            front: Bytes::from(front),
        }
    }

    /// The front read as a `string` (u32 length + bytes filling the rest), if it is one: the
    /// mon's health and status JSON.
    pub fn text(&self) -> Option<&str> {
        let (len, rest) = self.front.split_first_chunk::<4>()?;
        if u32::from_le_bytes(*len) as usize != rest.len() {
            return None;
        }
        std::str::from_utf8(rest).ok()
    }
}

impl CephMessage for MPing {
    const TYPE: u16 = CEPH_MSG_PING;
    const NAME: &'static str = "MPing";
    const HEAD_VERSION: u16 = 1;
    const COMPAT_VERSION: u16 = 0;

    fn encode_payload(&self, _features: Features) -> Payload {
        Payload::front(self.front.clone())
    }

    fn decode_payload(_header: &MsgHeader2, payload: &Payload) -> Result<Self, MessageError> {
        front_only::<Self>(payload)?;
        Ok(Self {
            front: payload.front.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::{check_no_panic, check_roundtrip, raw_of};
    use proptest::prelude::*;

    #[test]
    fn request_and_mon_reply() {
        let raw = MPing::new().to_raw(Features::EMPTY);
        assert!(raw.front.is_empty());
        assert_eq!((raw.header.version, raw.header.compat_version), (1, 0));
        let reply = MPing::with_text("{\"health\": {}}");
        assert_eq!(reply.text(), Some("{\"health\": {}}"));
        assert_eq!(MPing::new().text(), None);
        let got = MPing::from_raw(&raw_of::<MPing>(1, 0, &reply.front, &[])).unwrap();
        assert_eq!(got, reply);
        assert!(MPing::from_raw(&raw_of::<MPing>(2, 2, &[], &[])).is_err());
        assert!(MPing::from_raw(&raw_of::<MPing>(1, 0, &[], b"x")).is_err());
    }

    proptest! {
        #[test]
        fn roundtrips(front in prop::collection::vec(any::<u8>(), 0..64)) {
            check_roundtrip(&MPing { front: front.into() })?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            version in 0u16..4, compat in 0u16..3,
            front in prop::collection::vec(any::<u8>(), 0..64),
            data in prop::collection::vec(any::<u8>(), 0..4),
        ) {
            check_no_panic::<MPing>(version, compat, &front, &data);
        }
    }
}
