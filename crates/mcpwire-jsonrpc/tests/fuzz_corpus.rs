//! Replays the corpus of the `jsonrpc_message` fuzz target (`fuzz/corpus/jsonrpc_message/`)
//! through the target's entry point on stable, so every input stays parseable without a panic
//! and every message it parses survives a round trip. A crash that fuzzing finds is kept as a
//! regression by adding its input to the corpus under a descriptive name.

#[test]
fn seed_corpus_replays() {
    let count = mcpwire_test_support::replay_corpus("jsonrpc_message", mcpwire_jsonrpc::fuzz_parse);
    println!("replayed {count} inputs of the jsonrpc_message corpus");
}

#[test]
fn the_classifier_agrees_with_a_plain_reading_on_the_corpus() {
    let count =
        mcpwire_test_support::replay_corpus("jsonrpc_classify", mcpwire_jsonrpc::fuzz_classify);
    println!("replayed {count} inputs of the jsonrpc_classify corpus");
}
