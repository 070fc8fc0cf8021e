//! Replays the corpus of the `engine_protocol` fuzz target through its entry point: scripts
//! of requests, responses, cancellations, timeouts and disconnects on two connections keep
//! the engine's invariants.

#![cfg(feature = "fuzzing")]

#[test]
fn the_engine_protocol_corpus_replays() {
    let count = mcpwire_test_support::replay_corpus("engine_protocol", mcpwire_rpc::fuzz_engine);
    println!("replayed {count} inputs of the engine_protocol corpus");
}
