//! Version negotiation, and shaping messages for the revision a session negotiated.
//!
//! The server builds every message with the types of the newest legacy revision. For a session
//! on an older revision, a message is decoded with that revision's types and encoded again,
//! which drops every member the older revision does not define.

use mcpwire_schema::{Era, ProtocolVersion};
use serde_json::value::RawValue;

/// The revision to answer an `initialize` that asked for `requested`: the same one when it is a
/// legacy revision we speak, otherwise the newest legacy revision.
pub(crate) fn negotiate(requested: &str) -> ProtocolVersion {
    match ProtocolVersion::from_wire(requested) {
        Some(version) if version.era() == Era::Legacy => version,
        _ => ProtocolVersion::LATEST_LEGACY,
    }
}

/// Shapes the result of `method` for `version`.
pub(crate) fn project_result(
    version: ProtocolVersion,
    method: &str,
    result: Box<RawValue>,
) -> Box<RawValue> {
    macro_rules! through {
        ($module:ident) => {
            mcpwire_schema::$module::ServerResult::decode(method, &result)
                .and_then(|decoded| serde_json::value::to_raw_value(&decoded))
        };
    }
    let projected = match version {
        ProtocolVersion::V2024_11_05 => through!(v2024_11_05),
        ProtocolVersion::V2025_03_26 => through!(v2025_03_26),
        ProtocolVersion::V2025_06_18 => through!(v2025_06_18),
        _ => return result,
    };
    projected.unwrap_or_else(|error| {
        tracing::warn!(%method, %version, %error, "a result does not fit the negotiated revision; sending it as built");
        result
    })
}

/// Shapes the params of a server notification or request for `version`.
pub(crate) fn project_params(
    version: ProtocolVersion,
    method: &str,
    params: Box<RawValue>,
    request: bool,
) -> Box<RawValue> {
    if version >= ProtocolVersion::V2025_11_25 {
        return params;
    }
    let message = format!(
        r#"{{"jsonrpc":"2.0","id":0,"method":{},"params":{}}}"#,
        serde_json::Value::from(method),
        params.get()
    );
    let message = if request {
        message
    } else {
        message.replacen(r#""id":0,"#, "", 1)
    };
    macro_rules! through {
        ($module:ident) => {{
            let value: Result<serde_json::Value, serde_json::Error> = if request {
                serde_json::from_str::<mcpwire_schema::$module::ServerRequest>(&message)
                    .and_then(|decoded| serde_json::to_value(&decoded))
            } else {
                serde_json::from_str::<mcpwire_schema::$module::ServerNotification>(&message)
                    .and_then(|decoded| serde_json::to_value(&decoded))
            };
            value
        }};
    }
    let projected = match version {
        ProtocolVersion::V2024_11_05 => through!(v2024_11_05),
        ProtocolVersion::V2025_03_26 => through!(v2025_03_26),
        _ => through!(v2025_06_18),
    };
    projected
        .ok()
        .and_then(|value| value.get("params").map(serde_json::Value::to_string))
        .and_then(|text| RawValue::from_string(text).ok())
        .unwrap_or(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_echoes_legacy_versions_and_falls_back_to_the_latest() {
        for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
            assert_eq!(negotiate(version).as_str(), version);
        }
        assert_eq!(negotiate("2099-01-01"), ProtocolVersion::LATEST_LEGACY);
        assert_eq!(negotiate("2026-07-28"), ProtocolVersion::LATEST_LEGACY);
        assert_eq!(negotiate(""), ProtocolVersion::LATEST_LEGACY);
    }

    #[test]
    fn older_revisions_lose_members_they_do_not_define() {
        let result = RawValue::from_string(
            r#"{"content":[{"type":"text","text":"4"}],"structuredContent":{"sum":4},"isError":false}"#.to_owned(),
        )
        .expect("json");
        let old = project_result(ProtocolVersion::V2024_11_05, "tools/call", result.clone());
        assert_eq!(
            old.get(),
            r#"{"content":[{"text":"4","type":"text"}],"isError":false}"#
        );
        let newer = project_result(ProtocolVersion::V2025_06_18, "tools/call", result.clone());
        assert!(newer.get().contains("structuredContent"));
        let latest = project_result(ProtocolVersion::V2025_11_25, "tools/call", result.clone());
        assert_eq!(latest.get(), result.get());
    }
}
