//! Strict JSON-RPC parsing of arbitrary bytes, single and batch, and the stability of
//! writing a parsed message and parsing it again.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_jsonrpc::fuzz_parse(data);
});
