//! Resources, resource templates and prompts, with their completions.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine as _;
use mcpwire_jsonrpc::{ErrorCode, ErrorObject};
use mcpwire_schema::Era;
use mcpwire_schema::v2025_11_25 as wire;

use crate::uri_template::UriTemplate;
use crate::{Context, Error};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
pub(crate) type ReadHandler = Arc<
    dyn Fn(
            String,
            BTreeMap<String, String>,
            Context,
        ) -> BoxFuture<Result<Vec<wire::ReadResourceResultContentsItem>, HandlerError>>
        + Send
        + Sync,
>;
type PromptHandler = Arc<
    dyn Fn(
            BTreeMap<String, String>,
            Context,
        ) -> BoxFuture<Result<Vec<wire::PromptMessage>, HandlerError>>
        + Send
        + Sync,
>;
pub(crate) type Completer =
    Arc<dyn Fn(String, BTreeMap<String, String>) -> BoxFuture<Vec<String>> + Send + Sync>;

/// Most values a completion returns (the spec's limit).
pub(crate) const MAX_COMPLETIONS: usize = 100;

fn erase_completer<F, Fut>(completer: F) -> Completer
where
    F: Fn(String, BTreeMap<String, String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<String>> + Send + 'static,
{
    let completer = Arc::new(completer);
    Arc::new(move |value, context| {
        let completer = Arc::clone(&completer);
        Box::pin(async move { completer(value, context).await })
    })
}

/// A resource or prompt handler's failure, answered as a JSON-RPC error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerError {
    not_found: Option<String>,
    /// Answered as `-32602` rather than `-32603`.
    invalid_params: bool,
    message: String,
    /// The client capability whose absence caused the failure (`-32021` in the modern era).
    capability: Option<String>,
}

impl HandlerError {
    /// A failure described by `message`, answered as an internal error (-32603).
    pub fn new(message: impl Into<String>) -> Self {
        HandlerError {
            not_found: None,
            invalid_params: false,
            message: message.into(),
            capability: None,
        }
    }

    /// The params of the request are invalid: `-32602` with `message`, in both eras.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        HandlerError {
            invalid_params: true,
            ..HandlerError::new(message)
        }
    }

    /// The resource at `uri` does not exist: `-32002` in the legacy era and `-32602` in the
    /// modern era, both with `data.uri`.
    pub fn resource_not_found(uri: impl Into<String>) -> Self {
        let uri = uri.into();
        HandlerError {
            message: format!("resource not found: {uri}"),
            not_found: Some(uri),
            invalid_params: false,
            capability: None,
        }
    }

    pub(crate) fn into_error_object(self, era: Era) -> ErrorObject {
        match (self.not_found, self.capability) {
            (Some(uri), _) => not_found(&uri, era),
            (None, Some(capability)) if era == Era::Modern => {
                crate::error::missing_capability_error(&capability)
            }
            _ if self.invalid_params => ErrorObject::invalid_params(self.message),
            _ => ErrorObject::internal_error(self.message),
        }
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for HandlerError {}

/// Keeps the missing capability, for `-32021` in the modern era.
impl From<Error> for HandlerError {
    fn from(error: Error) -> Self {
        HandlerError {
            capability: error.missing_capability().map(str::to_owned),
            ..HandlerError::new(error.to_string())
        }
    }
}

/// The error for a resource that does not exist, as the era reports it.
pub(crate) fn not_found(uri: &str, era: Era) -> ErrorObject {
    if era == Era::Modern {
        return mcpwire_schema::meta::resource_not_found(uri);
    }
    let error = ErrorObject::new(
        ErrorCode::RESOURCE_NOT_FOUND,
        format!("resource not found: {uri}"),
    );
    error
        .clone()
        .with_data(serde_json::json!({ "uri": uri }))
        .unwrap_or(error)
}

/// Text contents of a resource.
pub fn text_contents(
    uri: impl Into<String>,
    mime_type: Option<&str>,
    text: impl Into<String>,
) -> wire::ReadResourceResultContentsItem {
    wire::ReadResourceResultContentsItem::TextResourceContents(wire::TextResourceContents {
        meta: None,
        mime_type: mime_type.map(str::to_owned),
        text: text.into(),
        uri: uri.into(),
    })
}

/// Binary contents of a resource, base64-encoded on the wire.
pub fn blob_contents(
    uri: impl Into<String>,
    mime_type: Option<&str>,
    bytes: &[u8],
) -> wire::ReadResourceResultContentsItem {
    wire::ReadResourceResultContentsItem::BlobResourceContents(wire::BlobResourceContents {
        meta: None,
        blob: base64::engine::general_purpose::STANDARD.encode(bytes),
        mime_type: mime_type.map(str::to_owned),
        uri: uri.into(),
    })
}

/// A resource at a fixed URI.
///
/// ```
/// use mcpwire_server::{text_contents, Context, HandlerError, Resource};
///
/// let readme = Resource::new("file:///README.md", "readme", |uri: String, _: Context| async move {
///     Ok::<_, HandlerError>(vec![text_contents(uri, Some("text/markdown"), "# Hello")])
/// })
/// .mime_type("text/markdown");
/// assert_eq!(readme.uri(), "file:///README.md");
/// ```
#[derive(Clone)]
pub struct Resource {
    pub(crate) definition: wire::Resource,
    pub(crate) handler: ReadHandler,
    pub(crate) cache_hints: Option<crate::CacheHints>,
}

impl Resource {
    /// A resource at `uri`, named `name`, read by `handler`.
    pub fn new<F, Fut>(uri: impl Into<String>, name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(String, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<wire::ReadResourceResultContentsItem>, HandlerError>>
            + Send
            + 'static,
    {
        let handler = Arc::new(handler);
        Resource {
            definition: wire::Resource {
                meta: None,
                annotations: None,
                description: None,
                icons: None,
                mime_type: None,
                name: name.into(),
                size: None,
                title: None,
                uri: uri.into(),
            },
            handler: Arc::new(move |uri, _, context| {
                let handler = Arc::clone(&handler);
                Box::pin(async move { handler(uri, context).await })
            }),
            cache_hints: None,
        }
    }

    /// The resource's URI.
    pub fn uri(&self) -> &str {
        &self.definition.uri
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.definition.description = Some(description.into());
        self
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.definition.title = Some(title.into());
        self
    }

    /// Sets the MIME type.
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.definition.mime_type = Some(mime_type.into());
        self
    }

    /// Sets the size in bytes.
    pub fn size(mut self, size: i64) -> Self {
        self.definition.size = Some(size);
        self
    }

    /// Sets the cache hints of this resource's `resources/read` results in the modern era,
    /// instead of the server's (see [`ServerBuilder::cache_hints`](crate::ServerBuilder::cache_hints)).
    pub fn cache_hints(mut self, hints: crate::CacheHints) -> Self {
        self.cache_hints = Some(hints);
        self
    }
}

impl fmt::Debug for Resource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Resource")
            .field("definition", &self.definition)
            .finish_non_exhaustive()
    }
}

/// Resources whose URIs follow an RFC 6570 template; reading one gives the handler the value
/// of each variable.
///
/// ```
/// use mcpwire_server::{text_contents, Context, HandlerError, ResourceTemplate};
///
/// let weather = ResourceTemplate::new("weather://{city}/today", "weather", |uri: String, variables, _: Context| async move {
///     let city = &variables["city"];
///     Ok::<_, HandlerError>(vec![text_contents(uri, None, format!("Sunny in {city}"))])
/// })
/// .unwrap()
/// .complete("city", |prefix: String, _| async move {
///     ["Oslo", "Osaka", "Paris"].into_iter().filter(|city| city.starts_with(&prefix)).map(String::from).collect()
/// });
/// assert_eq!(weather.uri_template(), "weather://{city}/today");
/// ```
#[derive(Clone)]
pub struct ResourceTemplate {
    pub(crate) definition: wire::ResourceTemplate,
    pub(crate) template: UriTemplate,
    pub(crate) handler: ReadHandler,
    pub(crate) completers: BTreeMap<String, Completer>,
    pub(crate) cache_hints: Option<crate::CacheHints>,
}

impl ResourceTemplate {
    /// Resources matching `uri_template`, named `name`, read by `handler`.
    ///
    /// # Errors
    ///
    /// Fails when the template is not one this server can match (see the supported
    /// expressions in the crate docs).
    pub fn new<F, Fut>(
        uri_template: impl Into<String>,
        name: impl Into<String>,
        handler: F,
    ) -> Result<Self, Error>
    where
        F: Fn(String, BTreeMap<String, String>, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<wire::ReadResourceResultContentsItem>, HandlerError>>
            + Send
            + 'static,
    {
        let uri_template = uri_template.into();
        let template = UriTemplate::parse(&uri_template)
            .map_err(|error| Error::invalid_definition(error.0))?;
        let handler = Arc::new(handler);
        Ok(ResourceTemplate {
            definition: wire::ResourceTemplate {
                meta: None,
                annotations: None,
                description: None,
                icons: None,
                mime_type: None,
                name: name.into(),
                title: None,
                uri_template,
            },
            template,
            handler: Arc::new(move |uri, variables, context| {
                let handler = Arc::clone(&handler);
                Box::pin(async move { handler(uri, variables, context).await })
            }),
            completers: BTreeMap::new(),
            cache_hints: None,
        })
    }

    /// The URI template.
    pub fn uri_template(&self) -> &str {
        &self.definition.uri_template
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.definition.description = Some(description.into());
        self
    }

    /// Sets the MIME type of the resources.
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.definition.mime_type = Some(mime_type.into());
        self
    }

    /// Sets the cache hints of the `resources/read` results of matching resources in the
    /// modern era, instead of the server's.
    pub fn cache_hints(mut self, hints: crate::CacheHints) -> Self {
        self.cache_hints = Some(hints);
        self
    }

    /// Completes values of `variable` for `completion/complete`: the completer gets the text
    /// typed so far and the values of the other variables already chosen.
    pub fn complete<F, Fut>(mut self, variable: impl Into<String>, completer: F) -> Self
    where
        F: Fn(String, BTreeMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<String>> + Send + 'static,
    {
        self.completers
            .insert(variable.into(), erase_completer(completer));
        self
    }
}

impl fmt::Debug for ResourceTemplate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ResourceTemplate")
            .field("definition", &self.definition)
            .finish_non_exhaustive()
    }
}

/// A prompt template with arguments.
///
/// ```
/// use mcpwire_server::{types, Context, HandlerError, Prompt};
///
/// let review = Prompt::new("review", |arguments, _: Context| async move {
///     let text = format!("Review this code:\n{}", arguments["code"]);
///     let content = types::ContentBlock::TextContent(types::TextContent {
///         meta: None,
///         annotations: None,
///         text,
///         r#type: types::tags::Text,
///     });
///     Ok::<_, HandlerError>(vec![types::PromptMessage { content, role: types::Role::User }])
/// })
/// .argument("code", "The code to review", true);
/// assert_eq!(review.name(), "review");
/// ```
#[derive(Clone)]
pub struct Prompt {
    pub(crate) definition: wire::Prompt,
    pub(crate) handler: PromptHandler,
    pub(crate) completers: BTreeMap<String, Completer>,
}

impl Prompt {
    /// A prompt named `name`, rendered by `handler` from its arguments.
    pub fn new<F, Fut>(name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(BTreeMap<String, String>, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<wire::PromptMessage>, HandlerError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        Prompt {
            definition: wire::Prompt {
                meta: None,
                arguments: None,
                description: None,
                icons: None,
                name: name.into(),
                title: None,
            },
            handler: Arc::new(move |arguments, context| {
                let handler = Arc::clone(&handler);
                Box::pin(async move { handler(arguments, context).await })
            }),
            completers: BTreeMap::new(),
        }
    }

    /// The prompt's name.
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.definition.description = Some(description.into());
        self
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.definition.title = Some(title.into());
        self
    }

    /// Declares an argument.
    pub fn argument(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        required: bool,
    ) -> Self {
        self.definition
            .arguments
            .get_or_insert_with(Vec::new)
            .push(wire::PromptArgument {
                description: Some(description.into()),
                name: name.into(),
                required: Some(required),
                title: None,
            });
        self
    }

    /// Completes values of the argument `name` for `completion/complete`.
    pub fn complete<F, Fut>(mut self, name: impl Into<String>, completer: F) -> Self
    where
        F: Fn(String, BTreeMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<String>> + Send + 'static,
    {
        self.completers
            .insert(name.into(), erase_completer(completer));
        self
    }

    /// The names of required arguments missing from `arguments`.
    pub(crate) fn missing_arguments(&self, arguments: &BTreeMap<String, String>) -> Vec<&str> {
        self.definition
            .arguments
            .iter()
            .flatten()
            .filter(|argument| {
                argument.required == Some(true) && !arguments.contains_key(&argument.name)
            })
            .map(|argument| argument.name.as_str())
            .collect()
    }
}

impl fmt::Debug for Prompt {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Prompt")
            .field("definition", &self.definition)
            .finish_non_exhaustive()
    }
}
