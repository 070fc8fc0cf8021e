//! The HTTP client underneath the transports: hyper-util's pooled client over rustls, with
//! the configured headers and timeouts.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use tower::ServiceExt as _;

use crate::client::Error as HttpError;
use crate::client::options::Options;
use crate::client::service::{HttpClientService, ResponseBody};

/// The media type of a JSON body.
pub(crate) const APPLICATION_JSON: &str = "application/json";
/// The media type of an SSE stream.
pub(crate) const TEXT_EVENT_STREAM: &str = "text/event-stream";
/// The `Accept` header of a POST: the server may answer with JSON or open a stream.
pub(crate) const ACCEPT_JSON_OR_STREAM: &str = "application/json, text/event-stream";

/// How much of an error body is read to explain a failure.
const ERROR_BODY_BYTES: usize = 4096;

/// The HTTP client of one transport.
#[derive(Debug)]
pub(crate) struct Connection {
    service: HttpClientService,
    pub(crate) url: Uri,
    headers: HeaderMap,
    request_timeout: Duration,
}

impl Connection {
    pub(crate) fn new(
        url: Uri,
        headers: HeaderMap,
        service: HttpClientService,
        options: &Options,
    ) -> Self {
        Connection {
            service,
            url,
            headers,
            request_timeout: options.request_timeout,
        }
    }

    /// A request to `uri` with the configured headers; the caller adds its own after them,
    /// which replace any configured header of the same name.
    pub(crate) fn request(&self, method: Method, uri: &Uri) -> http::request::Builder {
        let mut builder = Request::builder().method(method).uri(uri.clone());
        if let Some(headers) = builder.headers_mut() {
            headers.extend(self.headers.clone());
        }
        builder
    }

    /// A POST of one JSON message to `uri`.
    pub(crate) fn post_json(&self, uri: &Uri, body: Bytes) -> http::request::Builder {
        let mut builder = self.request(Method::POST, uri);
        if let Some(headers) = builder.headers_mut() {
            headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_JSON_OR_STREAM));
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(APPLICATION_JSON));
            if let Ok(length) = HeaderValue::try_from(body.len().to_string()) {
                headers.insert(http::header::CONTENT_LENGTH, length);
            }
        }
        builder
    }

    /// A GET that opens an SSE stream at `uri`.
    pub(crate) fn get_stream(&self, uri: &Uri) -> http::request::Builder {
        let mut builder = self.request(Method::GET, uri);
        if let Some(headers) = builder.headers_mut() {
            headers.insert(ACCEPT, HeaderValue::from_static(TEXT_EVENT_STREAM));
        }
        builder
    }

    /// Sends `request` and waits, up to the request timeout, for the status and headers.
    ///
    /// # Errors
    ///
    /// [`HttpError::is_timeout`] when the server does not answer in time,
    /// [`HttpError::is_connect`] when the connection fails.
    pub(crate) async fn send(
        &self,
        request: http::request::Builder,
        body: Bytes,
    ) -> Result<Response<ResponseBody>, HttpError> {
        self.send_within(request, body, self.request_timeout).await
    }

    /// Sends `request` and waits, up to `deadline`, for the status and headers.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub(crate) async fn send_within(
        &self,
        request: http::request::Builder,
        body: Bytes,
        deadline: Duration,
    ) -> Result<Response<ResponseBody>, HttpError> {
        let request = request
            .body(Full::new(body))
            .map_err(|error| HttpError::builder(format!("invalid request: {error}")))?;
        let sent = self.service.clone().oneshot(request);
        match tokio::time::timeout(deadline, sent).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(HttpError::connect(error)),
            Err(_) => Err(HttpError::timeout("no response headers")),
        }
    }

    /// Reads a whole body of at most `limit` bytes, within the request timeout.
    ///
    /// # Errors
    ///
    /// [`HttpError::is_too_large`] over the limit, [`HttpError::is_timeout`] when it takes
    /// too long, [`HttpError::is_connect`] when the connection fails.
    pub(crate) async fn read_body(
        &self,
        body: ResponseBody,
        limit: usize,
    ) -> Result<Bytes, HttpError> {
        match tokio::time::timeout(self.request_timeout, collect(body, limit)).await {
            Ok(collected) => collected,
            Err(_) => Err(HttpError::timeout("the body did not arrive in time")),
        }
    }

    /// The error for an unexpected status, explained by the start of the body: the message
    /// of a JSON-RPC error in it, or its text.
    pub(crate) async fn status_error(&self, response: Response<ResponseBody>) -> HttpError {
        let status = response.status();
        match self.read_body(response.into_body(), ERROR_BODY_BYTES).await {
            Ok(body) => explained_status(status, &body),
            Err(_) => HttpError::unexpected_status(status, None),
        }
    }
}

/// Reads a whole body of at most `limit` bytes.
///
/// Written out rather than with `http_body_util::Limited`, whose bound on the body's boxed
/// error trips the compiler's check that the transports' futures are `Send`.
async fn collect(mut body: ResponseBody, limit: usize) -> Result<Bytes, HttpError> {
    let mut collected = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(HttpError::connect)?;
        if let Ok(data) = frame.into_data() {
            if collected.len() + data.len() > limit {
                return Err(HttpError::too_large(limit));
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(collected.freeze())
}

/// The error for an unexpected status whose body was read already: it keeps a JSON-RPC error
/// response of the body (see [`HttpError::refusal`]), or explains the status with a short
/// text of the body.
pub(crate) fn explained_status(status: StatusCode, body: &[u8]) -> HttpError {
    match mcpwire_jsonrpc::Message::parse(body) {
        Ok(mcpwire_jsonrpc::Message::Error(refusal)) => HttpError::refused(status, refusal),
        _ => HttpError::unexpected_status(status, explain_body(body)),
    }
}

/// The media type of a response, lowercase and without parameters.
pub(crate) fn media_type(response: &Response<ResponseBody>) -> String {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether the status says that the server offers no such endpoint or method: the answers
/// that make the standalone stream optional and that trigger the legacy fallback.
pub(crate) fn is_unsupported(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    )
}

fn explain_body(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    if let Ok(mcpwire_jsonrpc::Message::Error(error)) = mcpwire_jsonrpc::Message::parse(body) {
        return Some(error.error.message);
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (!text.is_empty()).then(|| text[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_explained_briefly() {
        let error =
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"bad session"}}"#;
        assert_eq!(explain_body(error).as_deref(), Some("bad session"));
        assert_eq!(
            explain_body(b"  Not Found \n").as_deref(),
            Some("Not Found")
        );
        assert_eq!(explain_body(b""), None);
        let long = "é".repeat(300);
        assert!(explain_body(long.as_bytes()).unwrap().len() <= 200);
    }
}
