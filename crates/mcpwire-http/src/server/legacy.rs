//! The deprecated HTTP+SSE transport of revision 2024-11-05, served beside Streamable HTTP
//! (feature `legacy-sse`): a `GET` opens a session's event stream, whose first event names
//! the endpoint the client POSTs its messages to, and every message of the server travels on
//! that stream.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use http::header::ACCEPT;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use mcpwire_jsonrpc::ErrorCode;
use mcpwire_schema::Era;
use tokio::sync::mpsc;

use crate::server::body::{ResponseBody, event};
use crate::server::config::Config;
use crate::server::request::{
    accepts, check_json_body, client_ip, read_message, session_id, session_owner,
};
use crate::server::response::{
    Reject, accepted, error_response, method_not_allowed, session_not_found, sse_response,
};
use crate::server::session::Session;
use crate::server::shared::Shared;
use crate::server::transport::{HttpSessionTransport, LegacyOutbound};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The query parameter of the messages endpoint that names the session.
const SESSION_PARAMETER: &str = "sessionId";

/// Which legacy endpoints a request's path is: the event stream's, the messages', or both.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LegacyPath {
    stream: bool,
    messages: bool,
}

impl LegacyPath {
    /// The legacy endpoints at `path`, or `None` when it is not one of them (or the legacy
    /// transport is off).
    pub(crate) fn of(config: &Config, path: &str) -> Option<LegacyPath> {
        let endpoints = config.legacy_sse.as_ref()?;
        let legacy = LegacyPath {
            stream: endpoints.sse == path,
            messages: endpoints.messages == path,
        };
        (legacy.stream || legacy.messages).then_some(legacy)
    }
}

/// Answers a request to a legacy endpoint, after the checks every request passes.
pub(crate) async fn handle<B>(
    shared: Arc<Shared>,
    path: LegacyPath,
    request: Request<B>,
) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    match *request.method() {
        Method::GET if path.stream => open(&shared, &request),
        Method::POST if path.messages => post(&shared, request).await,
        _ => {
            let allow = match (path.stream, path.messages) {
                (true, true) => "GET, POST",
                (true, false) => "GET",
                (false, _) => "POST",
            };
            method_not_allowed(Era::Legacy, "method not allowed", allow)
        }
    }
}

/// Opens a legacy session for a `GET` of the event stream: the stream's first event names the
/// endpoint with the session's id, and the session's transport goes to the factory.
fn open<B>(shared: &Arc<Shared>, request: &Request<B>) -> Response<ResponseBody> {
    let headers = request.headers();
    // A client that sends no `Accept` takes any media type.
    if headers.contains_key(ACCEPT) && !accepts(headers, "text/event-stream") {
        return error_response(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::INVALID_REQUEST,
            "Accept must list text/event-stream",
        );
    }
    let config = &shared.config;
    let endpoints = config
        .legacy_sse
        .as_ref()
        .expect("a legacy path matched, so the legacy endpoints are configured");
    let (session, inbound) = match shared.registry.register(
        &shared.config,
        true,
        client_ip(request.extensions()),
        session_owner(request.extensions()),
    ) {
        Ok(registered) => registered,
        Err(reject) => return reject.into_response(),
    };
    session.set_extensions(request.extensions().clone());
    let endpoint = format!("{}?{SESSION_PARAMETER}={}", endpoints.messages, session.id);
    let (live, receiver) = mpsc::channel(config.stream_queue);
    let body = ResponseBody::sse(
        VecDeque::from([event(None, "endpoint", endpoint.as_bytes())]),
        Some(receiver),
        config.keep_alive,
        Some(session.busy()),
    );
    let outbound = LegacyOutbound::new(live.downgrade());
    watch(Arc::clone(&session), live);
    (shared.factory)(HttpSessionTransport::legacy(session, inbound, outbound));
    sse_response(body)
}

/// Ties a legacy session to its event stream: the session ends when the stream's connection
/// goes away, and the stream ends, after the events it has queued, when the session ends.
fn watch(session: Arc<Session>, live: mpsc::Sender<Bytes>) {
    tokio::spawn(async move {
        tokio::select! {
            () = session.terminated.cancelled() => {}
            () = live.closed() => {
                tracing::debug!("a legacy event stream closed: its session ends");
                session.terminate().await;
            }
        }
        // Dropping the only lasting sender ends the stream.
        drop(live);
    });
}

/// Takes one message POSTed to the legacy messages endpoint into the session its `sessionId`
/// names; the answer to it travels on the session's event stream.
async fn post<B>(shared: &Arc<Shared>, request: Request<B>) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = &shared.config;
    if let Err(reject) = check_json_body(config, request.headers()) {
        return reject.into_response();
    }
    // Look the session up before reading the body, so that nothing is read for a dead one.
    let session = match session_in_query(request.uri().query()) {
        Ok(id) => {
            match shared
                .registry
                .find(&id, true, session_owner(request.extensions()).as_deref())
            {
                Some(session) => session,
                None => return session_not_found(),
            }
        }
        Err(reject) => return reject.into_response(),
    };
    let (parts, body) = request.into_parts();
    let message = match read_message(config, body, Era::Legacy).await {
        Ok(message) => message,
        Err(unread) => {
            if let Some(error) = unread.broken_reply {
                session.forward_broken_reply(error).await;
            }
            return unread.response;
        }
    };
    session.set_extensions(parts.extensions);
    match session.forward(message).await {
        Ok(()) => accepted(),
        Err(_) => session_not_found(),
    }
}

/// The `sessionId` parameter of a query, or the refusal of a query without a well-formed one.
fn session_in_query(query: Option<&str>) -> Result<String, Reject> {
    let value = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == SESSION_PARAMETER)
        .map(|(_, value)| value)
        .ok_or(Reject {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::INVALID_REQUEST,
            message: "the sessionId query parameter is required",
        })?;
    session_id(value.as_bytes()).ok_or(Reject {
        status: StatusCode::BAD_REQUEST,
        code: ErrorCode::INVALID_REQUEST,
        message: "malformed sessionId",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_id_is_read_from_the_query() {
        assert_eq!(
            session_in_query(Some("sessionId=abc")).unwrap(),
            "abc".to_owned()
        );
        assert_eq!(
            session_in_query(Some("x=1&sessionId=abc&sessionId=def")).unwrap(),
            "abc".to_owned()
        );
        for query in [
            None,
            Some(""),
            Some("sessionid=abc"),
            Some("sessionId"),
            Some("x=1"),
        ] {
            let reject = session_in_query(query).unwrap_err();
            assert_eq!(reject.status, StatusCode::BAD_REQUEST, "{query:?}");
        }
        let long = format!("sessionId={}", "a".repeat(200));
        for query in ["sessionId=", "sessionId=a b", long.as_str()] {
            let reject = session_in_query(Some(query)).unwrap_err();
            assert_eq!(reject.message, "malformed sessionId", "{query}");
        }
    }

    #[test]
    fn legacy_paths_match_exactly() {
        let config = Config::new().legacy_sse_endpoints("/sse", "messages?x=1");
        assert_eq!(
            config.get_legacy_sse_endpoints(),
            Some(("/sse", "/messages"))
        );
        let stream = LegacyPath::of(&config, "/sse").unwrap();
        assert!(stream.stream && !stream.messages);
        let messages = LegacyPath::of(&config, "/messages").unwrap();
        assert!(!messages.stream && messages.messages);
        for other in ["/", "/mcp", "/sse/", "/SSE", "/messages/x"] {
            assert!(LegacyPath::of(&config, other).is_none(), "{other}");
        }
        assert!(LegacyPath::of(&Config::new(), "/sse").is_none());
        let shared = Config::new().legacy_sse_endpoints("/legacy", "/legacy");
        let both = LegacyPath::of(&shared, "/legacy").unwrap();
        assert!(both.stream && both.messages);
    }
}
