//! Replays the corpus of the `stdio_framing` fuzz target through its entry point: the same
//! stream frames into the same messages however its bytes arrive.

#[test]
fn seed_corpus_replays() {
    let count = mcpwire_test_support::replay_corpus("stdio_framing", mcpwire_stdio::fuzz_framing);
    println!("replayed {count} inputs of the stdio_framing corpus");
}
