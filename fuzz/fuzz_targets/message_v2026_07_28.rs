//! Arbitrary bytes decoded as any client or server message of revision 2026-07-28, and the
//! stability of decode, encode, decode.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_schema::fuzzing::decode_message("v2026_07_28", data);
});
