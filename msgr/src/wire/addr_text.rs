//! The text form of addresses, as Ceph prints and parses them (msgr2.md §6.4.5-6):
//! `v2:127.0.0.1:3300/0`, `v1:[::1]:6789/12`, `127.0.0.1:0/2345` (type `any`), `-` (none),
//! and `[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]` for a vector.
//!
//! `Display` matches Ceph's `operator<<`: a `TYPE_NONE` address prints as `-`, a `TYPE_ANY`
//! address has no prefix, a blank address of another type prints
//! `(unrecognized address family 0)`, and a vector prints bare when it has one element, as
//! nothing when empty, and bracketed with commas otherwise.
//!
//! Because `FromStr`, like Ceph's `parse`, reads an address without a prefix as `v2:`, the
//! plain form is not always reversible. The alternate form (`{:#}`) is: it prints `any:` for
//! `TYPE_ANY` and `[]` for an empty vector, and `"{:#}"` parses back to the same value for
//! every address that has an IP (with IPv6 flowinfo and scope id 0, which the text form does
//! not carry) and for the blank `TYPE_NONE` address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use super::{AddrType, EntityAddr, EntityAddrvec};

impl fmt::Display for AddrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for EntityAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ty == AddrType::None {
            return f.write_str("-");
        }
        if self.ty != AddrType::Any || f.alternate() {
            write!(f, "{}:", self.ty)?;
        }
        match self.sockaddr {
            Some(SocketAddr::V4(v4)) => write!(f, "{}:{}", v4.ip(), v4.port())?,
            Some(SocketAddr::V6(v6)) => write!(f, "[{}]:{}", v6.ip(), v6.port())?,
            None => f.write_str("(unrecognized address family 0)")?,
        }
        write!(f, "/{}", self.nonce)
    }
}

impl fmt::Display for EntityAddrvec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alternate = f.alternate();
        let one = |f: &mut fmt::Formatter<'_>, a: &EntityAddr| {
            if alternate {
                write!(f, "{a:#}")
            } else {
                write!(f, "{a}")
            }
        };
        match self.addrs.as_slice() {
            [] if alternate => f.write_str("[]"),
            [] => Ok(()),
            [a] => one(f, a),
            addrs => {
                f.write_str("[")?;
                for (i, a) in addrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    one(f, a)?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Why a string is not an address or address vector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address {input:?}: {reason}")]
pub struct ParseAddrError {
    /// The rejected text.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Splits the longest prefix of `s` whose characters satisfy `pred`.
fn split_while(s: &str, pred: impl Fn(char) -> bool) -> (&str, &str) {
    let end = s.find(|c| !pred(c)).unwrap_or(s.len());
    s.split_at(end)
}

/// Parses one address at the start of `s` and returns it with the unparsed rest.
///
/// Grammar: `-` | [`v1:`|`v2:`|`any:`|`cidr:`] IP [`:`PORT] [`/`NONCE], where IP is a dotted
/// IPv4 address, an IPv6 address in brackets, or a bare IPv6 address (which then takes every
/// following hex digit and colon, so it cannot carry a port). With no prefix the type is `v2`,
/// Ceph's `TYPE_DEFAULT`. Unlike Ceph, an empty port or nonce is an error rather than 0, and
/// `cidr:` is accepted.
fn parse_addr(s: &str) -> Result<(EntityAddr, &str), &'static str> {
    if let Some(rest) = s.strip_prefix('-') {
        return Ok((EntityAddr::blank(), rest));
    }
    let prefixes = [
        ("v1:", AddrType::Legacy),
        ("v2:", AddrType::Msgr2),
        ("any:", AddrType::Any),
        ("cidr:", AddrType::Cidr),
    ];
    let (ty, s) = prefixes
        .iter()
        .find_map(|(p, ty)| s.strip_prefix(p).map(|rest| (*ty, rest)))
        .unwrap_or((AddrType::Msgr2, s));

    let (ip, mut rest) = if let Some(inner) = s.strip_prefix('[') {
        let (text, after) = inner.split_once(']').ok_or("missing ']'")?;
        (
            IpAddr::V6(
                text.parse::<Ipv6Addr>()
                    .map_err(|_| "invalid IPv6 address")?,
            ),
            after,
        )
    } else {
        let (v4, after4) = split_while(s, |c| c == '.' || c.is_ascii_digit());
        let (v6, after6) = split_while(s, |c| c == ':' || c.is_ascii_hexdigit());
        if let Ok(ip) = v4.parse::<Ipv4Addr>() {
            (IpAddr::V4(ip), after4)
        } else if let Ok(ip) = v6.parse::<Ipv6Addr>() {
            (IpAddr::V6(ip), after6)
        } else {
            return Err("expected an IP address");
        }
    };

    let mut port = 0;
    if let Some(after) = rest.strip_prefix(':') {
        let (digits, after) = split_while(after, |c| c.is_ascii_digit());
        port = digits.parse().map_err(|_| "invalid port")?;
        rest = after;
    }
    let mut nonce = 0;
    if let Some(after) = rest.strip_prefix('/') {
        let (digits, after) = split_while(after, |c| c.is_ascii_digit());
        nonce = digits.parse().map_err(|_| "invalid nonce")?;
        rest = after;
    }
    Ok((EntityAddr::new(ty, SocketAddr::new(ip, port), nonce), rest))
}

/// Parses Ceph's address text (see the module docs); the whole string must be used.
impl FromStr for EntityAddr {
    type Err = ParseAddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseAddrError {
            input: s.to_owned(),
            reason,
        };
        match parse_addr(s) {
            Ok((addr, "")) => Ok(addr),
            Ok(_) => Err(err("unexpected text after the address")),
            Err(reason) => Err(err(reason)),
        }
    }
}

/// Parses one address, or a bracketed, comma-separated list (`[v2:...,v1:...]`; `[]` is an
/// empty vector). A leading `[` that starts a bracketed IPv6 address (`[::1]:3300/0`) is read as
/// a single address, as Ceph does.
impl FromStr for EntityAddrvec {
    type Err = ParseAddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseAddrError {
            input: s.to_owned(),
            reason,
        };
        let Some(list) = s.strip_prefix('[') else {
            return EntityAddr::from_str(s).map(Self::single);
        };
        if let Ok((addr, "")) = parse_addr(s) {
            return Ok(Self::single(addr));
        }
        if list == "]" {
            return Ok(Self::default());
        }
        let mut addrs = Vec::new();
        let mut rest = list;
        loop {
            let (addr, after) = parse_addr(rest).map_err(err)?;
            addrs.push(addr);
            if let Some(after) = after.strip_prefix(',') {
                rest = after;
            } else if after == "]" {
                return Ok(Self::new(addrs));
            } else {
                return Err(err("expected ',' or a final ']'"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::{arb_entity_addr, check_no_panic};
    use proptest::prelude::*;
    use std::net::SocketAddrV6;

    fn addr(s: &str) -> EntityAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prints_like_ceph() {
        let v2 = EntityAddr::msgr2("127.0.0.1:3300".parse().unwrap(), 0);
        assert_eq!(v2.to_string(), "v2:127.0.0.1:3300/0");
        let any = EntityAddr::new(AddrType::Any, "127.0.0.1:0".parse().unwrap(), 2345);
        assert_eq!(any.to_string(), "127.0.0.1:0/2345");
        assert_eq!(format!("{any:#}"), "any:127.0.0.1:0/2345");
        let v6 = EntityAddr::new(AddrType::Legacy, "[::1]:6789".parse().unwrap(), 12);
        assert_eq!(v6.to_string(), "v1:[::1]:6789/12");
        assert_eq!(EntityAddr::blank().to_string(), "-");
        let blank_v2 = EntityAddr {
            ty: AddrType::Msgr2,
            nonce: 3,
            sockaddr: None,
        };
        assert_eq!(blank_v2.to_string(), "v2:(unrecognized address family 0)/3");

        let v1 = addr("v1:127.0.0.1:6789/0");
        assert_eq!(EntityAddrvec::default().to_string(), "");
        assert_eq!(format!("{:#}", EntityAddrvec::default()), "[]");
        assert_eq!(EntityAddrvec::single(v2).to_string(), "v2:127.0.0.1:3300/0");
        assert_eq!(
            EntityAddrvec::new(vec![v2, v1]).to_string(),
            "[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0]"
        );
    }

    #[test]
    fn parses_like_ceph() {
        assert_eq!(
            addr("v2:127.0.0.1:3300/0"),
            EntityAddr::msgr2("127.0.0.1:3300".parse().unwrap(), 0)
        );
        // No prefix means v2 (TYPE_DEFAULT); port and nonce are optional.
        assert_eq!(
            addr("10.1.2.3"),
            EntityAddr::msgr2("10.1.2.3:0".parse().unwrap(), 0)
        );
        assert_eq!(addr("any:10.1.2.3:0/77").ty, AddrType::Any);
        assert_eq!(addr("cidr:10.1.2.0:0/24").ty, AddrType::Cidr);
        assert_eq!(addr("-"), EntityAddr::blank());
        assert_eq!(
            addr("v1:[fe80::1]:6789/5").sockaddr,
            Some("[fe80::1]:6789".parse().unwrap())
        );
        assert_eq!(
            addr("v2:fe80::1").sockaddr,
            Some("[fe80::1]:0".parse().unwrap())
        );
        for bad in [
            "",
            "v3:1.2.3.4",
            "v2:",
            "v2:1.2.3.4:",
            "v2:1.2.3.4:70000",
            "v2:1.2.3.4/",
            "v2:1.2.3.4/x",
            "v2:1.2.3.4:1/99999999999",
            "v2:[::1",
            "v2:[1.2.3.4]:1",
            "1.2.3.4 ",
            "v2:1.2.3.4:1/0,",
            "v2:256.0.0.1",
            "v2:1.2.3",
        ] {
            assert!(bad.parse::<EntityAddr>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_vectors() {
        let v2 = addr("v2:10.0.0.1:3300/0");
        let v1 = addr("v1:10.0.0.1:6789/0");
        let av: EntityAddrvec = "[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]".parse().unwrap();
        assert_eq!(av.addrs, [v2, v1]);
        assert_eq!(
            "v2:10.0.0.1:3300/0".parse::<EntityAddrvec>().unwrap().addrs,
            [v2]
        );
        assert_eq!(
            "[v2:10.0.0.1:3300/0]"
                .parse::<EntityAddrvec>()
                .unwrap()
                .addrs,
            [v2]
        );
        assert!("[]".parse::<EntityAddrvec>().unwrap().is_empty());
        // A bracketed IPv6 address is one address, not a list.
        let six: EntityAddrvec = "[::1]:3300/0".parse().unwrap();
        assert_eq!(six.addrs, [addr("v2:[::1]:3300/0")]);
        let list: EntityAddrvec = "[[::1]:3300/0,v1:[::1]:6789/0]".parse().unwrap();
        assert_eq!(list.len(), 2);
        for bad in [
            "",
            "[",
            "[v2:1.2.3.4",
            "[v2:1.2.3.4,",
            "[v2:1.2.3.4]x",
            "[,]",
            "v2:1.2.3.4,v1:1.2.3.4",
        ] {
            assert!(bad.parse::<EntityAddrvec>().is_err(), "{bad:?}");
        }
    }

    /// Addresses the text form can represent exactly.
    fn textual(mut a: EntityAddr) -> EntityAddr {
        if a.ty == AddrType::None {
            return EntityAddr::blank();
        }
        let sa = a.sockaddr.unwrap_or_else(|| "0.0.0.0:0".parse().unwrap());
        a.sockaddr = Some(match sa {
            SocketAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(*v6.ip(), v6.port(), 0, 0)),
            v4 => v4,
        });
        a
    }

    proptest! {
        #[test]
        fn alternate_text_roundtrips(a in arb_entity_addr(), more in prop::collection::vec(arb_entity_addr(), 0..3)) {
            let a = textual(a);
            prop_assert_eq!(format!("{a:#}").parse::<EntityAddr>().unwrap(), a);
            if a.ty != AddrType::Any {
                prop_assert_eq!(a.to_string().parse::<EntityAddr>().unwrap(), a);
            }
            let av = EntityAddrvec::new(more.into_iter().map(textual).collect());
            prop_assert_eq!(format!("{av:#}").parse::<EntityAddrvec>().unwrap(), av);
        }

        #[test]
        fn arbitrary_text_never_panics(s in "[-v12any:cidr0-9a-f.\\[\\],/]{0,40}", t in ".{0,30}") {
            let _ = s.parse::<EntityAddr>();
            let _ = s.parse::<EntityAddrvec>();
            let _ = t.parse::<EntityAddr>();
            let _ = t.parse::<EntityAddrvec>();
            check_no_panic::<EntityAddr>(s.as_bytes());
        }
    }
}
