//! What a request looks like in each protocol era: the headers and the body of a `tools/call`
//! of `echo`, and the legacy era's session handshake.

use serde_json::{Value, json};

/// The revision a legacy client negotiates with `initialize`.
pub(crate) const LEGACY_VERSION: &str = "2025-11-25";

/// The revision every modern request names, in its header and in `_meta`.
pub(crate) const MODERN_VERSION: &str = "2026-07-28";

/// The name this client gives itself.
const CLIENT_NAME: &str = "mcpwire-bench";

/// The protocol era a client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Era {
    /// 2025-11-25: `initialize` first, then every request in the session it opened.
    Legacy,
    /// 2026-07-28: no handshake; each request carries its version, method and name in
    /// headers, and the client's information and capabilities in `_meta`.
    Modern,
}

impl Era {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Era::Legacy => "legacy",
            Era::Modern => "modern",
        }
    }

    pub(crate) fn version(self) -> &'static str {
        match self {
            Era::Legacy => LEGACY_VERSION,
            Era::Modern => MODERN_VERSION,
        }
    }
}

/// The `tools/call` of `echo` with `text`, as the body of request `id` in `era`.
pub(crate) fn echo_call(era: Era, id: u64, text: &str) -> Vec<u8> {
    let mut params = json!({ "name": "echo", "arguments": { "text": text } });
    if era == Era::Modern {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
            "io.modelcontextprotocol/clientInfo": { "name": CLIENT_NAME, "version": env!("CARGO_PKG_VERSION") },
            "io.modelcontextprotocol/clientCapabilities": {},
        });
    }
    let request = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params });
    serde_json::to_vec(&request).expect("a JSON value always serializes")
}

/// The headers of a `tools/call` of `echo` in `era`, besides `Content-Type` and `Accept`.
pub(crate) fn echo_headers(era: Era) -> Vec<(&'static str, &'static str)> {
    match era {
        Era::Legacy => vec![("mcp-protocol-version", LEGACY_VERSION)],
        Era::Modern => vec![
            ("mcp-protocol-version", MODERN_VERSION),
            ("mcp-method", "tools/call"),
            ("mcp-name", "echo"),
        ],
    }
}

/// The legacy `initialize` request, id 0.
pub(crate) fn initialize() -> Vec<u8> {
    let request = json!({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": LEGACY_VERSION,
            "capabilities": {},
            "clientInfo": { "name": CLIENT_NAME, "version": env!("CARGO_PKG_VERSION") },
        },
    });
    serde_json::to_vec(&request).expect("a JSON value always serializes")
}

/// The legacy `notifications/initialized`, which ends the handshake.
pub(crate) fn initialized() -> Vec<u8> {
    br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec()
}

/// Checks the answer to the echo call `id`: a result, not a tool error, whose first text
/// is `expected_length` bytes long.
///
/// # Errors
///
/// A short name of what was wrong, used to count errors by kind.
pub(crate) fn check_echo(message: &Value, id: u64, expected_length: usize) -> Result<(), String> {
    if message.get("id").and_then(Value::as_u64) != Some(id) {
        return Err("wrong_id".to_owned());
    }
    if let Some(error) = message.get("error") {
        let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
        return Err(format!("rpc_error_{code}"));
    }
    let Some(result) = message.get("result") else {
        return Err("no_result".to_owned());
    };
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        return Err("tool_error".to_owned());
    }
    let text = result
        .pointer("/content/0/text")
        .and_then(Value::as_str)
        .ok_or_else(|| "no_text".to_owned())?;
    if text.len() != expected_length {
        return Err("wrong_length".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_modern_call_carries_its_version_and_capabilities_in_meta() {
        let body: Value = serde_json::from_slice(&echo_call(Era::Modern, 7, "hi")).unwrap();
        let meta = &body["params"]["_meta"];
        assert_eq!(
            meta["io.modelcontextprotocol/protocolVersion"],
            MODERN_VERSION
        );
        assert!(meta["io.modelcontextprotocol/clientCapabilities"].is_object());
        assert_eq!(body["id"], 7);
        assert_eq!(body["params"]["name"], "echo");
        let legacy: Value = serde_json::from_slice(&echo_call(Era::Legacy, 7, "hi")).unwrap();
        assert!(legacy["params"].get("_meta").is_none());
        let headers = echo_headers(Era::Modern);
        assert!(headers.contains(&("mcp-name", "echo")));
        assert!(headers.contains(&("mcp-method", "tools/call")));
    }

    #[test]
    fn only_an_echo_of_the_right_length_passes() {
        let answer = |text: &str| json!({"jsonrpc": "2.0", "id": 3, "result": {"content": [{"type": "text", "text": text}]}});
        assert_eq!(check_echo(&answer("abc"), 3, 3), Ok(()));
        assert_eq!(
            check_echo(&answer("ab"), 3, 3),
            Err("wrong_length".to_owned())
        );
        assert_eq!(check_echo(&answer("abc"), 4, 3), Err("wrong_id".to_owned()));
        let failed = json!({"jsonrpc": "2.0", "id": 3, "result": {"content": [], "isError": true}});
        assert_eq!(check_echo(&failed, 3, 0), Err("tool_error".to_owned()));
        let error = json!({"jsonrpc": "2.0", "id": 3, "error": {"code": -32020, "message": "m"}});
        assert_eq!(check_echo(&error, 3, 0), Err("rpc_error_-32020".to_owned()));
    }
}
