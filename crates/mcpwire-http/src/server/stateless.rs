//! The stateless lane: modern (2026-07-28) requests, each served on its own, with no session.

use std::future::Future;
use std::sync::Arc;

use http::header::RETRY_AFTER;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use mcpwire_jsonrpc::{ErrorCode, ErrorObject, ErrorResponse, Message, RequestId};
use mcpwire_schema::meta::{self, RequestMeta};
use mcpwire_schema::{Era, ProtocolVersion};
use serde_json::Value;
use tokio::sync::{Semaphore, oneshot};
use tokio_util::sync::CancellationToken;

use crate::headers::{MCP_METHOD, MCP_NAME, MCP_PROTOCOL_VERSION, decode_value, trim_ows};
use crate::server::body::ResponseBody;
use crate::server::config::Config;
use crate::server::event_store::BoxFuture;
use crate::server::exchange::{Admitted, Exchange, FirstReply, ParamHeaders, authorization_digest};
use crate::server::request::{BoxError, check_post_headers, read_message};
use crate::server::response::{
    accepted, error_response_in, json_response, method_not_allowed, sse_response,
};

/// Serves the modern requests that reach the stateless lane of a
/// [`StreamableHttpService`](crate::server::StreamableHttpService), one at a time each, with
/// no session: the role's modern dispatch (`mcpwire_server::Server::http_service` installs
/// one).
///
/// The lane has checked the request before the handler sees it (headers, `_meta`, protocol
/// version, `Mcp-Method` and `Mcp-Name`; see
/// [`StreamableHttpService::stateless`](crate::server::StreamableHttpService::stateless)); the
/// handler serves it, writing any notifications and then exactly one final message through
/// the [`Exchange`]. The returned future runs on a task of its own, and is dropped when the
/// client goes away (after [`Exchange::cancellation`] fires) or the service shuts down.
///
/// Any `Fn(Request, Exchange) -> impl Future<Output = ()>` that is `Send + Sync + 'static` is
/// a handler.
///
/// # Examples
///
/// ```
/// use mcpwire_http::server::{Config, Exchange, StreamableHttpService};
/// use mcpwire_jsonrpc::Request;
/// use serde_json::value::RawValue;
///
/// // Answers every modern request with an empty result.
/// let service = StreamableHttpService::new(Config::default(), |transport| drop(transport))
///     .stateless(|_request: Request, exchange: Exchange| async move {
///         let result = RawValue::from_string(r#"{"resultType":"complete"}"#.to_owned());
///         let _ = exchange.respond(Ok(result.expect("JSON"))).await;
///     });
/// assert!(service.is_stateless());
/// ```
pub trait StatelessHandler: Send + Sync + 'static {
    /// Serves `request` through `exchange`.
    fn handle(
        &self,
        request: mcpwire_jsonrpc::Request,
        exchange: Exchange,
    ) -> BoxFuture<'static, ()>;
}

impl<F, Fut> StatelessHandler for F
where
    F: Fn(mcpwire_jsonrpc::Request, Exchange) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn handle(
        &self,
        request: mcpwire_jsonrpc::Request,
        exchange: Exchange,
    ) -> BoxFuture<'static, ()> {
        Box::pin(self(request, exchange))
    }
}

/// The stateless lane of one service.
pub(crate) struct Lane {
    handler: Arc<dyn StatelessHandler>,
    in_flight: Arc<Semaphore>,
    /// Cancels every exchange when the service shuts down.
    shutdown: CancellationToken,
}

impl Lane {
    pub(crate) fn new(handler: Arc<dyn StatelessHandler>, max_in_flight: usize) -> Self {
        Lane {
            handler,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            shutdown: CancellationToken::new(),
        }
    }

    /// Waits until no exchange is in flight (none can start once the service shuts down).
    pub(crate) async fn settled(&self, max_in_flight: usize) {
        let all = u32::try_from(max_in_flight).unwrap_or(u32::MAX);
        // Holding every place means none is taken; the places go back at once.
        let _all = self.in_flight.acquire_many(all).await;
    }

    /// Cancels every exchange in flight.
    pub(crate) fn shut_down(&self) {
        self.shutdown.cancel();
    }

    /// How many exchanges hold a place.
    pub(crate) fn in_flight(&self, max_in_flight: usize) -> usize {
        max_in_flight.saturating_sub(self.in_flight.available_permits())
    }
}

/// Whether the `MCP-Protocol-Version` header sends a request to the lane: it names no legacy
/// revision (a modern one, an unknown one, or an unreadable value).
pub(crate) fn is_modern_header(value: &HeaderValue) -> bool {
    header_era(value) != Some(Era::Legacy)
}

/// Whether an `MCP-Protocol-Version` value names a revision of the modern era (not merely no
/// legacy one).
pub(crate) fn names_modern_revision(value: &HeaderValue) -> bool {
    header_era(value) == Some(Era::Modern)
}

/// The era of the revision an `MCP-Protocol-Version` value names, if it names one.
fn header_era(value: &HeaderValue) -> Option<Era> {
    value
        .to_str()
        .ok()
        .and_then(|text| ProtocolVersion::from_wire(trim_ows(text)))
        .map(|version| version.era())
}

/// Whether a message that came without `MCP-Protocol-Version` and without a session belongs
/// to the lane: a request or notification whose `params._meta` is modern.
pub(crate) fn is_modern_message(message: &Message) -> bool {
    let params = match message {
        Message::Request(request) => request.params.as_deref(),
        Message::Notification(notification) => notification.params.as_deref(),
        Message::Response(_) | Message::Error(_) => return false,
    };
    meta::probe(params).is_modern()
}

/// Answers a request that a modern `MCP-Protocol-Version` header sent to the lane.
pub(crate) async fn handle<B>(
    config: &Arc<Config>,
    lane: &Lane,
    request: Request<B>,
) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    if request.method() != Method::POST {
        // The modern era has no GET stream and no session to DELETE.
        return method_not_allowed(Era::Modern, "a modern request must be a POST", "POST");
    }
    let (parts, body) = request.into_parts();
    if let Err(reject) = check_post_headers(config, &parts.headers) {
        return reject.into_response_in(Era::Modern);
    }
    match read_message(config, body, Era::Modern).await {
        Ok(message) => serve_message(config, lane, &parts.headers, parts.extensions, message).await,
        Err(unread) => unread.response,
    }
}

/// Answers one parsed message on the lane, from the step after the parse of the validation
/// ladder.
pub(crate) async fn serve_message(
    config: &Arc<Config>,
    lane: &Lane,
    headers: &HeaderMap,
    extensions: http::Extensions,
    message: Message,
) -> Response<ResponseBody> {
    let request = match message {
        Message::Request(request) => request,
        // No client notification is defined over modern HTTP: `notifications/cancelled`
        // could name no request of this client, so every notification is taken and ignored.
        Message::Notification(_) => return accepted(),
        Message::Response(_) | Message::Error(_) => {
            return error_response_in(
                Era::Modern,
                StatusCode::BAD_REQUEST,
                ErrorCode::INVALID_REQUEST,
                "a modern POST must carry a request or a notification, not a response",
            );
        }
    };
    let admitted = match admit(&config.modern_versions, headers, &request) {
        Ok(admitted) => admitted,
        Err(error) => return error_with_id(&request.id, error),
    };
    let Ok(permit) = Arc::clone(&lane.in_flight).try_acquire_owned() else {
        let error = ErrorObject::new(
            ErrorCode::INTERNAL_ERROR,
            "too many requests in flight; retry later",
        );
        let mut response = error_with_id(&request.id, error);
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    let id = request.id.clone();
    let cancellation = lane.shutdown.child_token();
    let (first_sender, first_receiver) = oneshot::channel();
    let (exchange, disconnect) = Exchange::new(
        request.id.clone(),
        request.method.clone(),
        admitted,
        extensions,
        cancellation.clone(),
        first_sender,
        Arc::clone(config),
    );
    let served = lane.handler.handle(request, exchange);
    tokio::spawn(async move {
        let _permit = permit;
        tokio::select! {
            biased;
            () = cancellation.cancelled() => {}
            () = served => {}
        }
    });
    // Dropping this future before the first message (the client went away) cancels.
    match first_receiver.await {
        Ok(FirstReply::Json(bytes, status)) => json_response(status, bytes),
        Ok(FirstReply::Sse(body)) => {
            // From now on the stream's body watches the client.
            disconnect.disarm();
            sse_response(body)
        }
        // Every exchange answers unless it was cancelled, which only the shutdown does while
        // the POST waits.
        Err(_) => {
            let error = ErrorObject::new(ErrorCode::INTERNAL_ERROR, "the server is shutting down");
            let mut response = error_with_id(&id, error);
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        }
    }
}

/// The validation ladder of a modern request, after the parse: the `MCP-Protocol-Version`
/// header, the required `_meta` members, the header against `_meta`, the version, then
/// `Mcp-Method` and `Mcp-Name` against the body.
fn admit(
    modern_versions: &[ProtocolVersion],
    headers: &HeaderMap,
    request: &mcpwire_jsonrpc::Request,
) -> Result<Admitted, ErrorObject> {
    let Some(header_version) = single_header(headers, &MCP_PROTOCOL_VERSION)? else {
        return Err(meta::header_mismatch(
            "the MCP-Protocol-Version header is missing",
        ));
    };
    let request_meta = RequestMeta::from_params(request.params.as_deref())
        .map_err(|error| error.to_error_object())?;
    if header_version != request_meta.protocol_version {
        return Err(meta::header_mismatch(format!(
            "the MCP-Protocol-Version header `{header_version}` does not match `{}` of `_meta`",
            request_meta.protocol_version
        )));
    }
    let version = request_meta.check_version(modern_versions)?;
    match single_header(headers, &MCP_METHOD)? {
        None => return Err(meta::header_mismatch("the Mcp-Method header is missing")),
        Some(method) if method != request.method => {
            return Err(meta::header_mismatch(format!(
                "the Mcp-Method header `{method}` does not match the method `{}`",
                request.method
            )));
        }
        Some(_) => {}
    }
    check_name(headers, request)?;
    Ok(Admitted {
        meta: request_meta,
        version,
        param_headers: ParamHeaders::from_headers(headers),
        authorization_digest: authorization_digest(headers),
    })
}

/// Checks `Mcp-Name` against the body member it mirrors, for the methods that have one.
fn check_name(headers: &HeaderMap, request: &mcpwire_jsonrpc::Request) -> Result<(), ErrorObject> {
    let member = match request.method.as_str() {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return Ok(()),
    };
    let body = request
        .params
        .as_deref()
        .and_then(|params| {
            serde_json::from_str::<serde_json::Map<String, Value>>(params.get()).ok()
        })
        .and_then(|mut params| match params.remove(member) {
            Some(Value::String(value)) => Some(value),
            _ => None,
        });
    let header = match single_header(headers, &MCP_NAME)? {
        Some(header) => Some(decode_value(&header).map_err(|error| {
            meta::header_mismatch(format!("the Mcp-Name header is invalid: {error}"))
        })?),
        None => None,
    };
    match (header, body) {
        (Some(header), Some(body)) if header == body => Ok(()),
        (Some(header), Some(body)) => Err(meta::header_mismatch(format!(
            "the Mcp-Name header `{header}` does not match `{body}` of params.{member}"
        ))),
        (None, Some(_)) => Err(meta::header_mismatch("the Mcp-Name header is missing")),
        (Some(_), None) => Err(meta::header_mismatch(format!(
            "the Mcp-Name header names params.{member}, which the body does not have"
        ))),
        // A request without the member is malformed; the handler answers it.
        (None, None) => Ok(()),
    }
}

/// The one value of header `name`, without optional whitespace, or `None` when absent.
///
/// # Errors
///
/// `-32020` when the header appears more than once or is not visible ASCII.
fn single_header(
    headers: &HeaderMap,
    name: &http::HeaderName,
) -> Result<Option<String>, ErrorObject> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(meta::header_mismatch(format!(
            "the {name} header appears more than once"
        )));
    }
    match value.to_str() {
        Ok(text) => Ok(Some(trim_ows(text).to_owned())),
        Err(_) => Err(meta::header_mismatch(format!(
            "the {name} header holds invalid characters"
        ))),
    }
}

/// A JSON error response to request `id`, with the status of its code.
fn error_with_id(id: &RequestId, error: ErrorObject) -> Response<ResponseBody> {
    let status = match error.code {
        // The lane's own `-32602` is always about `_meta`, which is malformed: 400.
        ErrorCode::INVALID_PARAMS => StatusCode::BAD_REQUEST,
        code => crate::server::exchange::status_of(code),
    };
    let message = Message::from(ErrorResponse::new(Some(id.clone()), error));
    json_response(status, message.to_vec())
}
