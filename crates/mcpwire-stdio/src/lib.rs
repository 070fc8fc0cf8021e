//! The stdio transport of mcpwire: JSON-RPC messages as lines of text over a pair of byte
//! streams.
//!
//! An MCP server run as a subprocess reads messages from its standard input and writes them to
//! its standard output, one message per line. This crate provides:
//!
//! - [`StdioTransport`], the framing over any [`AsyncRead`](tokio::io::AsyncRead) and
//!   [`AsyncWrite`](tokio::io::AsyncWrite) pair, implementing
//!   [`Transport`];
//! - [`stdio`], that framing over the process's own stdin and stdout, for servers;
//! - with the `process` feature, `ChildProcess`, which spawns a server and talks to it over
//!   its stdin and stdout, for clients, and shuts it down in the order MCP prescribes.
//!
//! # Framing
//!
//! - Each message is written as compact JSON followed by `\n`, then the writer is flushed
//!   ([`stdio`]'s writer flushes once the messages queued at that moment are written, so a
//!   message is never held back while nothing follows it). The written text never contains
//!   another line break: raw params built from pretty-printed JSON
//!   have their line breaks turned into spaces, and U+2028 and U+2029 are written as `\u`
//!   escapes. Nothing but messages is ever written.
//! - Each line read is parsed once by [`mcpwire_jsonrpc::parse()`]. A line may end in `\n` or
//!   `\r\n`; blank lines are skipped.
//! - A line that does not parse, including one that is not UTF-8, arrives as
//!   [`Inbound::Invalid`](mcpwire_transport::Inbound::Invalid) and reading continues with the
//!   next line.
//! - A line longer than the limit ([`Limits`], 4 MiB by default) arrives as a `-32700` parse
//!   error as soon as the limit is passed; the rest of it is skipped up to the next `\n`
//!   without being stored, so a peer cannot make the receiver buffer more than the limit.
//! - When the input ends in the middle of a line, that line is parsed as if it had ended:
//!   a complete message is delivered, a truncated one arrives as a parse error. Then the
//!   receiver ends.
//! - Batches (an array on one line) are refused unless [`Limits::parse`] allows them; the
//!   elements of an allowed batch arrive one by one, and their responses are written as
//!   separate lines.
//!
//! # Servers
//!
//! A server must write nothing else to stdout: log to stderr instead.
//!
//! ```no_run
//! use mcpwire_jsonrpc::{ErrorObject, Notification};
//! use mcpwire_rpc::{Config, Handler, Peer, RequestContext};
//! use serde_json::value::RawValue;
//!
//! /// Answers every request with its own params.
//! struct Echo;
//!
//! impl Handler for Echo {
//!     async fn request(
//!         &self,
//!         params: Option<Box<RawValue>>,
//!         _context: RequestContext,
//!     ) -> Result<Box<RawValue>, ErrorObject> {
//!         params.ok_or_else(|| ErrorObject::invalid_params("echo needs params"))
//!     }
//!
//!     async fn notification(&self, _notification: Notification, _peer: &Peer) {}
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let peer = Peer::start(mcpwire_stdio::stdio(), Echo, Config::default());
//!     // Serve until the client closes stdin.
//!     peer.closed().await;
//! }
//! ```
//!
//! Stdin is read, and stdout written, by two dedicated threads, not by tokio's blocking pool:
//! a runtime shutting down does not wait for a read of stdin, and the process can exit while
//! one is in progress. Closing the transport (as the engine does at the end of input) waits
//! until every queued message is written and flushed.
//!
//! # Clients
//!
//! With the `process` feature, `ChildProcess::builder` configures and spawns the server; the
//! `ChildProcess` is the transport, and its `ChildHandle` shuts the server down:
//!
//! ```no_run
//! # #[cfg(feature = "process")]
//! # async fn run() -> std::io::Result<()> {
//! use std::time::Duration;
//!
//! use mcpwire_jsonrpc::{ErrorObject, Notification};
//! use mcpwire_rpc::{Config, Handler, Peer, RequestContext, RequestOptions};
//! use mcpwire_stdio::{ChildProcess, Stderr};
//! use serde_json::value::RawValue;
//!
//! struct NoRequests;
//!
//! impl Handler for NoRequests {
//!     async fn request(&self, _: Option<Box<RawValue>>, context: RequestContext) -> Result<Box<RawValue>, ErrorObject> {
//!         Err(ErrorObject::method_not_found(context.method()))
//!     }
//!
//!     async fn notification(&self, _: Notification, _: &Peer) {}
//! }
//!
//! let server = ChildProcess::builder("my-mcp-server")
//!     .arg("--stdio")
//!     .env("LOG_LEVEL", "debug")
//!     .stderr(Stderr::Inherit)
//!     .close_grace(Duration::from_secs(5))
//!     .spawn()?;
//! // A handle is needed only to read the exit status afterwards.
//! let handle = server.handle();
//! let peer = Peer::start(server, NoRequests, Config::default());
//! let _tools = peer.request_raw("tools/list", None, RequestOptions::default()).await;
//!
//! // Closing the connection stops the child: close stdin, wait, then SIGTERM, wait, then
//! // SIGKILL.
//! peer.close().await;
//! let status = handle.wait().await?;
//! println!("the server exited with {status}");
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod framing;
mod fuzzing;
mod limits;
mod line;
#[cfg(feature = "process")]
mod process;
mod stdin;
mod stdout;

pub use framing::{StdioReceiver, StdioSender, StdioTransport};
#[doc(hidden)]
pub use fuzzing::fuzz_framing;
pub use limits::Limits;
#[cfg(feature = "process")]
pub use process::{
    ChildHandle, ChildProcess, ChildProcessBuilder, ChildSender, Stderr, StderrLines,
};
pub use stdin::StdinReader;
pub use stdout::StdoutSender;

use mcpwire_transport::Transport;

/// The stdio framing over this process's stdin and stdout, with the default [`Limits`]: the
/// transport of a server that a client runs as a subprocess.
///
/// Reading and writing each run on a dedicated thread ([`StdinReader`], [`StdoutSender`]);
/// nothing else in the process may write to stdout.
pub fn stdio() -> Stdio {
    stdio_with_limits(Limits::default())
}

/// [`stdio`] with the given [`Limits`].
pub fn stdio_with_limits(limits: Limits) -> Stdio {
    Stdio {
        sender: StdoutSender::new(),
        receiver: StdioReceiver::with_limits(StdinReader::new(), limits),
    }
}

/// The transport [`stdio`] makes: this process's stdin and stdout, each served by a thread of
/// its own.
#[derive(Debug)]
pub struct Stdio {
    sender: StdoutSender,
    receiver: StdioReceiver<StdinReader>,
}

impl Transport for Stdio {
    type Sender = StdoutSender;
    type Receiver = StdioReceiver<StdinReader>;

    fn split(self) -> (StdoutSender, StdioReceiver<StdinReader>) {
        (self.sender, self.receiver)
    }
}

// Compiles and runs the README example as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
