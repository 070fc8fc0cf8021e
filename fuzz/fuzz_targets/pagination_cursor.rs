//! Pagination cursors a client sends: refused with -32602 unless handed out, and the next
//! cursor continues where the page ended.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_protocol::pagination::fuzz_cursor(data);
});
