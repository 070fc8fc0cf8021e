//! What each method does, shared by both eras: the legacy session and the modern stateless
//! path build the same typed results here, then shape them for their revision.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use mcpwire_jsonrpc::ErrorObject;
use mcpwire_protocol::pagination;
use mcpwire_schema::Era;
use mcpwire_schema::v2025_11_25 as wire;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::resource::{MAX_COMPLETIONS, ReadHandler, not_found};
use crate::state::Inner;
use crate::tool::text_result;
use crate::{CacheHints, Context, HandlerError, Prompt, Tool, ToolError};

pub(crate) fn decode<P: DeserializeOwned>(params: Option<&RawValue>) -> Result<P, ErrorObject> {
    mcpwire_jsonrpc::decode_params(params)
}

pub(crate) fn encode(result: &impl serde::Serialize) -> Result<Box<RawValue>, ErrorObject> {
    serde_json::value::to_raw_value(result)
        .map_err(|error| ErrorObject::internal_error(error.to_string()))
}

fn cursor_of(params: Option<&RawValue>) -> Result<Option<String>, ErrorObject> {
    let params: Option<wire::PaginatedRequestParams> = decode(params)?;
    Ok(params.and_then(|params| params.cursor))
}

/// `tools/list`: a page of the tools, sorted by name.
pub(crate) fn list_tools(
    server: &Inner,
    params: Option<&RawValue>,
    capabilities: &wire::ClientCapabilities,
) -> Result<wire::ListToolsResult, ErrorObject> {
    let cursor = cursor_of(params)?;
    let mut tools = server.tools_snapshot();
    // A tool the client could not use is not shown to it.
    tools.retain(|tool| tool.missing_capability(capabilities).is_none());
    let names: Vec<&str> = tools.iter().map(|tool| tool.name()).collect();
    let (range, next_cursor) =
        pagination::page(&names, cursor.as_deref(), server.settings().page_size)?;
    Ok(wire::ListToolsResult {
        meta: None,
        next_cursor,
        tools: tools[range]
            .iter()
            .map(|tool| wire::Tool::clone(&tool.definition))
            .collect(),
    })
}

/// The tool `tools/call` names, or `-32602`. A tool that needs a client capability the client
/// did not declare (`capabilities`, read only for such a tool) is refused: as unknown in the
/// legacy era, where the client was not shown it, and with `-32021` in the modern era.
pub(crate) fn find_tool(
    server: &Inner,
    name: &str,
    era: Era,
    capabilities: impl FnOnce() -> wire::ClientCapabilities,
) -> Result<Tool, ErrorObject> {
    let unknown = || ErrorObject::invalid_params(format!("unknown tool: {name}"));
    let tool = server.tool(name).ok_or_else(unknown)?;
    if !tool.requires_capabilities() {
        return Ok(tool);
    }
    match (tool.missing_capability(&capabilities()), era) {
        (None, _) => Ok(tool),
        (Some(_), Era::Legacy) => Err(unknown()),
        (Some(missing), Era::Modern) => Err(crate::error::missing_capability_error(missing.path())),
    }
}

/// How a tool call failed, before each era decides how to answer it.
#[derive(Debug)]
pub(crate) enum ToolFailure {
    /// A protocol error: the tool broke its own output schema.
    Protocol(ErrorObject),
    /// The handler's error: a tool execution error, unless the era maps it (URL elicitations,
    /// a missing client capability).
    Tool(ToolError),
}

/// Validates the arguments, runs the tool, and checks its structured output.
pub(crate) async fn run_tool(
    tool: &Tool,
    arguments: mcpwire_schema::JsonObject,
    context: Context,
) -> Result<wire::CallToolResult, ToolFailure> {
    let name = tool.name().to_owned();
    let arguments = Value::Object(arguments);
    if let Err(errors) = tool.check_arguments(&arguments) {
        // Invalid arguments are a tool execution error the model can correct (SEP-1303).
        return Ok(text_result(
            format!("invalid arguments for tool `{name}`: {}", errors.join("; ")),
            true,
        ));
    }
    let Value::Object(arguments) = arguments else {
        return Ok(text_result(
            format!("invalid arguments for tool `{name}`: not an object"),
            true,
        ));
    };
    let mut result = context
        .run(|context| (tool.handler)(arguments, context))
        .await
        .map_err(ToolFailure::Tool)?;
    if let Some(validator) = &tool.output_validator
        && result.is_error != Some(true)
    {
        // Validate in place: move the object into a `Value` and back, without copying it.
        let structured = result.structured_content.take().map(Value::Object);
        let valid = structured
            .as_ref()
            .is_some_and(|structured| validator.is_valid(structured));
        result.structured_content = match structured {
            Some(Value::Object(object)) => Some(object),
            _ => None,
        };
        if !valid {
            tracing::error!(tool = %name, "a tool result does not match the tool's output schema");
            return Err(ToolFailure::Protocol(ErrorObject::internal_error(format!(
                "tool `{name}` returned structured content that does not match its output schema"
            ))));
        }
    }
    Ok(result)
}

/// `resources/list`: a page of the resources, sorted by URI.
pub(crate) fn list_resources(
    server: &Inner,
    params: Option<&RawValue>,
) -> Result<wire::ListResourcesResult, ErrorObject> {
    let cursor = cursor_of(params)?;
    let resources = server.resources_snapshot();
    let keys: Vec<&str> = resources.iter().map(|resource| resource.uri()).collect();
    let (range, next_cursor) =
        pagination::page(&keys, cursor.as_deref(), server.settings().page_size)?;
    Ok(wire::ListResourcesResult {
        meta: None,
        next_cursor,
        resources: resources[range]
            .iter()
            .map(|resource| resource.definition.clone())
            .collect(),
    })
}

/// `resources/templates/list`: a page of the templates, sorted by template.
pub(crate) fn list_templates(
    server: &Inner,
    params: Option<&RawValue>,
) -> Result<wire::ListResourceTemplatesResult, ErrorObject> {
    let cursor = cursor_of(params)?;
    let templates = server.templates_snapshot();
    let keys: Vec<&str> = templates
        .iter()
        .map(|template| template.uri_template())
        .collect();
    let (range, next_cursor) =
        pagination::page(&keys, cursor.as_deref(), server.settings().page_size)?;
    Ok(wire::ListResourceTemplatesResult {
        meta: None,
        next_cursor,
        resource_templates: templates[range]
            .iter()
            .map(|template| template.definition.clone())
            .collect(),
    })
}

type ReadFuture = Pin<
    Box<
        dyn Future<Output = Result<Vec<wire::ReadResourceResultContentsItem>, HandlerError>> + Send,
    >,
>;

/// What reads a URI: a resource at that URI, or the first template matching it.
pub(crate) struct Readable {
    handler: ReadHandler,
    variables: BTreeMap<String, String>,
    /// The cache hints of the resource or template, when it has its own.
    pub(crate) cache_hints: Option<CacheHints>,
}

impl Readable {
    /// Finds what reads `uri`, or the era's not-found error.
    pub(crate) fn find(server: &Inner, uri: &str, era: Era) -> Result<Readable, ErrorObject> {
        if let Some(resource) = server.resource(uri) {
            return Ok(Readable {
                handler: resource.handler,
                variables: BTreeMap::new(),
                cache_hints: resource.cache_hints,
            });
        }
        server
            .templates_snapshot()
            .into_iter()
            .find_map(|template| {
                let variables = template.template.matches(uri)?;
                Some(Readable {
                    handler: template.handler,
                    variables,
                    cache_hints: template.cache_hints,
                })
            })
            .ok_or_else(|| not_found(uri, era))
    }

    /// Runs the handler.
    pub(crate) fn read(&self, uri: String, context: Context) -> ReadFuture {
        let handler = std::sync::Arc::clone(&self.handler);
        let variables = self.variables.clone();
        Box::pin(context.run(move |context| handler(uri, variables, context)))
    }
}

/// `prompts/list`: a page of the prompts, sorted by name.
pub(crate) fn list_prompts(
    server: &Inner,
    params: Option<&RawValue>,
) -> Result<wire::ListPromptsResult, ErrorObject> {
    let cursor = cursor_of(params)?;
    let prompts = server.prompts_snapshot();
    let keys: Vec<&str> = prompts.iter().map(|prompt| prompt.name()).collect();
    let (range, next_cursor) =
        pagination::page(&keys, cursor.as_deref(), server.settings().page_size)?;
    Ok(wire::ListPromptsResult {
        meta: None,
        next_cursor,
        prompts: prompts[range]
            .iter()
            .map(|prompt| prompt.definition.clone())
            .collect(),
    })
}

/// The prompt `prompts/get` names with its arguments, once they are checked; or `-32602`.
pub(crate) fn find_prompt(
    server: &Inner,
    params: wire::GetPromptRequestParams,
) -> Result<(Prompt, BTreeMap<String, String>), ErrorObject> {
    let Some(prompt) = server.prompt(&params.name) else {
        return Err(ErrorObject::invalid_params(format!(
            "unknown prompt: {}",
            params.name
        )));
    };
    let arguments = params.arguments.unwrap_or_default();
    let missing = prompt.missing_arguments(&arguments);
    if !missing.is_empty() {
        return Err(ErrorObject::invalid_params(format!(
            "prompt `{}` needs the arguments: {}",
            params.name,
            missing.join(", ")
        )));
    }
    Ok((prompt, arguments))
}

/// The result of `prompts/get` with the rendered messages.
pub(crate) fn prompt_result(
    prompt: &Prompt,
    messages: Vec<wire::PromptMessage>,
) -> wire::GetPromptResult {
    wire::GetPromptResult {
        meta: None,
        description: prompt.definition.description.clone(),
        messages,
    }
}

/// `completion/complete`: the values of the prompt argument's or template variable's
/// completer, at most 100.
pub(crate) async fn complete(
    server: &Inner,
    params: Option<&RawValue>,
) -> Result<wire::CompleteResult, ErrorObject> {
    let params: wire::CompleteRequestParams = decode(params)?;
    let completer = match &params.r#ref {
        wire::CompleteRequestParamsRef::PromptReference(reference) => {
            let prompt = server.prompt(&reference.name).ok_or_else(|| {
                ErrorObject::invalid_params(format!("unknown prompt: {}", reference.name))
            })?;
            let declared = prompt
                .definition
                .arguments
                .iter()
                .flatten()
                .any(|argument| argument.name == params.argument.name);
            if !declared {
                return Err(ErrorObject::invalid_params(format!(
                    "prompt `{}` has no argument `{}`",
                    reference.name, params.argument.name
                )));
            }
            prompt.completers.get(&params.argument.name).cloned()
        }
        wire::CompleteRequestParamsRef::ResourceTemplateReference(reference) => {
            let template = server.template(&reference.uri).ok_or_else(|| {
                ErrorObject::invalid_params(format!("unknown resource template: {}", reference.uri))
            })?;
            if !template
                .template
                .variables()
                .any(|variable| variable == params.argument.name)
            {
                return Err(ErrorObject::invalid_params(format!(
                    "resource template `{}` has no variable `{}`",
                    reference.uri, params.argument.name
                )));
            }
            template.completers.get(&params.argument.name).cloned()
        }
        wire::CompleteRequestParamsRef::Unknown(_) => {
            return Err(ErrorObject::invalid_params(
                "unknown completion reference type",
            ));
        }
    };
    let mut values = match completer {
        Some(completer) => {
            let context = params
                .context
                .and_then(|context| context.arguments)
                .unwrap_or_default();
            completer(params.argument.value, context).await
        }
        // An argument without a completer has no suggestions.
        None => Vec::new(),
    };
    let total = values.len();
    values.truncate(MAX_COMPLETIONS);
    Ok(wire::CompleteResult {
        meta: None,
        completion: wire::CompleteResultCompletion {
            has_more: Some(total > MAX_COMPLETIONS),
            total: i64::try_from(total).ok(),
            values,
        },
    })
}
