//! Reading newline-terminated lines with a bound on the memory a line may take.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// What [`LineReader::next_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LineEvent<'a> {
    /// A complete line, without its `\n`; a `\r` before the `\n` is kept.
    Line(&'a [u8]),
    /// A line longer than the bound: its first `max_bytes` bytes. The rest of the line is
    /// skipped without being stored, and reading resumes after its `\n`.
    TooLong(&'a [u8]),
    /// The input ended in the middle of a line: the bytes after the last `\n`.
    Unterminated(&'a [u8]),
    /// The input ended at a line boundary, or after an unterminated or overlong line.
    End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Collecting the bytes of a line into `line`.
    Collecting,
    /// Skipping the rest of an overlong line, up to and including its `\n`.
    Skipping,
    /// The input ended or failed; nothing more is read.
    Finished,
}

/// Splits a byte stream into lines, keeping at most `max_bytes` bytes of any line in memory.
///
/// All state lives in the struct and changes only after a read has completed, so dropping a
/// [`next_line`](Self::next_line) future loses nothing.
#[derive(Debug)]
pub(crate) struct LineReader<R> {
    reader: BufReader<R>,
    /// The capacity of `reader`'s buffer.
    chunk_bytes: usize,
    line: Vec<u8>,
    max_bytes: usize,
    state: State,
    /// The last event handed out borrowed `line`; clear it before reading on.
    line_delivered: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    /// A reader that reads `reader` in chunks of `chunk_bytes` and keeps at most `max_bytes` of
    /// one line.
    pub(crate) fn new(reader: R, chunk_bytes: usize, max_bytes: usize) -> Self {
        LineReader {
            reader: BufReader::with_capacity(chunk_bytes, reader),
            chunk_bytes,
            line: Vec::new(),
            max_bytes,
            state: State::Collecting,
            line_delivered: false,
        }
    }

    /// Reads up to the end of the next line.
    ///
    /// # Errors
    ///
    /// Returns the error of the underlying reader; afterwards only [`LineEvent::End`] follows.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes already read stay in the reader's buffers.
    pub(crate) async fn next_line(&mut self) -> io::Result<LineEvent<'_>> {
        if std::mem::take(&mut self.line_delivered) {
            self.line.clear();
        }
        // Each turn either consumes at least one byte or ends the input, so the loop ends when
        // the input does.
        loop {
            if self.state == State::Finished {
                return Ok(LineEvent::End);
            }
            let available = match self.reader.fill_buf().await {
                Ok(available) => available,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.state = State::Finished;
                    self.line.clear();
                    return Err(error);
                }
            };
            if available.is_empty() {
                let previous = std::mem::replace(&mut self.state, State::Finished);
                if previous == State::Skipping || self.line.is_empty() {
                    return Ok(LineEvent::End);
                }
                self.line_delivered = true;
                return Ok(LineEvent::Unterminated(&self.line));
            }
            let newline = available.iter().position(|&byte| byte == b'\n');
            let content = newline.unwrap_or(available.len());
            let consumed = content + usize::from(newline.is_some());
            if self.state == State::Skipping {
                self.reader.consume(consumed);
                if newline.is_some() {
                    self.state = State::Collecting;
                }
                continue;
            }
            let room = self.max_bytes - self.line.len();
            if content > room {
                append_bounded(&mut self.line, &available[..room], self.max_bytes);
                self.reader.consume(consumed);
                if newline.is_none() {
                    self.state = State::Skipping;
                }
                self.line_delivered = true;
                return Ok(LineEvent::TooLong(&self.line));
            }
            append_bounded(&mut self.line, &available[..content], self.max_bytes);
            self.reader.consume(consumed);
            if newline.is_some() {
                self.line_delivered = true;
                return Ok(LineEvent::Line(&self.line));
            }
        }
    }

    /// The bytes of memory the reader holds for line data: the chunk buffer and the line.
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.chunk_bytes + self.line.capacity()
    }
}

/// Appends `bytes` to `line`, growing it geometrically but never past `max_bytes` of capacity.
///
/// The caller guarantees that `line.len() + bytes.len() <= max_bytes`.
fn append_bounded(line: &mut Vec<u8>, bytes: &[u8], max_bytes: usize) {
    let needed = line.len() + bytes.len();
    if needed > line.capacity() {
        // `Vec`'s own growth doubles, which would let a line of just over half the bound take
        // twice the bound; capping the target keeps the capacity within the bound.
        let target = needed.max(line.capacity().saturating_mul(2)).min(max_bytes);
        line.reserve_exact(target - line.len());
    }
    line.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn events(input: &[u8], chunk_bytes: usize, max_bytes: usize) -> Vec<String> {
        let mut reader = LineReader::new(input, chunk_bytes, max_bytes);
        let mut seen = Vec::new();
        for _ in 0..100 {
            let event = reader.next_line().await.expect("slices do not fail");
            let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
            match event {
                LineEvent::Line(bytes) => seen.push(format!("line {}", text(bytes))),
                LineEvent::TooLong(bytes) => seen.push(format!("long {}", text(bytes))),
                LineEvent::Unterminated(bytes) => seen.push(format!("tail {}", text(bytes))),
                LineEvent::End => return seen,
            }
        }
        panic!("the input should end within 100 events");
    }

    #[tokio::test]
    async fn lines_are_split_whatever_the_chunk_size() {
        for chunk_bytes in [1, 2, 3, 7, 64] {
            assert_eq!(
                events(b"ab\n\ncd\r\nef", chunk_bytes, 8).await,
                ["line ab", "line ", "line cd\r", "tail ef"],
                "chunks of {chunk_bytes} bytes"
            );
        }
    }

    #[tokio::test]
    async fn an_overlong_line_is_cut_and_skipped_to_its_newline() {
        for chunk_bytes in [1, 3, 5, 64] {
            assert_eq!(
                events(b"abcd\nabcdef\nxy\nabcdefgh", chunk_bytes, 4).await,
                ["line abcd", "long abcd", "line xy", "long abcd"],
                "chunks of {chunk_bytes} bytes"
            );
        }
    }

    #[test]
    fn growth_stops_at_the_bound() {
        let mut line = Vec::new();
        for _ in 0..10 {
            append_bounded(&mut line, &[0; 100], 1000);
        }
        assert_eq!(line.len(), 1000);
        assert_eq!(line.capacity(), 1000);
    }
}
