//! [`UTime`]: Ceph's `utime_t` (msgr2.md §6.1).

use std::time::Duration;

use super::{Decode, DecodeError, Encode, Reader};

/// A timestamp or duration as Ceph sends it (`utime_t`): `u32 sec, u32 nsec`, 8 bytes (§6.1).
///
/// Used for KEEPALIVE2 timestamps (§3.3.16) and map times. `nsec` is kept exactly as received,
/// even if it is 10^9 or more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UTime {
    /// Whole seconds (since the Unix epoch, for a point in time).
    pub sec: u32,
    /// Nanoseconds.
    pub nsec: u32,
}

impl UTime {
    /// A `UTime` of `sec` seconds and `nsec` nanoseconds.
    pub const fn new(sec: u32, nsec: u32) -> Self {
        Self { sec, nsec }
    }

    /// The value as a [`Duration`] (an out-of-range `nsec` carries into the seconds).
    pub fn to_duration(self) -> Duration {
        Duration::from_secs(u64::from(self.sec)) + Duration::from_nanos(u64::from(self.nsec))
    }

    /// `d` as a `UTime`, saturating at `u32::MAX` seconds.
    pub fn from_duration(d: Duration) -> Self {
        Self {
            sec: u32::try_from(d.as_secs()).unwrap_or(u32::MAX),
            nsec: d.subsec_nanos(),
        }
    }
}

impl Encode for UTime {
    fn encode(&self, out: &mut Vec<u8>) {
        self.sec.encode(out);
        self.nsec.encode(out);
    }
}

impl Decode for UTime {
    const MIN_ENCODED_LEN: usize = 8;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            sec: r.read_u32("utime_t.sec")?,
            nsec: r.read_u32("utime_t.nsec")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::encode_to_vec;
    use crate::wire::testutil::{check_no_panic, check_roundtrip};
    use proptest::prelude::*;

    #[test]
    fn keepalive_example() {
        // §3.3.16: sec = 1700000000, nsec = 123456.
        let t = UTime::new(1_700_000_000, 123_456);
        assert_eq!(
            encode_to_vec(&t),
            [0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0x00]
        );
        assert_eq!(t.to_duration(), Duration::new(1_700_000_000, 123_456));
        assert_eq!(UTime::from_duration(t.to_duration()), t);
        assert_eq!(
            UTime::new(1, 2_500_000_000).to_duration(),
            Duration::new(3, 500_000_000)
        );
    }

    proptest! {
        #[test]
        fn roundtrips(sec: u32, nsec: u32) {
            check_roundtrip(&UTime::new(sec, nsec))?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..16)) {
            check_no_panic::<UTime>(&data);
        }
    }
}
