//! [`UnknownTail`]: what a newer encoder appended to a versioned struct (msgr2.md §6.2), kept
//! so that the struct re-encodes byte for byte.

use bytes::Bytes;

use crate::wire::{DecodeError, EnvelopeHeader, Reader, encode_envelope};

/// The envelope header of a received versioned struct and the body bytes this decoder did not
/// understand (§6.2 rule 3). A struct that holds one re-encodes with the received
/// `struct_v`/`struct_compat` and appends `bytes` after its known fields, reproducing what a
/// newer sender wrote. Clear it (set the field to `None`) after changing the struct, since the
/// unknown fields may no longer agree with the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UnknownTail {
    /// The received `struct_v`.
    pub struct_v: u8,
    /// The received `struct_compat`.
    pub struct_compat: u8,
    /// The bytes after the fields this decoder knows, up to `struct_len`.
    pub bytes: Bytes,
}

impl UnknownTail {
    /// What to keep of an envelope (`header`) whose known fields were read from `body`, for a
    /// decoder at (`ours_v`, `ours_compat`). `None` when the struct is exactly what we would
    /// write. An older struct (`struct_v < ours_v`) keeps nothing: it re-encodes at our
    /// version, and any stray bytes are skipped as Ceph does.
    pub(crate) fn capture(
        header: EnvelopeHeader,
        ours_v: u8,
        ours_compat: u8,
        body: &mut Reader<'_>,
    ) -> Result<Option<Self>, DecodeError> {
        let rest = body.remaining();
        if header.struct_v < ours_v {
            body.skip(rest, "unknown trailing fields")?;
            return Ok(None);
        }
        let bytes = body.read_bytes(rest, "unknown trailing fields")?;
        if header.struct_v == ours_v && header.struct_compat == ours_compat && bytes.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            struct_v: header.struct_v,
            struct_compat: header.struct_compat,
            bytes,
        }))
    }

    /// Writes `env(v, c) { fields, tail }`: our (`ours_v`, `ours_compat`) and no tail when
    /// `tail` is `None`, the received header and bytes otherwise.
    pub(crate) fn encode_with(
        tail: Option<&Self>,
        ours_v: u8,
        ours_compat: u8,
        out: &mut Vec<u8>,
        fields: impl FnOnce(&mut Vec<u8>),
    ) {
        let (v, c) = tail.map_or((ours_v, ours_compat), |t| (t.struct_v, t.struct_compat));
        encode_envelope(out, v, c, |out| {
            fields(out);
            if let Some(t) = tail {
                out.extend_from_slice(&t.bytes);
            }
        });
    }
}
