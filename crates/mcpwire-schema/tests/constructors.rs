//! The generated constructors and setters: `new` takes the required members, `with_*` sets an
//! optional one, constant tags fill themselves in, and the value encodes as the schema says.
//! The parameters of `new` come in the order of the schema's `required` list.

use mcpwire_schema::v2025_11_25::{
    CallToolRequestParams, CallToolResult, ContentBlock, Implementation, TextContent, Tool,
};
use serde_json::json;

#[test]
fn new_takes_the_required_members_and_leaves_the_rest_unset() {
    let info = Implementation::new("my-client", "1.0.0");
    assert_eq!(
        serde_json::to_value(&info).unwrap(),
        json!({"name": "my-client", "version": "1.0.0"})
    );
}

#[test]
fn setters_fill_optional_members_under_their_wire_names() {
    let info = Implementation::new("my-client", String::from("1.0.0"))
        .with_title("My Client")
        .with_website_url("https://example.com");
    assert_eq!(
        serde_json::to_value(&info).unwrap(),
        json!({
            "name": "my-client",
            "version": "1.0.0",
            "title": "My Client",
            "websiteUrl": "https://example.com"
        })
    );
}

#[test]
fn constant_tags_are_filled_in_by_the_constructor() {
    let text = TextContent::new("hello");
    let result = CallToolResult::new(vec![ContentBlock::TextContent(text)]).with_is_error(false);
    assert_eq!(
        serde_json::to_value(&result).unwrap(),
        json!({"content": [{"type": "text", "text": "hello"}], "isError": false})
    );
}

#[test]
fn constructed_values_decode_back_to_themselves() {
    let schema = json!({"type": "object"}).as_object().cloned().unwrap();
    let tool = Tool::new(schema, "echo").with_description("Echoes its input");
    let decoded: Tool = serde_json::from_value(serde_json::to_value(&tool).unwrap()).unwrap();
    assert_eq!(decoded, tool);
    let params = CallToolRequestParams::new("echo");
    assert_eq!(
        serde_json::to_value(&params).unwrap(),
        json!({"name": "echo"})
    );
}
