//! Replays the corpora of the HTTP fuzz targets through their entry points: event streams
//! parse alike in any chunks, and header values keep their rules.

#[cfg(feature = "client")]
#[test]
fn the_sse_client_corpus_replays() {
    let count = mcpwire_test_support::replay_corpus("sse_client", mcpwire_http::fuzz_sse);
    println!("replayed {count} inputs of the sse_client corpus");
}

#[cfg(any(feature = "server", feature = "client"))]
#[test]
fn the_http_headers_corpus_replays() {
    let count = mcpwire_test_support::replay_corpus("http_headers", mcpwire_http::fuzz_headers);
    println!("replayed {count} inputs of the http_headers corpus");
}
