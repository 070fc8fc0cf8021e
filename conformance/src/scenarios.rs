//! The client side of the official suite's client scenarios: what `conformance-client` does
//! once it is connected to the suite's mock server.
//!
//! Each [`Scenario`] configures the client it needs ([`Scenario::client_builder`]) and then
//! runs against the connected [`Client`] ([`Scenario::run`]); the transport is the caller's
//! business. Scenarios this client cannot take part in are refused by
//! [`Scenario::from_name`] with the reason, so the binary exits non-zero with a message.
//! Every core `auth/*` scenario runs as [`Scenario::Authorization`], whose HTTP client
//! carries `mcpwire-auth`'s layer ([`Scenario::auth_layer`]); the headless auth extensions
//! run through the public API of their crates, as grants of that layer's headless client.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context as _, bail, ensure};
use mcpwire_auth::client::{
    AuthLayer, FetchPolicy, HeadlessUserAgent, OAuthConfig, PreRegistered, Secret,
};
use mcpwire_client::{
    Client, ClientBuilder, Era, EraChoice, ErrorObject, ProtocolVersion, RequestContext,
};
use mcpwire_ext_client_credentials::{ClientCredentials, PrivateKey, SigningAlgorithm};
use mcpwire_ext_dpop::DpopKey;
use mcpwire_ext_enterprise_auth::{EnterpriseManagedAuthorization, IdentityProvider};
use mcpwire_ext_workload_identity::{WorkloadIdentity, WorkloadToken};
use mcpwire_schema::v2025_11_25::{
    CallToolResult, ContentBlock, ElicitRequestParams, ElicitResult, ElicitResultAction,
    ElicitResultContentValue, PrimitiveSchemaDefinition,
};
use serde_json::{Map, Value, json};

/// The name the client reports in `clientInfo`.
pub const CLIENT_NAME: &str = "mcpwire-conformance-client";

/// A client scenario this client implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// `initialize`: the handshake, then `tools/list` when the server offers tools.
    Initialize,
    /// `tools_call`: list the tools and call `add_numbers` with `{a: 5, b: 3}`.
    ToolsCall,
    /// `elicitation-sep1034-client-defaults`: call `test_client_elicitation_defaults` and
    /// accept its form; the client fills every field the answer leaves out with the field's
    /// schema default (SEP-1034).
    ElicitationDefaults,
    /// `sse-retry`: list the tools and call `test_reconnection`, whose result arrives only
    /// after the transport reconnects (SEP-1699); the reconnection is the transport's.
    SseRetry,
    /// `json-schema-2020-12-preservation`: echo the input schema of
    /// `json_schema_2020_12_tool` back through `json_schema_echo`, unchanged.
    JsonSchemaPreservation,
    /// `request-metadata` (2026-07-28): connect, which discovers the server; the server
    /// refuses the first request with `-32022` and the client retries at a version it names.
    RequestMetadata,
    /// `sep-2322-client-request-state` (2026-07-28): call the four `test_mrtr_*` tools, whose
    /// input rounds the client answers by accepting every form with its booleans confirmed.
    ClientRequestState,
    /// `http-standard-headers` (2026-07-28): call every tool, read every resource and get
    /// every prompt the server lists, each request with its `Mcp-Method` and `Mcp-Name`.
    HttpStandardHeaders,
    /// `json-schema-ref-no-deref` (2026-07-28): list the tools, one of whose schemas has a
    /// `$ref` to a network URI that the client must not fetch.
    JsonSchemaRefNoDeref,
    /// `http-custom-headers` (2026-07-28): make the tool calls of the scenario's data, whose
    /// annotated arguments the client mirrors into `Mcp-Param-*` headers.
    HttpCustomHeaders,
    /// `http-invalid-tool-headers` (2026-07-28): list the tools, leaving out those whose
    /// `x-mcp-header` declarations are invalid, and call the rest.
    HttpInvalidToolHeaders,
    /// Every `auth/*` scenario of the core authorization spec (not the extensions): the
    /// client authorizes through `mcpwire-auth` as the server's challenges ask
    /// ([`Scenario::auth_layer`]), lists the tools and calls each with `{}`. The scenarios
    /// differ only in what the suite's servers do.
    Authorization,
    /// `auth/client-credentials-basic` (extension): the client credentials grant of
    /// `mcpwire-ext-client-credentials` with the suite's `client_id` and `client_secret`
    /// (`client_secret_basic`), then the tools as in [`Scenario::Authorization`].
    ClientCredentialsBasic,
    /// `auth/client-credentials-jwt` (extension): the client credentials grant with
    /// `private_key_jwt`, signed by the suite's `private_key_pem` with its
    /// `signing_algorithm`.
    ClientCredentialsJwt,
    /// `auth/wif-jwt-bearer` (extension, SEP-1933): `mcpwire-ext-workload-identity`
    /// presents the suite's `valid_jwt` as the workload's token in a JWT bearer grant.
    WorkloadIdentity,
    /// `auth/dpop` (extension, SEP-1932): the authorization of [`Scenario::Authorization`]
    /// with a DPoP key of `mcpwire-ext-dpop`, so that the token is DPoP-bound and each
    /// request carries a proof.
    Dpop,
    /// `auth/dpop-nonce` (extension, SEP-1932): as [`Scenario::Dpop`], against servers
    /// that demand nonces, which the client answers.
    DpopNonce,
    /// `auth/enterprise-managed-authorization` (extension, SEP-990):
    /// `mcpwire-ext-enterprise-auth` exchanges the suite's `idp_id_token` at its identity
    /// provider (`idp_issuer`, as the client `idp_client_id`) for an identity assertion
    /// grant, and presents it as the client `client_id` with `client_secret`.
    EnterpriseManagedAuthorization,
    /// `auth/cross-app-access-complete-flow`: the same flow under the name of suite 0.1.16.
    CrossAppAccess,
}

/// The redirect URI of the conformance client's headless user agent: nothing listens there,
/// the redirect is read from the authorization endpoint's `Location`.
pub const REDIRECT_URI: &str = "http://localhost:3000/callback";

/// The URL of the conformance client's Client ID Metadata Document, the one the suite's
/// `auth/basic-cimd` server expects a client to use.
pub const CLIENT_METADATA_URL: &str = "https://conformance-test.local/client-metadata.json";

/// Why a scenario name is not one this client runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsupportedScenario {
    name: String,
    reason: &'static str,
}

impl UnsupportedScenario {
    /// The scenario name that was refused.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for UnsupportedScenario {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "scenario `{}`: {}", self.name, self.reason)
    }
}

impl std::error::Error for UnsupportedScenario {}

impl Scenario {
    /// Every scenario this client implements.
    pub const ALL: [Scenario; 18] = [
        Scenario::Initialize,
        Scenario::ToolsCall,
        Scenario::ElicitationDefaults,
        Scenario::SseRetry,
        Scenario::JsonSchemaPreservation,
        Scenario::RequestMetadata,
        Scenario::ClientRequestState,
        Scenario::HttpStandardHeaders,
        Scenario::JsonSchemaRefNoDeref,
        Scenario::HttpCustomHeaders,
        Scenario::HttpInvalidToolHeaders,
        Scenario::ClientCredentialsBasic,
        Scenario::ClientCredentialsJwt,
        Scenario::WorkloadIdentity,
        Scenario::Dpop,
        Scenario::DpopNonce,
        Scenario::EnterpriseManagedAuthorization,
        Scenario::CrossAppAccess,
    ];

    /// The suite's name of the scenario (`MCP_CONFORMANCE_SCENARIO`).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Initialize => "initialize",
            Scenario::ToolsCall => "tools_call",
            Scenario::ElicitationDefaults => "elicitation-sep1034-client-defaults",
            Scenario::SseRetry => "sse-retry",
            Scenario::JsonSchemaPreservation => "json-schema-2020-12-preservation",
            Scenario::RequestMetadata => "request-metadata",
            Scenario::ClientRequestState => "sep-2322-client-request-state",
            Scenario::HttpStandardHeaders => "http-standard-headers",
            Scenario::JsonSchemaRefNoDeref => "json-schema-ref-no-deref",
            Scenario::HttpCustomHeaders => "http-custom-headers",
            Scenario::HttpInvalidToolHeaders => "http-invalid-tool-headers",
            Scenario::Authorization => "auth/",
            Scenario::ClientCredentialsBasic => "auth/client-credentials-basic",
            Scenario::ClientCredentialsJwt => "auth/client-credentials-jwt",
            Scenario::WorkloadIdentity => "auth/wif-jwt-bearer",
            Scenario::Dpop => "auth/dpop",
            Scenario::DpopNonce => "auth/dpop-nonce",
            Scenario::EnterpriseManagedAuthorization => "auth/enterprise-managed-authorization",
            Scenario::CrossAppAccess => "auth/cross-app-access-complete-flow",
        }
    }

    /// The scenario named `name`.
    ///
    /// # Errors
    ///
    /// Refuses the extensions this client lacks, and unknown names, each with its reason.
    pub fn from_name(name: &str) -> Result<Scenario, UnsupportedScenario> {
        if let Some(scenario) = Scenario::ALL
            .into_iter()
            .find(|scenario| scenario.name() == name)
        {
            return Ok(scenario);
        }
        if name.len() > "auth/".len() && name.starts_with("auth/") {
            return Ok(Scenario::Authorization);
        }
        let reason = if name.starts_with("sep-2640-") {
            "the skills extension (SEP-2640) is not implemented"
        } else {
            "unknown scenario"
        };
        Err(UnsupportedScenario {
            name: name.to_owned(),
            reason,
        })
    }

    /// The client this scenario needs, speaking the era of `protocol_version` without a probe
    /// (the suites' mocks of one era do not expect the other era's first request), and
    /// offering that version.
    pub fn client_builder(self, protocol_version: ProtocolVersion) -> ClientBuilder {
        let era = match protocol_version.era() {
            Era::Legacy => EraChoice::Legacy,
            Era::Modern => EraChoice::Modern,
        };
        let builder = Client::builder(CLIENT_NAME, env!("CARGO_PKG_VERSION"))
            .protocol_version(protocol_version)
            .era(era);
        let none = serde_json::Map::new;
        match self {
            Scenario::ElicitationDefaults => builder.elicitation(accept_with_defaults),
            Scenario::ClientRequestState => builder.elicitation(accept_confirmed),
            // An authorization extension in use is declared among the capabilities.
            Scenario::ClientCredentialsBasic | Scenario::ClientCredentialsJwt => {
                builder.extension(mcpwire_ext_client_credentials::EXTENSION_ID, none())
            }
            Scenario::WorkloadIdentity => {
                builder.extension(mcpwire_ext_workload_identity::EXTENSION_ID, none())
            }
            Scenario::Dpop | Scenario::DpopNonce => {
                builder.extension(mcpwire_ext_dpop::EXTENSION_ID, none())
            }
            Scenario::EnterpriseManagedAuthorization | Scenario::CrossAppAccess => {
                builder.extension(mcpwire_ext_enterprise_auth::EXTENSION_ID, none())
            }
            _ => builder,
        }
    }

    /// Runs the scenario on a connected client.
    ///
    /// # Errors
    ///
    /// Fails when a request fails or the server's answers are not what the scenario expects.
    pub async fn run(self, client: &Client) -> anyhow::Result<()> {
        self.run_with(client, None).await
    }

    /// Runs the scenario on a connected client with the scenario's data from the suite
    /// (`MCP_CONFORMANCE_CONTEXT`), which some scenarios need.
    ///
    /// # Errors
    ///
    /// As [`Scenario::run`], and when the data a scenario needs is missing.
    pub async fn run_with(self, client: &Client, context: Option<&Value>) -> anyhow::Result<()> {
        match self {
            Scenario::Initialize => initialize(client).await,
            Scenario::ToolsCall => tools_call(client).await,
            Scenario::ElicitationDefaults => elicitation_defaults(client).await,
            Scenario::SseRetry => sse_retry(client).await,
            Scenario::JsonSchemaPreservation => json_schema_preservation(client).await,
            // Connecting is the scenario: `server/discover`, again at the version the server
            // names when it refuses the first attempt with `-32022`.
            Scenario::RequestMetadata => Ok(()),
            Scenario::ClientRequestState => client_request_state(client).await,
            Scenario::HttpStandardHeaders => http_standard_headers(client).await,
            Scenario::JsonSchemaRefNoDeref => {
                client.list_tools().await.context("tools/list")?;
                Ok(())
            }
            Scenario::HttpCustomHeaders => http_custom_headers(client, context).await,
            Scenario::HttpInvalidToolHeaders => http_invalid_tool_headers(client).await,
            Scenario::Authorization
            | Scenario::ClientCredentialsBasic
            | Scenario::ClientCredentialsJwt
            | Scenario::WorkloadIdentity
            | Scenario::Dpop
            | Scenario::DpopNonce => call_every_tool(client).await,
            Scenario::EnterpriseManagedAuthorization | Scenario::CrossAppAccess => {
                call_every_tool(client).await
            }
        }
    }

    /// The authorization layer this scenario's HTTP client needs, if any; plain `http` is
    /// allowed to loopback hosts (the suite's servers run on `localhost`).
    ///
    /// - [`Scenario::Authorization`]: an OAuth client with the headless user agent, the
    ///   conformance client's metadata document URL, and the pre-registered credentials the
    ///   suite gives in the scenario's data (`client_id`, `client_secret`, `issuer`).
    /// - The client credentials scenarios: a headless client with
    ///   [`ClientCredentials`] from the scenario's data.
    /// - [`Scenario::WorkloadIdentity`]: a headless client with [`WorkloadIdentity`]
    ///   presenting the scenario's `valid_jwt`.
    /// - The DPoP scenarios: as [`Scenario::Authorization`], with a fresh [`DpopKey`].
    /// - The enterprise-managed authorization scenarios: a headless client with
    ///   [`EnterpriseManagedAuthorization`], exchanging the scenario's `idp_id_token` at the
    ///   identity provider it names (by `idp_issuer`, else `idp_token_endpoint`).
    ///
    /// # Errors
    ///
    /// When an extension scenario's data lacks what it needs, or its key is unreadable.
    pub fn auth_layer(self, context: Option<&Value>) -> anyhow::Result<Option<AuthLayer>> {
        let text = |name: &str| {
            context
                .and_then(|context| context.get(name))
                .and_then(Value::as_str)
        };
        let required = |name: &str| {
            text(name).with_context(|| {
                format!("MCP_CONFORMANCE_CONTEXT of {} has no `{name}`", self.name())
            })
        };
        let loopback = FetchPolicy::default().allow_loopback_http(true);
        let config = match self {
            Scenario::Authorization | Scenario::Dpop | Scenario::DpopNonce => {
                let mut config =
                    OAuthConfig::new(CLIENT_NAME, HeadlessUserAgent::new(REDIRECT_URI))
                        .client_metadata_url(CLIENT_METADATA_URL);
                if let Some(client_id) = text("client_id") {
                    let mut credentials = PreRegistered::new(client_id);
                    if let Some(secret) = text("client_secret") {
                        credentials = credentials.client_secret(secret);
                    }
                    if let Some(issuer) = text("issuer") {
                        credentials = credentials.issuer(issuer);
                    }
                    config = config.pre_registered(credentials);
                }
                if matches!(self, Scenario::Dpop | Scenario::DpopNonce) {
                    config = config.dpop(DpopKey::generate()?);
                }
                config
            }
            Scenario::ClientCredentialsBasic => {
                let credentials = ClientCredentials::client_secret(
                    required("client_id")?,
                    required("client_secret")?,
                );
                OAuthConfig::headless(CLIENT_NAME, credentials)
            }
            Scenario::ClientCredentialsJwt => {
                let algorithm: SigningAlgorithm = required("signing_algorithm")?.parse()?;
                let key = PrivateKey::from_pem(required("private_key_pem")?, algorithm)?;
                let credentials = ClientCredentials::private_key_jwt(required("client_id")?, key);
                OAuthConfig::headless(CLIENT_NAME, credentials)
            }
            Scenario::WorkloadIdentity => {
                let token = WorkloadToken::value(required("valid_jwt")?);
                OAuthConfig::headless(CLIENT_NAME, WorkloadIdentity::new(token))
            }
            Scenario::EnterpriseManagedAuthorization | Scenario::CrossAppAccess => {
                let idp_client_id = required("idp_client_id")?;
                let mut identity_provider = match text("idp_issuer") {
                    Some(issuer) => IdentityProvider::issuer(issuer, idp_client_id),
                    None => IdentityProvider::token_endpoint(
                        required("idp_token_endpoint")?,
                        idp_client_id,
                    ),
                };
                if let Some(secret) = text("idp_client_secret") {
                    identity_provider = identity_provider.client_secret(secret);
                }
                let id_token = Secret::new(required("idp_id_token")?);
                let mut grant = EnterpriseManagedAuthorization::new(
                    identity_provider,
                    id_token,
                    required("client_id")?,
                );
                if let Some(secret) = text("client_secret") {
                    grant = grant.client_secret(secret);
                }
                OAuthConfig::headless(CLIENT_NAME, grant)
            }
            _ => return Ok(None),
        };
        Ok(Some(AuthLayer::new(config.fetch_policy(loopback))))
    }
}

/// Accepts every form without filling anything in: the client adds the schema defaults.
async fn accept_with_defaults(
    _: ElicitRequestParams,
    _: RequestContext,
) -> Result<ElicitResult, ErrorObject> {
    Ok(ElicitResult {
        meta: None,
        action: ElicitResultAction::Accept,
        content: None,
    })
}

/// Accepts every form with each of its boolean fields set to `true` (the confirmations the
/// `test_mrtr_*` tools ask for); the client adds the defaults of the other fields.
async fn accept_confirmed(
    params: ElicitRequestParams,
    _: RequestContext,
) -> Result<ElicitResult, ErrorObject> {
    let content = match params {
        ElicitRequestParams::ElicitRequestFormParams(form) => form
            .requested_schema
            .properties
            .into_iter()
            .filter(|(_, field)| matches!(field, PrimitiveSchemaDefinition::BooleanSchema(_)))
            .map(|(name, _)| (name, ElicitResultContentValue::Boolean(true)))
            .collect(),
        _ => BTreeMap::new(),
    };
    Ok(ElicitResult {
        meta: None,
        action: ElicitResultAction::Accept,
        content: Some(content),
    })
}

async fn initialize(client: &Client) -> anyhow::Result<()> {
    // The suite's mock declares no capability; asking for tools it did not offer would be an
    // error of this client, not of the server.
    if client.server_capabilities().tools.is_some() {
        client.list_tools().await.context("tools/list")?;
    }
    Ok(())
}

async fn tools_call(client: &Client) -> anyhow::Result<()> {
    require_tool(client, "add_numbers").await?;
    let result = client
        .call_tool("add_numbers", json!({"a": 5, "b": 3}))
        .await
        .context("tools/call add_numbers")?;
    succeeded("add_numbers", &result)
}

async fn elicitation_defaults(client: &Client) -> anyhow::Result<()> {
    let tool = "test_client_elicitation_defaults";
    require_tool(client, tool).await?;
    let result = client
        .call_tool(tool, json!({}))
        .await
        .with_context(|| format!("tools/call {tool}"))?;
    succeeded(tool, &result)
}

async fn sse_retry(client: &Client) -> anyhow::Result<()> {
    let tool = "test_reconnection";
    require_tool(client, tool).await?;
    let result = client
        .call_tool(tool, json!({}))
        .await
        .with_context(|| format!("tools/call {tool}"))?;
    succeeded(tool, &result)
}

async fn json_schema_preservation(client: &Client) -> anyhow::Result<()> {
    let focal = "json_schema_2020_12_tool";
    let echo = "json_schema_echo";
    let tools = client.list_tools().await.context("tools/list")?;
    let Some(tool) = tools.iter().find(|tool| tool.name == focal) else {
        bail!("the server lists no tool `{focal}`");
    };
    ensure!(
        tools.iter().any(|tool| tool.name == echo),
        "the server lists no tool `{echo}`"
    );
    let schema = Value::Object(tool.input_schema.clone());
    let result = client
        .call_tool(echo, json!({ "schema": schema }))
        .await
        .with_context(|| format!("tools/call {echo}"))?;
    succeeded(echo, &result)
}

async fn client_request_state(client: &Client) -> anyhow::Result<()> {
    let tools = [
        "test_mrtr_echo_state",
        "test_mrtr_unrelated",
        "test_mrtr_no_state",
        "test_mrtr_no_result_type",
    ];
    for tool in tools {
        require_tool(client, tool).await?;
    }
    for tool in tools {
        let result = client
            .call_tool(tool, json!({}))
            .await
            .with_context(|| format!("tools/call {tool}"))?;
        succeeded(tool, &result)?;
    }
    Ok(())
}

async fn http_standard_headers(client: &Client) -> anyhow::Result<()> {
    for tool in client.list_tools().await.context("tools/list")? {
        let result = client
            .call_tool(tool.name.as_str(), json!({}))
            .await
            .with_context(|| format!("tools/call {}", tool.name))?;
        succeeded(&tool.name, &result)?;
    }
    for resource in client.list_resources().await.context("resources/list")? {
        client
            .read_resource(resource.uri.as_str())
            .await
            .with_context(|| format!("resources/read {}", resource.uri))?;
    }
    for prompt in client.list_prompts().await.context("prompts/list")? {
        client
            .get_prompt(prompt.name.as_str(), BTreeMap::new())
            .await
            .with_context(|| format!("prompts/get {}", prompt.name))?;
    }
    Ok(())
}

/// Lists the tools, then makes the calls the suite names in `context.toolCalls`, each with
/// exactly its arguments; the client mirrors the annotated ones into `Mcp-Param-*` headers.
async fn http_custom_headers(client: &Client, context: Option<&Value>) -> anyhow::Result<()> {
    let calls = context
        .and_then(|context| context.get("toolCalls"))
        .and_then(Value::as_array)
        .context("MCP_CONFORMANCE_CONTEXT names no toolCalls")?;
    client.list_tools().await.context("tools/list")?;
    for call in calls {
        let name = call
            .get("name")
            .and_then(Value::as_str)
            .context("a tool call without a name")?;
        let arguments = call.get("arguments").cloned().unwrap_or(Value::Null);
        let result = client
            .call_tool(name, arguments)
            .await
            .with_context(|| format!("tools/call {name}"))?;
        succeeded(name, &result)?;
    }
    Ok(())
}

/// Lists the tools, which leaves out those whose `x-mcp-header` declarations are invalid, and
/// calls every one that remains with arguments made from its schema.
async fn http_invalid_tool_headers(client: &Client) -> anyhow::Result<()> {
    for tool in client.list_tools().await.context("tools/list")? {
        let properties = tool
            .input_schema
            .get("properties")
            .and_then(Value::as_object);
        let arguments: Map<String, Value> = properties
            .into_iter()
            .flatten()
            .filter_map(|(name, schema)| Some((name.clone(), sample(schema)?)))
            .collect();
        let result = client
            .call_tool(tool.name.as_str(), Value::Object(arguments))
            .await
            .with_context(|| format!("tools/call {}", tool.name))?;
        succeeded(&tool.name, &result)?;
    }
    Ok(())
}

/// Lists the tools and calls each with `{}`.
async fn call_every_tool(client: &Client) -> anyhow::Result<()> {
    for tool in client.list_tools().await.context("tools/list")? {
        let result = client
            .call_tool(tool.name.as_str(), json!({}))
            .await
            .with_context(|| format!("tools/call {}", tool.name))?;
        succeeded(&tool.name, &result)?;
    }
    Ok(())
}

/// A value of the primitive type `schema` names, for a call made from a tool's schema alone.
fn sample(schema: &Value) -> Option<Value> {
    match schema.get("type")?.as_str()? {
        "string" => Some(json!("sample")),
        "integer" => Some(json!(1)),
        "number" => Some(json!(1.5)),
        "boolean" => Some(json!(true)),
        _ => None,
    }
}

/// Lists the tools and checks that `name` is among them.
async fn require_tool(client: &Client, name: &str) -> anyhow::Result<()> {
    let tools = client.list_tools().await.context("tools/list")?;
    ensure!(
        tools.iter().any(|tool| tool.name == name),
        "the server lists no tool `{name}` (it lists: {})",
        tools
            .iter()
            .map(|tool| tool.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// Fails when the tool reported an execution error, quoting its text.
fn succeeded(tool: &str, result: &CallToolResult) -> anyhow::Result<()> {
    if result.is_error == Some(true) {
        let text: Vec<&str> = result
            .content
            .iter()
            .filter_map(|block| match block {
                ContentBlock::TextContent(text) => Some(text.text.as_str()),
                _ => None,
            })
            .collect();
        bail!("tool `{tool}` failed: {}", text.join(" "));
    }
    Ok(())
}
