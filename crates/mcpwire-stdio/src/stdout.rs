//! This process's standard output, written on a thread of its own.

use std::io::{self, Write};

use mcpwire_jsonrpc::Message;
use mcpwire_transport::{Error, MessageSender, SendOptions};
use tokio::sync::{mpsc, oneshot};

use crate::framing::{encode_line, write_error};

/// How many encoded lines may wait for the writing thread.
const QUEUED_LINES: usize = 64;

/// The most bytes of lines gathered into one write; a longer line is written on its own.
const BATCH_BYTES: usize = 64 * 1024;

/// The sending half of [`stdio`](crate::stdio): writes each message as one line to this
/// process's stdout, from a dedicated thread.
///
/// `send` encodes the line and queues it (at most 64 lines wait); the thread writes what is
/// queued with one write, up to 64 KiB at a time, and flushes whenever the queue runs dry. A
/// message is therefore never held back while nothing follows it, and a burst of responses
/// costs one system call instead of one per message and no hand-off to the blocking thread
/// pool.
#[derive(Debug)]
pub struct StdoutSender {
    /// `None` once closed or once the thread has failed.
    lines: Option<mpsc::Sender<Vec<u8>>>,
    /// Fires when the thread has ended, with its write error if it failed; `None` once read.
    done: Option<oneshot::Receiver<io::Result<()>>>,
}

impl StdoutSender {
    /// Starts the thread that writes stdout. When the operating system cannot start a
    /// thread, the first send returns that error.
    pub fn new() -> Self {
        let (lines, queue) = mpsc::channel(QUEUED_LINES);
        let (finished, done) = oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("mcpwire-stdout".to_owned())
            .spawn(move || {
                let outcome = write_stdout(queue);
                let _ = finished.send(outcome);
            });
        let done = match spawned {
            Ok(_) => done,
            Err(error) => {
                // The thread's closure, and the queue's receiver with it, were dropped: the
                // first send fails and reports this error.
                let (finished, done) = oneshot::channel();
                let _ = finished.send(Err(error));
                done
            }
        };
        StdoutSender {
            lines: Some(lines),
            done: Some(done),
        }
    }

    /// Waits for the thread to end and returns how it ended. Only the first call can see a
    /// failure.
    async fn finish(&mut self) -> Result<(), Error> {
        let Some(done) = self.done.take() else {
            return Err(Error::closed());
        };
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(write_error(error)),
            // The thread ended without reporting, which only a panic does.
            Err(_) => Err(Error::closed()),
        }
    }
}

impl Default for StdoutSender {
    fn default() -> Self {
        Self::new()
    }
}

impl MessageSender for StdoutSender {
    /// Queues `message` as compact JSON followed by `\n` for the writing thread, waiting for
    /// room in the queue.
    ///
    /// # Errors
    ///
    /// [`Error::is_closed`] after [`close`](MessageSender::close), after a failed write, or
    /// when the reading end of stdout has gone away; [`Error::is_io`] once for another failure
    /// of a write. A write fails while earlier messages may still be queued, so the failure is
    /// reported by the next send, or by `close`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a message is queued whole or not at all.
    async fn send(&mut self, message: Message, _options: SendOptions) -> Result<(), Error> {
        let lines = self.lines.as_ref().ok_or_else(Error::closed)?;
        if lines.send(encode_line(&message)).await.is_ok() {
            return Ok(());
        }
        // The thread has stopped reading the queue, which it does only after a failed write.
        self.lines = None;
        match self.finish().await {
            Ok(()) => Err(Error::closed()),
            Err(error) => Err(error),
        }
    }

    /// Waits until every queued message is written and flushed, then lets the thread end.
    /// Closing twice does nothing. Stdout itself stays open, as it belongs to the process.
    ///
    /// # Errors
    ///
    /// Fails when a write or the flush failed and no send reported it yet.
    async fn close(&mut self) -> Result<(), Error> {
        // Dropping the queue's sender ends the thread once it has written what is queued.
        if self.lines.take().is_none() && self.done.is_none() {
            return Ok(());
        }
        self.finish().await
    }
}

/// Writes the queued lines to stdout until the queue's sender is dropped or a write fails.
fn write_stdout(mut queue: mpsc::Receiver<Vec<u8>>) -> io::Result<()> {
    let mut batch = Vec::with_capacity(BATCH_BYTES);
    while let Some(first) = queue.blocking_recv() {
        let stdout = io::stdout();
        // Locked for one batch only, so that a stray write elsewhere interleaves between lines
        // at worst and does not wait forever.
        let mut stdout = stdout.lock();
        let mut next = Some(first);
        while let Some(line) = next {
            if batch.len() + line.len() > BATCH_BYTES && !batch.is_empty() {
                stdout.write_all(&batch)?;
                batch.clear();
            }
            if line.len() > BATCH_BYTES {
                stdout.write_all(&line)?;
            } else {
                batch.extend_from_slice(&line);
            }
            next = queue.try_recv().ok();
        }
        if !batch.is_empty() {
            stdout.write_all(&batch)?;
            batch.clear();
        }
        stdout.flush()?;
    }
    Ok(())
}
