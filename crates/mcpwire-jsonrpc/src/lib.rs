//! The JSON-RPC 2.0 envelope of the Model Context Protocol: message types, a
//! strict parser, request ids, error objects and typed method traits.
//!
//! This crate does no IO and has no async code. Params and results stay raw
//! JSON text ([`RawParams`]) until a handler that knows their type decodes
//! them, so routing a message never builds a `serde_json::Value` tree.
//!
//! Incoming bytes go through [`parse()`] or [`Message::parse`], which reject
//! everything JSON-RPC 2.0 and MCP do not allow: duplicate keys, positional
//! arrays, `null` ids, floats as ids, batches unless enabled, and more. The
//! [`parse`](mod@parse) module lists the rules and the error code each one
//! produces.
//!
//! # Examples
//!
//! ```
//! use mcpwire_jsonrpc::{ErrorCode, ErrorObject, ErrorResponse, Message, Response};
//!
//! let message = Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).unwrap();
//! let Message::Request(request) = message else {
//!     panic!("a request was sent");
//! };
//! let reply = match request.method.as_str() {
//!     "tools/list" => Message::from(Response::from_result(request.id, &serde_json::json!({"tools": []})).unwrap()),
//!     other => Message::from(ErrorResponse::new(Some(request.id), ErrorObject::method_not_found(other))),
//! };
//! assert_eq!(reply.to_string(), r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#);
//!
//! // A message that breaks the rules yields the error response to send back.
//! let error = Message::parse(br#"{"jsonrpc":"2.0","id":2,"id":3,"method":"x"}"#).unwrap_err();
//! assert_eq!(error.code(), ErrorCode::INVALID_REQUEST);
//! assert_eq!(
//!     Message::from(error.to_error_response()).to_string(),
//!     r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: duplicate key `id`"}}"#
//! );
//! ```

mod error;
mod id;
mod keys;
mod message;
pub mod method;
pub mod parse;
mod shorten;

pub use error::{ErrorCode, ErrorObject};
pub use id::RequestId;
pub use message::{ErrorResponse, Message, Notification, RawParams, Request, Response};
pub use method::{NotificationMethod, RequestMethod, decode_params, encode_params};
pub use parse::{DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE, ParseError, ParseOptions, Parsed, parse};

// Compiles and runs the README example as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Entry point for fuzz targets; not part of the public API.
///
/// Parses `bytes` with the default options and, when that succeeds, checks
/// that writing the message and parsing the output gives the same message.
/// The same check runs on every valid element when `bytes` are read as a
/// batch.
///
/// # Panics
///
/// Panics when a parsed message does not survive the round trip.
#[doc(hidden)]
pub fn fuzz_parse(bytes: &[u8]) {
    if let Ok(message) = Message::parse(bytes) {
        assert_round_trip(&message);
    }
    let batch_options = ParseOptions {
        allow_batch: true,
        ..ParseOptions::default()
    };
    if let Ok(Parsed::Batch(elements)) = parse(bytes, &batch_options) {
        for message in elements.iter().flatten() {
            assert_round_trip(message);
        }
    }
}

/// A differential oracle for the classifier: whenever the strict parser accepts `bytes` as one
/// message, a plain JSON reading of the same bytes agrees on what it is (request,
/// notification, response or error), on its id, its method and its error code, and on
/// `"jsonrpc": "2.0"`. (The strict parser refuses more than a plain reading, such as
/// duplicate keys, so only its acceptances are compared.)
///
/// # Panics
///
/// Panics when the two readings disagree.
#[doc(hidden)]
pub fn fuzz_classify(bytes: &[u8]) {
    let Ok(message) = Message::parse(bytes) else {
        return;
    };
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        // A number beyond `f64` in a member the strict parser skips unread is valid JSON
        // that a plain reading into numbers cannot hold (RFC 8259 §6 lets readers limit the
        // range); anything else must read.
        Err(error) if error.to_string().starts_with("number out of range") => return,
        Err(error) => panic!("JSON the strict parser accepts does not read as JSON: {error}"),
    };
    let object = value.as_object().expect("a message is an object");
    assert_eq!(object.get("jsonrpc"), Some(&serde_json::json!("2.0")));
    let same_id = |id: &RequestId| match (id, object.get("id")) {
        (RequestId::String(text), Some(serde_json::Value::String(other))) => text == other,
        (RequestId::Number(number), Some(serde_json::Value::Number(other))) => {
            other.as_i64() == Some(*number)
        }
        _ => false,
    };
    let method = object.get("method").and_then(serde_json::Value::as_str);
    match &message {
        Message::Request(request) => {
            assert_eq!(method, Some(request.method.as_str()));
            assert!(same_id(&request.id), "the request's id differs");
            assert!(!object.contains_key("result") && !object.contains_key("error"));
        }
        Message::Notification(notification) => {
            assert_eq!(method, Some(notification.method.as_str()));
            assert!(!object.contains_key("id"), "a notification with an id");
        }
        Message::Response(response) => {
            assert!(method.is_none() && object.contains_key("result"));
            assert!(!object.contains_key("error"), "a response with an error");
            assert!(same_id(&response.id), "the response's id differs");
        }
        Message::Error(error) => {
            assert!(method.is_none() && !object.contains_key("result"));
            let code = object
                .get("error")
                .and_then(|error| error.get("code"))
                .and_then(serde_json::Value::as_i64);
            assert_eq!(code, Some(i64::from(error.error.code.0)));
            match &error.id {
                Some(id) => assert!(same_id(id), "the error's id differs"),
                None => assert!(matches!(
                    object.get("id"),
                    None | Some(serde_json::Value::Null)
                )),
            }
        }
    }
}

fn assert_round_trip(message: &Message) {
    let written = message.to_vec();
    // Writing an error response can add `"id":null`, so the output may be a
    // few bytes longer than an input that was just under the size limit.
    let options = ParseOptions {
        max_size: usize::MAX,
        ..ParseOptions::default()
    };
    let reparsed = match parse(&written, &options) {
        Ok(Parsed::Single(reparsed)) => reparsed,
        other => panic!("written message did not parse again: {other:?}"),
    };
    assert_eq!(&reparsed, message, "message changed in a round trip");
}
