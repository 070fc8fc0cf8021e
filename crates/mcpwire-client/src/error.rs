//! The client's error type.

use std::fmt;

use mcpwire_jsonrpc::{ErrorCode, ErrorObject};
use mcpwire_schema::Era;
use mcpwire_schema::v2025_11_25::{ElicitRequestURLParams, URLElicitationRequiredErrorErrorData};

/// Why connecting or a client call failed.
///
/// Opaque: ask with the `is_*` predicates; [`Error::remote`] gives the server's error object.
/// The display text says what went wrong in lowercase words, and for an error response what
/// the server answered (its code and message), once: the
/// [source](std::error::Error::source) chain carries only causes the text does not already
/// name, so printing the whole chain repeats nothing.
pub struct Error {
    kind: Kind,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

enum Kind {
    /// The engine reported the failure: closed, timeout, remote error, encode or decode.
    Rpc { method: String },
    /// No response arrived in time (deadlines the client keeps itself).
    Timeout { method: String },
    /// The server chose, or supports only, protocol versions this client does not speak.
    UnsupportedVersion { offered: String, answered: Answered },
    /// The method does not exist in the era the connection speaks.
    UnsupportedInEra { method: String, era: Era },
    /// The result's `resultType` is one this client does not know for the method.
    InvalidResultType { method: String, result_type: String },
    /// The server kept asking for input beyond the client's bound on rounds.
    InputRoundsExceeded { method: String, limit: u32 },
    /// Answering one of the server's input requests failed.
    InputRequest {
        method: String,
        input_method: String,
        key: String,
    },
    /// A capability the call needs was not declared.
    CapabilityMissing {
        side: Side,
        capability: &'static str,
        method: String,
    },
    /// A paginated listing did not end properly.
    Pagination { method: String, problem: Pagination },
    /// The params could not be encoded.
    Encode { method: String },
    /// The result did not have the shape of the method's result type.
    Decode { method: String },
    /// A task of the tasks extension that a call became ended without a result.
    #[cfg(feature = "tasks")]
    Task {
        method: String,
        task_id: String,
        end: TaskEnd,
    },
}

/// How a task ended without a result.
#[cfg(feature = "tasks")]
enum TaskEnd {
    /// `failed`, with the JSON-RPC error its request met.
    Failed(ErrorObject),
    /// `cancelled`.
    Cancelled,
    /// Still running after its time to live or the client's bound on following it.
    Abandoned,
}

/// What the server answered about protocol versions.
enum Answered {
    /// The version it chose in `initialize`.
    Chosen(String),
    /// The versions it supports, from `server/discover` or an unsupported-version error.
    Supported(Vec<String>),
}

#[derive(Clone, Copy)]
enum Side {
    Server,
    Client,
}

#[derive(Clone, Copy)]
enum Pagination {
    RepeatedCursor,
    TooManyPages(usize),
}

impl Error {
    fn new(kind: Kind) -> Self {
        Error { kind, source: None }
    }

    fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub(crate) fn rpc(method: &str, source: mcpwire_rpc::Error) -> Self {
        Error::new(Kind::Rpc {
            method: method.to_owned(),
        })
        .with_source(source)
    }

    pub(crate) fn timeout(method: &str) -> Self {
        Error::new(Kind::Timeout {
            method: method.to_owned(),
        })
    }

    pub(crate) fn unsupported_version(offered: &str, answered: &str) -> Self {
        Error::new(Kind::UnsupportedVersion {
            offered: offered.to_owned(),
            answered: Answered::Chosen(answered.to_owned()),
        })
    }

    pub(crate) fn no_common_version(offered: &str, supported: Vec<String>) -> Self {
        Error::new(Kind::UnsupportedVersion {
            offered: offered.to_owned(),
            answered: Answered::Supported(supported),
        })
    }

    pub(crate) fn unsupported_in_era(method: &str, era: Era) -> Self {
        Error::new(Kind::UnsupportedInEra {
            method: method.to_owned(),
            era,
        })
    }

    pub(crate) fn invalid_result_type(method: &str, result_type: &str) -> Self {
        Error::new(Kind::InvalidResultType {
            method: method.to_owned(),
            result_type: result_type.to_owned(),
        })
    }

    pub(crate) fn input_rounds_exceeded(method: &str, limit: u32) -> Self {
        Error::new(Kind::InputRoundsExceeded {
            method: method.to_owned(),
            limit,
        })
    }

    pub(crate) fn input_request(
        method: &str,
        input_method: &str,
        key: &str,
        source: ErrorObject,
    ) -> Self {
        Error::new(Kind::InputRequest {
            method: method.to_owned(),
            input_method: input_method.to_owned(),
            key: key.to_owned(),
        })
        .with_source(source)
    }

    pub(crate) fn server_capability_missing(capability: &'static str, method: &str) -> Self {
        Error::new(Kind::CapabilityMissing {
            side: Side::Server,
            capability,
            method: method.to_owned(),
        })
    }

    pub(crate) fn client_capability_missing(capability: &'static str, method: &str) -> Self {
        Error::new(Kind::CapabilityMissing {
            side: Side::Client,
            capability,
            method: method.to_owned(),
        })
    }

    pub(crate) fn repeated_cursor(method: &str) -> Self {
        Error::new(Kind::Pagination {
            method: method.to_owned(),
            problem: Pagination::RepeatedCursor,
        })
    }

    pub(crate) fn too_many_pages(method: &str, limit: usize) -> Self {
        Error::new(Kind::Pagination {
            method: method.to_owned(),
            problem: Pagination::TooManyPages(limit),
        })
    }

    pub(crate) fn encode(method: &str, source: serde_json::Error) -> Self {
        Error::new(Kind::Encode {
            method: method.to_owned(),
        })
        .with_source(source)
    }

    pub(crate) fn decode(method: &str, source: serde_json::Error) -> Self {
        Error::new(Kind::Decode {
            method: method.to_owned(),
        })
        .with_source(source)
    }

    #[cfg(feature = "tasks")]
    pub(crate) fn task_failed(method: &str, task_id: &str, error: ErrorObject) -> Self {
        Error::task(method, task_id, TaskEnd::Failed(error))
    }

    #[cfg(feature = "tasks")]
    pub(crate) fn task_cancelled(method: &str, task_id: &str) -> Self {
        Error::task(method, task_id, TaskEnd::Cancelled)
    }

    #[cfg(feature = "tasks")]
    pub(crate) fn task_abandoned(method: &str, task_id: &str) -> Self {
        Error::task(method, task_id, TaskEnd::Abandoned)
    }

    #[cfg(feature = "tasks")]
    fn task(method: &str, task_id: &str, end: TaskEnd) -> Self {
        Error::new(Kind::Task {
            method: method.to_owned(),
            task_id: task_id.to_owned(),
            end,
        })
    }

    fn rpc_source(&self) -> Option<&mcpwire_rpc::Error> {
        match self.kind {
            Kind::Rpc { .. } => self.source.as_deref()?.downcast_ref(),
            _ => None,
        }
    }

    /// The connection is closed, or closed while the call was pending.
    pub fn is_closed(&self) -> bool {
        self.rpc_source().is_some_and(mcpwire_rpc::Error::is_closed)
    }

    /// The transport could not deliver the call or get its answer, though the connection
    /// goes on: an HTTP exchange failed, or a layer of the HTTP client refused it (the
    /// authorization layer's error, say). No answer of the server's is involved; the sources
    /// say why (`mcpwire_http::client::Error::find` finds the HTTP error among them).
    pub fn is_transport(&self) -> bool {
        self.rpc_source()
            .is_some_and(mcpwire_rpc::Error::is_transport)
    }

    /// No response arrived within the call's timeout; the request was cancelled on the wire.
    /// Also a task of the tasks extension followed for longer than it may be
    /// (`Error::is_task_abandoned`, with the feature `tasks`).
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout { .. })
            || self.is_task_abandoned()
            || self
                .rpc_source()
                .is_some_and(mcpwire_rpc::Error::is_timeout)
    }

    /// The server answered with an error response; see [`Error::remote`].
    pub fn is_remote(&self) -> bool {
        self.remote().is_some()
    }

    /// The server's error object, for an error response, or the error a task of the tasks
    /// extension failed with (the error its call would have had).
    pub fn remote(&self) -> Option<&ErrorObject> {
        #[cfg(feature = "tasks")]
        if let Kind::Task {
            end: TaskEnd::Failed(error),
            ..
        } = &self.kind
        {
            return Some(error);
        }
        self.rpc_source().and_then(mcpwire_rpc::Error::remote)
    }

    /// The call became a task of the tasks extension that ended `failed`; [`Error::remote`]
    /// gives the JSON-RPC error it failed with, and [`Error::task_id`] the task.
    #[cfg(feature = "tasks")]
    pub fn is_task_failed(&self) -> bool {
        matches!(
            self.kind,
            Kind::Task {
                end: TaskEnd::Failed(_),
                ..
            }
        )
    }

    /// The call became a task of the tasks extension that ended `cancelled`.
    #[cfg(feature = "tasks")]
    pub fn is_task_cancelled(&self) -> bool {
        matches!(
            self.kind,
            Kind::Task {
                end: TaskEnd::Cancelled,
                ..
            }
        )
    }

    /// The call became a task of the tasks extension that was still running after its time
    /// to live, or after [`FollowLimits::max_follow`](crate::FollowLimits::max_follow): the
    /// client stopped following it (and [`Error::is_timeout`] holds).
    #[cfg(feature = "tasks")]
    pub fn is_task_abandoned(&self) -> bool {
        matches!(
            self.kind,
            Kind::Task {
                end: TaskEnd::Abandoned,
                ..
            }
        )
    }

    /// Never: without the feature `tasks` no call becomes a task.
    #[cfg(not(feature = "tasks"))]
    fn is_task_abandoned(&self) -> bool {
        false
    }

    /// The id of the task of the tasks extension that the call became, when it ended without
    /// a result.
    #[cfg(feature = "tasks")]
    pub fn task_id(&self) -> Option<&str> {
        match &self.kind {
            Kind::Task { task_id, .. } => Some(task_id),
            _ => None,
        }
    }

    /// The server chose a protocol version this client does not speak, supports only such
    /// versions, or refused the request's version with `-32022` (for example a modern-only
    /// server refusing `initialize`); [`Error::supported_versions`] lists what it speaks.
    pub fn is_unsupported_version(&self) -> bool {
        matches!(self.kind, Kind::UnsupportedVersion { .. })
            || self.has_code(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION)
    }

    /// The protocol versions the server says it supports, when it said so: in a `-32022`
    /// error's `data.supported`, or in its `server/discover` answer.
    pub fn supported_versions(&self) -> Option<Vec<String>> {
        if let Kind::UnsupportedVersion {
            answered: Answered::Supported(supported),
            ..
        } = &self.kind
        {
            return Some(supported.clone());
        }
        let data: UnsupportedVersionData =
            self.remote_data(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION)?;
        Some(data.supported)
    }

    /// The server answered `-32601`: it has no such method (or, in the modern era, no such
    /// tool, prompt or resource template by name where the spec says so).
    pub fn is_method_not_found(&self) -> bool {
        self.has_code(ErrorCode::METHOD_NOT_FOUND)
    }

    /// The server answered `-32602`: the params were invalid (an unknown tool, bad
    /// arguments...). See also [`Error::is_resource_not_found`].
    pub fn is_invalid_params(&self) -> bool {
        self.has_code(ErrorCode::INVALID_PARAMS)
    }

    /// The server answered `-32603`, an internal error.
    pub fn is_internal_error(&self) -> bool {
        self.has_code(ErrorCode::INTERNAL_ERROR)
    }

    /// The server answered `-32600` (the request was not a valid request) or `-32700` (it
    /// could not parse what it received).
    pub fn is_invalid_request(&self) -> bool {
        self.has_code(ErrorCode::INVALID_REQUEST) || self.has_code(ErrorCode::PARSE_ERROR)
    }

    /// The server answered `-32042` (2025-11-25): the request needs the user to complete one
    /// or more URL-mode elicitations first; [`Error::url_elicitations`] gives them.
    pub fn is_url_elicitation_required(&self) -> bool {
        self.has_code(ErrorCode::URL_ELICITATION_REQUIRED)
    }

    /// The URL-mode elicitations of a `-32042` error, decoded; `None` for any other error or
    /// when the server's `data` does not have the schema's shape.
    pub fn url_elicitations(&self) -> Option<Vec<ElicitRequestURLParams>> {
        let data: URLElicitationRequiredErrorErrorData =
            self.remote_data(ErrorCode::URL_ELICITATION_REQUIRED)?;
        Some(data.elicitations)
    }

    /// The server answered `-32020` (2026-07-28): a header of the HTTP request did not match
    /// its body.
    pub fn is_header_mismatch(&self) -> bool {
        self.has_code(ErrorCode::HEADER_MISMATCH)
    }

    /// The server answered `-32021` (2026-07-28): the request needs a client capability that
    /// the request's `_meta` did not declare.
    pub fn is_missing_client_capability(&self) -> bool {
        self.has_code(ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY)
    }

    /// Whether the server answered with an error of `code`.
    fn has_code(&self, code: ErrorCode) -> bool {
        self.remote().is_some_and(|error| error.code == code)
    }

    /// The `data` of the server's error of `code`, decoded as `T`.
    fn remote_data<T: serde::de::DeserializeOwned>(&self, code: ErrorCode) -> Option<T> {
        let error = self.remote().filter(|error| error.code == code)?;
        serde_json::from_str(error.data.as_ref()?.get()).ok()
    }

    /// The method does not exist in the protocol era the connection speaks (for example
    /// `ping`, `logging/setLevel` or `resources/subscribe` in the modern era, or
    /// `subscriptions/listen` in the legacy era). Nothing was sent.
    pub fn is_unsupported_in_era(&self) -> bool {
        matches!(self.kind, Kind::UnsupportedInEra { .. })
    }

    /// The server answered with a `resultType` this client does not know for the method
    /// (modern era): anything but `complete`, or `input_required` on a method that cannot ask
    /// for input.
    pub fn is_invalid_result_type(&self) -> bool {
        matches!(self.kind, Kind::InvalidResultType { .. })
    }

    /// The server asked for input more times than
    /// [`ClientBuilder::max_input_rounds`](crate::ClientBuilder::max_input_rounds) allows
    /// (modern era).
    pub fn is_input_rounds_exceeded(&self) -> bool {
        matches!(self.kind, Kind::InputRoundsExceeded { .. })
    }

    /// Answering one of the server's input requests failed (modern era): the handler refused
    /// it, none is registered for it, or it asked for something this client did not declare.
    /// [`Error::input_error`] gives the reason.
    pub fn is_input_request_failed(&self) -> bool {
        matches!(self.kind, Kind::InputRequest { .. })
    }

    /// The reason an input request failed, as the error object its handler (or the client's
    /// checks) produced.
    pub fn input_error(&self) -> Option<&ErrorObject> {
        match self.kind {
            Kind::InputRequest { .. } => self.source.as_deref()?.downcast_ref(),
            _ => None,
        }
    }

    /// The server said the resource does not exist: `-32002` (legacy servers), or `-32602`
    /// invalid params with the resource's `uri` in the error data (the modern era's form).
    pub fn is_resource_not_found(&self) -> bool {
        let Some(error) = self.remote() else {
            return false;
        };
        #[derive(serde::Deserialize)]
        struct NotFoundData {
            #[allow(dead_code)] // Only its presence counts.
            uri: String,
        }
        error.code == ErrorCode::RESOURCE_NOT_FOUND
            || (error.code == ErrorCode::INVALID_PARAMS
                && error
                    .data
                    .as_ref()
                    .is_some_and(|data| serde_json::from_str::<NotFoundData>(data.get()).is_ok()))
    }

    /// The call needs a capability that was not declared: one the server did not announce in
    /// its `initialize` result, or one this client did not declare. Nothing was sent.
    pub fn is_capability_missing(&self) -> bool {
        matches!(self.kind, Kind::CapabilityMissing { .. })
    }

    /// A paginated listing did not end: the server repeated a cursor, or sent more pages than
    /// the client follows.
    pub fn is_pagination(&self) -> bool {
        matches!(self.kind, Kind::Pagination { .. })
    }

    /// The params could not be encoded as a JSON object.
    pub fn is_encode(&self) -> bool {
        matches!(self.kind, Kind::Encode { .. })
            || self.rpc_source().is_some_and(mcpwire_rpc::Error::is_encode)
    }

    /// The result did not have the shape of the method's result type.
    pub fn is_decode(&self) -> bool {
        matches!(self.kind, Kind::Decode { .. })
            || self.rpc_source().is_some_and(mcpwire_rpc::Error::is_decode)
    }

    /// The method of the call that failed, when the failure belongs to one call.
    pub fn method(&self) -> Option<&str> {
        match &self.kind {
            Kind::Rpc { method }
            | Kind::Timeout { method }
            | Kind::CapabilityMissing { method, .. }
            | Kind::Pagination { method, .. }
            | Kind::Encode { method }
            | Kind::Decode { method }
            | Kind::UnsupportedInEra { method, .. }
            | Kind::InvalidResultType { method, .. }
            | Kind::InputRoundsExceeded { method, .. }
            | Kind::InputRequest { method, .. } => Some(method),
            #[cfg(feature = "tasks")]
            Kind::Task { method, .. } => Some(method),
            Kind::UnsupportedVersion { .. } => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = formatter.debug_struct("Error");
        debug.field("kind", &self.to_string());
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Rpc { method } => match (self.remote(), self.rpc_source()) {
                (Some(error), _) => write!(
                    formatter,
                    "{method} failed: the server answered {}: {}",
                    error.code, error.message
                ),
                (None, Some(rpc)) => write!(formatter, "{method} failed: {rpc}"),
                (None, None) => write!(formatter, "{method} request failed"),
            },
            Kind::Timeout { method } => write!(formatter, "{method} request timed out"),
            Kind::UnsupportedVersion {
                offered,
                answered: Answered::Chosen(answered),
            } => write!(
                formatter,
                "server chose protocol version {answered:?}, which this client does not support \
                 (offered {offered:?})"
            ),
            Kind::UnsupportedVersion {
                offered,
                answered: Answered::Supported(supported),
            } => write!(
                formatter,
                "server supports protocol versions {supported:?}, none of which this client \
                 speaks (offered {offered:?})"
            ),
            Kind::UnsupportedInEra { method, era } => {
                let era = match era {
                    Era::Legacy => "legacy",
                    Era::Modern => "modern",
                };
                write!(
                    formatter,
                    "{method} does not exist in the {era} era of the protocol"
                )
            }
            Kind::InvalidResultType {
                method,
                result_type,
            } => write!(
                formatter,
                "{method} answered with the unknown result type {result_type:?}"
            ),
            Kind::InputRoundsExceeded { method, limit } => write!(
                formatter,
                "{method} asked for input more than {limit} times"
            ),
            Kind::InputRequest {
                method,
                input_method,
                key,
            } => write!(
                formatter,
                "answering the {input_method} input request {key:?} of {method} failed"
            ),
            Kind::CapabilityMissing {
                side: Side::Server,
                capability,
                method,
            } => write!(
                formatter,
                "server did not declare the `{capability}` capability that {method} needs"
            ),
            Kind::CapabilityMissing {
                side: Side::Client,
                capability,
                method,
            } => write!(
                formatter,
                "client did not declare the `{capability}` capability that {method} needs"
            ),
            Kind::Pagination {
                method,
                problem: Pagination::RepeatedCursor,
            } => write!(formatter, "server repeated a {method} cursor"),
            Kind::Pagination {
                method,
                problem: Pagination::TooManyPages(limit),
            } => write!(formatter, "{method} returned more than {limit} pages"),
            Kind::Encode { method } => write!(formatter, "{method} params could not be encoded"),
            Kind::Decode { method } => write!(formatter, "{method} result could not be decoded"),
            #[cfg(feature = "tasks")]
            Kind::Task {
                method,
                task_id,
                end,
            } => match end {
                TaskEnd::Failed(error) => write!(
                    formatter,
                    "{method} failed as task {task_id:?}: the server answered {}: {}",
                    error.code, error.message
                ),
                TaskEnd::Cancelled => write!(formatter, "{method} task {task_id:?} was cancelled"),
                TaskEnd::Abandoned => write!(
                    formatter,
                    "{method} task {task_id:?} did not end within the time it may be followed"
                ),
            },
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The engine's error is already in the display text; its own cause (if any) is not.
        if let Some(rpc) = self.rpc_source() {
            return std::error::Error::source(rpc);
        }
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

/// The `data` of a `-32022` error.
#[derive(serde::Deserialize)]
struct UnsupportedVersionData {
    supported: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_lowercase_and_names_the_method() {
        let error = Error::server_capability_missing("tools", "tools/list");
        assert_eq!(
            error.to_string(),
            "server did not declare the `tools` capability that tools/list needs"
        );
        assert!(error.is_capability_missing());
        assert_eq!(error.method(), Some("tools/list"));
        assert!(!error.is_remote() && !error.is_closed() && !error.is_timeout());

        let error = Error::repeated_cursor("tools/list");
        assert_eq!(error.to_string(), "server repeated a tools/list cursor");
        assert!(error.is_pagination());
    }

    #[test]
    fn source_chain_reaches_the_cause() {
        let cause = serde_json::from_str::<u8>("x").expect_err("not a number");
        let error = Error::decode("tools/call", cause);
        assert!(error.is_decode());
        let source = std::error::Error::source(&error).expect("has a source");
        assert!(source.to_string().contains("expected value"), "{source}");
    }
}
