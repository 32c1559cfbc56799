//! An acceptor fed an arbitrary client byte stream in arbitrary chunks, on a simulated clock,
//! with its events answered as a messenger would (`cuttle_msgr_fuzz::drive`). Must never
//! panic, and everything it writes must decode.

#![no_main]

use cuttle_msgr_fuzz::drive::{Role, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    run(Role::Server, data);
});
