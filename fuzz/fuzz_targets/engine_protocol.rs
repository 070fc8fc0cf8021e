//! The engine as a protocol state machine: arbitrary scripts of requests, responses,
//! cancellations, timeouts and disconnects on two connections, with at most one response
//! per id, none after a processed cancel, nothing crossing connections and nothing left
//! pending.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mcpwire_rpc::fuzz_engine(data);
});
