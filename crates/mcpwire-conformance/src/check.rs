//! What a check is: the requirement it tests, what it needs from the server, and the code
//! that looks at the wire.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::context::Ctx;
use crate::target::Transport;

/// The area of the spec a check belongs to; the report groups checks by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    /// Version negotiation, `initialize`, capabilities.
    Lifecycle,
    /// JSON-RPC framing and error codes.
    JsonRpc,
    /// The stdio transport.
    Stdio,
    /// The Streamable HTTP transport.
    Http,
    /// Ping, cancellation, progress, pagination.
    Utilities,
    /// Tools.
    Tools,
    /// Resources and resource templates.
    Resources,
    /// Prompts.
    Prompts,
    /// Completion.
    Completion,
    /// Logging.
    Logging,
    /// The modern (2026-07-28) era's own rules.
    Modern,
    /// Authorization of a protected server.
    Authorization,
    /// The official suite's scenarios, for servers with its fixtures.
    Fixtures,
    /// Client mode: what a client sends to the suite's mock servers.
    Client,
}

impl Area {
    /// Every area, in report order.
    pub const ALL: [Area; 14] = [
        Area::Lifecycle,
        Area::JsonRpc,
        Area::Stdio,
        Area::Http,
        Area::Utilities,
        Area::Tools,
        Area::Resources,
        Area::Prompts,
        Area::Completion,
        Area::Logging,
        Area::Modern,
        Area::Authorization,
        Area::Fixtures,
        Area::Client,
    ];

    /// The area's name, as in check ids.
    pub fn name(self) -> &'static str {
        match self {
            Area::Lifecycle => "lifecycle",
            Area::JsonRpc => "json-rpc",
            Area::Stdio => "stdio",
            Area::Http => "http",
            Area::Utilities => "utilities",
            Area::Tools => "tools",
            Area::Resources => "resources",
            Area::Prompts => "prompts",
            Area::Completion => "completion",
            Area::Logging => "logging",
            Area::Modern => "modern",
            Area::Authorization => "authorization",
            Area::Fixtures => "fixtures",
            Area::Client => "client",
        }
    }
}

/// How strong the requirement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// MUST, MUST NOT, REQUIRED: a violation fails.
    Must,
    /// SHOULD, SHOULD NOT, RECOMMENDED: a violation warns.
    Should,
}

/// Where a requirement is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// The revision of the spec, e.g. `2025-11-25`.
    pub revision: &'static str,
    /// The page and section, e.g. `basic/transports §Session Management`.
    pub page: &'static str,
    /// MUST or SHOULD.
    pub level: Level,
    /// The number in the inventory of numbered requirements, when it has one.
    pub number: Option<u16>,
    /// The sentence of the spec, or its substance.
    pub text: &'static str,
}

/// Which era a check speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EraNeed {
    /// A legacy session (`initialize`).
    Legacy,
    /// Modern requests (2026-07-28).
    Modern,
    /// Neither in particular: the check runs once, in the first era the server speaks (or
    /// in none, when it needs no session).
    Any,
    /// Each era the server speaks: the check runs once per era, its id suffixed with
    /// `@legacy` or `@modern`.
    Each,
}

/// What a check did, before its requirement's level is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The requirement holds; what was seen.
    Pass(String),
    /// The requirement is broken; what was seen. Fails a MUST, warns for a SHOULD.
    Violated(String),
    /// Something worth knowing that breaks no requirement of the check's level.
    Warn(String),
    /// The check could not apply; why.
    Skip(String),
}

impl From<String> for Outcome {
    /// A failure of the wire (no answer, a closed connection) breaks the requirement.
    fn from(seen: String) -> Outcome {
        Outcome::Violated(seen)
    }
}

/// What a check's code returns: `?` turns a wire error into a violation.
pub type Checked = Result<Outcome, Outcome>;

/// A check's code.
pub type RunFn = for<'a> fn(&'a mut Ctx) -> Pin<Box<dyn Future<Output = Checked> + Send + 'a>>;

/// Turns an `async fn(&mut Ctx) -> Checked` into a [`RunFn`].
#[macro_export]
#[doc(hidden)]
macro_rules! run_fn {
    ($function:path) => {{
        fn run<'a>(
            ctx: &'a mut $crate::Ctx,
        ) -> ::std::pin::Pin<
            ::std::boxed::Box<
                dyn ::std::future::Future<Output = $crate::check::Checked> + Send + 'a,
            >,
        > {
            ::std::boxed::Box::pin($function(ctx))
        }
        run as $crate::check::RunFn
    }};
}

/// One check of the suite.
#[derive(Clone)]
pub struct Check {
    /// A stable id, `<area>/<name>`, used by `--scenario` and baselines.
    pub id: &'static str,
    /// The area.
    pub area: Area,
    /// What it checks, in a few words.
    pub title: &'static str,
    /// The requirement it tests.
    pub requirement: Requirement,
    /// The era it speaks.
    pub era: EraNeed,
    /// The one transport it needs, if any.
    pub transport: Option<Transport>,
    /// Whether it calls a tool (only with `call_tools`, or a tool annotated read-only).
    pub calls_tools: bool,
    /// Whether the official suite makes this check too (fixture scenarios).
    pub official: bool,
    /// The code.
    pub run: RunFn,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("id", &self.id)
            .field("area", &self.area)
            .field("era", &self.era)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Requirement`] of a MUST.
pub const fn must(
    revision: &'static str,
    page: &'static str,
    number: Option<u16>,
    text: &'static str,
) -> Requirement {
    Requirement {
        revision,
        page,
        level: Level::Must,
        number,
        text,
    }
}

/// Builds a [`Requirement`] of a SHOULD.
pub const fn should(
    revision: &'static str,
    page: &'static str,
    number: Option<u16>,
    text: &'static str,
) -> Requirement {
    Requirement {
        revision,
        page,
        level: Level::Should,
        number,
        text,
    }
}

impl Check {
    /// A check of `area` that speaks `era` over any transport.
    pub fn new(
        id: &'static str,
        area: Area,
        era: EraNeed,
        title: &'static str,
        requirement: Requirement,
        run: RunFn,
    ) -> Check {
        Check {
            id,
            area,
            title,
            requirement,
            era,
            transport: None,
            calls_tools: false,
            official: false,
            run,
        }
    }

    /// Only over `transport`.
    #[must_use]
    pub fn over(mut self, transport: Transport) -> Check {
        self.transport = Some(transport);
        self
    }

    /// Calls tools.
    #[must_use]
    pub fn calling_tools(mut self) -> Check {
        self.calls_tools = true;
        self
    }

    /// One of the official suite's checks.
    #[must_use]
    pub fn official(mut self) -> Check {
        self.official = true;
        self
    }
}
