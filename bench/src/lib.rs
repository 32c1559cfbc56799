//! Shared helpers for the criterion benches (echo servers and clients, baselines).
