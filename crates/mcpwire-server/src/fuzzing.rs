//! The entry points of the server's fuzz targets, here so that the corpus replay tests run
//! exactly what the fuzzer runs.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::Tool;
use crate::modern::request_state::{Binding, StateConfig};
use crate::uri_template::UriTemplate;

/// Opens a `requestState` made from `data` and checks that only a state the server sealed
/// opens: a token that opens seals back to itself, so no forgery, re-encoding or changed
/// payload is accepted. The first byte chooses the token: the text of the rest, or (odd) the
/// genuine state of a request with the rest written over it at the position the second byte
/// names. The genuine state opens for its own request only.
///
/// # Panics
///
/// Panics when a token the server did not seal opens, or the genuine one does not.
#[doc(hidden)]
pub fn fuzz_request_state(data: &[u8]) {
    let [mode, position, rest @ ..] = data else {
        return;
    };
    let config = StateConfig::new([7; 32], &[[9; 32]]);
    let binding = Binding::new("tools/call", "tool", &json!({"a": [1, "b"]}), Some([1; 32]));
    let payload = config.payload(&binding, 1, BTreeMap::new(), BTreeMap::new());
    let genuine = config.seal(&payload).expect("a small state fits");
    let token = if mode & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let mut bytes = genuine.clone().into_bytes();
        let start = usize::from(*position) % (bytes.len() + 1);
        let end = (start + rest.len()).min(bytes.len());
        bytes.splice(start..end, rest.iter().copied());
        String::from_utf8_lossy(&bytes).into_owned()
    };
    if let Ok(opened) = config.open(&token, &binding) {
        let resealed = config.seal(&opened).expect("an opened state fits");
        assert_eq!(
            resealed, token,
            "a state opened that the server did not seal"
        );
    }
    assert!(config.open(&genuine, &binding).is_ok());
    let other = Binding::new("tools/call", "tool", &json!({"a": [1, "b"]}), Some([2; 32]));
    assert!(
        config.open(&genuine, &other).is_err(),
        "another caller's state opened"
    );
}

/// Parses a URI template and matches a URI against it, from `data` split at its first NUL
/// byte (template, then URI). Checks that every variable a match names is one of the
/// template's, and that a URI built from the template's literals alone never panics either.
///
/// # Panics
///
/// Panics when a match names a variable the template does not have.
#[doc(hidden)]
pub fn fuzz_uri_template(data: &[u8]) {
    let (template, uri) = match data.iter().position(|&byte| byte == 0) {
        Some(split) => (&data[..split], &data[split + 1..]),
        None => (data, &b""[..]),
    };
    let template = String::from_utf8_lossy(template);
    let uri = String::from_utf8_lossy(uri);
    let Ok(parsed) = UriTemplate::parse(&template) else {
        return;
    };
    let variables: Vec<&str> = parsed.variables().collect();
    if let Some(values) = parsed.matches(&uri) {
        for name in values.keys() {
            assert!(
                variables.contains(&name.as_str()),
                "a match named `{name}`, not a variable of the template"
            );
        }
    }
}

/// The tools whose schemas [`fuzz_tool_arguments`] validates against: a plain object, the
/// conformance suite's JSON Schema 2020-12 tool (references, anchors, `if`/`then`/`else`,
/// `anyOf` in `allOf`), a recursive tree, and patterns and formats.
fn tools() -> &'static [Tool] {
    static TOOLS: OnceLock<Vec<Tool>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let schemas = [
            json!({"type": "object", "properties": {"a": {"type": "integer", "minimum": 0}},
                   "required": ["a"], "additionalProperties": false}),
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {"address": {"$anchor": "addressDef", "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                    "required": ["street"]}},
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 64},
                    "home": {"$ref": "#/$defs/address"},
                    "work": {"$ref": "#addressDef"},
                    "contactMethod": {"enum": ["phone", "email"]},
                    "phone": {"type": "string", "pattern": "^[0-9+ -]{3,20}$"},
                    "email": {"type": "string", "format": "email"}
                },
                "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
                "if": {"properties": {"contactMethod": {"const": "phone"}},
                       "required": ["contactMethod"]},
                "then": {"required": ["phone"]},
                "else": {"required": ["email"]}
            }),
            json!({"type": "object", "$defs": {"node": {"type": "object", "properties": {
                    "value": {"type": ["number", "string", "null"]},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"},
                                 "maxItems": 8}}}},
                   "properties": {"root": {"$ref": "#/$defs/node"}},
                   "$ref": "https://example.com/elsewhere.json"}),
            json!({"type": "object", "patternProperties": {"^x-[a-z]+$": {"type": "string",
                    "pattern": "^(a|b)*c$"}},
                   "propertyNames": {"maxLength": 16},
                   "properties": {"when": {"type": "string", "format": "date-time"},
                                  "tags": {"type": "array", "uniqueItems": true,
                                           "contains": {"const": "x"}}}}),
        ];
        schemas
            .into_iter()
            .enumerate()
            .map(|(index, schema)| {
                let Value::Object(schema) = schema else {
                    unreachable!("every schema above is an object")
                };
                Tool::raw(
                    format!("tool{index}"),
                    schema,
                    |_: mcpwire_schema::JsonObject| async { Ok::<_, crate::ToolError>("") },
                )
                .build()
                .expect("the fixture schemas compile")
            })
            .collect()
    })
}

/// Validates the JSON of `data` as the arguments of every fixture tool, as the server does
/// for a `tools/call`: never a panic, and (under libFuzzer's `-timeout`) never slow; the
/// quick check and the full list of violations agree.
///
/// # Panics
///
/// Panics when the quick check and the violations disagree.
#[doc(hidden)]
pub fn fuzz_tool_arguments(data: &[u8]) {
    let Ok(arguments) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for tool in tools() {
        let valid = tool.input_validator.is_valid(&arguments);
        let checked = tool.check_arguments(&arguments);
        assert_eq!(
            valid,
            checked.is_ok(),
            "the quick check and the violations disagree"
        );
        if let Err(violations) = checked {
            assert!(
                !violations.is_empty(),
                "an invalid value without a violation"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_open_only_as_sealed() {
        fuzz_request_state(b"\x00\x00not a state");
        fuzz_request_state(b"\x01\x05xyz");
        fuzz_request_state(b"\x01\xff");
    }

    #[test]
    fn templates_match_their_variables() {
        fuzz_uri_template(b"file:///{path}\0file:///a");
        fuzz_uri_template(b"db://{+rest}{?q,limit}\0db://x/y?q=1&limit=2");
        fuzz_uri_template(b"{\0x");
    }

    #[test]
    fn arguments_validate_without_a_panic() {
        fuzz_tool_arguments(br#"{"a": 1}"#);
        fuzz_tool_arguments(br#"{"contactMethod": "phone", "phone": "+1 555", "work": {}}"#);
        fuzz_tool_arguments(br#"{"root": {"children": [{"children": [{"value": null}]}]}}"#);
        fuzz_tool_arguments(br#"{"x-ab": "ababc", "tags": ["x", "x"], "when": "nope"}"#);
    }
}
