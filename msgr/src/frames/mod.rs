//! msgr2 framing (msgr2.md §1, §2): banner, preamble, rev1 and rev0 CRC-mode frames,
//! segments and epilogues. A pure codec: bytes in, frames out, no I/O.

#![forbid(unsafe_code)]
