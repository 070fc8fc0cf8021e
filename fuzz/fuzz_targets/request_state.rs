//! `requestState` tokens a client echoes: only a state the server sealed opens, and only for
//! its own request and caller.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_server::fuzz_request_state(data);
});
