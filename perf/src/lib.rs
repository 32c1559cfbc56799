//! Whole-program performance tools for cuttle (in the manner of Ceph's `perf_msgr_*`).
//! The binaries live in `src/bin/`; shared pieces are here.

#![forbid(unsafe_code)]

pub mod echo;
pub mod msgr_bench;
pub mod stats;
