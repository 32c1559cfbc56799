//! Gathering a fixed-size header (banner, preamble) that may arrive split across reads.

/// Copies bytes from `input[*pos..]` into `scratch[*filled..want]`, advancing both. Returns
/// true (and resets `filled` for the next header) once `want` bytes are gathered.
pub(super) fn fill(
    scratch: &mut [u8],
    filled: &mut usize,
    want: usize,
    input: &[u8],
    pos: &mut usize,
) -> bool {
    let take = (want - *filled).min(input.len() - *pos);
    scratch[*filled..*filled + take].copy_from_slice(&input[*pos..*pos + take]);
    *filled += take;
    *pos += take;
    if *filled == want {
        *filled = 0;
        true
    } else {
        false
    }
}
