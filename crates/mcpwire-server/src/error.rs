//! The server's error types.

use std::fmt;

use mcpwire_jsonrpc::ErrorObject;
use mcpwire_schema::JsonObject;
use serde_json::Value;

/// Why a server operation failed: registering a tool, or asking the client from a handler.
///
/// Opaque: ask with the `is_*` predicates; the cause is in [`std::error::Error::source`].
pub struct Error {
    kind: Kind,
    message: String,
    /// The missing client capability, as a dotted path (`sampling.tools`), for `-32021`.
    capability: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    InvalidDefinition,
    CapabilityMissing,
    Rpc,
    Closed,
    Cancelled,
    Unsupported,
}

impl Error {
    pub(crate) fn invalid_definition(message: impl Into<String>) -> Self {
        Error::new(Kind::InvalidDefinition, message)
    }

    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            capability: None,
            source: None,
        }
    }

    /// The client did not declare `capability`, a dotted path such as `sampling.tools`.
    pub(crate) fn capability_missing(capability: &str) -> Self {
        Error {
            capability: Some(capability.to_owned()),
            ..Error::new(
                Kind::CapabilityMissing,
                format!("the client did not declare the `{capability}` capability"),
            )
        }
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Error::new(Kind::Rpc, message)
    }

    pub(crate) fn cancelled() -> Self {
        Error::new(Kind::Cancelled, "the request was cancelled")
    }

    /// What the request's era does not allow, such as a server-to-client request in the modern
    /// era or asking the client while serving a list.
    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        Error::new(Kind::Unsupported, message)
    }

    pub(crate) fn rpc(source: mcpwire_rpc::Error) -> Self {
        let kind = if source.is_closed() {
            Kind::Closed
        } else {
            Kind::Rpc
        };
        let message = source.to_string();
        Error {
            source: Some(Box::new(source)),
            ..Error::new(kind, message)
        }
    }

    /// A tool, resource or prompt definition was refused (bad name, invalid JSON Schema...).
    pub fn is_invalid_definition(&self) -> bool {
        self.kind == Kind::InvalidDefinition
    }

    /// The client did not declare the capability a request to it needs.
    pub fn is_capability_missing(&self) -> bool {
        self.kind == Kind::CapabilityMissing
    }

    /// A request to the client failed: it answered with an error, timed out, or sent a result
    /// of the wrong shape. The source is the engine's error.
    pub fn is_rpc(&self) -> bool {
        self.kind == Kind::Rpc
    }

    /// The request being served was cancelled while it waited on the client; the request to
    /// the client was withdrawn.
    pub fn is_cancelled(&self) -> bool {
        self.kind == Kind::Cancelled
    }

    /// The session has ended.
    pub fn is_closed(&self) -> bool {
        self.kind == Kind::Closed
    }

    /// The request's protocol era does not allow the operation: a request to the client
    /// other than sampling, elicitation and roots in the modern era (which has no
    /// server-to-client requests), asking the client while serving a request that cannot
    /// return an `InputRequiredResult`, or tasks in the modern era.
    pub fn is_unsupported(&self) -> bool {
        self.kind == Kind::Unsupported
    }

    /// The client capability the operation needed, as a dotted path such as `sampling` or
    /// `elicitation.url`, when [`Error::is_capability_missing`].
    pub fn missing_capability(&self) -> Option<&str> {
        self.capability.as_deref()
    }

    /// The client's error object, when it answered a request with an error.
    pub fn remote(&self) -> Option<&mcpwire_jsonrpc::ErrorObject> {
        self.source
            .as_deref()
            .and_then(|source| source.downcast_ref::<mcpwire_rpc::Error>())
            .and_then(mcpwire_rpc::Error::remote)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

/// A tool's failure, reported to the model as a tool execution error (`isError: true`),
/// not as a protocol error.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolError {
    pub(crate) message: String,
    pub(crate) url_elicitations: Option<Vec<mcpwire_schema::v2025_11_25::ElicitRequestURLParams>>,
    /// The client capability whose absence caused the failure, kept from an [`Error`] so that
    /// the modern era answers `-32021`.
    pub(crate) capability: Option<String>,
}

impl ToolError {
    /// A failure described by `message`, which the model reads.
    pub fn new(message: impl Into<String>) -> Self {
        ToolError {
            message: message.into(),
            url_elicitations: None,
            capability: None,
        }
    }

    /// The tool cannot go on until the user completes these URL-mode elicitations (for example
    /// an authorization flow). A legacy client gets the protocol error -32042 with the
    /// elicitations in its data, and retries once the user is done; sessions on revisions
    /// before 2025-11-25, which have no URL elicitation, get a tool execution error instead. A
    /// modern client gets an `InputRequiredResult` asking for each URL-mode elicitation (keys
    /// `url-1`, `url-2`...), and the retry runs the tool again.
    pub fn url_elicitation_required(
        message: impl Into<String>,
        elicitations: Vec<mcpwire_schema::v2025_11_25::ElicitRequestURLParams>,
    ) -> Self {
        ToolError {
            message: message.into(),
            url_elicitations: Some(elicitations),
            capability: None,
        }
    }

    /// The message the model reads.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for ToolError {}

/// Keeps the missing capability: in the modern era a tool that fails for want of a client
/// capability is answered with `-32021`, naming it; in the legacy era it is a tool error.
impl From<Error> for ToolError {
    fn from(error: Error) -> Self {
        ToolError {
            capability: error.capability.clone(),
            ..ToolError::new(error.to_string())
        }
    }
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError::new(message)
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        ToolError::new(message)
    }
}

/// The `-32021` error of the modern era for a missing client capability, given as a dotted
/// path (`elicitation.url` needs `{"elicitation": {"url": {}}}`).
pub(crate) fn missing_capability_error(path: &str) -> ErrorObject {
    let mut required = JsonObject::new();
    for name in path.rsplit('.') {
        let inner = std::mem::take(&mut required);
        required.insert(name.to_owned(), Value::Object(inner));
    }
    mcpwire_schema::meta::missing_required_client_capability(required)
}

/// The `-32042` error (URL elicitation required, from 2025-11-25) of a tool that waits for the
/// user to complete `elicitations`, listed in its data.
pub(crate) fn url_elicitation_required_error(
    message: String,
    elicitations: &[mcpwire_schema::v2025_11_25::ElicitRequestURLParams],
) -> ErrorObject {
    let error = ErrorObject::new(
        mcpwire_jsonrpc::ErrorCode::URL_ELICITATION_REQUIRED,
        message,
    );
    error
        .clone()
        .with_data(serde_json::json!({ "elicitations": elicitations }))
        .unwrap_or(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_paths_become_nested_objects() {
        let data = |path: &str| -> Value {
            let error = missing_capability_error(path);
            serde_json::from_str(error.data.as_deref().expect("data").get()).expect("JSON")
        };
        assert_eq!(
            data("sampling"),
            serde_json::json!({"requiredCapabilities": {"sampling": {}}})
        );
        assert_eq!(
            data("elicitation.url"),
            serde_json::json!({"requiredCapabilities": {"elicitation": {"url": {}}}})
        );
    }
}
