//! `conformance-server`: serves the fixtures of the official MCP conformance suite's server
//! scenarios (see `mcpwire_conformance_fixtures::fixtures`).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use mcpwire_auth::server::{BearerAuthLayer, FetchPolicy, JwtVerifier, ProtectedResource};
use mcpwire_cli::deployment::{TASK_LEASE, hosts_besides_loopback, read_request_state_key};
use mcpwire_conformance_fixtures::fixtures;
use mcpwire_server::Server;
use mcpwire_store_redis::RedisDeployment;

const USAGE: &str = "\
conformance-server: serves the fixtures of the MCP conformance suite's server scenarios

Usage:
  conformance-server [--stdio]          serve one session over stdin and stdout (the default)
  conformance-server --http [--port N]  serve Streamable HTTP at http://127.0.0.1:N/mcp
                                        (N from --port, else $PORT, else 8001)
  conformance-server --help             print this help

Protected (with --http): the endpoint is an OAuth 2.1 resource server (mcpwire-auth)
  --auth-issuer URL     the authorization server whose JWT access tokens are accepted
  --auth-jwks URL       its JSON Web Key Set (default: the jwks_uri of its metadata)
  --auth-resource URL   the endpoint's canonical URI, the tokens' audience
                        (default http://localhost:N/mcp)
  --auth-scope SCOPE    a scope every request needs (repeatable)

One instance of several behind a load balancer (with --http; see deploy/):
  --redis URL           share the sessions, their SSE events, the tasks and a bus
                        between the instances in this Redis (redis://host:port/db or
                        redis+unix:///path): any instance serves any request
  --redis-prefix P      the prefix of every Redis key (default mcpwire)
  --request-state-key-file PATH
                        the key of modern-era requestState, 64 hex digits, the same file
                        for every instance (e.g. from `openssl rand -hex 32`)
  --allowed-host HOST   a Host header value to accept besides the loopback names, which
                        match with any port (repeatable)

The official suite drives the server over Streamable HTTP:
  conformance server --url http://localhost:N/mcp --suite all
Logs go to stderr.";

/// The port `--http` listens on when neither `--port` nor `$PORT` names one.
const DEFAULT_PORT: u16 = 8001;

/// How the fixtures are served.
enum Mode {
    Stdio,
    Http {
        port: u16,
        protection: Option<Protection>,
        sharing: Sharing,
    },
}

/// What the instances of a deployment behind a load balancer share, and the names it is
/// reached by.
#[derive(Default)]
struct Sharing {
    redis: Option<String>,
    redis_prefix: Option<String>,
    request_state_key_file: Option<PathBuf>,
    allowed_hosts: Vec<String>,
}

/// The prefix of the Redis keys when `--redis-prefix` names none, as `mcpwire serve`'s.
const DEFAULT_REDIS_PREFIX: &str = "mcpwire";

/// What protects the HTTP endpoint, when it is protected.
struct Protection {
    issuer: String,
    jwks: Option<String>,
    resource: Option<String>,
    scopes: Vec<String>,
}

fn parse_arguments(arguments: &[String]) -> anyhow::Result<Option<Mode>> {
    let mut http = false;
    let mut port = None;
    let (mut issuer, mut jwks, mut resource, mut scopes) = (None, None, None, Vec::new());
    let mut sharing = Sharing::default();
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        let mut value = |name: &str| {
            arguments
                .next()
                .cloned()
                .with_context(|| format!("`{name}` needs a value"))
        };
        match argument.as_str() {
            "--help" | "-h" => return Ok(None),
            "--stdio" => http = false,
            "--http" => http = true,
            "--auth-issuer" => issuer = Some(value("--auth-issuer")?),
            "--auth-jwks" => jwks = Some(value("--auth-jwks")?),
            "--auth-resource" => resource = Some(value("--auth-resource")?),
            "--auth-scope" => scopes.push(value("--auth-scope")?),
            "--redis" => sharing.redis = Some(value("--redis")?),
            "--redis-prefix" => sharing.redis_prefix = Some(value("--redis-prefix")?),
            "--request-state-key-file" => {
                sharing.request_state_key_file = Some(value("--request-state-key-file")?.into());
            }
            "--allowed-host" => sharing.allowed_hosts.push(value("--allowed-host")?),
            "--port" => {
                let value = value("--port")?;
                port = Some(
                    value
                        .parse::<u16>()
                        .with_context(|| format!("`--port {value}` is not a port number"))?,
                );
            }
            other => bail!("unknown argument `{other}`"),
        }
    }
    let protection = match issuer {
        Some(issuer) => Some(Protection {
            issuer,
            jwks,
            resource,
            scopes,
        }),
        None if jwks.is_none() && resource.is_none() && scopes.is_empty() => None,
        None => bail!("the `--auth-*` options need `--auth-issuer`"),
    };
    if sharing.redis_prefix.is_some() && sharing.redis.is_none() {
        bail!("`--redis-prefix` goes with `--redis`");
    }
    if !http {
        let shared = sharing.redis.is_some()
            || sharing.request_state_key_file.is_some()
            || !sharing.allowed_hosts.is_empty();
        if port.is_some() || protection.is_some() || shared {
            bail!(
                "`--port`, the `--auth-*` options, `--redis`, `--request-state-key-file` and `--allowed-host` go with `--http`"
            );
        }
        return Ok(Some(Mode::Stdio));
    }
    let port = match port {
        Some(port) => port,
        None => match std::env::var("PORT") {
            Ok(value) => value
                .parse::<u16>()
                .with_context(|| format!("PORT={value} is not a port number"))?,
            Err(_) => DEFAULT_PORT,
        },
    };
    Ok(Some(Mode::Http {
        port,
        protection,
        sharing,
    }))
}

/// Serves `server` over Streamable HTTP at `http://<address>/mcp` until the process is
/// stopped, with the mcpwire-http defaults: sessions, SSE priming and resumption, and the
/// Host/Origin checks for loopback names (and `allowed_hosts`); the sessions, their SSE
/// events and the bus in Redis when `shared` is a deployment's; behind `mcpwire-auth`'s bearer
/// layer when protected.
async fn serve_http(
    server: Server,
    address: SocketAddr,
    protection: Option<Protection>,
    allowed_hosts: Vec<String>,
    shared: Option<RedisDeployment>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("binding {address}"))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    eprintln!("conformance-server: listening on http://{bound}/mcp");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let mut config = mcpwire_server::HttpConfig::default();
    if !allowed_hosts.is_empty() {
        config = config.allowed_hosts(hosts_besides_loopback(allowed_hosts));
    }
    if let Some(deployment) = &shared {
        config = deployment.configure(config);
    }
    let serving = server
        .serve_http(listener)
        .config(config)
        .with_graceful_shutdown(shutdown);
    match protection {
        None => serving.await,
        Some(protection) => {
            let resource = protection
                .resource
                .unwrap_or_else(|| format!("http://localhost:{}/mcp", bound.port()));
            let loopback = FetchPolicy::default().allow_loopback_http(true);
            let verifier = match protection.jwks {
                Some(jwks) => JwtVerifier::builder(&protection.issuer, jwks, &resource)
                    .fetch_policy(loopback)
                    .build(),
                None => {
                    JwtVerifier::discovering(&protection.issuer, &resource)
                        .fetch_policy(loopback)
                        .discover()
                        .await
                }
            }
            .context("setting up the token verifier")?;
            let protected = ProtectedResource::new(&resource, [&protection.issuer])
                .required_scopes(protection.scopes);
            let layer = BearerAuthLayer::new(protected, verifier)
                .context("setting up the protected resource")?;
            eprintln!(
                "conformance-server: protected as {resource}, metadata at {}",
                layer.metadata_url()
            );
            serving.layer(layer).await
        }
    }
    .context("serving HTTP")
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let mode = match parse_arguments(&arguments) {
        Ok(Some(mode)) => mode,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("conformance-server: {error:#}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("conformance-server: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        let mut builder = fixtures::register(fixtures::builder());
        let mut shared = None;
        if let Mode::Http { sharing, .. } = &mode {
            if let Some(path) = &sharing.request_state_key_file {
                builder = builder.request_state_key(read_request_state_key(path)?);
            }
            if let Some(url) = &sharing.redis {
                let prefix = sharing
                    .redis_prefix
                    .as_deref()
                    .unwrap_or(DEFAULT_REDIS_PREFIX);
                let deployment = RedisDeployment::connect(url, prefix)
                    .await
                    .with_context(|| format!("connecting to Redis at {url}"))?;
                builder = builder.shared_tasks(Arc::new(deployment.tasks.clone()), TASK_LEASE);
                shared = Some(deployment);
            }
        }
        let server = builder.build().context("building the fixture server")?;
        match mode {
            Mode::Stdio => {
                server.serve_stdio().await;
                Ok(())
            }
            Mode::Http {
                port,
                protection,
                sharing,
            } => {
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                serve_http(server, address, protection, sharing.allowed_hosts, shared).await
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("conformance-server: {error:#}");
            ExitCode::FAILURE
        }
    }
}
