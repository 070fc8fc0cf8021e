//! One modern request being served on the stateless lane: its identity, its cancellation,
//! its mirrored headers, and the reply that becomes one JSON body or an SSE stream.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use mcpwire_jsonrpc::{
    ErrorCode, ErrorObject, ErrorResponse, Message, Notification, RequestId, Response,
};
use mcpwire_schema::ProtocolVersion;
use mcpwire_schema::meta::RequestMeta;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::headers::{InvalidHeaderValue, MCP_PARAM_PREFIX, decode_value};
use crate::server::Error;
use crate::server::body::{ResponseBody, event};
use crate::server::config::Config;
use crate::server::disconnect::DisconnectGuard;

/// One validated modern request on the stateless lane of a
/// [`StreamableHttpService`](crate::server::StreamableHttpService), handed to a
/// [`StatelessHandler`](crate::server::StatelessHandler) with the request.
///
/// The handler sends any number of notifications related to the request with
/// [`notify`](Self::notify), then exactly one final message with [`respond`](Self::respond);
/// both take `&self`, so that the exchange can be shared (in an `Arc`) with work that
/// notifies, and whatever comes after the final message is refused.
/// The HTTP answer is one `application/json` body when the final message comes first, and
/// otherwise an SSE stream that carries the notifications and ends with the final message
/// (`event: message` events, without event ids or a priming event: a modern stream cannot be
/// resumed). An exchange dropped without a final message, by a handler that returned or
/// panicked, answers `-32603` (Internal error), unless the request was cancelled.
///
/// When the client goes away (it drops the connection, or the SSE stream it reads), or the
/// service shuts down, [`cancellation`](Self::cancellation) fires, the handler's future is
/// dropped, and nothing more is sent for the request.
pub struct Exchange {
    id: RequestId,
    method: String,
    meta: RequestMeta,
    version: ProtocolVersion,
    param_headers: ParamHeaders,
    authorization_digest: Option<[u8; 32]>,
    extensions: Arc<http::Extensions>,
    cancellation: CancellationToken,
    finished: Arc<AtomicBool>,
    reply: Mutex<Reply>,
    config: Arc<Config>,
}

/// Where the next message of an exchange goes.
enum Reply {
    /// Nothing sent yet: the POST waits for the first message to choose JSON or SSE.
    Pending(oneshot::Sender<FirstReply>),
    /// The SSE stream is open.
    Streaming(mpsc::Sender<Bytes>),
    /// The final message went, or the client did.
    Finished,
}

/// How the POST of an exchange is answered, decided by its first outbound message.
pub(crate) enum FirstReply {
    /// The final message alone, as one JSON body, with the HTTP status of its error code.
    Json(Bytes, StatusCode),
    /// An SSE stream carrying notifications, then the final message.
    Sse(ResponseBody),
}

/// What the lane knows of a request once the ladder has passed it.
pub(crate) struct Admitted {
    pub(crate) meta: RequestMeta,
    pub(crate) version: ProtocolVersion,
    pub(crate) param_headers: ParamHeaders,
    pub(crate) authorization_digest: Option<[u8; 32]>,
}

impl Exchange {
    /// An exchange for request `id` of `method`, answering through `first`.
    pub(crate) fn new(
        id: RequestId,
        method: String,
        admitted: Admitted,
        extensions: http::Extensions,
        cancellation: CancellationToken,
        first: oneshot::Sender<FirstReply>,
        config: Arc<Config>,
    ) -> (Exchange, DisconnectGuard) {
        let finished = Arc::new(AtomicBool::new(false));
        let guard = DisconnectGuard::new(cancellation.clone(), Arc::clone(&finished));
        let exchange = Exchange {
            id,
            method,
            meta: admitted.meta,
            version: admitted.version,
            param_headers: admitted.param_headers,
            authorization_digest: owner_digest(&extensions).or(admitted.authorization_digest),
            extensions: Arc::new(extensions),
            cancellation,
            finished,
            reply: Mutex::new(Reply::Pending(first)),
            config,
        };
        (exchange, guard)
    }

    /// The JSON-RPC id of the request. Modern ids are unique per client only: two clients may
    /// use the same id at the same time, each on its own exchange.
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// The method of the request.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request's `_meta`, checked: its protocol version, client capabilities, and the
    /// optional client info, log level and progress token.
    pub fn meta(&self) -> &RequestMeta {
        &self.meta
    }

    /// The protocol version of the request, one of
    /// [`Config::modern_versions`](crate::server::Config::modern_versions).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.version
    }

    /// The `http::Extensions` of the HTTP request, as the layers in front of the service left
    /// them: an authorization layer's verified principal, for one.
    pub fn extensions(&self) -> &Arc<http::Extensions> {
        &self.extensions
    }

    /// Fires when the client goes away or the service shuts down; the handler's future is
    /// dropped right after, so a handler that wants to react watches it from work it spawned.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancellation
    }

    /// The request's `Mcp-Param-{Name}` headers, decoded. The lane does not judge them: the
    /// role knows which tool arguments they mirror, and answers a missing, mismatched or
    /// invalid one with `-32020` (HeaderMismatch), which the lane sends with status 400.
    pub fn param_headers(&self) -> &ParamHeaders {
        &self.param_headers
    }

    /// A digest naming who made the request, or `None` for an anonymous one: binds state the
    /// server hands to the client, such as a `requestState`, to whoever it was made for,
    /// without keeping their credentials. When an authorization layer named the principal
    /// ([`SessionOwner`](crate::server::SessionOwner)), the SHA-256 of that name, so that a
    /// refreshed token of the same principal still fits; otherwise the SHA-256 of the
    /// request's `Authorization` header (of its values joined by a line feed, when there are
    /// several).
    pub fn authorization_digest(&self) -> Option<[u8; 32]> {
        self.authorization_digest
    }

    /// Sends a notification related to the request (progress, a log message, a
    /// subscription's notification) ahead of the final message. The first one turns the
    /// answer into an SSE stream.
    ///
    /// Waits while the client's stream queue is full, for at most
    /// [`Config::slow_consumer_timeout`](crate::server::Config::slow_consumer_timeout); a
    /// client that reads slower than that is disconnected, which cancels the request.
    ///
    /// # Errors
    ///
    /// An [`Error`] for which [`Error::is_cancelled`] holds when the client has gone: the
    /// request is cancelled and nothing more is sent for it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a notification whose call is dropped is either sent whole or not at all.
    pub async fn notify(&self, notification: Notification) -> Result<(), Error> {
        let frame = sse_frame(&Message::from(notification));
        let mut reply = self.reply.lock().await;
        if self.cancellation.is_cancelled() {
            *reply = Reply::Finished;
            return Err(Error::cancelled());
        }
        match std::mem::replace(&mut *reply, Reply::Finished) {
            Reply::Pending(first) => {
                let (sender, receiver) = mpsc::channel(self.config.stream_queue);
                sender
                    .try_send(frame)
                    .expect("a new channel has room for its first event");
                let body = ResponseBody::sse(
                    VecDeque::new(),
                    Some(receiver),
                    self.config.keep_alive,
                    None,
                )
                .on_drop(DisconnectGuard::new(
                    self.cancellation.clone(),
                    Arc::clone(&self.finished),
                ));
                if first.send(FirstReply::Sse(body)).is_err() {
                    self.cancellation.cancel();
                    return Err(Error::cancelled());
                }
                *reply = Reply::Streaming(sender);
                Ok(())
            }
            Reply::Streaming(sender) => {
                // Put back before waiting, so that a dropped call leaves the stream usable.
                *reply = Reply::Streaming(sender.clone());
                let sent = sender
                    .send_timeout(frame, self.config.slow_consumer_timeout)
                    .await;
                if sent.is_err() {
                    // Closed: the client went. Timed out: it reads too slowly, and dropping
                    // the sender ends its stream.
                    tracing::debug!(id = %self.id, "the client of a stateless request is gone");
                    *reply = Reply::Finished;
                    self.cancellation.cancel();
                    return Err(Error::cancelled());
                }
                Ok(())
            }
            Reply::Finished => Err(self.over()),
        }
    }

    /// Sends the final message: the result, or the error, of the request.
    ///
    /// Answered as one JSON body, the HTTP status follows the error code: `404` for `-32601`
    /// (Method not found), `400` for `-32020` (HeaderMismatch), `-32021`
    /// (MissingRequiredClientCapability) and `-32022` (UnsupportedProtocolVersion), and `200`
    /// otherwise. On an SSE stream the status is already `200`, and the stream ends after it.
    ///
    /// # Errors
    ///
    /// An [`Error`] for which [`Error::is_cancelled`] holds when the client has gone, or
    /// [`Error::is_answered`] when the final message went already.
    pub async fn respond(&self, outcome: Result<Box<RawValue>, ErrorObject>) -> Result<(), Error> {
        let (mut message, mut status) = match outcome {
            Ok(result) => (
                Message::from(Response::new(self.id.clone(), result)),
                StatusCode::OK,
            ),
            Err(error) => {
                let status = status_of(error.code);
                (
                    Message::from(ErrorResponse::new(Some(self.id.clone()), error)),
                    status,
                )
            }
        };
        if let Err(error) = message.check_limits(&self.config.peer_limits) {
            // The client would refuse the message, and could not tell which request it
            // answered: say why instead.
            tracing::warn!(id = %self.id, %error, "a final message is beyond what the client reads; answering with an error");
            let what = if matches!(message, Message::Error(_)) {
                "error"
            } else {
                "result"
            };
            let how = if error.is_too_deep() {
                "nested too deeply"
            } else {
                "too large"
            };
            let error =
                ErrorObject::internal_error(format!("the {what} is {how} to send: {error}"));
            message = Message::from(ErrorResponse::new(Some(self.id.clone()), error));
            status = StatusCode::OK;
        }
        let mut reply = self.reply.lock().await;
        if matches!(*reply, Reply::Finished) {
            return Err(self.over());
        }
        if self.cancellation.is_cancelled() {
            *reply = Reply::Finished;
            return Err(Error::cancelled());
        }
        self.finished.store(true, Ordering::SeqCst);
        match std::mem::replace(&mut *reply, Reply::Finished) {
            Reply::Pending(first) => first
                .send(FirstReply::Json(Bytes::from(message.to_vec()), status))
                .map_err(|_| Error::cancelled()),
            // Dropping the sender afterwards ends the stream once the client has read it.
            Reply::Streaming(sender) => sender
                .send_timeout(sse_frame(&message), self.config.slow_consumer_timeout)
                .await
                .map_err(|_| Error::cancelled()),
            Reply::Finished => Err(self.over()),
        }
    }

    /// Why nothing more can be sent: the final message went, or the client did.
    fn over(&self) -> Error {
        if self.finished.load(Ordering::SeqCst) {
            Error::answered()
        } else {
            Error::cancelled()
        }
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        let reply = std::mem::replace(self.reply.get_mut(), Reply::Finished);
        if matches!(reply, Reply::Finished) || self.cancellation.is_cancelled() {
            return;
        }
        tracing::debug!(id = %self.id, "a stateless handler ended without answering");
        self.finished.store(true, Ordering::SeqCst);
        let error = ErrorObject::internal_error("the handler ended without answering the request");
        let message = Message::from(ErrorResponse::new(Some(self.id.clone()), error));
        match reply {
            Reply::Pending(first) => {
                let _ = first.send(FirstReply::Json(
                    Bytes::from(message.to_vec()),
                    status_of(ErrorCode::INTERNAL_ERROR),
                ));
            }
            Reply::Streaming(sender) => {
                let frame = sse_frame(&message);
                let timeout = self.config.slow_consumer_timeout;
                if let Err(mpsc::error::TrySendError::Full(frame)) = sender.try_send(frame)
                    && let Ok(runtime) = tokio::runtime::Handle::try_current()
                {
                    runtime.spawn(async move {
                        let _ = sender.send_timeout(frame, timeout).await;
                    });
                }
            }
            Reply::Finished => {}
        }
    }
}

impl fmt::Debug for Exchange {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Exchange")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("protocol_version", &self.version)
            .field("cancelled", &self.cancellation.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// One message as an event of a modern SSE stream: no id, since the stream cannot be resumed.
fn sse_frame(message: &Message) -> Bytes {
    event(None, "message", &message.to_vec())
}

/// The HTTP status of a final error sent as one JSON body.
pub(crate) fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        ErrorCode::HEADER_MISMATCH
        | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
        | ErrorCode::UNSUPPORTED_PROTOCOL_VERSION => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// The `Mcp-Param-{Name}` headers of a modern request, decoded with
/// [`decode_value`](crate::headers::decode_value) and looked up by `{Name}`, ignoring ASCII
/// case.
///
/// A header that could not be decoded, or that appears more than once, is kept as an
/// [`InvalidHeaderValue`]: the role decides whether it names an argument it mirrors.
///
/// # Examples
///
/// ```
/// use http::{HeaderMap, HeaderValue};
/// use mcpwire_http::server::ParamHeaders;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("mcp-param-region", HeaderValue::from_static("=?base64?IHVzLXdlc3Qx?="));
/// let params = ParamHeaders::from_headers(&headers);
/// assert_eq!(params.get("Region"), Some(Ok(" us-west1")));
/// assert_eq!(params.get("Priority"), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParamHeaders {
    values: BTreeMap<String, Result<String, InvalidHeaderValue>>,
}

impl ParamHeaders {
    /// Reads the `Mcp-Param-*` headers of `headers`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut values = BTreeMap::new();
        for name in headers.keys() {
            let Some(param) = name.as_str().strip_prefix(MCP_PARAM_PREFIX) else {
                continue;
            };
            let mut all = headers.get_all(name).iter();
            let value = match (all.next(), all.next()) {
                (Some(value), None) => match value.to_str() {
                    Ok(text) => decode_value(text),
                    Err(_) => Err(InvalidHeaderValue::characters()),
                },
                _ => Err(InvalidHeaderValue::repeated()),
            };
            values.insert(param.to_owned(), value);
        }
        ParamHeaders { values }
    }

    /// The decoded value of `Mcp-Param-{name}`, if the request has that header.
    pub fn get(&self, name: &str) -> Option<Result<&str, &InvalidHeaderValue>> {
        self.values
            .get(&name.to_ascii_lowercase())
            .map(|value| value.as_deref())
    }

    /// Every header, as `{name}` in lowercase and its decoded value, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Result<&str, &InvalidHeaderValue>)> {
        self.values
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_deref()))
    }

    /// How many `Mcp-Param-*` headers the request has.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the request has no `Mcp-Param-*` header.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The digest of the [`SessionOwner`](crate::server::SessionOwner) an authorization layer
/// named, which [`Exchange::authorization_digest`] is when there is one.
fn owner_digest(extensions: &http::Extensions) -> Option<[u8; 32]> {
    let owner = crate::server::request::session_owner(extensions)?;
    Some(digest_of_owner(&owner))
}

/// The digest naming the principal `owner`, the same for its sessions and its modern requests.
pub(crate) fn digest_of_owner(owner: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"owner\n");
    hasher.update(owner.as_bytes());
    hasher.finalize().into()
}

/// The digest [`Exchange::authorization_digest`] describes.
pub(crate) fn authorization_digest(headers: &HeaderMap) -> Option<[u8; 32]> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let first = values.next()?;
    let mut hasher = Sha256::new();
    hasher.update(first.as_bytes());
    for value in values {
        hasher.update(b"\n");
        hasher.update(value.as_bytes());
    }
    Some(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn param_headers_are_decoded_and_bad_ones_kept_as_errors() {
        let mut headers = HeaderMap::new();
        headers.insert("mcp-param-plain", HeaderValue::from_static("  us-west1 "));
        headers.insert(
            "mcp-param-encoded",
            HeaderValue::from_static("=?base64?SGVsbG8sIOS4lueVjA==?="),
        );
        headers.insert(
            "mcp-param-padding",
            HeaderValue::from_static("=?base64?SGVsbG8?="),
        );
        headers.insert("mcp-param-twice", HeaderValue::from_static("a"));
        headers.append("mcp-param-twice", HeaderValue::from_static("b"));
        headers.insert(
            "mcp-param-latin",
            HeaderValue::from_bytes(b"caf\xe9").unwrap(),
        );
        headers.insert("mcp-method", HeaderValue::from_static("tools/call"));
        let params = ParamHeaders::from_headers(&headers);
        assert_eq!(params.len(), 5);
        assert_eq!(params.get("PLAIN"), Some(Ok("us-west1")));
        assert_eq!(params.get("Encoded"), Some(Ok("Hello, 世界")));
        assert!(matches!(params.get("padding"), Some(Err(_))));
        assert_eq!(
            params.get("twice"),
            Some(Err(&InvalidHeaderValue::repeated()))
        );
        assert_eq!(
            params.get("latin"),
            Some(Err(&InvalidHeaderValue::characters()))
        );
        assert_eq!(params.get("method"), None);
        let names: Vec<&str> = params.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["encoded", "latin", "padding", "plain", "twice"]);
    }

    #[test]
    fn the_authorization_digest_is_the_sha256_of_the_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(authorization_digest(&headers), None);
        headers.insert(http::header::AUTHORIZATION, HeaderValue::from_static("abc"));
        let digest = authorization_digest(&headers).unwrap();
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf], "{digest:02x?}");
        headers.append(http::header::AUTHORIZATION, HeaderValue::from_static("def"));
        assert_ne!(authorization_digest(&headers), Some(digest));
    }

    #[test]
    fn a_named_principal_is_the_digest_whatever_its_token() {
        let exchange = |owner: Option<&str>, token_digest: [u8; 32]| {
            let (first, _receiver) = oneshot::channel();
            let mut extensions = http::Extensions::new();
            if let Some(owner) = owner {
                extensions.insert(crate::server::SessionOwner(Arc::from(owner)));
            }
            let admitted = Admitted {
                meta: RequestMeta::new("2026-07-28", mcpwire_schema::JsonObject::new()),
                version: ProtocolVersion::V2026_07_28,
                param_headers: ParamHeaders::default(),
                authorization_digest: Some(token_digest),
            };
            let (exchange, _guard) = Exchange::new(
                RequestId::from(1),
                "tools/call".to_owned(),
                admitted,
                extensions,
                CancellationToken::new(),
                first,
                Arc::new(Config::default()),
            );
            exchange.authorization_digest()
        };
        assert_eq!(exchange(None, [1; 32]), Some([1; 32]));
        let alice = exchange(Some("alice"), [1; 32]);
        assert_eq!(alice, exchange(Some("alice"), [2; 32]));
        assert_ne!(alice, exchange(Some("bob"), [1; 32]));
        assert_ne!(alice, Some([1; 32]));
    }

    fn new_exchange() -> (Exchange, DisconnectGuard, oneshot::Receiver<FirstReply>) {
        let (first, receiver) = oneshot::channel();
        let admitted = Admitted {
            meta: RequestMeta::new("2026-07-28", mcpwire_schema::JsonObject::new()),
            version: ProtocolVersion::V2026_07_28,
            param_headers: ParamHeaders::default(),
            authorization_digest: None,
        };
        let (exchange, guard) = Exchange::new(
            RequestId::from(7),
            "tools/call".to_owned(),
            admitted,
            http::Extensions::new(),
            CancellationToken::new(),
            first,
            Arc::new(Config::default()),
        );
        (exchange, guard, receiver)
    }

    fn empty_result() -> Box<RawValue> {
        RawValue::from_string("{}".to_owned()).unwrap()
    }

    #[tokio::test]
    async fn nothing_is_sent_after_the_final_message() {
        let (exchange, _guard, receiver) = new_exchange();
        exchange.respond(Ok(empty_result())).await.unwrap();
        let Ok(FirstReply::Json(bytes, status)) = receiver.await else {
            panic!("a JSON answer");
        };
        assert_eq!(status, StatusCode::OK);
        assert_eq!(bytes, r#"{"jsonrpc":"2.0","id":7,"result":{}}"#);
        let again = exchange.respond(Ok(empty_result())).await.unwrap_err();
        assert!(again.is_answered() && !again.is_cancelled(), "{again}");
        let late = exchange
            .notify(Notification::new("notifications/progress", None))
            .await
            .unwrap_err();
        assert!(late.is_answered(), "{late}");
    }

    #[tokio::test]
    async fn an_exchange_dropped_unanswered_answers_an_internal_error_unless_cancelled() {
        let (exchange, _guard, receiver) = new_exchange();
        drop(exchange);
        let Ok(FirstReply::Json(bytes, _)) = receiver.await else {
            panic!("a JSON answer");
        };
        let message = Message::parse(&bytes).unwrap();
        let Message::Error(error) = message else {
            panic!("an error response");
        };
        assert_eq!(error.id, Some(RequestId::from(7)));
        assert_eq!(error.error.code, ErrorCode::INTERNAL_ERROR);

        let (exchange, guard, receiver) = new_exchange();
        drop(guard);
        assert!(exchange.cancellation().is_cancelled());
        let refused = exchange.respond(Ok(empty_result())).await.unwrap_err();
        assert!(refused.is_cancelled(), "{refused}");
        drop(exchange);
        assert!(
            receiver.await.is_err(),
            "nothing is sent for a cancelled request"
        );
    }

    #[test]
    fn final_errors_get_the_statuses_the_spec_names() {
        assert_eq!(
            status_of(ErrorCode::METHOD_NOT_FOUND),
            StatusCode::NOT_FOUND
        );
        for code in [
            ErrorCode::HEADER_MISMATCH,
            ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
            ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
        ] {
            assert_eq!(status_of(code), StatusCode::BAD_REQUEST, "{code}");
        }
        for code in [
            ErrorCode::INVALID_PARAMS,
            ErrorCode::INTERNAL_ERROR,
            ErrorCode(-1),
        ] {
            assert_eq!(status_of(code), StatusCode::OK, "{code}");
        }
    }
}
