//! `conformance-client`: the client the official MCP conformance suite spawns for each of its
//! client scenarios (see `mcpwire_conformance_fixtures::scenarios`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use mcpwire_auth::client::AuthLayer;
use mcpwire_client::{Client, ClientBuilder, ProtocolVersion};
use mcpwire_conformance_fixtures::scenarios::Scenario;

const USAGE: &str = "\
conformance-client: the client of the MCP conformance suite's client scenarios

Usage:
  MCP_CONFORMANCE_SCENARIO=<name> conformance-client <server-url>
  conformance-client --help

Environment (set by the suite):
  MCP_CONFORMANCE_SCENARIO          the scenario to run (required)
  MCP_CONFORMANCE_CONTEXT           JSON data of the scenario, with its `name` (optional)
  MCP_CONFORMANCE_PROTOCOL_VERSION  the protocol version to offer (optional; 2025-11-25)

The server URL is the last argument. Exits 0 when the scenario ran to its end, and non-zero
with a message on stderr otherwise. The auth scenarios authorize with mcpwire-auth's OAuth
client; the client credentials, workload identity, DPoP and enterprise-managed
authorization extensions with the crates mcpwire-ext-client-credentials,
mcpwire-ext-workload-identity, mcpwire-ext-dpop and mcpwire-ext-enterprise-auth.";

/// The whole run's limit: the suite kills a client after 30 seconds.
const TIMEOUT: Duration = Duration::from_secs(25);

/// The scenario's data from `MCP_CONFORMANCE_CONTEXT`, checked to belong to the scenario.
///
/// Most scenarios carry none (`auth/pre-registration` and `auth/client-credentials-*` carry
/// the client's credentials, `auth/wif-jwt-bearer` the workload's tokens,
/// `auth/enterprise-managed-authorization` the user's ID token and the identity provider);
/// the check only catches a suite that names another scenario than the environment does.
fn read_context(scenario: &str) -> anyhow::Result<Option<serde_json::Value>> {
    let Ok(text) = std::env::var("MCP_CONFORMANCE_CONTEXT") else {
        return Ok(None);
    };
    let context: serde_json::Value =
        serde_json::from_str(&text).context("MCP_CONFORMANCE_CONTEXT is not JSON")?;
    match context.get("name").and_then(serde_json::Value::as_str) {
        Some(name) if name != scenario => {
            bail!("MCP_CONFORMANCE_CONTEXT is for `{name}`, not for `{scenario}`")
        }
        _ => Ok(Some(context)),
    }
}

fn protocol_version() -> anyhow::Result<ProtocolVersion> {
    match std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION") {
        Ok(version) => version
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown protocol version `{version}`")),
        Err(_) => Ok(ProtocolVersion::LATEST_LEGACY),
    }
}

/// Connects the scenario's client to the server at `url` over Streamable HTTP (JSON and SSE
/// responses, the optional GET stream, `retry` and `Last-Event-ID` resumption).
async fn connect(
    builder: ClientBuilder,
    url: &str,
    auth: Option<AuthLayer>,
) -> anyhow::Result<Client> {
    let mut http = mcpwire_http::client::HttpClientBuilder::new(url);
    if let Some(auth) = auth {
        http = http.layer(auth);
    }
    let transport = http
        .streamable()
        .with_context(|| format!("making a Streamable HTTP transport for {url}"))?;
    builder
        .connect(transport)
        .await
        .with_context(|| format!("connecting to {url}"))
}

async fn run(scenario_name: &str, url: &str) -> anyhow::Result<()> {
    let scenario = Scenario::from_name(scenario_name)?;
    let context = read_context(scenario_name)?;
    let builder = scenario.client_builder(protocol_version()?);
    let client = connect(builder, url, scenario.auth_layer(context.as_ref())?).await?;
    let outcome = scenario.run_with(&client, context.as_ref()).await;
    client.close().await;
    outcome
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments
        .iter()
        .any(|argument| argument == "--help" || argument == "-h")
    {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let Ok(scenario) = std::env::var("MCP_CONFORMANCE_SCENARIO") else {
        eprintln!("conformance-client: MCP_CONFORMANCE_SCENARIO is not set\n\n{USAGE}");
        return ExitCode::from(2);
    };
    let Some(url) = arguments.last() else {
        eprintln!("conformance-client: the server URL is missing\n\n{USAGE}");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("conformance-client: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match tokio::time::timeout(TIMEOUT, run(&scenario, url)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(anyhow::anyhow!("gave up after {TIMEOUT:?}")),
        }
    });
    match outcome {
        Ok(()) => {
            eprintln!("conformance-client: {scenario}: done");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("conformance-client: {scenario}: {error:#}");
            ExitCode::FAILURE
        }
    }
}
