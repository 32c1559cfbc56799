//! The input layout of the stream targets:
//!
//! ```text
//! [F option bytes] [n: u8] [n schedule bytes] [stream ...]
//! ```
//!
//! Short inputs are padded with zeros, so every input is valid. A seed is
//! [`encode`]`(options, schedule, stream)`; a captured stream with no options and no schedule
//! is `[0; F] ++ [0] ++ stream`.

/// An input taken apart.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a, const F: usize> {
    /// Target-specific option bits.
    pub options: [u8; F],
    /// Chunk sizes and other steps, read cyclically; may be empty.
    pub schedule: &'a [u8],
    /// The bytes under test.
    pub stream: &'a [u8],
}

/// Splits `data` into options, schedule and stream.
pub fn split<const F: usize>(data: &[u8]) -> Input<'_, F> {
    let mut options = [0u8; F];
    let take = F.min(data.len());
    options[..take].copy_from_slice(&data[..take]);
    let rest = &data[take..];
    let (n, rest) = match rest.split_first() {
        Some((&n, rest)) => (usize::from(n).min(rest.len()), rest),
        None => (0, rest),
    };
    let (schedule, stream) = rest.split_at(n);
    Input {
        options,
        schedule,
        stream,
    }
}

/// The input [`split`] takes apart into these parts. `schedule` is cut to 255 bytes.
pub fn encode(options: &[u8], schedule: &[u8], stream: &[u8]) -> Vec<u8> {
    let schedule = &schedule[..schedule.len().min(255)];
    let mut out = Vec::with_capacity(options.len() + 1 + schedule.len() + stream.len());
    out.extend_from_slice(options);
    out.push(schedule.len() as u8);
    out.extend_from_slice(schedule);
    out.extend_from_slice(stream);
    out
}

/// `stream` cut into chunks whose sizes are the schedule's bytes, taken cyclically (0 is an
/// empty chunk: a call with no input). With an empty schedule, or once a bounded number of
/// chunks is exhausted, the rest comes as one chunk. The chunks concatenate to `stream`.
pub fn chunks<'a>(stream: &'a [u8], schedule: &'a [u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = stream;
    // Bounds the empty chunks an all-zero schedule would produce forever.
    let mut budget = stream.len() + 2 * schedule.len();
    for &size in schedule.iter().cycle() {
        if rest.is_empty() || budget == 0 {
            break;
        }
        budget -= 1;
        let (chunk, tail) = rest.split_at(usize::from(size).min(rest.len()));
        out.push(chunk);
        rest = tail;
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data = encode(&[1, 2], &[3, 0, 5], b"hello world");
        let input = split::<2>(&data);
        assert_eq!(input.options, [1, 2]);
        assert_eq!(input.schedule, &[3, 0, 5]);
        assert_eq!(input.stream, b"hello world");
        let pieces = chunks(input.stream, input.schedule);
        assert_eq!(pieces.concat(), b"hello world");
        assert_eq!(pieces[0], b"hel");
        assert!(pieces[1].is_empty());
        let empty = split::<3>(&[7]);
        assert_eq!(empty.options, [7, 0, 0]);
        assert!(empty.stream.is_empty());
        assert_eq!(chunks(b"", b"\0\0").len(), 1);
    }
}
