//! Tool arguments mirrored into `Mcp-Param-{Name}` headers (revision 2026-07-28), on
//! transports that send headers: the `x-mcp-header` declarations learnt from `tools/list`,
//! the tools left out of it for invalid ones, and the headers of each `tools/call`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mcpwire_schema::header_params::{ANNOTATION, HeaderParams};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::Error;

/// How many tools' declarations are remembered; past it the memory starts over, and a call
/// the server then refuses for its headers lists the tools again.
const MAX_TOOLS: usize = 4096;

/// The declarations of the listed tools that mirror arguments, by tool name.
#[derive(Default)]
pub(crate) struct MirroredTools {
    tools: Mutex<HashMap<String, Arc<HeaderParams>>>,
}

impl MirroredTools {
    /// Reads a page of `tools/list`: remembers each tool's declarations and leaves out the
    /// tools whose declarations break the rules, with a warning. Returns the page as it goes
    /// to the caller, rewritten only when a tool was left out.
    pub(crate) fn read_list(&self, page: Box<RawValue>) -> Result<Box<RawValue>, Error> {
        // Most servers declare nothing: a page that never names the annotation, while no
        // listed tool declared any, goes through without being decoded here.
        if !page.get().contains(ANNOTATION) && self.lock().is_empty() {
            return Ok(page);
        }
        let mut decoded: Map<String, Value> =
            serde_json::from_str(page.get()).map_err(|error| Error::decode("tools/list", error))?;
        let Some(Value::Array(tools)) = decoded.get_mut("tools") else {
            return Ok(page);
        };
        let before = tools.len();
        let mut known = self.lock();
        tools.retain(|tool| {
            let name = tool.get("name").and_then(Value::as_str).unwrap_or_default();
            let Some(schema) = tool.get("inputSchema").and_then(Value::as_object) else {
                return true;
            };
            match HeaderParams::from_input_schema(schema) {
                Ok(params) if params.is_empty() => {
                    known.remove(name);
                    true
                }
                Ok(params) => {
                    if known.len() >= MAX_TOOLS && !known.contains_key(name) {
                        known.clear();
                    }
                    known.insert(name.to_owned(), Arc::new(params));
                    true
                }
                Err(reason) => {
                    tracing::warn!(tool = name, %reason, "left a tool out of tools/list: its x-mcp-header declarations are invalid");
                    known.remove(name);
                    false
                }
            }
        });
        drop(known);
        if tools.len() == before {
            return Ok(page);
        }
        serde_json::value::to_raw_value(&decoded)
            .map_err(|error| Error::encode("tools/list", error))
    }

    /// The `Mcp-Param-*` headers of a `tools/call` with `params`: each argument its tool
    /// mirrors and the call carries, as `(Name, value)`. None for a tool not listed yet.
    pub(crate) fn headers(&self, params: &Map<String, Value>) -> Vec<(String, String)> {
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return Vec::new();
        };
        let Some(declared) = self.lock().get(name).cloned() else {
            return Vec::new();
        };
        let arguments = params.get("arguments").and_then(Value::as_object);
        declared
            .values(arguments)
            .filter_map(|(name, value)| Some((name.to_owned(), value?)))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<HeaderParams>>> {
        // Every critical section leaves the map whole: a poisoned lock is consistent.
        self.tools
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn raw(value: Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(&value).unwrap()
    }

    #[test]
    fn invalid_tools_are_left_out_and_valid_ones_mirrored() {
        let mirrored = MirroredTools::default();
        let page = raw(json!({"tools": [
            {"name": "valid_tool", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "count": {"type": "integer", "x-mcp-header": "Count"}
            }}},
            {"name": "plain", "inputSchema": {"type": "object"}},
            {"name": "number", "inputSchema": {"type": "object", "properties": {
                "amount": {"type": "number", "x-mcp-header": "Amount"}
            }}},
            {"name": "spaced", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "My Region"}
            }}}
        ], "resultType": "complete"}));
        let kept: Value = serde_json::from_str(mirrored.read_list(page).unwrap().get()).unwrap();
        let names: Vec<_> = kept["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tool| tool["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["valid_tool", "plain"]);
        assert_eq!(kept["resultType"], "complete");

        let call = json!({"name": "valid_tool", "arguments": {"region": "eu", "count": 3}});
        let mut headers = mirrored.headers(call.as_object().unwrap());
        headers.sort();
        assert_eq!(
            headers,
            [
                ("Count".to_owned(), "3".to_owned()),
                ("Region".to_owned(), "eu".to_owned())
            ]
        );
        let absent = json!({"name": "valid_tool", "arguments": {"count": null}});
        assert!(mirrored.headers(absent.as_object().unwrap()).is_empty());
        let unknown = json!({"name": "number", "arguments": {"amount": 1}});
        assert!(mirrored.headers(unknown.as_object().unwrap()).is_empty());
    }

    #[test]
    fn a_page_without_invalid_tools_goes_through_unchanged() {
        let mirrored = MirroredTools::default();
        let text = r#"{"tools":[{"name":"a","inputSchema":{"type":"object"}}],"nextCursor":"2"}"#;
        let page = RawValue::from_string(text.to_owned()).unwrap();
        assert_eq!(mirrored.read_list(page).unwrap().get(), text);
    }
}
