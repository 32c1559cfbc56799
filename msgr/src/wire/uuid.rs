//! [`Uuid`]: Ceph's `uuid_d` (msgr2.md §6.1).

use std::fmt;
use std::str::FromStr;

use super::{Decode, DecodeError, Encode, Reader};

/// A UUID (Ceph's `uuid_d`, e.g. a cluster fsid): 16 raw bytes in RFC-4122 order on the wire,
/// written as `8-4-4-4-12` lowercase hex (§6.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The all-zero UUID (Ceph's default-constructed `uuid_d`).
    pub const NIL: Uuid = Uuid([0; 16]);

    /// The 16 bytes in RFC-4122 order.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// True for the all-zero UUID.
    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl Encode for Uuid {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Uuid {
    const MIN_ENCODED_LEN: usize = 16;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_array("uuid").map(Uuid)
    }
}

/// Hyphen positions in the text form, counted in hex digits.
const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = self.0.iter();
        for (i, group) in GROUPS.iter().enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            for b in bytes.by_ref().take(group / 2) {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Why a string is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid UUID {input:?}: expected 8-4-4-4-12 hex digits")]
pub struct ParseUuidError {
    /// The rejected text.
    pub input: String,
}

/// Parses the hyphenated `8-4-4-4-12` form, in either case.
impl FromStr for Uuid {
    type Err = ParseUuidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseUuidError {
            input: s.to_owned(),
        };
        let mut out = [0u8; 16];
        let mut n = 0;
        let mut groups = s.split('-');
        for expected in GROUPS {
            let group = groups.next().ok_or_else(err)?;
            if group.len() != expected || !group.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(err());
            }
            for pair in group.as_bytes().chunks(2) {
                let text = std::str::from_utf8(pair).map_err(|_| err())?;
                out[n] = u8::from_str_radix(text, 16).map_err(|_| err())?;
                n += 1;
            }
        }
        if groups.next().is_some() {
            return Err(err());
        }
        Ok(Uuid(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::encode_to_vec;
    use crate::wire::testutil::{check_no_panic, check_roundtrip};
    use proptest::prelude::*;

    #[test]
    fn spec_example_bytes_and_text() {
        // §6.1: 11111111-2222-3333-4444-555555555555 is 11 11 11 11 22 22 33 33 44 44 55 x6.
        let u: Uuid = "11111111-2222-3333-4444-555555555555".parse().unwrap();
        assert_eq!(
            encode_to_vec(&u),
            [
                0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 0x55, 0x55,
                0x55, 0x55
            ]
        );
        assert_eq!(u.to_string(), "11111111-2222-3333-4444-555555555555");
        let mixed: Uuid = "A0B1C2D3-e4f5-0617-2839-4a5b6c7d8e9F".parse().unwrap();
        assert_eq!(mixed.to_string(), "a0b1c2d3-e4f5-0617-2839-4a5b6c7d8e9f");
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "",
            "11111111222233334444555555555555",
            "11111111-2222-3333-4444-55555555555",
            "11111111-2222-3333-4444-5555555555555",
            "11111111-2222-3333-4444-55555555555g",
            "11111111-2222-3333-4444-555555555555-",
            "+1111111-2222-3333-4444-555555555555",
            "1111111é-2222-3333-4444-555555555555",
        ] {
            assert!(bad.parse::<Uuid>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn roundtrips(bytes: [u8; 16]) {
            let u = Uuid(bytes);
            check_roundtrip(&u)?;
            prop_assert_eq!(u.to_string().parse::<Uuid>().unwrap(), u);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..40), text in ".{0,40}") {
            check_no_panic::<Uuid>(&data);
            let _ = text.parse::<Uuid>();
        }
    }
}
