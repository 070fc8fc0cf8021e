//! The modern era's request envelope and result rules: the `_meta` every request carries,
//! the methods that no longer exist, and `resultType`.

use std::sync::Mutex;

use mcpwire_jsonrpc::RequestId;
use mcpwire_schema::v2026_07_28::{
    ClientCapabilities, ClientCapabilitiesElicitation, ClientCapabilitiesSampling, Implementation,
    LoggingLevel, RequestMetaObject,
};
use mcpwire_schema::{JsonObject, ProtocolVersion};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::mrtr::InputRequired;
use crate::{ElicitationModes, Error};

/// Requests of the legacy era that the modern era removed.
const REMOVED_REQUESTS: [&str; 5] = [
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
];

/// Client notifications of the legacy era that the modern era removed.
const REMOVED_NOTIFICATIONS: [&str; 2] = [
    "notifications/initialized",
    "notifications/roots/list_changed",
];

/// The requests a server may answer with an `InputRequiredResult`.
const INPUT_METHODS: [&str; 3] = ["tools/call", "prompts/get", "resources/read"];

/// Whether the modern era removed the request or notification `method`.
pub(crate) fn removed(method: &str) -> bool {
    REMOVED_REQUESTS.contains(&method) || REMOVED_NOTIFICATIONS.contains(&method)
}

/// What every modern request says about the client, whatever its method.
pub(crate) struct Envelope {
    client_info: Implementation,
    capabilities: ClientCapabilities,
    /// The level set with `Client::set_logging_level`, sent as `logLevel`.
    log_level: Mutex<Option<LoggingLevel>>,
}

impl Envelope {
    /// The envelope of a client introduced as `client_info` with the handlers it registered.
    pub(crate) fn new(
        client_info: &mcpwire_schema::v2025_11_25::Implementation,
        capabilities: ClientCapabilities,
    ) -> Self {
        Envelope {
            client_info: convert(client_info).expect("both revisions share `Implementation`"),
            capabilities,
            log_level: Mutex::new(None),
        }
    }

    /// Remembers the log level to ask for on every later request.
    pub(crate) fn set_log_level(&self, level: &mcpwire_schema::v2025_11_25::LoggingLevel) {
        let level = LoggingLevel::from(level.as_str());
        *self
            .log_level
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(level);
    }

    /// The `_meta` of a request at `version`, with `progress_token` when progress is routed.
    pub(crate) fn meta(
        &self,
        version: ProtocolVersion,
        progress_token: Option<&RequestId>,
    ) -> Map<String, Value> {
        let log_level = self
            .log_level
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let meta = RequestMetaObject {
            io_modelcontextprotocol_client_capabilities: self.capabilities.clone(),
            io_modelcontextprotocol_client_info: Some(self.client_info.clone()),
            io_modelcontextprotocol_log_level: log_level,
            io_modelcontextprotocol_protocol_version: version.as_str().to_owned(),
            progress_token: progress_token.cloned(),
            extra: JsonObject::new(),
        };
        match serde_json::to_value(meta) {
            Ok(Value::Object(meta)) => meta,
            _ => unreachable!("a request's `_meta` encodes as an object"),
        }
    }

    /// The params of a modern request: `params` (an object, or null for none) with the
    /// envelope's `_meta` members added to its own `_meta`, which they override.
    ///
    /// # Errors
    ///
    /// [`Error::is_encode`] when `params` or its `_meta` is not an object.
    pub(crate) fn params<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        version: ProtocolVersion,
        progress_token: Option<&RequestId>,
    ) -> Result<Map<String, Value>, Error> {
        let encode_error = |error| Error::encode(method, error);
        let not_an_object = |what: &str| {
            encode_error(serde::ser::Error::custom(format!(
                "{what} must be a json object"
            )))
        };
        let mut params = match serde_json::to_value(params).map_err(encode_error)? {
            Value::Null => Map::new(),
            Value::Object(params) => params,
            _ => return Err(not_an_object("params")),
        };
        let mut meta = match params.remove("_meta") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(meta)) => meta,
            Some(_) => return Err(not_an_object("params._meta")),
        };
        meta.extend(self.meta(version, progress_token));
        params.insert("_meta".to_owned(), Value::Object(meta));
        Ok(params)
    }
}

/// The capabilities a client declares in the modern era, from the same registrations as the
/// legacy ones: `elicitation` with its modes, `sampling` (with `tools` when declared), and
/// `roots` (without `listChanged`, which the modern era removed).
pub(crate) fn capabilities(
    sampling: Option<bool>,
    elicitation: Option<ElicitationModes>,
    roots: bool,
) -> ClientCapabilities {
    ClientCapabilities {
        elicitation: elicitation.map(|modes| ClientCapabilitiesElicitation {
            form: modes.form().then(JsonObject::new),
            url: modes.url().then(JsonObject::new),
        }),
        experimental: None,
        extensions: None,
        roots: roots.then(JsonObject::new),
        sampling: sampling.map(|tools| ClientCapabilitiesSampling {
            context: None,
            tools: tools.then(JsonObject::new),
        }),
    }
}

/// The requests a server may answer with a task handle (`resultType: "task"`), when the
/// request declared the tasks extension.
const TASK_METHODS: [&str; 1] = ["tools/call"];

/// What a modern result asks of the client.
pub(crate) enum Outcome {
    /// The result is final (`resultType` absent or `complete`).
    Complete,
    /// The server needs input before it can answer (`input_required`).
    InputRequired(InputRequired),
    /// The server runs the request as a task of the tasks extension (`task`): the result is
    /// its `CreateTaskResult`.
    Task,
}

/// Reads the `resultType` of a modern result of `method`; `accepts_tasks` says whether the
/// request declared the tasks extension to a server that declared it too.
///
/// # Errors
///
/// [`Error::is_invalid_result_type`] for any other value, for `input_required` on a
/// method that cannot ask for input, and for `task` on a method that cannot become a task or
/// when tasks were not agreed; [`Error::is_decode`] when an `input_required` result does not
/// have its shape.
pub(crate) fn outcome(
    method: &str,
    result: &RawValue,
    accepts_tasks: bool,
) -> Result<Outcome, Error> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "resultType")]
        result_type: Option<Value>,
    }
    // A result that is not an object has no `resultType`: the method's own decoding judges it.
    let Ok(Probe { result_type }) = serde_json::from_str::<Probe>(result.get()) else {
        return Ok(Outcome::Complete);
    };
    match result_type {
        None => Ok(Outcome::Complete),
        Some(Value::String(kind)) if kind == "complete" => Ok(Outcome::Complete),
        Some(Value::String(kind))
            if kind == "input_required" && INPUT_METHODS.contains(&method) =>
        {
            serde_json::from_str(result.get())
                .map(Outcome::InputRequired)
                .map_err(|error| Error::decode(method, error))
        }
        Some(Value::String(kind))
            if kind == "task" && accepts_tasks && TASK_METHODS.contains(&method) =>
        {
            Ok(Outcome::Task)
        }
        Some(Value::String(kind)) => Err(Error::invalid_result_type(method, &kind)),
        Some(other) => Err(Error::invalid_result_type(method, &other.to_string())),
    }
}

/// Re-encodes a value of one revision's type as another revision's type of the same shape.
pub(crate) fn convert<T: Serialize + ?Sized, U: DeserializeOwned>(
    value: &T,
) -> Result<U, serde_json::Error> {
    serde_json::from_value(serde_json::to_value(value)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn raw(value: Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(&value).expect("JSON values encode")
    }

    fn envelope() -> Envelope {
        let info = mcpwire_schema::v2025_11_25::Implementation::new("client", "1.0");
        Envelope::new(
            &info,
            capabilities(Some(false), Some(ElicitationModes::FORM), true),
        )
    }

    #[test]
    fn params_carry_the_envelope_over_the_callers_meta() {
        let envelope = envelope();
        let params = json!({"name": "x", "_meta": {"trace": 1, "progressToken": "mine"}});
        let encoded = envelope
            .params(
                "tools/call",
                &params,
                ProtocolVersion::V2026_07_28,
                Some(&RequestId::from(7)),
            )
            .expect("an object");
        assert_eq!(
            Value::Object(encoded),
            json!({"name": "x", "_meta": {
                "trace": 1,
                "progressToken": 7,
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "client", "version": "1.0"},
                "io.modelcontextprotocol/clientCapabilities": {
                    "elicitation": {"form": {}}, "roots": {}, "sampling": {},
                },
            }})
        );

        envelope.set_log_level(&mcpwire_schema::v2025_11_25::LoggingLevel::Warning);
        let encoded = envelope
            .params(
                "tools/list",
                &Value::Null,
                ProtocolVersion::V2026_07_28,
                None,
            )
            .expect("an object");
        assert_eq!(
            encoded["_meta"]["io.modelcontextprotocol/logLevel"],
            "warning"
        );
        assert!(
            envelope
                .params(
                    "tools/list",
                    &json!([1]),
                    ProtocolVersion::V2026_07_28,
                    None
                )
                .expect_err("not an object")
                .is_encode()
        );
    }

    #[test]
    fn result_types() {
        assert!(matches!(
            outcome("tools/list", &raw(json!({"tools": []})), true),
            Ok(Outcome::Complete)
        ));
        assert!(matches!(
            outcome("tools/call", &raw(json!({"resultType": "complete"})), false),
            Ok(Outcome::Complete)
        ));
        let asked = raw(json!({"resultType": "input_required", "requestState": "s"}));
        let Ok(Outcome::InputRequired(asked)) = outcome("tools/call", &asked, false) else {
            panic!("tools/call may ask for input");
        };
        assert_eq!(asked.request_state.as_deref(), Some("s"));
        let error = outcome(
            "tools/list",
            &raw(json!({"resultType": "input_required", "requestState": "s"})),
            false,
        )
        .err()
        .expect("tools/list may not ask for input");
        assert!(error.is_invalid_result_type(), "{error:?}");
        // A task handle only where tasks were agreed, and only for a method that may become one.
        let task = raw(json!({"resultType": "task", "taskId": "t"}));
        assert!(matches!(
            outcome("tools/call", &task, true),
            Ok(Outcome::Task)
        ));
        for (method, accepts_tasks) in [("tools/call", false), ("prompts/get", true)] {
            let error = outcome(method, &task, accepts_tasks)
                .err()
                .expect("unknown result type");
            assert!(error.is_invalid_result_type(), "{error:?}");
            assert!(error.to_string().contains("\"task\""), "{error}");
        }
    }
}
