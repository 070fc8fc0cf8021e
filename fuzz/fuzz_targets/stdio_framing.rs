//! The stdio framing read in one piece and in random chunks: the same messages and
//! refusals, in the same order, whatever the chunk boundaries.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_stdio::fuzz_framing(data);
});
