//! `entity_addr_t` (msgr2.md §6.4.5): [`AddrType`] and [`EntityAddr`], encoded in the new
//! (MSG_ADDR2) form and decoded from both the new and the legacy form. The legacy and
//! feature-dependent encoders are in `addr_legacy.rs`, the text form in `addr_text.rs`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::{Decode, DecodeError, Encode, EnvelopeStart, Reader, read_envelope};

/// `AF_INET` as Ceph puts it on the wire (Linux numbering).
const AF_INET: u16 = 2;
/// `AF_INET6` as Ceph puts it on the wire (Linux numbering).
const AF_INET6: u16 = 10;
/// `sizeof(sockaddr_in)`.
const SOCKADDR_IN_LEN: usize = 16;
/// `sizeof(sockaddr_in6)`, also the size Ceph uses for an address of family 0.
pub(super) const SOCKADDR_IN6_LEN: usize = 28;
/// The version of `entity_addr_t`'s envelope.
const ADDR_VERSION: u8 = 1;

/// An address type, `entity_addr_t::TYPE_*` (§6.4.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddrType {
    /// `TYPE_NONE` (0): no address.
    #[default]
    None = 0,
    /// `TYPE_LEGACY` (1): msgr v1, written `v1:`.
    Legacy = 1,
    /// `TYPE_MSGR2` (2): msgr v2, written `v2:`.
    Msgr2 = 2,
    /// `TYPE_ANY` (3): either; what a client that does not listen advertises (§3.3.7).
    Any = 3,
    /// `TYPE_CIDR` (4): a network range (the nonce holds the prefix length), used in
    /// blocklists.
    Cidr = 4,
}

impl AddrType {
    /// The type with wire value `v`, if there is one.
    pub fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            0 => Self::None,
            1 => Self::Legacy,
            2 => Self::Msgr2,
            3 => Self::Any,
            4 => Self::Cidr,
            _ => return None,
        })
    }

    /// The wire value.
    pub fn as_u32(self) -> u32 {
        self as u32
    }

    /// Ceph's name for the type (`get_type_name`): `none`, `v1`, `v2`, `any`, `cidr`.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Legacy => "v1",
            Self::Msgr2 => "v2",
            Self::Any => "any",
            Self::Cidr => "cidr",
        }
    }
}

/// `entity_addr_t`: an address type, a nonce and an IP socket address or none (a *blank*
/// address, family 0), §6.4.5.
///
/// [`Encode`] writes the new form (marker 1, `env(1,1)`, type, nonce, sockaddr), as every msgr2
/// peer expects; [`EntityAddr::encode_with_features`] writes what an older peer expects.
/// [`Decode`] reads both the new and the 136-byte legacy form.
///
/// Only IPv4 and IPv6 are represented: a new-form address of another family is rejected with
/// [`DecodeError::BadValue`]. `sin_zero` padding is not kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityAddr {
    /// The address type.
    pub ty: AddrType,
    /// Identifies the messenger instance: 0 for mons, a pid for daemons, random for clients.
    pub nonce: u32,
    /// The IP address and port; `None` for a blank address (family 0).
    pub sockaddr: Option<SocketAddr>,
}

impl EntityAddr {
    /// An address of type `ty` at `sockaddr` with `nonce`.
    pub const fn new(ty: AddrType, sockaddr: SocketAddr, nonce: u32) -> Self {
        Self {
            ty,
            nonce,
            sockaddr: Some(sockaddr),
        }
    }

    /// A `v2:` (msgr2) address.
    pub const fn msgr2(sockaddr: SocketAddr, nonce: u32) -> Self {
        Self::new(AddrType::Msgr2, sockaddr, nonce)
    }

    /// A blank address: `TYPE_NONE`, nonce 0, family 0 (Ceph's default `entity_addr_t`).
    pub const fn blank() -> Self {
        Self {
            ty: AddrType::None,
            nonce: 0,
            sockaddr: None,
        }
    }

    /// The IP address, if the address has one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.sockaddr.map(|s| s.ip())
    }

    /// The port, or 0 for a blank address (as Ceph's `get_port`).
    pub fn port(&self) -> u16 {
        self.sockaddr.map_or(0, |s| s.port())
    }

    /// True if there is no IP or it is the unspecified address (Ceph's `is_blank_ip`).
    pub fn is_blank_ip(&self) -> bool {
        self.sockaddr.is_none_or(|s| s.ip().is_unspecified())
    }
}

pub(super) fn family_of(sa: &SocketAddr) -> u16 {
    match sa {
        SocketAddr::V4(_) => AF_INET,
        SocketAddr::V6(_) => AF_INET6,
    }
}

/// Writes everything of a Linux `sockaddr_in`/`sockaddr_in6` after the family: big-endian
/// port, then the IPv4 address and 8 zero bytes, or the big-endian flowinfo, the IPv6 address
/// and the scope id (host order, i.e. little-endian as Ceph runs on x86 and arm64).
pub(super) fn put_sockaddr_data(sa: &SocketAddr, out: &mut Vec<u8>) {
    out.extend_from_slice(&sa.port().to_be_bytes());
    match sa {
        SocketAddr::V4(v4) => {
            out.extend_from_slice(&v4.ip().octets());
            out.extend_from_slice(&[0; 8]);
        }
        SocketAddr::V6(v6) => {
            out.extend_from_slice(&v6.flowinfo().to_be_bytes());
            out.extend_from_slice(&v6.ip().octets());
            out.extend_from_slice(&v6.scope_id().to_le_bytes());
        }
    }
}

/// Parses the bytes after the family (zero-filled to 26 bytes) as a sockaddr of `family`.
/// `None` means family 0, a blank address.
pub(super) fn parse_sockaddr(family: u16, data: &[u8; 26]) -> Option<Option<SocketAddr>> {
    let port = u16::from_be_bytes([data[0], data[1]]);
    let word = |at: usize| [data[at], data[at + 1], data[at + 2], data[at + 3]];
    match family {
        0 => Some(None),
        AF_INET => {
            let ip = Ipv4Addr::from(word(2));
            Some(Some(SocketAddr::V4(SocketAddrV4::new(ip, port))))
        }
        AF_INET6 => {
            let flowinfo = u32::from_be_bytes(word(2));
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&data[6..22]);
            let scope_id = u32::from_le_bytes(word(22));
            let v6 = SocketAddrV6::new(Ipv6Addr::from(ip), port, flowinfo, scope_id);
            Some(Some(SocketAddr::V6(v6)))
        }
        _ => None,
    }
}

impl Encode for EntityAddr {
    /// The new form: marker 1, `env(1,1){ u32 type, u32 nonce, u32 sockaddr_len, sockaddr }`,
    /// with a little-endian family and a big-endian port (§6.4.5). A blank address is sent as
    /// 28 zero bytes, as Ceph does.
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(1);
        let env = EnvelopeStart::begin(out, ADDR_VERSION, ADDR_VERSION);
        self.ty.as_u32().encode(out);
        self.nonce.encode(out);
        match &self.sockaddr {
            None => {
                (SOCKADDR_IN6_LEN as u32).encode(out);
                out.extend_from_slice(&[0; SOCKADDR_IN6_LEN]);
            }
            Some(sa) => {
                let len = match sa {
                    SocketAddr::V4(_) => SOCKADDR_IN_LEN,
                    SocketAddr::V6(_) => SOCKADDR_IN6_LEN,
                };
                (len as u32).encode(out);
                family_of(sa).encode(out);
                put_sockaddr_data(sa, out);
            }
        }
        env.finish(out);
    }
}

impl EntityAddr {
    /// Decodes the new form after its marker byte.
    fn decode_new_after_marker(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut env = read_envelope(r, "entity_addr_t", ADDR_VERSION)?;
        let body = &mut env.body;
        let ty = body.read_u32("entity_addr_t.type")?;
        let ty = AddrType::from_u32(ty)
            .ok_or_else(|| body.bad_value("entity_addr_t.type", 4, ty.into()))?;
        let nonce = body.read_u32("entity_addr_t.nonce")?;
        let len = body.read_u32("entity_addr_t.sockaddr_len")? as usize;
        if len == 0 {
            // Legal: an unset address, as rados-rs sends it (§9.3 item 3).
            return Ok(Self {
                ty,
                nonce,
                sockaddr: None,
            });
        }
        if len < 2 {
            return Err(body.invalid("entity_addr_t.sockaddr_len", "shorter than the family"));
        }
        let family = body.read_u16("entity_addr_t.family")?;
        // Ceph sizes the sockaddr by the family just read; anything but AF_INET gets the full
        // 28 bytes (`sizeof(sockaddr_in6)`), including family 0.
        let max_len = if family == AF_INET {
            SOCKADDR_IN_LEN
        } else {
            SOCKADDR_IN6_LEN
        };
        if len > max_len {
            return Err(body.invalid(
                "entity_addr_t.sockaddr_len",
                "longer than the family's sockaddr",
            ));
        }
        let mut data = [0u8; 26];
        data[..len - 2].copy_from_slice(body.take(len - 2, "entity_addr_t.sockaddr")?);
        let sockaddr = parse_sockaddr(family, &data)
            .ok_or_else(|| body.bad_value("entity_addr_t.family", len, family.into()))?;
        Ok(Self {
            ty,
            nonce,
            sockaddr,
        })
    }
}

impl Decode for EntityAddr {
    /// Marker 1 + header + type + nonce + a zero sockaddr_len.
    const MIN_ENCODED_LEN: usize = 19;

    /// Reads `u8 marker`: 1 is the new form, 0 the legacy form, anything else an error.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.read_u8("entity_addr_t marker")? {
            1 => Self::decode_new_after_marker(r),
            0 => Self::decode_legacy_after_marker(r),
            m => Err(r.bad_value("entity_addr_t marker", 1, m.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::{MON_ADDR, arb_entity_addr, check_no_panic, check_roundtrip};
    use crate::wire::{decode_exact, encode_to_vec};
    use proptest::prelude::*;

    fn v4(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn spec_example_new_form() {
        let addr = EntityAddr::msgr2(v4("127.0.0.1:23300"), 0);
        assert_eq!(encode_to_vec(&addr), MON_ADDR);
        assert_eq!(decode_exact::<EntityAddr>(&MON_ADDR).unwrap(), addr);
    }

    #[test]
    fn hello_and_client_ident_addresses() {
        // §2.9: HELLO peer_addr v2:192.168.1.10:3300/0 (payload bytes 1..36).
        let hello = [
            0x01, 0x01, 0x01, 0x1c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x10, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0c, 0xe4, 0xc0, 0xa8, 0x01, 0x0a, 0, 0, 0,
            0, 0, 0, 0, 0,
        ];
        let addr = EntityAddr::msgr2(v4("192.168.1.10:3300"), 0);
        assert_eq!(encode_to_vec(&addr), hello);
        // §3.6: CLIENT_IDENT's own address, type ANY, nonce 0x87d4dcb4, 127.0.0.1:0.
        let ident = [
            0x01, 0x01, 0x01, 0x1c, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0xb4, 0xdc, 0xd4,
            0x87, 0x10, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x01, 0, 0, 0,
            0, 0, 0, 0, 0,
        ];
        let addr = EntityAddr::new(AddrType::Any, v4("127.0.0.1:0"), 0x87d4_dcb4);
        assert_eq!(encode_to_vec(&addr), ident);
        assert_eq!(decode_exact::<EntityAddr>(&ident).unwrap(), addr);
    }

    #[test]
    fn blank_address_forms() {
        // Ceph sends a blank address with sockaddr_len 28, all zero (§6.4.5).
        let blank = encode_to_vec(&EntityAddr::blank());
        assert_eq!(blank.len(), 1 + 6 + 12 + 28);
        assert_eq!(
            &blank[..19],
            [1, 1, 1, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0]
        );
        assert!(blank[19..].iter().all(|b| *b == 0));
        assert_eq!(
            decode_exact::<EntityAddr>(&blank).unwrap(),
            EntityAddr::blank()
        );
        // rados-rs sends sockaddr_len 0 (§9.3 item 3); both decode to blank.
        let short = [1, 1, 1, 12, 0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0];
        let addr = decode_exact::<EntityAddr>(&short).unwrap();
        assert_eq!(
            addr,
            EntityAddr {
                ty: AddrType::Msgr2,
                nonce: 7,
                sockaddr: None
            }
        );
        assert!(addr.is_blank_ip());
    }

    #[test]
    fn short_sockaddr_is_zero_filled() {
        // sockaddr_len 4: family AF_INET and port 0x0d05 only; the IP is zero-filled.
        let bytes = [
            1, 1, 1, 16, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0x0d, 0x05,
        ];
        let addr = decode_exact::<EntityAddr>(&bytes).unwrap();
        assert_eq!(addr.sockaddr, Some(v4("0.0.0.0:3333")));
    }

    #[test]
    fn bad_new_form_inputs() {
        let mut bytes = MON_ADDR.to_vec();
        bytes[0] = 3;
        let err = decode_exact::<EntityAddr>(&bytes).unwrap_err();
        assert_eq!(
            err,
            DecodeError::BadValue {
                what: "entity_addr_t marker",
                offset: 0,
                value: 3
            }
        );

        let mut bytes = MON_ADDR.to_vec();
        bytes[7] = 9; // address type
        let err = decode_exact::<EntityAddr>(&bytes).unwrap_err();
        assert_eq!(
            err,
            DecodeError::BadValue {
                what: "entity_addr_t.type",
                offset: 7,
                value: 9
            }
        );

        let mut bytes = MON_ADDR.to_vec();
        bytes[19] = 1; // family AF_UNIX
        let err = decode_exact::<EntityAddr>(&bytes).unwrap_err();
        assert_eq!(
            err,
            DecodeError::BadValue {
                what: "entity_addr_t.family",
                offset: 19,
                value: 1
            }
        );

        // AF_INET with sockaddr_len 28 is too long for sockaddr_in.
        let mut bytes = MON_ADDR.to_vec();
        bytes[3] = 40;
        bytes[15] = 28;
        bytes.extend_from_slice(&[0; 12]);
        assert!(matches!(
            decode_exact::<EntityAddr>(&bytes).unwrap_err(),
            DecodeError::Invalid {
                what: "entity_addr_t.sockaddr_len",
                ..
            }
        ));

        // sockaddr_len 1.
        let bytes = [1, 1, 1, 13, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2];
        assert!(matches!(
            decode_exact::<EntityAddr>(&bytes).unwrap_err(),
            DecodeError::Invalid { .. }
        ));
    }

    #[test]
    fn envelope_extension_is_skipped() {
        // A hypothetical v2 sender appends 2 bytes inside the envelope; compat stays 1.
        let mut bytes = MON_ADDR.to_vec();
        bytes[1] = 2;
        bytes[3] = 30;
        bytes.extend_from_slice(&[0xab, 0xcd]);
        let addr = decode_exact::<EntityAddr>(&bytes).unwrap();
        assert_eq!(addr, EntityAddr::msgr2(v4("127.0.0.1:23300"), 0));
    }

    #[test]
    fn ipv6_layout() {
        let sa = SocketAddr::V6(SocketAddrV6::new(
            "fe80::1".parse().unwrap(),
            3300,
            0x12345,
            2,
        ));
        let bytes = encode_to_vec(&EntityAddr::msgr2(sa, 5));
        assert_eq!(bytes.len(), 1 + 6 + 12 + 28);
        assert_eq!(bytes[3], 40); // struct_len
        assert_eq!(&bytes[15..19], [28, 0, 0, 0]);
        assert_eq!(&bytes[19..21], [10, 0]); // AF_INET6, little-endian
        assert_eq!(&bytes[21..23], [0x0c, 0xe4]); // port, big-endian
        assert_eq!(&bytes[23..27], [0, 1, 0x23, 0x45]); // flowinfo, big-endian
        assert_eq!(&bytes[27..29], [0xfe, 0x80]);
        assert_eq!(&bytes[43..47], [2, 0, 0, 0]); // scope id
        assert_eq!(
            decode_exact::<EntityAddr>(&bytes).unwrap().sockaddr,
            Some(sa)
        );
    }

    proptest! {
        #[test]
        fn roundtrips(addr in arb_entity_addr()) {
            check_roundtrip(&addr)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..160)) {
            check_no_panic::<EntityAddr>(&data);
        }

        #[test]
        fn mutated_encodings_never_panic(addr in arb_entity_addr(), at: usize, byte: u8) {
            let mut bytes = encode_to_vec(&addr);
            let i = at % bytes.len();
            bytes[i] = byte;
            check_no_panic::<EntityAddr>(&bytes);
        }
    }
}
