//! Primitive encodings (msgr2.md §6.1): fixed-width little-endian integers, `bool`, strings and
//! bufferlists (`u32` length + bytes), `vector`/`set`/`map` (`u32` count + elements),
//! `optional` (`u8` present + value), pairs and tuples, fixed arrays.
//!
//! Rust types map to Ceph's as follows:
//!
//! | Ceph | Rust |
//! |---|---|
//! | `__u8` ... `__s64`, `bool` | `u8` ... `i64`, `bool` |
//! | `std::string` | `String` (UTF-8 checked) or `Vec<u8>` / `Bytes` (raw) |
//! | `bufferlist` | `Bytes` (zero-copy from a [`Reader::from_bytes`]) or `Vec<u8>` |
//! | `vector<T>`, `list<T>` | `Vec<T>` |
//! | `set<T>`, `map<K, V>` | `BTreeSet<T>`, `BTreeMap<K, V>`, encoded in ascending order |
//! | `optional<T>` | `Option<T>` |
//! | `pair<A, B>` | `(A, B)` (tuples up to 4) |
//! | `std::array<T, N>`, raw blobs | `[T; N]` (no length prefix) |
//!
//! A `set` or `map` must be encoded in the order of the sender's C++ `<`. Rust's `Ord` agrees
//! for integers and for strings (bytewise); a key type whose `Ord` differs from Ceph's would
//! need its own impl. Decoders accept any order and duplicate keys (the last one wins, as with
//! Ceph's `map` decoder).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::{Decode, DecodeError, Encode, Reader};

/// Appends a `u32` length or count.
///
/// # Panics
///
/// If `len` does not fit in a `u32`: Ceph cannot represent such a value, so it is a
/// programming error on the sending side.
pub(crate) fn encode_len(len: usize, out: &mut Vec<u8>) {
    let len = u32::try_from(len).expect("Ceph lengths and counts are u32; value too large");
    out.extend_from_slice(&len.to_le_bytes());
}

macro_rules! int_codec {
    ($($ty:ty => $read:ident),* $(,)?) => {$(
        impl Encode for $ty {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }

        impl Decode for $ty {
            const MIN_ENCODED_LEN: usize = size_of::<$ty>();

            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.$read(stringify!($ty))
            }
        }
    )*};
}

int_codec!(
    u16 => read_u16, u32 => read_u32, u64 => read_u64,
    i8 => read_i8, i16 => read_i16, i32 => read_i32, i64 => read_i64,
);

impl Encode for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }

    fn encode_slice(items: &[Self], out: &mut Vec<u8>) {
        out.extend_from_slice(items);
    }
}

impl Decode for u8 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_u8("u8")
    }

    fn decode_many(r: &mut Reader<'_>, count: usize) -> Result<Vec<Self>, DecodeError> {
        r.take(count, "u8 array").map(<[u8]>::to_vec)
    }
}

impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl Decode for bool {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_bool("bool")
    }
}

impl Encode for str {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_len(self.len(), out);
        out.extend_from_slice(self.as_bytes());
    }
}

impl Encode for String {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_str().encode(out);
    }
}

impl Decode for String {
    const MIN_ENCODED_LEN: usize = 4;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let len = r.read_len("string length")?;
        let offset = r.offset();
        let raw = r.take(len, "string")?;
        match std::str::from_utf8(raw) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(DecodeError::InvalidUtf8 {
                what: "string",
                offset,
            }),
        }
    }
}

/// A `bufferlist` (or a raw Ceph string): `u32` length + bytes.
impl Encode for Bytes {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_len(self.len(), out);
        out.extend_from_slice(self);
    }
}

/// A `bufferlist`, zero-copy when the reader is backed by `Bytes`.
impl Decode for Bytes {
    const MIN_ENCODED_LEN: usize = 4;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let len = r.read_len("bufferlist length")?;
        r.read_bytes(len, "bufferlist")
    }
}

impl<T: Encode> Encode for [T] {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_len(self.len(), out);
        T::encode_slice(self, out);
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_slice().encode(out);
    }
}

impl<T: Decode> Decode for Vec<T> {
    const MIN_ENCODED_LEN: usize = 4;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = r.read_count("vector count", T::MIN_ENCODED_LEN)?;
        T::decode_many(r, count)
    }
}

impl<T: Encode> Encode for BTreeSet<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_len(self.len(), out);
        for item in self {
            item.encode(out);
        }
    }
}

impl<T: Decode + Ord> Decode for BTreeSet<T> {
    const MIN_ENCODED_LEN: usize = 4;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = r.read_count("set count", T::MIN_ENCODED_LEN)?;
        let mut set = BTreeSet::new();
        for _ in 0..count {
            set.insert(T::decode(r)?);
        }
        Ok(set)
    }
}

impl<K: Encode, V: Encode> Encode for BTreeMap<K, V> {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_len(self.len(), out);
        for (k, v) in self {
            k.encode(out);
            v.encode(out);
        }
    }
}

impl<K: Decode + Ord, V: Decode> Decode for BTreeMap<K, V> {
    const MIN_ENCODED_LEN: usize = 4;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let min = K::MIN_ENCODED_LEN.max(1) + V::MIN_ENCODED_LEN;
        let count = r.read_count("map count", min)?;
        let mut map = BTreeMap::new();
        for _ in 0..count {
            let k = K::decode(r)?;
            let v = V::decode(r)?;
            map.insert(k, v);
        }
        Ok(map)
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }
}

/// `optional<T>`: a `u8` presence flag (non-zero means present, like `bool`), then `T`.
impl<T: Decode> Decode for Option<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.read_bool("optional present")? {
            T::decode(r).map(Some)
        } else {
            Ok(None)
        }
    }
}

macro_rules! tuple_codec {
    ($(($($name:ident),+)),* $(,)?) => {$(
        impl<$($name: Encode),+> Encode for ($($name,)+) {
            #[allow(non_snake_case)]
            fn encode(&self, out: &mut Vec<u8>) {
                let ($($name,)+) = self;
                $($name.encode(out);)+
            }
        }

        impl<$($name: Decode),+> Decode for ($($name,)+) {
            const MIN_ENCODED_LEN: usize = 0 $(+ $name::MIN_ENCODED_LEN)+;

            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(($($name::decode(r)?,)+))
            }
        }
    )*};
}

tuple_codec!((A, B), (A, B, C), (A, B, C, D));

/// A fixed array: `N` elements with no length prefix (`[u8; N]` is a raw blob, §6.1).
impl<T: Encode, const N: usize> Encode for [T; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        T::encode_slice(self, out);
    }
}

impl<T: Decode, const N: usize> Decode for [T; N] {
    const MIN_ENCODED_LEN: usize = N.saturating_mul(T::MIN_ENCODED_LEN);

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let needed = N.saturating_mul(T::MIN_ENCODED_LEN);
        if needed > r.remaining() {
            return Err(r.truncated("fixed array", needed));
        }
        let items = T::decode_many(r, N)?;
        // decode_many returned exactly N items or an error, so this cannot fail; map it to an
        // error anyway rather than panic.
        items
            .try_into()
            .map_err(|_| r.invalid("fixed array", "wrong element count"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::{check_no_panic, check_roundtrip};
    use crate::wire::{decode_exact, decode_exact_bytes, encode_to_vec};
    use proptest::prelude::*;

    #[test]
    fn integers_are_little_endian() {
        assert_eq!(encode_to_vec(&0x0102u16), [2, 1]);
        assert_eq!(encode_to_vec(&-2i32), [0xfe, 0xff, 0xff, 0xff]);
        assert_eq!(
            encode_to_vec(&0x0102_0304_0506_0708u64),
            [8, 7, 6, 5, 4, 3, 2, 1]
        );
    }

    #[test]
    fn bool_decodes_any_non_zero_as_true() {
        assert!(decode_exact::<bool>(&[7]).unwrap());
        assert!(!decode_exact::<bool>(&[0]).unwrap());
        assert_eq!(encode_to_vec(&true), [1]);
    }

    #[test]
    fn string_is_u32_length_and_bytes() {
        assert_eq!(encode_to_vec("admin"), b"\x05\x00\x00\x00admin");
        assert_eq!(encode_to_vec(""), [0, 0, 0, 0]);
        let err = decode_exact::<String>(b"\x01\x00\x00\x00\xff").unwrap_err();
        assert_eq!(
            err,
            DecodeError::InvalidUtf8 {
                what: "string",
                offset: 4
            }
        );
        // The same bytes are a fine raw string.
        assert_eq!(
            decode_exact::<Vec<u8>>(b"\x01\x00\x00\x00\xff").unwrap(),
            [0xff]
        );
    }

    #[test]
    fn containers_match_the_spec() {
        // §6.1: u32 count then elements; maps in ascending key order.
        let v: Vec<u32> = vec![1];
        assert_eq!(encode_to_vec(&v), [1, 0, 0, 0, 1, 0, 0, 0]);
        let m: BTreeMap<String, u8> = [("b".into(), 2), ("a".into(), 1)].into();
        assert_eq!(
            encode_to_vec(&m),
            b"\x02\0\0\0\x01\0\0\0a\x01\x01\0\0\0b\x02"
        );
        assert_eq!(encode_to_vec(&Some(5u16)), [1, 5, 0]);
        assert_eq!(encode_to_vec(&None::<u16>), [0]);
        assert_eq!(encode_to_vec(&(1u8, 2u16)), [1, 2, 0]);
        assert_eq!(encode_to_vec(&[1u8, 2, 3]), [1, 2, 3]);
    }

    #[test]
    fn bufferlist_is_zero_copy_from_bytes() {
        let input = Bytes::from_static(b"\x03\0\0\0abc");
        let bl: Bytes = decode_exact_bytes(&input).unwrap();
        assert_eq!(&bl[..], b"abc");
        assert_eq!(bl.as_ptr(), input[4..].as_ptr());
    }

    #[test]
    fn huge_counts_fail_before_allocating() {
        let err = decode_exact::<Vec<u64>>(&[0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]).unwrap_err();
        assert!(
            matches!(err, DecodeError::CountTooLarge { needed, .. } if needed == 0x7fff_ffff * 8)
        );
        let err = decode_exact::<BTreeMap<u32, u32>>(&[9, 0, 0, 0, 1, 2]).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::CountTooLarge {
                count: 9,
                needed: 72,
                ..
            }
        ));
        let err = decode_exact::<Bytes>(&[5, 0, 0, 0, 1]).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::Truncated {
                needed: 5,
                available: 1,
                ..
            }
        ));
    }

    #[test]
    fn trailing_bytes_are_reported() {
        let err = decode_exact::<u16>(&[1, 2, 3]).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::TrailingBytes {
                offset: 2,
                remaining: 1,
                ..
            }
        ));
    }

    proptest! {
        #[test]
        fn ints_roundtrip(a: u8, b: u16, c: u32, d: u64, e: i8, f: i16, g: i32, h: i64, i: bool) {
            check_roundtrip(&(a, b, c, d))?;
            check_roundtrip(&(e, f, g, h))?;
            check_roundtrip(&i)?;
        }

        #[test]
        fn strings_and_bufferlists_roundtrip(s in ".{0,40}", raw in prop::collection::vec(any::<u8>(), 0..64)) {
            check_roundtrip(&s)?;
            check_roundtrip(&raw)?;
            check_roundtrip(&Bytes::from(raw))?;
        }

        #[test]
        fn containers_roundtrip(
            v in prop::collection::vec(any::<i32>(), 0..20),
            set in prop::collection::btree_set(".{0,8}", 0..10),
            map in prop::collection::btree_map(any::<u64>(), prop::collection::vec(any::<u8>(), 0..8), 0..10),
            opt in any::<Option<u32>>(),
            arr in any::<[u8; 16]>(),
            arr32 in any::<[u32; 3]>(),
        ) {
            check_roundtrip(&v)?;
            check_roundtrip(&set)?;
            check_roundtrip(&map)?;
            check_roundtrip(&opt)?;
            check_roundtrip(&arr)?;
            check_roundtrip(&arr32)?;
            check_roundtrip(&(v, opt, arr, set))?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..64)) {
            check_no_panic::<u8>(&data);
            check_no_panic::<u64>(&data);
            check_no_panic::<i16>(&data);
            check_no_panic::<bool>(&data);
            check_no_panic::<String>(&data);
            check_no_panic::<Bytes>(&data);
            check_no_panic::<Vec<u8>>(&data);
            check_no_panic::<Vec<String>>(&data);
            check_no_panic::<BTreeSet<u16>>(&data);
            check_no_panic::<BTreeMap<String, Vec<u32>>>(&data);
            check_no_panic::<Option<u32>>(&data);
            check_no_panic::<(u8, String, Option<i64>)>(&data);
            check_no_panic::<[u8; 6]>(&data);
            check_no_panic::<[u16; 3]>(&data);
        }
    }
}
