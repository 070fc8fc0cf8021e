//! The committed corpus of the fuzz target `conformance_sse` replays as an ordinary test.

#[test]
fn the_conformance_sse_corpus_replays() {
    let count =
        mcpwire_test_support::replay_corpus("conformance_sse", mcpwire_conformance::fuzz_sse);
    println!("replayed {count} inputs of the conformance_sse corpus");
}
