//! Replays the corpus of the `dpop_proof` fuzz target (`fuzz/corpus/dpop_proof/`, and whatever a
//! local fuzzing run left in `fuzz/artifacts/dpop_proof/`) through its entry point on stable,
//! so every input keeps passing its checks; and checks that the seeds reach the checks past the
//! signature.

#[test]
fn the_dpop_proof_corpus_replays() {
    let count = mcpwire_test_support::replay_corpus("dpop_proof", |data| {
        mcpwire_ext_dpop::fuzzing::check_proof(data);
    });
    assert!(count > 0, "the corpus has seeds");
    println!("replayed {count} inputs of the dpop_proof corpus");
}

#[test]
fn a_freshly_signed_valid_proof_passes_the_entry_point() {
    // The signed mode with the claims of a valid proof: accepted, then recorded; again, a
    // replay.
    let claims = serde_json::Value::Object(mcpwire_ext_dpop::fuzzing::valid_claims());
    let mut input = vec![1u8];
    input.extend(claims.to_string().as_bytes());
    assert!(mcpwire_ext_dpop::fuzzing::check_proof(&input));
    assert!(!mcpwire_ext_dpop::fuzzing::check_proof(&input));
}
