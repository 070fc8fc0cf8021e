//! The header names of Streamable HTTP, shared by the server and the client.

use http::header::HeaderName;

/// The `Mcp-Session-Id` header: the session the server assigned.
pub const MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
/// The `MCP-Protocol-Version` header: the negotiated protocol version.
pub const MCP_PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
/// The `Last-Event-ID` header: where a resumed SSE stream picks up.
pub const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");
