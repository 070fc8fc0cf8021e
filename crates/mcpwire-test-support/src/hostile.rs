//! A server whose tools misbehave the ways handlers do in production: they panic, return huge
//! or deeply nested values, flood the client with log messages and progress, or run until
//! they are cancelled. Serve it over any transport ([`Server::serve`], or a Streamable HTTP
//! service) and check that the rest of the connection, and every other connection, is
//! unharmed.
//!
//! The tools, all callable in both eras:
//!
//! | tool | arguments | does |
//! |---|---|---|
//! | `panic` | none | panics with [`PANIC_MESSAGE`] |
//! | `huge` | `bytes` | returns one text block of exactly `bytes` bytes, [`huge_text`] |
//! | `nested` | `depth` | returns `structuredContent` whose member `nested` holds `depth` nested arrays (at most [`MAX_DEPTH`]) |
//! | `flood` | `logs`, `progress`, `pad`, `tag` | sends `logs` log messages (data `{"tag", "seq", "pad"}`, `pad` bytes of padding) and `progress` progress updates (when the call has a progress token), interleaved, then returns `"flooded <tag>"` |
//! | `forever` | `announce` | runs until cancelled |
//! | `held` | `announce` | runs until the test [`release`](Controls::release)s it (or it is cancelled), then returns `"released"` |
//!
//! With `announce: true`, `forever` and `held` first send a log message tagged
//! [`STARTED_TAG`], so that a client that received it knows the call's stream is open.
//!
//! [`Controls`] counts what the handlers did, so a test waits on events instead of sleeping.

use std::sync::Arc;
use std::time::Duration;

use mcpwire_server::{Context, Server, ServerBuilder, Tool, ToolError, types};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

/// What the `panic` tool panics with, so that a panic hook or a log reader can tell the
/// expected panic from a defect.
pub const PANIC_MESSAGE: &str = "the hostile `panic` tool panics on purpose";

/// The deepest nesting the `nested` tool builds: far beyond any parser's depth limit, and
/// shallow enough that building, encoding and dropping it cannot exhaust a thread's stack.
pub const MAX_DEPTH: u32 = 1000;

/// The text of the `huge` tool's result for `bytes`: printable ASCII that JSON encodes as is
/// (so the encoded result is the text plus a fixed envelope), with its own offset written
/// every 64 bytes, so that a truncated, shifted or repeated part does not compare equal.
pub fn huge_text(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 64);
    let mut offset = 0usize;
    while text.len() < bytes {
        let header = format!("{offset:016x}:");
        text.push_str(&header);
        text.extend(std::iter::repeat_n('x', 64 - header.len()));
        offset += 64;
    }
    text.truncate(bytes);
    text
}

/// The `tag` of the log message `forever` and `held` send when they start: a client that
/// received it knows the call's stream is open.
pub const STARTED_TAG: &str = "started";

/// How many handlers did what, as [`Controls::counts`] reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Handlers of `forever` and `held` that started.
    pub started: usize,
    /// Handlers of `forever` and `held` that ended, or were dropped, with their cancellation
    /// token fired.
    pub cancelled: usize,
    /// Handlers of `held` that were released and returned.
    pub released: usize,
    /// Calls of `flood` that sent everything and returned.
    pub floods: usize,
}

/// The test's side of the hostile tools: what they did, and the gate `held` waits on.
#[derive(Clone, Debug)]
pub struct Controls {
    counts: Arc<watch::Sender<Counts>>,
    gate: Arc<Semaphore>,
}

impl Default for Controls {
    fn default() -> Self {
        Self::new()
    }
}

impl Controls {
    /// Controls with nothing counted and the gate closed.
    pub fn new() -> Self {
        Controls {
            counts: Arc::new(watch::Sender::new(Counts::default())),
            gate: Arc::new(Semaphore::new(0)),
        }
    }

    /// What the handlers did so far.
    pub fn counts(&self) -> Counts {
        *self.counts.borrow()
    }

    /// Lets `calls` waiting calls of `held` return.
    pub fn release(&self, calls: usize) {
        self.gate.add_permits(calls);
    }

    /// Waits until `condition` holds of the counts, for at most `limit`.
    ///
    /// # Panics
    ///
    /// Panics, naming `what` and the counts, when `limit` passes first.
    pub async fn wait_for(
        &self,
        what: &str,
        limit: Duration,
        condition: impl FnMut(&Counts) -> bool,
    ) -> Counts {
        let mut receiver = self.counts.subscribe();
        match tokio::time::timeout(limit, receiver.wait_for(condition)).await {
            Ok(Ok(counts)) => *counts,
            Ok(Err(_)) => unreachable!("the controls hold the sender"),
            Err(_) => panic!("waited {limit:?} for {what}; counts: {:?}", self.counts()),
        }
    }

    fn count(&self, change: impl FnOnce(&mut Counts)) {
        self.counts.send_modify(change);
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Nothing {}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Runs {
    /// Whether to send a log message tagged [`STARTED_TAG`] first.
    #[serde(default)]
    announce: bool,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Huge {
    bytes: u64,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Nested {
    depth: u32,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Flood {
    #[serde(default)]
    logs: u32,
    #[serde(default)]
    progress: u32,
    #[serde(default)]
    pad: u32,
    #[serde(default)]
    tag: String,
}

async fn panicking(_: Nothing) -> Result<String, ToolError> {
    panic!("{PANIC_MESSAGE}")
}

/// The hostile server and its controls, with the builder's defaults.
///
/// # Panics
///
/// Never: the tools' definitions are valid.
pub fn server() -> (Server, Controls) {
    let controls = Controls::new();
    let server = builder(&controls)
        .build()
        .expect("the hostile tools are valid");
    (server, controls)
}

/// A builder holding the hostile tools, wired to `controls`, for a test that configures the
/// server further (its engine's limits, more tools) before building it.
pub fn builder(controls: &Controls) -> ServerBuilder {
    let forever = controls.clone();
    let held = controls.clone();
    let flood = controls.clone();
    Server::builder("hostile", "1.0.0")
        .tool(Tool::typed("panic", panicking).description("Panics."))
        .tool(
            Tool::typed("huge", |arguments: Huge| async move {
                let bytes = usize::try_from(arguments.bytes)
                    .map_err(|_| ToolError::new("too many bytes for this machine"))?;
                Ok::<_, ToolError>(huge_text(bytes))
            })
            .description("Returns a text of the given size."),
        )
        .tool(
            Tool::typed("nested", |arguments: Nested| async move {
                let depth = arguments.depth.min(MAX_DEPTH);
                let mut value = json!([]);
                for _ in 1..depth {
                    value = Value::Array(vec![value]);
                }
                let mut structured = serde_json::Map::new();
                structured.insert("nested".to_owned(), value);
                let mut result = types::CallToolResult::new(Vec::new());
                result.structured_content = Some(structured);
                Ok::<_, ToolError>(result)
            })
            .description("Returns deeply nested arrays."),
        )
        .tool(
            Tool::typed("flood", move |arguments: Flood, context: Context| {
                let controls = flood.clone();
                async move {
                    let pad = "p".repeat(arguments.pad as usize);
                    let total = arguments.logs.max(arguments.progress);
                    for step in 0..total {
                        if step < arguments.logs {
                            let data = json!({"tag": arguments.tag, "seq": step, "pad": pad});
                            context
                                .log(types::LoggingLevel::Info, Some("flood"), data)
                                .await?;
                        }
                        if step < arguments.progress {
                            let total = f64::from(arguments.progress);
                            context
                                .progress(f64::from(step + 1), Some(total), None)
                                .await?;
                        }
                    }
                    controls.count(|counts| counts.floods += 1);
                    Ok::<_, ToolError>(format!("flooded {}", arguments.tag))
                }
            })
            .description("Sends many log messages and progress updates, then returns."),
        )
        .tool(
            Tool::typed("forever", move |arguments: Runs, context: Context| {
                let controls = forever.clone();
                async move {
                    let _running = Running::start(&controls, &context, arguments.announce).await;
                    context.cancellation().cancelled().await;
                    Ok::<_, ToolError>("cancelled")
                }
            })
            .description("Runs until cancelled."),
        )
        .tool(
            Tool::typed("held", move |arguments: Runs, context: Context| {
                let controls = held.clone();
                async move {
                    let _running = Running::start(&controls, &context, arguments.announce).await;
                    tokio::select! {
                        permit = controls.gate.acquire() => {
                            permit.expect("the gate is never closed").forget();
                            controls.count(|counts| counts.released += 1);
                            Ok::<_, ToolError>("released")
                        }
                        () = context.cancellation().cancelled() => Ok("cancelled"),
                    }
                }
            })
            .description("Runs until the test releases it."),
        )
}

/// A running call of `forever` or `held`: counted as started, and as cancelled when it ends
/// (returning, or dropped by a transport that drops a cancelled handler) with its
/// cancellation token fired.
struct Running {
    controls: Controls,
    cancelled: Box<dyn Fn() -> bool + Send>,
}

impl Running {
    /// Counts the call as started, after telling the client with a log message when
    /// `announce` asks for it (so that the client knows the call's stream is open).
    async fn start(controls: &Controls, context: &Context, announce: bool) -> Running {
        if announce {
            let data = json!({"tag": STARTED_TAG, "seq": 0});
            let _ = context
                .log(types::LoggingLevel::Info, Some("hostile"), data)
                .await;
        }
        controls.count(|counts| counts.started += 1);
        let token = context.cancellation().clone();
        Running {
            controls: controls.clone(),
            cancelled: Box::new(move || token.is_cancelled()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if (self.cancelled)() {
            self.controls.count(|counts| counts.cancelled += 1);
        }
    }
}
