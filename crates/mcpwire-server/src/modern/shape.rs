//! Results of the modern era: `resultType`, cache hints on the cacheable results,
//! `_meta["io.modelcontextprotocol/serverInfo"]` on every result, and only what 2026-07-28
//! defines.
//!
//! Results are built with the 2025-11-25 types the legacy era uses, completed here, then
//! decoded with the 2026-07-28 types and encoded again, which drops every member the modern
//! revision does not define (such as `Tool.execution` or the `tasks` capability).

use mcpwire_jsonrpc::ErrorObject;
use mcpwire_schema::{JsonObject, meta, v2026_07_28};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::CacheHints;
use crate::router::Route;
use crate::state::Inner;

/// Whether the complete results of `method` carry cache hints (caching.mdx).
fn cacheable(method: &str) -> bool {
    matches!(
        Route::of(method),
        Some(
            Route::Discover
                | Route::ListTools
                | Route::ListPrompts
                | Route::ListResources
                | Route::ListTemplates
                | Route::ReadResource
        )
    )
}

/// The complete result of `method`: `resultType: "complete"`, the cache hints when the method
/// is cacheable (`hints`, or else the server's), and the server's identity.
///
/// # Errors
///
/// `-32603` when the result does not encode as a JSON object.
pub(crate) fn complete(
    server: &Inner,
    method: &str,
    result: &impl Serialize,
    hints: Option<CacheHints>,
) -> Result<Box<RawValue>, ErrorObject> {
    let Ok(Value::Object(mut object)) = serde_json::to_value(result) else {
        return Err(ErrorObject::internal_error("a result is not a JSON object"));
    };
    object.insert("resultType".to_owned(), Value::from("complete"));
    if cacheable(method) {
        let hints = hints.unwrap_or(server.settings().cache_hints);
        object.insert("ttlMs".to_owned(), Value::from(hints.ttl_ms()));
        object.insert("cacheScope".to_owned(), Value::from(hints.scope().as_str()));
    }
    finish(server, method, object)
}

/// Adds the server's identity to a result of `method` and keeps only what 2026-07-28 defines.
///
/// # Errors
///
/// `-32603` when the result cannot be encoded.
pub(crate) fn finish(
    server: &Inner,
    method: &str,
    result: JsonObject,
) -> Result<Box<RawValue>, ErrorObject> {
    Ok(project(method, stamp(server, result)?))
}

/// Adds the server's identity to `result`'s `_meta` and encodes it as built: for the result
/// of a method 2026-07-28 does not define.
///
/// # Errors
///
/// `-32603` when the result cannot be encoded.
pub(crate) fn stamp(server: &Inner, mut result: JsonObject) -> Result<Box<RawValue>, ErrorObject> {
    let meta = result
        .entry("_meta")
        .or_insert_with(|| Value::Object(JsonObject::new()));
    if let Value::Object(meta) = meta {
        meta.insert(meta::SERVER_INFO.to_owned(), server_info(server));
    }
    serde_json::value::to_raw_value(&result)
        .map_err(|error| ErrorObject::internal_error(error.to_string()))
}

/// The server's `Implementation`, as 2026-07-28 writes it.
fn server_info(server: &Inner) -> Value {
    serde_json::to_value(&server.settings().info)
        .ok()
        .and_then(|info| serde_json::from_value::<v2026_07_28::Implementation>(info).ok())
        .and_then(|info| serde_json::to_value(info).ok())
        .unwrap_or(Value::Null)
}

/// Decodes a result with the 2026-07-28 types and encodes it again.
fn project(method: &str, result: Box<RawValue>) -> Box<RawValue> {
    v2026_07_28::ServerResult::decode(method, &result)
        .and_then(|decoded| serde_json::value::to_raw_value(&decoded))
        .unwrap_or_else(|error| {
            tracing::warn!(%method, %error, "a result does not fit 2026-07-28; sending it as built");
            result
        })
}
