#![no_main]

use node_preflight::fuzzing::{self, Scope};

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::docker_http(data, Scope::Groups));
