//! Fuzz target `series`: see `../targets.rs`.
#![no_main]

#[path = "../targets.rs"]
#[allow(dead_code, reason = "each target uses one of the shared functions")]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::series(data));
