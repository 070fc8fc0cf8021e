//! `mcpwire`: the command line of mcpwire.
//!
//! `mcpwire serve --stdio` serves the reference server over this process's stdin and stdout;
//! `mcpwire serve --http 127.0.0.1:3000` serves it over Streamable HTTP, and with
//! `--legacy-sse` over the HTTP+SSE transport of 2024-11-05 beside it. `mcpwire conform
//! server URL` (or `-- COMMAND…`) tests any MCP server against the specification.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use mcpwire_cli::{conform, deployment, reference};
use mcpwire_store_redis::RedisDeployment;
use tracing_subscriber::EnvFilter;

/// mcpwire, a Rust implementation of the Model Context Protocol.
#[derive(Debug, Parser)]
#[command(name = "mcpwire", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serves the reference MCP server: demonstration tools plus every conformance fixture.
    Serve(Serve),
    /// Tests an MCP server, in any language, against the specification: the mcpwire
    /// conformance suite. `mcpwire conform server --help` for examples.
    #[command(subcommand)]
    Conform(conform::Conform),
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct Transport {
    /// Serve one session over stdin and stdout (the client starts this process).
    #[arg(long)]
    stdio: bool,

    /// Serve Streamable HTTP on this address, e.g. 127.0.0.1:3000 (port 0 picks a free port).
    #[arg(long, value_name = "ADDRESS")]
    http: Option<SocketAddr>,
}

#[derive(Debug, Args)]
struct Serve {
    #[command(flatten)]
    transport: Transport,

    /// With --http: a `Host` header value to accept besides the loopback names (repeatable).
    /// Needed behind a proxy or on a public name; DNS-rebinding protection stays on.
    #[arg(long = "allowed-host", value_name = "HOST", requires = "http")]
    allowed_hosts: Vec<String>,

    /// With --http: an `Origin` to accept besides loopback origins (repeatable).
    #[arg(long = "allowed-origin", value_name = "ORIGIN", requires = "http")]
    allowed_origins: Vec<String>,

    /// With --http: answer every request with an SSE stream. By default a request whose
    /// handler sends nothing before its result gets one JSON body.
    #[arg(long, requires = "http")]
    always_sse: bool,

    /// With --http: also serve clients of the deprecated HTTP+SSE transport of 2024-11-05,
    /// whose event stream is `/sse` and whose messages go to `/messages`. Off by default: the
    /// transport is deprecated, and it opens a session for any GET of `/sse`.
    #[arg(long, requires = "http")]
    legacy_sse: bool,

    /// With --http: share the Streamable HTTP sessions, the events of SSE streams (which
    /// clients resume with `Last-Event-ID`), the tasks and a bus with the other instances of
    /// a deployment in this Redis (`redis://host:port/db` or `redis+unix:///path`), so that any
    /// instance serves any session. Start-up fails if it cannot be reached.
    #[arg(long, value_name = "URL", requires = "http")]
    redis: Option<String>,

    /// With --redis: the prefix of every Redis key, to keep deployments that share one Redis
    /// apart.
    #[arg(
        long,
        value_name = "PREFIX",
        requires = "redis",
        default_value = "mcpwire"
    )]
    redis_prefix: String,

    /// With --http: a file holding the key that signs and verifies the `requestState` of
    /// multi round-trip requests (modern era), as 64 hex digits (`openssl rand -hex 32`).
    /// Every instance behind one load balancer needs the same key, or a retry that reaches
    /// another instance fails; without this option each process draws a key of its own.
    #[arg(long, value_name = "PATH", requires = "http")]
    request_state_key_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr: on stdio, stdout carries nothing but MCP messages.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let outcome = runtime_for(&cli.command)
        .enable_all()
        .build()
        .context("starting the async runtime")
        .and_then(|runtime| {
            runtime.block_on(async {
                match cli.command {
                    Command::Serve(serve) => run_serve(serve).await.map(|()| 0),
                    Command::Conform(what) => conform::run(what).await,
                }
            })
        });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("mcpwire: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// The runtime a command runs on. One stdio session is a single stream of messages: one
/// thread serves it with no hand-offs between workers (stdin and stdout have threads of their
/// own), where a pool would spend more on waking workers than on the requests.
fn runtime_for(command: &Command) -> tokio::runtime::Builder {
    match command {
        Command::Serve(serve) if serve.transport.stdio => {
            tokio::runtime::Builder::new_current_thread()
        }
        Command::Serve(_) | Command::Conform(_) => tokio::runtime::Builder::new_multi_thread(),
    }
}

async fn run_serve(serve: Serve) -> anyhow::Result<()> {
    let mut builder = reference::register(reference::builder());
    if let Some(path) = &serve.request_state_key_file {
        builder = builder.request_state_key(deployment::read_request_state_key(path)?);
    }
    // Connected before the server is built, which takes the deployment's task store.
    let mut shared = None;
    if let Some(url) = &serve.redis {
        let redis = RedisDeployment::connect(url, &serve.redis_prefix)
            .await
            .with_context(|| format!("connecting to Redis at {url}"))?;
        builder = builder.shared_tasks(Arc::new(redis.tasks.clone()), deployment::TASK_LEASE);
        shared = Some(redis);
    }
    let server = builder.build().context("building the reference server")?;
    let tools = server.tool_names();
    let version = env!("CARGO_PKG_VERSION");
    if serve.transport.stdio {
        eprintln!(
            "mcpwire {version}: serving {} over stdio ({} tools); stop with end of input or Ctrl-C",
            reference::SERVER_NAME,
            tools.len()
        );
        tokio::select! {
            () = server.serve_stdio() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    } else if let Some(address) = serve.transport.http {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("binding {address}"))?;
        let bound = listener.local_addr().context("reading the bound address")?;
        let mut config = mcpwire_server::HttpConfig::default().json_responses(!serve.always_sse);
        if !serve.allowed_hosts.is_empty() {
            config = config.allowed_hosts(deployment::hosts_besides_loopback(serve.allowed_hosts));
        }
        if !serve.allowed_origins.is_empty() {
            config = config.allowed_origins(loopback_origins(bound).chain(serve.allowed_origins));
        }
        if let Some(redis) = &shared {
            config = redis.configure(config);
        }
        let mut legacy = String::new();
        if serve.legacy_sse {
            config = config.legacy_sse_endpoints(LEGACY_SSE_PATH, LEGACY_MESSAGES_PATH);
            legacy = format!(", and on http://{bound}{LEGACY_SSE_PATH} to legacy HTTP+SSE clients");
        }
        eprintln!(
            "mcpwire {version}: serving {} on http://{bound}/mcp ({} tools){legacy}; stop with Ctrl-C",
            reference::SERVER_NAME,
            tools.len()
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("mcpwire: shutting down");
        };
        server
            .serve_http(listener)
            .config(config)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")?;
    }
    Ok(())
}

/// The event stream of the legacy HTTP+SSE transport, with `--legacy-sse`.
const LEGACY_SSE_PATH: &str = "/sse";
/// Where legacy HTTP+SSE clients POST their messages, with `--legacy-sse`.
const LEGACY_MESSAGES_PATH: &str = "/messages";

/// The loopback origins of the port served, kept when the user adds origins of their own.
fn loopback_origins(bound: SocketAddr) -> impl Iterator<Item = String> {
    let port = bound.port();
    deployment::LOOPBACK_NAMES
        .into_iter()
        .flat_map(move |name| ["http", "https"].map(|scheme| format!("{scheme}://{name}:{port}")))
}
