//! Ceph messages (msgr2.md §5, §6.6): the msgr2 message header, raw messages, and typed
//! encodings of the messages a MonClient and the `ceph` CLI need. Pure data: no I/O.

#![forbid(unsafe_code)]
