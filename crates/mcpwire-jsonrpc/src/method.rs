//! Typed methods: marker types that tie a method name to its params and
//! result types.
//!
//! Each MCP method is a marker type implementing [`RequestMethod`] or
//! [`NotificationMethod`]. Code that sends or handles a method names the
//! marker, and the compiler checks that the params and result types fit.
//!
//! # Examples
//!
//! ```
//! use mcpwire_jsonrpc::{Request, RequestMethod, decode_params};
//! use serde::{Deserialize, Serialize};
//!
//! /// The `ping` request.
//! enum Ping {}
//!
//! impl RequestMethod for Ping {
//!     const METHOD: &'static str = "ping";
//!     type Params = Option<PingParams>;
//!     type Result = PingResult;
//! }
//!
//! #[derive(Serialize, Deserialize)]
//! struct PingParams {}
//!
//! #[derive(Serialize, Deserialize)]
//! struct PingResult {}
//!
//! let request = Request::typed::<Ping>(1, &None).unwrap();
//! assert_eq!(request.method, "ping");
//! assert!(request.params.is_none());
//!
//! // The handler side: absent params decode as `None`.
//! let params: Option<PingParams> = decode_params(request.params.as_deref()).unwrap();
//! assert!(params.is_none());
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::ErrorObject;
use crate::id::RequestId;
use crate::keys::check_no_duplicate_keys;
use crate::message::{Notification, RawParams, Request, Response};

/// A request method: its name and the types of its params and result.
pub trait RequestMethod {
    /// The method name on the wire, such as `"tools/call"`.
    const METHOD: &'static str;
    /// The params. Use an `Option` when the params may be omitted.
    type Params: Serialize + DeserializeOwned + Send + 'static;
    /// The result of a successful call.
    type Result: Serialize + DeserializeOwned + Send + 'static;
}

/// A notification method: its name and the type of its params.
pub trait NotificationMethod {
    /// The method name on the wire, such as `"notifications/progress"`.
    const METHOD: &'static str;
    /// The params. Use an `Option` when the params may be omitted.
    type Params: Serialize + DeserializeOwned + Send + 'static;
}

/// Decodes raw params into `P`.
///
/// Absent params decode as JSON `null`, so `Option<T>` params accept absence
/// and params that are required fail. Before decoding, the params are checked
/// for repeated keys at every depth: serde_json keeps the last of two equal
/// keys in maps and `Value`s, which would let two readers of one message see
/// different arguments.
///
/// # Errors
///
/// Returns a `-32602` invalid params [`ErrorObject`] whose message says what
/// did not fit, for params with repeated keys, nesting beyond serde_json's
/// recursion limit, numbers beyond the `f64` range, or values that do not
/// match `P`.
pub fn decode_params<P: DeserializeOwned>(params: Option<&RawValue>) -> Result<P, ErrorObject> {
    let invalid =
        |error: serde_json::Error| ErrorObject::invalid_params(format!("invalid params: {error}"));
    let Some(params) = params else {
        return serde_json::from_str("null").map_err(invalid);
    };
    check_no_duplicate_keys(params).map_err(invalid)?;
    serde_json::from_str(params.get()).map_err(invalid)
}

/// Encodes params for sending.
///
/// A value that serializes to `null`, such as `None` or `()`, becomes `None`
/// so the `params` member is omitted.
///
/// # Errors
///
/// Returns serde_json's error when `params` cannot be serialized, or when it
/// serializes to something other than an object or `null`: MCP params are
/// always objects, and this crate's parser refuses anything else.
pub fn encode_params<P: Serialize + ?Sized>(
    params: &P,
) -> Result<Option<RawParams>, serde_json::Error> {
    let raw = serde_json::value::to_raw_value(params)?;
    match raw.get() {
        "null" => Ok(None),
        text if text.starts_with('{') => Ok(Some(raw)),
        _ => Err(serde::ser::Error::custom(
            "params must serialize to a json object or null",
        )),
    }
}

impl Request {
    /// Creates a request for method `M`.
    ///
    /// # Errors
    ///
    /// Returns the error of [`encode_params`].
    pub fn typed<M: RequestMethod>(
        id: impl Into<RequestId>,
        params: &M::Params,
    ) -> Result<Self, serde_json::Error> {
        Ok(Request::new(id, M::METHOD, encode_params(params)?))
    }
}

impl Notification {
    /// Creates a notification for method `M`.
    ///
    /// # Errors
    ///
    /// Returns the error of [`encode_params`].
    pub fn typed<M: NotificationMethod>(params: &M::Params) -> Result<Self, serde_json::Error> {
        Ok(Notification::new(M::METHOD, encode_params(params)?))
    }
}

impl Response {
    /// Creates the response to a request for method `M`.
    ///
    /// # Errors
    ///
    /// Returns serde_json's error when `result` cannot be serialized.
    pub fn typed<M: RequestMethod>(
        id: impl Into<RequestId>,
        result: &M::Result,
    ) -> Result<Self, serde_json::Error> {
        Response::from_result(id, result)
    }

    /// Decodes the result into `R`, after checking it for repeated keys at
    /// every depth, as [`decode_params`] does for params.
    ///
    /// # Errors
    ///
    /// Returns serde_json's error for a result with repeated keys, nesting
    /// beyond serde_json's recursion limit, numbers beyond the `f64` range, or
    /// a value that does not match `R`.
    pub fn decode_result<R: DeserializeOwned>(&self) -> Result<R, serde_json::Error> {
        check_no_duplicate_keys(&self.result)?;
        serde_json::from_str(self.result.get())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::error::ErrorCode;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct CallParams {
        name: String,
        #[serde(default)]
        arguments: Option<serde_json::Map<String, serde_json::Value>>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct CallResult {
        text: String,
    }

    enum CallTool {}

    impl RequestMethod for CallTool {
        const METHOD: &'static str = "tools/call";
        type Params = CallParams;
        type Result = CallResult;
    }

    enum Initialized {}

    impl NotificationMethod for Initialized {
        const METHOD: &'static str = "notifications/initialized";
        type Params = Option<serde_json::Map<String, serde_json::Value>>;
    }

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn typed_request_carries_method_and_params() {
        let params = CallParams {
            name: "echo".to_owned(),
            arguments: None,
        };
        let request = Request::typed::<CallTool>(5, &params).unwrap();
        assert_eq!(request.id, RequestId::Number(5));
        assert_eq!(request.method, "tools/call");
        assert_eq!(
            request.params.as_deref().map(RawValue::get),
            Some(r#"{"name":"echo","arguments":null}"#)
        );
        let decoded: CallParams = decode_params(request.params.as_deref()).unwrap();
        assert_eq!(decoded, params);
    }

    #[test]
    fn typed_notification_omits_null_params() {
        let notification = Notification::typed::<Initialized>(&None).unwrap();
        assert_eq!(notification.method, "notifications/initialized");
        assert!(notification.params.is_none());
    }

    #[test]
    fn typed_response_round_trips_result() {
        let result = CallResult {
            text: "hi".to_owned(),
        };
        let response = Response::typed::<CallTool>("r", &result).unwrap();
        assert_eq!(response.result.get(), r#"{"text":"hi"}"#);
        assert_eq!(response.decode_result::<CallResult>().unwrap(), result);
    }

    #[test]
    fn absent_params_decode_as_null() {
        let optional: Option<CallParams> = decode_params(None).unwrap();
        assert_eq!(optional, None);
        decode_params::<()>(None).unwrap();
        let required = decode_params::<CallParams>(None).unwrap_err();
        assert_eq!(required.code, ErrorCode::INVALID_PARAMS);
        assert!(
            required.message.starts_with("invalid params: "),
            "{}",
            required.message
        );
    }

    #[test]
    fn mismatched_params_are_invalid_params() {
        let error = decode_params::<CallParams>(Some(&raw(r#"{"nam":"x"}"#))).unwrap_err();
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
        assert!(
            error.message.contains("missing field `name`"),
            "{}",
            error.message
        );
    }

    #[test]
    fn repeated_keys_in_params_are_invalid_params() {
        let params = raw(r#"{"name":"a","arguments":{"path":"/ok","path":"/etc/passwd"}}"#);
        let error = decode_params::<CallParams>(Some(&params)).unwrap_err();
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
        assert!(
            error.message.contains("duplicate key `path`"),
            "{}",
            error.message
        );
    }

    #[test]
    fn numbers_beyond_f64_range_are_invalid_params() {
        let error = decode_params::<serde_json::Value>(Some(&raw(r#"{"a":1e400}"#))).unwrap_err();
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
        assert!(
            error.message.contains("number out of range"),
            "{}",
            error.message
        );
    }

    #[test]
    fn repeated_keys_in_results_are_refused() {
        let response = Response::new(1, raw(r#"{"text":"a","text":"b"}"#));
        let error = response.decode_result::<CallResult>().unwrap_err();
        assert!(
            error.to_string().contains("duplicate key `text`"),
            "{error}"
        );
    }

    #[test]
    fn encode_params_accepts_objects_and_null_only() {
        assert!(encode_params(&()).unwrap().is_none());
        assert!(encode_params(&None::<CallParams>).unwrap().is_none());
        let object = encode_params(&serde_json::json!({"a": 1}))
            .unwrap()
            .unwrap();
        assert_eq!(object.get(), r#"{"a":1}"#);
        assert!(encode_params(&[1, 2]).is_err());
        assert!(encode_params("text").is_err());
        assert!(encode_params(&3).is_err());
    }
}
