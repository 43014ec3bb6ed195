#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| node_preflight::fuzzing::bundle_tar(data));
