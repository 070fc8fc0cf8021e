//! The server features: tools, resources and templates, prompts, completion, logging, and
//! the pagination of their lists.
//!
//! The checks read the server's lists once per era (through [`Ctx::list`]), call only the
//! tools [`Ctx::may_call`] allows, with arguments built from the tool's own input schema, and
//! send a bounded number of requests each.

use std::collections::{BTreeSet, HashSet};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::check::{Area, Check, Checked, EraNeed, Outcome, must, should};
use crate::checks::kind;
use crate::context::{Ctx, Era};
use crate::run_fn;
use crate::session::with_modern_meta;
use crate::session::{Exchange, Modern, header_value, modern_headers, request_body};

/// The most pages a pagination check reads of one list.
const PAGE_LIMIT: usize = 100;
/// The most tools, resources or prompts one check calls, reads or gets.
const CALL_LIMIT: usize = 4;
/// A name no server gives a tool, prompt or resource.
const ABSENT: &str = "mcpwire-conformance-absent-7f3a9c";
/// A URI no server serves.
const ABSENT_URI: &str = "mcpwire-conformance://absent/7f3a9c";
/// The `_meta` key of the log level of a modern request.
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// A paginated list: the capability that offers it, its method, the key of its items, and
/// the field that names an item.
#[derive(Debug, Clone, Copy)]
struct ListKind {
    /// The capability that offers the list.
    capability: &'static str,
    /// The method that reads a page.
    method: &'static str,
    /// The key of the items in a page.
    key: &'static str,
    /// The field that names an item.
    identity: &'static str,
}

/// The four paginated lists.
const LISTS: [ListKind; 4] = [
    ListKind {
        capability: "tools",
        method: "tools/list",
        key: "tools",
        identity: "name",
    },
    ListKind {
        capability: "resources",
        method: "resources/list",
        key: "resources",
        identity: "uri",
    },
    ListKind {
        capability: "resources",
        method: "resources/templates/list",
        key: "resourceTemplates",
        identity: "uriTemplate",
    },
    ListKind {
        capability: "prompts",
        method: "prompts/list",
        key: "prompts",
        identity: "name",
    },
];

/// The list of tools.
const TOOLS: ListKind = LISTS[0];
/// The list of resources.
const RESOURCES: ListKind = LISTS[1];
/// The list of resource templates.
const TEMPLATES: ListKind = LISTS[2];
/// The list of prompts.
const PROMPTS: ListKind = LISTS[3];

/// Every check of the server features, in run order.
pub(crate) fn checks() -> Vec<Check> {
    let mut checks = tool_checks();
    checks.extend(resource_checks());
    checks.extend(prompt_checks());
    checks.extend(completion_checks());
    checks.extend(logging_checks());
    checks.extend(pagination_checks());
    checks
}

/// The checks of tools.
fn tool_checks() -> Vec<Check> {
    vec![
        Check::new(
            "tools/list-shape",
            Area::Tools,
            EraNeed::Each,
            "each listed tool has a string `name`, an `inputSchema`, and optional fields of the right types",
            must(
                "2025-11-25",
                "schema Tool",
                None,
                "`Tool` requires `name: string` and `inputSchema`; `title` and `description` are strings, `annotations`, `execution` and `_meta` objects, `icons` an array.",
            ),
            run_fn!(tools_list_shape),
        ),
        Check::new(
            "tools/name-length",
            Area::Tools,
            EraNeed::Each,
            "each tool name is 1 to 128 characters long",
            should(
                "2025-11-25",
                "server/tools §Tool Names",
                None,
                "Tool names SHOULD be between 1 and 128 characters in length (inclusive).",
            ),
            run_fn!(tools_name_length),
        ),
        Check::new(
            "tools/name-characters",
            Area::Tools,
            EraNeed::Each,
            "each tool name uses only ASCII letters, digits, `_`, `-` and `.`",
            should(
                "2025-11-25",
                "server/tools §Tool Names",
                None,
                "The following SHOULD be the only allowed characters: uppercase and lowercase ASCII letters (A-Z, a-z), digits (0-9), underscore (_), hyphen (-), and dot (.).",
            ),
            run_fn!(tools_name_characters),
        ),
        Check::new(
            "tools/names-unique",
            Area::Tools,
            EraNeed::Each,
            "no two listed tools share a name",
            should(
                "2025-11-25",
                "server/tools §Tool Names",
                None,
                "Tool names SHOULD be unique within a server.",
            ),
            run_fn!(tools_names_unique),
        ),
        Check::new(
            "tools/input-schema-object",
            Area::Tools,
            EraNeed::Each,
            "each `inputSchema` is a JSON object with `type: \"object\"`, never null",
            must(
                "2025-11-25",
                "server/tools §Tool",
                Some(12),
                "`inputSchema` MUST be a valid JSON Schema object (not `null`); the schema requires `type: \"object\"` at its root.",
            ),
            run_fn!(tools_input_schema_object),
        ),
        Check::new(
            "tools/input-schema-valid",
            Area::Tools,
            EraNeed::Each,
            "each `inputSchema` is a valid JSON Schema of its dialect (2020-12 without `$schema`)",
            must(
                "2025-11-25",
                "basic/index §JSON Schema Usage",
                Some(12),
                "Schemas MUST be valid according to their declared or default dialect; without `$schema` the dialect is JSON Schema 2020-12.",
            ),
            run_fn!(tools_input_schema_valid),
        ),
        Check::new(
            "tools/output-schema-valid",
            Area::Tools,
            EraNeed::Each,
            "each `outputSchema`, when present, is a valid JSON Schema of its dialect",
            must(
                "2025-11-25",
                "basic/index §JSON Schema Usage",
                Some(12),
                "Schemas MUST be valid according to their declared or default dialect; this applies to `outputSchema`.",
            ),
            run_fn!(tools_output_schema_valid),
        ),
        Check::new(
            "tools/output-schema-object",
            Area::Tools,
            EraNeed::Legacy,
            "each `outputSchema`, when present, has `type: \"object\"` at its root",
            must(
                "2025-11-25",
                "schema Tool.outputSchema",
                None,
                "`outputSchema` is `{ $schema?, type: \"object\", properties?, required? }`: structured content is an object in this revision.",
            ),
            run_fn!(tools_output_schema_object),
        ),
        Check::new(
            "tools/annotations",
            Area::Tools,
            EraNeed::Each,
            "tool annotations are an object of boolean hints and a string `title`",
            must(
                "2025-11-25",
                "schema ToolAnnotations",
                None,
                "`readOnlyHint`, `destructiveHint`, `idempotentHint` and `openWorldHint` are booleans; `title` is a string.",
            ),
            run_fn!(tools_annotations),
        ),
        Check::new(
            "tools/icons",
            Area::Tools,
            EraNeed::Each,
            "each tool icon has a string `src` and optional fields of the right types",
            must(
                "2025-11-25",
                "basic/index §icons; schema Icon",
                None,
                "`Icon` requires `src` (a URI); `mimeType` is a string, `sizes` an array of strings, `theme` \"light\" or \"dark\".",
            ),
            run_fn!(tools_icons),
        ),
        Check::new(
            "tools/icon-sources",
            Area::Tools,
            EraNeed::Each,
            "every icon of a tool, resource, template or prompt is an `https:`, `http:` or `data:` URI",
            should(
                "2025-11-25",
                "basic/index §icons",
                Some(14),
                "`src` may be an HTTP/HTTPS URL or a `data:` URI with base64-encoded image data; consumers MUST reject other schemes such as `javascript:`, `file:`, `ftp:` and `ws:`.",
            ),
            run_fn!(tools_icon_sources),
        ),
        Check::new(
            "tools/call-result",
            Area::Tools,
            EraNeed::Each,
            "a tool call returns a result with a `content` array of valid content blocks",
            must(
                "2025-11-25",
                "server/tools §Tool Result; schema CallToolResult",
                Some(73),
                "`CallToolResult` requires `content`, an array of content blocks; image and audio data MUST be base64 with a MIME type; an embedded resource has a URI and text or a base64 blob.",
            ),
            run_fn!(tools_call_result),
        )
        .calling_tools(),
        Check::new(
            "tools/structured-content",
            Area::Tools,
            EraNeed::Each,
            "a tool with an `outputSchema` returns `structuredContent` that conforms to it",
            must(
                "2025-11-25",
                "server/tools §Output Schema",
                Some(67),
                "If an output schema is provided, servers MUST provide structured results that conform to this schema.",
            ),
            run_fn!(tools_structured_content),
        )
        .calling_tools(),
        Check::new(
            "tools/structured-content-text",
            Area::Tools,
            EraNeed::Each,
            "a tool that returns `structuredContent` also returns it serialized in a text block",
            should(
                "2025-11-25",
                "server/tools §Structured Content",
                None,
                "For backwards compatibility, a tool that returns structured content SHOULD also return the serialized JSON in a TextContent block.",
            ),
            run_fn!(tools_structured_content_text),
        )
        .calling_tools(),
        Check::new(
            "tools/unknown-tool",
            Area::Tools,
            EraNeed::Each,
            "a call of an unknown tool is a JSON-RPC error, not a tool result",
            must(
                "2025-11-25",
                "server/tools §Error Handling",
                None,
                "Protocol Errors: standard JSON-RPC errors for issues like unknown tools.",
            ),
            run_fn!(tools_unknown_tool),
        ),
        Check::new(
            "tools/unknown-tool-code",
            Area::Tools,
            EraNeed::Each,
            "a call of an unknown tool is answered with -32602",
            should(
                "2025-11-25",
                "server/tools §Error Handling",
                None,
                "Example protocol error: `{\"code\": -32602, \"message\": \"Unknown tool: invalid_tool_name\"}`.",
            ),
            run_fn!(tools_unknown_tool_code),
        ),
        Check::new(
            "tools/invalid-arguments",
            Area::Tools,
            EraNeed::Each,
            "arguments that break the input schema give a tool result with `isError: true`",
            should(
                "2025-11-25",
                "server/tools §Error Handling; schema CallToolResult.isError",
                None,
                "Tool Execution Errors, reported in tool results with `isError: true`, include input validation errors; errors that originate from the tool SHOULD be reported inside the result object.",
            ),
            run_fn!(tools_invalid_arguments),
        )
        .calling_tools(),
        Check::new(
            "tools/x-mcp-header",
            Area::Tools,
            EraNeed::Modern,
            "each `x-mcp-header` is a unique token on a string, integer or boolean property reached through `properties` alone",
            must(
                "2026-07-28",
                "server/tools §x-mcp-header",
                None,
                "`x-mcp-header` values MUST NOT be empty, MUST match HTTP token syntax, MUST be case-insensitively unique, MUST only be applied to integer, string or boolean parameters, and MUST only be applied to statically reachable properties.",
            ),
            run_fn!(tools_x_mcp_header),
        ),
        Check::new(
            "tools/list-not-per-connection",
            Area::Tools,
            EraNeed::Modern,
            "`tools/list` gives the same tools on a new connection",
            must(
                "2026-07-28",
                "server/tools §Capabilities",
                None,
                "The set of tools MUST NOT vary per-connection or as a side effect of other requests on the connection.",
            ),
            run_fn!(tools_list_not_per_connection),
        ),
        Check::new(
            "tools/deterministic-order",
            Area::Tools,
            EraNeed::Modern,
            "`tools/list` gives its tools in the same order when read twice",
            should(
                "2026-07-28",
                "server/tools §Capabilities",
                None,
                "Servers SHOULD return tools in a deterministic order (the same ordering across requests when the underlying set of tools has not changed).",
            ),
            run_fn!(tools_deterministic_order),
        ),
    ]
}

/// The checks of resources and resource templates.
fn resource_checks() -> Vec<Check> {
    vec![
        Check::new(
            "resources/list-shape",
            Area::Resources,
            EraNeed::Each,
            "each listed resource has a string `uri` and `name`, and optional fields of the right types",
            must(
                "2025-11-25",
                "server/resources §Resource; schema Resource",
                None,
                "`Resource` requires `uri` and `name` (strings); `title`, `description` and `mimeType` are strings, `size` an integer.",
            ),
            run_fn!(resources_list_shape),
        ),
        Check::new(
            "resources/uri-syntax",
            Area::Resources,
            EraNeed::Each,
            "each listed resource URI is an absolute URI by RFC 3986",
            must(
                "2025-11-25",
                "server/resources §Custom URI Schemes",
                Some(72),
                "Custom URI schemes MUST be in accordance with RFC 3986.",
            ),
            run_fn!(resources_uri_syntax),
        ),
        Check::new(
            "resources/read-contents",
            Area::Resources,
            EraNeed::Each,
            "reading a listed resource gives `contents`, each with a `uri` and either `text` or a base64 `blob`",
            must(
                "2025-11-25",
                "server/resources §Resource Contents; §Security Considerations",
                Some(71),
                "Resources contain either text or binary data; binary data MUST be properly encoded (base64 `blob`).",
            ),
            run_fn!(resources_read_contents),
        ),
        Check::new(
            "resources/not-found-error",
            Area::Resources,
            EraNeed::Each,
            "reading an unknown URI gives a JSON-RPC error, not a result",
            must(
                "2025-11-25",
                "server/resources §Security Considerations",
                Some(70),
                "Servers MUST validate all resource URIs: an unknown URI gets a JSON-RPC error.",
            ),
            run_fn!(resources_not_found_error),
        ),
        Check::new(
            "resources/not-found-code",
            Area::Resources,
            EraNeed::Legacy,
            "reading an unknown URI is answered with -32002",
            should(
                "2025-11-25",
                "server/resources §Error Handling",
                None,
                "Servers SHOULD return standard JSON-RPC errors for common failure cases: Resource not found: -32002.",
            ),
            run_fn!(resources_not_found_code),
        ),
        Check::new(
            "resources/not-found-invalid-params",
            Area::Resources,
            EraNeed::Modern,
            "reading an unknown URI is answered with -32602, never an empty `contents`",
            must(
                "2026-07-28",
                "server/resources §Error Handling",
                Some(179),
                "If the requested resource does not exist, servers MUST return a JSON-RPC error with code -32602; servers MUST NOT return an empty `contents` array for a non-existent resource.",
            ),
            run_fn!(resources_not_found_invalid_params),
        ),
        Check::new(
            "resources/templates-shape",
            Area::Resources,
            EraNeed::Each,
            "each resource template has a string `uriTemplate` and `name`",
            must(
                "2025-11-25",
                "schema ResourceTemplate",
                None,
                "`ResourceTemplate` requires `uriTemplate` and `name` (strings); `title`, `description` and `mimeType` are strings.",
            ),
            run_fn!(resources_templates_shape),
        ),
        Check::new(
            "resources/template-syntax",
            Area::Resources,
            EraNeed::Each,
            "each `uriTemplate` is a URI template by RFC 6570",
            must(
                "2025-11-25",
                "server/resources §Resource Templates",
                None,
                "Resource templates expose parameterized resources using URI templates (RFC 6570); the schema gives `uriTemplate` the format `uri-template`.",
            ),
            run_fn!(resources_template_syntax),
        ),
        Check::new(
            "resources/annotations",
            Area::Resources,
            EraNeed::Each,
            "annotations of resources and templates have an `audience` of roles, a `priority` in 0..1 and a string `lastModified`",
            must(
                "2025-11-25",
                "server/resources §Annotations; schema Annotations",
                None,
                "`audience` is an array of \"user\" and \"assistant\"; `priority` a number from 0.0 to 1.0; `lastModified` an ISO 8601 string.",
            ),
            run_fn!(resources_annotations),
        ),
        Check::new(
            "resources/icons",
            Area::Resources,
            EraNeed::Each,
            "each icon of a resource or template has a string `src` and optional fields of the right types",
            must(
                "2025-11-25",
                "basic/index §icons; schema Icon",
                None,
                "`Icon` requires `src` (a URI); `mimeType` is a string, `sizes` an array of strings, `theme` \"light\" or \"dark\".",
            ),
            run_fn!(resources_icons),
        ),
        Check::new(
            "resources/list-not-per-connection",
            Area::Resources,
            EraNeed::Modern,
            "`resources/list` gives the same resources on a new connection",
            must(
                "2026-07-28",
                "server/resources §Capabilities",
                None,
                "The set of resources MUST NOT vary per-connection or as a side effect of other requests on the connection.",
            ),
            run_fn!(resources_list_not_per_connection),
        ),
    ]
}

/// The checks of prompts.
fn prompt_checks() -> Vec<Check> {
    vec![
        Check::new(
            "prompts/list-shape",
            Area::Prompts,
            EraNeed::Each,
            "each listed prompt has a string `name`, and each argument a string `name` and a boolean `required`",
            must(
                "2025-11-25",
                "server/prompts §Prompt; schema Prompt, PromptArgument",
                None,
                "`Prompt` requires `name`; `arguments` is an array of `PromptArgument`, which requires `name` and has `required?: boolean`.",
            ),
            run_fn!(prompts_list_shape),
        ),
        Check::new(
            "prompts/get-messages",
            Area::Prompts,
            EraNeed::Each,
            "`prompts/get` gives messages of role user or assistant with valid content",
            must(
                "2025-11-25",
                "server/prompts §PromptMessage",
                Some(73),
                "A message's `role` is \"user\" or \"assistant\"; image and audio data MUST be base64 with a MIME type; embedded resources MUST include a URI, a MIME type and text or a base64 blob.",
            ),
            run_fn!(prompts_get_messages),
        ),
        Check::new(
            "prompts/missing-argument",
            Area::Prompts,
            EraNeed::Each,
            "`prompts/get` without a required argument is answered with -32602",
            should(
                "2025-11-25",
                "server/prompts §Error Handling",
                None,
                "Servers SHOULD return standard JSON-RPC errors: missing required arguments: -32602 (Invalid params).",
            ),
            run_fn!(prompts_missing_argument),
        ),
        Check::new(
            "prompts/unknown-prompt",
            Area::Prompts,
            EraNeed::Each,
            "`prompts/get` of an unknown prompt is answered with -32602",
            should(
                "2025-11-25",
                "server/prompts §Error Handling",
                None,
                "Servers SHOULD return standard JSON-RPC errors: invalid prompt name: -32602 (Invalid params).",
            ),
            run_fn!(prompts_unknown_prompt),
        ),
        Check::new(
            "prompts/icons",
            Area::Prompts,
            EraNeed::Each,
            "each prompt icon has a string `src` and optional fields of the right types",
            must(
                "2025-11-25",
                "basic/index §icons; schema Icon",
                None,
                "`Icon` requires `src` (a URI); `mimeType` is a string, `sizes` an array of strings, `theme` \"light\" or \"dark\".",
            ),
            run_fn!(prompts_icons),
        ),
        Check::new(
            "prompts/list-not-per-connection",
            Area::Prompts,
            EraNeed::Modern,
            "`prompts/list` gives the same prompts on a new connection",
            must(
                "2026-07-28",
                "server/prompts §Capabilities",
                None,
                "The set of prompts MUST NOT vary per-connection or as a side effect of other requests on the connection.",
            ),
            run_fn!(prompts_list_not_per_connection),
        ),
    ]
}

/// The checks of completion.
fn completion_checks() -> Vec<Check> {
    vec![
        Check::new(
            "completion/capability",
            Area::Completion,
            EraNeed::Each,
            "a server that answers `completion/complete` declares `completions`, and one that declares it answers",
            must(
                "2025-11-25",
                "server/utilities/completion §Capabilities",
                Some(29),
                "Servers that support completions MUST declare the `completions` capability.",
            ),
            run_fn!(completion_capability),
        ),
        Check::new(
            "completion/values-limit",
            Area::Completion,
            EraNeed::Each,
            "a completion gives at most 100 values",
            must(
                "2025-11-25",
                "schema CompleteResult",
                Some(75),
                "`values`: an array of completion values. Must not exceed 100 items.",
            ),
            run_fn!(completion_values_limit),
        ),
        Check::new(
            "completion/result-types",
            Area::Completion,
            EraNeed::Each,
            "a completion has string `values`, an integer `total` and a boolean `hasMore`",
            must(
                "2025-11-25",
                "schema CompleteResult",
                None,
                "`completion` requires `values: string[]`; `total` is an integer and `hasMore` a boolean.",
            ),
            run_fn!(completion_result_types),
        ),
        Check::new(
            "completion/unknown-prompt",
            Area::Completion,
            EraNeed::Each,
            "a completion of an unknown prompt's argument is answered with -32602",
            should(
                "2025-11-25",
                "server/utilities/completion §Error Handling",
                None,
                "Servers SHOULD return standard JSON-RPC errors: invalid prompt name: -32602 (Invalid params).",
            ),
            run_fn!(completion_unknown_prompt),
        ),
    ]
}

/// The checks of logging.
fn logging_checks() -> Vec<Check> {
    vec![
        Check::new(
            "logging/set-level",
            Area::Logging,
            EraNeed::Legacy,
            "a server that declares `logging` answers `logging/setLevel` with an empty result",
            must(
                "2025-11-25",
                "server/utilities/logging §Setting Log Level; schema SetLevelRequest",
                Some(28),
                "To configure the minimum log level, clients MAY send a `logging/setLevel` request; the server answers with an empty result.",
            ),
            run_fn!(logging_set_level),
        ),
        Check::new(
            "logging/invalid-level",
            Area::Logging,
            EraNeed::Legacy,
            "`logging/setLevel` with an unknown level is answered with -32602",
            should(
                "2025-11-25",
                "server/utilities/logging §Error Handling",
                None,
                "Servers SHOULD return standard JSON-RPC errors: invalid log level: -32602 (Invalid params).",
            ),
            run_fn!(logging_invalid_level),
        ),
        Check::new(
            "logging/undeclared",
            Area::Logging,
            EraNeed::Legacy,
            "a server that does not declare `logging` refuses `logging/setLevel`",
            should(
                "2025-11-25",
                "server/utilities/logging §Capabilities; basic/lifecycle §Operation",
                Some(28),
                "Servers that emit log message notifications MUST declare the `logging` capability; both parties use only negotiated capabilities.",
            ),
            run_fn!(logging_undeclared),
        ),
        Check::new(
            "logging/invalid-meta-level",
            Area::Logging,
            EraNeed::Modern,
            "a request whose `_meta` log level is unknown is answered with -32602",
            should(
                "2026-07-28",
                "server/utilities/logging §Error Handling",
                None,
                "If the `io.modelcontextprotocol/logLevel` value carried in a request's `_meta` is not a recognized log level, the server SHOULD reject that request with -32602 (Invalid params).",
            ),
            run_fn!(logging_invalid_meta_level),
        ),
        Check::new(
            "logging/no-messages-without-level",
            Area::Logging,
            EraNeed::Modern,
            "no `notifications/message` comes for a request without a `_meta` log level",
            must(
                "2026-07-28",
                "server/utilities/logging §Per-request log level",
                Some(170),
                "The server MUST NOT emit `notifications/message` for a request that does not include `io.modelcontextprotocol/logLevel`.",
            ),
            run_fn!(logging_no_messages_without_level),
        )
        .calling_tools(),
    ]
}

/// The checks of pagination.
fn pagination_checks() -> Vec<Check> {
    vec![
        Check::new(
            "utilities/pagination-cursor-type",
            Area::Utilities,
            EraNeed::Each,
            "every `nextCursor` of every list is a string",
            must(
                "2025-11-25",
                "server/utilities/pagination §Response Format; schema PaginatedResult",
                None,
                "The cursor is an opaque string token; `nextCursor?: string`.",
            ),
            run_fn!(pagination_cursor_type),
        ),
        Check::new(
            "utilities/pagination-no-repeats",
            Area::Utilities,
            EraNeed::Each,
            "following `nextCursor` ends, and no item comes twice across the pages",
            should(
                "2025-11-25",
                "server/utilities/pagination §Implementation Guidelines",
                None,
                "Servers SHOULD provide stable cursors: each page continues where the last one ended.",
            ),
            run_fn!(pagination_no_repeats),
        ),
        Check::new(
            "utilities/pagination-invalid-cursor",
            Area::Utilities,
            EraNeed::Each,
            "a list request with a cursor the server never gave is answered with -32602",
            should(
                "2025-11-25",
                "server/utilities/pagination §Error Handling",
                None,
                "Invalid cursors SHOULD result in an error with code -32602 (Invalid params).",
            ),
            run_fn!(pagination_invalid_cursor),
        ),
        Check::new(
            "utilities/pagination-stable-cursor",
            Area::Utilities,
            EraNeed::Each,
            "the same cursor, sent twice, gives the same page",
            should(
                "2025-11-25",
                "server/utilities/pagination §Implementation Guidelines",
                None,
                "Servers SHOULD provide stable cursors.",
            ),
            run_fn!(pagination_stable_cursor),
        ),
    ]
}

// ---------------------------------------------------------------------------------------
// Shared judgements.

/// The items of `list`, or a skip when the server does not declare its capability.
async fn items(ctx: &mut Ctx, list: ListKind) -> Result<Vec<Value>, Outcome> {
    if !ctx.declares(list.capability) {
        return Err(Outcome::Skip(format!(
            "the server does not declare `{}`",
            list.capability
        )));
    }
    ctx.list(list.method, list.key)
        .await
        .map_err(Outcome::Violated)
}

/// The items of `list`, or a skip when there are none.
async fn some_items(ctx: &mut Ctx, list: ListKind) -> Result<Vec<Value>, Outcome> {
    let items = items(ctx, list).await?;
    if items.is_empty() {
        return Err(Outcome::Skip(format!("`{}` lists nothing", list.method)));
    }
    Ok(items)
}

/// How an item is named in a report: its identity field, or its position.
fn label(item: &Value, list: ListKind, index: usize) -> String {
    match item.get(list.identity).and_then(Value::as_str) {
        Some(name) => format!("`{name}`"),
        None => format!("item {index}"),
    }
}

/// Passes with `summary` when there are no problems, else violated with them.
fn judged(problems: Vec<String>, summary: String) -> Outcome {
    if problems.is_empty() {
        Outcome::Pass(summary)
    } else {
        Outcome::Violated(crate::clip(&problems.join("; ")))
    }
}

/// Problems of an optional field that must be a string.
fn optional_string(object: &Value, field: &str, owner: &str, problems: &mut Vec<String>) {
    if let Some(value) = object.get(field)
        && !value.is_string()
    {
        problems.push(format!("{owner}: `{field}` is {}", kind(value)));
    }
}

/// Problems of a required field that must be a string.
fn required_string(object: &Value, field: &str, owner: &str, problems: &mut Vec<String>) {
    match object.get(field) {
        Some(Value::String(_)) => {}
        other => problems.push(format!(
            "{owner}: `{field}` is {}",
            other.map_or("missing", kind)
        )),
    }
}

/// Problems of an optional field that must be an object.
fn optional_object(object: &Value, field: &str, owner: &str, problems: &mut Vec<String>) {
    if let Some(value) = object.get(field)
        && !value.is_object()
    {
        problems.push(format!("{owner}: `{field}` is {}", kind(value)));
    }
}

/// Problems of the `icons` of `item`.
fn icon_problems(item: &Value, owner: &str, problems: &mut Vec<String>) {
    let Some(icons) = item.get("icons") else {
        return;
    };
    let Some(icons) = icons.as_array() else {
        problems.push(format!("{owner}: `icons` is {}", kind(icons)));
        return;
    };
    for (index, icon) in icons.iter().enumerate() {
        let owner = format!("{owner} icon {index}");
        if !icon.is_object() {
            problems.push(format!("{owner} is {}", kind(icon)));
            continue;
        }
        match icon.get("src") {
            Some(Value::String(src)) if !src.is_empty() => {}
            Some(Value::String(_)) => problems.push(format!("{owner}: `src` is empty")),
            other => problems.push(format!(
                "{owner}: `src` is {}",
                other.map_or("missing", kind)
            )),
        }
        optional_string(icon, "mimeType", &owner, problems);
        if let Some(sizes) = icon.get("sizes") {
            let strings = sizes
                .as_array()
                .is_some_and(|sizes| sizes.iter().all(Value::is_string));
            if !strings {
                problems.push(format!(
                    "{owner}: `sizes` is not an array of strings: {sizes}"
                ));
            }
        }
        if let Some(theme) = icon.get("theme")
            && theme != "light"
            && theme != "dark"
        {
            problems.push(format!(
                "{owner}: `theme` is {theme}, not \"light\" or \"dark\""
            ));
        }
    }
}

/// Problems of content `annotations`, when `item` has them.
fn annotation_problems(item: &Value, owner: &str, problems: &mut Vec<String>) {
    let Some(annotations) = item.get("annotations") else {
        return;
    };
    if !annotations.is_object() {
        problems.push(format!("{owner}: `annotations` is {}", kind(annotations)));
        return;
    }
    if let Some(audience) = annotations.get("audience") {
        let roles = audience.as_array().is_some_and(|audience| {
            audience
                .iter()
                .all(|role| role == "user" || role == "assistant")
        });
        if !roles {
            problems.push(format!(
                "{owner}: `audience` is not an array of \"user\" and \"assistant\": {audience}"
            ));
        }
    }
    if let Some(priority) = annotations.get("priority") {
        let in_range = priority
            .as_f64()
            .is_some_and(|priority| (0.0..=1.0).contains(&priority));
        if !in_range {
            problems.push(format!(
                "{owner}: `priority` is {priority}, not a number from 0 to 1"
            ));
        }
    }
    optional_string(annotations, "lastModified", owner, problems);
}

/// Whether `text` is standard base64 with padding.
fn is_base64(text: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .is_ok()
}

/// Problems of the text or blob of resource contents (in a read result or an embedded
/// resource).
fn resource_contents_problems(contents: &Value, owner: &str, problems: &mut Vec<String>) {
    if !contents.is_object() {
        problems.push(format!("{owner} is {}", kind(contents)));
        return;
    }
    required_string(contents, "uri", owner, problems);
    optional_string(contents, "mimeType", owner, problems);
    match (contents.get("text"), contents.get("blob")) {
        (Some(Value::String(_)), None) => {}
        (None, Some(Value::String(blob))) => {
            if !is_base64(blob) {
                problems.push(format!(
                    "{owner}: `blob` is not base64: {}",
                    crate::clip(blob)
                ));
            }
        }
        (Some(_), Some(_)) => problems.push(format!("{owner}: both `text` and `blob`")),
        (None, None) => problems.push(format!("{owner}: neither `text` nor `blob`")),
        (Some(text), None) => problems.push(format!("{owner}: `text` is {}", kind(text))),
        (None, Some(blob)) => problems.push(format!("{owner}: `blob` is {}", kind(blob))),
    }
}

/// Problems of one content block (of a tool result or a prompt message).
fn content_problems(block: &Value, owner: &str, problems: &mut Vec<String>) {
    if !block.is_object() {
        problems.push(format!("{owner} is {}", kind(block)));
        return;
    }
    annotation_problems(block, owner, problems);
    match block.get("type").and_then(Value::as_str) {
        Some("text") => required_string(block, "text", owner, problems),
        Some(media @ ("image" | "audio")) => {
            match block.get("data") {
                Some(Value::String(data)) if is_base64(data) => {}
                Some(Value::String(data)) => problems.push(format!(
                    "{owner}: {media} `data` is not base64: {}",
                    crate::clip(data)
                )),
                other => problems.push(format!(
                    "{owner}: {media} `data` is {}",
                    other.map_or("missing", kind)
                )),
            }
            match block.get("mimeType").and_then(Value::as_str) {
                Some(mime) if mime.contains('/') => {}
                _ => problems.push(format!(
                    "{owner}: {media} has no valid `mimeType`: {}",
                    block.get("mimeType").unwrap_or(&Value::Null)
                )),
            }
        }
        Some("resource_link") => {
            required_string(block, "uri", owner, problems);
            required_string(block, "name", owner, problems);
        }
        Some("resource") => match block.get("resource") {
            Some(resource) => {
                resource_contents_problems(resource, &format!("{owner} resource"), problems);
            }
            None => problems.push(format!("{owner}: embedded resource has no `resource`")),
        },
        Some(other) => problems.push(format!("{owner}: unknown content type `{other}`")),
        None => problems.push(format!(
            "{owner}: `type` is {}",
            block.get("type").map_or("missing", kind)
        )),
    }
}

// ---------------------------------------------------------------------------------------
// JSON Schema.

/// Answers every reference outside a schema with the schema that accepts anything: the suite
/// fetches nothing, from the network or the file system.
struct NoRetrieval;

impl jsonschema::Retrieve for NoRetrieval {
    fn retrieve(
        &self,
        _uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Value::Bool(true))
    }
}

/// How a schema's dialect stands with the suite.
enum Dialect {
    /// A dialect the suite validates (2020-12 by default, or a draft it knows).
    Known,
    /// A `$schema` the suite does not know; the schema is not checked.
    Unknown(String),
}

/// The dialect `schema` declares.
fn dialect(schema: &Value) -> Result<Dialect, String> {
    match schema.get("$schema") {
        None => Ok(Dialect::Known),
        Some(Value::String(uri)) => {
            let bare = uri
                .trim_end_matches('#')
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            let known = [
                "json-schema.org/draft/2020-12/schema",
                "json-schema.org/draft/2019-09/schema",
                "json-schema.org/draft-07/schema",
                "json-schema.org/draft-06/schema",
                "json-schema.org/draft-04/schema",
            ];
            if known.contains(&bare) {
                Ok(Dialect::Known)
            } else {
                Ok(Dialect::Unknown(uri.clone()))
            }
        }
        Some(other) => Err(format!("`$schema` is {}", kind(other))),
    }
}

/// Compiles `schema` (already known to be of a known dialect) into a validator.
fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::meta::validate(schema).map_err(|error| error.to_string())?;
    jsonschema::options()
        .with_retriever(NoRetrieval)
        .build(schema)
        .map_err(|error| error.to_string())
}

/// Checks one schema of each listed tool (`inputSchema` or `outputSchema`).
async fn schemas_valid(ctx: &mut Ctx, field: &str) -> Checked {
    let tools = some_items(ctx, TOOLS).await?;
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut unknown = Vec::new();
    for (index, tool) in tools.iter().enumerate() {
        let owner = label(tool, TOOLS, index);
        let Some(schema) = tool.get(field) else {
            continue;
        };
        if !schema.is_object() && !schema.is_boolean() {
            problems.push(format!("{owner}: `{field}` is {}", kind(schema)));
            continue;
        }
        match dialect(schema) {
            Err(problem) => problems.push(format!("{owner}: {problem}")),
            Ok(Dialect::Unknown(uri)) => unknown.push(format!("{owner} ({uri})")),
            Ok(Dialect::Known) => {
                checked += 1;
                if let Err(error) = compile(schema) {
                    problems.push(format!("{owner}: `{field}` is not a valid schema: {error}"));
                }
            }
        }
    }
    if problems.is_empty() && checked == 0 {
        if unknown.is_empty() {
            return Ok(Outcome::Skip(format!("no tool has an `{field}`")));
        }
        return Ok(Outcome::Skip(format!(
            "dialects the suite does not know: {}",
            unknown.join(", ")
        )));
    }
    let mut summary = format!("{checked} `{field}` valid");
    if !unknown.is_empty() {
        summary.push_str(&format!(
            "; not checked (unknown dialect): {}",
            unknown.join(", ")
        ));
    }
    Ok(judged(problems, summary))
}

/// A value that `schema` may accept, built from its `const`, `enum`, `default` or `type`;
/// none when the schema asks for more than the suite can build.
fn sample(schema: &Value, depth: usize) -> Option<Value> {
    if depth > 4 {
        return None;
    }
    if let Some(value) = schema.get("const") {
        return Some(value.clone());
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|values| values.first())
    {
        return Some(first.clone());
    }
    if let Some(value) = schema.get("default") {
        return Some(value.clone());
    }
    let type_name = match schema.get("type") {
        Some(Value::String(name)) => name.as_str(),
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .find(|name| *name != "null")?,
        _ => return None,
    };
    match type_name {
        "string" => Some(json!("conformance")),
        "integer" => {
            let minimum = schema.get("minimum").and_then(Value::as_i64).unwrap_or(1);
            Some(json!(minimum.max(1)))
        }
        "number" => {
            let minimum = schema.get("minimum").and_then(Value::as_f64).unwrap_or(1.0);
            Some(json!(minimum.max(1.0)))
        }
        "boolean" => Some(json!(true)),
        "null" => Some(Value::Null),
        "array" => {
            let least = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            (least == 0).then(|| json!([]))
        }
        "object" => arguments_for(schema, depth + 1),
        _ => None,
    }
}

/// An object with a value for each required property of the object schema `schema`.
fn arguments_for(schema: &Value, depth: usize) -> Option<Value> {
    let mut arguments = serde_json::Map::new();
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for name in required {
        let name = name.as_str()?;
        let property = schema.get("properties")?.get(name)?;
        arguments.insert(name.to_owned(), sample(property, depth)?);
    }
    Some(Value::Object(arguments))
}

/// Arguments the suite can send to `tool`: built from its input schema, and accepted by it.
fn tool_arguments(tool: &Value) -> Option<Value> {
    let schema = tool.get("inputSchema")?;
    let arguments = arguments_for(schema, 0)?;
    if let Ok(Dialect::Known) = dialect(schema)
        && let Ok(validator) = compile(schema)
        && !validator.is_valid(&arguments)
    {
        return None;
    }
    Some(arguments)
}

/// The tools a check may call, with arguments it can build, at most `CALL_LIMIT` of them
/// that `wanted` accepts; or a skip that says why there are none.
async fn callable(
    ctx: &mut Ctx,
    wanted: fn(&Value) -> bool,
) -> Result<Vec<(Value, Value)>, Outcome> {
    let tools = some_items(ctx, TOOLS).await?;
    let mut calls = Vec::new();
    let mut refused = 0;
    for tool in tools.iter().filter(|tool| wanted(tool)) {
        if !ctx.may_call(tool) {
            refused += 1;
            continue;
        }
        if let Some(arguments) = tool_arguments(tool) {
            calls.push((tool.clone(), arguments));
        }
        if calls.len() == CALL_LIMIT {
            break;
        }
    }
    if calls.is_empty() {
        return Err(Outcome::Skip(format!(
            "no tool to call: {refused} not annotated read-only (give --call-tools to call them), the others need arguments the suite cannot build"
        )));
    }
    Ok(calls)
}

/// The `Mcp-Param-*` headers of a modern call of a tool whose input schema has
/// `x-mcp-header` annotations, from `arguments`.
fn param_headers(schema: &Value, arguments: &Value, headers: &mut Vec<(String, String)>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, property) in properties {
        let Some(value) = arguments.get(name) else {
            continue;
        };
        if let Some(header) = property.get("x-mcp-header").and_then(Value::as_str) {
            let text = match value {
                Value::String(text) => Some(header_value(text)),
                Value::Number(number) => Some(number.to_string()),
                Value::Bool(flag) => Some(flag.to_string()),
                _ => None,
            };
            if let Some(text) = text {
                headers.push((format!("mcp-param-{header}"), text));
            }
        }
        if value.is_object() {
            param_headers(property, value, headers);
        }
    }
}

/// Calls `tool` with `arguments` in the current era; a modern call over HTTP carries the
/// `Mcp-Param-*` headers its input schema asks for.
async fn call_tool(ctx: &mut Ctx, tool: &Value, arguments: &Value) -> Result<Exchange, String> {
    let name = tool.get("name").cloned().unwrap_or(Value::Null);
    let params = json!({"name": name, "arguments": arguments});
    let mut extra = Vec::new();
    if let Some(schema) = tool.get("inputSchema") {
        param_headers(schema, arguments, &mut extra);
    }
    if ctx.era() == Era::Legacy || extra.is_empty() {
        return ctx.request("tools/call", Some(params)).await;
    }
    let modern = ctx.modern()?;
    let id = modern.next_id();
    let params = with_modern_meta(Some(params), json!({}));
    let mut headers = modern_headers("tools/call", Some(&params));
    headers.extend(extra);
    let body = request_body(&id, "tools/call", Some(params));
    modern
        .send_raw(body.to_string().as_bytes(), &id, &headers)
        .await
}

// ---------------------------------------------------------------------------------------
// Tools.

async fn tools_list_shape(ctx: &mut Ctx) -> Checked {
    let tools = some_items(ctx, TOOLS).await?;
    let legacy = ctx.era() == Era::Legacy;
    let mut problems = Vec::new();
    for (index, tool) in tools.iter().enumerate() {
        let owner = label(tool, TOOLS, index);
        if !tool.is_object() {
            problems.push(format!("{owner} is {}", kind(tool)));
            continue;
        }
        required_string(tool, "name", &owner, &mut problems);
        if tool.get("inputSchema").is_none() {
            problems.push(format!("{owner}: no `inputSchema`"));
        }
        for field in ["title", "description"] {
            optional_string(tool, field, &owner, &mut problems);
        }
        for field in ["annotations", "_meta", "outputSchema"] {
            optional_object(tool, field, &owner, &mut problems);
        }
        if let Some(icons) = tool.get("icons")
            && !icons.is_array()
        {
            problems.push(format!("{owner}: `icons` is {}", kind(icons)));
        }
        if legacy && let Some(execution) = tool.get("execution") {
            let support = execution.get("taskSupport");
            let valid = execution.is_object()
                && support.is_none_or(|support| {
                    ["forbidden", "optional", "required"]
                        .iter()
                        .any(|allowed| support == allowed)
                });
            if !valid {
                problems.push(format!("{owner}: `execution` is not valid: {execution}"));
            }
        }
    }
    Ok(judged(
        problems,
        format!("{} tools well formed", tools.len()),
    ))
}

/// The names of the listed tools.
async fn tool_names(ctx: &mut Ctx) -> Result<Vec<String>, Outcome> {
    let tools = some_items(ctx, TOOLS).await?;
    Ok(tools
        .iter()
        .filter_map(|tool| tool.get("name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect())
}

async fn tools_name_length(ctx: &mut Ctx) -> Checked {
    let names = tool_names(ctx).await?;
    let problems: Vec<String> = names
        .iter()
        .filter(|name| !(1..=128).contains(&name.chars().count()))
        .map(|name| {
            format!(
                "`{}` has {} characters",
                crate::clip(name),
                name.chars().count()
            )
        })
        .collect();
    Ok(judged(
        problems,
        format!("{} names of 1 to 128 characters", names.len()),
    ))
}

async fn tools_name_characters(ctx: &mut Ctx) -> Checked {
    let names = tool_names(ctx).await?;
    let allowed =
        |character: char| character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.');
    let problems: Vec<String> = names
        .iter()
        .filter(|name| !name.chars().all(allowed))
        .map(|name| format!("{name:?} has characters outside A-Z a-z 0-9 _ - ."))
        .collect();
    Ok(judged(
        problems,
        format!("{} names of allowed characters", names.len()),
    ))
}

async fn tools_names_unique(ctx: &mut Ctx) -> Checked {
    let names = tool_names(ctx).await?;
    let mut seen = HashSet::new();
    let problems: Vec<String> = names
        .iter()
        .filter(|name| !seen.insert(name.as_str()))
        .map(|name| format!("`{name}` is listed more than once"))
        .collect();
    Ok(judged(problems, format!("{} distinct names", names.len())))
}

async fn tools_input_schema_object(ctx: &mut Ctx) -> Checked {
    let tools = some_items(ctx, TOOLS).await?;
    let mut problems = Vec::new();
    for (index, tool) in tools.iter().enumerate() {
        let owner = label(tool, TOOLS, index);
        match tool.get("inputSchema") {
            Some(schema @ Value::Object(_)) => {
                if schema.get("type") != Some(&json!("object")) {
                    problems.push(format!(
                        "{owner}: `inputSchema.type` is {}, not \"object\"",
                        schema.get("type").unwrap_or(&Value::Null)
                    ));
                }
            }
            other => problems.push(format!(
                "{owner}: `inputSchema` is {}",
                other.map_or("missing", kind)
            )),
        }
    }
    Ok(judged(
        problems,
        format!("{} object input schemas", tools.len()),
    ))
}

async fn tools_input_schema_valid(ctx: &mut Ctx) -> Checked {
    schemas_valid(ctx, "inputSchema").await
}

async fn tools_output_schema_valid(ctx: &mut Ctx) -> Checked {
    schemas_valid(ctx, "outputSchema").await
}

async fn tools_output_schema_object(ctx: &mut Ctx) -> Checked {
    let tools = some_items(ctx, TOOLS).await?;
    let mut problems = Vec::new();
    let mut seen = 0;
    for (index, tool) in tools.iter().enumerate() {
        let Some(schema) = tool.get("outputSchema") else {
            continue;
        };
        seen += 1;
        if schema.get("type") != Some(&json!("object")) {
            problems.push(format!(
                "{}: `outputSchema.type` is {}, not \"object\"",
                label(tool, TOOLS, index),
                schema.get("type").unwrap_or(&Value::Null)
            ));
        }
    }
    if seen == 0 {
        return Ok(Outcome::Skip("no tool has an `outputSchema`".to_owned()));
    }
    Ok(judged(problems, format!("{seen} object output schemas")))
}

async fn tools_annotations(ctx: &mut Ctx) -> Checked {
    let tools = some_items(ctx, TOOLS).await?;
    let mut problems = Vec::new();
    let mut seen = 0;
    for (index, tool) in tools.iter().enumerate() {
        let Some(annotations) = tool.get("annotations") else {
            continue;
        };
        seen += 1;
        let owner = label(tool, TOOLS, index);
        if !annotations.is_object() {
            problems.push(format!("{owner}: `annotations` is {}", kind(annotations)));
            continue;
        }
        for hint in [
            "readOnlyHint",
            "destructiveHint",
            "idempotentHint",
            "openWorldHint",
        ] {
            if let Some(value) = annotations.get(hint)
                && !value.is_boolean()
            {
                problems.push(format!("{owner}: `{hint}` is {}", kind(value)));
            }
        }
        optional_string(annotations, "title", &owner, &mut problems);
    }
    if seen == 0 {
        return Ok(Outcome::Skip("no tool has annotations".to_owned()));
    }
    Ok(judged(
        problems,
        format!("{seen} with annotations, all well typed"),
    ))
}

/// Checks the icons of the items of `lists`.
async fn icons_of(ctx: &mut Ctx, lists: &[ListKind]) -> Checked {
    let mut problems = Vec::new();
    let mut seen = 0;
    let mut declared = false;
    for list in lists {
        if !ctx.declares(list.capability) {
            continue;
        }
        declared = true;
        let items = ctx.list(list.method, list.key).await?;
        for (index, item) in items.iter().enumerate() {
            if item.get("icons").is_some() {
                seen += 1;
                icon_problems(item, &label(item, *list, index), &mut problems);
            }
        }
    }
    if !declared {
        return Ok(Outcome::Skip(
            "the server declares no such feature".to_owned(),
        ));
    }
    if seen == 0 && problems.is_empty() {
        return Ok(Outcome::Skip("no item has icons".to_owned()));
    }
    Ok(judged(
        problems,
        format!("{seen} with icons, all well formed"),
    ))
}

async fn tools_icons(ctx: &mut Ctx) -> Checked {
    icons_of(ctx, &[TOOLS]).await
}

async fn tools_icon_sources(ctx: &mut Ctx) -> Checked {
    let mut problems = Vec::new();
    let mut seen = 0;
    for list in LISTS {
        if !ctx.declares(list.capability) {
            continue;
        }
        let items = ctx.list(list.method, list.key).await?;
        for (index, item) in items.iter().enumerate() {
            let icons = item.get("icons").and_then(Value::as_array);
            for icon in icons.into_iter().flatten() {
                let Some(src) = icon.get("src").and_then(Value::as_str) else {
                    continue;
                };
                seen += 1;
                let scheme = src
                    .split_once(':')
                    .map(|(scheme, _)| scheme.to_ascii_lowercase());
                let fine = match scheme.as_deref() {
                    Some("https" | "http") => true,
                    Some("data") => src.contains(";base64,"),
                    _ => false,
                };
                if !fine {
                    problems.push(format!(
                        "{}: icon `{}` is not an https, http or base64 data URI",
                        label(item, list, index),
                        crate::clip(src)
                    ));
                }
            }
        }
    }
    if seen == 0 {
        return Ok(Outcome::Skip("no icons".to_owned()));
    }
    Ok(judged(
        problems,
        format!("{seen} icon sources of allowed schemes"),
    ))
}

async fn tools_call_result(ctx: &mut Ctx) -> Checked {
    let calls = callable(ctx, |_| true).await?;
    let legacy = ctx.era() == Era::Legacy;
    let mut problems = Vec::new();
    let mut names = Vec::new();
    for (tool, arguments) in &calls {
        let owner = label(tool, TOOLS, 0);
        let exchange = call_tool(ctx, tool, arguments).await?;
        let Some(result) = exchange.result() else {
            problems.push(format!("{owner}: no result: {}", exchange.seen()));
            continue;
        };
        if result.get("resultType") == Some(&json!("input_required")) {
            continue;
        }
        names.push(owner.clone());
        match result.get("content") {
            Some(Value::Array(blocks)) => {
                for (index, block) in blocks.iter().enumerate() {
                    content_problems(block, &format!("{owner} content {index}"), &mut problems);
                }
            }
            other => problems.push(format!(
                "{owner}: `content` is {}",
                other.map_or("missing", kind)
            )),
        }
        if let Some(flag) = result.get("isError")
            && !flag.is_boolean()
        {
            problems.push(format!("{owner}: `isError` is {}", kind(flag)));
        }
        if legacy
            && let Some(structured) = result.get("structuredContent")
            && !structured.is_object()
        {
            problems.push(format!(
                "{owner}: `structuredContent` is {}",
                kind(structured)
            ));
        }
    }
    Ok(judged(problems, format!("called {}", names.join(", "))))
}

async fn tools_structured_content(ctx: &mut Ctx) -> Checked {
    let calls = callable(ctx, |tool| tool.get("outputSchema").is_some()).await?;
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    for (tool, arguments) in &calls {
        let owner = label(tool, TOOLS, 0);
        let Some(schema) = tool.get("outputSchema") else {
            continue;
        };
        let Ok(Dialect::Known) = dialect(schema) else {
            continue;
        };
        let Ok(validator) = compile(schema) else {
            continue;
        };
        let exchange = call_tool(ctx, tool, arguments).await?;
        let Some(result) = exchange.result() else {
            problems.push(format!("{owner}: no result: {}", exchange.seen()));
            continue;
        };
        if result.get("isError") == Some(&json!(true))
            || result.get("resultType") == Some(&json!("input_required"))
        {
            continue;
        }
        checked.push(owner.clone());
        match result.get("structuredContent") {
            None => problems.push(format!(
                "{owner} declares an `outputSchema` but gave no `structuredContent`"
            )),
            Some(structured) => {
                if let Err(error) = validator.validate(structured) {
                    problems.push(format!(
                        "{owner}: `structuredContent` {} does not match the output schema: {error}",
                        crate::clip(&structured.to_string())
                    ));
                }
            }
        }
    }
    if checked.is_empty() && problems.is_empty() {
        return Ok(Outcome::Skip(
            "no call of a tool with an output schema succeeded".to_owned(),
        ));
    }
    Ok(judged(
        problems,
        format!("conforms: {}", checked.join(", ")),
    ))
}

async fn tools_structured_content_text(ctx: &mut Ctx) -> Checked {
    let calls = callable(ctx, |_| true).await?;
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    for (tool, arguments) in &calls {
        let owner = label(tool, TOOLS, 0);
        let exchange = call_tool(ctx, tool, arguments).await?;
        let Some(structured) = exchange
            .result()
            .and_then(|result| result.get("structuredContent"))
        else {
            continue;
        };
        checked.push(owner.clone());
        let blocks = exchange
            .result()
            .and_then(|result| result.get("content"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let serialized = blocks.iter().any(|block| {
            block.get("type") == Some(&json!("text"))
                && block
                    .get("text")
                    .and_then(Value::as_str)
                    .and_then(|text| serde_json::from_str::<Value>(text).ok())
                    .is_some_and(|parsed| &parsed == structured)
        });
        if !serialized {
            problems.push(format!(
                "{owner}: no text block holds the structured content {}",
                crate::clip(&structured.to_string())
            ));
        }
    }
    if checked.is_empty() {
        return Ok(Outcome::Skip(
            "no tool called returned structured content".to_owned(),
        ));
    }
    Ok(judged(
        problems,
        format!("serialized too: {}", checked.join(", ")),
    ))
}

/// Calls a tool no server has.
async fn call_unknown_tool(ctx: &mut Ctx) -> Result<Exchange, Outcome> {
    if !ctx.declares("tools") {
        return Err(Outcome::Skip(
            "the server does not declare `tools`".to_owned(),
        ));
    }
    Ok(ctx
        .request("tools/call", Some(json!({"name": ABSENT, "arguments": {}})))
        .await?)
}

async fn tools_unknown_tool(ctx: &mut Ctx) -> Checked {
    let exchange = call_unknown_tool(ctx).await?;
    if exchange.error().is_some() {
        return Ok(Outcome::Pass(format!(
            "a JSON-RPC error: {}",
            exchange.seen()
        )));
    }
    Ok(Outcome::Violated(format!(
        "`tools/call` of `{ABSENT}` gave {}",
        exchange.seen()
    )))
}

async fn tools_unknown_tool_code(ctx: &mut Ctx) -> Checked {
    let exchange = call_unknown_tool(ctx).await?;
    Ok(crate::checks::expect_error_code(
        &exchange,
        -32602,
        &format!("`tools/call` of `{ABSENT}`"),
    ))
}

async fn tools_invalid_arguments(ctx: &mut Ctx) -> Checked {
    let calls = callable(ctx, |tool| {
        tool.get("inputSchema")
            .and_then(|schema| schema.get("required"))
            .and_then(Value::as_array)
            .is_some_and(|required| !required.is_empty())
    })
    .await?;
    let Some((tool, _)) = calls.first() else {
        return Ok(Outcome::Skip("no tool with required arguments".to_owned()));
    };
    let owner = label(tool, TOOLS, 0);
    let exchange = call_tool(ctx, tool, &json!({})).await?;
    match exchange.result() {
        Some(result) if result.get("isError") == Some(&json!(true)) => Ok(Outcome::Pass(format!(
            "{owner} without its required arguments: a tool result with `isError: true`"
        ))),
        _ => Ok(Outcome::Violated(format!(
            "{owner} without its required arguments gave {}",
            exchange.seen()
        ))),
    }
}

/// Whether `name` is an HTTP token (RFC 9110 §5.6.2).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

/// Collects the `x-mcp-header` annotations of `schema` into `found` (name, where, whether
/// it is reached through `properties` alone, the annotated schema).
fn headers_in(
    schema: &Value,
    path: &str,
    reachable: bool,
    found: &mut Vec<(Value, String, bool, Value)>,
) {
    match schema {
        Value::Object(map) => {
            if let Some(name) = map.get("x-mcp-header") {
                found.push((name.clone(), path.to_owned(), reachable, schema.clone()));
            }
            for (key, value) in map {
                if matches!(key.as_str(), "const" | "enum" | "default" | "examples") {
                    continue;
                }
                if key == "properties"
                    && let Value::Object(properties) = value
                {
                    for (name, property) in properties {
                        headers_in(property, &format!("{path}/{name}"), reachable, found);
                    }
                } else {
                    headers_in(value, &format!("{path}/{key}"), false, found);
                }
            }
        }
        Value::Array(values) => {
            for (index, value) in values.iter().enumerate() {
                headers_in(value, &format!("{path}/{index}"), false, found);
            }
        }
        _ => {}
    }
}

async fn tools_x_mcp_header(ctx: &mut Ctx) -> Checked {
    let tools = some_items(ctx, TOOLS).await?;
    let mut problems = Vec::new();
    let mut seen = 0;
    for (index, tool) in tools.iter().enumerate() {
        let owner = label(tool, TOOLS, index);
        let Some(schema) = tool.get("inputSchema") else {
            continue;
        };
        let mut found = Vec::new();
        headers_in(schema, "", true, &mut found);
        let mut names = HashSet::new();
        for (name, path, reachable, annotated) in found {
            seen += 1;
            let place = if path.is_empty() { "/" } else { path.as_str() };
            let Some(name) = name.as_str() else {
                problems.push(format!(
                    "{owner} {place}: `x-mcp-header` is {}",
                    kind(&name)
                ));
                continue;
            };
            if !is_token(name) {
                problems.push(format!(
                    "{owner} {place}: `x-mcp-header` {name:?} is not an HTTP token"
                ));
            }
            if !names.insert(name.to_ascii_lowercase()) {
                problems.push(format!("{owner}: `x-mcp-header` {name:?} is used twice"));
            }
            if !reachable || path.is_empty() {
                problems.push(format!(
                    "{owner} {place}: `x-mcp-header` {name:?} is not on a property reached through `properties` alone"
                ));
            }
            let primitive = matches!(
                annotated.get("type").and_then(Value::as_str),
                Some("string" | "integer" | "boolean")
            );
            if !primitive {
                problems.push(format!(
                    "{owner} {place}: `x-mcp-header` {name:?} is on a property of type {}",
                    annotated.get("type").unwrap_or(&Value::Null)
                ));
            }
        }
    }
    if seen == 0 {
        return Ok(Outcome::Skip("no tool uses `x-mcp-header`".to_owned()));
    }
    Ok(judged(
        problems,
        format!("{seen} `x-mcp-header` annotations valid"),
    ))
}

/// Every item of `list` read through `modern`, at most `PAGE_LIMIT` pages.
async fn read_all(modern: &mut Modern, list: ListKind) -> Result<Vec<Value>, String> {
    let mut items = Vec::new();
    let mut cursor: Option<Value> = None;
    for _ in 0..PAGE_LIMIT {
        let params = cursor.take().map(|cursor| json!({"cursor": cursor}));
        let exchange = modern.request(list.method, params).await?;
        let Some(result) = exchange.result() else {
            return Err(format!("`{}` failed: {}", list.method, exchange.seen()));
        };
        let Some(page) = result.get(list.key).and_then(Value::as_array) else {
            return Err(format!(
                "`{}` has no `{}`: {}",
                list.method,
                list.key,
                exchange.seen()
            ));
        };
        items.extend(page.iter().cloned());
        match result.get("nextCursor") {
            Some(next @ Value::String(_)) => cursor = Some(next.clone()),
            _ => return Ok(items),
        }
    }
    Ok(items)
}

/// The identities of `items`, in order.
fn identities(items: &[Value], list: ListKind) -> Vec<String> {
    items
        .iter()
        .map(|item| {
            item.get(list.identity)
                .and_then(Value::as_str)
                .map_or_else(|| item.to_string(), str::to_owned)
        })
        .collect()
}

/// Reads `list` on the shared modern connection and on a new one, and compares the sets.
async fn same_on_new_connection(ctx: &mut Ctx, list: ListKind) -> Checked {
    let first = identities(&items(ctx, list).await?, list);
    let mut fresh = ctx.fresh_modern()?;
    let second = read_all(&mut fresh, list).await;
    fresh.close().await;
    let second = identities(&second?, list);
    let first_set: BTreeSet<&String> = first.iter().collect();
    let second_set: BTreeSet<&String> = second.iter().collect();
    if first_set == second_set {
        return Ok(Outcome::Pass(format!(
            "{} items on both connections",
            first_set.len()
        )));
    }
    Ok(Outcome::Violated(format!(
        "`{}` listed {first:?} on one connection and {second:?} on another",
        list.method
    )))
}

async fn tools_list_not_per_connection(ctx: &mut Ctx) -> Checked {
    same_on_new_connection(ctx, TOOLS).await
}

async fn tools_deterministic_order(ctx: &mut Ctx) -> Checked {
    if !ctx.declares("tools") {
        return Ok(Outcome::Skip(
            "the server does not declare `tools`".to_owned(),
        ));
    }
    let modern = ctx.modern()?;
    let first = identities(&read_all(modern, TOOLS).await?, TOOLS);
    let second = identities(&read_all(modern, TOOLS).await?, TOOLS);
    if first == second {
        return Ok(Outcome::Pass(format!("the same order twice: {first:?}")));
    }
    Ok(Outcome::Violated(format!(
        "read twice, `tools/list` gave {first:?}, then {second:?}"
    )))
}

// ---------------------------------------------------------------------------------------
// Resources.

async fn resources_list_shape(ctx: &mut Ctx) -> Checked {
    let resources = some_items(ctx, RESOURCES).await?;
    let mut problems = Vec::new();
    for (index, resource) in resources.iter().enumerate() {
        let owner = label(resource, RESOURCES, index);
        if !resource.is_object() {
            problems.push(format!("{owner} is {}", kind(resource)));
            continue;
        }
        required_string(resource, "uri", &owner, &mut problems);
        required_string(resource, "name", &owner, &mut problems);
        for field in ["title", "description", "mimeType"] {
            optional_string(resource, field, &owner, &mut problems);
        }
        if let Some(size) = resource.get("size")
            && !(size.is_u64() || size.is_i64())
        {
            problems.push(format!("{owner}: `size` is {size}, not an integer"));
        }
    }
    Ok(judged(
        problems,
        format!("{} resources well formed", resources.len()),
    ))
}

/// Why `text` is not an absolute URI by RFC 3986, if it is not.
fn uri_problem(text: &str) -> Option<String> {
    let Some((scheme, rest)) = text.split_once(':') else {
        return Some("no scheme".to_owned());
    };
    let mut scheme_chars = scheme.chars();
    let scheme_ok = scheme_chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && scheme_chars.all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '+' | '-' | '.')
        });
    if !scheme_ok {
        return Some(format!("the scheme {scheme:?} is not valid"));
    }
    let bytes = rest.as_bytes();
    let mut index = 0;
    let mut fragments = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%' {
            let hex = bytes
                .get(index + 1..index + 3)
                .is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit));
            if !hex {
                return Some("a `%` not followed by two hex digits".to_owned());
            }
            index += 3;
            continue;
        }
        if byte == b'#' {
            fragments += 1;
        }
        let allowed = byte.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&byte);
        if !allowed {
            return Some(format!(
                "the character {:?} must be percent-encoded",
                char::from(byte)
            ));
        }
        index += 1;
    }
    if fragments > 1 {
        return Some("more than one `#`".to_owned());
    }
    None
}

async fn resources_uri_syntax(ctx: &mut Ctx) -> Checked {
    let resources = some_items(ctx, RESOURCES).await?;
    let mut problems = Vec::new();
    for resource in &resources {
        if let Some(uri) = resource.get("uri").and_then(Value::as_str)
            && let Some(problem) = uri_problem(uri)
        {
            problems.push(format!("`{}`: {problem}", crate::clip(uri)));
        }
    }
    Ok(judged(
        problems,
        format!("{} URIs by RFC 3986", resources.len()),
    ))
}

async fn resources_read_contents(ctx: &mut Ctx) -> Checked {
    let resources = some_items(ctx, RESOURCES).await?;
    let mut problems = Vec::new();
    let mut read = Vec::new();
    for resource in resources.iter().take(CALL_LIMIT) {
        let Some(uri) = resource.get("uri").and_then(Value::as_str) else {
            continue;
        };
        let exchange = ctx
            .request("resources/read", Some(json!({"uri": uri})))
            .await?;
        let Some(result) = exchange.result() else {
            problems.push(format!("`{uri}` could not be read: {}", exchange.seen()));
            continue;
        };
        if result.get("resultType") == Some(&json!("input_required")) {
            continue;
        }
        read.push(format!("`{uri}`"));
        match result.get("contents") {
            Some(Value::Array(contents)) => {
                for (index, item) in contents.iter().enumerate() {
                    resource_contents_problems(
                        item,
                        &format!("`{uri}` contents {index}"),
                        &mut problems,
                    );
                }
            }
            other => problems.push(format!(
                "`{uri}`: `contents` is {}",
                other.map_or("missing", kind)
            )),
        }
    }
    if read.is_empty() && problems.is_empty() {
        return Ok(Outcome::Skip("no listed resource has a URI".to_owned()));
    }
    Ok(judged(problems, format!("read {}", read.join(", "))))
}

/// Reads a URI no server has.
async fn read_absent(ctx: &mut Ctx) -> Result<Exchange, Outcome> {
    if !ctx.declares("resources") {
        return Err(Outcome::Skip(
            "the server does not declare `resources`".to_owned(),
        ));
    }
    Ok(ctx
        .request("resources/read", Some(json!({"uri": ABSENT_URI})))
        .await?)
}

async fn resources_not_found_error(ctx: &mut Ctx) -> Checked {
    let exchange = read_absent(ctx).await?;
    if exchange.error().is_some() {
        return Ok(Outcome::Pass(format!(
            "a JSON-RPC error: {}",
            exchange.seen()
        )));
    }
    let contents = exchange
        .result()
        .and_then(|result| result.get("contents"))
        .and_then(Value::as_array)
        .map(Vec::len);
    match contents {
        Some(count) if count > 0 => Ok(Outcome::Skip(format!(
            "the server reads `{ABSENT_URI}` as a resource of its own: {}",
            exchange.seen()
        ))),
        _ => Ok(Outcome::Violated(format!(
            "`resources/read` of `{ABSENT_URI}` gave {}",
            exchange.seen()
        ))),
    }
}

async fn resources_not_found_code(ctx: &mut Ctx) -> Checked {
    let exchange = read_absent(ctx).await?;
    Ok(crate::checks::expect_error_code(
        &exchange,
        -32002,
        &format!("`resources/read` of `{ABSENT_URI}`"),
    ))
}

async fn resources_not_found_invalid_params(ctx: &mut Ctx) -> Checked {
    let exchange = read_absent(ctx).await?;
    Ok(crate::checks::expect_error_code(
        &exchange,
        -32602,
        &format!("`resources/read` of `{ABSENT_URI}`"),
    ))
}

async fn resources_templates_shape(ctx: &mut Ctx) -> Checked {
    let templates = some_items(ctx, TEMPLATES).await?;
    let mut problems = Vec::new();
    for (index, template) in templates.iter().enumerate() {
        let owner = label(template, TEMPLATES, index);
        if !template.is_object() {
            problems.push(format!("{owner} is {}", kind(template)));
            continue;
        }
        required_string(template, "uriTemplate", &owner, &mut problems);
        required_string(template, "name", &owner, &mut problems);
        for field in ["title", "description", "mimeType"] {
            optional_string(template, field, &owner, &mut problems);
        }
    }
    Ok(judged(
        problems,
        format!("{} templates well formed", templates.len()),
    ))
}

/// Why `template` is not a URI template by RFC 6570, if it is not.
fn template_problem(template: &str) -> Option<String> {
    let mut rest = template;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('{') {
            let Some(end) = after.find('}') else {
                return Some("a `{` without its `}`".to_owned());
            };
            if let Some(problem) = expression_problem(&after[..end]) {
                return Some(problem);
            }
            rest = &after[end + 1..];
            continue;
        }
        let character = rest.chars().next()?;
        if character == '%' {
            let hex = rest
                .as_bytes()
                .get(1..3)
                .is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit));
            if !hex {
                return Some("a `%` not followed by two hex digits".to_owned());
            }
            rest = &rest[3..];
            continue;
        }
        let forbidden = character.is_control()
            || matches!(
                character,
                ' ' | '"' | '\'' | '<' | '>' | '\\' | '^' | '`' | '|' | '}'
            );
        if forbidden {
            return Some(format!(
                "the literal character {character:?} is not allowed"
            ));
        }
        rest = &rest[character.len_utf8()..];
    }
    None
}

/// Why the inside of a `{…}` expression is not valid by RFC 6570, if it is not.
fn expression_problem(expression: &str) -> Option<String> {
    let list = expression
        .strip_prefix(['+', '#', '.', '/', ';', '?', '&'])
        .unwrap_or(expression);
    if list.is_empty() {
        return Some(format!("the expression {{{expression}}} names no variable"));
    }
    for spec in list.split(',') {
        let (name, modifier) = match spec.find([':', '*']) {
            Some(at) => (&spec[..at], &spec[at..]),
            None => (spec, ""),
        };
        let modifier_ok = modifier.is_empty()
            || modifier == "*"
            || modifier.strip_prefix(':').is_some_and(|length| {
                (1..=4).contains(&length.len())
                    && length.bytes().all(|byte| byte.is_ascii_digit())
                    && !length.starts_with('0')
            });
        let name_ok = !name.is_empty()
            && !name.starts_with('.')
            && !name.ends_with('.')
            && !name.contains("..")
            && name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'%'));
        if !modifier_ok || !name_ok {
            return Some(format!(
                "the variable {spec:?} in {{{expression}}} is not valid"
            ));
        }
    }
    None
}

async fn resources_template_syntax(ctx: &mut Ctx) -> Checked {
    let templates = some_items(ctx, TEMPLATES).await?;
    let mut problems = Vec::new();
    for template in &templates {
        if let Some(text) = template.get("uriTemplate").and_then(Value::as_str)
            && let Some(problem) = template_problem(text)
        {
            problems.push(format!("`{}`: {problem}", crate::clip(text)));
        }
    }
    Ok(judged(
        problems,
        format!("{} templates by RFC 6570", templates.len()),
    ))
}

async fn resources_annotations(ctx: &mut Ctx) -> Checked {
    let mut problems = Vec::new();
    let mut seen = 0;
    for list in [RESOURCES, TEMPLATES] {
        for (index, item) in items(ctx, list).await?.iter().enumerate() {
            if item.get("annotations").is_some() {
                seen += 1;
                annotation_problems(item, &label(item, list, index), &mut problems);
            }
        }
    }
    if seen == 0 {
        return Ok(Outcome::Skip(
            "no resource or template has annotations".to_owned(),
        ));
    }
    Ok(judged(problems, format!("{seen} annotations well formed")))
}

async fn resources_icons(ctx: &mut Ctx) -> Checked {
    icons_of(ctx, &[RESOURCES, TEMPLATES]).await
}

async fn resources_list_not_per_connection(ctx: &mut Ctx) -> Checked {
    same_on_new_connection(ctx, RESOURCES).await
}

// ---------------------------------------------------------------------------------------
// Prompts.

async fn prompts_list_shape(ctx: &mut Ctx) -> Checked {
    let prompts = some_items(ctx, PROMPTS).await?;
    let mut problems = Vec::new();
    for (index, prompt) in prompts.iter().enumerate() {
        let owner = label(prompt, PROMPTS, index);
        if !prompt.is_object() {
            problems.push(format!("{owner} is {}", kind(prompt)));
            continue;
        }
        required_string(prompt, "name", &owner, &mut problems);
        for field in ["title", "description"] {
            optional_string(prompt, field, &owner, &mut problems);
        }
        let Some(arguments) = prompt.get("arguments") else {
            continue;
        };
        let Some(arguments) = arguments.as_array() else {
            problems.push(format!("{owner}: `arguments` is {}", kind(arguments)));
            continue;
        };
        for (position, argument) in arguments.iter().enumerate() {
            let owner = format!("{owner} argument {position}");
            if !argument.is_object() {
                problems.push(format!("{owner} is {}", kind(argument)));
                continue;
            }
            required_string(argument, "name", &owner, &mut problems);
            for field in ["title", "description"] {
                optional_string(argument, field, &owner, &mut problems);
            }
            if let Some(required) = argument.get("required")
                && !required.is_boolean()
            {
                problems.push(format!("{owner}: `required` is {}", kind(required)));
            }
        }
    }
    Ok(judged(
        problems,
        format!("{} prompts well formed", prompts.len()),
    ))
}

/// The names of the required arguments of `prompt`.
fn required_arguments(prompt: &Value) -> Vec<String> {
    prompt
        .get("arguments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|argument| argument.get("required") == Some(&json!(true)))
        .filter_map(|argument| argument.get("name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

async fn prompts_get_messages(ctx: &mut Ctx) -> Checked {
    let prompts = some_items(ctx, PROMPTS).await?;
    let mut problems = Vec::new();
    let mut got = Vec::new();
    for prompt in prompts.iter().take(CALL_LIMIT) {
        let Some(name) = prompt.get("name").and_then(Value::as_str) else {
            continue;
        };
        let arguments: serde_json::Map<String, Value> = required_arguments(prompt)
            .into_iter()
            .map(|argument| (argument, json!("conformance")))
            .collect();
        let exchange = ctx
            .request(
                "prompts/get",
                Some(json!({"name": name, "arguments": arguments})),
            )
            .await?;
        // An error is no message to judge: values the suite made up may be refused, and a
        // prompt may need client capabilities the suite did not declare.
        let Some(result) = exchange.result() else {
            continue;
        };
        if result.get("resultType") == Some(&json!("input_required")) {
            continue;
        }
        got.push(format!("`{name}`"));
        optional_string(result, "description", &format!("`{name}`"), &mut problems);
        let Some(messages) = result.get("messages").and_then(Value::as_array) else {
            problems.push(format!(
                "`{name}`: `messages` is {}",
                result.get("messages").map_or("missing", kind)
            ));
            continue;
        };
        for (index, message) in messages.iter().enumerate() {
            let owner = format!("`{name}` message {index}");
            match message.get("role") {
                Some(role) if role == "user" || role == "assistant" => {}
                other => problems.push(format!(
                    "{owner}: `role` is {}, not \"user\" or \"assistant\"",
                    other.unwrap_or(&Value::Null)
                )),
            }
            match message.get("content") {
                Some(content) => content_problems(content, &owner, &mut problems),
                None => problems.push(format!("{owner}: no `content`")),
            }
        }
    }
    if got.is_empty() && problems.is_empty() {
        return Ok(Outcome::Skip("no prompt could be got".to_owned()));
    }
    Ok(judged(problems, format!("got {}", got.join(", "))))
}

async fn prompts_missing_argument(ctx: &mut Ctx) -> Checked {
    let prompts = some_items(ctx, PROMPTS).await?;
    let Some(prompt) = prompts
        .iter()
        .find(|prompt| !required_arguments(prompt).is_empty())
    else {
        return Ok(Outcome::Skip(
            "no prompt has a required argument".to_owned(),
        ));
    };
    let name = prompt.get("name").cloned().unwrap_or(Value::Null);
    let exchange = ctx
        .request("prompts/get", Some(json!({"name": name, "arguments": {}})))
        .await?;
    Ok(crate::checks::expect_error_code(
        &exchange,
        -32602,
        &format!("`prompts/get` of {name} without its required arguments"),
    ))
}

async fn prompts_unknown_prompt(ctx: &mut Ctx) -> Checked {
    if !ctx.declares("prompts") {
        return Ok(Outcome::Skip(
            "the server does not declare `prompts`".to_owned(),
        ));
    }
    let exchange = ctx
        .request(
            "prompts/get",
            Some(json!({"name": ABSENT, "arguments": {}})),
        )
        .await?;
    Ok(crate::checks::expect_error_code(
        &exchange,
        -32602,
        &format!("`prompts/get` of `{ABSENT}`"),
    ))
}

async fn prompts_icons(ctx: &mut Ctx) -> Checked {
    icons_of(ctx, &[PROMPTS]).await
}

async fn prompts_list_not_per_connection(ctx: &mut Ctx) -> Checked {
    same_on_new_connection(ctx, PROMPTS).await
}

// ---------------------------------------------------------------------------------------
// Completion.

/// The references the suite can ask completions for: each prompt's first argument, and
/// each template's first variable; at most `CALL_LIMIT`.
async fn completion_targets(ctx: &mut Ctx) -> Vec<(Value, String)> {
    let mut targets = Vec::new();
    if ctx.declares("prompts")
        && let Ok(prompts) = ctx.list(PROMPTS.method, PROMPTS.key).await
    {
        for prompt in &prompts {
            let argument = prompt
                .get("arguments")
                .and_then(Value::as_array)
                .and_then(|arguments| arguments.first())
                .and_then(|argument| argument.get("name"))
                .and_then(Value::as_str);
            if let (Some(name), Some(argument)) =
                (prompt.get("name").and_then(Value::as_str), argument)
            {
                targets.push((
                    json!({"type": "ref/prompt", "name": name}),
                    argument.to_owned(),
                ));
            }
        }
    }
    if ctx.declares("resources")
        && let Ok(templates) = ctx.list(TEMPLATES.method, TEMPLATES.key).await
    {
        for template in &templates {
            let Some(uri) = template.get("uriTemplate").and_then(Value::as_str) else {
                continue;
            };
            let variable = uri.split_once('{').and_then(|(_, after)| {
                let inside = after.split('}').next()?;
                let list = inside
                    .strip_prefix(['+', '#', '.', '/', ';', '?', '&'])
                    .unwrap_or(inside);
                let first = list.split(',').next()?;
                Some(first.trim_end_matches('*').split(':').next()?.to_owned())
            });
            if let Some(variable) = variable {
                targets.push((json!({"type": "ref/resource", "uri": uri}), variable));
            }
        }
    }
    targets.truncate(CALL_LIMIT);
    targets
}

/// Asks for completions of `argument` of `reference` with an empty value.
async fn complete(ctx: &mut Ctx, reference: &Value, argument: &str) -> Result<Exchange, String> {
    ctx.request(
        "completion/complete",
        Some(json!({"ref": reference, "argument": {"name": argument, "value": ""}})),
    )
    .await
}

async fn completion_capability(ctx: &mut Ctx) -> Checked {
    let declared = ctx.declares("completions");
    let targets = completion_targets(ctx).await;
    let Some((reference, argument)) = targets.first() else {
        return Ok(Outcome::Skip(
            "no prompt argument or template variable to complete".to_owned(),
        ));
    };
    let exchange = complete(ctx, reference, argument).await?;
    let answered = exchange
        .result()
        .is_some_and(|result| result.get("completion").is_some());
    match (declared, answered) {
        (true, true) => Ok(Outcome::Pass(format!(
            "declares `completions`; completes {reference}"
        ))),
        (true, false) => Ok(Outcome::Violated(format!(
            "declares `completions`, but completing `{argument}` of {reference} gave {}",
            exchange.seen()
        ))),
        (false, true) => Ok(Outcome::Violated(format!(
            "does not declare `completions`, but completes `{argument}` of {reference}: {}",
            exchange.seen()
        ))),
        (false, false) => Ok(Outcome::Pass(format!(
            "does not declare `completions`; `completion/complete` is refused: {}",
            exchange.seen()
        ))),
    }
}

/// The completions of each target, for checks of their shape; skipped without `completions`.
async fn completions(ctx: &mut Ctx) -> Result<Vec<(String, Exchange)>, Outcome> {
    if !ctx.declares("completions") {
        return Err(Outcome::Skip(
            "the server does not declare `completions`".to_owned(),
        ));
    }
    let targets = completion_targets(ctx).await;
    if targets.is_empty() {
        return Err(Outcome::Skip(
            "no prompt argument or template variable to complete".to_owned(),
        ));
    }
    let mut answers = Vec::new();
    for (reference, argument) in targets {
        let exchange = complete(ctx, &reference, &argument).await?;
        answers.push((format!("`{argument}` of {reference}"), exchange));
    }
    Ok(answers)
}

async fn completion_values_limit(ctx: &mut Ctx) -> Checked {
    let answers = completions(ctx).await?;
    let mut problems = Vec::new();
    let mut counts = Vec::new();
    for (what, exchange) in &answers {
        let values = exchange
            .result()
            .and_then(|result| result.get("completion"))
            .and_then(|completion| completion.get("values"))
            .and_then(Value::as_array);
        match values {
            Some(values) if values.len() > 100 => {
                problems.push(format!("{what}: {} values", values.len()));
            }
            Some(values) => counts.push(values.len()),
            None => {}
        }
    }
    if counts.is_empty() && problems.is_empty() {
        return Ok(Outcome::Skip("no completion gave `values`".to_owned()));
    }
    Ok(judged(problems, format!("value counts {counts:?}")))
}

async fn completion_result_types(ctx: &mut Ctx) -> Checked {
    let answers = completions(ctx).await?;
    let mut problems = Vec::new();
    for (what, exchange) in &answers {
        let Some(result) = exchange.result() else {
            problems.push(format!("{what}: no result: {}", exchange.seen()));
            continue;
        };
        let Some(completion) = result.get("completion").filter(|value| value.is_object()) else {
            problems.push(format!(
                "{what}: `completion` is {}",
                result.get("completion").map_or("missing", kind)
            ));
            continue;
        };
        let strings = completion
            .get("values")
            .and_then(Value::as_array)
            .is_some_and(|values| values.iter().all(Value::is_string));
        if !strings {
            problems.push(format!(
                "{what}: `values` is not an array of strings: {}",
                completion.get("values").unwrap_or(&Value::Null)
            ));
        }
        if let Some(total) = completion.get("total")
            && !(total.is_u64() || total.is_i64())
        {
            problems.push(format!("{what}: `total` is {total}, not an integer"));
        }
        if let Some(more) = completion.get("hasMore")
            && !more.is_boolean()
        {
            problems.push(format!("{what}: `hasMore` is {}", kind(more)));
        }
    }
    Ok(judged(
        problems,
        format!("{} completions well typed", answers.len()),
    ))
}

async fn completion_unknown_prompt(ctx: &mut Ctx) -> Checked {
    if !ctx.declares("completions") {
        return Ok(Outcome::Skip(
            "the server does not declare `completions`".to_owned(),
        ));
    }
    let exchange = complete(ctx, &json!({"type": "ref/prompt", "name": ABSENT}), "name").await?;
    Ok(crate::checks::expect_error_code(
        &exchange,
        -32602,
        &format!("completing an argument of the prompt `{ABSENT}`"),
    ))
}

// ---------------------------------------------------------------------------------------
// Logging.

async fn logging_set_level(ctx: &mut Ctx) -> Checked {
    if !ctx.declares("logging") {
        return Ok(Outcome::Skip(
            "the server does not declare `logging`".to_owned(),
        ));
    }
    // A session of its own, so that the level set does not reach the shared session.
    let mut session = ctx.fresh_legacy().await?;
    let exchange = session
        .request("logging/setLevel", Some(json!({"level": "emergency"})))
        .await;
    session.close().await;
    let exchange = exchange?;
    match exchange.result() {
        Some(Value::Object(result)) if result.keys().all(|key| key == "_meta") => Ok(
            Outcome::Pass(format!("an empty result: {}", exchange.seen())),
        ),
        _ => Ok(Outcome::Violated(format!(
            "`logging/setLevel` gave {}",
            exchange.seen()
        ))),
    }
}

async fn logging_invalid_level(ctx: &mut Ctx) -> Checked {
    if !ctx.declares("logging") {
        return Ok(Outcome::Skip(
            "the server does not declare `logging`".to_owned(),
        ));
    }
    let exchange = ctx
        .request("logging/setLevel", Some(json!({"level": "loudest"})))
        .await?;
    Ok(crate::checks::expect_error_code(
        &exchange,
        -32602,
        "`logging/setLevel` to \"loudest\"",
    ))
}

async fn logging_undeclared(ctx: &mut Ctx) -> Checked {
    if ctx.declares("logging") {
        return Ok(Outcome::Skip("the server declares `logging`".to_owned()));
    }
    let exchange = ctx
        .request("logging/setLevel", Some(json!({"level": "emergency"})))
        .await?;
    if exchange.error().is_some() {
        return Ok(Outcome::Pass(format!("refused: {}", exchange.seen())));
    }
    Ok(Outcome::Violated(format!(
        "`logging` undeclared, yet `logging/setLevel` gave {}",
        exchange.seen()
    )))
}

/// A cheap request the server answers in the modern era: the first declared list, or
/// `server/discover`.
fn plain_method(ctx: &Ctx) -> &'static str {
    LISTS
        .iter()
        .find(|list| ctx.declares(list.capability))
        .map_or("server/discover", |list| list.method)
}

async fn logging_invalid_meta_level(ctx: &mut Ctx) -> Checked {
    let method = plain_method(ctx);
    let params = json!({"_meta": {META_LOG_LEVEL: "loudest"}});
    let exchange = ctx.request(method, Some(params)).await?;
    Ok(crate::checks::expect_error_code(
        &exchange,
        -32602,
        &format!("`{method}` with the log level \"loudest\""),
    ))
}

async fn logging_no_messages_without_level(ctx: &mut Ctx) -> Checked {
    let mut exchanges = Vec::new();
    let method = plain_method(ctx);
    exchanges.push((method.to_owned(), ctx.request(method, None).await?));
    if let Ok(calls) = callable(ctx, |_| true).await
        && let Some((tool, arguments)) = calls.first()
    {
        let exchange = call_tool(ctx, tool, arguments).await?;
        exchanges.push((
            format!("`tools/call` of {}", label(tool, TOOLS, 0)),
            exchange,
        ));
    }
    let mut problems = Vec::new();
    for (what, exchange) in &exchanges {
        for message in &exchange.others {
            if message.get("method") == Some(&json!("notifications/message")) {
                problems.push(format!(
                    "{what} without a log level brought {}",
                    crate::clip(&message.to_string())
                ));
            }
        }
    }
    Ok(judged(
        problems,
        format!("{} requests, no log messages", exchanges.len()),
    ))
}

// ---------------------------------------------------------------------------------------
// Pagination.

/// One page of a list as the server gave it.
struct Page {
    /// Its items.
    items: Vec<Value>,
    /// Its `nextCursor`, as it came.
    next: Option<Value>,
}

/// The pages of `list`, following `nextCursor` while it is a string (an empty one ends a
/// legacy list, where the revision does not say it is a cursor), at most `PAGE_LIMIT`.
async fn read_pages(ctx: &mut Ctx, list: ListKind) -> Result<Vec<Page>, Outcome> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..PAGE_LIMIT {
        let params = cursor.take().map(|cursor| json!({"cursor": cursor}));
        let exchange = ctx.request(list.method, params).await?;
        let result = crate::checks::expect_result(&exchange, list.method)?;
        let items = result
            .get(list.key)
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| {
                Outcome::Violated(format!(
                    "`{}` has no `{}` array: {}",
                    list.method,
                    list.key,
                    exchange.seen()
                ))
            })?;
        let next = result.get("nextCursor").cloned();
        cursor = match &next {
            Some(Value::String(text)) if !(text.is_empty() && ctx.era() == Era::Legacy) => {
                Some(text.clone())
            }
            _ => None,
        };
        pages.push(Page { items, next });
        if cursor.is_none() {
            break;
        }
    }
    Ok(pages)
}

/// The lists the server declares.
fn declared_lists(ctx: &Ctx) -> Result<Vec<ListKind>, Outcome> {
    let lists: Vec<ListKind> = LISTS
        .into_iter()
        .filter(|list| ctx.declares(list.capability))
        .collect();
    if lists.is_empty() {
        return Err(Outcome::Skip(
            "the server declares no tools, resources or prompts".to_owned(),
        ));
    }
    Ok(lists)
}

async fn pagination_cursor_type(ctx: &mut Ctx) -> Checked {
    let mut problems = Vec::new();
    let mut read = Vec::new();
    for list in declared_lists(ctx)? {
        let pages = read_pages(ctx, list).await?;
        for (index, page) in pages.iter().enumerate() {
            if let Some(next) = &page.next
                && !next.is_string()
            {
                problems.push(format!(
                    "`{}` page {index}: `nextCursor` is {}",
                    list.method,
                    kind(next)
                ));
            }
        }
        read.push(format!("`{}` in {} pages", list.method, pages.len()));
    }
    Ok(judged(problems, read.join(", ")))
}

async fn pagination_no_repeats(ctx: &mut Ctx) -> Checked {
    let mut problems = Vec::new();
    let mut read = Vec::new();
    for list in declared_lists(ctx)? {
        let pages = read_pages(ctx, list).await?;
        if pages.len() == PAGE_LIMIT
            && pages
                .last()
                .is_some_and(|page| page.next.as_ref().is_some_and(Value::is_string))
        {
            problems.push(format!(
                "`{}` had a next page after {PAGE_LIMIT} pages",
                list.method
            ));
        }
        let mut seen = HashSet::new();
        for (index, page) in pages.iter().enumerate() {
            for identity in identities(&page.items, list) {
                if !seen.insert(identity.clone()) {
                    problems.push(format!(
                        "`{}` page {index} repeats {}",
                        list.method,
                        crate::clip(&identity)
                    ));
                }
            }
        }
        read.push(format!(
            "`{}`: {} items in {} pages",
            list.method,
            seen.len(),
            pages.len()
        ));
    }
    Ok(judged(problems, read.join(", ")))
}

async fn pagination_invalid_cursor(ctx: &mut Ctx) -> Checked {
    let list = declared_lists(ctx)?[0];
    let exchange = ctx
        .request(list.method, Some(json!({"cursor": ABSENT})))
        .await?;
    Ok(crate::checks::expect_error_code(
        &exchange,
        -32602,
        &format!("`{}` with the cursor `{ABSENT}`", list.method),
    ))
}

async fn pagination_stable_cursor(ctx: &mut Ctx) -> Checked {
    for list in declared_lists(ctx)? {
        let first = ctx.request(list.method, None).await?;
        let Some(cursor) = first
            .result()
            .and_then(|result| result.get("nextCursor"))
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            continue;
        };
        let mut pages = Vec::new();
        for _ in 0..2 {
            let exchange = ctx
                .request(list.method, Some(json!({"cursor": cursor})))
                .await?;
            let result = crate::checks::expect_result(&exchange, list.method)?;
            pages.push(identities(
                result
                    .get(list.key)
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice),
                list,
            ));
        }
        if pages[0] == pages[1] {
            return Ok(Outcome::Pass(format!(
                "`{}` with the same cursor twice: {:?}",
                list.method, pages[0]
            )));
        }
        return Ok(Outcome::Violated(format!(
            "`{}` with the cursor {cursor:?} gave {:?}, then {:?}",
            list.method, pages[0], pages[1]
        )));
    }
    Ok(Outcome::Skip("no list has a second page".to_owned()))
}
