//! Ceph's binary encoding (msgr2.md §6, §7): primitives, the versioned envelope, entity names,
//! addresses and feature bits. Pure data: nothing here touches a socket, a clock or the event
//! loop.
//!
//! # The two traits
//!
//! [`Encode`] appends a value to a `Vec<u8>`; [`Decode`] reads one from a [`Reader`]. This is
//! the shape of rustls' `Codec`. The output is a plain `Vec<u8>` rather than `BytesMut`
//! because encoding is append-only and single-owner: `Vec` has no reference count, no
//! shared/unique split to check on every write, and `Bytes::from(vec)` hands the finished
//! buffer to the frame layer without copying. Zero-copy matters on the *decode* side, where a
//! received segment arrives as `Bytes`: a [`Reader`] made with [`Reader::from_bytes`] returns
//! a `bufferlist` as a slice of that same allocation ([`Reader::read_bytes`]).
//!
//! # Peer input never panics
//!
//! Every decoder returns [`DecodeError`] on bad input, with what was being decoded and the
//! absolute byte offset. A `u32` length or count is checked against the bytes that remain
//! *before* anything is allocated, so a hostile length cannot make us allocate more than the
//! input can fill (§6.1).
//!
//! # Layout
//!
//! | module | contents | spec |
//! |---|---|---|
//! | `reader` | [`Reader`] | |
//! | `error` | [`DecodeError`] | |
//! | `primitives` | integers, bool, strings, `Bytes`, containers, tuples, arrays | §6.1 |
//! | `uuid`, `utime` | [`Uuid`], [`UTime`] | §6.1 |
//! | `envelope` | `ENCODE_START` / `DECODE_START` | §6.2 |
//! | `entity` | [`EntityType`], [`EntityNameT`], [`EntityName`], [`EntityInst`] | §6.4.2-4 |
//! | `addr`, `addr_legacy`, `addrvec`, `addr_text` | [`EntityAddr`] (new and legacy forms), [`EntityAddrvec`], their text form | §6.4.5-6, §6.5 |
//! | `mon` | [`PaxosHeader`], [`MonFeatures`] | §6.4.1, §6.4.7 |
//! | [`features`] | `CEPH_FEATURE_*` bits and masks, [`Features`] | §7 |
//!
//! ```
//! use msgr::wire::{decode_exact, encode_to_vec, EntityAddr};
//!
//! let addr: EntityAddr = "v2:127.0.0.1:3300/0".parse().unwrap();
//! let bytes = encode_to_vec(&addr);
//! assert_eq!(bytes.len(), 35);
//! assert_eq!(decode_exact::<EntityAddr>(&bytes).unwrap(), addr);
//! ```

#![forbid(unsafe_code)]

mod addr;
mod addr_legacy;
mod addr_text;
mod addrvec;
mod entity;
mod envelope;
mod error;
pub mod features;
mod mon;
mod primitives;
mod reader;
mod utime;
mod uuid;

#[cfg(test)]
mod spec_vectors;
#[cfg(test)]
mod testutil;

pub use addr::{AddrType, EntityAddr};
pub use addr_text::ParseAddrError;
pub use addrvec::EntityAddrvec;
pub use entity::{EntityInst, EntityName, EntityNameT, EntityType, ParseNameError};
pub use envelope::{
    Envelope, EnvelopeHeader, EnvelopeStart, decode_envelope, encode_envelope, read_envelope,
};
pub use error::DecodeError;
pub use features::{Feature, Features};
pub use mon::{MonFeatures, PaxosHeader};
pub use reader::Reader;
pub use utime::UTime;
pub use uuid::{ParseUuidError, Uuid};

use bytes::Bytes;

/// A value with a Ceph wire encoding (msgr2.md §6).
///
/// Encoding cannot fail: a value either has an encoding or it is a programming error (such as
/// a string longer than `u32::MAX` bytes, which panics).
pub trait Encode {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Appends every element of `items`, one after the other, with no count.
    ///
    /// This exists so that `Vec<u8>` and `[u8; N]` encode with one `memcpy`; other types keep
    /// the default, which encodes the elements one by one.
    fn encode_slice(items: &[Self], out: &mut Vec<u8>)
    where
        Self: Sized,
    {
        for item in items {
            item.encode(out);
        }
    }
}

/// A value that can be read back from its Ceph wire encoding (msgr2.md §6).
pub trait Decode: Sized {
    /// The fewest bytes any encoding of `Self` occupies. Containers multiply a peer-supplied
    /// count by this and reject the count if the input cannot hold that many elements, before
    /// allocating. `1` is always a safe (if weak) answer; `0` is treated as `1`.
    const MIN_ENCODED_LEN: usize = 1;

    /// Reads one value from `r`, advancing it past the value's encoding.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Reads `count` values, one after the other.
    ///
    /// The caller has already checked `count` against the remaining input. This exists so that
    /// `Vec<u8>` decodes with one `memcpy`; other types keep the default.
    fn decode_many(r: &mut Reader<'_>, count: usize) -> Result<Vec<Self>, DecodeError> {
        // `count` is bounded by the remaining input, but preallocating a huge `Vec` of large
        // elements is still wasteful if the input turns out to be bad: grow past 4096.
        let mut items = Vec::with_capacity(count.min(4096));
        for _ in 0..count {
            items.push(Self::decode(r)?);
        }
        Ok(items)
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode(&self, out: &mut Vec<u8>) {
        (**self).encode(out);
    }
}

impl<T: Encode + ?Sized> Encode for Box<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        (**self).encode(out);
    }
}

/// Encodes `value` into a new `Vec<u8>`.
pub fn encode_to_vec<T: Encode + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode(&mut out);
    out
}

/// Decodes one `T` that must occupy all of `bytes`: trailing bytes are an error
/// ([`DecodeError::TrailingBytes`]).
pub fn decode_exact<T: Decode>(bytes: &[u8]) -> Result<T, DecodeError> {
    finish(Reader::new(bytes))
}

/// Like [`decode_exact`], but any `bufferlist` inside the value ([`Bytes`] fields) is a
/// zero-copy slice of `bytes`.
pub fn decode_exact_bytes<T: Decode>(bytes: &Bytes) -> Result<T, DecodeError> {
    finish(Reader::from_bytes(bytes))
}

fn finish<T: Decode>(mut r: Reader<'_>) -> Result<T, DecodeError> {
    let value = T::decode(&mut r)?;
    r.expect_end(std::any::type_name::<T>())?;
    Ok(value)
}
