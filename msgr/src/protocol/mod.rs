//! ProtocolV2 (msgr2.md §3, §4) as a sans-IO state machine: bytes and `now` in; frames to
//! send, events and the next timeout out. No sockets, no clocks.

#![forbid(unsafe_code)]
