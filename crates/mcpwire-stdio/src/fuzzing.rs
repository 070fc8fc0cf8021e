//! The entry point of the `stdio_framing` fuzz target, here so that the corpus replay test
//! runs exactly what the fuzzer runs.

use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use mcpwire_jsonrpc::ParseOptions;
use mcpwire_transport::{Inbound, MessageReceiver};
use tokio::io::{AsyncRead, ReadBuf};

use crate::{Limits, StdioReceiver};

/// Most messages read from one input: each consumes at least one byte of it, so this only
/// bounds the work of the comparison.
const MAX_MESSAGES: usize = 4096;

/// Frames the stream in `data` (after a header of three bytes) twice, read in one piece and
/// read in chunks whose sizes the header seeds, and checks that both give the same messages
/// and refusals, in the same order: framing does not depend on how the bytes arrive.
///
/// The header's first byte sets the line limit (so overlong lines are common), the second
/// whether batches are allowed, the third seeds the chunk sizes (1 to 16 bytes).
///
/// # Panics
///
/// Panics when the two readings differ, or when reading an in-memory stream would wait.
#[doc(hidden)]
pub fn fuzz_framing(data: &[u8]) {
    let [limit, batch, seed, stream @ ..] = data else {
        return;
    };
    let limits = Limits {
        max_line_bytes: 8 + usize::from(*limit) * 4,
        parse: ParseOptions {
            allow_batch: batch & 1 == 1,
            ..ParseOptions::default()
        },
    };
    let whole = read_all(stream, limits.clone(), None);
    let chunked = read_all(stream, limits, Some(*seed));
    assert_eq!(whole, chunked, "framing depends on chunk boundaries");
}

/// What the receiver reads from `stream`, each item written out so that two readings compare:
/// a message as its bytes, a refusal as its error.
fn read_all(stream: &[u8], limits: Limits, seed: Option<u8>) -> Vec<String> {
    let reader = Chunks {
        bytes: stream.to_vec(),
        read: 0,
        state: seed.map(|seed| u32::from(seed) | 1),
    };
    let mut receiver = StdioReceiver::with_limits(reader, limits);
    let mut items = Vec::new();
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..MAX_MESSAGES {
        let next = pin!(receiver.receive());
        let Poll::Ready(next) = next.poll(&mut context) else {
            panic!("reading an in-memory stream waited");
        };
        let item = match next {
            None => break,
            Some(Ok(Inbound::Message(message))) => {
                String::from_utf8_lossy(&message.to_vec()).into_owned()
            }
            Some(Ok(Inbound::Invalid(error))) => format!("invalid: {error}"),
            Some(Ok(Inbound::Failed { id, error })) => format!("failed {id}: {error}"),
            Some(Err(error)) => format!("error: {error}"),
        };
        items.push(item);
    }
    items
}

/// An in-memory reader that hands out its bytes in pieces: all at once without a seed, else
/// in chunks of 1 to 16 bytes drawn from a small xorshift generator.
struct Chunks {
    bytes: Vec<u8>,
    read: usize,
    state: Option<u32>,
}

impl AsyncRead for Chunks {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let left = self.bytes.len() - self.read;
        let size = match &mut self.state {
            None => left,
            Some(state) => {
                *state ^= *state << 13;
                *state ^= *state >> 17;
                *state ^= *state << 5;
                1 + (*state % 16) as usize
            }
        };
        let size = size.min(left).min(buffer.remaining());
        let start = self.read;
        buffer.put_slice(&self.bytes[start..start + size]);
        self.read += size;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_stream_frames_alike_in_any_chunks() {
        let mut data = vec![3, 1, 7];
        data.extend_from_slice(
            b"{\"jsonrpc\":\"2.0\",\"method\":\"a\"}\r\n\n  \n[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"b\"},1]\n",
        );
        data.extend_from_slice(&[b'x'; 200]);
        data.extend_from_slice(b"\n{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}");
        fuzz_framing(&data);
        let items = read_all(&data[3..], Limits::default(), Some(9));
        assert_eq!(items.len(), 4, "{items:?}");
        assert!(items[1].contains("batches are not supported"), "{items:?}");
    }
}
