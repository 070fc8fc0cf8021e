//! What the suite tests: a server at a URL, or a server command to start over stdio.

pub use crate::wire::stdio::StdioCommand;

/// The server under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Streamable HTTP endpoint, e.g. `http://127.0.0.1:3000/mcp`.
    Http {
        /// The endpoint's URL.
        url: String,
    },
    /// A command whose process speaks MCP over its stdin and stdout. The suite starts it as
    /// often as its checks need a fresh server, directly, never through a shell.
    Stdio(StdioCommand),
}

impl Target {
    /// An HTTP endpoint.
    pub fn http(url: impl Into<String>) -> Target {
        Target::Http { url: url.into() }
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
            Target::Stdio(_) => Transport::Stdio,
        }
    }

    /// How the report names the target.
    pub fn describe(&self) -> String {
        match self {
            Target::Http { url } => url.clone(),
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
    /// stdio.
    Stdio,
}
