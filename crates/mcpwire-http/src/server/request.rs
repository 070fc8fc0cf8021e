//! The checks of an incoming request: its `Accept` and `Content-Type` headers, its body, read
//! within the limits into one JSON-RPC message, and the form of a session id.

use std::net::{IpAddr, SocketAddr};

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderMap, HeaderName, Response, StatusCode, Version};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use mcpwire_jsonrpc::{ErrorCode, Message, ParseError, ParseOptions, Parsed};
use mcpwire_schema::Era;

use crate::headers::{LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID};
use crate::server::body::ResponseBody;
use crate::server::config::Config;
use crate::server::response::{Reject, error_response_in, idless_error, json_response};

/// The address of the client a request came from, as a request extension.
///
/// [`serve`](crate::server::serve) adds it to every request; an application that serves
/// [`StreamableHttpService`](crate::server::StreamableHttpService) itself (in an axum app, say)
/// adds it with a layer from the connection's address. The service uses it to bound, per
/// client, the sessions that have not finished initializing
/// ([`Config::max_pending_initializations`](crate::server::Config::max_pending_initializations)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub SocketAddr);

/// Who a request is from, as a request extension that an authorization layer adds once it has
/// verified the caller (`mcpwire-auth`'s bearer layer does): an opaque key, the same for every
/// request of one principal.
///
/// A session belongs to the principal whose `initialize` created it: a request for that
/// session from another principal, or from none, gets `404 Not Found`, exactly as for a
/// session that does not exist. Without the extension (no authorization), sessions belong to
/// nobody and any request that knows the id reaches them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionOwner(pub std::sync::Arc<str>);

/// The principal of a request, when an authorization layer named one.
pub(crate) fn session_owner(extensions: &http::Extensions) -> Option<std::sync::Arc<str>> {
    extensions
        .get::<SessionOwner>()
        .map(|SessionOwner(owner)| std::sync::Arc::clone(owner))
}

/// The IP address of the client of a request, when its [`ClientAddress`] is known.
pub(crate) fn client_ip(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ClientAddress>()
        .map(|ClientAddress(address)| address.ip())
}

/// The error of a request body, boxed as the service's bounds take it.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The longest `Mcp-Session-Id` accepted; ids this service makes are 64 characters.
const MAX_SESSION_ID_LENGTH: usize = 128;

/// The headers a request may carry once at most: each decides whom the request is for or
/// from, and two values would let one check read the first and another the second.
const SINGLE_HEADERS: [HeaderName; 6] = [
    HOST,
    ORIGIN,
    AUTHORIZATION,
    MCP_SESSION_ID,
    MCP_PROTOCOL_VERSION,
    LAST_EVENT_ID,
];

/// Refuses a request whose head is ambiguous, before anything is looked up: one of
/// [`SINGLE_HEADERS`] given twice, or an HTTP/1.1 request without `Host` (RFC 9112 §3.2
/// requires it). The refusal is `400`.
pub(crate) fn check_head(version: Version, headers: &HeaderMap) -> Result<(), String> {
    if let Some(name) = SINGLE_HEADERS
        .iter()
        .find(|name| headers.get_all(*name).iter().nth(1).is_some())
    {
        return Err(format!("the {name} header must not be given twice"));
    }
    if version == Version::HTTP_11 && !headers.contains_key(HOST) {
        return Err("an HTTP/1.1 request must have a Host header".to_owned());
    }
    Ok(())
}

/// Checks the headers of a `POST` to the Streamable HTTP endpoint: `406` unless `Accept` lists
/// both JSON and SSE, then [`check_json_body`].
pub(crate) fn check_post_headers(config: &Config, headers: &HeaderMap) -> Result<(), Reject> {
    if !(accepts(headers, "application/json") && accepts(headers, "text/event-stream")) {
        return Err(Reject {
            status: StatusCode::NOT_ACCEPTABLE,
            code: ErrorCode::INVALID_REQUEST,
            message: "Accept must list application/json and text/event-stream",
        });
    }
    check_json_body(config, headers)
}

/// Checks the headers of a `POST` that carries a JSON-RPC message: `415` unless the
/// `Content-Type` is JSON, `413` when the declared length is over the limit.
pub(crate) fn check_json_body(config: &Config, headers: &HeaderMap) -> Result<(), Reject> {
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| media_type(value) == "application/json");
    if !json {
        return Err(Reject {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: ErrorCode::INVALID_REQUEST,
            message: "Content-Type must be application/json",
        });
    }
    let declared_length = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > config.max_body_bytes as u64) {
        return Err(Reject::TOO_LARGE);
    }
    Ok(())
}

/// A `POST` body that holds no message to serve: the response refusing it, and the parse
/// error when the body was a broken reply (neither a result nor an error) that a session's
/// engine should hear of.
pub(crate) struct Unread {
    pub(crate) response: Response<ResponseBody>,
    pub(crate) broken_reply: Option<ParseError>,
}

impl From<Response<ResponseBody>> for Box<Unread> {
    fn from(response: Response<ResponseBody>) -> Self {
        Box::new(Unread {
            response,
            broken_reply: None,
        })
    }
}

/// Reads the one JSON-RPC message of a `POST` body, within the size limit and the read
/// timeout, or the response refusing it (`413`, `408`, or `400` with a JSON-RPC error).
pub(crate) async fn read_message<B>(
    config: &Config,
    body: B,
    era: Era,
) -> Result<Message, Box<Unread>>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let body = Limited::new(body, config.max_body_bytes);
    let bytes = match tokio::time::timeout(config.body_read_timeout, body.collect()).await {
        Err(_) => {
            return Err(error_response_in(
                era,
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::INVALID_REQUEST,
                "the request body was not received in time",
            )
            .into());
        }
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(Reject::TOO_LARGE.into_response_in(era).into());
        }
        Ok(Err(_)) => {
            return Err(error_response_in(
                era,
                StatusCode::BAD_REQUEST,
                ErrorCode::PARSE_ERROR,
                "the request body could not be read",
            )
            .into());
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let options = ParseOptions {
        max_size: config.max_body_bytes,
        ..ParseOptions::default()
    };
    match mcpwire_jsonrpc::parse(&bytes, &options) {
        Ok(Parsed::Single(message)) => Ok(message),
        Ok(Parsed::Batch(_)) => Err(error_response_in(
            era,
            StatusCode::BAD_REQUEST,
            ErrorCode::INVALID_REQUEST,
            "a POST body must hold a single JSON-RPC message",
        )
        .into()),
        Err(error) => {
            let response = json_response(
                StatusCode::BAD_REQUEST,
                idless_error(era, error.to_error_response().error),
            );
            let broken_reply = error.is_malformed_response().then_some(error);
            Err(Box::new(Unread {
                response,
                broken_reply,
            }))
        }
    }
}

/// `bytes` as a session id, if they can be one: 1 to 128 visible ASCII characters.
pub(crate) fn session_id(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty()
        || bytes.len() > MAX_SESSION_ID_LENGTH
        || !bytes.iter().all(|byte| (0x21..=0x7e).contains(byte))
    {
        return None;
    }
    String::from_utf8(bytes.to_vec()).ok()
}

/// Whether the `Accept` headers list `wanted` (`type/subtype`), directly or by a wildcard.
pub(crate) fn accepts(headers: &HeaderMap, wanted: &str) -> bool {
    let (wanted_type, _) = wanted.split_once('/').expect("a media type");
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(media_type)
        .any(|range| {
            range == wanted
                || range == "*/*"
                || range
                    .strip_suffix("/*")
                    .is_some_and(|range_type| range_type == wanted_type)
        })
}

/// The media type of a header value, lowercase and without parameters.
fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(accept: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn accept_lists_are_read_with_parameters_wildcards_and_several_headers() {
        let both = headers(&["application/json;q=0.9, Text/Event-Stream"]);
        assert!(accepts(&both, "application/json") && accepts(&both, "text/event-stream"));
        let split = headers(&["application/json", "text/event-stream"]);
        assert!(accepts(&split, "text/event-stream"));
        assert!(accepts(&headers(&["*/*"]), "text/event-stream"));
        assert!(accepts(&headers(&["text/*"]), "text/event-stream"));
        assert!(!accepts(
            &headers(&["application/json"]),
            "text/event-stream"
        ));
        assert!(!accepts(&headers(&[]), "application/json"));
    }
}
