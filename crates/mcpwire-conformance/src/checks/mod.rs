//! The checks, one module per area, and the small judgements they share.

pub(crate) mod authorization;
mod features;
mod fixtures;
mod http;
mod jsonrpc;
pub(crate) mod lifecycle;
mod modern;
mod stdio;
mod utilities;

use serde_json::Value;

use crate::check::{Check, Outcome};
use crate::session::Exchange;

/// Every check, in run order.
pub(crate) fn all() -> Vec<Check> {
    let mut checks = Vec::new();
    checks.extend(lifecycle::checks());
    checks.extend(jsonrpc::checks());
    checks.extend(stdio::checks());
    checks.extend(http::checks());
    checks.extend(utilities::checks());
    checks.extend(features::checks());
    checks.extend(modern::checks());
    checks.extend(authorization::checks());
    checks.extend(fixtures::checks());
    checks
}

/// The result of `exchange`, or a violation saying what came instead.
pub(crate) fn expect_result<'a>(exchange: &'a Exchange, what: &str) -> Result<&'a Value, Outcome> {
    exchange.result().ok_or_else(|| {
        Outcome::Violated(format!(
            "{what}: expected a result, saw {}",
            exchange.seen()
        ))
    })
}

/// A violation unless `exchange` is a JSON-RPC error with `code`.
pub(crate) fn expect_error_code(exchange: &Exchange, code: i64, what: &str) -> Outcome {
    match exchange.error_code() {
        Some(seen) if seen == code => Outcome::Pass(format!("{what}: error {code}")),
        _ => Outcome::Violated(format!(
            "{what}: expected a JSON-RPC error {code}, saw {}",
            exchange.seen()
        )),
    }
}

/// The type of a JSON value, in words.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
