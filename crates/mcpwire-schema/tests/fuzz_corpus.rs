//! Replays the seed corpus of every schema fuzz target (`fuzz/corpus/message_<module>/`)
//! through the targets' entry point on stable, so every input decodes without a panic and
//! every message that decodes is stable through decode, encode, decode. A crash that fuzzing
//! finds is kept as a regression by adding its input to the corpus under a descriptive name.

#![cfg(feature = "full")]

/// The schema modules with a fuzz target, `message_<module>`.
const MODULES: &[&str] = &[
    "v2024_11_05",
    "v2025_03_26",
    "v2025_06_18",
    "v2025_11_25",
    "v2026_07_28",
    "ext_tasks",
];

#[test]
fn seed_corpora_replay() {
    for module in MODULES {
        let target = format!("message_{module}");
        let count = mcpwire_test_support::replay_corpus(&target, |bytes| {
            mcpwire_schema::fuzzing::decode_message(module, bytes);
        });
        println!("replayed {count} inputs of the {target} corpus");
    }
}
