//! An in-memory transport pair over bounded channels.

use mcpwire_jsonrpc::Message;
use tokio::sync::mpsc;

use crate::{Error, Inbound, MessageReceiver, MessageSender, SendOptions, Transport};

/// Creates two connected in-memory transports: what one sends, the other receives.
///
/// Each direction buffers at most `capacity` messages; a sender waits when the buffer is full,
/// so a slow reader slows the writer down instead of growing memory.
///
/// # Panics
///
/// Panics when `capacity` is zero.
pub fn duplex(capacity: usize) -> (MemoryTransport, MemoryTransport) {
    let (left_sender, right_receiver) = mpsc::channel(capacity);
    let (right_sender, left_receiver) = mpsc::channel(capacity);
    (
        MemoryTransport {
            sender: MemorySender {
                channel: Some(left_sender),
            },
            receiver: MemoryReceiver {
                channel: left_receiver,
            },
        },
        MemoryTransport {
            sender: MemorySender {
                channel: Some(right_sender),
            },
            receiver: MemoryReceiver {
                channel: right_receiver,
            },
        },
    )
}

/// One end of an in-memory pair made by [`duplex`].
#[derive(Debug)]
pub struct MemoryTransport {
    sender: MemorySender,
    receiver: MemoryReceiver,
}

impl Transport for MemoryTransport {
    type Sender = MemorySender;
    type Receiver = MemoryReceiver;

    fn split(self) -> (MemorySender, MemoryReceiver) {
        (self.sender, self.receiver)
    }
}

/// The sending half of a [`MemoryTransport`].
#[derive(Debug)]
pub struct MemorySender {
    channel: Option<mpsc::Sender<Message>>,
}

impl MessageSender for MemorySender {
    async fn send(&mut self, message: Message, _options: SendOptions) -> Result<(), Error> {
        let channel = self.channel.as_ref().ok_or_else(Error::closed)?;
        channel.send(message).await.map_err(|_| Error::closed())
    }

    async fn close(&mut self) -> Result<(), Error> {
        self.channel = None;
        Ok(())
    }
}

/// The receiving half of a [`MemoryTransport`].
#[derive(Debug)]
pub struct MemoryReceiver {
    channel: mpsc::Receiver<Message>,
}

impl MessageReceiver for MemoryReceiver {
    async fn receive(&mut self) -> Option<Result<Inbound, Error>> {
        self.channel
            .recv()
            .await
            .map(|message| Ok(Inbound::Message(message)))
    }
}

#[cfg(test)]
mod tests {
    use mcpwire_jsonrpc::{Notification, Request, RequestId};

    use super::*;

    fn request(id: i64) -> Message {
        Message::from(Request::new(RequestId::from(id), "ping", None))
    }

    #[tokio::test]
    async fn messages_arrive_in_order_in_both_directions() {
        let (left, right) = duplex(4);
        let (mut left_sender, mut left_receiver) = left.split();
        let (mut right_sender, mut right_receiver) = right.split();
        for id in 0..3 {
            left_sender
                .send(request(id), SendOptions::default())
                .await
                .expect("sends");
        }
        for id in 0..3 {
            let Some(Ok(Inbound::Message(message))) = right_receiver.receive().await else {
                panic!("a message arrives");
            };
            assert_eq!(message, request(id));
        }
        let note = Message::from(Notification::new("notifications/progress", None));
        right_sender
            .send(note.clone(), SendOptions::related_to(RequestId::from(1)))
            .await
            .expect("sends");
        assert!(
            matches!(left_receiver.receive().await, Some(Ok(Inbound::Message(message))) if message == note)
        );
    }

    #[tokio::test]
    async fn a_single_connection_has_no_request_stream_to_close() {
        let (left, right) = duplex(2);
        let (mut left_sender, _left_receiver) = left.split();
        let (_right_sender, mut right_receiver) = right.split();
        let closed = left_sender
            .close_related_stream(&RequestId::from(1))
            .await
            .expect("the transport is open");
        assert!(!closed, "nothing was closed");
        left_sender
            .send(request(2), SendOptions::related_to(RequestId::from(1)))
            .await
            .expect("the connection still carries the request's messages");
        assert!(matches!(
            right_receiver.receive().await,
            Some(Ok(Inbound::Message(message))) if message == request(2)
        ));
    }

    #[tokio::test]
    async fn closing_ends_the_peer_receiver_and_refuses_more_sends() {
        let (left, right) = duplex(1);
        let (mut left_sender, _left_receiver) = left.split();
        let (_right_sender, mut right_receiver) = right.split();
        left_sender
            .send(request(1), SendOptions::default())
            .await
            .expect("sends");
        left_sender.close().await.expect("closes");
        assert!(
            left_sender
                .send(request(2), SendOptions::default())
                .await
                .expect_err("closed")
                .is_closed()
        );
        // What was sent before the close is still delivered, then the stream ends.
        assert!(matches!(
            right_receiver.receive().await,
            Some(Ok(Inbound::Message(_)))
        ));
        assert!(right_receiver.receive().await.is_none());
    }

    #[tokio::test]
    async fn a_dropped_receiver_fails_sends() {
        let (left, right) = duplex(1);
        let (mut left_sender, _left_receiver) = left.split();
        drop(right);
        let error = left_sender
            .send(request(1), SendOptions::default())
            .await
            .expect_err("no receiver");
        assert!(error.is_closed());
    }

    #[tokio::test]
    async fn a_full_buffer_makes_the_sender_wait() {
        let (left, right) = duplex(1);
        let (mut left_sender, _left_receiver) = left.split();
        let (_right_sender, mut right_receiver) = right.split();
        left_sender
            .send(request(1), SendOptions::default())
            .await
            .expect("fits");
        let mut second = Box::pin(left_sender.send(request(2), SendOptions::default()));
        assert!(
            futures_poll_once(second.as_mut()).await.is_none(),
            "the second send waits for room"
        );
        assert!(right_receiver.receive().await.is_some());
        second.await.expect("room was made");
    }

    /// Polls a future once, returning its output if it was ready.
    async fn futures_poll_once<F: std::future::Future + Unpin>(mut future: F) -> Option<F::Output> {
        std::future::poll_fn(
            |context| match std::pin::Pin::new(&mut future).poll(context) {
                std::task::Poll::Ready(output) => std::task::Poll::Ready(Some(output)),
                std::task::Poll::Pending => std::task::Poll::Ready(None),
            },
        )
        .await
    }
}
