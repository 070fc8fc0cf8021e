//! The conformance suite's SSE reader (what a server under test sends) fed in one piece and
//! in chunks: the same events and the same malformed lines, and no panic.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_conformance::fuzz_sse(data);
});
