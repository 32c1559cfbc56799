//! Ceph's CRC32C conventions (§2.4).
//!
//! Ceph's `ceph_crc32c(seed, data)` is the bare Castagnoli register update: it starts from
//! `seed` and applies no final inversion. The `crc32c` crate computes the standard CRC-32C,
//! which inverts on the way in and on the way out: `crc32c_append(c, d)` equals
//! `!raw(!c, d)`. So `raw(seed, d) = !crc32c_append(!seed, d)`.

/// `crc32c_raw(seed, data)` of §2.4: the Castagnoli register update from `seed`, with no
/// initial or final inversion (Ceph's `ceph_crc32c`, the kernel's `crc32c`).
pub fn crc32c_raw(seed: u32, data: &[u8]) -> u32 {
    !crc32c::crc32c_append(!seed, data)
}

/// The CRC of a segment: `crc32c_raw(0xFFFFFFFF, segment)` (§2.3, §2.6). An empty segment
/// gives `0xFFFFFFFF`.
pub fn segment_crc(segment: &[u8]) -> u32 {
    crc32c_raw(u32::MAX, segment)
}

/// The CRC of a preamble: `crc32c_raw(0, preamble[0..28])` (§2.2).
pub fn preamble_crc(first_28: &[u8]) -> u32 {
    crc32c_raw(0, first_28)
}

/// A segment CRC computed over chunks as they arrive. Holds the standard CRC-32C of the bytes
/// so far, whose complement is the segment CRC (§2.4).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SegmentCrc(u32);

impl SegmentCrc {
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.0 = crc32c::crc32c_append(self.0, chunk);
    }

    /// `crc32c_raw(0xFFFFFFFF, all chunks)`.
    pub(crate) fn value(self) -> u32 {
        !self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The §2.4 test vectors.
    #[test]
    fn spec_vectors() {
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        // std(data) = crc32c_raw(0xFFFFFFFF, data) ^ 0xFFFFFFFF
        assert_eq!(crc32c_raw(u32::MAX, b"123456789") ^ u32::MAX, 0xE306_9283);
        assert_eq!(crc32c_raw(u32::MAX, b""), 0xFFFF_FFFF);
        assert_eq!(segment_crc(b""), 0xFFFF_FFFF);
        let hello_preamble: [u8; 28] = [
            0x01, 0x01, 0x24, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(preamble_crc(&hello_preamble), 0x066B_BD3F);
        assert_eq!(crc32c_raw(0, &hello_preamble), 0x066B_BD3F);
        // The spec's alternative formula with the crate's API.
        assert_eq!(
            crc32c::crc32c_append(u32::MAX, &hello_preamble) ^ u32::MAX,
            0x066B_BD3F
        );
    }

    #[test]
    fn streaming_matches_one_shot() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for split in [0, 1, 7, 500, 999, 1000] {
            let mut c = SegmentCrc::default();
            c.update(&data[..split]);
            c.update(&data[split..]);
            assert_eq!(c.value(), segment_crc(&data));
        }
        assert_eq!(SegmentCrc::default().value(), 0xFFFF_FFFF);
    }

    #[test]
    fn raw_chains_like_ceph() {
        // ceph_crc32c(ceph_crc32c(s, a), b) == ceph_crc32c(s, a ++ b)
        let (a, b) = (b"hello ".as_slice(), b"world".as_slice());
        for seed in [0, 1, u32::MAX, 0xDEAD_BEEF] {
            assert_eq!(
                crc32c_raw(crc32c_raw(seed, a), b),
                crc32c_raw(seed, b"hello world")
            );
        }
    }
}
