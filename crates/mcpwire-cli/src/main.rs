//! `mcpwire`: the command line of mcpwire.
//!
//! `mcpwire serve --stdio` serves the reference server over this process's stdin and stdout.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use mcpwire_cli::reference;
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
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct Transport {
    /// Serve one session over stdin and stdout (the client starts this process).
    #[arg(long)]
    stdio: bool,
}

#[derive(Debug, Args)]
struct Serve {
    #[command(flatten)]
    transport: Transport,
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
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .and_then(|runtime| {
            runtime.block_on(async {
                match cli.command {
                    Command::Serve(serve) => run_serve(serve).await,
                }
            })
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcpwire: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_serve(serve: Serve) -> anyhow::Result<()> {
    let server = reference::server().context("building the reference server")?;
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
    }
    Ok(())
}
