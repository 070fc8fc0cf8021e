//! Tools: definitions, typed and raw handlers, and argument and output validation.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use mcpwire_schema::JsonObject;
use mcpwire_schema::header_params::HeaderParams;
use mcpwire_schema::v2025_11_25 as wire;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Context, Error, ToolError};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Handler = Arc<
    dyn Fn(JsonObject, Context) -> BoxFuture<Result<wire::CallToolResult, ToolError>> + Send + Sync,
>;

/// Longest tool name accepted (SEP-986 asks for 1 to 128 characters).
const MAX_NAME: usize = 128;

/// A tool: its definition as `tools/list` shows it, and the handler `tools/call` runs.
///
/// Arguments are validated against the input schema before the handler runs; a failure is
/// reported to the model as a tool execution error (`isError: true`), as the spec asks.
///
/// ```
/// use mcpwire_server::{Context, Tool, ToolError};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Add {
///     a: f64,
///     b: f64,
/// }
///
/// let tool = Tool::typed("add", |arguments: Add, _context: Context| async move {
///     Ok::<_, ToolError>(format!("{}", arguments.a + arguments.b))
/// })
/// .description("Adds two numbers")
/// .build()
/// .unwrap();
/// assert_eq!(tool.name(), "add");
/// ```
#[derive(Clone)]
pub struct Tool {
    // Shared: a call looks the tool up and clones it, which must not copy its schemas.
    pub(crate) definition: Arc<wire::Tool>,
    pub(crate) input_validator: Arc<jsonschema::Validator>,
    pub(crate) output_validator: Option<Arc<jsonschema::Validator>>,
    /// The arguments a client over Streamable HTTP mirrors into `Mcp-Param-*` headers.
    pub(crate) header_params: Arc<HeaderParams>,
    pub(crate) handler: Handler,
    /// The client capabilities the tool needs: a client without one is not shown the tool.
    required: Arc<[ClientCapability]>,
}

impl Tool {
    /// Starts a tool whose arguments are the Rust type `A`; its input schema is derived from `A`.
    ///
    /// The handler is an async function or closure of the arguments, with or without a
    /// [`Context`] after them (see [`ToolHandler`]). It returns `Result<R, E>`: `R` converts into
    /// a tool result (a `String`, a [`CallToolResult`](wire::CallToolResult), or [`Structured`]
    /// for structured content), and `E` into a [`ToolError`].
    pub fn typed<A, H, M>(name: impl Into<String>, handler: H) -> ToolBuilder
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        H: ToolHandler<A, M>,
    {
        let schema = schemars::schema_for!(A);
        let input_schema = match serde_json::to_value(&schema) {
            Ok(Value::Object(object)) => object,
            _ => JsonObject::new(),
        };
        let handler = Arc::new(handler);
        let erased: Handler = Arc::new(move |arguments: JsonObject, context: Context| {
            let handler = Arc::clone(&handler);
            Box::pin(async move {
                let arguments: A = serde_json::from_value(Value::Object(arguments))
                    .map_err(|error| ToolError::new(format!("invalid arguments: {error}")))?;
                handler.call(arguments, context).await
            })
        });
        ToolBuilder::with_handler(name.into(), input_schema, erased)
    }

    /// Starts a tool with a JSON Schema written by hand and a handler of raw JSON arguments,
    /// of the same forms as [`typed`](Self::typed)'s.
    pub fn raw<H, M>(name: impl Into<String>, input_schema: JsonObject, handler: H) -> ToolBuilder
    where
        H: ToolHandler<JsonObject, M>,
    {
        let handler = Arc::new(handler);
        let erased: Handler = Arc::new(move |arguments: JsonObject, context: Context| {
            let handler = Arc::clone(&handler);
            Box::pin(async move { handler.call(arguments, context).await })
        });
        ToolBuilder::with_handler(name.into(), input_schema, erased)
    }

    /// The first capability the tool requires that `capabilities` do not declare.
    pub(crate) fn missing_capability(
        &self,
        capabilities: &wire::ClientCapabilities,
    ) -> Option<ClientCapability> {
        self.required
            .iter()
            .copied()
            .find(|capability| !capability.is_declared(capabilities))
    }

    /// Whether the tool requires any client capability.
    pub(crate) fn requires_capabilities(&self) -> bool {
        !self.required.is_empty()
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// How the tool may be run as a task.
    pub(crate) fn task_support(&self) -> wire::ToolExecutionTaskSupport {
        self.definition
            .execution
            .as_ref()
            .and_then(|execution| execution.task_support.clone())
            .unwrap_or(wire::ToolExecutionTaskSupport::Forbidden)
    }

    /// The tool's definition, as `tools/list` shows it.
    pub fn definition(&self) -> &wire::Tool {
        &self.definition
    }

    /// Validates arguments, returning the messages of every violation.
    pub(crate) fn check_arguments(&self, arguments: &Value) -> Result<(), Vec<String>> {
        // The common case, valid arguments, takes the fast check and collects nothing.
        if self.input_validator.is_valid(arguments) {
            return Ok(());
        }
        Err(self
            .input_validator
            .iter_errors(arguments)
            .map(|error| error.to_string())
            .collect())
    }
}

impl fmt::Debug for Tool {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Tool")
            .field("definition", &self.definition)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Tool`]: description, title, annotations, output schema, icons, `_meta`.
#[must_use = "call `build` to get the tool"]
pub struct ToolBuilder {
    definition: wire::Tool,
    handler: Handler,
    required: Vec<ClientCapability>,
}

impl ToolBuilder {
    fn with_handler(name: String, input_schema: JsonObject, handler: Handler) -> Self {
        ToolBuilder {
            definition: wire::Tool {
                meta: None,
                annotations: None,
                description: None,
                execution: None,
                icons: None,
                input_schema,
                name,
                output_schema: None,
                title: None,
            },
            handler,
            required: Vec::new(),
        }
    }

    /// Declares that the tool needs the client to have declared `capability`, because its
    /// handler asks the client for it: `tools/list` does not show the tool to a client without
    /// it, and calling it anyway is refused (`-32602` for an unknown tool in the legacy era,
    /// `-32021` naming the capability in the modern one) before the handler runs.
    pub fn requires(mut self, capability: ClientCapability) -> Self {
        if !self.required.contains(&capability) {
            self.required.push(capability);
        }
        self
    }

    /// Sets the description the model reads to decide when to call the tool.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.definition.description = Some(description.into());
        self
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.definition.title = Some(title.into());
        self
    }

    /// Sets the behaviour hints (read-only, destructive, idempotent, open-world).
    pub fn annotations(mut self, annotations: wire::ToolAnnotations) -> Self {
        self.definition.annotations = Some(annotations);
        self
    }

    /// Sets the icons.
    pub fn icons(mut self, icons: Vec<wire::Icon>) -> Self {
        self.definition.icons = Some(icons);
        self
    }

    /// Sets whether `tools/call` may run this tool as a task (2025-11-25): `Forbidden` (the
    /// default), `Optional` or `Required`. Tasks need [`ServerBuilder::tasks`](crate::ServerBuilder::tasks).
    pub fn task_support(mut self, support: wire::ToolExecutionTaskSupport) -> Self {
        self.definition.execution = Some(wire::ToolExecution {
            task_support: Some(support),
        });
        self
    }

    /// Sets `_meta`.
    pub fn meta(mut self, meta: JsonObject) -> Self {
        self.definition.meta = Some(meta);
        self
    }

    /// Declares the structured output, with a schema derived from `O`; results must then carry
    /// `structuredContent` that conforms to it.
    pub fn output<O: JsonSchema>(self) -> Self {
        let schema = schemars::schema_for!(O);
        match serde_json::to_value(&schema) {
            Ok(Value::Object(object)) => self.output_schema(object),
            _ => self,
        }
    }

    /// Declares the structured output with a JSON Schema written by hand.
    pub fn output_schema(mut self, schema: JsonObject) -> Self {
        self.definition.output_schema = Some(schema);
        self
    }

    /// Checks the definition and compiles its schemas.
    ///
    /// # Errors
    ///
    /// Fails when the name breaks the naming rules (1 to 128 characters of ASCII letters,
    /// digits, `_`, `-`, `.`), when a schema is not valid JSON Schema, or when the input schema
    /// is not of type `object`, or when an `x-mcp-header` annotation of the input schema breaks
    /// the rules of revision 2026-07-28 (see [`HeaderParams::from_input_schema`]).
    pub fn build(self) -> Result<Tool, Error> {
        check_name(&self.definition.name)?;
        let input = Value::Object(self.definition.input_schema.clone());
        if input.get("type").and_then(Value::as_str) != Some("object") {
            return Err(Error::invalid_definition(format!(
                "the input schema of tool `{}` must have \"type\": \"object\"",
                self.definition.name
            )));
        }
        let header_params = HeaderParams::from_input_schema(&self.definition.input_schema)
            .map_err(|error| {
                Error::invalid_definition(format!(
                    "tool `{}` has an invalid `x-mcp-header`: {error}",
                    self.definition.name
                ))
            })?;
        let input_validator = compile(&self.definition.name, &input)?;
        let output_validator = match &self.definition.output_schema {
            Some(schema) => Some(compile(
                &self.definition.name,
                &Value::Object(schema.clone()),
            )?),
            None => None,
        };
        Ok(Tool {
            definition: Arc::new(self.definition),
            input_validator,
            output_validator,
            header_params: Arc::new(header_params),
            handler: self.handler,
            required: Arc::from(self.required),
        })
    }
}

/// Answers every reference outside a tool's own schema with the schema that accepts anything:
/// a definition is served exactly as registered, and nothing is fetched, from the network or
/// the file system, to validate against it.
struct NoRetrieval;

impl jsonschema::Retrieve for NoRetrieval {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        tracing::debug!(%uri, "an external schema reference is not fetched; it accepts anything");
        Ok(Value::Bool(true))
    }
}

fn compile(name: &str, schema: &Value) -> Result<Arc<jsonschema::Validator>, Error> {
    jsonschema::options()
        .with_retriever(NoRetrieval)
        .build(schema)
        .map(Arc::new)
        .map_err(|error| {
            Error::invalid_definition(format!("tool `{name}` has an invalid schema: {error}"))
        })
}

fn check_name(name: &str) -> Result<(), Error> {
    let valid_character =
        |character: char| character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.');
    if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(valid_character) {
        return Err(Error::invalid_definition(format!(
            "tool name {name:?} must be 1 to {MAX_NAME} ASCII letters, digits, `_`, `-` or `.`"
        )));
    }
    Ok(())
}

/// A capability of the client that a tool may need ([`ToolBuilder::requires`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientCapability {
    /// `roots`: the tool lists the client's roots.
    Roots,
    /// `sampling`: the tool asks the client's model for completions.
    Sampling,
    /// `sampling.tools`: the tool's completions may use tools.
    SamplingTools,
    /// `elicitation` in form mode: the tool asks the user questions.
    ElicitationForm,
    /// `elicitation.url`: the tool sends the user to a URL.
    ElicitationUrl,
}

impl ClientCapability {
    /// The capability as a dotted path of `ClientCapabilities`, as `-32021` names it.
    pub fn path(self) -> &'static str {
        match self {
            ClientCapability::Roots => "roots",
            ClientCapability::Sampling => "sampling",
            ClientCapability::SamplingTools => "sampling.tools",
            ClientCapability::ElicitationForm => "elicitation.form",
            ClientCapability::ElicitationUrl => "elicitation.url",
        }
    }

    /// Whether `capabilities` declare it. An empty `elicitation` means form mode.
    pub fn is_declared(self, capabilities: &wire::ClientCapabilities) -> bool {
        match self {
            ClientCapability::Roots => capabilities.roots.is_some(),
            ClientCapability::Sampling => capabilities.sampling.is_some(),
            ClientCapability::SamplingTools => capabilities
                .sampling
                .as_ref()
                .is_some_and(|sampling| sampling.tools.is_some()),
            ClientCapability::ElicitationForm => capabilities
                .elicitation
                .as_ref()
                .is_some_and(|elicitation| elicitation.form.is_some() || elicitation.url.is_none()),
            ClientCapability::ElicitationUrl => capabilities
                .elicitation
                .as_ref()
                .is_some_and(|elicitation| elicitation.url.is_some()),
        }
    }
}

/// A function that serves `tools/call` for a tool whose arguments are `A`.
///
/// Implemented by every async function and closure of either form, where `R` is
/// [`IntoToolResult`] and `E` is `Into<ToolError>`:
///
/// - `Fn(A) -> impl Future<Output = Result<R, E>>`, for a handler that needs only its arguments;
/// - `Fn(A, Context) -> impl Future<Output = Result<R, E>>`, for one that reports progress,
///   logs, watches for cancellation or asks the client.
///
/// `M` tells the forms apart; it is inferred and never named. A named `async fn` declares its
/// error type, so it needs no annotation; a closure that only returns `Ok(..)` names its error
/// type as closures must (`Ok::<_, ToolError>(..)`).
///
/// ```
/// use mcpwire_server::{Context, Tool, ToolError};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Greet {
///     name: String,
/// }
///
/// async fn greet(arguments: Greet) -> Result<String, ToolError> {
///     Ok(format!("Hello, {}!", arguments.name))
/// }
///
/// async fn greet_slowly(arguments: Greet, context: Context) -> Result<String, ToolError> {
///     context.progress(1.0, Some(1.0), None).await?;
///     Ok(format!("Hello, {}!", arguments.name))
/// }
///
/// let quick = Tool::typed("greet", greet).build().unwrap();
/// let slow = Tool::typed("greet_slowly", greet_slowly).build().unwrap();
/// # let _ = (quick, slow);
/// ```
pub trait ToolHandler<A, M>: Send + Sync + 'static {
    /// Runs the handler on `arguments`, its result converted into a tool result.
    fn call(
        &self,
        arguments: A,
        context: Context,
    ) -> impl Future<Output = Result<wire::CallToolResult, ToolError>> + Send + 'static;
}

/// The [`ToolHandler`] form that takes a [`Context`].
#[doc(hidden)]
pub struct WithContext<R, E>(PhantomData<fn() -> (R, E)>);

/// The [`ToolHandler`] form that takes the arguments alone.
#[doc(hidden)]
pub struct ArgumentsOnly<R, E>(PhantomData<fn() -> (R, E)>);

impl<A, F, Fut, R, E> ToolHandler<A, WithContext<R, E>> for F
where
    F: Fn(A, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    R: IntoToolResult,
    E: Into<ToolError>,
{
    fn call(
        &self,
        arguments: A,
        context: Context,
    ) -> impl Future<Output = Result<wire::CallToolResult, ToolError>> + Send + 'static {
        let running = self(arguments, context);
        // Not a shared generic `async fn`: its future would require `R` and `E` to be
        // `'static`, which this block does not.
        async move {
            running
                .await
                .map(IntoToolResult::into_tool_result)
                .map_err(Into::into)
        }
    }
}

impl<A, F, Fut, R, E> ToolHandler<A, ArgumentsOnly<R, E>> for F
where
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    R: IntoToolResult,
    E: Into<ToolError>,
{
    fn call(
        &self,
        arguments: A,
        _context: Context,
    ) -> impl Future<Output = Result<wire::CallToolResult, ToolError>> + Send + 'static {
        let running = self(arguments);
        // Not a shared generic `async fn`: its future would require `R` and `E` to be
        // `'static`, which this block does not.
        async move {
            running
                .await
                .map(IntoToolResult::into_tool_result)
                .map_err(Into::into)
        }
    }
}

/// Structured tool output: encoded as `structuredContent`, with its JSON text also given as a
/// text block for clients that read only content.
#[derive(Clone, Debug, PartialEq)]
pub struct Structured<T>(pub T);

/// Converts a handler's return value into a tool result.
pub trait IntoToolResult {
    /// Performs the conversion.
    fn into_tool_result(self) -> wire::CallToolResult;
}

impl IntoToolResult for wire::CallToolResult {
    fn into_tool_result(self) -> wire::CallToolResult {
        self
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> wire::CallToolResult {
        text_result(self, false)
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> wire::CallToolResult {
        text_result(self.to_owned(), false)
    }
}

impl<T: Serialize> IntoToolResult for Structured<T> {
    fn into_tool_result(self) -> wire::CallToolResult {
        match serde_json::to_value(&self.0) {
            Ok(Value::Object(object)) => {
                let mut result = text_result(Value::Object(object.clone()).to_string(), false);
                result.structured_content = Some(object);
                result
            }
            Ok(other) => text_result(other.to_string(), false),
            Err(error) => text_result(
                format!("the tool output could not be encoded: {error}"),
                true,
            ),
        }
    }
}

/// A result with one text block.
pub(crate) fn text_result(text: String, is_error: bool) -> wire::CallToolResult {
    wire::CallToolResult {
        meta: None,
        content: vec![wire::ContentBlock::TextContent(wire::TextContent {
            meta: None,
            annotations: None,
            text,
            r#type: wire::tags::Text,
        })],
        is_error: is_error.then_some(true),
        structured_content: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn nothing(_: JsonObject, _: Context) -> Result<String, ToolError> {
        Ok(String::new())
    }

    fn object_schema() -> JsonObject {
        serde_json::json!({"type": "object"})
            .as_object()
            .cloned()
            .expect("object")
    }

    #[test]
    fn names_follow_the_naming_rules() {
        for good in ["add", "get_weather", "admin.tools-list", "A1"] {
            assert!(
                Tool::raw(good, object_schema(), nothing).build().is_ok(),
                "{good}"
            );
        }
        for bad in [
            "",
            "has space",
            "comma,name",
            "slash/name",
            &"x".repeat(129),
        ] {
            let error = Tool::raw(bad, object_schema(), nothing)
                .build()
                .expect_err("invalid name");
            assert!(error.is_invalid_definition(), "{bad}");
        }
    }

    #[test]
    fn schemas_must_be_valid_objects() {
        let not_object = serde_json::json!({"type": "string"})
            .as_object()
            .cloned()
            .expect("object");
        assert!(Tool::raw("t", not_object, nothing).build().is_err());
        let invalid = serde_json::json!({"type": "object", "properties": {"a": {"type": 12}}})
            .as_object()
            .cloned()
            .expect("object");
        assert!(Tool::raw("t", invalid, nothing).build().is_err());
    }

    #[test]
    fn external_references_are_kept_but_never_fetched() {
        // A port nothing listens on: a fetch would fail the build.
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "profile": {"$ref": "http://127.0.0.1:9/canary/profile-schema.json"},
                "file": {"$ref": "file:///nonexistent/schema.json"},
                "count": {"type": "integer"}
            }
        });
        let object = schema.as_object().cloned().expect("object");
        let tool = Tool::raw("lookup", object, nothing)
            .build()
            .expect("builds");
        assert_eq!(
            Value::Object(tool.definition().input_schema.clone()),
            schema
        );
        assert!(
            tool.check_arguments(&serde_json::json!({"profile": {"any": 1}}))
                .is_ok()
        );
        assert!(
            tool.check_arguments(&serde_json::json!({"count": "three"}))
                .is_err()
        );
    }

    #[test]
    fn typed_tools_derive_their_schema() {
        #[derive(serde::Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Args {
            city: String,
            days: Option<u8>,
        }
        let tool = Tool::typed("forecast", |_: Args| async { Ok::<_, ToolError>("sunny") })
            .build()
            .expect("valid");
        let schema = &tool.definition().input_schema;
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], serde_json::json!(["city"]));
        assert!(
            tool.check_arguments(&serde_json::json!({"city": "Oslo"}))
                .is_ok()
        );
        let errors = tool
            .check_arguments(&serde_json::json!({"days": 3}))
            .expect_err("city is required");
        assert!(errors[0].contains("city"), "{errors:?}");
    }
}
