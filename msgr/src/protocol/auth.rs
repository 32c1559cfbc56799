//! Auth method "none" (msgr2.md §3.4): the AUTH_REQUEST payload in its two forms, and the
//! server's choice of connection mode.

use bytes::Bytes;

use super::control::{AUTH_METHOD_NONE, AuthRequest, CON_MODE_CRC};
use crate::wire::{Decode, DecodeError, Encode, EntityName, Reader, encode_to_vec};

/// `AUTH_MODE_MON` (§3.4.1): the first byte of a MonClient's auth-none payload.
pub const AUTH_MODE_MON: u8 = 10;
/// `AUTH_MODE_AUTHORIZER` (§3.4.3): also the `struct_v` of an AuthNoneAuthorizer.
pub const AUTH_MODE_AUTHORIZER: u8 = 1;
/// `-EOPNOTSUPP`: the method or mode is not allowed (§3.3.3).
pub const EOPNOTSUPP: i32 = -95;
/// `-EACCES`: the auth payload is empty or undecodable (§3.3.3, §3.4.2).
pub const EACCES: i32 = -13;

/// The auth-none payload of an AUTH_REQUEST (§3.4.1, §3.4.3). Both forms carry the same
/// fields; the first byte tells them apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthNonePayload {
    /// `u8 mode = 10`, EntityName, `u64 global_id`: what a MonClient sends to a mon (§3.4.1).
    /// `global_id` is 0 on first contact.
    Mon {
        /// The client's entity name, e.g. `client.admin`.
        name: EntityName,
        /// 0, or the global id the client was given before (re-hunt).
        global_id: u64,
    },
    /// AuthNoneAuthorizer, `u8 struct_v = 1`, EntityName, `u64 global_id`: what a client sends
    /// to any other daemon (§3.4.3).
    Authorizer {
        /// The client's entity name.
        name: EntityName,
        /// The global id the client obtained from the mon.
        global_id: u64,
    },
}

impl AuthNonePayload {
    /// The entity name in the payload.
    pub fn name(&self) -> &EntityName {
        match self {
            Self::Mon { name, .. } | Self::Authorizer { name, .. } => name,
        }
    }

    /// The global id in the payload.
    pub fn global_id(&self) -> u64 {
        match self {
            Self::Mon { global_id, .. } | Self::Authorizer { global_id, .. } => *global_id,
        }
    }

    /// The complete AUTH_REQUEST carrying this payload: method none, modes `[CRC]` (§3.4.1).
    pub fn to_request(&self) -> AuthRequest {
        AuthRequest {
            method: AUTH_METHOD_NONE,
            preferred_modes: vec![CON_MODE_CRC],
            auth_payload: Bytes::from(encode_to_vec(self)),
        }
    }
}

impl Encode for AuthNonePayload {
    fn encode(&self, out: &mut Vec<u8>) {
        let mode = match self {
            Self::Mon { .. } => AUTH_MODE_MON,
            Self::Authorizer { .. } => AUTH_MODE_AUTHORIZER,
        };
        out.push(mode);
        self.name().encode(out);
        self.global_id().encode(out);
    }
}

impl Decode for AuthNonePayload {
    /// A mode byte 1..=9 is an authorizer (Ceph verifies those as authorizers), 10..=19 a
    /// MON-mode request (§3.4.2 step 2); anything else is refused.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mode = r.read_u8("auth none mode")?;
        let name = EntityName::decode(r)?;
        let global_id = r.read_u64("auth none global_id")?;
        match mode {
            1..=9 => Ok(Self::Authorizer { name, global_id }),
            10..=19 => Ok(Self::Mon { name, global_id }),
            _ => Err(DecodeError::BadValue {
                what: "auth none mode",
                offset: 0,
                value: u64::from(mode),
            }),
        }
    }
}

/// Why a server refuses an AUTH_REQUEST (§3.4.2, §4.4); each is answered with AUTH_BAD_METHOD
/// except [`AuthRefusal::Busy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthRefusal {
    /// Method or mode not allowed: AUTH_BAD_METHOD(-95).
    NotSupported,
    /// Payload empty, undecodable or of a bad mode: AUTH_BAD_METHOD(-13).
    Denied,
    /// The server cannot authenticate yet (a mon without quorum, -EBUSY): close the connection
    /// without a reply (§3.4.2 step 3).
    Busy,
}

impl AuthRefusal {
    /// The errno sent in AUTH_BAD_METHOD, or `None` for [`AuthRefusal::Busy`].
    pub fn errno(self) -> Option<i32> {
        match self {
            Self::NotSupported => Some(EOPNOTSUPP),
            Self::Denied => Some(EACCES),
            Self::Busy => None,
        }
    }
}

/// The server's first checks of an AUTH_REQUEST with auth none (§3.4.2 steps 0-5, §3.4.3):
/// the method must be none, CRC must be among the preferred modes, and the payload must decode.
pub fn check_request(request: &AuthRequest) -> Result<AuthNonePayload, AuthRefusal> {
    if request.method != AUTH_METHOD_NONE || !request.preferred_modes.contains(&CON_MODE_CRC) {
        return Err(AuthRefusal::NotSupported);
    }
    if request.auth_payload.is_empty() {
        return Err(AuthRefusal::Denied);
    }
    AuthNonePayload::decode(&mut Reader::from_bytes(&request.auth_payload))
        .map_err(|_| AuthRefusal::Denied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{EntityType, decode_exact};

    #[test]
    fn spec_payloads() {
        // §3.4.1: MonClient `client.admin`, first contact.
        let mon = AuthNonePayload::Mon {
            name: EntityName::new(EntityType::CLIENT, "admin"),
            global_id: 0,
        };
        let bytes = encode_to_vec(&mon);
        assert_eq!(
            bytes,
            [
                0x0a, 8, 0, 0, 0, 5, 0, 0, 0, b'a', b'd', b'm', b'i', b'n', 0, 0, 0, 0, 0, 0, 0, 0
            ]
        );
        assert_eq!(decode_exact::<AuthNonePayload>(&bytes).unwrap(), mon);
        // §3.4.1: a mgr daemon `mgr.x` with global id 4102.
        let mgr = [
            0x0a, 0x10, 0, 0, 0, 1, 0, 0, 0, b'x', 0x06, 0x10, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(
            decode_exact::<AuthNonePayload>(&mgr).unwrap(),
            AuthNonePayload::Mon {
                name: EntityName::new(EntityType::MGR, "x"),
                global_id: 4102
            }
        );
        // §3.4.3: the CLI's authorizer to the mgr, global id 4120.
        let authz = AuthNonePayload::Authorizer {
            name: EntityName::new(EntityType::CLIENT, "admin"),
            global_id: 4120,
        };
        let bytes = encode_to_vec(&authz);
        assert_eq!(
            bytes,
            [
                1, 8, 0, 0, 0, 5, 0, 0, 0, b'a', b'd', b'm', b'i', b'n', 0x18, 0x10, 0, 0, 0, 0, 0,
                0
            ]
        );
        assert_eq!(decode_exact::<AuthNonePayload>(&bytes).unwrap(), authz);
    }

    #[test]
    fn server_checks() {
        let good = AuthNonePayload::Mon {
            name: EntityName::new(EntityType::CLIENT, "admin"),
            global_id: 0,
        };
        assert_eq!(check_request(&good.to_request()), Ok(good.clone()));
        let mut req = good.to_request();
        req.method = 2;
        assert_eq!(check_request(&req), Err(AuthRefusal::NotSupported));
        let mut req = good.to_request();
        req.preferred_modes = vec![2];
        assert_eq!(check_request(&req), Err(AuthRefusal::NotSupported));
        let mut req = good.to_request();
        req.auth_payload = Bytes::new();
        assert_eq!(check_request(&req), Err(AuthRefusal::Denied));
        let mut req = good.to_request();
        let mut bad = req.auth_payload.to_vec();
        bad[0] = 0;
        req.auth_payload = Bytes::from(bad);
        assert_eq!(check_request(&req), Err(AuthRefusal::Denied));
        assert_eq!(AuthRefusal::Denied.errno(), Some(-13));
        assert_eq!(AuthRefusal::Busy.errno(), None);
    }
}
