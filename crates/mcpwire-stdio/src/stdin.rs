//! This process's standard input, read on a thread of its own.

use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

/// How many bytes the reading thread asks stdin for at a time.
const READ_BYTES: usize = 64 * 1024;

/// How many chunks read may wait for the receiver. With one, the thread reads ahead by at most
/// one chunk while the receiver works through the previous one.
const QUEUED_CHUNKS: usize = 1;

/// This process's standard input as an [`AsyncRead`], read by a dedicated thread.
///
/// tokio's `io::stdin()` runs every read on the blocking thread pool, a hand-off
/// between threads for each read. Here one thread owns stdin for the life of the reader: it
/// blocks in `read` with a 64 KiB buffer and hands each chunk it read (at most 64 KiB, and one
/// chunk at a time) to the reader through a bounded queue, so memory stays bounded whatever
/// the peer sends.
///
/// The thread ends at end of input, after a read error, or at its next read once the reader is
/// dropped. Nothing waits for it: a process can exit while it is blocked in a read.
#[derive(Debug)]
pub struct StdinReader {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    /// The chunk being handed out, and how much of it has been.
    current: Vec<u8>,
    position: usize,
    /// The thread has ended: end of input, or an error already returned.
    finished: bool,
}

impl StdinReader {
    /// Starts the thread that reads stdin. When the operating system cannot start a thread,
    /// the first read returns that error.
    pub fn new() -> Self {
        let (sender, chunks) = mpsc::channel(QUEUED_CHUNKS);
        let failure = sender.clone();
        if let Err(error) = std::thread::Builder::new()
            .name("mcpwire-stdin".to_owned())
            .spawn(move || read_stdin(&sender))
        {
            // The queue is empty, so there is room for the error.
            let _ = failure.try_send(Err(error));
        }
        StdinReader {
            chunks,
            current: Vec::new(),
            position: 0,
            finished: false,
        }
    }
}

impl Default for StdinReader {
    fn default() -> Self {
        Self::new()
    }
}

/// Reads stdin until its end, an error, or the reader going away.
fn read_stdin(sender: &mpsc::Sender<io::Result<Vec<u8>>>) {
    let mut stdin = io::stdin().lock();
    let mut buffer = vec![0; READ_BYTES];
    loop {
        let chunk = match stdin.read(&mut buffer) {
            // End of input: dropping the sender tells the reader.
            Ok(0) => return,
            Ok(read) => Ok(buffer[..read].to_vec()),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => Err(error),
        };
        let failed = chunk.is_err();
        if sender.blocking_send(chunk).is_err() || failed {
            return;
        }
    }
}

impl AsyncRead for StdinReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.position == this.current.len() {
            if this.finished {
                return Poll::Ready(Ok(()));
            }
            match this.chunks.poll_recv(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    this.current = chunk;
                    this.position = 0;
                }
                Poll::Ready(Some(Err(error))) => {
                    this.finished = true;
                    return Poll::Ready(Err(error));
                }
                Poll::Ready(None) => {
                    this.finished = true;
                    return Poll::Ready(Ok(()));
                }
            }
        }
        let available = &this.current[this.position..];
        let taken = available.len().min(buffer.remaining());
        buffer.put_slice(&available[..taken]);
        this.position += taken;
        Poll::Ready(Ok(()))
    }
}
