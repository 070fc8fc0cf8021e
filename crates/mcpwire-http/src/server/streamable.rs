//! The Streamable HTTP lane of the legacy era: `POST` of a message into a session (or of the
//! `initialize` that creates one), `GET` of a standalone or resumed SSE stream, and `DELETE` of
//! a session. A modern message that came without a modern header is handed to the stateless
//! lane from here.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use mcpwire_jsonrpc::{ErrorCode, ErrorObject, ErrorResponse, Message, RequestId};
use mcpwire_schema::{Era, ProtocolVersion};

use crate::headers::{LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID};
use crate::server::body::{ResponseBody, parse_event_id};
use crate::server::cluster::Signal;
use crate::server::request::{
    BoxError, accepts, check_post_headers, client_ip, read_message, session_id, session_owner,
};
use crate::server::response::{
    Reject, accepted, error_response, json_response, method_not_allowed, session_not_found,
    sse_response, unavailable,
};
use crate::server::session::{PostReply, Refusal, Registered, Session, cancelled_request};
use crate::server::shared::Shared;
use crate::server::stateless;
use crate::server::transport::HttpSessionTransport;

/// Answers a request to the Streamable HTTP endpoint, after the checks every request passes:
/// `POST`, `GET` and `DELETE`.
pub(crate) async fn handle<B>(shared: Arc<Shared>, request: Request<B>) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    match *request.method() {
        Method::POST => post(shared, request).await,
        Method::GET => {
            let owner = session_owner(request.extensions());
            get(&shared, request.headers(), owner).await
        }
        Method::DELETE => {
            let owner = session_owner(request.extensions());
            delete(&shared, request.headers(), owner).await
        }
        _ => method_not_allowed(Era::Legacy, "method not allowed", "GET, POST, DELETE"),
    }
}

async fn post<B>(shared: Arc<Shared>, request: Request<B>) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = &shared.config;
    let (mut parts, body) = request.into_parts();
    let owner = session_owner(&parts.extensions);
    let client = client_ip(&parts.extensions);
    let extensions = std::mem::take(&mut parts.extensions);
    let headers = &parts.headers;
    if let Err(reject) = check_post_headers(config, headers) {
        return reject.into_response();
    }
    let session_header = match session_id_header(headers) {
        Ok(id) => id,
        Err(reject) => return reject.into_response(),
    };
    // Look the session up before reading the body, so that nothing is read for a dead one.
    let session = match &session_header {
        Some(id) => match find_session(&shared, id, owner.as_deref()).await {
            Ok(session) => Some(session),
            Err(reject) => return reject.into_response(),
        },
        None => None,
    };

    let message = match read_message(config, body, Era::Legacy).await {
        Ok(message) => message,
        Err(unread) => {
            if let (Some(session), Some(error)) = (&session, unread.broken_reply) {
                session.forward_broken_reply(error).await;
            }
            return unread.response;
        }
    };
    if session.is_none()
        && let Some(lane) = &shared.stateless
        && stateless::is_modern_message(&message)
    {
        return stateless::serve_message(&shared.config, lane, headers, extensions, message).await;
    }

    if config.protocol_versions.is_empty() {
        return refuse_legacy(&shared, headers, &message);
    }

    let is_initialize =
        matches!(&message, Message::Request(request) if request.method == "initialize");
    if is_initialize && let Some(response) = contradicting_version(headers, &message) {
        return response;
    }
    let (session, created) = match session {
        Some(session) => (session, false),
        None if is_initialize => match create_session(&shared, client, owner.clone()) {
            Ok(session) => (session, true),
            Err(reject) => return reject.into_response(),
        },
        None => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::INVALID_REQUEST,
                "Mcp-Session-Id is required after initialize",
            );
        }
    };

    session.set_extensions(extensions);
    match message {
        // While the service drains, a session's POSTs still reach it with the answers and
        // notifications that requests in flight need, but no new request is taken.
        Message::Request(request) if shared.registry.is_shutting_down() => {
            unavailable(Some(request.id), "the server is shutting down")
        }
        Message::Request(request) => {
            let id = request.id.clone();
            let activity = session.busy();
            let registered = match session
                .register_request(id.clone(), is_initialize && created, activity)
                .await
            {
                Ok(registered) => registered,
                Err(Refusal::DuplicateId) => {
                    let error = ErrorObject::new(
                        ErrorCode::INVALID_REQUEST,
                        format!("request id {id} is already in flight"),
                    );
                    return json_response(
                        StatusCode::BAD_REQUEST,
                        Message::from(ErrorResponse::new(Some(id), error)).to_vec(),
                    );
                }
                Err(_) => return session_not_found(),
            };
            let mut forwarding = ForwardGuard {
                session: Some(Arc::clone(&session)),
                id,
            };
            if session.forward(Message::Request(request)).await.is_err() {
                return session_not_found();
            }
            forwarding.session = None;
            let mut response = match registered {
                Registered::Streaming(body) => sse_response(body),
                Registered::Pending(reply, _activity) => match reply.await {
                    Ok(PostReply::Json(bytes, is_error)) => {
                        if created && is_error {
                            // A failed initialize leaves nothing behind.
                            session.terminate().await;
                            if session.save_failed() {
                                // It failed because the session could not be shared.
                                return unavailable(
                                    Some(forwarding.id.clone()),
                                    "the session store cannot be reached",
                                );
                            }
                            return json_response(StatusCode::OK, bytes);
                        }
                        if created && let Err(error) = session.save_first_record().await {
                            tracing::warn!(%error, "a new session's record could not be saved");
                            session.terminate().await;
                            return Reject::STORE_UNAVAILABLE.into_response();
                        }
                        json_response(StatusCode::OK, bytes)
                    }
                    Ok(PostReply::Sse(body)) => sse_response(body),
                    Err(_) if shared.registry.is_shutting_down() => {
                        return unavailable(
                            Some(forwarding.id.clone()),
                            "the server shut down before the request was answered",
                        );
                    }
                    Err(_) if session.terminated.is_cancelled() => return session_not_found(),
                    // The client cancelled the request: it gets no response.
                    Err(_) => sse_response(ResponseBody::sse(Default::default(), None, None, None)),
                },
            };
            if created {
                let value =
                    HeaderValue::from_str(&session.id).expect("session ids are visible ASCII");
                response.headers_mut().insert(MCP_SESSION_ID, value);
            }
            response
        }
        other => {
            if session.shared().is_some() && !belongs_here(&session, &other).await {
                return pass_on(&session, other).await;
            }
            if let Some(id) = cancelled_request(&other) {
                // The engine sends nothing more for a cancelled request; end its stream.
                session.forget_request(&id).await;
            }
            let _activity = session.busy();
            match session.forward(other).await {
                Ok(()) => accepted(),
                Err(_) => session_not_found(),
            }
        }
    }
}

/// The `protocolVersion` a request asks for in its params, as `initialize` does.
fn initialize_version(message: &Message) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Initialize {
        #[serde(rename = "protocolVersion")]
        protocol_version: String,
    }
    let Message::Request(request) = message else {
        return None;
    };
    let params = request.params.as_deref()?;
    serde_json::from_str::<Initialize>(params.get())
        .ok()
        .map(|initialize| initialize.protocol_version)
}

/// The `400` for an `initialize` whose `MCP-Protocol-Version` header names another revision
/// than its `protocolVersion`: the two would negotiate different things, so neither is
/// trusted and no session is made. `None` when the header is absent or agrees.
fn contradicting_version(headers: &HeaderMap, message: &Message) -> Option<Response<ResponseBody>> {
    let header = headers.get(MCP_PROTOCOL_VERSION)?;
    let Message::Request(request) = message else {
        return None;
    };
    let asked = initialize_version(message)?;
    if header.as_bytes() == asked.as_bytes() {
        return None;
    }
    let header = String::from_utf8_lossy(header.as_bytes());
    let error = ErrorObject::new(
        ErrorCode::INVALID_REQUEST,
        format!(
            "the MCP-Protocol-Version header `{header}` contradicts the protocolVersion `{asked}` of initialize"
        ),
    );
    Some(json_response(
        StatusCode::BAD_REQUEST,
        Message::from(ErrorResponse::new(Some(request.id.clone()), error)).to_vec(),
    ))
}

/// The answer of a service that serves no legacy revision (an empty
/// [`Config::protocol_versions`](crate::server::Config::protocol_versions)) to a legacy
/// message: `400` and `-32022` (UnsupportedProtocolVersion) naming the modern revisions of its
/// stateless lane, if any, and the revision the client asked for (in `initialize`, or else in
/// its header), so that a legacy client can tell its user why.
fn refuse_legacy(
    shared: &Shared,
    headers: &HeaderMap,
    message: &Message,
) -> Response<ResponseBody> {
    let id = match message {
        Message::Request(request) => Some(request.id.clone()),
        _ => None,
    };
    let requested = initialize_version(message)
        .or_else(|| {
            headers
                .get(MCP_PROTOCOL_VERSION)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let supported: &[ProtocolVersion] = match &shared.stateless {
        Some(_) => &shared.config.modern_versions,
        None => &[],
    };
    let mut error = mcpwire_schema::meta::unsupported_protocol_version(&requested, supported);
    // A legacy client may show only the message: it names what the server speaks.
    let names: Vec<&str> = supported.iter().map(|version| version.as_str()).collect();
    error.message = format!(
        "unsupported protocol version: {requested}; this server supports only {}",
        names.join(", ")
    );
    json_response(
        StatusCode::BAD_REQUEST,
        Message::from(ErrorResponse::new(id, error)).to_vec(),
    )
}

/// Forgets a registered request whose POST ended before the request was forwarded.
struct ForwardGuard {
    session: Option<Arc<Session>>,
    id: RequestId,
}

impl Drop for ForwardGuard {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let id = self.id.clone();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move { session.forget_request(&id).await });
            }
        }
    }
}

/// Whether a client's message that is not a request belongs to this copy of a shared
/// session: an answer to a request it sent, a cancellation of a request it runs, or any
/// other notification (which every copy's role takes alike).
async fn belongs_here(session: &Session, message: &Message) -> bool {
    match message {
        Message::Response(response) => session.sent_request(&response.id, true),
        Message::Error(error) => match &error.id {
            Some(id) => session.sent_request(id, true),
            None => true,
        },
        Message::Notification(_) => match cancelled_request(message) {
            Some(id) => session.runs_request(&id).await,
            None => true,
        },
        Message::Request(_) => true,
    }
}

/// Hands a client's message to the other instances, one of whose copies of the session it
/// belongs to: `202` once it is on the bus, `503` when the bus cannot be reached.
async fn pass_on(session: &Session, message: Message) -> Response<ResponseBody> {
    let Some(shared) = session.shared() else {
        return accepted();
    };
    let signal = Signal::FromClient(Bytes::from(message.to_vec()));
    match shared.cluster.publish(&session.id, signal).await {
        Ok(()) => accepted(),
        Err(error) => {
            tracing::warn!(%error, "a client's message for another instance could not be sent");
            Reject::STORE_UNAVAILABLE.into_response()
        }
    }
}

/// The session `id` of `owner`: this instance's copy (unless its record is gone), or one
/// adopted from the session's record when the sessions are shared; `404` when there is
/// neither, `503` when the store cannot be reached to adopt one.
async fn find_session(
    shared: &Arc<Shared>,
    id: &str,
    owner: Option<&str>,
) -> Result<Arc<Session>, Reject> {
    if let Some(session) = shared.registry.get(id, owner) {
        return if session.renew().await {
            Ok(session)
        } else {
            Err(Reject::SESSION_NOT_FOUND)
        };
    }
    let Some(cluster) = shared.registry.cluster() else {
        return Err(Reject::SESSION_NOT_FOUND);
    };
    let record = match cluster.store.load(id).await {
        Ok(Some(record)) if record.owner.as_deref() == owner => record,
        Ok(_) => return Err(Reject::SESSION_NOT_FOUND),
        Err(error) => {
            tracing::warn!(%error, "a session's record could not be read");
            return Err(Reject::STORE_UNAVAILABLE);
        }
    };
    let (session, inbound) = shared.registry.adopt(&shared.config, id, &record)?;
    if let Some(inbound) = inbound {
        (shared.factory)(HttpSessionTransport::new(Arc::clone(&session), inbound));
    }
    if session.owner.as_deref() != owner {
        return Err(Reject::SESSION_NOT_FOUND);
    }
    Ok(session)
}

fn create_session(
    shared: &Arc<Shared>,
    client: Option<IpAddr>,
    owner: Option<Arc<str>>,
) -> Result<Arc<Session>, Reject> {
    let (session, inbound) = shared
        .registry
        .register(&shared.config, false, client, owner)?;
    (shared.factory)(HttpSessionTransport::new(Arc::clone(&session), inbound));
    Ok(session)
}

async fn get(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    owner: Option<Arc<str>>,
) -> Response<ResponseBody> {
    let config = &shared.config;
    let last_event_id = headers.get(LAST_EVENT_ID);
    if !config.standalone_get && last_event_id.is_none() {
        return method_not_allowed(
            Era::Legacy,
            "this server offers no standalone SSE stream",
            "POST, DELETE",
        );
    }
    if !accepts(headers, "text/event-stream") {
        return error_response(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::INVALID_REQUEST,
            "Accept must list text/event-stream",
        );
    }
    let session = match session_for(shared, headers, owner.as_deref()).await {
        Ok(session) => session,
        Err(reject) => return reject.into_response(),
    };
    let opened = match last_event_id {
        Some(value) => {
            let Some((stream, after)) = value.to_str().ok().and_then(parse_event_id) else {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::INVALID_REQUEST,
                    "malformed Last-Event-ID",
                );
            };
            session.resume(stream, after).await
        }
        None => session.open_standalone().await,
    };
    match opened {
        Ok(body) => sse_response(body),
        Err(Refusal::Terminated) => session_not_found(),
        Err(Refusal::TooManyStreams) => error_response(
            StatusCode::CONFLICT,
            ErrorCode::INVALID_REQUEST,
            "too many open SSE streams for this session",
        ),
        Err(Refusal::Unresumable(reason)) => {
            error_response(StatusCode::BAD_REQUEST, ErrorCode::INVALID_REQUEST, &reason)
        }
        Err(Refusal::DuplicateId) => unreachable!("a GET registers no request"),
    }
}

async fn delete(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    owner: Option<Arc<str>>,
) -> Response<ResponseBody> {
    match session_for(shared, headers, owner.as_deref()).await {
        Ok(session) => {
            session.terminate().await;
            tracing::debug!("session deleted");
            Response::builder()
                .status(StatusCode::OK)
                .body(ResponseBody::empty())
                .expect("a valid response")
        }
        Err(reject) => reject.into_response(),
    }
}

/// The live session a request names, or the response refusing it.
async fn session_for(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    owner: Option<&str>,
) -> Result<Arc<Session>, Reject> {
    match session_id_header(headers)? {
        Some(id) => find_session(shared, &id, owner).await,
        None => Err(Reject {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::INVALID_REQUEST,
            message: "Mcp-Session-Id is required",
        }),
    }
}

/// The `Mcp-Session-Id` header, if present and well formed.
fn session_id_header(headers: &HeaderMap) -> Result<Option<String>, Reject> {
    let Some(value) = headers.get(MCP_SESSION_ID) else {
        return Ok(None);
    };
    match session_id(value.as_bytes()) {
        Some(id) => Ok(Some(id)),
        None => Err(Reject {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::INVALID_REQUEST,
            message: "malformed Mcp-Session-Id",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancellation_names_its_request() {
        let message = Message::parse(
            br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#,
        )
        .unwrap();
        assert_eq!(cancelled_request(&message), Some(RequestId::from(7)));
        let other =
            Message::parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert_eq!(cancelled_request(&other), None);
    }
}
