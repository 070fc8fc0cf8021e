//! Arbitrary bytes as a DPoP proof at the resource server, raw (the parser and every check) or
//! as claims a fixed key signs (the checks past the signature), with and without nonces.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = mcpwire_ext_dpop::fuzzing::check_proof(data);
});
