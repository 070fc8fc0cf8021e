//! Arbitrary bytes decoded as any client or server message of the tasks extension, and the
//! stability of decode, encode, decode.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_schema::fuzzing::decode_message("ext_tasks", data);
});
