//! Raw HTTP exchanges with the server under test, on hyper's client: the suite chooses every
//! header and every byte of the body, and reads the answer as it was framed.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::wire::sse::{SseEvent, SseReader};

/// The most body bytes read from one answer; past it the reading stops and says so.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// When to stop reading an answer's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Until {
    /// At its end.
    End,
    /// When a JSON-RPC response with this id has arrived (or at the end).
    Response(Value),
    /// After this many SSE events (or at the end).
    Events(usize),
    /// When the time limit is reached (or at the end): for streams that stay open.
    TimeLimit,
}

/// An answer as read from the wire.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// The status code.
    pub status: StatusCode,
    /// The header fields.
    pub headers: HeaderMap,
    /// The body as read, whatever its type (for an SSE stream, the bytes read before stopping).
    pub body: Bytes,
    /// The events of an SSE body, in order.
    pub events: Vec<SseEvent>,
    /// The JSON values of the answer: the body of a JSON answer (one value), or the `data` of
    /// each SSE event that parsed as JSON.
    pub messages: Vec<Value>,
    /// What could not be parsed: a JSON body that is not JSON, an SSE event whose data is not.
    pub malformed: Vec<String>,
    /// Whether the body was read to its end (false: stopped at `Until`, or the time limit).
    pub ended: bool,
    /// Whether reading stopped because the time limit was reached.
    pub timed_out: bool,
}

impl HttpReply {
    /// The `Content-Type` of the answer, without parameters, lowercased.
    pub fn content_type(&self) -> Option<String> {
        let value = self.headers.get(CONTENT_TYPE)?.to_str().ok()?;
        Some(
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase(),
        )
    }

    /// Whether the answer is an SSE stream.
    pub fn is_sse(&self) -> bool {
        self.content_type().as_deref() == Some("text/event-stream")
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The JSON-RPC response with `id` among the messages.
    pub fn response(&self, id: &Value) -> Option<&Value> {
        self.messages.iter().find(|message| {
            message.get("id") == Some(id)
                && (message.get("result").is_some() || message.get("error").is_some())
        })
    }

    /// A short account of the answer for a report: status, type and the start of the body.
    pub fn summary(&self) -> String {
        let kind = self
            .content_type()
            .unwrap_or_else(|| "no Content-Type".into());
        let body = String::from_utf8_lossy(&self.body);
        format!(
            "HTTP {} ({kind}): {}",
            self.status.as_u16(),
            crate::clip(&body)
        )
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// GET, POST or DELETE (or anything else a check wants to try).
    pub method: Method,
    /// The header fields, in order; `Host` may be set to override the URL's.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body, for a POST.
    pub body: Option<Bytes>,
}

impl HttpRequest {
    /// A POST of `body` with the `Content-Type` and `Accept` a conforming client sends.
    pub fn post(body: impl Into<Bytes>) -> HttpRequest {
        HttpRequest {
            method: Method::POST,
            headers: vec![
                (CONTENT_TYPE, HeaderValue::from_static("application/json")),
                (
                    ACCEPT,
                    HeaderValue::from_static("application/json, text/event-stream"),
                ),
            ],
            body: Some(body.into()),
        }
    }

    /// A GET of the event stream.
    pub fn get() -> HttpRequest {
        HttpRequest {
            method: Method::GET,
            headers: vec![(ACCEPT, HeaderValue::from_static("text/event-stream"))],
            body: None,
        }
    }

    /// A request with no body and no header.
    pub fn bare(method: Method) -> HttpRequest {
        HttpRequest {
            method,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Sets a header, replacing any of the same name. A value that is not a valid header
    /// value is left out.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> HttpRequest {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            return self;
        };
        self.headers.retain(|(present, _)| *present != name);
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }

    /// Removes a header.
    #[must_use]
    pub fn without(mut self, name: &str) -> HttpRequest {
        self.headers
            .retain(|(present, _)| !present.as_str().eq_ignore_ascii_case(name));
        self
    }
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The server's endpoint and a client to reach it.
#[derive(Clone)]
pub struct HttpWire {
    client: HttpsClient,
    url: Uri,
    /// `Authorization` for every request that sets none itself.
    authorization: Option<HeaderValue>,
}

impl std::fmt::Debug for HttpWire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpWire").field("url", &self.url).finish()
    }
}

impl HttpWire {
    /// A client of the endpoint at `url` (`http` or `https`).
    pub fn new(url: &str) -> Result<HttpWire, String> {
        let url: Uri = url
            .parse()
            .map_err(|error| format!("`{url}` is not a URL: {error}"))?;
        match url.scheme_str() {
            Some("http" | "https") => {}
            _ => return Err(format!("`{url}` is not an http or https URL")),
        }
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(HttpWire {
            client,
            url,
            authorization: None,
        })
    }

    /// The client of `target`'s endpoint, each request carrying the target's access token
    /// unless it sets `Authorization` itself.
    pub fn for_target(target: &crate::Target) -> Result<HttpWire, String> {
        let (crate::Target::Http { url, bearer } | crate::Target::HttpSse { url, bearer }) = target
        else {
            return Err("the server is not reached over HTTP".to_owned());
        };
        let mut wire = HttpWire::new(url)?;
        if let Some(bearer) = bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", bearer.expose()))
                .map_err(|_| "the access token is not a valid header value".to_owned())?;
            value.set_sensitive(true);
            wire.authorization = Some(value);
        }
        Ok(wire)
    }

    /// A client of another URL (`http` or `https`) with this one's access token.
    pub fn to_url(&self, url: &str) -> Result<HttpWire, String> {
        let url: Uri = url
            .parse()
            .map_err(|error| format!("`{url}` is not a URL: {error}"))?;
        Ok(HttpWire {
            client: self.client.clone(),
            url,
            authorization: self.authorization.clone(),
        })
    }

    /// Whether requests carry an access token.
    pub fn has_bearer(&self) -> bool {
        self.authorization.is_some()
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// Sends `request` to the endpoint, or to `path` on the same origin when given, and
    /// returns the answer's head and its body unread, for a caller that reads the body as it
    /// arrives (and answers what the server asks on the way).
    ///
    /// # Errors
    ///
    /// When the request cannot be built or sent, or no answer's head comes by `deadline`.
    pub async fn open_to(
        &self,
        path: Option<&str>,
        request: HttpRequest,
        deadline: tokio::time::Instant,
    ) -> Result<http::Response<hyper::body::Incoming>, String> {
        let uri = match path {
            None => self.url.clone(),
            Some(path) => {
                let mut parts = self.url.clone().into_parts();
                parts.path_and_query = Some(
                    path.parse()
                        .map_err(|error| format!("bad path {path}: {error}"))?,
                );
                Uri::from_parts(parts).map_err(|error| error.to_string())?
            }
        };
        let mut builder = Request::builder().method(request.method).uri(uri);
        if let Some(authorization) = &self.authorization
            && !request
                .headers
                .iter()
                .any(|(name, _)| *name == http::header::AUTHORIZATION)
        {
            builder = builder.header(http::header::AUTHORIZATION, authorization.clone());
        }
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        let http_request = builder
            .body(Full::new(request.body.unwrap_or_default()))
            .map_err(|error| format!("could not build the request: {error}"))?;
        let limit = deadline.saturating_duration_since(tokio::time::Instant::now());
        tokio::time::timeout_at(deadline, self.client.request(http_request))
            .await
            .map_err(|_| format!("no answer within {} ms", limit.as_millis()))?
            .map_err(|error| format!("the request failed: {}", chain(&error)))
    }

    /// Sends `request` to the endpoint, or to `path` on the same origin when given, and
    /// reads the answer until `until` or `limit`.
    pub async fn send_to(
        &self,
        path: Option<&str>,
        request: HttpRequest,
        until: Until,
        limit: Duration,
    ) -> Result<HttpReply, String> {
        let deadline = tokio::time::Instant::now() + limit;
        let response = self.open_to(path, request, deadline).await?;
        let (parts, mut body) = response.into_parts();
        let mut reply = HttpReply {
            status: parts.status,
            headers: parts.headers,
            body: Bytes::new(),
            events: Vec::new(),
            messages: Vec::new(),
            malformed: Vec::new(),
            ended: false,
            timed_out: false,
        };
        let sse = reply.is_sse();
        let mut reader = SseReader::default();
        let mut read = BytesMut::new();
        loop {
            let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => {
                    reply.timed_out = true;
                    break;
                }
                Ok(None) => {
                    reply.ended = true;
                    break;
                }
                Ok(Some(Err(error))) => {
                    reply
                        .malformed
                        .push(format!("the body ended in an error: {error}"));
                    break;
                }
                Ok(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if read.len() + data.len() > BODY_LIMIT {
                reply
                    .malformed
                    .push(format!("the body is longer than {BODY_LIMIT} bytes"));
                break;
            }
            read.extend_from_slice(&data);
            if sse {
                for event in reader.feed(&data) {
                    if !event.data.is_empty() {
                        match serde_json::from_str::<Value>(&event.data) {
                            Ok(value) => reply.messages.push(value),
                            Err(error) => reply.malformed.push(format!(
                                "SSE event data is not JSON ({error}): {}",
                                crate::clip(&event.data)
                            )),
                        }
                    }
                    reply.events.push(event);
                }
                let done = match &until {
                    Until::Response(id) => reply.response(id).is_some(),
                    Until::Events(count) => reply.events.len() >= *count,
                    Until::End | Until::TimeLimit => false,
                };
                if done {
                    break;
                }
            }
        }
        if let Some(problem) = reader.malformed.take() {
            reply.malformed.push(problem);
        }
        reply.body = read.freeze();
        if !sse && !reply.body.is_empty() {
            let json = reply
                .content_type()
                .is_some_and(|kind| kind == "application/json" || kind.ends_with("+json"));
            match serde_json::from_slice::<Value>(&reply.body) {
                Ok(value) => reply.messages.push(value),
                Err(error) if json => reply
                    .malformed
                    .push(format!("the JSON body does not parse: {error}")),
                Err(_) => {}
            }
        }
        Ok(reply)
    }

    /// Sends `request` to the endpoint; see [`HttpWire::send_to`].
    pub async fn send(
        &self,
        request: HttpRequest,
        until: Until,
        limit: Duration,
    ) -> Result<HttpReply, String> {
        self.send_to(None, request, until, limit).await
    }
}

/// An error and its sources, on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
