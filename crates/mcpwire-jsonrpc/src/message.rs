//! The four kinds of JSON-RPC message and how they are written.

use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::value::RawValue;

use crate::error::{ErrorObject, raw_text};
use crate::id::RequestId;

/// Params as they arrived: raw JSON text, decoded only by the handler that
/// knows their type.
pub type RawParams = Box<RawValue>;

/// The only value the `jsonrpc` member may have.
pub(crate) const JSONRPC_VERSION: &str = "2.0";

/// A request: a call that expects a [`Response`] or an [`ErrorResponse`]
/// with the same id.
///
/// Requests are equal when their ids, methods and the text of their params are
/// equal.
#[derive(Clone, Debug)]
pub struct Request {
    /// The id the reply must echo.
    pub id: RequestId,
    /// The method name, never empty.
    pub method: String,
    /// The params object, or `None` when the member is absent.
    pub params: Option<RawParams>,
}

impl Request {
    /// Creates a request.
    pub fn new(
        id: impl Into<RequestId>,
        method: impl Into<String>,
        params: Option<RawParams>,
    ) -> Self {
        Request {
            id: id.into(),
            method: method.into(),
            params,
        }
    }
}

impl PartialEq for Request {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.method == other.method
            && raw_text(&self.params) == raw_text(&other.params)
    }
}

impl Eq for Request {}

/// A notification: a one-way message without an id that gets no reply.
///
/// Notifications are equal when their methods and the text of their params
/// are equal.
#[derive(Clone, Debug)]
pub struct Notification {
    /// The method name, never empty.
    pub method: String,
    /// The params object, or `None` when the member is absent.
    pub params: Option<RawParams>,
}

impl Notification {
    /// Creates a notification.
    pub fn new(method: impl Into<String>, params: Option<RawParams>) -> Self {
        Notification {
            method: method.into(),
            params,
        }
    }
}

impl PartialEq for Notification {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method && raw_text(&self.params) == raw_text(&other.params)
    }
}

impl Eq for Notification {}

/// A successful reply to the [`Request`] with the same id.
///
/// Responses are equal when their ids and the text of their results are
/// equal.
#[derive(Clone, Debug)]
pub struct Response {
    /// The id of the request this answers.
    pub id: RequestId,
    /// The result, kept raw until the caller decodes it.
    pub result: Box<RawValue>,
}

impl Response {
    /// Creates a response from a result that is already JSON.
    pub fn new(id: impl Into<RequestId>, result: Box<RawValue>) -> Self {
        Response {
            id: id.into(),
            result,
        }
    }

    /// Creates a response by serializing `result`.
    ///
    /// # Errors
    ///
    /// Returns serde_json's error when `result` cannot be serialized.
    pub fn from_result<R: Serialize + ?Sized>(
        id: impl Into<RequestId>,
        result: &R,
    ) -> Result<Self, serde_json::Error> {
        Ok(Response::new(id, serde_json::value::to_raw_value(result)?))
    }
}

impl PartialEq for Response {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.result.get() == other.result.get()
    }
}

impl Eq for Response {}

/// A failed reply.
///
/// `id` is `None` when the failed request's id could not be read. Such a
/// response is written with `"id": null`, the JSON-RPC 2.0 form; the parser
/// accepts both that form and a missing `id`, which MCP `2025-11-25` allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The id of the request this answers, if it was readable.
    pub id: Option<RequestId>,
    /// What went wrong.
    pub error: ErrorObject,
}

impl ErrorResponse {
    /// Creates an error response.
    pub fn new(id: Option<RequestId>, error: ErrorObject) -> Self {
        ErrorResponse { id, error }
    }
}

/// One JSON-RPC 2.0 message.
///
/// Serializing writes `"jsonrpc":"2.0"` first and then the members in a fixed
/// order: `id`, `method`, `params` for a request; `method`, `params` for a
/// notification; `id`, `result` for a response; `id`, `error` for an error
/// response. Absent params are omitted.
///
/// Parsing goes through [`Message::parse`] or [`parse`](crate::parse()), which
/// enforce the strict rules described in the [`parse`](mod@crate::parse) module.
/// There is deliberately no `Deserialize` impl, so no code path can read a
/// message with looser rules.
///
/// # Examples
///
/// ```
/// use mcpwire_jsonrpc::{Message, Notification};
///
/// let message = Message::from(Notification::new("notifications/initialized", None));
/// let text = message.to_string();
/// assert_eq!(text, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
/// assert_eq!(Message::parse(text.as_bytes()).unwrap(), message);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A call expecting a reply.
    Request(Request),
    /// A one-way message.
    Notification(Notification),
    /// A successful reply.
    Response(Response),
    /// A failed reply.
    Error(ErrorResponse),
}

impl Message {
    /// Returns the id of a request, response or error response.
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            Message::Request(request) => Some(&request.id),
            Message::Notification(_) => None,
            Message::Response(response) => Some(&response.id),
            Message::Error(error) => error.id.as_ref(),
        }
    }

    /// Returns the method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request(request) => Some(&request.method),
            Message::Notification(notification) => Some(&notification.method),
            Message::Response(_) | Message::Error(_) => None,
        }
    }

    /// Serializes the message as compact JSON.
    pub fn to_vec(&self) -> Vec<u8> {
        serde_json::to_vec(self)
            .expect("a message holds only strings, integers and raw JSON, which always serialize")
    }
}

/// Writes the message as compact JSON, the same text as [`Message::to_vec`].
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl From<Request> for Message {
    fn from(request: Request) -> Self {
        Message::Request(request)
    }
}

impl From<Notification> for Message {
    fn from(notification: Notification) -> Self {
        Message::Notification(notification)
    }
}

impl From<Response> for Message {
    fn from(response: Response) -> Self {
        Message::Response(response)
    }
}

impl From<ErrorResponse> for Message {
    fn from(error: ErrorResponse) -> Self {
        Message::Error(error)
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Message::Request(request) => request.serialize(serializer),
            Message::Notification(notification) => notification.serialize(serializer),
            Message::Response(response) => response.serialize(serializer),
            Message::Error(error) => error.serialize(serializer),
        }
    }
}

/// Writes the complete message, `jsonrpc` member included.
impl Serialize for Request {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let field_count = 3 + usize::from(self.params.is_some());
        let mut object = serializer.serialize_struct("Request", field_count)?;
        object.serialize_field("jsonrpc", JSONRPC_VERSION)?;
        object.serialize_field("id", &self.id)?;
        object.serialize_field("method", &self.method)?;
        if let Some(params) = &self.params {
            object.serialize_field("params", params)?;
        }
        object.end()
    }
}

/// Writes the complete message, `jsonrpc` member included.
impl Serialize for Notification {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let field_count = 2 + usize::from(self.params.is_some());
        let mut object = serializer.serialize_struct("Notification", field_count)?;
        object.serialize_field("jsonrpc", JSONRPC_VERSION)?;
        object.serialize_field("method", &self.method)?;
        if let Some(params) = &self.params {
            object.serialize_field("params", params)?;
        }
        object.end()
    }
}

/// Writes the complete message, `jsonrpc` member included.
impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_struct("Response", 3)?;
        object.serialize_field("jsonrpc", JSONRPC_VERSION)?;
        object.serialize_field("id", &self.id)?;
        object.serialize_field("result", &self.result)?;
        object.end()
    }
}

/// Writes the complete message, `jsonrpc` member included, with `"id": null`
/// when the id is unknown.
impl Serialize for ErrorResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_struct("ErrorResponse", 3)?;
        object.serialize_field("jsonrpc", JSONRPC_VERSION)?;
        object.serialize_field("id", &self.id)?;
        object.serialize_field("error", &self.error)?;
        object.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn request_member_order() {
        let request = Request::new(1, "tools/call", Some(raw(r#"{"name":"x"}"#)));
        assert_eq!(
            Message::from(request).to_string(),
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}"#
        );
    }

    #[test]
    fn request_without_params_omits_them() {
        let request = Request::new("a", "ping", None);
        assert_eq!(
            Message::from(request).to_string(),
            r#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#
        );
    }

    #[test]
    fn notification_member_order() {
        let notification = Notification::new("notifications/progress", Some(raw(r#"{"p":1}"#)));
        assert_eq!(
            Message::from(notification).to_string(),
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"p":1}}"#
        );
    }

    #[test]
    fn response_member_order() {
        let response = Response::from_result(7, &serde_json::json!({"ok": true})).unwrap();
        assert_eq!(
            String::from_utf8(Message::from(response).to_vec()).unwrap(),
            r#"{"jsonrpc":"2.0","id":7,"result":{"ok":true}}"#
        );
    }

    #[test]
    fn error_response_with_unknown_id_writes_null() {
        let error = ErrorResponse::new(None, ErrorObject::parse_error());
        assert_eq!(
            Message::from(error).to_string(),
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}"#
        );
    }

    #[test]
    fn error_response_with_id() {
        let error = ErrorResponse::new(
            Some(RequestId::from(3)),
            ErrorObject::new(ErrorCode(-32001), "busy"),
        );
        assert_eq!(
            Message::from(error).to_string(),
            r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32001,"message":"busy"}}"#
        );
    }

    #[test]
    fn accessors() {
        let request = Message::from(Request::new(1, "a", None));
        assert_eq!(request.id(), Some(&RequestId::from(1)));
        assert_eq!(request.method(), Some("a"));
        let notification = Message::from(Notification::new("b", None));
        assert_eq!(notification.id(), None);
        assert_eq!(notification.method(), Some("b"));
        let response = Message::from(Response::new(2, raw("null")));
        assert_eq!(response.id(), Some(&RequestId::from(2)));
        assert_eq!(response.method(), None);
        let error = Message::from(ErrorResponse::new(None, ErrorObject::parse_error()));
        assert_eq!(error.id(), None);
        assert_eq!(error.method(), None);
    }

    #[test]
    fn equality_compares_raw_text() {
        let first = Request::new(1, "a", Some(raw(r#"{"x":1}"#)));
        let same = Request::new(1, "a", Some(raw(r#"{"x":1}"#)));
        let spaced = Request::new(1, "a", Some(raw(r#"{"x": 1}"#)));
        assert_eq!(first, same);
        // Raw params are compared as text; two spellings of one value differ.
        assert_ne!(first, spaced);
        assert_ne!(first, Request::new(1, "a", None));
    }
}
