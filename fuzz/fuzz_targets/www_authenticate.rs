//! Arbitrary bytes as a `WWW-Authenticate` value and as header lines: the strict, bounded
//! challenge parser and the Bearer parameters the OAuth client reads.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_auth::fuzzing::www_authenticate(data);
});
