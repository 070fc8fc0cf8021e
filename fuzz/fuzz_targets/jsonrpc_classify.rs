//! A differential oracle for the JSON-RPC classifier: every message the strict parser
//! accepts is the same kind, id, method and error code in a plain JSON reading.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_jsonrpc::fuzz_classify(data);
});
