//! Arbitrary bytes as each document the OAuth client reads from servers: Protected Resource
//! Metadata, authorization server metadata, a registration response and a token response,
//! read and checked as the client does.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_auth::fuzzing::auth_metadata(data);
});
