//! Replays the corpus of the `pagination_cursor` fuzz target through its entry point: a
//! cursor the lister did not hand out is refused, and its own cursors continue the listing.

#[test]
fn the_pagination_cursor_corpus_replays() {
    let count = mcpwire_test_support::replay_corpus(
        "pagination_cursor",
        mcpwire_protocol::pagination::fuzz_cursor,
    );
    println!("replayed {count} inputs of the pagination_cursor corpus");
}
