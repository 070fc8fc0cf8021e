//! The `x-mcp-header` annotations of a tool's input schema (revision 2026-07-28): which tool
//! arguments a client over Streamable HTTP mirrors into `Mcp-Param-{Name}` headers, and the
//! rules a declaration must follow.
//!
//! Both roles read them the same way: the server checks its own definitions when a tool is
//! built and compares the headers of a call with its arguments; the client drops a listed tool
//! whose declarations break the rules and writes the headers of each call.
//!
//! ```
//! use mcpwire_schema::header_params::HeaderParams;
//! use serde_json::json;
//!
//! let schema = json!({
//!     "type": "object",
//!     "properties": {
//!         "region": {"type": "string", "x-mcp-header": "Region"},
//!         "query": {"type": "string"}
//!     }
//! });
//! let params = HeaderParams::from_input_schema(schema.as_object().unwrap()).unwrap();
//! let arguments = json!({"region": "us-west1", "query": "SELECT 1"});
//! let headers: Vec<_> = params.values(arguments.as_object()).collect();
//! assert_eq!(headers, [("Region", Some("us-west1".to_owned()))]);
//!
//! let number = json!({"type": "object", "properties": {"n": {"type": "number", "x-mcp-header": "N"}}});
//! assert!(HeaderParams::from_input_schema(number.as_object().unwrap()).is_err());
//! ```

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::JsonObject;

/// The schema keyword that names the header of a property.
pub const ANNOTATION: &str = "x-mcp-header";

/// Keywords whose value is one subschema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "additionalItems",
    "additionalProperties",
    "contains",
    "contentSchema",
    "else",
    "if",
    "items",
    "not",
    "propertyNames",
    "then",
    "unevaluatedItems",
    "unevaluatedProperties",
];

/// Keywords whose value is an array of subschemas.
const SCHEMA_ARRAY_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];

/// Keywords whose value maps names to subschemas, other than `properties`.
const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "$defs",
    "definitions",
    "dependentSchemas",
    "patternProperties",
];

/// How deep the walk of a schema goes; deeper schemas are refused rather than walked.
const MAX_DEPTH: usize = 64;

/// The `x-mcp-header` declarations of one tool.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderParams {
    params: Vec<HeaderParam>,
}

/// One declaration: the header name and the chain of `properties` keys to the argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderParam {
    name: String,
    path: Vec<String>,
}

impl HeaderParams {
    /// Reads the declarations of `schema`, a tool's `inputSchema`, and checks them.
    ///
    /// # Errors
    ///
    /// [`InvalidHeaderParam`] when a declaration breaks a rule of the transport: its value is
    /// not a non-empty HTTP token (RFC 9110 `1*tchar`), two values are equal ignoring case,
    /// the property is not of type `string`, `integer` or `boolean`, or the annotation is not
    /// on a property reachable from the root through `properties` keys alone (it sits under
    /// `items`, a composition or conditional keyword, `$defs`, or on the root itself).
    pub fn from_input_schema(schema: &JsonObject) -> Result<HeaderParams, InvalidHeaderParam> {
        let mut found = Vec::new();
        walk(schema, Some(&mut Vec::new()), &mut found, 0)?;
        let mut seen = HashSet::new();
        for param in &found {
            if !seen.insert(param.name.to_ascii_lowercase()) {
                return Err(InvalidHeaderParam::new(format!(
                    "the header name {:?} is declared twice (names are compared ignoring case)",
                    param.name
                )));
            }
        }
        Ok(HeaderParams { params: found })
    }

    /// Whether the tool declares no header.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The declarations.
    pub fn iter(&self) -> impl Iterator<Item = &HeaderParam> {
        self.params.iter()
    }

    /// Each declared header name with the value of its argument in `arguments` (see
    /// [`HeaderParam::value_in`]).
    pub fn values<'s, 'a>(
        &'s self,
        arguments: Option<&'a JsonObject>,
    ) -> impl Iterator<Item = (&'s str, Option<String>)> + use<'s, 'a> {
        self.params
            .iter()
            .map(move |param| (param.name(), param.value_in(arguments)))
    }
}

impl HeaderParam {
    /// The `{Name}` of `Mcp-Param-{Name}`, as the schema spells it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `properties` keys that lead from the root to the argument.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The header's value for a call with `arguments`, before the header encoding: a string as
    /// is, an integer in decimal, a boolean as `true` or `false`. `None` when the argument is
    /// absent or `null` (the header is then omitted), or is not a primitive.
    pub fn value_in(&self, arguments: Option<&JsonObject>) -> Option<String> {
        let (last, parents) = self.path.split_last()?;
        let mut object = arguments?;
        for key in parents {
            object = object.get(key)?.as_object()?;
        }
        header_value(object.get(last)?)
    }
}

/// The text a primitive argument has in its header.
fn header_value(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => {
            if number.is_i64() || number.is_u64() {
                return Some(number.to_string());
            }
            // An integral float (`5.0`) is the integer 5 in JSON Schema.
            let float = number.as_f64()?;
            if float.fract() == 0.0 && float.abs() < 9_007_199_254_740_992.0 {
                #[allow(clippy::cast_possible_truncation)]
                return Some((float as i64).to_string());
            }
            Some(number.to_string())
        }
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Collects the declarations under `schema`. `path` is the chain of `properties` keys from
/// the root when `schema` is statically reachable, `None` otherwise.
fn walk(
    schema: &Map<String, Value>,
    path: Option<&mut Vec<String>>,
    found: &mut Vec<HeaderParam>,
    depth: usize,
) -> Result<(), InvalidHeaderParam> {
    if depth > MAX_DEPTH {
        return Err(InvalidHeaderParam::new(format!(
            "the input schema nests deeper than {MAX_DEPTH} levels"
        )));
    }
    if let Some(annotation) = schema.get(ANNOTATION) {
        match path.as_deref() {
            Some(path) if !path.is_empty() => found.push(declaration(annotation, schema, path)?),
            Some(_) => {
                return Err(InvalidHeaderParam::new(format!(
                    "`{ANNOTATION}` is on the root of the input schema, not on a property"
                )));
            }
            None => {
                return Err(InvalidHeaderParam::new(format!(
                    "`{ANNOTATION}` {annotation} is on a property that is not reachable from \
                     the root through `properties` alone"
                )));
            }
        }
    }
    let reachable = path;
    if let Some(Value::Object(properties)) = schema.get("properties") {
        match reachable {
            Some(path) => {
                for (key, property) in properties {
                    if let Value::Object(property) = property {
                        path.push(key.clone());
                        let outcome = walk(property, Some(path), found, depth + 1);
                        path.pop();
                        outcome?;
                    }
                }
            }
            None => {
                for property in properties.values().filter_map(Value::as_object) {
                    walk(property, None, found, depth + 1)?;
                }
            }
        }
    }
    for (keyword, value) in schema {
        if SCHEMA_KEYWORDS.contains(&keyword.as_str())
            && let Value::Object(subschema) = value
        {
            walk(subschema, None, found, depth + 1)?;
        }
        if SCHEMA_ARRAY_KEYWORDS.contains(&keyword.as_str())
            && let Value::Array(subschemas) = value
        {
            for subschema in subschemas.iter().filter_map(Value::as_object) {
                walk(subschema, None, found, depth + 1)?;
            }
        }
        if SCHEMA_MAP_KEYWORDS.contains(&keyword.as_str())
            && let Value::Object(subschemas) = value
        {
            for subschema in subschemas.values().filter_map(Value::as_object) {
                walk(subschema, None, found, depth + 1)?;
            }
        }
    }
    Ok(())
}

/// The declaration `annotation` on the property `schema` at `path`, once checked.
fn declaration(
    annotation: &Value,
    schema: &Map<String, Value>,
    path: &[String],
) -> Result<HeaderParam, InvalidHeaderParam> {
    let property = path.join(".");
    let Value::String(name) = annotation else {
        return Err(InvalidHeaderParam::new(format!(
            "`{ANNOTATION}` of property `{property}` is {annotation}, not a string"
        )));
    };
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(InvalidHeaderParam::new(format!(
            "`{ANNOTATION}` {name:?} of property `{property}` is not an HTTP token \
             (one or more letters, digits or !#$%&'*+-.^_`|~)"
        )));
    }
    if !has_primitive_type(schema.get("type")) {
        return Err(InvalidHeaderParam::new(format!(
            "property `{property}` with `{ANNOTATION}` {name:?} must be of type string, \
             integer or boolean"
        )));
    }
    Ok(HeaderParam {
        name: name.clone(),
        path: path.to_vec(),
    })
}

/// Whether `byte` is a `tchar` of RFC 9110.
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Whether a `type` keyword names one of the types a header can carry: `string`, `integer`
/// or `boolean`, alone or with `null` (an argument that may be left out of the headers).
fn has_primitive_type(kind: Option<&Value>) -> bool {
    let primitive = |kind: &str| matches!(kind, "string" | "integer" | "boolean");
    match kind {
        Some(Value::String(kind)) => primitive(kind),
        Some(Value::Array(kinds)) => {
            let mut named = kinds.iter().filter(|kind| kind.as_str() != Some("null"));
            matches!(
                (named.next(), named.next()),
                (Some(Value::String(kind)), None) if primitive(kind)
            )
        }
        _ => false,
    }
}

/// A tool definition whose `x-mcp-header` declarations break the rules: a server refuses to
/// build the tool, a client over Streamable HTTP leaves it out of `tools/list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidHeaderParam {
    reason: String,
}

impl InvalidHeaderParam {
    fn new(reason: String) -> Self {
        InvalidHeaderParam { reason }
    }
}

impl fmt::Display for InvalidHeaderParam {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.reason)
    }
}

impl std::error::Error for InvalidHeaderParam {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(schema: Value) -> Result<HeaderParams, InvalidHeaderParam> {
        HeaderParams::from_input_schema(schema.as_object().expect("an object"))
    }

    fn property(property: Value) -> Result<HeaderParams, InvalidHeaderParam> {
        params(json!({"type": "object", "properties": {"field": property}}))
    }

    #[test]
    fn primitive_properties_may_be_mirrored() {
        for kind in [
            json!("string"),
            json!("integer"),
            json!("boolean"),
            json!(["string", "null"]),
        ] {
            let found = property(json!({"type": kind, "x-mcp-header": "Field"})).expect("valid");
            let names: Vec<_> = found.iter().map(HeaderParam::name).collect();
            assert_eq!(names, ["Field"], "{kind}");
        }
    }

    #[test]
    fn other_types_are_refused() {
        for kind in [
            json!("number"),
            json!("object"),
            json!("array"),
            json!("null"),
            json!(["string", "integer"]),
            Value::Null,
        ] {
            let mut schema = json!({"x-mcp-header": "Field"});
            if !kind.is_null() {
                schema["type"] = kind.clone();
            }
            assert!(property(schema).is_err(), "{kind}");
        }
    }

    #[test]
    fn names_must_be_unique_tokens() {
        for name in [
            json!(""),
            json!("My Region"),
            json!("Region:Primary"),
            json!("Région"),
            json!("Region\t1"),
            json!("A\r\nB"),
            json!(7),
        ] {
            assert!(
                property(json!({"type": "string", "x-mcp-header": name})).is_err(),
                "{name}"
            );
        }
        assert!(property(json!({"type": "string", "x-mcp-header": "X-Trace_1.v~2"})).is_ok());
        let duplicated = params(json!({"type": "object", "properties": {
            "a": {"type": "string", "x-mcp-header": "MyField"},
            "b": {"type": "string", "x-mcp-header": "myfield"}
        }}));
        assert!(duplicated.unwrap_err().to_string().contains("twice"));
    }

    #[test]
    fn only_properties_chains_are_reachable() {
        let nested = params(json!({"type": "object", "properties": {
            "outer": {"type": "object", "properties": {
                "inner": {"type": "integer", "x-mcp-header": "Inner"}
            }}
        }}))
        .expect("nested properties are reachable");
        let found: Vec<_> = nested
            .iter()
            .map(|param| (param.name(), param.path().to_vec()))
            .collect();
        assert_eq!(
            found,
            [("Inner", vec!["outer".to_owned(), "inner".to_owned()])]
        );

        let annotated = json!({"type": "string", "x-mcp-header": "Hidden"});
        for unreachable in [
            json!({"type": "object", "properties": {"list": {"type": "array", "items": annotated}}}),
            json!({"type": "object", "properties": {"list": {"type": "array", "prefixItems": [annotated]}}}),
            json!({"type": "object", "anyOf": [{"properties": {"a": annotated}}]}),
            json!({"type": "object", "if": {"properties": {"a": annotated}}}),
            json!({"type": "object", "$defs": {"a": annotated}, "properties": {"a": {"$ref": "#/$defs/a"}}}),
            json!({"type": "object", "additionalProperties": annotated}),
            json!({"type": "object", "x-mcp-header": "Root"}),
        ] {
            assert!(params(unreachable.clone()).is_err(), "{unreachable}");
        }
        // The annotation's name used as a property name, or inside a value, is no annotation.
        let literal = params(json!({"type": "object", "properties": {
            "x-mcp-header": {"type": "string", "default": "v", "examples": [{"x-mcp-header": 1}]}
        }}))
        .expect("valid");
        assert!(literal.is_empty());
    }

    #[test]
    fn values_are_read_at_their_path() {
        let found = params(json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "priority": {"type": "integer", "x-mcp-header": "Priority"},
            "verbose": {"type": "boolean", "x-mcp-header": "Verbose"},
            "outer": {"type": "object", "properties": {"id": {"type": "integer", "x-mcp-header": "Id"}}}
        }}))
        .expect("valid");
        let arguments =
            json!({"region": "eu", "priority": 5.0, "verbose": null, "outer": {"id": -7}});
        let values = |arguments: Option<&JsonObject>| {
            let mut values: Vec<_> = found.values(arguments).collect();
            values.sort();
            values
        };
        assert_eq!(
            values(arguments.as_object()),
            [
                ("Id", Some("-7".to_owned())),
                ("Priority", Some("5".to_owned())),
                ("Region", Some("eu".to_owned())),
                ("Verbose", None),
            ]
        );
        assert!(values(None).iter().all(|(_, value)| value.is_none()));
        let wrong_shape = json!({"outer": "not an object", "verbose": false});
        let values = values(wrong_shape.as_object());
        assert_eq!(values[0], ("Id", None));
        assert_eq!(values[3], ("Verbose", Some("false".to_owned())));
    }
}
