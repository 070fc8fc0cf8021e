//! What the suite tests: a server at a URL, or a server command to start over stdio.

pub use crate::wire::stdio::StdioCommand;

/// The server under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Streamable HTTP endpoint, e.g. `http://127.0.0.1:3000/mcp`.
    Http {
        /// The endpoint's URL.
        url: String,
        /// The access token every request carries (`Authorization: Bearer`), for a protected
        /// server; the checks of authorization also send requests without it.
        bearer: Option<Bearer>,
    },
    /// An endpoint of the HTTP+SSE transport of 2024-11-05 (an event stream whose `endpoint`
    /// event names where to post), e.g. `http://127.0.0.1:3000/sse`. A run against an
    /// [`Http`](Target::Http) target whose server speaks only this transport switches to it.
    HttpSse {
        /// The URL of the event stream.
        url: String,
        /// The access token every request carries, if any.
        bearer: Option<Bearer>,
    },
    /// A command whose process speaks MCP over its stdin and stdout. The suite starts it as
    /// often as its checks need a fresh server, directly, never through a shell.
    Stdio(StdioCommand),
}

impl Target {
    /// An HTTP endpoint.
    pub fn http(url: impl Into<String>) -> Target {
        Target::Http {
            url: url.into(),
            bearer: None,
        }
    }

    /// The same target, with requests carrying `token` as their bearer access token (an
    /// HTTP target only; a stdio one is returned as it is).
    #[must_use]
    pub fn with_bearer(self, token: impl Into<String>) -> Target {
        match self {
            Target::Http { url, .. } => Target::Http {
                url,
                bearer: Some(Bearer(token.into())),
            },
            Target::HttpSse { url, .. } => Target::HttpSse {
                url,
                bearer: Some(Bearer(token.into())),
            },
            stdio @ Target::Stdio(_) => stdio,
        }
    }

    /// The access token of an HTTP target, if it has one.
    pub fn bearer(&self) -> Option<&Bearer> {
        match self {
            Target::Http { bearer, .. } | Target::HttpSse { bearer, .. } => bearer.as_ref(),
            Target::Stdio(_) => None,
        }
    }

    /// A stdio command: `argv[0]` and its arguments.
    pub fn stdio<I, S>(argv: I) -> Option<Target>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut argv = argv.into_iter().map(Into::into);
        let program = argv.next()?;
        Some(Target::Stdio(StdioCommand {
            program,
            args: argv.collect(),
            env: Vec::new(),
        }))
    }

    /// Which transport the target speaks.
    pub fn transport(&self) -> Transport {
        match self {
            Target::Http { .. } => Transport::Http,
            Target::HttpSse { .. } => Transport::HttpSse,
            Target::Stdio(_) => Transport::Stdio,
        }
    }

    /// How the report names the target.
    pub fn describe(&self) -> String {
        match self {
            Target::Http { url, .. } => url.clone(),
            Target::HttpSse { url, .. } => format!("{url} (HTTP+SSE)"),
            Target::Stdio(command) => {
                let mut text = command.program.clone();
                for arg in &command.args {
                    text.push(' ');
                    text.push_str(arg);
                }
                text
            }
        }
    }
}

/// A transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Streamable HTTP.
    Http,
    /// The HTTP+SSE transport of 2024-11-05.
    HttpSse,
    /// stdio.
    Stdio,
}

/// An access token: kept out of `Debug` output, reports and errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Bearer(String);

impl Bearer {
    /// The token, to put in a request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Bearer(…)")
    }
}
