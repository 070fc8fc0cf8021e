//! Replays the corpora of the server's fuzz targets through their entry points: only sealed
//! `requestState`s open, URI templates match only their variables, and tool arguments
//! validate without a panic.

#[test]
fn the_request_state_corpus_replays() {
    let count =
        mcpwire_test_support::replay_corpus("request_state", mcpwire_server::fuzz_request_state);
    println!("replayed {count} inputs of the request_state corpus");
}

#[test]
fn the_uri_template_corpus_replays() {
    let count =
        mcpwire_test_support::replay_corpus("uri_template", mcpwire_server::fuzz_uri_template);
    println!("replayed {count} inputs of the uri_template corpus");
}

#[test]
fn the_tool_arguments_corpus_replays() {
    let count =
        mcpwire_test_support::replay_corpus("tool_arguments", mcpwire_server::fuzz_tool_arguments);
    println!("replayed {count} inputs of the tool_arguments corpus");
}
