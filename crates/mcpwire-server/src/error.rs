//! The server's error types.

use std::fmt;

/// Why a server operation failed: registering a tool, or asking the client from a handler.
///
/// Opaque: ask with the `is_*` predicates; the cause is in [`std::error::Error::source`].
pub struct Error {
    kind: Kind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    InvalidDefinition,
    CapabilityMissing,
    Rpc,
    Closed,
    Cancelled,
}

impl Error {
    pub(crate) fn invalid_definition(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::InvalidDefinition,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn capability_missing(capability: &str) -> Self {
        Error {
            kind: Kind::CapabilityMissing,
            message: format!("the client did not declare the `{capability}` capability"),
            source: None,
        }
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Rpc,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn cancelled() -> Self {
        Error {
            kind: Kind::Cancelled,
            message: "the request was cancelled".to_owned(),
            source: None,
        }
    }

    pub(crate) fn rpc(source: mcpwire_rpc::Error) -> Self {
        let kind = if source.is_closed() {
            Kind::Closed
        } else {
            Kind::Rpc
        };
        Error {
            kind,
            message: source.to_string(),
            source: Some(Box::new(source)),
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
}

impl ToolError {
    /// A failure described by `message`, which the model reads.
    pub fn new(message: impl Into<String>) -> Self {
        ToolError {
            message: message.into(),
            url_elicitations: None,
        }
    }

    /// The tool cannot go on until the user completes these URL-mode elicitations (for example
    /// an authorization flow). The client gets the protocol error -32042 with the
    /// elicitations in its data, and retries once the user is done. Sessions on revisions
    /// before 2025-11-25, which have no URL elicitation, get a tool execution error instead.
    pub fn url_elicitation_required(
        message: impl Into<String>,
        elicitations: Vec<mcpwire_schema::v2025_11_25::ElicitRequestURLParams>,
    ) -> Self {
        ToolError {
            message: message.into(),
            url_elicitations: Some(elicitations),
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

impl From<Error> for ToolError {
    fn from(error: Error) -> Self {
        ToolError::new(error.to_string())
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
