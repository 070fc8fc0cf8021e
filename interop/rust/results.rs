//! Reading what tools answer, as the tests of our client against other SDKs' servers do.

use mcpwire_client::Client;
use mcpwire_schema::v2025_11_25::{CallToolResult, ContentBlock};
use serde_json::Value;

/// Calls the tool `name` with `arguments`; the call and the tool must succeed.
pub async fn call_ok(client: &Client, name: &str, arguments: Value) -> CallToolResult {
    let result = client
        .call_tool(name, arguments)
        .await
        .unwrap_or_else(|error| panic!("tools/call {name}: {error}"));
    assert_ne!(result.is_error, Some(true), "{name} failed: {result:?}");
    result
}

/// The text blocks of a tool result, in order.
pub fn texts(result: &CallToolResult) -> Vec<String> {
    result
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::TextContent(text) => Some(text.text.clone()),
            _ => None,
        })
        .collect()
}
