//! [`Reader`]: a bounds-checked cursor over received bytes.

use bytes::Bytes;

use super::{Decode, DecodeError};

/// A cursor over a byte slice that every [`Decode`] impl reads from.
///
/// Every read is bounds-checked and fails with [`DecodeError::Truncated`] instead of
/// panicking. Offsets in errors are absolute: a sub-reader for an envelope body (§6.2) keeps
/// counting from the start of the original input.
///
/// A reader made with [`Reader::from_bytes`] remembers the `Bytes` it borrows, and
/// [`Reader::read_bytes`] then returns zero-copy slices of it. One made with [`Reader::new`]
/// copies instead.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Absolute offset of `buf[0]` in the original input (and in `backing`, if any).
    origin: usize,
    backing: Option<&'a Bytes>,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`. [`Reader::read_bytes`] copies.
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            origin: 0,
            backing: None,
        }
    }

    /// A reader over `bytes` whose [`Reader::read_bytes`] returns zero-copy slices of it.
    pub fn from_bytes(bytes: &'a Bytes) -> Self {
        Self {
            buf: bytes,
            pos: 0,
            origin: 0,
            backing: Some(bytes),
        }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Absolute offset of the next byte to read.
    pub fn offset(&self) -> usize {
        self.origin + self.pos
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless everything has been read.
    pub fn expect_end(&self, what: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            remaining => Err(DecodeError::TrailingBytes {
                what,
                offset: self.offset(),
                remaining,
            }),
        }
    }

    /// The error for a read of `needed` bytes here.
    pub(crate) fn truncated(&self, what: &'static str, needed: usize) -> DecodeError {
        DecodeError::Truncated {
            what,
            offset: self.offset(),
            needed,
            available: self.remaining(),
        }
    }

    /// A [`DecodeError::BadValue`] for a field that started `width` bytes before the cursor.
    pub(crate) fn bad_value(&self, what: &'static str, width: usize, value: u64) -> DecodeError {
        DecodeError::BadValue {
            what,
            offset: self.offset().saturating_sub(width),
            value,
        }
    }

    /// A [`DecodeError::Invalid`] at the cursor.
    pub(crate) fn invalid(&self, what: &'static str, reason: &'static str) -> DecodeError {
        DecodeError::Invalid {
            what,
            offset: self.offset(),
            reason,
        }
    }

    /// Consumes and returns the next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.truncated(what, n));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize, what: &'static str) -> Result<(), DecodeError> {
        self.take(n, what).map(|_| ())
    }

    /// Reads `N` raw bytes (a `std::array<u8, N>` or raw blob, §6.1).
    pub fn read_array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// Reads a `u8`.
    pub fn read_u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.read_array::<1>(what)?[0])
    }

    /// Reads a little-endian `u16`.
    pub fn read_u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        self.read_array(what).map(u16::from_le_bytes)
    }

    /// Reads a little-endian `u32`.
    pub fn read_u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.read_array(what).map(u32::from_le_bytes)
    }

    /// Reads a little-endian `u64`.
    pub fn read_u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        self.read_array(what).map(u64::from_le_bytes)
    }

    /// Reads an `i8`.
    pub fn read_i8(&mut self, what: &'static str) -> Result<i8, DecodeError> {
        self.read_array(what).map(i8::from_le_bytes)
    }

    /// Reads a little-endian `i16`.
    pub fn read_i16(&mut self, what: &'static str) -> Result<i16, DecodeError> {
        self.read_array(what).map(i16::from_le_bytes)
    }

    /// Reads a little-endian `i32`.
    pub fn read_i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        self.read_array(what).map(i32::from_le_bytes)
    }

    /// Reads a little-endian `i64`.
    pub fn read_i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        self.read_array(what).map(i64::from_le_bytes)
    }

    /// Reads a `bool`: one byte, any non-zero value is true (§6.1).
    pub fn read_bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        Ok(self.read_u8(what)? != 0)
    }

    /// Reads a `u32` byte length and checks that that many bytes remain, so the caller can
    /// allocate `len` bytes safely.
    pub fn read_len(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let len = self.read_u32(what)? as usize;
        if len > self.remaining() {
            return Err(self.truncated(what, len));
        }
        Ok(len)
    }

    /// Reads a `u32` element count and checks that the remaining input can hold `count`
    /// elements of at least `min_elem_len` bytes each (§6.1 containers).
    pub fn read_count(
        &mut self,
        what: &'static str,
        min_elem_len: usize,
    ) -> Result<usize, DecodeError> {
        let offset = self.offset();
        let count = self.read_u32(what)?;
        let needed = (count as usize).saturating_mul(min_elem_len.max(1));
        if needed > self.remaining() {
            return Err(DecodeError::CountTooLarge {
                what,
                offset,
                count,
                needed,
                available: self.remaining(),
            });
        }
        Ok(count as usize)
    }

    /// Reads `len` bytes as [`Bytes`]: a zero-copy slice when this reader was made with
    /// [`Reader::from_bytes`], a copy otherwise.
    pub fn read_bytes(&mut self, len: usize, what: &'static str) -> Result<Bytes, DecodeError> {
        let start = self.origin + self.pos;
        let slice = self.take(len, what)?;
        Ok(match self.backing {
            Some(backing) => backing.slice(start..start + len),
            None => Bytes::copy_from_slice(slice),
        })
    }

    /// Splits off the next `len` bytes as a reader of their own (an envelope body, §6.2) and
    /// advances past them. The sub-reader cannot read beyond those `len` bytes.
    pub fn sub_reader(
        &mut self,
        len: usize,
        what: &'static str,
    ) -> Result<Reader<'a>, DecodeError> {
        let origin = self.offset();
        let buf = self.take(len, what)?;
        Ok(Reader {
            buf,
            pos: 0,
            origin,
            backing: self.backing,
        })
    }

    /// Decodes one `T`: sugar for `T::decode(self)`.
    pub fn decode<T: Decode>(&mut self) -> Result<T, DecodeError> {
        T::decode(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_tracks_offsets() {
        let data = [1u8, 2, 3, 4, 5, 6, 7];
        let mut r = Reader::new(&data);
        assert_eq!(r.read_u16("a").unwrap(), 0x0201);
        assert_eq!(r.offset(), 2);
        assert_eq!(r.read_u32("b").unwrap(), 0x06050403);
        let err = r.read_u16("c").unwrap_err();
        assert_eq!(
            err,
            DecodeError::Truncated {
                what: "c",
                offset: 6,
                needed: 2,
                available: 1
            }
        );
        // A failed read consumes nothing.
        assert_eq!(r.read_u8("d").unwrap(), 7);
        assert!(r.is_empty());
    }

    #[test]
    fn sub_reader_is_bounded_and_keeps_absolute_offsets() {
        let data = [9u8, 1, 2, 3, 4];
        let mut r = Reader::new(&data);
        r.skip(1, "x").unwrap();
        let mut sub = r.sub_reader(2, "body").unwrap();
        assert_eq!(r.offset(), 3);
        assert_eq!(sub.read_u8("a").unwrap(), 1);
        let err = sub.read_u16("b").unwrap_err();
        assert_eq!(
            err,
            DecodeError::Truncated {
                what: "b",
                offset: 2,
                needed: 2,
                available: 1
            }
        );
    }

    #[test]
    fn hostile_length_and_count_are_rejected_before_allocating() {
        let data = [0xff, 0xff, 0xff, 0xff, 0];
        let err = Reader::new(&data).read_len("s").unwrap_err();
        assert!(matches!(
            err,
            DecodeError::Truncated {
                needed: 0xffff_ffff,
                available: 1,
                ..
            }
        ));
        let err = Reader::new(&data).read_count("v", 8).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::CountTooLarge {
                count: u32::MAX,
                available: 1,
                ..
            }
        ));
    }

    #[test]
    fn read_bytes_is_zero_copy_when_backed() {
        let input = Bytes::from_static(b"0123456789");
        let mut r = Reader::from_bytes(&input);
        r.skip(2, "x").unwrap();
        let mut sub = r.sub_reader(6, "body").unwrap();
        sub.skip(1, "y").unwrap();
        let got = sub.read_bytes(3, "bl").unwrap();
        assert_eq!(&got[..], b"345");
        assert_eq!(got.as_ptr(), input[3..].as_ptr());

        let copied = Reader::new(&input[..]).read_bytes(3, "bl").unwrap();
        assert_eq!(&copied[..], b"012");
        assert_ne!(copied.as_ptr(), input.as_ptr());
    }
}
