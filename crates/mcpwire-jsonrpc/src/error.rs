//! Error codes and the error object of an error response.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde_json::value::RawValue;

use crate::keys::{Key, SeenKeys, describe_duplicate};
use crate::shorten::shorten;

/// Longest method name, in bytes, that [`ErrorObject::method_not_found`]
/// quotes. Error responses should stay small even when the request was not.
const QUOTED_METHOD_LIMIT: usize = 256;

/// The `code` of a JSON-RPC error object.
///
/// It serializes as a bare integer. Deserializing accepts only integers within
/// the [`i32`] range; fractions and exponents are refused.
///
/// The named constants cover JSON-RPC 2.0 and the codes MCP defines. Each
/// constant says which MCP revisions use it; the revisions are `2024-11-05`,
/// `2025-03-26`, `2025-06-18`, `2025-11-25` and `2026-07-28`.
///
/// # Examples
///
/// ```
/// use mcpwire_jsonrpc::ErrorCode;
///
/// assert_eq!(ErrorCode::METHOD_NOT_FOUND.0, -32601);
/// assert_eq!(ErrorCode::METHOD_NOT_FOUND.name(), Some("method not found"));
/// assert!(ErrorCode(-32005).is_implementation_defined());
/// ```
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// `-32700`: the text is not valid JSON. Defined by JSON-RPC 2.0 and used
    /// by every MCP revision.
    pub const PARSE_ERROR: ErrorCode = ErrorCode(-32700);
    /// `-32600`: the JSON is not a valid JSON-RPC message. Defined by JSON-RPC
    /// 2.0 and used by every MCP revision.
    pub const INVALID_REQUEST: ErrorCode = ErrorCode(-32600);
    /// `-32601`: the method does not exist or is not available. Defined by
    /// JSON-RPC 2.0 and used by every MCP revision.
    pub const METHOD_NOT_FOUND: ErrorCode = ErrorCode(-32601);
    /// `-32602`: the params are invalid. Defined by JSON-RPC 2.0 and used by
    /// every MCP revision. From `2026-07-28` on it also reports an unknown
    /// resource, which earlier revisions reported with
    /// [`RESOURCE_NOT_FOUND`](Self::RESOURCE_NOT_FOUND).
    pub const INVALID_PARAMS: ErrorCode = ErrorCode(-32602);
    /// `-32603`: an internal error. Defined by JSON-RPC 2.0 and used by every
    /// MCP revision.
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(-32603);
    /// `-32002`: the requested resource does not exist. Used by MCP
    /// `2024-11-05` through `2025-11-25`. `2026-07-28` reports a missing
    /// resource with [`INVALID_PARAMS`](Self::INVALID_PARAMS) and forbids
    /// sending this code, but clients should still accept it from older
    /// servers.
    pub const RESOURCE_NOT_FOUND: ErrorCode = ErrorCode(-32002);
    /// `-32042`: the request needs a URL-mode elicitation first. Used by MCP
    /// `2025-11-25` only; `2026-07-28` removes it and forbids sending it.
    pub const URL_ELICITATION_REQUIRED: ErrorCode = ErrorCode(-32042);
    /// `-32020`: HTTP headers of a request disagree with its body. New in MCP
    /// `2026-07-28`.
    pub const HEADER_MISMATCH: ErrorCode = ErrorCode(-32020);
    /// `-32021`: the request needs a client capability the client did not
    /// declare. New in MCP `2026-07-28`.
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: ErrorCode = ErrorCode(-32021);
    /// `-32022`: the server does not support the protocol version of the
    /// request. New in MCP `2026-07-28`.
    pub const UNSUPPORTED_PROTOCOL_VERSION: ErrorCode = ErrorCode(-32022);

    /// Returns whether the code lies in `-32000..=-32019`, the part of the
    /// JSON-RPC server-error range that MCP leaves to implementations.
    ///
    /// `2026-07-28` calls this sub-range legacy: codes already in use there
    /// stay valid, and receivers must not read meaning into them (apart from
    /// [`RESOURCE_NOT_FOUND`](Self::RESOURCE_NOT_FOUND)).
    pub fn is_implementation_defined(self) -> bool {
        (-32019..=-32000).contains(&self.0)
    }

    /// Returns whether the code lies in `-32768..=-32000`, the range JSON-RPC
    /// 2.0 reserves for predefined and server errors.
    pub fn is_reserved(self) -> bool {
        (-32768..=-32000).contains(&self.0)
    }

    /// Returns a short lowercase name for a code with a named constant, such
    /// as `"invalid params"`, and `None` for any other code.
    pub fn name(self) -> Option<&'static str> {
        let name = match self {
            ErrorCode::PARSE_ERROR => "parse error",
            ErrorCode::INVALID_REQUEST => "invalid request",
            ErrorCode::METHOD_NOT_FOUND => "method not found",
            ErrorCode::INVALID_PARAMS => "invalid params",
            ErrorCode::INTERNAL_ERROR => "internal error",
            ErrorCode::RESOURCE_NOT_FOUND => "resource not found",
            ErrorCode::URL_ELICITATION_REQUIRED => "url elicitation required",
            ErrorCode::HEADER_MISMATCH => "header mismatch",
            ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY => "missing required client capability",
            ErrorCode::UNSUPPORTED_PROTOCOL_VERSION => "unsupported protocol version",
            _ => return None,
        };
        Some(name)
    }
}

/// Formats the number, followed by the name in parentheses when the code has
/// one: `-32601 (method not found)`.
impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

impl From<i32> for ErrorCode {
    fn from(code: i32) -> Self {
        ErrorCode(code)
    }
}

/// The `error` member of a JSON-RPC error response.
///
/// `data` stays raw JSON until someone needs it, so any value the peer sent
/// survives unchanged. Two error objects are equal when their codes, messages
/// and the text of their data are equal.
///
/// Deserializing is strict: the value must be an object with an integer
/// `code` within [`i32`] and a string `message`; `data` is optional and may be
/// any JSON value; repeated keys are refused; other keys are ignored.
///
/// # Examples
///
/// ```
/// use mcpwire_jsonrpc::{ErrorCode, ErrorObject};
///
/// let error = ErrorObject::invalid_params("missing field `name`")
///     .with_data(serde_json::json!({"field": "name"}))
///     .unwrap();
/// assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
/// assert_eq!(
///     serde_json::to_string(&error).unwrap(),
///     r#"{"code":-32602,"message":"missing field `name`","data":{"field":"name"}}"#
/// );
/// ```
#[derive(Clone, Debug)]
pub struct ErrorObject {
    /// What kind of error happened.
    pub code: ErrorCode,
    /// A short description, ideally one sentence.
    pub message: String,
    /// Extra information defined by the sender; omitted on the wire when
    /// `None`.
    pub data: Option<Box<RawValue>>,
}

impl ErrorObject {
    /// Creates an error object without data.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Sets `data` to the JSON form of `data`.
    ///
    /// # Errors
    ///
    /// Returns serde_json's error when `data` cannot be serialized, for
    /// example a map with non-string keys.
    pub fn with_data(mut self, data: impl serde::Serialize) -> Result<Self, serde_json::Error> {
        self.data = Some(serde_json::value::to_raw_value(&data)?);
        Ok(self)
    }

    /// A `-32700` error for text that is not JSON.
    pub fn parse_error() -> Self {
        ErrorObject::new(ErrorCode::PARSE_ERROR, "parse error")
    }

    /// A `-32600` error for JSON that is not a valid request.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        ErrorObject::new(ErrorCode::INVALID_REQUEST, message)
    }

    /// A `-32601` error naming the unknown method. Very long names are cut
    /// short in the message.
    pub fn method_not_found(method: &str) -> Self {
        ErrorObject::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("method not found: {}", shorten(method, QUOTED_METHOD_LIMIT)),
        )
    }

    /// A `-32602` error for params that do not fit the method.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        ErrorObject::new(ErrorCode::INVALID_PARAMS, message)
    }

    /// A `-32603` error. Keep internals such as paths and backtraces out of
    /// `message`: it is sent to the peer.
    pub fn internal_error(message: impl Into<String>) -> Self {
        ErrorObject::new(ErrorCode::INTERNAL_ERROR, message)
    }
}

impl PartialEq for ErrorObject {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
            && self.message == other.message
            && raw_text(&self.data) == raw_text(&other.data)
    }
}

impl Eq for ErrorObject {}

/// The text of an optional raw value, so raw values can be compared.
pub(crate) fn raw_text(raw: &Option<Box<RawValue>>) -> Option<&str> {
    raw.as_deref().map(RawValue::get)
}

/// Formats as `json-rpc error <code>: <message>`.
impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "json-rpc error {}: {}", self.code, self.message)
    }
}

impl std::error::Error for ErrorObject {}

impl serde::Serialize for ErrorObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let field_count = if self.data.is_some() { 3 } else { 2 };
        let mut object = serializer.serialize_struct("ErrorObject", field_count)?;
        object.serialize_field("code", &self.code)?;
        object.serialize_field("message", &self.message)?;
        if let Some(data) = &self.data {
            object.serialize_field("data", data)?;
        }
        object.end()
    }
}

impl<'de> Deserialize<'de> for ErrorObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ErrorObjectVisitor)
    }
}

/// Reads maps only, so an array can never fill the fields by position.
struct ErrorObjectVisitor;

impl<'de> Visitor<'de> for ErrorObjectVisitor {
    type Value = ErrorObject;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an error object with an integer `code` and a string `message`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorObject, A::Error> {
        let mut seen = SeenKeys::default();
        let mut code = None;
        let mut message = None;
        let mut data = None;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(describe_duplicate(&key)));
            }
            match key.as_ref() {
                "code" => code = Some(map.next_value::<ErrorCode>()?),
                "message" => message = Some(map.next_value::<String>()?),
                "data" => data = Some(map.next_value::<Box<RawValue>>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(ErrorObject {
            code: code.ok_or_else(|| de::Error::missing_field("code"))?,
            message: message.ok_or_else(|| de::Error::missing_field("message"))?,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_have_spec_values() {
        let expected = [
            (ErrorCode::PARSE_ERROR, -32700),
            (ErrorCode::INVALID_REQUEST, -32600),
            (ErrorCode::METHOD_NOT_FOUND, -32601),
            (ErrorCode::INVALID_PARAMS, -32602),
            (ErrorCode::INTERNAL_ERROR, -32603),
            (ErrorCode::RESOURCE_NOT_FOUND, -32002),
            (ErrorCode::URL_ELICITATION_REQUIRED, -32042),
            (ErrorCode::HEADER_MISMATCH, -32020),
            (ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY, -32021),
            (ErrorCode::UNSUPPORTED_PROTOCOL_VERSION, -32022),
        ];
        for (code, value) in expected {
            assert_eq!(code.0, value);
            assert!(code.name().is_some(), "{value} has no name");
        }
        assert_eq!(ErrorCode(1).name(), None);
    }

    #[test]
    fn implementation_defined_range() {
        assert!(ErrorCode(-32000).is_implementation_defined());
        assert!(ErrorCode(-32019).is_implementation_defined());
        assert!(!ErrorCode(-32020).is_implementation_defined());
        assert!(!ErrorCode(-31999).is_implementation_defined());
        assert!(ErrorCode::HEADER_MISMATCH.is_reserved());
        assert!(!ErrorCode(-31999).is_reserved());
        assert!(!ErrorCode(-32769).is_reserved());
    }

    #[test]
    fn code_display() {
        assert_eq!(ErrorCode::PARSE_ERROR.to_string(), "-32700 (parse error)");
        assert_eq!(ErrorCode(-32001).to_string(), "-32001");
    }

    #[test]
    fn code_is_a_bare_integer() {
        assert_eq!(serde_json::to_string(&ErrorCode(-32601)).unwrap(), "-32601");
        assert_eq!(
            serde_json::from_str::<ErrorCode>("-32601").unwrap(),
            ErrorCode::METHOD_NOT_FOUND
        );
        for text in ["-32601.0", "1e3", "2147483648", "\"-32601\"", "null"] {
            assert!(serde_json::from_str::<ErrorCode>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn object_omits_missing_data() {
        let error = ErrorObject::parse_error();
        assert_eq!(
            serde_json::to_string(&error).unwrap(),
            r#"{"code":-32700,"message":"parse error"}"#
        );
    }

    #[test]
    fn shorthands_use_their_codes() {
        assert_eq!(
            ErrorObject::invalid_request("x").code,
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            ErrorObject::invalid_params("x").code,
            ErrorCode::INVALID_PARAMS
        );
        assert_eq!(
            ErrorObject::internal_error("x").code,
            ErrorCode::INTERNAL_ERROR
        );
        let not_found = ErrorObject::method_not_found("tools/nope");
        assert_eq!(not_found.code, ErrorCode::METHOD_NOT_FOUND);
        assert_eq!(not_found.message, "method not found: tools/nope");
    }

    #[test]
    fn long_method_names_are_cut_on_a_char_boundary() {
        let method = "é".repeat(1000);
        let error = ErrorObject::method_not_found(&method);
        assert!(error.message.len() < 300);
        assert!(error.message.ends_with('…'));
    }

    #[test]
    fn object_display_is_lowercase() {
        let error = ErrorObject::method_not_found("x");
        assert_eq!(
            error.to_string(),
            "json-rpc error -32601 (method not found): method not found: x"
        );
    }

    #[test]
    fn object_parses_strictly() {
        let ok: ErrorObject =
            serde_json::from_str(r#"{"message":"m","code":-1,"data":[1, 2],"other":0}"#).unwrap();
        assert_eq!(ok.code, ErrorCode(-1));
        assert_eq!(ok.message, "m");
        assert_eq!(raw_text(&ok.data), Some("[1, 2]"));

        let rejected = [
            r#"{"code":-1}"#,
            r#"{"message":"m"}"#,
            r#"{"code":-1.0,"message":"m"}"#,
            r#"{"code":"-1","message":"m"}"#,
            r#"{"code":-1,"message":null}"#,
            r#"{"code":-1,"message":"m","code":-2}"#,
            r#"{"code":-1,"message":"m","x":1,"x":2}"#,
            r#"[-1,"m"]"#,
            "null",
        ];
        for text in rejected {
            assert!(serde_json::from_str::<ErrorObject>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn equality_compares_data_text() {
        let with_data = ErrorObject::internal_error("x").with_data(1).unwrap();
        assert_eq!(with_data, with_data.clone());
        assert_ne!(with_data, ErrorObject::internal_error("x"));
    }
}
