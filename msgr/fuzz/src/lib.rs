//! Shared pieces of cuttle-msgr's fuzz targets (`fuzz_targets/`), kept in a library so that
//! the seed generator (`examples/gen_seeds.rs`) writes exactly the layout the targets read.
//!
//! * [`layout`]: how a target splits its input into option bytes, a schedule (chunk sizes,
//!   clock steps) and the byte stream under test.
//! * [`fixup`]: rewrites the CRCs of a frame stream so that mutated frames get past the
//!   preamble and segment checksums (§2.2, §2.3), which a fuzzer cannot guess.
//! * [`message_input`]: the `message_decode` target's input.
//! * [`drive`]: runs a [`msgr::protocol::Protocol`] in either role against a stream, the way a
//!   messenger would, with a simulated clock.
//! * [`record`]: our own client and server in memory, for lossless and reconnect seeds and for
//!   the existing connection the server target can judge newcomers against.

#![forbid(unsafe_code)]

pub mod drive;
pub mod fixup;
pub mod layout;
pub mod message_input;
pub mod record;
