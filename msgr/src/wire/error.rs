//! [`DecodeError`]: why a peer's bytes could not be decoded, and where.

/// A decoding failure. Every variant names what was being decoded (`what`: a type or a
/// `type.field` path) and the absolute byte offset in the input where the problem was found,
/// so a connection fault can log a precise reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input (or the enclosing envelope body, §6.2) ended before the value did.
    #[error("{what}: need {needed} bytes at offset {offset}, only {available} remain")]
    Truncated {
        /// What was being decoded.
        what: &'static str,
        /// Absolute offset of the read.
        offset: usize,
        /// Bytes the read needed.
        needed: usize,
        /// Bytes that remained.
        available: usize,
    },

    /// A `u32` element count that the remaining input cannot possibly hold, rejected before
    /// allocating.
    #[error(
        "{what}: count {count} at offset {offset} needs at least {needed} bytes, only {available} remain"
    )]
    CountTooLarge {
        /// What was being decoded.
        what: &'static str,
        /// Absolute offset of the count.
        offset: usize,
        /// The count as sent.
        count: u32,
        /// The fewest bytes `count` elements occupy.
        needed: usize,
        /// Bytes that remained after the count.
        available: usize,
    },

    /// A field held a value this decoder does not accept (an unknown marker, address type or
    /// address family, ...).
    #[error("{what}: unexpected value {value} ({value:#x}) at offset {offset}")]
    BadValue {
        /// What was being decoded.
        what: &'static str,
        /// Absolute offset of the field.
        offset: usize,
        /// The value found.
        value: u64,
    },

    /// The bytes are structurally wrong in a way a single value does not capture.
    #[error("{what}: {reason} at offset {offset}")]
    Invalid {
        /// What was being decoded.
        what: &'static str,
        /// Absolute offset of the problem.
        offset: usize,
        /// A fixed description of the problem.
        reason: &'static str,
    },

    /// A string decoded as Rust `String` was not UTF-8. Ceph strings are bytes; decode them as
    /// `Vec<u8>` or `Bytes` where that can happen.
    #[error("{what}: string at offset {offset} is not valid UTF-8")]
    InvalidUtf8 {
        /// What was being decoded.
        what: &'static str,
        /// Absolute offset of the string's first byte.
        offset: usize,
    },

    /// A versioned struct (§6.2) whose `struct_compat` is newer than this decoder's version:
    /// Ceph's "incompatible encoding".
    #[error(
        "{what}: encoding v{struct_v} at offset {offset} needs a decoder of v{struct_compat} or newer, this one is v{supported}"
    )]
    IncompatibleVersion {
        /// What was being decoded.
        what: &'static str,
        /// Absolute offset of the envelope.
        offset: usize,
        /// The sender's `struct_v`.
        struct_v: u8,
        /// The sender's `struct_compat`: the oldest decoder that can read it.
        struct_compat: u8,
        /// This decoder's version.
        supported: u8,
    },

    /// Bytes were left over after a value that had to fill its input exactly.
    #[error("{what}: {remaining} unexpected trailing bytes at offset {offset}")]
    TrailingBytes {
        /// What was being decoded.
        what: &'static str,
        /// Absolute offset of the first unread byte.
        offset: usize,
        /// How many bytes were left.
        remaining: usize,
    },
}

impl DecodeError {
    /// What was being decoded when the error occurred.
    pub fn what(&self) -> &'static str {
        match self {
            Self::Truncated { what, .. }
            | Self::CountTooLarge { what, .. }
            | Self::BadValue { what, .. }
            | Self::Invalid { what, .. }
            | Self::InvalidUtf8 { what, .. }
            | Self::IncompatibleVersion { what, .. }
            | Self::TrailingBytes { what, .. } => what,
        }
    }

    /// The absolute byte offset in the input where the error was found.
    pub fn offset(&self) -> usize {
        match self {
            Self::Truncated { offset, .. }
            | Self::CountTooLarge { offset, .. }
            | Self::BadValue { offset, .. }
            | Self::Invalid { offset, .. }
            | Self::InvalidUtf8 { offset, .. }
            | Self::IncompatibleVersion { offset, .. }
            | Self::TrailingBytes { offset, .. } => *offset,
        }
    }
}
