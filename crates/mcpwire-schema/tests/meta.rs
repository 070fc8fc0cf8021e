//! The modern-era `_meta` helpers against the spec's own messages: every client request
//! example of 2026-07-28 is modern and its `_meta` decodes, the requests embedded in
//! `inputRequests` and every request of the legacy transcripts are not, and the error
//! builders produce the `data` of the schema's error examples.

mod common;

use std::fs;

use mcpwire_schema::meta::{self, MetaProbe, RequestMeta};
use mcpwire_schema::{JsonObject, ProtocolVersion};
use serde_json::Value;
use serde_json::value::RawValue;

/// The params of a message, raw.
fn params_of(message: &Value) -> Option<Box<RawValue>> {
    message
        .get("params")
        .map(|params| RawValue::from_string(params.to_string()).expect("JSON"))
}

fn example(folder: &str) -> Vec<Value> {
    let folder = common::schema_dir()
        .join("2026-07-28/examples")
        .join(folder);
    let mut files: Vec<_> = fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("reading {}: {error}", folder.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            serde_json::from_str(&fs::read_to_string(file).expect("example")).expect("JSON")
        })
        .collect()
}

#[test]
fn client_request_examples_are_modern_and_embedded_requests_are_not() {
    let modern = [
        "CallToolRequest",
        "CompleteRequest",
        "DiscoverRequest",
        "GetPromptRequest",
        "ListPromptsRequest",
        "ListResourceTemplatesRequest",
        "ListResourcesRequest",
        "ListToolsRequest",
        "ReadResourceRequest",
        "SubscriptionsListenRequest",
    ];
    let mut checked = 0;
    for folder in modern {
        for message in example(folder) {
            checked += 1;
            let params = params_of(&message);
            let probe = meta::probe(params.as_deref());
            assert!(probe.is_modern(), "{folder}: {message}");
            let decoded = RequestMeta::from_probe(probe)
                .unwrap_or_else(|error| panic!("{folder}: {error}"))
                .expect("modern");
            assert_eq!(
                decoded.version(),
                Some(ProtocolVersion::V2026_07_28),
                "{folder}"
            );
            assert_eq!(
                RequestMeta::from_params(params.as_deref()).as_ref(),
                Ok(&decoded),
                "{folder}"
            );
        }
    }
    assert_eq!(checked, modern.len(), "one example per client request");
    // Requests a server embeds in `inputRequests` carry no per-request `_meta`.
    for folder in ["CreateMessageRequest", "ElicitRequest", "ListRootsRequest"] {
        for message in example(folder) {
            assert_eq!(
                meta::probe(params_of(&message).as_deref()),
                MetaProbe::Absent,
                "{folder}"
            );
        }
    }
}

#[test]
fn no_request_of_a_legacy_transcript_is_modern() {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut requests = 0;
    for revision in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let text =
            fs::read_to_string(directory.join(format!("{revision}.txt"))).expect("transcript");
        for line in text.lines() {
            let Some(json) = line.strip_prefix("> ").or_else(|| line.strip_prefix("< ")) else {
                continue;
            };
            let Ok(message) = serde_json::from_str::<Value>(json) else {
                continue;
            };
            if message.get("method").is_none() {
                continue;
            }
            requests += 1;
            assert_eq!(
                meta::probe(params_of(&message).as_deref()),
                MetaProbe::Absent,
                "{revision}: {json}"
            );
        }
    }
    assert!(requests > 100, "only {requests} messages were checked");
}

#[test]
fn error_builders_match_the_error_examples() {
    let data_of = |error: &mcpwire_jsonrpc::ErrorObject| -> Value {
        serde_json::from_str(error.data.as_deref().expect("data").get()).expect("JSON")
    };
    let [unsupported] = example("UnsupportedProtocolVersionError")
        .try_into()
        .expect("one example");
    let built = meta::unsupported_protocol_version(
        "1900-01-01",
        &[ProtocolVersion::V2026_07_28, ProtocolVersion::V2025_11_25],
    );
    assert_eq!(i64::from(built.code.0), unsupported["error"]["code"]);
    assert_eq!(data_of(&built), unsupported["error"]["data"]);

    let [missing] = example("MissingRequiredClientCapabilityError")
        .try_into()
        .expect("one example");
    let mut required = JsonObject::new();
    required.insert("elicitation".to_owned(), Value::Object(JsonObject::new()));
    let built = meta::missing_required_client_capability(required);
    assert_eq!(i64::from(built.code.0), missing["error"]["code"]);
    assert_eq!(data_of(&built), missing["error"]["data"]);

    let [mismatch] = example("HeaderMismatchError")
        .try_into()
        .expect("one example");
    let built = meta::header_mismatch("Mcp-Name does not match");
    assert_eq!(i64::from(built.code.0), mismatch["error"]["code"]);
    assert!(built.data.is_none());
}
