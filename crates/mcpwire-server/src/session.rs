//! One connection: the lifecycle (initialize, initialized) and the routing of requests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use mcpwire_jsonrpc::{ErrorCode, ErrorObject, Notification, RequestId};
use mcpwire_rpc::{Peer, RequestContext};
use mcpwire_schema::ProtocolVersion;
use mcpwire_schema::v2025_11_25 as wire;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::server::Inner;
use crate::tool::text_result;
use crate::version::{negotiate, project_result};
use crate::{Context, pagination};

/// What `initialize` settled for a session.
#[derive(Debug)]
struct Negotiated {
    version: ProtocolVersion,
    client_capabilities: wire::ClientCapabilities,
    client_info: wire::Implementation,
}

/// The state of one session, shared by its handler, its handle and the contexts of its requests.
#[derive(Debug, Default)]
pub(crate) struct SessionState {
    negotiated: OnceLock<Negotiated>,
    initialized: AtomicBool,
    log_level: Mutex<Option<wire::LoggingLevel>>,
    pub(crate) peer: OnceLock<Peer>,
}

impl SessionState {
    pub(crate) fn version(&self) -> ProtocolVersion {
        self.negotiated
            .get()
            .map_or(ProtocolVersion::LATEST_LEGACY, |negotiated| {
                negotiated.version
            })
    }

    pub(crate) fn negotiated_version(&self) -> Option<ProtocolVersion> {
        self.negotiated.get().map(|negotiated| negotiated.version)
    }

    pub(crate) fn client_capabilities(&self) -> wire::ClientCapabilities {
        self.negotiated
            .get()
            .map(|negotiated| negotiated.client_capabilities.clone())
            .unwrap_or_default()
    }

    pub(crate) fn client_info(&self) -> Option<wire::Implementation> {
        self.negotiated
            .get()
            .map(|negotiated| negotiated.client_info.clone())
    }

    /// Whether the client finished the handshake (sent `notifications/initialized`).
    pub(crate) fn is_initialized(&self) -> bool {
        self.initialized.load(Ordering::Acquire)
    }

    pub(crate) fn should_log(&self, level: &wire::LoggingLevel) -> bool {
        let threshold = self
            .log_level
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match threshold.as_ref() {
            // Until the client sets a level, every message is sent.
            None => true,
            Some(threshold) => severity(level) >= severity(threshold),
        }
    }
}

/// RFC 5424 severity order, lowest first; unknown levels count as the most severe.
fn severity(level: &wire::LoggingLevel) -> u8 {
    use wire::LoggingLevel::*;
    match level {
        Debug => 0,
        Info => 1,
        Notice => 2,
        Warning => 3,
        Error => 4,
        Critical => 5,
        Alert => 6,
        Emergency => 7,
        Unknown(_) => 8,
    }
}

/// The engine's handler for one session.
pub(crate) struct SessionHandler {
    pub(crate) server: Arc<Inner>,
    pub(crate) state: Arc<SessionState>,
}

/// The progress token in any request's `_meta`, read without decoding the rest.
#[derive(Deserialize)]
struct ProgressProbe {
    #[serde(rename = "_meta")]
    meta: Option<ProgressMeta>,
}

#[derive(Deserialize)]
struct ProgressMeta {
    #[serde(rename = "progressToken")]
    progress_token: Option<RequestId>,
}

fn decode<P: DeserializeOwned>(params: Option<&RawValue>) -> Result<P, ErrorObject> {
    mcpwire_jsonrpc::decode_params(params)
}

fn encode(result: &impl serde::Serialize) -> Result<Box<RawValue>, ErrorObject> {
    serde_json::value::to_raw_value(result)
        .map_err(|error| ErrorObject::internal_error(error.to_string()))
}

fn empty() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).expect("an empty object is JSON")
}

impl mcpwire_rpc::Handler for SessionHandler {
    async fn request(
        &self,
        params: Option<Box<RawValue>>,
        request: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let method = request.method().to_owned();
        match method.as_str() {
            "initialize" => return self.initialize(params.as_deref()),
            // Ping is answered in every phase.
            "ping" => return Ok(empty()),
            _ => {}
        }
        let Some(version) = self.state.negotiated_version() else {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                format!("`{method}` before `initialize`: the session is not initialized"),
            ));
        };
        let result = match method.as_str() {
            "tools/list" if self.server.tools_enabled => self.list_tools(params.as_deref()),
            "tools/call" if self.server.tools_enabled => self.call_tool(params, request).await,
            "logging/setLevel" => self.set_level(params.as_deref()),
            _ => Err(ErrorObject::method_not_found(&method)),
        }?;
        Ok(project_result(version, &method, result))
    }

    async fn notification(&self, notification: Notification, _peer: &Peer) {
        match notification.method.as_str() {
            "notifications/initialized" => {
                if self.state.negotiated.get().is_some() {
                    self.state.initialized.store(true, Ordering::Release);
                }
            }
            other => tracing::debug!(method = %other, "ignoring a notification"),
        }
    }
}

impl SessionHandler {
    fn initialize(&self, params: Option<&RawValue>) -> Result<Box<RawValue>, ErrorObject> {
        let params: wire::InitializeRequestParams = decode(params)?;
        let version = negotiate(&params.protocol_version);
        let negotiated = Negotiated {
            version,
            client_capabilities: params.capabilities,
            client_info: params.client_info,
        };
        if self.state.negotiated.set(negotiated).is_err() {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                "the session is already initialized",
            ));
        }
        let result = wire::InitializeResult {
            meta: None,
            capabilities: self.server.capabilities(),
            instructions: self.server.instructions.clone(),
            protocol_version: version.as_str().to_owned(),
            server_info: self.server.info.clone(),
        };
        Ok(project_result(version, "initialize", encode(&result)?))
    }

    fn set_level(&self, params: Option<&RawValue>) -> Result<Box<RawValue>, ErrorObject> {
        let params: wire::SetLevelRequestParams = decode(params)?;
        if params.level.is_unknown() {
            return Err(ErrorObject::invalid_params(format!(
                "unknown logging level `{}`",
                params.level
            )));
        }
        *self
            .state
            .log_level
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(params.level);
        Ok(empty())
    }

    fn list_tools(&self, params: Option<&RawValue>) -> Result<Box<RawValue>, ErrorObject> {
        let params: Option<wire::PaginatedRequestParams> = decode(params)?;
        let cursor = params.as_ref().and_then(|params| params.cursor.as_deref());
        let tools = self.server.tools_snapshot();
        let names: Vec<&str> = tools.iter().map(|tool| tool.name()).collect();
        let (range, next_cursor) = pagination::page(&names, cursor, self.server.page_size)?;
        let result = wire::ListToolsResult {
            meta: None,
            next_cursor,
            tools: tools[range]
                .iter()
                .map(|tool| tool.definition.clone())
                .collect(),
        };
        encode(&result)
    }

    async fn call_tool(
        &self,
        params: Option<Box<RawValue>>,
        request: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let progress_token = params
            .as_deref()
            .and_then(|params| serde_json::from_str::<ProgressProbe>(params.get()).ok())
            .and_then(|probe| probe.meta)
            .and_then(|meta| meta.progress_token);
        let params: wire::CallToolRequestParams = decode(params.as_deref())?;
        let Some(tool) = self.server.tool(&params.name) else {
            return Err(ErrorObject::invalid_params(format!(
                "unknown tool: {}",
                params.name
            )));
        };
        let arguments = params.arguments.unwrap_or_default();
        let arguments_value = Value::Object(arguments);
        if let Err(errors) = tool.check_arguments(&arguments_value) {
            // Invalid arguments are a tool execution error the model can correct (SEP-1303).
            let message = format!(
                "invalid arguments for tool `{}`: {}",
                params.name,
                errors.join("; ")
            );
            return encode(&text_result(message, true));
        }
        let arguments = match arguments_value {
            Value::Object(arguments) => arguments,
            _ => mcpwire_schema::JsonObject::new(),
        };
        let context = Context {
            request,
            session: Arc::clone(&self.state),
            progress_token,
            last_progress: Arc::default(),
        };
        let result = match (tool.handler)(arguments, context).await {
            Ok(result) => result,
            Err(error) => text_result(error.message().to_owned(), true),
        };
        if let Some(validator) = &tool.output_validator
            && result.is_error != Some(true)
        {
            let structured = result.structured_content.clone().map(Value::Object);
            let valid = structured
                .as_ref()
                .is_some_and(|structured| validator.is_valid(structured));
            if !valid {
                tracing::error!(tool = %params.name, "a tool result does not match the tool's output schema");
                return Err(ErrorObject::internal_error(format!(
                    "tool `{}` returned structured content that does not match its output schema",
                    params.name
                )));
            }
        }
        encode(&result)
    }
}
