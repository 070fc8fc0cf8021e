//! The decoding rules users rely on: discriminated unions, open enums, `_meta`, unknown
//! members, duplicate keys, and the schema corrections of the override table.

#![cfg(all(
    feature = "v2025_11_25",
    feature = "v2026_07_28",
    feature = "v2025_06_18"
))]

mod common;

use mcpwire_jsonrpc::method::RequestMethod;
use mcpwire_schema::{v2025_06_18, v2025_11_25, v2026_07_28};
use serde_json::{Value, json};

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Value) -> Value {
    let decoded: T = serde_json::from_value(value.clone()).expect("decodes");
    serde_json::to_value(decoded).expect("encodes")
}

#[test]
fn content_blocks_are_chosen_by_their_type() {
    let block: v2025_11_25::ContentBlock =
        serde_json::from_value(json!({"type": "image", "data": "AAAA", "mimeType": "image/png"}))
            .expect("decodes");
    assert!(
        matches!(block, v2025_11_25::ContentBlock::ImageContent(ref image) if image.mime_type == "image/png")
    );

    // A block with the wrong members for its type is an error, not another variant.
    let error =
        serde_json::from_value::<v2025_11_25::ContentBlock>(json!({"type": "image", "text": "hi"}))
            .expect_err("an image needs data");
    assert!(error.to_string().contains("data"), "{error}");
}

#[test]
fn unknown_discriminators_are_kept_and_visible() {
    let value = json!({"type": "hologram", "frames": 3});
    let block: v2025_11_25::ContentBlock = serde_json::from_value(value.clone()).expect("decodes");
    assert_eq!(block, v2025_11_25::ContentBlock::Unknown(value.clone()));
    assert_eq!(serde_json::to_value(&block).expect("encodes"), value);
}

#[test]
fn open_enums_keep_unknown_values() {
    let level: v2025_11_25::LoggingLevel =
        serde_json::from_value(json!("warning")).expect("decodes");
    assert_eq!(level, v2025_11_25::LoggingLevel::Warning);
    assert!(!level.is_unknown());
    let level: v2025_11_25::LoggingLevel = serde_json::from_value(json!("trace")).expect("decodes");
    assert!(level.is_unknown());
    assert_eq!(level.as_str(), "trace");
    assert_eq!(
        serde_json::to_value(&level).expect("encodes"),
        json!("trace")
    );
}

#[test]
fn constant_members_refuse_other_values() {
    let error =
        serde_json::from_value::<v2025_11_25::TextContent>(json!({"type": "image", "text": "x"}))
            .expect_err("type must be text");
    assert!(error.to_string().contains("\"text\""), "{error}");
    let text = v2025_11_25::TextContent {
        meta: None,
        annotations: None,
        text: "hello".to_owned(),
        r#type: v2025_11_25::tags::Text,
    };
    assert_eq!(
        serde_json::to_value(&text).expect("encodes"),
        json!({"type": "text", "text": "hello"})
    );
}

#[test]
fn meta_and_unknown_members_survive() {
    let value = json!({
        "content": [{"type": "text", "text": "ok"}],
        "_meta": {"io.example/trace": {"span": 7}, "progressToken": "p1"},
    });
    assert_eq!(round_trip::<v2025_11_25::CallToolResult>(&value), value);

    // A member from a future revision does not fail decoding.
    let value = json!({"content": [], "futureMember": {"x": 1}});
    serde_json::from_value::<v2025_11_25::CallToolResult>(value)
        .expect("unknown members are ignored");

    // An open object keeps unknown members: a tool's JSON Schema is passed through whole.
    let tool = json!({"name": "add", "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}}, "additionalProperties": false}});
    assert_eq!(round_trip::<v2025_11_25::Tool>(&tool), tool);
    // Any JSON Schema is kept whole, boolean subschemas and `$defs` included.
    let tool = json!({"name": "any", "inputSchema": {"type": "object", "properties": {"x": true, "y": {"$ref": "#/$defs/y"}}, "$defs": {"y": {"type": "string"}}}});
    assert_eq!(round_trip::<v2025_11_25::Tool>(&tool), tool);
}

#[test]
fn duplicate_keys_in_a_union_are_rejected() {
    let text = r#"{"type":"text","text":"a","text":"b"}"#;
    let error = serde_json::from_str::<v2025_11_25::ContentBlock>(text).expect_err("duplicate key");
    assert!(error.to_string().contains("duplicate"), "{error}");
    let text = r#"{"type":"text","type":"image","data":"AA","mimeType":"image/png","text":"x"}"#;
    assert!(serde_json::from_str::<v2025_11_25::ContentBlock>(text).is_err());
}

#[test]
fn elicitation_mode_defaults_to_form() {
    let params: v2025_11_25::ElicitRequestParams = serde_json::from_value(json!({
        "message": "Name?",
        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
    }))
    .expect("decodes");
    assert!(matches!(
        params,
        v2025_11_25::ElicitRequestParams::ElicitRequestFormParams(_)
    ));
    let params: v2025_11_25::ElicitRequestParams = serde_json::from_value(json!({
        "mode": "url", "message": "Sign in", "elicitationId": "e1", "url": "https://example.com/login"
    }))
    .expect("decodes");
    assert!(matches!(
        params,
        v2025_11_25::ElicitRequestParams::ElicitRequestURLParams(_)
    ));
}

#[test]
fn elicitation_field_schemas_are_told_apart_by_their_members() {
    use v2025_11_25::PrimitiveSchemaDefinition as Schema;
    let cases = [
        (json!({"type": "string"}), "StringSchema"),
        (json!({"type": "integer", "minimum": 1}), "NumberSchema"),
        (json!({"type": "boolean"}), "BooleanSchema"),
        (
            json!({"type": "string", "enum": ["a", "b"]}),
            "UntitledSingleSelectEnumSchema",
        ),
        (
            json!({"type": "string", "enum": ["a"], "enumNames": ["A"]}),
            "LegacyTitledEnumSchema",
        ),
        (
            json!({"type": "string", "oneOf": [{"const": "a", "title": "A"}]}),
            "TitledSingleSelectEnumSchema",
        ),
        (
            json!({"type": "array", "items": {"type": "string", "enum": ["a"]}}),
            "UntitledMultiSelectEnumSchema",
        ),
        (
            json!({"type": "array", "items": {"anyOf": [{"const": "a", "title": "A"}]}}),
            "TitledMultiSelectEnumSchema",
        ),
    ];
    for (value, expected) in cases {
        let schema: Schema = serde_json::from_value(value.clone()).expect("decodes");
        let debug = format!("{schema:?}");
        assert!(
            debug.starts_with(&format!("{expected}(")),
            "{value} decoded as {debug}"
        );
        let encoded = serde_json::to_value(&schema).expect("encodes");
        assert_eq!(common::json_difference(&value, &encoded, ""), None);
    }
    // 2025-06-18 has a single enum schema.
    let schema: v2025_06_18::PrimitiveSchemaDefinition =
        serde_json::from_value(json!({"type": "string", "enum": ["a"]})).expect("decodes");
    assert!(matches!(
        schema,
        v2025_06_18::PrimitiveSchemaDefinition::EnumSchema(_)
    ));
}

#[test]
fn elicitation_answers_accept_floats() {
    // schema.json says integer; schema.ts says number. The override table follows schema.ts.
    let value = json!({"action": "accept", "content": {"age": 30, "height": 1.82, "name": "Ada", "ok": true, "tags": ["a"]}});
    let result: v2025_11_25::ElicitResult = serde_json::from_value(value.clone()).expect("decodes");
    let content = result.content.as_ref().expect("content");
    assert_eq!(
        content["age"],
        v2025_11_25::ElicitResultContentValue::Integer(30)
    );
    assert_eq!(
        content["height"],
        v2025_11_25::ElicitResultContentValue::Number(1.82)
    );
    assert_eq!(serde_json::to_value(&result).expect("encodes"), value);
    serde_json::from_value::<v2026_07_28::ElicitResult>(value).expect("2026-07-28 too");
}

#[test]
fn modern_json_values_accept_floats_and_null() {
    let value = json!({"resultType": "complete", "content": [], "structuredContent": {"t": 22.5, "n": null}});
    assert_eq!(round_trip::<v2026_07_28::CallToolResult>(&value), value);
}

#[test]
fn modern_results_are_told_apart_by_result_type() {
    use v2026_07_28::CallToolResultResponseResult as Result;
    let complete = json!({"resultType": "complete", "content": []});
    assert!(matches!(
        serde_json::from_value::<Result>(complete).expect("decodes"),
        Result::CallToolResult(_)
    ));
    // An absent resultType means complete.
    let legacy_shaped = json!({"content": [{"type": "text", "text": "x"}]});
    assert!(matches!(
        serde_json::from_value::<Result>(legacy_shaped).expect("decodes"),
        Result::CallToolResult(_)
    ));
    let input = json!({"resultType": "input_required", "inputRequests": {"a": {"method": "roots/list"}}, "requestState": "s"});
    assert!(matches!(
        serde_json::from_value::<Result>(input).expect("decodes"),
        Result::InputRequiredResult(_)
    ));
}

#[test]
fn results_decode_by_the_method_of_their_request() {
    let raw =
        serde_json::value::RawValue::from_string(r#"{"tools":[],"nextCursor":"c2"}"#.to_owned())
            .expect("json");
    let result = v2025_11_25::ServerResult::decode(v2025_11_25::methods::ListTools::METHOD, &raw)
        .expect("decodes");
    let v2025_11_25::ServerResult::ListToolsResult(list) = result else {
        panic!("tools/list answers with a ListToolsResult: {result:?}");
    };
    assert_eq!(list.next_cursor.as_deref(), Some("c2"));

    // The same bytes are an error for a method whose result has other required members.
    assert!(v2025_11_25::ServerResult::decode("prompts/get", &raw).is_err());
    // A method this revision does not define keeps the result as received.
    let unknown = v2025_11_25::ServerResult::decode("vendor/thing", &raw).expect("decodes");
    assert!(matches!(unknown, v2025_11_25::ServerResult::Unknown(_)));
    assert!(v2025_11_25::ServerResult::METHODS.contains(&"tools/call"));
    assert!(v2025_11_25::ClientResult::METHODS.contains(&"sampling/createMessage"));
}

#[test]
fn method_markers_carry_method_params_and_result() {
    fn params_of<M: RequestMethod>(json: Value) -> M::Params {
        serde_json::from_value(json).expect("params decode")
    }
    assert_eq!(v2025_11_25::methods::CallTool::METHOD, "tools/call");
    let params =
        params_of::<v2025_11_25::methods::CallTool>(json!({"name": "add", "arguments": {"a": 1}}));
    assert_eq!(params.name, "add");
    // ping takes optional params.
    let params = params_of::<v2025_11_25::methods::Ping>(Value::Null);
    assert!(params.is_none());
    fn from_client<M: mcpwire_schema::FromClient>() {}
    fn from_server<M: mcpwire_schema::FromServer>() {}
    from_client::<v2025_11_25::methods::CallTool>();
    from_server::<v2025_11_25::methods::CreateMessage>();
    from_client::<v2025_11_25::methods::Ping>();
    from_server::<v2025_11_25::methods::Ping>();
    from_client::<v2026_07_28::methods::Discover>();
}
