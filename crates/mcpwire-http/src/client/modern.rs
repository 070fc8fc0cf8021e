//! The modern era (2026-07-28) of Streamable HTTP on the client: which messages are sent the
//! modern way, and the headers that carry what a modern request is about.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use mcpwire_jsonrpc::{Message, Notification, Request, RequestId};
use mcpwire_schema::meta::{self, MetaProbe};
use serde_json::Value;

use crate::client::Error as HttpError;
use crate::headers::{MCP_METHOD, MCP_NAME, MCP_PARAM_PREFIX, MCP_PROTOCOL_VERSION, encode_value};

/// The notification that cancels a request.
const CANCELLED: &str = "notifications/cancelled";

/// The headers of `request` when it is modern (its params carry the modern `_meta`): the
/// protocol version of its `_meta`, its method, its name when the method has one, and an
/// `Mcp-Param-{Name}` header for each of `params` (the arguments its tool mirrors, values not
/// yet encoded); `None` for a legacy request.
///
/// # Errors
///
/// [`HttpError::is_protocol`] when the method, the protocol version or a parameter's name
/// cannot be a header.
pub(crate) fn modern_headers(
    request: &Request,
    params: &[(String, String)],
) -> Option<Result<HeaderMap, HttpError>> {
    let MetaProbe::Modern(meta) = meta::probe(request.params.as_deref()) else {
        return None;
    };
    Some(headers_of(request, &meta, params))
}

fn headers_of(
    request: &Request,
    meta: &serde_json::Map<String, Value>,
    params: &[(String, String)],
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
    for (name, value) in params {
        let name = HeaderName::try_from(format!("{MCP_PARAM_PREFIX}{name}")).map_err(|_| {
            HttpError::protocol(format!("`Mcp-Param-{name}` cannot be a header name"))
        })?;
        // An encoded value is visible ASCII: it always makes a header value.
        if let Ok(value) = HeaderValue::try_from(encode_value(value)) {
            headers.append(name, value);
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
    fn only_requests_with_the_modern_meta_get_modern_headers() {
        assert!(modern_headers(&request("tools/list", serde_json::json!({})), &[]).is_none());
        let headers = modern_headers(&request("tools/list", modern(serde_json::json!({}))), &[])
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
            let headers = modern_headers(&request(method, modern(params)), &[])
                .unwrap()
                .unwrap();
            assert_eq!(headers[&MCP_NAME], name, "{method}");
        }
    }

    #[test]
    fn mirrored_arguments_become_encoded_param_headers() {
        let call = request("tools/call", modern(serde_json::json!({"name": "query"})));
        let params = [
            ("Region".to_owned(), "us west 1".to_owned()),
            ("Greeting".to_owned(), "Hello, 世界".to_owned()),
            ("EmptyVal".to_owned(), String::new()),
        ];
        let headers = modern_headers(&call, &params).unwrap().unwrap();
        assert_eq!(headers["mcp-param-region"], "us west 1");
        assert_eq!(
            headers["mcp-param-greeting"],
            "=?base64?SGVsbG8sIOS4lueVjA==?="
        );
        assert_eq!(headers["mcp-param-emptyval"], "");
        let bad = [("My Region".to_owned(), "x".to_owned())];
        assert!(modern_headers(&call, &bad).unwrap().is_err());
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
