//! Arbitrary bytes decoded as any client or server message of revision 2025-03-26, and the
//! stability of decode, encode, decode.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_schema::fuzzing::decode_message("v2025_03_26", data);
});
