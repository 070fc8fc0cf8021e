//! Arbitrary bytes decoded as any client or server message of revision 2024-11-05, and the
//! stability of decode, encode, decode.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_schema::fuzzing::decode_message("v2024_11_05", data);
});
