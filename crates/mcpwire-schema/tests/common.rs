//! Helpers shared by the golden and transcript tests.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use serde_json::Value;

/// The directory holding `<revision>/schema.json` and the 2026-07-28 examples: the
/// `MCPWIRE_SCHEMA_DIR` override, or `../shared/mcp-schema` beside the checkout.
pub fn schema_dir() -> PathBuf {
    match std::env::var_os("MCPWIRE_SCHEMA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mcp-schema"),
    }
}

/// Compares two JSON values, treating numbers as equal when their values are equal (`30` and
/// `30.0` are the same JSON number). Returns the path of the first difference.
pub fn json_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Number(left), Value::Number(right)) => {
            let equal = match (left.as_i64(), right.as_i64()) {
                (Some(left), Some(right)) => left == right,
                _ => left.as_f64() == right.as_f64(),
            };
            (!equal).then(|| format!("{path}: expected {left}, got {right}"))
        }
        (Value::Object(left), Value::Object(right)) => {
            for (key, value) in left {
                match right.get(key) {
                    Some(other) => {
                        if let Some(difference) =
                            json_difference(value, other, &format!("{path}/{key}"))
                        {
                            return Some(difference);
                        }
                    }
                    None => return Some(format!("{path}/{key}: missing after re-encoding")),
                }
            }
            right
                .keys()
                .find(|key| !left.contains_key(*key))
                .map(|key| format!("{path}/{key}: added by re-encoding"))
        }
        (Value::Array(left), Value::Array(right)) => {
            if left.len() != right.len() {
                return Some(format!(
                    "{path}: expected {} items, got {}",
                    left.len(),
                    right.len()
                ));
            }
            left.iter()
                .zip(right)
                .enumerate()
                .find_map(|(index, (left, right))| {
                    json_difference(left, right, &format!("{path}/{index}"))
                })
        }
        _ => (expected != actual).then(|| format!("{path}: expected {expected}, got {actual}")),
    }
}
