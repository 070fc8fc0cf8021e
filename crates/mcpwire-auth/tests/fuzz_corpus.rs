//! Replays the corpora of this crate's fuzz targets (`fuzz/corpus/www_authenticate/` and
//! `fuzz/corpus/auth_metadata/`, and whatever a local fuzzing run left in
//! `fuzz/artifacts/<target>/`) through the targets' entry points on stable, so every input
//! keeps passing their checks. A crash that fuzzing finds is kept as a regression by adding
//! its input to the corpus under a descriptive name.

#[test]
fn the_www_authenticate_corpus_replays() {
    let count = mcpwire_test_support::replay_corpus(
        "www_authenticate",
        mcpwire_auth::fuzzing::www_authenticate,
    );
    println!("replayed {count} inputs of the www_authenticate corpus");
}

#[test]
fn the_auth_metadata_corpus_replays() {
    let count =
        mcpwire_test_support::replay_corpus("auth_metadata", mcpwire_auth::fuzzing::auth_metadata);
    println!("replayed {count} inputs of the auth_metadata corpus");
}
