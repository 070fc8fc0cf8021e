//! The client's event-stream parser fed in one piece and in random chunks: the same events,
//! last event id and retry, and no event over the limit.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_http::fuzz_sse(data);
});
