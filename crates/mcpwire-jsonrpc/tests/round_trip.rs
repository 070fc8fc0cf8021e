//! Parsing, writing and parsing again gives the same message, and canonical
//! input is written back byte for byte.

use mcpwire_jsonrpc::{
    ErrorCode, ErrorObject, ErrorResponse, Message, Notification, ParseOptions, Parsed, Request,
    RequestId, Response, parse,
};
use serde_json::value::RawValue;

/// Messages already in the form this crate writes.
const CANONICAL: &[&str] = &[
    r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
    r#"{"jsonrpc":"2.0","id":"abc","method":"tools/list"}"#,
    r#"{"jsonrpc":"2.0","id":-9223372036854775808,"method":"ping"}"#,
    r#"{"jsonrpc":"2.0","id":9223372036854775807,"method":"ping","params":{}}"#,
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":0.5}}"#,
    r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
    r#"{"jsonrpc":"2.0","id":2,"result":null}"#,
    r#"{"jsonrpc":"2.0","id":"x","result":{"content":[{"type":"text","text":"\u0000é😀"}]}}"#,
    r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"method not found: x"}}"#,
    r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}"#,
    r#"{"jsonrpc":"2.0","id":4,"error":{"code":-32022,"message":"unsupported","data":{"supported":["2026-07-28"],"requested":"1900-01-01"}}}"#,
    r#"{"jsonrpc":"2.0","id":5,"error":{"code":0,"message":"","data":null}}"#,
];

/// Valid messages in other spellings: whitespace, member order, escapes,
/// unknown members and a missing error-response id.
const NON_CANONICAL: &[&str] = &[
    " {\n \"method\" : \"ping\" , \"id\" : 1 , \"jsonrpc\" : \"2.0\" }\n",
    r#"{"jsonrpc":"2\u002e0","id":"\u0061","method":"tools\/call","params":{ "name" : "x" }}"#,
    r#"{"jsonrpc":"2.0","method":"m","extra":{"nested":[1,2]},"Method":"ignored"}"#,
    r#"{"jsonrpc":"2.0","error":{"message":"m","code":-32600,"unknown":1}}"#,
    r#"{"result":[1, 2 ,3],"id":"r","jsonrpc":"2.0"}"#,
    r#"{"jsonrpc":"2.0","id":1,"method":"\ud83d\ude00","params":{"a":"\ud83d\ude00"}}"#,
];

fn reparse(message: &Message) -> Message {
    Message::parse(&message.to_vec()).expect("written message parses")
}

#[test]
fn canonical_messages_are_written_back_byte_for_byte() {
    for input in CANONICAL {
        let message = Message::parse(input.as_bytes()).expect("canonical message parses");
        assert_eq!(&message.to_string(), input);
        assert_eq!(reparse(&message), message, "{input}");
    }
}

#[test]
fn other_spellings_survive_a_round_trip() {
    for input in NON_CANONICAL {
        let message = Message::parse(input.as_bytes()).expect("valid message parses");
        let again = reparse(&message);
        assert_eq!(again, message, "{input}");
        // Written output is a fixed point.
        assert_eq!(again.to_string(), message.to_string(), "{input}");
    }
}

#[test]
fn writing_normalises_the_envelope_but_not_raw_values() {
    let message = Message::parse(NON_CANONICAL[1].as_bytes()).unwrap();
    assert_eq!(
        message.to_string(),
        r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{ "name" : "x" }}"#
    );
    let message = Message::parse(NON_CANONICAL[3].as_bytes()).unwrap();
    assert_eq!(
        message.to_string(),
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"m"}}"#
    );
}

#[test]
fn missing_id_and_null_id_error_responses_are_equal() {
    let missing =
        Message::parse(br#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"p"}}"#).unwrap();
    let null =
        Message::parse(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"p"}}"#)
            .unwrap();
    assert_eq!(missing, null);
    assert_eq!(missing.id(), None);
}

#[test]
fn built_messages_round_trip() {
    let params =
        RawValue::from_string(r#"{"name":"echo","arguments":{"text":"hi"}}"#.to_owned()).unwrap();
    let messages = [
        Message::from(Request::new(
            RequestId::from("req-1"),
            "tools/call",
            Some(params),
        )),
        Message::from(Notification::new("notifications/cancelled", None)),
        Message::from(Response::from_result(10, &serde_json::json!({"tools": []})).unwrap()),
        Message::from(ErrorResponse::new(
            Some(RequestId::from(11)),
            ErrorObject::new(ErrorCode::URL_ELICITATION_REQUIRED, "needs a url")
                .with_data(serde_json::json!({"elicitations": []}))
                .unwrap(),
        )),
        Message::from(ErrorResponse::new(None, ErrorObject::parse_error())),
    ];
    for message in messages {
        assert_eq!(reparse(&message), message);
    }
}

#[test]
fn batch_elements_round_trip() {
    let options = ParseOptions {
        allow_batch: true,
        ..ParseOptions::default()
    };
    let input = format!("[{}]", CANONICAL.join(","));
    let Ok(Parsed::Batch(elements)) = parse(input.as_bytes(), &options) else {
        panic!("batch parses");
    };
    assert_eq!(elements.len(), CANONICAL.len());
    for (element, original) in elements.into_iter().zip(CANONICAL) {
        assert_eq!(&element.unwrap().to_string(), original);
    }
}

#[test]
fn fuzz_entry_point_accepts_any_input() {
    let mut inputs: Vec<Vec<u8>> = CANONICAL
        .iter()
        .chain(NON_CANONICAL)
        .map(|text| text.as_bytes().to_vec())
        .collect();
    inputs.push(format!("[{}]", CANONICAL.join(",")).into_bytes());
    inputs.push(b"[[[[".to_vec());
    inputs.push(b"\xff\xfe".to_vec());
    inputs.push(br#"{"jsonrpc":"2.0","id":1,"id":2}"#.to_vec());
    inputs.push(Vec::new());
    // Every prefix of a valid message, to cover truncated input.
    let whole = CANONICAL[0].as_bytes();
    inputs.extend((0..whole.len()).map(|end| whole[..end].to_vec()));
    for input in inputs {
        mcpwire_jsonrpc::fuzz_parse(&input);
    }
}
