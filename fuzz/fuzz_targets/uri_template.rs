//! URI templates and the URIs a client reads: parsing and matching never panic, stay fast,
//! and a match names only the template's variables.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_server::fuzz_uri_template(data);
});
