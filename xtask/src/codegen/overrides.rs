//! The one table of corrections to the upstream `schema.json` files.
//!
//! `schema.json` is generated upstream from `schema.ts`, which is the declared source of truth,
//! and the translation has known defects. Every correction lives here with the reason for it, so
//! that a reader of the generated code can tell what differs from the JSON input and why.

use serde_json::{Value, json};

/// Where an override applies: one revision module, or every module.
#[derive(Clone, Copy)]
pub(crate) enum Scope {
    All,
    Module(&'static str),
}

impl Scope {
    pub(crate) fn matches(self, module: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Module(name) => name == module,
        }
    }
}

/// Replaces the subschema at a JSON pointer (relative to the definitions object) before any
/// code is generated.
pub(crate) struct Patch {
    pub(crate) scope: Scope,
    pub(crate) pointer: &'static str,
    pub(crate) replacement: fn() -> Value,
}

/// Maps a definition to a Rust type instead of generating one.
pub(crate) struct TypeOverride {
    pub(crate) scope: Scope,
    pub(crate) definition: &'static str,
    pub(crate) rust: &'static str,
}

/// A condition on a buffered JSON object, used by rule-decoded unions.
pub(crate) enum Condition {
    /// The member equals one of the strings.
    Equals(&'static str, &'static [&'static str]),
    /// The member is present.
    Has(&'static str),
    /// The member is an object that has the nested member.
    HasNested(&'static str, &'static str),
}

/// A union whose variants share no single discriminator: it is decoded by ordered rules, each a
/// check of discriminating members (never a trial decode of a variant).
pub(crate) struct RuleUnion {
    pub(crate) scope: Scope,
    pub(crate) definition: &'static str,
    pub(crate) rules: &'static [(&'static [Condition], &'static str)],
}

/// A union discriminated by a string member whose values the schema does not spell as `const`.
pub(crate) struct KeyedUnion {
    pub(crate) scope: Scope,
    /// The definition, or `Definition.property` for an inline union.
    pub(crate) location: &'static str,
    pub(crate) key: &'static str,
    pub(crate) arms: &'static [(&'static str, &'static str)],
    /// The variant chosen when the member is absent.
    pub(crate) absent: Option<&'static str>,
}

/// Members that the input marks required but that a receiver must accept as absent.
pub(crate) struct Relaxed {
    pub(crate) scope: Scope,
    pub(crate) definitions: &'static [&'static str],
    pub(crate) members: &'static [&'static str],
}

/// Definitions that are not generated at all.
pub(crate) struct Skip {
    pub(crate) definition: &'static str,
}

pub(crate) const PATCHES: &[Patch] = &[
    // A tool's input and output schemas are whole JSON Schemas: any keyword, boolean
    // subschemas (`"properties": {"x": true}`), `$defs`, composition keywords. The MCP schema
    // types a few of their members, which would reject valid schemas. Keep them as
    // plain JSON objects, exactly as the server registered them.
    Patch {
        scope: Scope::All,
        pointer: "/Tool/properties/inputSchema",
        replacement: || json!({"type": "object"}),
    },
    Patch {
        scope: Scope::All,
        pointer: "/Tool/properties/outputSchema",
        replacement: || json!({"type": "object"}),
    },
    // `ElicitResult.content` values are typed string | integer | boolean | string[] in the JSON
    // Schema, but `schema.ts` says `string | number | boolean | string[]`: a float answer such as
    // 30.5 is valid. Accept both integers and floats, keeping integers exact.
    Patch {
        scope: Scope::All,
        pointer: "/ElicitResult/properties/content/additionalProperties",
        replacement: || {
            json!({"anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": ["string", "integer", "number", "boolean"]}
            ]})
        },
    },
];

pub(crate) const RELAXED: &[Relaxed] = &[
    // 2026-07-28 marks the cache hints required on cacheable results, but caching.mdx tells
    // clients what to assume when `ttlMs` is absent, and the shipped example
    // `ReadResourceResultResponse/read-resource-result-response.json` omits both hints.
    // Decode them as optional; servers built on mcpwire still send them.
    Relaxed {
        scope: Scope::Module("v2026_07_28"),
        definitions: &[
            "CacheableResult",
            "DiscoverResult",
            "ListPromptsResult",
            "ListResourceTemplatesResult",
            "ListResourcesResult",
            "ListToolsResult",
            "ReadResourceResult",
        ],
        members: &["ttlMs", "cacheScope"],
    },
    // 2026-07-28 requires `resultType` on every result, and basic/index says a client that
    // receives a result without it treats it as "complete" (results from servers that predate
    // the field). Decode it as optional everywhere.
    Relaxed {
        scope: Scope::Module("v2026_07_28"),
        definitions: &["*"],
        members: &["resultType"],
    },
];

pub(crate) const TYPE_OVERRIDES: &[TypeOverride] = &[
    // Request ids need the strict parsing of the envelope crate (no null, no floats, no rounding).
    TypeOverride {
        scope: Scope::All,
        definition: "RequestId",
        rust: "::mcpwire_jsonrpc::RequestId",
    },
    // A progress token has the same wire shape as a request id (string or integer) and the same
    // need for exactness, since the receiver echoes it back.
    TypeOverride {
        scope: Scope::All,
        definition: "ProgressToken",
        rust: "::mcpwire_jsonrpc::RequestId",
    },
    // 2026-07-28 `JSONValue` is string | integer | boolean | object | array in the JSON Schema,
    // which rejects floats and null; `schema.ts` says any JSON value. Use `serde_json::Value`.
    TypeOverride {
        scope: Scope::All,
        definition: "JSONValue",
        rust: "::serde_json::Value",
    },
    // `JSONObject` is any JSON object; keep it as the map type used for every open object.
    TypeOverride {
        scope: Scope::All,
        definition: "JSONObject",
        rust: "crate::JsonObject",
    },
    TypeOverride {
        scope: Scope::All,
        definition: "MetaObject",
        rust: "crate::JsonObject",
    },
];

pub(crate) const RULE_UNIONS: &[RuleUnion] = &[
    // The elicitation field schemas are told apart by `type` and by which of `oneOf`, `enum`,
    // `enumNames` or `items.anyOf` they carry; `type` alone does not separate them.
    RuleUnion {
        scope: Scope::All,
        definition: "PrimitiveSchemaDefinition",
        rules: PRIMITIVE_SCHEMA_RULES,
    },
    RuleUnion {
        scope: Scope::All,
        definition: "EnumSchema",
        rules: ENUM_SCHEMA_RULES,
    },
    RuleUnion {
        scope: Scope::All,
        definition: "SingleSelectEnumSchema",
        rules: ENUM_SCHEMA_RULES,
    },
    RuleUnion {
        scope: Scope::All,
        definition: "MultiSelectEnumSchema",
        rules: ENUM_SCHEMA_RULES,
    },
];

const PRIMITIVE_SCHEMA_RULES: &[(&[Condition], &str)] = &[
    (
        &[
            Condition::Equals("type", &["array"]),
            Condition::HasNested("items", "anyOf"),
        ],
        "TitledMultiSelectEnumSchema",
    ),
    (
        &[Condition::Equals("type", &["array"])],
        "UntitledMultiSelectEnumSchema",
    ),
    (
        &[
            Condition::Equals("type", &["string"]),
            Condition::Has("oneOf"),
        ],
        "TitledSingleSelectEnumSchema",
    ),
    (
        &[
            Condition::Equals("type", &["string"]),
            Condition::Has("enumNames"),
        ],
        "LegacyTitledEnumSchema",
    ),
    (
        &[
            Condition::Equals("type", &["string"]),
            Condition::Has("enum"),
        ],
        "UntitledSingleSelectEnumSchema",
    ),
    // 2025-06-18 has a single `EnumSchema` object in place of the later enum variants.
    (
        &[
            Condition::Equals("type", &["string"]),
            Condition::Has("enum"),
        ],
        "EnumSchema",
    ),
    (&[Condition::Equals("type", &["string"])], "StringSchema"),
    (
        &[Condition::Equals("type", &["number", "integer"])],
        "NumberSchema",
    ),
    (&[Condition::Equals("type", &["boolean"])], "BooleanSchema"),
];

// Rules naming a variant that a union does not have are dropped for that union, so the enum
// schemas share the relevant part of the table above.
const ENUM_SCHEMA_RULES: &[(&[Condition], &str)] = PRIMITIVE_SCHEMA_RULES;

pub(crate) const KEYED_UNIONS: &[KeyedUnion] = &[
    // 2026-07-28: a result is either complete or asks for input; `resultType` tells which, and
    // an absent `resultType` means complete (basic/index "Result Types").
    KeyedUnion {
        scope: Scope::Module("v2026_07_28"),
        location: "CallToolResultResponse.result",
        key: "resultType",
        arms: &[
            ("complete", "CallToolResult"),
            ("input_required", "InputRequiredResult"),
        ],
        absent: Some("CallToolResult"),
    },
    KeyedUnion {
        scope: Scope::Module("v2026_07_28"),
        location: "GetPromptResultResponse.result",
        key: "resultType",
        arms: &[
            ("complete", "GetPromptResult"),
            ("input_required", "InputRequiredResult"),
        ],
        absent: Some("GetPromptResult"),
    },
    KeyedUnion {
        scope: Scope::Module("v2026_07_28"),
        location: "ReadResourceResultResponse.result",
        key: "resultType",
        arms: &[
            ("complete", "ReadResourceResult"),
            ("input_required", "InputRequiredResult"),
        ],
        absent: Some("ReadResourceResult"),
    },
];

pub(crate) const SKIPS: &[Skip] = &[
    // The envelope belongs to mcpwire-jsonrpc, whose strict parser classifies a message by its
    // members; these unions have no discriminator and would only invite trial decoding.
    Skip {
        definition: "JSONRPCMessage",
    },
    Skip {
        definition: "JSONRPCResponse",
    },
    Skip {
        definition: "JSONRPCBatchRequest",
    },
    Skip {
        definition: "JSONRPCBatchResponse",
    },
];

/// Request and notification definitions of the tasks extension, which has no direction unions:
/// the requestor is always the client and the status notification always comes from the server.
pub(crate) const EXTENSION_DIRECTIONS: &[(&str, &[&str], &[&str])] = &[(
    "ext_tasks",
    &["GetTaskRequest", "UpdateTaskRequest", "CancelTaskRequest"],
    &["TaskStatusNotification"],
)];
