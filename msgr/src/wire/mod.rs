//! Ceph's encoding (msgr2.md §6, §7): primitives, the versioned envelope, addresses, names,
//! feature bits. Pure data: no I/O.

#![forbid(unsafe_code)]
