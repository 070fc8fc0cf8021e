//! The bounds of the stdio framing.

use mcpwire_jsonrpc::{DEFAULT_MAX_SIZE, ParseOptions};

/// The bounds a [`StdioReceiver`](crate::StdioReceiver) reads with.
///
/// A line is one message. The longest line accepted is the smaller of
/// [`max_line_bytes`](Self::max_line_bytes) and the parser's
/// [`ParseOptions::max_size`], counted without the line ending (`\n` or `\r\n`). A longer line
/// is reported as a `-32700` parse error and skipped without being buffered, so a peer cannot
/// make the receiver hold more than that many bytes of one line.
///
/// # Examples
///
/// ```
/// use mcpwire_stdio::Limits;
///
/// let limits = Limits { max_line_bytes: 64 * 1024, ..Limits::default() };
/// assert!(!limits.parse.allow_batch);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest line accepted, in bytes, without its line ending. Defaults to
    /// [`Limits::DEFAULT_MAX_LINE_BYTES`].
    pub max_line_bytes: usize,
    /// How each line is parsed: size, nesting depth and batches. Defaults to
    /// [`ParseOptions::default`], which refuses batches.
    pub parse: ParseOptions,
}

impl Limits {
    /// Default for [`Limits::max_line_bytes`]: 4 MiB, the same as the envelope parser's
    /// default [`ParseOptions::max_size`].
    pub const DEFAULT_MAX_LINE_BYTES: usize = DEFAULT_MAX_SIZE;

    /// The longest line accepted: the stricter of the two size limits.
    pub(crate) fn line_limit(&self) -> usize {
        self.max_line_bytes.min(self.parse.max_size)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: Self::DEFAULT_MAX_LINE_BYTES,
            parse: ParseOptions::default(),
        }
    }
}
