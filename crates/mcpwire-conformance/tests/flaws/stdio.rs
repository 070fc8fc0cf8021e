//! Flaws of the stdio transport, played by a small Python server (`stdio_server.py`) that
//! breaks one rule per flaw.

/// Check and the flaw that must make it fail.
pub(crate) const CASES: &[(&str, &str)] = &[
    ("stdio/only-messages-on-stdout", "log-on-stdout"),
    ("stdio/one-message-per-line", "pretty"),
    ("stdio/one-message-per-line", "two-per-line"),
    ("stdio/pipelined-requests", "drops-pipelined"),
    ("stdio/exits-when-stdin-closes", "ignores-eof"),
    ("stdio/quiet-before-initialized", "early-request"),
];
