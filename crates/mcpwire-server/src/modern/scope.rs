//! What a handler's [`Context`](crate::Context) knows of a modern request: everything comes
//! from the request itself, and asking the client replays the answers of earlier rounds.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use mcpwire_jsonrpc::RequestId;
use mcpwire_rpc::CancellationToken;
use mcpwire_schema::meta::LogLevel;
use mcpwire_schema::v2025_11_25 as wire;
use mcpwire_schema::{JsonObject, ProtocolVersion};
use serde_json::value::RawValue;

use super::link::Link;
use super::mrtr::Replay;
use crate::Error;

/// What a handler's [`Context`](crate::Context) knows of a modern request.
pub(crate) struct ModernScope {
    pub(crate) link: Arc<dyn Link>,
    pub(crate) version: ProtocolVersion,
    pub(crate) client_capabilities: wire::ClientCapabilities,
    pub(crate) client_extensions: BTreeMap<String, JsonObject>,
    pub(crate) client_info: Option<wire::Implementation>,
    pub(crate) log_level: Option<LogLevel>,
    pub(crate) progress_token: Option<RequestId>,
    /// Fires with the request's cancellation, and when the run stops for input.
    pub(crate) cancellation: CancellationToken,
    /// The answers of a request that may ask the client (`tools/call`, `prompts/get`,
    /// `resources/read`).
    pub(crate) replay: Option<Arc<Replay>>,
}

impl fmt::Debug for ModernScope {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ModernScope")
            .field("request_id", self.link.request_id())
            .field("version", &self.version)
            .field("log_level", &self.log_level)
            .finish_non_exhaustive()
    }
}

impl ModernScope {
    /// Whether a log message at `level` goes out: only when the request asked for a level and
    /// `level` is at or above it.
    pub(crate) fn should_log(&self, level: &wire::LoggingLevel) -> bool {
        match (self.log_level, LogLevel::from_wire(level.as_str())) {
            (Some(threshold), Some(level)) => level >= threshold,
            _ => false,
        }
    }

    /// Asks the client for input while serving this request: the answer when the client
    /// gave it, or else the handler parks until the round ends (see [`mrtr`](super::mrtr)).
    pub(crate) async fn ask(
        &self,
        method: &str,
        params: JsonObject,
        key: Option<String>,
    ) -> Result<Box<RawValue>, Error> {
        match &self.replay {
            Some(replay) => replay.ask(method, params, key).await,
            None => Err(Error::unsupported(format!(
                "`{method}` can be asked only while serving tools/call, prompts/get or \
                 resources/read in the modern era"
            ))),
        }
    }
}
