//! The versioned-struct envelope, Ceph's `ENCODE_START`/`DECODE_START` (msgr2.md §6.2):
//! `u8 struct_v, u8 struct_compat, u32 struct_len`, then `struct_len` bytes of body.
//!
//! Writing: [`encode_envelope`] (or [`EnvelopeStart`] when the body is written in several
//! steps) reserves the length and back-patches it once the body is known.
//!
//! Reading: [`read_envelope`] (or [`decode_envelope`] with a closure) checks the compat
//! version, checks that `struct_len` bytes are present, hands back the body as a [`Reader`]
//! that cannot read past `struct_len`, and leaves the outer reader *after* the body. Fields a
//! newer sender appended and this decoder does not know are thereby skipped, which is what
//! makes forward compatibility work (§6.2 rule 3).

use super::{DecodeError, Reader};

/// The 6-byte envelope header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvelopeHeader {
    /// Version of this encoding; decoders use it to decide which fields exist.
    pub struct_v: u8,
    /// Oldest decoder version that can read it.
    pub struct_compat: u8,
    /// Length of the body that follows.
    pub struct_len: u32,
}

impl EnvelopeHeader {
    /// Encoded size of the header.
    pub const LEN: usize = 6;
}

/// An envelope being written: returned by [`EnvelopeStart::begin`], finished by
/// [`EnvelopeStart::finish`], which fills in `struct_len`.
#[derive(Debug)]
#[must_use = "an envelope must be finished to fill in its length"]
pub struct EnvelopeStart {
    len_pos: usize,
}

impl EnvelopeStart {
    /// Writes `struct_v`, `struct_compat` and a placeholder `struct_len` to `out`.
    pub fn begin(out: &mut Vec<u8>, struct_v: u8, struct_compat: u8) -> Self {
        out.push(struct_v);
        out.push(struct_compat);
        let len_pos = out.len();
        out.extend_from_slice(&[0; 4]);
        Self { len_pos }
    }

    /// Back-patches `struct_len` with the number of bytes written since [`Self::begin`].
    ///
    /// # Panics
    ///
    /// If `out` was truncated below the header, or the body is longer than `u32::MAX`.
    pub fn finish(self, out: &mut [u8]) {
        let body = out.len() - (self.len_pos + 4);
        let len = u32::try_from(body).expect("envelope body longer than u32::MAX");
        out[self.len_pos..self.len_pos + 4].copy_from_slice(&len.to_le_bytes());
    }
}

/// Writes `env(struct_v, struct_compat) { body }` (§6.2, §6.3), back-patching the length.
pub fn encode_envelope(
    out: &mut Vec<u8>,
    struct_v: u8,
    struct_compat: u8,
    body: impl FnOnce(&mut Vec<u8>),
) {
    let start = EnvelopeStart::begin(out, struct_v, struct_compat);
    body(out);
    start.finish(out);
}

/// A received envelope: its header and a reader over exactly its body.
#[derive(Clone, Debug)]
pub struct Envelope<'a> {
    /// The header as received.
    pub header: EnvelopeHeader,
    /// The body, `struct_len` bytes. Bytes left unread in it are unknown trailing fields.
    pub body: Reader<'a>,
}

/// Reads an envelope header and body for a decoder of version `version` (Ceph's
/// `DECODE_START(version, ...)`), leaving `r` after the body.
///
/// Fails with [`DecodeError::IncompatibleVersion`] if `struct_compat > version` (§6.2 rule 1)
/// and with [`DecodeError::Truncated`] if fewer than `struct_len` bytes remain. `what` names the
/// struct in errors.
pub fn read_envelope<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
    version: u8,
) -> Result<Envelope<'a>, DecodeError> {
    let offset = r.offset();
    let struct_v = r.read_u8(what)?;
    let struct_compat = r.read_u8(what)?;
    let struct_len = r.read_u32(what)?;
    if struct_compat > version {
        return Err(DecodeError::IncompatibleVersion {
            what,
            offset,
            struct_v,
            struct_compat,
            supported: version,
        });
    }
    let body = r.sub_reader(struct_len as usize, what)?;
    Ok(Envelope {
        header: EnvelopeHeader {
            struct_v,
            struct_compat,
            struct_len,
        },
        body,
    })
}

/// [`read_envelope`], then `body` decodes the fields from the body reader. Unknown trailing
/// bytes the closure leaves unread are skipped; reading past `struct_len` fails inside the
/// closure with [`DecodeError::Truncated`].
pub fn decode_envelope<'a, T>(
    r: &mut Reader<'a>,
    what: &'static str,
    version: u8,
    body: impl FnOnce(&mut Reader<'a>, EnvelopeHeader) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let mut env = read_envelope(r, what, version)?;
    body(&mut env.body, env.header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::check_roundtrip;
    use crate::wire::{Decode, Encode, decode_exact, encode_to_vec};
    use proptest::prelude::*;

    /// A test struct at version 2: `a` since v1, `b` since v2.
    #[derive(Debug, PartialEq, Clone)]
    struct Demo {
        a: u32,
        b: Option<String>,
    }

    impl Encode for Demo {
        fn encode(&self, out: &mut Vec<u8>) {
            let version = if self.b.is_some() { 2 } else { 1 };
            encode_envelope(out, version, 1, |out| {
                self.a.encode(out);
                if let Some(b) = &self.b {
                    b.encode(out);
                }
            });
        }
    }

    impl Decode for Demo {
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            decode_envelope(r, "Demo", 2, |body, header| {
                let a = body.read_u32("Demo.a")?;
                let b = if header.struct_v >= 2 {
                    Some(String::decode(body)?)
                } else {
                    None
                };
                Ok(Demo { a, b })
            })
        }
    }

    #[test]
    fn writes_header_and_back_patches_length() {
        let bytes = encode_to_vec(&Demo {
            a: 7,
            b: Some("x".into()),
        });
        assert_eq!(bytes, [2, 1, 9, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, b'x']);
        // mon_feature_t (§6.4.7) for 0xff: env(1,1){u64}, 14 bytes.
        let mut out = Vec::new();
        encode_envelope(&mut out, 1, 1, |out| 0xffu64.encode(out));
        assert_eq!(out, [1, 1, 8, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn unknown_trailing_bytes_are_skipped() {
        // A "v3" sender appended a u16 this v2 decoder does not know, then an outer u8 follows.
        let bytes = [
            3, 1, 11, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, b'x', 0xee, 0xee, 0x42,
        ];
        let mut r = Reader::new(&bytes);
        let demo = Demo::decode(&mut r).unwrap();
        assert_eq!(
            demo,
            Demo {
                a: 7,
                b: Some("x".into())
            }
        );
        assert_eq!(r.read_u8("after").unwrap(), 0x42);
        assert!(r.is_empty());
    }

    #[test]
    fn older_sender_is_understood() {
        let bytes = [1, 1, 4, 0, 0, 0, 9, 0, 0, 0];
        assert_eq!(
            decode_exact::<Demo>(&bytes).unwrap(),
            Demo { a: 9, b: None }
        );
    }

    #[test]
    fn compat_too_new_is_rejected() {
        let bytes = [4, 3, 4, 0, 0, 0, 9, 0, 0, 0];
        let err = decode_exact::<Demo>(&bytes).unwrap_err();
        assert_eq!(
            err,
            DecodeError::IncompatibleVersion {
                what: "Demo",
                offset: 0,
                struct_v: 4,
                struct_compat: 3,
                supported: 2
            }
        );
    }

    #[test]
    fn struct_len_beyond_input_is_an_error() {
        let bytes = [2, 1, 0xff, 0, 0, 0, 9, 0, 0, 0];
        let err = decode_exact::<Demo>(&bytes).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Truncated {
                what: "Demo",
                offset: 6,
                needed: 255,
                available: 4
            }
        );
    }

    #[test]
    fn reading_past_struct_len_is_an_error() {
        // struct_v 2 promises the string, but struct_len 4 only covers `a`; the string's length
        // lies outside the body even though the outer input has the bytes.
        let bytes = [2, 1, 4, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, b'x'];
        let err = decode_exact::<Demo>(&bytes).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Truncated {
                what: "string length",
                offset: 10,
                needed: 4,
                available: 0
            }
        );
    }

    proptest! {
        #[test]
        fn roundtrips(a: u32, b in proptest::option::of(".{0,12}")) {
            check_roundtrip(&Demo { a, b })?;
        }

        #[test]
        fn trailing_fields_of_any_size_are_skipped(
            a: u32,
            extra in prop::collection::vec(any::<u8>(), 0..32),
            after: u64,
        ) {
            let mut bytes = Vec::new();
            encode_envelope(&mut bytes, 9, 1, |out| {
                a.encode(out);
                "s".encode(out);
                out.extend_from_slice(&extra);
            });
            after.encode(&mut bytes);
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(Demo::decode(&mut r).unwrap(), Demo { a, b: Some("s".into()) });
            prop_assert_eq!(u64::decode(&mut r).unwrap(), after);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..32)) {
            crate::wire::testutil::check_no_panic::<Demo>(&data);
            let mut r = Reader::new(&data);
            if let Ok(env) = read_envelope(&mut r, "any", u8::MAX) {
                prop_assert_eq!(env.body.remaining(), env.header.struct_len as usize);
                prop_assert_eq!(r.offset(), EnvelopeHeader::LEN + env.header.struct_len as usize);
            }
        }
    }
}
