//! The modern era (2026-07-28) of Streamable HTTP on the client: which messages are sent the
//! modern way, and the headers that carry what a modern request is about.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use mcpwire_jsonrpc::{Message, Notification, Request, RequestId};
use mcpwire_schema::meta::{self, MetaProbe};
use serde_json::Value;

use crate::Error as HttpError;
use crate::headers::MCP_PROTOCOL_VERSION;

/// The `Mcp-Method` header: the method of the request in the body.
const MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
/// The `Mcp-Name` header: the tool or prompt name, or the resource URI, of the request.
const MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");

/// The notification that cancels a request.
const CANCELLED: &str = "notifications/cancelled";

/// The marker that opens a Base64-encoded header value.
const SENTINEL_PREFIX: &str = "=?base64?";
/// The marker that closes a Base64-encoded header value.
const SENTINEL_SUFFIX: &str = "?=";

/// The headers of `request` when it is modern (its params carry the modern `_meta`): the
/// protocol version of its `_meta`, its method, and its name when the method has one;
/// `None` for a legacy request.
///
/// # Errors
///
/// [`HttpError::is_protocol`] when the method or the protocol version cannot be a header
/// value.
pub(crate) fn modern_headers(request: &Request) -> Option<Result<HeaderMap, HttpError>> {
    let MetaProbe::Modern(meta) = meta::probe(request.params.as_deref()) else {
        return None;
    };
    Some(headers_of(request, &meta))
}

fn headers_of(
    request: &Request,
    meta: &serde_json::Map<String, Value>,
) -> Result<HeaderMap, HttpError> {
    let mut headers = HeaderMap::new();
    if let Some(Value::String(version)) = meta.get(meta::PROTOCOL_VERSION) {
        let version = HeaderValue::try_from(version.as_str()).map_err(|_| {
            HttpError::protocol("the protocol version of the request cannot be a header value")
        })?;
        headers.insert(MCP_PROTOCOL_VERSION, version);
    }
    let method = HeaderValue::try_from(request.method.as_str())
        .map_err(|_| HttpError::protocol("the method of the request cannot be a header value"))?;
    headers.insert(MCP_METHOD, method);
    if let Some(name) = name_of(request) {
        // An encoded value is visible ASCII: it always makes a header value.
        if let Ok(name) = HeaderValue::try_from(encode_value(&name)) {
            headers.insert(MCP_NAME, name);
        }
    }
    Ok(headers)
}

/// What `Mcp-Name` carries for `request`: `params.name` of `tools/call` and `prompts/get`,
/// `params.uri` of `resources/read`, `params.taskId` of a `tasks/*` request that names a task.
fn name_of(request: &Request) -> Option<String> {
    let field = match request.method.as_str() {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        method if method.starts_with("tasks/") => "taskId",
        _ => return None,
    };
    let params: serde_json::Map<String, Value> =
        serde_json::from_str(request.params.as_deref()?.get()).ok()?;
    match params.get(field)? {
        Value::String(name) => Some(name.clone()),
        _ => None,
    }
}

/// The request `notifications/cancelled` names, if `message` is one.
pub(crate) fn cancelled_request(message: &Message) -> Option<RequestId> {
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(rename = "requestId")]
        request_id: RequestId,
    }
    let Message::Notification(Notification { method, params, .. }) = message else {
        return None;
    };
    if method != CANCELLED {
        return None;
    }
    serde_json::from_str::<Params>(params.as_deref()?.get())
        .ok()
        .map(|params| params.request_id)
}

/// Writes `value` as the value of an `Mcp-Name` header: as is when every character is
/// visible ASCII or a space, it neither starts nor ends with a space and it does not look
/// like an encoded value; otherwise `=?base64?{Base64 of the UTF-8}?=`.
fn encode_value(value: &str) -> String {
    let needs_encoding = value.bytes().any(|byte| !(0x20..=0x7e).contains(&byte))
        || value.starts_with(' ')
        || value.ends_with(' ')
        || (value.starts_with(SENTINEL_PREFIX) && value.ends_with(SENTINEL_SUFFIX));
    if !needs_encoding {
        return value.to_owned();
    }
    format!(
        "{SENTINEL_PREFIX}{}{SENTINEL_SUFFIX}",
        base64(value.as_bytes())
    )
}

/// Standard Base64 with padding (RFC 4648, section 4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let triple = chunk
            .iter()
            .enumerate()
            .fold(0u32, |triple, (index, byte)| {
                triple | u32::from(*byte) << (16 - 8 * index)
            });
        for index in 0..4 {
            if index <= chunk.len() {
                let sextet = (triple >> (18 - 6 * index)) & 0x3f;
                text.push(char::from(ALPHABET[sextet as usize]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, params: Value) -> Request {
        let params = serde_json::value::to_raw_value(&params).unwrap();
        Request::new(7, method, Some(params))
    }

    fn modern(mut params: Value) -> Value {
        params["_meta"] = serde_json::json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        });
        params
    }

    #[test]
    fn values_are_encoded_by_the_header_value_rule() {
        for (value, encoded) in [
            ("us-west1", "us-west1"),
            ("us west 1", "us west 1"),
            ("", ""),
            ("Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="),
            (" padded ", "=?base64?IHBhZGRlZCA=?="),
            ("line1\nline2", "=?base64?bGluZTEKbGluZTI=?="),
            ("a\tb", "=?base64?YQli?="),
            ("=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
            ("=?base64?open", "=?base64?open"),
        ] {
            assert_eq!(encode_value(value), encoded, "{value:?}");
        }
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn only_requests_with_the_modern_meta_get_modern_headers() {
        assert!(modern_headers(&request("tools/list", serde_json::json!({}))).is_none());
        let headers = modern_headers(&request("tools/list", modern(serde_json::json!({}))))
            .unwrap()
            .unwrap();
        assert_eq!(headers[&MCP_PROTOCOL_VERSION], "2026-07-28");
        assert_eq!(headers[&MCP_METHOD], "tools/list");
        assert!(!headers.contains_key(&MCP_NAME));
    }

    #[test]
    fn the_name_header_carries_the_name_uri_or_task_id() {
        for (method, params, name) in [
            (
                "tools/call",
                serde_json::json!({"name": "wetter-größe"}),
                "=?base64?d2V0dGVyLWdyw7bDn2U=?=",
            ),
            ("prompts/get", serde_json::json!({"name": "greet"}), "greet"),
            (
                "resources/read",
                serde_json::json!({"uri": "file:///a b"}),
                "file:///a b",
            ),
            ("tasks/get", serde_json::json!({"taskId": "t-1"}), "t-1"),
        ] {
            let headers = modern_headers(&request(method, modern(params)))
                .unwrap()
                .unwrap();
            assert_eq!(headers[&MCP_NAME], name, "{method}");
        }
    }

    #[test]
    fn cancellations_name_their_request() {
        let params = serde_json::value::to_raw_value(&serde_json::json!({"requestId": 4})).unwrap();
        let cancel = Message::from(Notification::new(CANCELLED, Some(params)));
        assert_eq!(cancelled_request(&cancel), Some(RequestId::from(4)));
        let other = Message::from(Notification::new("notifications/progress", None));
        assert_eq!(cancelled_request(&other), None);
    }
}
