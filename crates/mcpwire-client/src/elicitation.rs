//! Elicitation modes and the defaults of a requested form.

use mcpwire_schema::v2025_11_25::{
    ElicitRequestFormParamsRequestedSchema, ElicitResult, ElicitResultAction,
    ElicitResultContentValue, NumberSchemaType, PrimitiveSchemaDefinition,
};

/// The elicitation modes a client supports, declared in its `elicitation` capability.
///
/// A server must not send a request in a mode the client did not declare; the client answers
/// one with `-32602` invalid params.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ElicitationModes {
    form: bool,
    url: bool,
}

impl ElicitationModes {
    /// Form mode only: the server sends a flat schema and the user fills it in.
    pub const FORM: ElicitationModes = ElicitationModes {
        form: true,
        url: false,
    };
    /// URL mode only: the user is sent to a URL to finish the interaction out of band.
    pub const URL: ElicitationModes = ElicitationModes {
        form: false,
        url: true,
    };
    /// Both form and URL mode.
    pub const FORM_AND_URL: ElicitationModes = ElicitationModes {
        form: true,
        url: true,
    };

    /// Whether form mode is supported.
    pub fn form(self) -> bool {
        self.form
    }

    /// Whether URL mode is supported.
    pub fn url(self) -> bool {
        self.url
    }
}

impl Default for ElicitationModes {
    fn default() -> Self {
        ElicitationModes::FORM
    }
}

/// Fills in, for an `accept` answer, the `default` of every requested field the answer left
/// out (SEP-1034), so the server sees the values the form showed the user.
pub(crate) fn apply_defaults(
    schema: &ElicitRequestFormParamsRequestedSchema,
    result: &mut ElicitResult,
) {
    if result.action != ElicitResultAction::Accept {
        return;
    }
    for (name, definition) in &schema.properties {
        let Some(default) = default_of(definition) else {
            continue;
        };
        let content = result.content.get_or_insert_with(Default::default);
        content.entry(name.clone()).or_insert(default);
    }
}

fn default_of(definition: &PrimitiveSchemaDefinition) -> Option<ElicitResultContentValue> {
    use ElicitResultContentValue as Value;
    match definition {
        PrimitiveSchemaDefinition::StringSchema(schema) => {
            schema.default.clone().map(Value::String)
        }
        PrimitiveSchemaDefinition::NumberSchema(schema) => {
            let default = schema.default?;
            let integral = default.fract() == 0.0 && default.abs() < 2f64.powi(53);
            Some(if schema.r#type == NumberSchemaType::Integer && integral {
                // An integer field's default is sent as an integer, as the user's answer
                // would be; the checks above make the conversion exact.
                Value::Integer(default as i64)
            } else {
                Value::Number(default)
            })
        }
        PrimitiveSchemaDefinition::BooleanSchema(schema) => schema.default.map(Value::Boolean),
        PrimitiveSchemaDefinition::UntitledSingleSelectEnumSchema(schema) => {
            schema.default.clone().map(Value::String)
        }
        PrimitiveSchemaDefinition::TitledSingleSelectEnumSchema(schema) => {
            schema.default.clone().map(Value::String)
        }
        PrimitiveSchemaDefinition::LegacyTitledEnumSchema(schema) => {
            schema.default.clone().map(Value::String)
        }
        PrimitiveSchemaDefinition::UntitledMultiSelectEnumSchema(schema) => {
            schema.default.clone().map(Value::Array)
        }
        PrimitiveSchemaDefinition::TitledMultiSelectEnumSchema(schema) => {
            schema.default.clone().map(Value::Array)
        }
        // A field type this revision does not know: use its default if it has a shape an
        // answer can carry.
        PrimitiveSchemaDefinition::Unknown(schema) => schema
            .get("default")
            .and_then(|default| serde_json::from_value(default.clone()).ok()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema(value: serde_json::Value) -> ElicitRequestFormParamsRequestedSchema {
        serde_json::from_value(value).expect("a valid requested schema")
    }

    fn result(value: serde_json::Value) -> ElicitResult {
        serde_json::from_value(value).expect("a valid result")
    }

    #[test]
    fn defaults_fill_fields_the_user_left_out() {
        let schema = schema(json!({
            "type": "object",
            "properties": {
                "email": {"type": "string", "default": "user@example.com"},
                "age": {"type": "integer", "default": 42},
                "ratio": {"type": "number", "default": 0.5},
                "subscribe": {"type": "boolean", "default": false},
                "color": {"type": "string", "enum": ["Red", "Green"], "default": "Red"},
                "colors": {"type": "array", "items": {"type": "string", "enum": ["Red", "Green"]}, "default": ["Green"]},
                "name": {"type": "string"},
            }
        }));
        let mut answer =
            result(json!({"action": "accept", "content": {"email": "me@example.com"}}));
        apply_defaults(&schema, &mut answer);
        assert_eq!(
            serde_json::to_value(&answer).expect("encodes"),
            json!({"action": "accept", "content": {
                "email": "me@example.com",
                "age": 42,
                "ratio": 0.5,
                "subscribe": false,
                "color": "Red",
                "colors": ["Green"],
            }})
        );
    }

    #[test]
    fn defaults_create_content_and_skip_refusals() {
        let schema = schema(json!({
            "type": "object",
            "properties": {"subscribe": {"type": "boolean", "default": true}}
        }));
        let mut accepted = result(json!({"action": "accept"}));
        apply_defaults(&schema, &mut accepted);
        assert_eq!(
            serde_json::to_value(&accepted).expect("encodes"),
            json!({"action": "accept", "content": {"subscribe": true}})
        );
        for action in ["decline", "cancel"] {
            let mut refused = result(json!({"action": action}));
            apply_defaults(&schema, &mut refused);
            assert_eq!(refused.content, None, "{action}");
        }
    }
}
