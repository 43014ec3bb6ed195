#![no_main]

use node_preflight::fuzzing::{self, Scope};

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::cri_responses(data, Scope::Groups));
