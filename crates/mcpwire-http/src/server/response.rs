//! The responses of the server: `202`, JSON bodies, SSE streams, and the JSON-RPC errors that
//! refuse a request.

use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderName, HeaderValue, Response, StatusCode};
use mcpwire_jsonrpc::{ErrorCode, ErrorObject, ErrorResponse, Message, RequestId};
use mcpwire_schema::Era;

use crate::server::body::ResponseBody;

/// The answer to a `POST` whose message was taken: `202 Accepted`, no body.
pub(crate) fn accepted() -> Response<ResponseBody> {
    Response::builder()
        .status(StatusCode::ACCEPTED)
        .body(ResponseBody::empty())
        .expect("a valid response")
}

pub(crate) fn json_response(status: StatusCode, bytes: impl Into<Bytes>) -> Response<ResponseBody> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(ResponseBody::full(bytes))
        .expect("a valid response")
}

/// An SSE answer. `X-Accel-Buffering: no` asks proxies such as nginx to pass events on as
/// they come rather than buffer them.
pub(crate) fn sse_response(body: ResponseBody) -> Response<ResponseBody> {
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, "text/event-stream")
        .header(CACHE_CONTROL, "no-cache")
        .header(X_ACCEL_BUFFERING, "no")
        .body(body)
        .expect("a valid response")
}

/// The `X-Accel-Buffering` header of nginx.
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

/// A refusal, turned into an [`error_response`] at the end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reject {
    pub(crate) status: StatusCode,
    pub(crate) code: ErrorCode,
    pub(crate) message: &'static str,
}

impl Reject {
    pub(crate) const SESSION_NOT_FOUND: Reject = Reject {
        status: StatusCode::NOT_FOUND,
        code: ErrorCode::INVALID_REQUEST,
        message: "session not found",
    };

    /// A shared session's record could not be read or written: the store is unreachable.
    pub(crate) const STORE_UNAVAILABLE: Reject = Reject {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: ErrorCode::INTERNAL_ERROR,
        message: "the session store cannot be reached",
    };

    pub(crate) const TOO_LARGE: Reject = Reject {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: ErrorCode::PARSE_ERROR,
        message: "the request body is too large",
    };

    pub(crate) fn into_response(self) -> Response<ResponseBody> {
        self.into_response_in(Era::Legacy)
    }

    /// The response, written for a request of `era`.
    pub(crate) fn into_response_in(self, era: Era) -> Response<ResponseBody> {
        let mut response = error_response_in(era, self.status, self.code, self.message);
        if matches!(
            self.status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        ) {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// `405 Method Not Allowed` with an `Allow` header naming the methods that are.
pub(crate) fn method_not_allowed(
    era: Era,
    message: &str,
    allow: &'static str,
) -> Response<ResponseBody> {
    let mut response = error_response_in(
        era,
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::INVALID_REQUEST,
        message,
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

/// An HTTP error whose body is a JSON-RPC error response without an id (`"id": null`).
pub(crate) fn error_response(
    status: StatusCode,
    code: ErrorCode,
    message: &str,
) -> Response<ResponseBody> {
    error_response_in(Era::Legacy, status, code, message)
}

/// An HTTP error whose body is a JSON-RPC error response without an id, written for a request
/// of `era`.
pub(crate) fn error_response_in(
    era: Era,
    status: StatusCode,
    code: ErrorCode,
    message: &str,
) -> Response<ResponseBody> {
    json_response(status, idless_error(era, ErrorObject::new(code, message)))
}

/// A JSON-RPC error response that names no request. JSON-RPC 2.0 and the legacy revisions
/// write `"id": null`; the schema of the modern era has no null id, so there the member is
/// left out.
pub(crate) fn idless_error(era: Era, error: ErrorObject) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Idless {
        jsonrpc: &'static str,
        error: ErrorObject,
    }
    match era {
        Era::Legacy => Message::from(ErrorResponse::new(None, error)).to_vec(),
        Era::Modern => serde_json::to_vec(&Idless {
            jsonrpc: "2.0",
            error,
        })
        .expect("an error object serializes"),
    }
}

/// `503` with `Retry-After` and a `-32603` error under `id` (or without one): the server is
/// shutting down, or cannot reach the store of its shared sessions, and will not answer this
/// request; the client may retry it later or elsewhere.
pub(crate) fn unavailable(id: Option<RequestId>, what: &str) -> Response<ResponseBody> {
    let error = ErrorObject::new(ErrorCode::INTERNAL_ERROR, what);
    let mut response = json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        Message::from(ErrorResponse::new(id, error)).to_vec(),
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

pub(crate) fn session_not_found() -> Response<ResponseBody> {
    Reject::SESSION_NOT_FOUND.into_response()
}
