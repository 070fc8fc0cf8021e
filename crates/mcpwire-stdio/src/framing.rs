//! Newline-delimited JSON-RPC over a pair of byte streams.

use std::collections::VecDeque;
use std::io;

use mcpwire_jsonrpc::{Message, ParseOptions, Parsed};
use mcpwire_transport::{Error, Inbound, MessageReceiver, MessageSender, SendOptions, Transport};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::Limits;
use crate::line::{LineEvent, LineReader};

/// How many bytes the receiver asks the reader for at a time.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// The stdio framing over any reader and writer: one JSON-RPC message per line.
///
/// Messages are read from `R` and written to `W`. [`stdio`](crate::stdio) makes one over the
/// process's own stdin and stdout; any other pair works too (pipes, sockets, in-memory
/// streams). See the [crate documentation](crate) for the framing rules.
///
/// # Examples
///
/// ```
/// use mcpwire_jsonrpc::{Message, Notification};
/// use mcpwire_stdio::StdioTransport;
/// use mcpwire_transport::{Inbound, MessageReceiver, MessageSender, SendOptions, Transport};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (left, right) = tokio::io::duplex(1024);
/// let (left_read, left_write) = tokio::io::split(left);
/// let (right_read, right_write) = tokio::io::split(right);
/// let (mut sender, _) = StdioTransport::new(left_read, left_write).split();
/// let (_, mut receiver) = StdioTransport::new(right_read, right_write).split();
///
/// let message = Message::from(Notification::new("notifications/initialized", None));
/// sender.send(message.clone(), SendOptions::default()).await.unwrap();
/// let Some(Ok(Inbound::Message(received))) = receiver.receive().await else {
///     panic!("the message crosses the pipe");
/// };
/// assert_eq!(received, message);
/// # });
/// ```
#[derive(Debug)]
pub struct StdioTransport<R, W> {
    sender: StdioSender<W>,
    receiver: StdioReceiver<R>,
}

impl<R, W> StdioTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    /// Frames messages read from `reader` and written to `writer`, with the default
    /// [`Limits`].
    pub fn new(reader: R, writer: W) -> Self {
        Self::with_limits(reader, writer, Limits::default())
    }

    /// Frames messages read from `reader` and written to `writer`, reading with `limits`.
    pub fn with_limits(reader: R, writer: W, limits: Limits) -> Self {
        StdioTransport {
            sender: StdioSender::new(writer),
            receiver: StdioReceiver::with_limits(reader, limits),
        }
    }
}

impl<R, W> Transport for StdioTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Sender = StdioSender<W>;
    type Receiver = StdioReceiver<R>;

    fn split(self) -> (StdioSender<W>, StdioReceiver<R>) {
        (self.sender, self.receiver)
    }
}

/// The sending half of the stdio framing: writes each message as one line and flushes it.
#[derive(Debug)]
pub struct StdioSender<W> {
    /// `None` once closed, or after a failed write left a partial line behind.
    writer: Option<W>,
}

impl<W: AsyncWrite + Unpin + Send + 'static> StdioSender<W> {
    /// A sender that writes to `writer`.
    pub fn new(writer: W) -> Self {
        StdioSender {
            writer: Some(writer),
        }
    }
}

impl<W: AsyncWrite + Unpin + Send + 'static> MessageSender for StdioSender<W> {
    /// Writes `message` as compact JSON followed by `\n`, then flushes the writer.
    ///
    /// # Errors
    ///
    /// [`Error::is_closed`] after [`close`](MessageSender::close), after an earlier failed
    /// write, or when the reading end of a pipe has gone away; [`Error::is_io`] for other
    /// failures of the writer. A failed write may leave part of a line behind, so the sender
    /// refuses every later message.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future may leave part of a line written.
    async fn send(&mut self, message: Message, _options: SendOptions) -> Result<(), Error> {
        let writer = self.writer.as_mut().ok_or_else(Error::closed)?;
        let line = encode_line(&message);
        let written = async {
            writer.write_all(&line).await?;
            writer.flush().await
        }
        .await;
        if let Err(error) = written {
            self.writer = None;
            return Err(write_error(error));
        }
        Ok(())
    }

    /// Flushes and shuts the writer down, then drops it, which closes a pipe. Closing twice
    /// does nothing.
    ///
    /// # Errors
    ///
    /// Fails when flushing or shutting down fails; the writer is dropped either way.
    async fn close(&mut self) -> Result<(), Error> {
        let Some(mut writer) = self.writer.take() else {
            return Ok(());
        };
        writer.flush().await.map_err(write_error)?;
        writer.shutdown().await.map_err(write_error)
    }
}

pub(crate) fn write_error(error: io::Error) -> Error {
    // A broken pipe means the peer stopped reading: for the engine that is a closed transport.
    if error.kind() == io::ErrorKind::BrokenPipe {
        Error::closed()
    } else {
        Error::io(error)
    }
}

/// Serializes `message` as one line: compact JSON with no raw line break, then `\n`.
///
/// serde_json escapes every control character inside strings, so the only raw `\n` or `\r`
/// the output can hold is whitespace between tokens inside raw params or results that were
/// built from pretty-printed text; replacing it with a space keeps the JSON equal. U+2028 and
/// U+2029 can only occur inside strings (everything outside strings is ASCII); they are valid
/// JSON there, but some line readers treat them as line breaks, so they are written as the
/// escapes `\u2028` and `\u2029`, which decode to the same strings.
pub(crate) fn encode_line(message: &Message) -> Vec<u8> {
    let mut bytes = message.to_vec();
    for byte in &mut bytes {
        if *byte == b'\n' || *byte == b'\r' {
            *byte = b' ';
        }
    }
    let mut line = if bytes.windows(3).any(is_unicode_line_break) {
        escape_unicode_line_breaks(&bytes)
    } else {
        bytes
    };
    line.push(b'\n');
    line
}

/// Whether `window` is the UTF-8 encoding of U+2028 or U+2029.
fn is_unicode_line_break(window: &[u8]) -> bool {
    matches!(window, [0xE2, 0x80, 0xA8 | 0xA9])
}

fn escape_unicode_line_breaks(bytes: &[u8]) -> Vec<u8> {
    let mut escaped = Vec::with_capacity(bytes.len() + 16);
    let mut index = 0;
    while index < bytes.len() {
        match bytes.get(index..index + 3) {
            Some(window) if is_unicode_line_break(window) => {
                escaped.extend_from_slice(if window[2] == 0xA8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                });
                index += 3;
            }
            _ => {
                escaped.push(bytes[index]);
                index += 1;
            }
        }
    }
    escaped
}

/// The receiving half of the stdio framing: reads one message per line.
///
/// Memory is bounded by [`Limits`]: the receiver holds at most one line of the accepted size
/// plus a 64 KiB read buffer, and skips longer lines without storing them.
#[derive(Debug)]
pub struct StdioReceiver<R> {
    lines: LineReader<R>,
    /// The parser's options, with `max_size` lowered to the line limit.
    parse: ParseOptions,
    /// Elements of a batch not yet handed out; a batch fits in one line, so this is bounded
    /// by the line limit too.
    queued: VecDeque<Inbound>,
}

impl<R: AsyncRead + Unpin + Send + 'static> StdioReceiver<R> {
    /// A receiver that reads `reader` with the default [`Limits`].
    pub fn new(reader: R) -> Self {
        Self::with_limits(reader, Limits::default())
    }

    /// A receiver that reads `reader` with `limits`.
    pub fn with_limits(reader: R, limits: Limits) -> Self {
        let line_limit = limits.line_limit();
        let parse = ParseOptions {
            max_size: line_limit,
            ..limits.parse
        };
        // One byte more than the limit is kept so that a `\r` before the `\n` does not count
        // against it, and so that an overlong line can be shown to the parser as too large.
        let max_bytes = line_limit.saturating_add(1);
        StdioReceiver {
            lines: LineReader::new(reader, READ_CHUNK_BYTES, max_bytes),
            parse,
            queued: VecDeque::new(),
        }
    }

    /// The bytes of memory held for incoming data; for tests of the memory bound.
    #[doc(hidden)]
    pub fn buffer_capacity(&self) -> usize {
        self.lines.buffer_capacity()
    }
}

impl<R: AsyncRead + Unpin + Send + 'static> MessageReceiver for StdioReceiver<R> {
    /// Reads the next message.
    ///
    /// Blank lines are skipped. A line that is not a valid message, including one over the
    /// size limit and one that is not UTF-8, is an [`Inbound::Invalid`], and reading goes on
    /// with the next line. When the input ends in the middle of a line, that last line is
    /// parsed like any other: a complete message is delivered, a truncated one is an
    /// [`Inbound::Invalid`]. Then `None` follows.
    ///
    /// # Errors
    ///
    /// An error of the reader is returned once as [`Error::is_io`]; `None` follows.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: partial lines and unread batch elements stay in the receiver.
    async fn receive(&mut self) -> Option<Result<Inbound, Error>> {
        if let Some(inbound) = self.queued.pop_front() {
            return Some(Ok(inbound));
        }
        // Each turn consumes one line of input, so the loop ends when the input does.
        loop {
            let line = match self.lines.next_line().await {
                Err(error) => return Some(Err(Error::io(error))),
                Ok(LineEvent::End) => return None,
                Ok(LineEvent::TooLong(head)) => {
                    // `head` is one byte longer than `parse.max_size`, so the parser refuses
                    // it on size alone and names the limit.
                    let error = mcpwire_jsonrpc::parse(head, &self.parse)
                        .expect_err("a line longer than max_size is refused");
                    tracing::debug!(%error, "skipping an overlong line");
                    return Some(Ok(Inbound::Invalid(error)));
                }
                Ok(LineEvent::Line(line)) => line,
                Ok(LineEvent::Unterminated(line)) => {
                    tracing::debug!(bytes = line.len(), "the input ended inside a line");
                    line
                }
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line
                .iter()
                .all(|&byte| matches!(byte, b' ' | b'\t' | b'\r'))
            {
                continue;
            }
            return Some(Ok(match mcpwire_jsonrpc::parse(line, &self.parse) {
                Ok(Parsed::Single(message)) => Inbound::Message(message),
                Ok(Parsed::Batch(elements)) => {
                    self.queued
                        .extend(elements.into_iter().map(|element| match element {
                            Ok(message) => Inbound::Message(message),
                            Err(error) => Inbound::Invalid(error),
                        }));
                    match self.queued.pop_front() {
                        Some(first) => first,
                        // The parser refuses an empty batch, so there is always a first one.
                        None => continue,
                    }
                }
                Err(error) => Inbound::Invalid(error),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use mcpwire_jsonrpc::{Notification, Request, RequestId};

    use super::*;

    #[test]
    fn a_line_is_compact_json_and_one_newline() {
        let message = Message::from(Request::new(RequestId::from(7), "ping", None));
        assert_eq!(
            encode_line(&message),
            b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\n"
        );
    }

    #[test]
    fn unicode_line_breaks_are_escaped() {
        let bytes = "{\"a\":\"x\u{2028}y\u{2029}z\u{2027}\"}".as_bytes();
        assert_eq!(
            escape_unicode_line_breaks(bytes),
            "{\"a\":\"x\\u2028y\\u2029z\u{2027}\"}".as_bytes()
        );
    }

    #[test]
    fn raw_whitespace_line_breaks_become_spaces() {
        let params = serde_json_raw("{\r\n  \"a\": 1\n}");
        let message = Message::from(Notification::new("n", Some(params)));
        let line = encode_line(&message);
        assert_eq!(
            line,
            b"{\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":{    \"a\": 1 }}\n"
        );
    }

    fn serde_json_raw(text: &str) -> Box<serde_json::value::RawValue> {
        serde_json::value::RawValue::from_string(text.to_owned()).expect("valid JSON")
    }
}
