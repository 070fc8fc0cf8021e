//! `conformance-server`: serves the fixtures of the official MCP conformance suite's server
//! scenarios (see `mcpwire_conformance::fixtures`).

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use mcpwire_server::Server;

const USAGE: &str = "\
conformance-server: serves the fixtures of the MCP conformance suite's server scenarios

Usage:
  conformance-server [--stdio]          serve one session over stdin and stdout (the default)
  conformance-server --http [--port N]  serve Streamable HTTP at http://127.0.0.1:N/mcp
                                        (N from --port, else $PORT, else 8001)
  conformance-server --help             print this help

The official suite drives the server over Streamable HTTP:
  conformance server --url http://localhost:N/mcp --suite all
Logs go to stderr.";

/// The port `--http` listens on when neither `--port` nor `$PORT` names one.
const DEFAULT_PORT: u16 = 8001;

/// How the fixtures are served.
enum Mode {
    Stdio,
    Http { port: u16 },
}

fn parse_arguments(arguments: &[String]) -> anyhow::Result<Option<Mode>> {
    let mut http = false;
    let mut port = None;
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--help" | "-h" => return Ok(None),
            "--stdio" => http = false,
            "--http" => http = true,
            "--port" => {
                let value = arguments.next().context("`--port` needs a port number")?;
                port = Some(
                    value
                        .parse::<u16>()
                        .with_context(|| format!("`--port {value}` is not a port number"))?,
                );
            }
            other => bail!("unknown argument `{other}`"),
        }
    }
    if !http {
        if port.is_some() {
            bail!("`--port` goes with `--http`");
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
    Ok(Some(Mode::Http { port }))
}

/// Serves `server` over Streamable HTTP at `http://<address>/mcp` until the process is
/// stopped, with the mcpwire-http defaults: sessions, SSE priming and resumption, and the
/// Host/Origin checks for loopback names.
async fn serve_http(server: Server, address: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("binding {address}"))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    eprintln!("conformance-server: listening on http://{bound}/mcp");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    server
        .serve_http(listener)
        .config(mcpwire_server::HttpConfig::default())
        .with_graceful_shutdown(shutdown)
        .await
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
        let server =
            mcpwire_conformance::fixtures::server().context("building the fixture server")?;
        match mode {
            Mode::Stdio => {
                server.serve_stdio().await;
                Ok(())
            }
            Mode::Http { port } => {
                serve_http(server, SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
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
