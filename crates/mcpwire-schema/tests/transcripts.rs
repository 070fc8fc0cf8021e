//! Replays the hand-written transcript of each legacy revision (`tests/transcripts/*.txt`):
//! every message decodes by its discriminator into that revision's types, every result decodes
//! by the method of the request it answers, and everything encodes back to an equal JSON value.
//!
//! Transcript lines are `> {json}` (client to server) or `< {json}` (server to client); blank
//! lines and `#` comments are skipped. A response answers the latest request with the same id
//! that travelled the other way.

#![cfg(all(
    feature = "v2024_11_05",
    feature = "v2025_03_26",
    feature = "v2025_06_18",
    feature = "v2025_11_25"
))]

mod common;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

/// A decoded message's re-encoding, and whether it landed in an `Unknown` variant.
type Decoded = Result<(Value, bool), String>;

/// How one revision's generated module is driven by the replay.
struct Revision {
    file: &'static str,
    transcode: fn(&str, &str) -> Option<Result<Value, serde_json::Error>>,
    client_request: fn(&str) -> Decoded,
    server_request: fn(&str) -> Decoded,
    client_notification: fn(&str) -> Decoded,
    server_notification: fn(&str) -> Decoded,
    /// Decodes a result sent by the server (the answer to a client request).
    server_result: fn(&str, &RawValue) -> Decoded,
    /// Decodes a result sent by the client (the answer to a server request).
    client_result: fn(&str, &RawValue) -> Decoded,
    client_methods: &'static [&'static str],
    server_methods: &'static [&'static str],
}

/// Decodes `json` as `T`, returning its re-encoding and whether it landed in `Unknown`.
fn decode<T: DeserializeOwned + Serialize + std::fmt::Debug>(json: &str) -> Decoded {
    let decoded: T = serde_json::from_str(json).map_err(|error| error.to_string())?;
    let unknown = format!("{decoded:?}").starts_with("Unknown(");
    Ok((
        serde_json::to_value(&decoded).map_err(|error| error.to_string())?,
        unknown,
    ))
}

macro_rules! revision {
    ($module:ident, $file:literal) => {{
        use mcpwire_schema::$module as m;
        Revision {
            file: $file,
            transcode: m::transcode,
            client_request: decode::<m::ClientRequest>,
            server_request: decode::<m::ServerRequest>,
            client_notification: decode::<m::ClientNotification>,
            server_notification: decode::<m::ServerNotification>,
            server_result: |method, raw| {
                let decoded =
                    m::ServerResult::decode(method, raw).map_err(|error| error.to_string())?;
                let unknown = matches!(decoded, m::ServerResult::Unknown(_));
                Ok((
                    serde_json::to_value(&decoded).map_err(|error| error.to_string())?,
                    unknown,
                ))
            },
            client_result: |method, raw| {
                let decoded =
                    m::ClientResult::decode(method, raw).map_err(|error| error.to_string())?;
                let unknown = matches!(decoded, m::ClientResult::Unknown(_));
                Ok((
                    serde_json::to_value(&decoded).map_err(|error| error.to_string())?,
                    unknown,
                ))
            },
            client_methods: m::ServerResult::METHODS,
            server_methods: m::ClientResult::METHODS,
        }
    }};
}

fn replay(revision: Revision) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transcripts")
        .join(revision.file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    let mut failures = Vec::new();
    // (direction of the request, id) → (method, params)
    let mut pending: HashMap<(char, String), (String, Value)> = HashMap::new();
    let mut answered: BTreeSet<(char, String)> = BTreeSet::new();
    let mut notified: BTreeSet<String> = BTreeSet::new();
    let mut messages = 0;
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (direction, json) = match line.split_at_checked(2) {
            Some(("> ", json)) => ('>', json),
            Some(("< ", json)) => ('<', json),
            _ => {
                failures.push(format!("line {line_number}: not a transcript line"));
                continue;
            }
        };
        messages += 1;
        let mut fail =
            |message: String| failures.push(format!("{}:{line_number}: {message}", revision.file));
        if let Err(error) = mcpwire_jsonrpc::Message::parse(json.as_bytes()) {
            fail(format!("the envelope does not parse strictly: {error}"));
            continue;
        }
        let original: Value = serde_json::from_str(json).expect("parsed above");
        let method = original
            .get("method")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let id = original.get("id").map(Value::to_string);
        let (decoded, expected) = match (method, id) {
            (Some(method), Some(id)) => {
                pending.insert(
                    (direction, id),
                    (
                        method,
                        original.get("params").cloned().unwrap_or(Value::Null),
                    ),
                );
                let decode = if direction == '>' {
                    revision.client_request
                } else {
                    revision.server_request
                };
                (decode(json), original.clone())
            }
            (Some(method), None) => {
                notified.insert(method);
                let decode = if direction == '>' {
                    revision.client_notification
                } else {
                    revision.server_notification
                };
                (decode(json), original.clone())
            }
            (None, Some(id)) => {
                let requester = if direction == '>' { '<' } else { '>' };
                let Some((method, params)) = pending.get(&(requester, id.clone())).cloned() else {
                    fail(format!("response to unknown request id {id}"));
                    continue;
                };
                let Some(result) = original.get("result") else {
                    // Error responses are the envelope's: the strict parse above covered them.
                    continue;
                };
                let raw = RawValue::from_string(result.to_string()).expect("valid JSON");
                let decoded = if params.get("task").is_some() {
                    // A task-augmented request is answered with a CreateTaskResult, whatever its method.
                    (revision.transcode)("CreateTaskResult", raw.get())
                        .expect("2025-11-25 defines CreateTaskResult")
                        .map(|value| (value, false))
                        .map_err(|error| error.to_string())
                } else if direction == '<' {
                    (revision.server_result)(&method, &raw)
                } else {
                    (revision.client_result)(&method, &raw)
                };
                answered.insert((requester, method));
                (decoded, result.clone())
            }
            (None, None) => {
                fail("neither a request, a notification nor a response".to_owned());
                continue;
            }
        };
        match decoded {
            Err(error) => fail(format!("does not decode: {error}")),
            Ok((_, true)) => fail("decoded as an unknown variant".to_owned()),
            Ok((encoded, false)) => {
                if let Some(difference) = common::json_difference(&expected, &encoded, "") {
                    fail(format!("re-encoding differs: {difference}"));
                }
            }
        }
    }
    for (direction, methods) in [
        ('>', revision.client_methods),
        ('<', revision.server_methods),
    ] {
        for method in methods {
            if !answered.contains(&(direction, (*method).to_owned())) {
                failures.push(format!("{}: no answered `{method}` request", revision.file));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures in {} ({messages} messages):\n{}",
        failures.len(),
        revision.file,
        failures.join("\n")
    );
    assert!(
        notified.len() >= 5,
        "{}: too few notification methods: {notified:?}",
        revision.file
    );
    println!(
        "{}: {messages} messages, {} methods answered, {} notification methods",
        revision.file,
        answered.len(),
        notified.len()
    );
}

#[test]
fn transcript_2024_11_05() {
    replay(revision!(v2024_11_05, "2024-11-05.txt"));
}

#[test]
fn transcript_2025_03_26() {
    replay(revision!(v2025_03_26, "2025-03-26.txt"));
}

#[test]
fn transcript_2025_06_18() {
    replay(revision!(v2025_06_18, "2025-06-18.txt"));
}

#[test]
fn transcript_2025_11_25() {
    replay(revision!(v2025_11_25, "2025-11-25.txt"));
}
