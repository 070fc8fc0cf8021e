//! Header values a peer sends: `Mcp-Name`/`Mcp-Param-*` decoding and encoding, session ids,
//! and the `Host`/`Origin` decisions under case and trailing dots.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_http::fuzz_headers(data);
});
