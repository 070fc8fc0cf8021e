//! Tool arguments a client sends, validated against the fixture schemas as `tools/call` does:
//! no panic, no network, and the quick check agrees with the violations.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_server::fuzz_tool_arguments(data);
});
