//! The per-request `_meta` of the modern era (2026-07-28), and the errors that come with it.
//!
//! From 2026-07-28 on there is no `initialize`: every client request carries its protocol
//! version, the client's capabilities and, usually, the client's identity in `params._meta`
//! under keys of the `io.modelcontextprotocol/` prefix. This module names those keys, tells a
//! modern request from a legacy one by looking at its raw params ([`probe`]), decodes and
//! checks the keys ([`RequestMeta`], whose failures are [`MetaError`]s answered with `-32602`),
//! and builds the error objects the revision defines for them, with the exact `data` shapes of
//! the schema: [`header_mismatch`] (`-32020`), [`missing_required_client_capability`]
//! (`-32021`), [`unsupported_protocol_version`] (`-32022`) and [`resource_not_found`]
//! (`-32602` with `data.uri`).
//!
//! Nothing here does IO or depends on a revision module, so both roles and every transport
//! (a `Peer` over stdio or the stateless HTTP lane) classify requests with the same code.
//!
//! ```
//! use mcpwire_schema::meta::{self, RequestMeta};
//! use serde_json::value::RawValue;
//!
//! let params = RawValue::from_string(r#"{"_meta":{
//!     "io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!     "io.modelcontextprotocol/clientCapabilities":{"sampling":{}}}}"#.to_owned()).unwrap();
//! let probe = meta::probe(Some(&params));
//! assert!(probe.is_modern());
//! let request_meta = RequestMeta::from_probe(probe).unwrap().unwrap();
//! assert_eq!(request_meta.protocol_version, "2026-07-28");
//! assert!(request_meta.client_capabilities.contains_key("sampling"));
//! ```

use std::fmt;

use mcpwire_jsonrpc::{ErrorCode, ErrorObject, RequestId};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::{JsonObject, ProtocolVersion};

/// The prefix of the keys MCP reserves in `_meta`.
pub const PREFIX: &str = "io.modelcontextprotocol/";

/// `_meta` key of a request: the protocol revision the request is written for (required).
pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";

/// `_meta` key of a request: the capabilities the client declares for this request
/// (required; `{}` declares none).
pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";

/// `_meta` key of a request: the client's name and version (optional; clients should send it).
pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";

/// `_meta` key of a request: the lowest level of the log messages the client wants for this
/// request (optional; without it the server sends none).
pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// `_meta` key of a result: the server's name and version.
pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// `_meta` key of every message on a `subscriptions/listen` stream: the id of the listen
/// request.
pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// `_meta` key of a request: the token its progress notifications carry (optional, as in the
/// legacy era).
pub const PROGRESS_TOKEN: &str = "progressToken";

/// The keys whose presence in `params._meta` makes a request modern.
pub const PER_REQUEST_KEYS: [&str; 4] = [
    PROTOCOL_VERSION,
    CLIENT_CAPABILITIES,
    CLIENT_INFO,
    LOG_LEVEL,
];

/// What [`probe`] found in a request's params.
#[derive(Clone, Debug, PartialEq)]
pub enum MetaProbe {
    /// No per-request key: a legacy request (or params that are not an object at all).
    Absent,
    /// `params._meta` carries at least one per-request key: a modern request. Holds the whole
    /// `_meta` object as received, for [`RequestMeta::from_meta`].
    Modern(JsonObject),
}

impl MetaProbe {
    /// Whether the request is modern.
    pub fn is_modern(&self) -> bool {
        matches!(self, MetaProbe::Modern(_))
    }
}

/// Reads only `_meta` of any params.
#[derive(serde::Deserialize)]
struct MetaOnly {
    #[serde(rename = "_meta", default)]
    meta: Option<Value>,
}

/// Whether raw JSON text is an object (the parser already checked it is JSON).
fn is_object(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Tells a modern request from a legacy one by its raw params: modern when `params._meta` is
/// an object holding any of the [`PER_REQUEST_KEYS`].
///
/// Cheap for legacy traffic: the params are parsed only when their text contains the key
/// prefix or a `\u` escape (which could spell it), and then only `_meta` is kept.
pub fn probe(params: Option<&RawValue>) -> MetaProbe {
    let Some(params) = params else {
        return MetaProbe::Absent;
    };
    let text = params.get();
    if !is_object(text) || (!text.contains(PREFIX) && !text.contains("\\u")) {
        return MetaProbe::Absent;
    }
    match serde_json::from_str::<MetaOnly>(text) {
        Ok(MetaOnly {
            meta: Some(Value::Object(meta)),
        }) if PER_REQUEST_KEYS.iter().any(|key| meta.contains_key(*key)) => MetaProbe::Modern(meta),
        _ => MetaProbe::Absent,
    }
}

/// A log level of the (deprecated) logging feature, ordered by severity (RFC 5424): `Debug` is
/// the lowest, `Emergency` the highest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogLevel {
    /// `debug`.
    Debug,
    /// `info`.
    Info,
    /// `notice`.
    Notice,
    /// `warning`.
    Warning,
    /// `error`.
    Error,
    /// `critical`.
    Critical,
    /// `alert`.
    Alert,
    /// `emergency`.
    Emergency,
}

impl LogLevel {
    /// Every level, lowest first.
    pub const ALL: [LogLevel; 8] = [
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Notice,
        LogLevel::Warning,
        LogLevel::Error,
        LogLevel::Critical,
        LogLevel::Alert,
        LogLevel::Emergency,
    ];

    /// The wire form, such as `"warning"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
            LogLevel::Critical => "critical",
            LogLevel::Alert => "alert",
            LogLevel::Emergency => "emergency",
        }
    }

    /// Looks up a level by its wire form.
    pub fn from_wire(text: &str) -> Option<LogLevel> {
        LogLevel::ALL
            .into_iter()
            .find(|level| level.as_str() == text)
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The per-request `_meta` of a modern request, checked: the required keys are present and
/// every key MCP defines has the right type.
///
/// Capabilities and client info stay JSON objects: each role decodes them with the types of
/// the revision it serves, and unknown members survive.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RequestMeta {
    /// `io.modelcontextprotocol/protocolVersion`, as sent (it may name no known revision).
    pub protocol_version: String,
    /// `io.modelcontextprotocol/clientCapabilities`.
    pub client_capabilities: JsonObject,
    /// `io.modelcontextprotocol/clientInfo`, when sent.
    pub client_info: Option<JsonObject>,
    /// `io.modelcontextprotocol/logLevel`, when sent.
    pub log_level: Option<LogLevel>,
    /// `progressToken`, when sent.
    pub progress_token: Option<RequestId>,
    /// Every other member of `_meta` (trace context, extension keys...), as received.
    pub other: JsonObject,
}

impl RequestMeta {
    /// The `_meta` of a request for `protocol_version` declaring `client_capabilities`, with
    /// no other key; add the optional ones through the public fields.
    pub fn new(protocol_version: impl Into<String>, client_capabilities: JsonObject) -> Self {
        RequestMeta {
            protocol_version: protocol_version.into(),
            client_capabilities,
            client_info: None,
            log_level: None,
            progress_token: None,
            other: JsonObject::new(),
        }
    }

    /// Decodes the `_meta` of a request's raw params.
    ///
    /// # Errors
    ///
    /// [`MetaError`] when the params are not an object, have no `_meta` object, or a key is
    /// missing or malformed.
    pub fn from_params(params: Option<&RawValue>) -> Result<Self, MetaError> {
        let Some(params) = params.filter(|params| is_object(params.get())) else {
            return Err(MetaError::MissingParams);
        };
        match serde_json::from_str::<MetaOnly>(params.get()) {
            Ok(MetaOnly {
                meta: Some(Value::Object(meta)),
            }) => RequestMeta::from_meta(meta),
            Ok(_) => Err(MetaError::MissingMeta),
            Err(_) => Err(MetaError::MissingParams),
        }
    }

    /// Decodes what [`probe`] found: `Ok(None)` for a legacy request.
    ///
    /// # Errors
    ///
    /// As [`RequestMeta::from_meta`].
    pub fn from_probe(probe: MetaProbe) -> Result<Option<Self>, MetaError> {
        match probe {
            MetaProbe::Absent => Ok(None),
            MetaProbe::Modern(meta) => RequestMeta::from_meta(meta).map(Some),
        }
    }

    /// Decodes a `_meta` object.
    ///
    /// # Errors
    ///
    /// [`MetaError`] when a required key is missing or a key has the wrong type, or the log
    /// level is not one of the eight levels.
    pub fn from_meta(mut meta: JsonObject) -> Result<Self, MetaError> {
        let protocol_version = match meta.remove(PROTOCOL_VERSION) {
            Some(Value::String(version)) => version,
            _ => return Err(MetaError::MissingProtocolVersion),
        };
        let client_capabilities = match meta.remove(CLIENT_CAPABILITIES) {
            Some(Value::Object(capabilities)) => capabilities,
            _ => return Err(MetaError::MissingClientCapabilities),
        };
        let client_info = match meta.remove(CLIENT_INFO) {
            None => None,
            Some(Value::Object(info))
                if info.get("name").is_some_and(Value::is_string)
                    && info.get("version").is_some_and(Value::is_string) =>
            {
                Some(info)
            }
            Some(_) => return Err(MetaError::InvalidClientInfo),
        };
        let log_level = match meta.remove(LOG_LEVEL) {
            None => None,
            Some(Value::String(level)) => match LogLevel::from_wire(&level) {
                Some(level) => Some(level),
                None => return Err(MetaError::InvalidLogLevel(level)),
            },
            Some(other) => return Err(MetaError::InvalidLogLevel(other.to_string())),
        };
        let progress_token = match meta.remove(PROGRESS_TOKEN) {
            None => None,
            Some(token) => Some(
                serde_json::from_value::<RequestId>(token)
                    .map_err(|_| MetaError::InvalidProgressToken)?,
            ),
        };
        Ok(RequestMeta {
            protocol_version,
            client_capabilities,
            client_info,
            log_level,
            progress_token,
            other: meta,
        })
    }

    /// The revision the request names, when it is one this crate knows.
    pub fn version(&self) -> Option<ProtocolVersion> {
        ProtocolVersion::from_wire(&self.protocol_version)
    }

    /// Checks the named revision against `supported`, the modern revisions served.
    ///
    /// # Errors
    ///
    /// The `-32022` error of [`unsupported_protocol_version`] when the revision is not one of
    /// `supported`.
    pub fn check_version(
        &self,
        supported: &[ProtocolVersion],
    ) -> Result<ProtocolVersion, ErrorObject> {
        match self.version() {
            Some(version) if supported.contains(&version) => Ok(version),
            _ => Err(unsupported_protocol_version(
                &self.protocol_version,
                supported,
            )),
        }
    }

    /// The `_meta` object of this value, to put into a request's params.
    pub fn to_object(&self) -> JsonObject {
        let mut meta = self.other.clone();
        meta.insert(
            PROTOCOL_VERSION.to_owned(),
            Value::String(self.protocol_version.clone()),
        );
        meta.insert(
            CLIENT_CAPABILITIES.to_owned(),
            Value::Object(self.client_capabilities.clone()),
        );
        if let Some(info) = &self.client_info {
            meta.insert(CLIENT_INFO.to_owned(), Value::Object(info.clone()));
        }
        if let Some(level) = self.log_level {
            meta.insert(
                LOG_LEVEL.to_owned(),
                Value::String(level.as_str().to_owned()),
            );
        }
        if let Some(token) = &self.progress_token {
            let token = match token {
                RequestId::Number(number) => Value::from(*number),
                RequestId::String(text) => Value::String(text.clone()),
            };
            meta.insert(PROGRESS_TOKEN.to_owned(), token);
        }
        meta
    }
}

/// Why a modern request's `_meta` was refused. Every case is answered with `-32602` (Invalid
/// params), and on HTTP with status 400.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetaError {
    /// The request has no params, or they are not an object.
    MissingParams,
    /// `params._meta` is absent or not an object.
    MissingMeta,
    /// `io.modelcontextprotocol/protocolVersion` is absent or not a string.
    MissingProtocolVersion,
    /// `io.modelcontextprotocol/clientCapabilities` is absent or not an object.
    MissingClientCapabilities,
    /// `io.modelcontextprotocol/clientInfo` is not an object with a string `name` and
    /// `version`.
    InvalidClientInfo,
    /// `io.modelcontextprotocol/logLevel` is not one of the eight levels; holds what was sent.
    InvalidLogLevel(String),
    /// `progressToken` is neither a string nor an integer.
    InvalidProgressToken,
}

impl MetaError {
    /// The `-32602` error object to answer the request with.
    pub fn to_error_object(&self) -> ErrorObject {
        ErrorObject::invalid_params(self.to_string())
    }
}

impl fmt::Display for MetaError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetaError::MissingParams => {
                formatter.write_str("the request needs params with `_meta`")
            }
            MetaError::MissingMeta => formatter.write_str("the request needs `params._meta`"),
            MetaError::MissingProtocolVersion => {
                write!(formatter, "`_meta` needs the string `{PROTOCOL_VERSION}`")
            }
            MetaError::MissingClientCapabilities => {
                write!(
                    formatter,
                    "`_meta` needs the object `{CLIENT_CAPABILITIES}`"
                )
            }
            MetaError::InvalidClientInfo => write!(
                formatter,
                "`{CLIENT_INFO}` must be an object with a string `name` and `version`"
            ),
            MetaError::InvalidLogLevel(level) => {
                write!(formatter, "`{LOG_LEVEL}` is not a log level: {level}")
            }
            MetaError::InvalidProgressToken => {
                formatter.write_str("`progressToken` must be a string or an integer")
            }
        }
    }
}

impl std::error::Error for MetaError {}

/// `-32020` HeaderMismatch: an HTTP header of the request disagrees with its body, or a
/// required header is missing. No `data`.
pub fn header_mismatch(message: impl Into<String>) -> ErrorObject {
    ErrorObject::new(ErrorCode::HEADER_MISMATCH, message)
}

/// `-32021` MissingRequiredClientCapability: serving the request needs client capabilities
/// the request did not declare. `required` is a capabilities object keyed by capability, such
/// as `{"sampling": {}}` or `{"elicitation": {"url": {}}}`; it becomes
/// `data.requiredCapabilities`.
pub fn missing_required_client_capability(required: JsonObject) -> ErrorObject {
    let names: Vec<String> = required.keys().cloned().collect();
    let error = ErrorObject::new(
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
        format!(
            "the request needs client capabilities it did not declare: {}",
            names.join(", ")
        ),
    );
    let mut data = Map::new();
    data.insert("requiredCapabilities".to_owned(), Value::Object(required));
    error
        .clone()
        .with_data(Value::Object(data))
        .unwrap_or(error)
}

/// `-32022` UnsupportedProtocolVersion: the request names a revision the server does not
/// serve. `data` is `{"supported": [...], "requested": requested}`, `requested` echoing the
/// request's version exactly.
pub fn unsupported_protocol_version(requested: &str, supported: &[ProtocolVersion]) -> ErrorObject {
    let error = ErrorObject::new(
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
        format!("unsupported protocol version: {requested}"),
    );
    let supported: Vec<Value> = supported
        .iter()
        .map(|version| Value::String(version.as_str().to_owned()))
        .collect();
    let data = serde_json::json!({ "supported": supported, "requested": requested });
    error.clone().with_data(data).unwrap_or(error)
}

/// `-32602` for a resource that does not exist, as 2026-07-28 reports it: message
/// `"Resource not found"`, `data.uri` naming the resource. (Legacy revisions use `-32002`.)
pub fn resource_not_found(uri: &str) -> ErrorObject {
    let error = ErrorObject::new(ErrorCode::INVALID_PARAMS, "Resource not found");
    error
        .clone()
        .with_data(serde_json::json!({ "uri": uri }))
        .unwrap_or(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).expect("JSON")
    }

    #[test]
    fn legacy_params_are_absent_without_being_parsed_further() {
        for params in [
            r#"{"name":"add","arguments":{"a":1}}"#,
            r#"{"_meta":{"progressToken":1}}"#,
            r#"{"_meta":{"io.modelcontextprotocol/related-task":{"taskId":"t"}}}"#,
            r#"[1,2]"#,
            r#"{"_meta":"io.modelcontextprotocol/protocolVersion"}"#,
        ] {
            assert_eq!(probe(Some(&raw(params))), MetaProbe::Absent, "{params}");
        }
        assert_eq!(probe(None), MetaProbe::Absent);
    }

    #[test]
    fn any_per_request_key_makes_a_request_modern() {
        for key in PER_REQUEST_KEYS {
            let params = format!(r#"{{"_meta":{{"{key}":"x"}}}}"#);
            assert!(probe(Some(&raw(&params))).is_modern(), "{key}");
        }
        // A key spelled with escapes is still found.
        let escaped = r#"{"_meta":{"io.modelcontextprotocol\u002fprotocolVersion":"2026-07-28"}}"#;
        assert!(probe(Some(&raw(escaped))).is_modern());
    }

    #[test]
    fn required_keys_are_checked_in_order() {
        let decode = |text: &str| RequestMeta::from_params(Some(&raw(text)));
        assert_eq!(decode("{}"), Err(MetaError::MissingMeta));
        assert_eq!(
            RequestMeta::from_params(None),
            Err(MetaError::MissingParams)
        );
        assert_eq!(
            decode(r#"{"_meta":{"io.modelcontextprotocol/clientCapabilities":{}}}"#),
            Err(MetaError::MissingProtocolVersion)
        );
        assert_eq!(
            decode(r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"#),
            Err(MetaError::MissingClientCapabilities)
        );
        assert_eq!(
            decode(
                r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":[]}}"#
            ),
            Err(MetaError::MissingClientCapabilities)
        );
        assert_eq!(
            decode(
                r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":"loud"}}"#
            ),
            Err(MetaError::InvalidLogLevel("loud".to_owned()))
        );
        assert_eq!(
            decode(
                r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"x"}}}"#
            ),
            Err(MetaError::InvalidClientInfo)
        );
        let error = MetaError::MissingProtocolVersion.to_error_object();
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
        assert!(
            error.message.contains(PROTOCOL_VERSION),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_full_meta_decodes_and_encodes_back() {
        let text = r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
            "io.modelcontextprotocol/clientCapabilities":{"roots":{}},
            "io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},
            "io.modelcontextprotocol/logLevel":"warning","progressToken":"p",
            "traceparent":"00-abc"}}"#;
        let meta = RequestMeta::from_params(Some(&raw(text))).expect("valid");
        assert_eq!(meta.version(), Some(ProtocolVersion::V2026_07_28));
        assert_eq!(meta.log_level, Some(LogLevel::Warning));
        assert!(LogLevel::Warning > LogLevel::Info);
        assert_eq!(meta.progress_token, Some(RequestId::from("p")));
        assert_eq!(meta.other["traceparent"], "00-abc");
        let original: Value = serde_json::from_str(text).expect("JSON");
        assert_eq!(Value::Object(meta.to_object()), original["_meta"]);
        assert_eq!(
            meta.check_version(&ProtocolVersion::MODERN),
            Ok(ProtocolVersion::V2026_07_28)
        );
    }

    #[test]
    fn error_builders_have_the_schema_shapes() {
        let data = |error: &ErrorObject| -> Value {
            serde_json::from_str(error.data.as_deref().expect("data").get()).expect("JSON")
        };
        let unsupported = unsupported_protocol_version("v999.0.0", &ProtocolVersion::MODERN);
        assert_eq!(unsupported.code, ErrorCode::UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(
            data(&unsupported),
            serde_json::json!({"supported": ["2026-07-28"], "requested": "v999.0.0"})
        );
        let mut required = JsonObject::new();
        required.insert("sampling".to_owned(), Value::Object(JsonObject::new()));
        let missing = missing_required_client_capability(required);
        assert_eq!(missing.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
        assert_eq!(
            data(&missing),
            serde_json::json!({"requiredCapabilities": {"sampling": {}}})
        );
        let mismatch = header_mismatch("Mcp-Method does not match the body");
        assert_eq!(mismatch.code, ErrorCode::HEADER_MISMATCH);
        assert!(mismatch.data.is_none());
        let not_found = resource_not_found("file:///nope");
        assert_eq!(not_found.code, ErrorCode::INVALID_PARAMS);
        assert_eq!(data(&not_found), serde_json::json!({"uri": "file:///nope"}));
        let meta = RequestMeta::new("1900-01-01", JsonObject::new());
        let refused = meta
            .check_version(&ProtocolVersion::MODERN)
            .expect_err("unsupported");
        assert_eq!(data(&refused)["requested"], "1900-01-01");
    }
}
