//! One test per strict-parsing rule. Each checks the exact error code and the
//! id that the error response would carry.

use mcpwire_jsonrpc::{
    ErrorCode, Message, Notification, ParseError, ParseOptions, Parsed, RequestId, parse,
};

fn reject_bytes(input: &[u8]) -> ParseError {
    match Message::parse(input) {
        Ok(message) => panic!(
            "{:?} should be rejected, parsed as {message:?}",
            String::from_utf8_lossy(input)
        ),
        Err(error) => error,
    }
}

#[track_caller]
fn assert_rejected(input: &str, code: ErrorCode, id: Option<RequestId>) {
    let error = reject_bytes(input.as_bytes());
    assert_eq!(error.code(), code, "code for {input}: {error}");
    assert_eq!(error.id(), id.as_ref(), "id for {input}: {error}");
}

#[track_caller]
fn accept(input: &str) -> Message {
    Message::parse(input.as_bytes()).unwrap_or_else(|error| panic!("{input} rejected: {error}"))
}

fn id(number: i64) -> Option<RequestId> {
    Some(RequestId::Number(number))
}

fn nested_arrays(levels: usize) -> String {
    format!("{}{}", "[".repeat(levels), "]".repeat(levels))
}

#[test]
fn text_that_is_not_json_is_a_parse_error_without_id() {
    let inputs = [
        "",
        "   ",
        "{",
        r#"{"jsonrpc":"2.0","id":1,"method":"x""#,
        r#"{"jsonrpc":"2.0","id":1,"method":"x",}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"x"} x"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"x"}{}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":NaN}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":Infinity}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":[1,]}}"#,
        "{'jsonrpc':'2.0','id':1,'method':'x'}",
        "/* c */ {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}",
        "\u{feff}{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\nb\"}",
        "NaN",
        // Broken JSON is a parse error even when a structural problem (here a
        // repeated id) comes before the syntax error.
        r#"{"jsonrpc":"2.0","id":1,"id":2,"method":}"#,
    ];
    for input in inputs {
        assert_rejected(input, ErrorCode::PARSE_ERROR, None);
    }
}

#[test]
fn invalid_utf8_is_a_parse_error_without_id() {
    let inputs: [&[u8]; 3] = [
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"a\":\"\xc3\"}}",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"\xed\xa0\x80\":1}}",
    ];
    for input in inputs {
        let error = reject_bytes(input);
        assert_eq!(error.code(), ErrorCode::PARSE_ERROR, "{error}");
        assert_eq!(error.id(), None);
    }
}

#[test]
fn lone_surrogates_are_a_parse_error_without_id_even_inside_params() {
    let inputs = [
        r#"{"jsonrpc":"2.0","id":1,"method":"\ud800"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":"\ud800"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":"\ud800\u0041"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"\udc00":1}}"#,
        r#"{"jsonrpc":"2.0","id":1,"result":["\udfff"]}"#,
    ];
    for input in inputs {
        assert_rejected(input, ErrorCode::PARSE_ERROR, None);
    }
    // A proper pair and an escaped backslash before "ud800" are fine.
    accept(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":"\ud83d\ude00","b":"\\ud800"}}"#);
}

#[test]
fn input_over_max_size_is_a_parse_error_without_id() {
    let input = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let exact = ParseOptions {
        max_size: input.len(),
        ..ParseOptions::default()
    };
    assert!(parse(input.as_bytes(), &exact).is_ok());

    let smaller = ParseOptions {
        max_size: input.len() - 1,
        ..ParseOptions::default()
    };
    let error = parse(input.as_bytes(), &smaller).unwrap_err();
    assert_eq!(error.code(), ErrorCode::PARSE_ERROR);
    assert_eq!(error.id(), None);
    assert!(error.is_too_large());

    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{{"a":"{}"}}}}"#,
        "a".repeat(mcpwire_jsonrpc::DEFAULT_MAX_SIZE)
    );
    let error = reject_bytes(huge.as_bytes());
    assert_eq!(error.code(), ErrorCode::PARSE_ERROR);
    assert_eq!(error.id(), None);
    assert!(error.is_too_large());
}

#[test]
fn input_deeper_than_max_depth_is_a_parse_error_without_id() {
    // The message object and the params object are two levels, so 62 nested
    // arrays reach the default limit of 64 exactly.
    let at_limit = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{{"a":{}}}}}"#,
        nested_arrays(62)
    );
    accept(&at_limit);

    let over_limit = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{{"a":{}}}}}"#,
        nested_arrays(63)
    );
    let error = reject_bytes(over_limit.as_bytes());
    assert_eq!(error.code(), ErrorCode::PARSE_ERROR);
    assert_eq!(error.id(), None);
    assert!(error.is_too_deep());

    // Brackets inside strings are text, not nesting.
    let in_string = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{{"a":"{}"}}}}"#,
        "[".repeat(1000)
    );
    accept(&in_string);
}

#[test]
fn depth_is_counted_without_recursion() {
    // Far beyond any recursion limit: refused by the byte scan alone.
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{{"a":{}}}}}"#,
        nested_arrays(200_000)
    );
    let error = reject_bytes(deep.as_bytes());
    assert!(error.is_too_deep());
    assert_eq!(error.code(), ErrorCode::PARSE_ERROR);

    // With the limit lifted the parser still does not recurse: the params stay
    // raw, and only a decoder that walks them meets serde_json's own limit.
    let unlimited = ParseOptions {
        max_depth: usize::MAX,
        ..ParseOptions::default()
    };
    let Ok(Parsed::Single(Message::Request(request))) = parse(deep.as_bytes(), &unlimited) else {
        panic!("deep params should parse when the depth limit is lifted");
    };
    let error =
        mcpwire_jsonrpc::decode_params::<serde_json::Value>(request.params.as_deref()).unwrap_err();
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
}

#[test]
fn top_level_that_is_not_an_object_is_invalid_request_without_id() {
    for input in ["1", "-0", "\"x\"", "null", "true", " 1.5 "] {
        assert_rejected(input, ErrorCode::INVALID_REQUEST, None);
    }
}

#[test]
fn positional_array_message_is_invalid_request_without_id() {
    let input = r#"["2.0",1,"tools/call",{"name":"x"}]"#;
    assert_rejected(input, ErrorCode::INVALID_REQUEST, None);

    // Even with batches allowed, the elements are not message objects.
    let options = ParseOptions {
        allow_batch: true,
        ..ParseOptions::default()
    };
    let Ok(Parsed::Batch(elements)) = parse(input.as_bytes(), &options) else {
        panic!("an array is a batch when batches are allowed");
    };
    assert_eq!(elements.len(), 4);
    for element in elements {
        let error = element.unwrap_err();
        assert_eq!(error.code(), ErrorCode::INVALID_REQUEST);
        assert_eq!(error.id(), None);
    }
}

#[test]
fn batch_is_invalid_request_without_id_by_default() {
    let input = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#;
    let error = reject_bytes(input.as_bytes());
    assert_eq!(error.code(), ErrorCode::INVALID_REQUEST);
    assert_eq!(error.id(), None);
    assert!(error.is_batch_rejected());
    assert_eq!(
        error.to_string(),
        "invalid request: batches are not supported"
    );

    let error = parse(input.as_bytes(), &ParseOptions::default()).unwrap_err();
    assert!(error.is_batch_rejected());
}

#[test]
fn empty_batch_is_invalid_request_without_id() {
    let options = ParseOptions {
        allow_batch: true,
        ..ParseOptions::default()
    };
    for input in ["[]", " [ ] "] {
        let error = parse(input.as_bytes(), &options).unwrap_err();
        assert_eq!(error.code(), ErrorCode::INVALID_REQUEST);
        assert_eq!(error.id(), None);
    }
}

#[test]
fn batch_elements_fail_one_by_one() {
    let options = ParseOptions {
        allow_batch: true,
        ..ParseOptions::default()
    };
    let input = r#"[
        {"jsonrpc":"2.0","id":1,"method":"ping"},
        {"jsonrpc":"1.0","id":2,"method":"ping"},
        {"jsonrpc":"2.0","id":3,"method":"x","params":[1]},
        {"jsonrpc":"2.0","method":"notifications/initialized"},
        [{"jsonrpc":"2.0","id":4,"method":"ping"}],
        5
    ]"#;
    let Ok(Parsed::Batch(elements)) = parse(input.as_bytes(), &options) else {
        panic!("batch should parse");
    };
    assert_eq!(elements.len(), 6);
    assert_eq!(elements[0].as_ref().unwrap().id(), id(1).as_ref());
    let version = elements[1].as_ref().unwrap_err();
    assert_eq!(
        (version.code(), version.id()),
        (ErrorCode::INVALID_REQUEST, id(2).as_ref())
    );
    let positional = elements[2].as_ref().unwrap_err();
    assert_eq!(
        (positional.code(), positional.id()),
        (ErrorCode::INVALID_PARAMS, id(3).as_ref())
    );
    assert_eq!(
        elements[3].as_ref().unwrap(),
        &Message::from(Notification::new("notifications/initialized", None))
    );
    for nested in &elements[4..] {
        let error = nested.as_ref().unwrap_err();
        assert_eq!(
            (error.code(), error.id()),
            (ErrorCode::INVALID_REQUEST, None)
        );
    }
}

#[test]
fn batch_counts_toward_depth_and_text_errors_fail_the_whole_batch() {
    let options = ParseOptions {
        allow_batch: true,
        max_depth: 2,
        ..ParseOptions::default()
    };
    let flat = r#"[{"jsonrpc":"2.0","method":"a"}]"#;
    assert!(matches!(
        parse(flat.as_bytes(), &options),
        Ok(Parsed::Batch(_))
    ));
    let deeper = r#"[{"jsonrpc":"2.0","method":"a","params":{}}]"#;
    let error = parse(deeper.as_bytes(), &options).unwrap_err();
    assert_eq!((error.code(), error.id()), (ErrorCode::PARSE_ERROR, None));

    let broken = r#"[{"jsonrpc":"2.0","id":1,"method":"a"},"#;
    let error = parse(
        broken.as_bytes(),
        &ParseOptions {
            allow_batch: true,
            ..ParseOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!((error.code(), error.id()), (ErrorCode::PARSE_ERROR, None));
}

#[test]
fn jsonrpc_missing_or_wrong_is_invalid_request_with_id() {
    let inputs = [
        r#"{"id":1,"method":"ping"}"#,
        r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0 ","id":1,"method":"ping"}"#,
        r#"{"jsonrpc":"2","id":1,"method":"ping"}"#,
        r#"{"jsonrpc":2.0,"id":1,"method":"ping"}"#,
        r#"{"jsonrpc":null,"id":1,"method":"ping"}"#,
        r#"{"jsonrpc":["2.0"],"id":1,"method":"ping"}"#,
        r#"{"JSONRPC":"2.0","id":1,"method":"ping"}"#,
    ];
    for input in inputs {
        assert_rejected(input, ErrorCode::INVALID_REQUEST, id(1));
    }
    // Without a readable id the error has none.
    assert_rejected(
        r#"{"jsonrpc":"1.0","method":"ping"}"#,
        ErrorCode::INVALID_REQUEST,
        None,
    );
    // An escaped spelling is the same string.
    accept(r#"{"jsonrpc":"2\u002e0","id":1,"method":"ping"}"#);
}

#[test]
fn duplicate_envelope_keys_are_invalid_request() {
    let inputs = [
        (
            r#"{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"a"}"#,
            id(1),
        ),
        (r#"{"jsonrpc":"2.0","id":1,"id":1,"method":"a"}"#, None),
        (r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"a"}"#, None),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"a","method":"b"}"#,
            id(1),
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{},"params":{}}"#,
            id(1),
        ),
        (r#"{"jsonrpc":"2.0","id":1,"result":{},"result":{}}"#, id(1)),
        (
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":""},"error":{"code":1,"message":""}}"#,
            id(1),
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"a","x":1,"x":2}"#,
            id(1),
        ),
        (r#"{"jsonrpc":"2.0","method":"a","method":"b"}"#, None),
        // Keys compare after unescaping.
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"a","m\u0065thod":"b"}"#,
            id(1),
        ),
    ];
    for (input, expected_id) in inputs {
        let error = reject_bytes(input.as_bytes());
        assert_eq!(error.code(), ErrorCode::INVALID_REQUEST, "{input}");
        assert_eq!(error.id(), expected_id.as_ref(), "{input}");
        assert!(error.is_duplicate_key(), "{input}: {error}");
    }
}

#[test]
fn duplicate_keys_inside_error_object_are_invalid_request_with_id() {
    let inputs = [
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":1,"code":2,"message":"m"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"a","message":"b"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m","data":1,"data":2}}"#,
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m","x":1,"x":1}}"#,
    ];
    for input in inputs {
        let error = reject_bytes(input.as_bytes());
        assert_eq!(error.code(), ErrorCode::INVALID_REQUEST, "{input}");
        assert_eq!(error.id(), id(1).as_ref(), "{input}");
        assert!(error.is_duplicate_key(), "{input}: {error}");
    }
}

#[test]
fn keys_match_exactly_and_near_misses_are_ignored() {
    // "Method", "method\u0000" and "paramſ" are unknown members, not aliases.
    let message = accept(
        r#"{"jsonrpc":"2.0","method":"a","Method":"b","method\u0000":"c","paramſ":[1],"PARAMS":null}"#,
    );
    assert_eq!(message, Message::from(Notification::new("a", None)));

    // With only a near-miss there is no method at all.
    assert_rejected(
        r#"{"jsonrpc":"2.0","id":1,"Method":"a"}"#,
        ErrorCode::INVALID_REQUEST,
        id(1),
    );
    // A near-miss of `id` is not an id, so this is a notification.
    let message = accept(r#"{"jsonrpc":"2.0","ID":1,"method":"a"}"#);
    assert!(matches!(message, Message::Notification(_)));
}

#[test]
fn invalid_id_is_invalid_request_without_id() {
    let ids = [
        "null",
        "1.0",
        "1.5",
        "1e3",
        "1E3",
        "-1.0e0",
        "-0",
        "true",
        "false",
        "{}",
        r#"{"id":1}"#,
        "[]",
        "[1]",
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "1e400",
    ];
    for id_text in ids {
        let input = format!(r#"{{"jsonrpc":"2.0","id":{id_text},"method":"ping"}}"#);
        let error = reject_bytes(input.as_bytes());
        assert_eq!(error.code(), ErrorCode::INVALID_REQUEST, "{input}");
        assert_eq!(error.id(), None, "{input}");
        assert!(error.is_invalid_id(), "{input}: {error}");
    }
    // The extremes of i64 and any string are fine.
    for (id_text, expected) in [
        ("9223372036854775807", RequestId::Number(i64::MAX)),
        ("-9223372036854775808", RequestId::Number(i64::MIN)),
        ("0", RequestId::Number(0)),
        (r#""""#, RequestId::String(String::new())),
        (r#""1.0""#, RequestId::String("1.0".to_owned())),
    ] {
        let input = format!(r#"{{"jsonrpc":"2.0","id":{id_text},"method":"ping"}}"#);
        assert_eq!(accept(&input).id(), Some(&expected));
    }
}

#[test]
fn null_id_with_method_is_invalid_request_not_notification() {
    assert_rejected(
        r#"{"jsonrpc":"2.0","id":null,"method":"notifications/initialized"}"#,
        ErrorCode::INVALID_REQUEST,
        None,
    );
    assert_rejected(
        r#"{"jsonrpc":"2.0","id":null,"method":"x","params":[1]}"#,
        ErrorCode::INVALID_REQUEST,
        None,
    );
}

#[test]
fn method_with_result_or_error_is_invalid_request_with_id() {
    let inputs = [
        r#"{"jsonrpc":"2.0","id":1,"method":"a","result":{}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"a","error":{"code":1,"message":"m"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"a","result":{},"error":{"code":1,"message":"m"}}"#,
    ];
    for input in inputs {
        assert_rejected(input, ErrorCode::INVALID_REQUEST, id(1));
    }
    assert_rejected(
        r#"{"jsonrpc":"2.0","method":"a","result":{}}"#,
        ErrorCode::INVALID_REQUEST,
        None,
    );
}

#[test]
fn result_with_error_is_invalid_request_with_id() {
    assert_rejected(
        r#"{"jsonrpc":"2.0","id":"r","result":{},"error":{"code":1,"message":"m"}}"#,
        ErrorCode::INVALID_REQUEST,
        Some(RequestId::from("r")),
    );
}

#[test]
fn message_without_method_result_or_error_is_invalid_request_with_id() {
    assert_rejected(
        r#"{"jsonrpc":"2.0","id":1}"#,
        ErrorCode::INVALID_REQUEST,
        id(1),
    );
    assert_rejected(r#"{"jsonrpc":"2.0"}"#, ErrorCode::INVALID_REQUEST, None);
    assert_rejected("{}", ErrorCode::INVALID_REQUEST, None);
}

#[test]
fn result_without_id_is_invalid_request_without_id() {
    assert_rejected(
        r#"{"jsonrpc":"2.0","result":{}}"#,
        ErrorCode::INVALID_REQUEST,
        None,
    );
    assert_rejected(
        r#"{"jsonrpc":"2.0","id":null,"result":{}}"#,
        ErrorCode::INVALID_REQUEST,
        None,
    );
}

#[test]
fn error_response_without_id_or_with_null_id_parses() {
    for input in [
        r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"parse error"}}"#,
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}"#,
    ] {
        let Message::Error(response) = accept(input) else {
            panic!("{input} is an error response");
        };
        assert_eq!(response.id, None);
        assert_eq!(response.error.code, ErrorCode::PARSE_ERROR);
        assert_eq!(response.error.message, "parse error");
    }
}

#[test]
fn method_that_is_not_a_non_empty_string_is_invalid_request_with_id() {
    for method in ["1", "null", "true", "[]", r#"["a"]"#, "{}", r#""""#] {
        let input = format!(r#"{{"jsonrpc":"2.0","id":1,"method":{method}}}"#);
        let error = reject_bytes(input.as_bytes());
        assert_eq!(error.code(), ErrorCode::INVALID_REQUEST, "{input}");
        assert_eq!(error.id(), id(1).as_ref(), "{input}");
    }
}

#[test]
fn null_params_are_invalid_request_with_id() {
    assert_rejected(
        r#"{"jsonrpc":"2.0","id":1,"method":"a","params":null}"#,
        ErrorCode::INVALID_REQUEST,
        id(1),
    );
    assert_rejected(
        r#"{"jsonrpc":"2.0","method":"a","params":null}"#,
        ErrorCode::INVALID_REQUEST,
        None,
    );
}

#[test]
fn positional_params_are_invalid_params_with_id() {
    let error =
        reject_bytes(br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":["x",{}]}"#);
    assert_eq!(error.code(), ErrorCode::INVALID_PARAMS);
    assert_eq!(error.id(), id(7).as_ref());
    assert!(error.is_invalid_params());
    assert_rejected(
        r#"{"jsonrpc":"2.0","id":"s","method":"a","params":[]}"#,
        ErrorCode::INVALID_PARAMS,
        Some(RequestId::from("s")),
    );
    // A notification has no id to report.
    assert_rejected(
        r#"{"jsonrpc":"2.0","method":"a","params":[1]}"#,
        ErrorCode::INVALID_PARAMS,
        None,
    );
}

#[test]
fn scalar_params_are_invalid_request_with_id() {
    for params in ["1", r#""x""#, "true", "1.5"] {
        let input = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"a","params":{params}}}"#);
        let error = reject_bytes(input.as_bytes());
        assert_eq!(error.code(), ErrorCode::INVALID_REQUEST, "{input}");
        assert_eq!(error.id(), id(1).as_ref(), "{input}");
    }
}

#[test]
fn params_without_method_are_invalid_request_with_id() {
    assert_rejected(
        r#"{"jsonrpc":"2.0","id":1,"result":{},"params":{}}"#,
        ErrorCode::INVALID_REQUEST,
        id(1),
    );
}

#[test]
fn params_object_is_kept_raw() {
    let Message::Request(request) =
        accept(r#"{"jsonrpc":"2.0","id":1,"method":"a","params": { "b" : [1, 2.50, "\u00e9"] } }"#)
    else {
        panic!("a request");
    };
    assert_eq!(
        request.params.as_deref().map(|params| params.get()),
        Some(r#"{ "b" : [1, 2.50, "\u00e9"] }"#)
    );
}

#[test]
fn malformed_error_object_is_invalid_request_with_id() {
    let errors = [
        "null",
        "1",
        r#""oops""#,
        "[-32600,\"m\"]",
        r#"{"message":"m"}"#,
        r#"{"code":-32600}"#,
        r#"{"code":-32600.0,"message":"m"}"#,
        r#"{"code":-3e4,"message":"m"}"#,
        r#"{"code":"-32600","message":"m"}"#,
        r#"{"code":2147483648,"message":"m"}"#,
        r#"{"code":-2147483649,"message":"m"}"#,
        r#"{"code":null,"message":"m"}"#,
        r#"{"code":1,"message":1}"#,
        r#"{"code":1,"message":null}"#,
    ];
    for error_text in errors {
        let input = format!(r#"{{"jsonrpc":"2.0","id":1,"error":{error_text}}}"#);
        let error = reject_bytes(input.as_bytes());
        assert_eq!(error.code(), ErrorCode::INVALID_REQUEST, "{input}");
        assert_eq!(error.id(), id(1).as_ref(), "{input}");
    }
}

#[test]
fn error_object_keeps_data_raw_and_ignores_unknown_members() {
    let Message::Error(response) = accept(
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"m","data": {"x": [1.0]},"extra":true}}"#,
    ) else {
        panic!("an error response");
    };
    assert_eq!(response.id, id(1));
    assert_eq!(response.error.code, ErrorCode::INVALID_PARAMS);
    assert_eq!(
        response.error.data.as_deref().map(|data| data.get()),
        Some(r#"{"x": [1.0]}"#)
    );
}

#[test]
fn error_response_from_parse_error_carries_code_id_and_lowercase_message() {
    let error = reject_bytes(br#"{"jsonrpc":"2.0","id":9,"method":"a","params":[]}"#);
    let response = error.to_error_response();
    assert_eq!(response.id, id(9));
    assert_eq!(response.error.code, ErrorCode::INVALID_PARAMS);
    assert_eq!(
        response.error.message,
        "invalid params: `params` must be an object, not an array"
    );
    assert_eq!(
        Message::from(response).to_string(),
        r#"{"jsonrpc":"2.0","id":9,"error":{"code":-32602,"message":"invalid params: `params` must be an object, not an array"}}"#
    );

    let error = reject_bytes(b"{");
    assert!(error.is_parse_error());
    let text = error.to_string();
    assert!(text.starts_with("parse error: "), "{text}");
    assert_eq!(text, text.to_lowercase());
}

/// What a sender checks before sending (`Message::check_limits`) is what the receiver's
/// parser refuses for size and nesting, for every kind of message, at and around each limit.
#[test]
fn check_limits_refuses_exactly_what_parse_refuses_for_size_and_nesting() {
    use mcpwire_jsonrpc::{ErrorObject, ErrorResponse, Request, Response};
    use serde_json::value::RawValue;

    let raw = |text: &str| RawValue::from_string(text.to_owned()).expect("valid JSON");
    for depth in 0..6 {
        // An object holding `depth` nested arrays, with a string that looks like nesting.
        let value = format!(
            r#"{{"s":"[[{{","v":{}1{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let messages = [
            Message::from(Request::new(1, "method", Some(raw(&value)))),
            Message::from(Notification::new("note", Some(raw(&value)))),
            Message::from(Response::new("r", raw(&value))),
            Message::from(ErrorResponse::new(
                Some(RequestId::from(2)),
                ErrorObject::internal_error("failed")
                    .with_data(raw(&value))
                    .expect("raw JSON serializes"),
            )),
            Message::from(ErrorResponse::new(
                None,
                ErrorObject::internal_error("bare"),
            )),
        ];
        for message in messages {
            let bytes = message.to_vec();
            for max_depth in 0..10 {
                for max_size in [bytes.len() - 1, bytes.len(), bytes.len() + 1] {
                    let options = ParseOptions {
                        max_size,
                        max_depth,
                        ..ParseOptions::default()
                    };
                    let parsed = parse(&bytes, &options);
                    let checked = message.check_limits(&options);
                    let context = format!("{message} at depth {max_depth}, size {max_size}");
                    match (&checked, &parsed) {
                        (Ok(()), Ok(_)) => {}
                        (Err(checked), Err(parsed)) => {
                            assert_eq!(checked.is_too_large(), parsed.is_too_large(), "{context}");
                            assert_eq!(checked.is_too_deep(), parsed.is_too_deep(), "{context}");
                            assert_eq!(checked.id(), message.id(), "{context}");
                        }
                        _ => panic!("{context}: checked {checked:?}, parsed {parsed:?}"),
                    }
                }
            }
        }
    }
}
