//! Whole-program performance tools for cuttle (in the manner of Ceph's `perf_msgr_*`).
//! The binaries live in `src/bin/`; shared pieces are here.

#![deny(unsafe_code)]

// The counting global allocator implements `GlobalAlloc`, an unsafe trait.
#[allow(unsafe_code)]
pub mod alloc_count;
pub mod echo;
pub mod flame;
pub mod mon_bench;
pub mod msgr_bench;
pub mod report;
pub mod stats;

/// Logs to stderr, filtered by `RUST_LOG` (every tool's first call).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
}
