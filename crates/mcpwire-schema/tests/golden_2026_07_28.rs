//! Every example message shipped with the 2026-07-28 schema decodes into the type its folder
//! names and encodes back to an equal JSON value.

#![cfg(feature = "v2026_07_28")]

mod common;

use std::fs;

use mcpwire_schema::v2026_07_28;

#[test]
fn every_2026_07_28_example_round_trips() {
    let examples = common::schema_dir().join("2026-07-28/examples");
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut folders: Vec<_> = fs::read_dir(&examples)
        .unwrap_or_else(|error| panic!("reading {}: {error}", examples.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        let type_name = folder
            .file_name()
            .expect("folder name")
            .to_string_lossy()
            .into_owned();
        let mut files: Vec<_> = fs::read_dir(&folder)
            .expect("reading example folder")
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| {
                path.extension()
                    .is_some_and(|extension| extension == "json")
            })
            .collect();
        files.sort();
        for file in files {
            checked += 1;
            let label = format!(
                "{type_name}/{}",
                file.file_name().expect("file name").to_string_lossy()
            );
            let text = fs::read_to_string(&file).expect("reading example");
            let original: serde_json::Value = serde_json::from_str(&text).expect("example is JSON");
            match v2026_07_28::transcode(&type_name, &text) {
                None => failures.push(format!("{label}: no type `{type_name}` in v2026_07_28")),
                Some(Err(error)) => failures.push(format!("{label}: decoding failed: {error}")),
                Some(Ok(encoded)) => {
                    if let Some(difference) = common::json_difference(&original, &encoded, "") {
                        failures.push(format!("{label}: {difference}"));
                    }
                }
            }
        }
    }
    assert_eq!(checked, 129, "the 2026-07-28 schema ships 129 examples");
    assert!(
        failures.is_empty(),
        "{} of {checked} examples failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
