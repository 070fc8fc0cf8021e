//! The response body: empty, one JSON document, or an SSE stream; and the SSE framing.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

use crate::server::activity::ActivityGuard;
use crate::server::delivery::Delivery;
use crate::server::disconnect::DisconnectGuard;

/// The body of every response of a [`StreamableHttpService`](crate::server::StreamableHttpService).
///
/// An SSE body ends when the server ends its stream (after a request's response, on `DELETE`,
/// on shutdown, or when the client reads too slowly); it never fails.
pub struct ResponseBody {
    kind: Kind,
}

enum Kind {
    Full(Option<Bytes>),
    Sse(Box<SseBody>),
}

pub(crate) struct SseBody {
    /// Frames written before any live event: the priming event and replayed events.
    prefix: VecDeque<Bytes>,
    live: Option<mpsc::Receiver<Bytes>>,
    keep_alive: Option<(Duration, Pin<Box<Sleep>>)>,
    /// Keeps the session from expiring while the stream is open.
    _activity: Option<ActivityGuard>,
    /// Cancels the stateless request the stream answers when the client drops it early.
    _disconnect: Option<DisconnectGuard>,
    /// Tells the event store when the body ends after writing its stream's last event.
    delivery: Option<Delivery>,
}

impl ResponseBody {
    pub(crate) fn empty() -> Self {
        ResponseBody {
            kind: Kind::Full(None),
        }
    }

    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        ResponseBody {
            kind: Kind::Full((!bytes.is_empty()).then_some(bytes)),
        }
    }

    pub(crate) fn sse(
        prefix: VecDeque<Bytes>,
        live: Option<mpsc::Receiver<Bytes>>,
        keep_alive: Option<Duration>,
        activity: Option<ActivityGuard>,
    ) -> Self {
        let keep_alive = keep_alive
            .filter(|_| live.is_some())
            .map(|interval| (interval, Box::pin(tokio::time::sleep(interval))));
        ResponseBody {
            kind: Kind::Sse(Box::new(SseBody {
                prefix,
                live,
                keep_alive,
                _activity: activity,
                _disconnect: None,
                delivery: None,
            })),
        }
    }

    /// This SSE body, cancelling the stateless request it answers when it is dropped before
    /// the request's final message went: the client closed the stream.
    pub(crate) fn on_drop(mut self, guard: DisconnectGuard) -> Self {
        if let Kind::Sse(sse) = &mut self.kind {
            sse._disconnect = Some(guard);
        }
        self
    }

    /// This SSE body, telling the event store when it ends after writing its stream's last
    /// event (and not when it is dropped before: the client may then resume).
    pub(crate) fn on_delivery(mut self, delivery: Option<Delivery>) -> Self {
        if let Kind::Sse(sse) = &mut self.kind {
            sse.delivery = delivery;
        }
        self
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Full(bytes) => formatter
                .debug_struct("ResponseBody")
                .field("length", &bytes.as_ref().map_or(0, Bytes::len))
                .finish(),
            Kind::Sse(sse) => formatter
                .debug_struct("ResponseBody")
                .field("sse", &true)
                .field("open", &sse.live.is_some())
                .finish(),
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
            Kind::Sse(sse) => sse
                .poll_next(context)
                .map(|frame| frame.map(|bytes| Ok(Frame::data(bytes)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Sse(sse) => sse.prefix.is_empty() && sse.live.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, Bytes::len) as u64),
            Kind::Sse(_) => SizeHint::default(),
        }
    }
}

impl SseBody {
    /// Every frame was written: the stream's last event too, if it was given.
    fn end(&mut self, context: &mut Context<'_>) {
        if let Some(delivery) = self.delivery.take() {
            delivery.written(context);
        }
    }

    fn poll_next(&mut self, context: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if let Some(frame) = self.prefix.pop_front() {
            if self.prefix.is_empty() && self.live.is_none() {
                // The body's last frame: its end shows in `is_end_stream`, and a connection
                // may not poll again.
                self.end(context);
            }
            return Poll::Ready(Some(frame));
        }
        let Some(live) = &mut self.live else {
            self.end(context);
            return Poll::Ready(None);
        };
        match live.poll_recv(context) {
            Poll::Ready(Some(frame)) => {
                if let Some((interval, sleep)) = &mut self.keep_alive {
                    sleep.as_mut().reset(Instant::now() + *interval);
                }
                Poll::Ready(Some(frame))
            }
            Poll::Ready(None) => {
                self.live = None;
                self.keep_alive = None;
                self.end(context);
                Poll::Ready(None)
            }
            Poll::Pending => match &mut self.keep_alive {
                Some((interval, sleep)) => {
                    if sleep.as_mut().poll(context).is_ready() {
                        sleep.as_mut().reset(Instant::now() + *interval);
                        // Poll once more so that the timer is registered with the context.
                        let _ = sleep.as_mut().poll(context);
                        Poll::Ready(Some(Bytes::from_static(b": keep-alive\n\n")))
                    } else {
                        Poll::Pending
                    }
                }
                None => Poll::Pending,
            },
        }
    }
}

/// The id of event `sequence` of `stream`: unique within the session, and naming its stream.
pub(crate) fn event_id(stream: u64, sequence: u64) -> String {
    format!("{stream}-{sequence}")
}

/// Reads an event id written by [`event_id`].
pub(crate) fn parse_event_id(text: &str) -> Option<(u64, u64)> {
    if text.len() > 41 {
        return None;
    }
    let (stream, sequence) = text.split_once('-')?;
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    if !digits(stream) || !digits(sequence) {
        return None;
    }
    Some((stream.parse().ok()?, sequence.parse().ok()?))
}

/// The first event of every SSE connection: the cursor to resume from, no data, and how long
/// to wait before reconnecting.
pub(crate) fn priming_event(id: &str, retry: Duration) -> Bytes {
    Bytes::from(format!("id: {id}\nretry: {}\ndata:\n\n", retry.as_millis()))
}

/// An SSE block with only a `retry` field: no event is dispatched, the client's reconnection
/// delay becomes `retry`. Sent last on a stream the server ends because it is going away.
pub(crate) fn retry_event(retry: Duration) -> Bytes {
    Bytes::from(format!("retry: {}\n\n", retry.as_millis()))
}

/// One message as an SSE event.
///
/// The JSON text is compact, and serde escapes every control character inside strings, so a
/// raw line break can only be whitespace between tokens of raw params or results built from
/// pretty-printed text; replacing it with a space keeps the JSON equal and the event on one
/// `data` line.
pub(crate) fn message_event(stream: u64, sequence: u64, message: &[u8]) -> Bytes {
    event(Some(&event_id(stream, sequence)), "message", message)
}

/// An SSE event of type `kind` whose data is `data` on one line, with an id when given. Line
/// breaks in `data` become spaces, as [`message_event`] explains.
pub(crate) fn event(id: Option<&str>, kind: &str, data: &[u8]) -> Bytes {
    let mut frame = Vec::with_capacity(data.len() + kind.len() + 48);
    if let Some(id) = id {
        frame.extend_from_slice(b"id: ");
        frame.extend_from_slice(id.as_bytes());
        frame.push(b'\n');
    }
    frame.extend_from_slice(b"event: ");
    frame.extend_from_slice(kind.as_bytes());
    frame.extend_from_slice(b"\ndata: ");
    frame.extend(data.iter().map(|&byte| match byte {
        b'\n' | b'\r' => b' ',
        other => other,
    }));
    frame.extend_from_slice(b"\n\n");
    Bytes::from(frame)
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[test]
    fn event_ids_round_trip_and_reject_anything_else() {
        assert_eq!(parse_event_id(&event_id(3, 17)), Some((3, 17)));
        assert_eq!(
            parse_event_id(&event_id(u64::MAX, u64::MAX)),
            Some((u64::MAX, u64::MAX))
        );
        for text in [
            "",
            "-",
            "1-",
            "-1",
            "1-2-3",
            "a-1",
            "+1-2",
            "1 -2",
            "99999999999999999999-1",
        ] {
            assert_eq!(parse_event_id(text), None, "{text:?}");
        }
    }

    #[test]
    fn frames_keep_each_event_on_one_data_line() {
        let frame = message_event(1, 2, b"{\"a\":\n1}");
        assert_eq!(frame, "id: 1-2\nevent: message\ndata: {\"a\": 1}\n\n");
        assert_eq!(
            event(None, "endpoint", b"/messages?sessionId=1"),
            "event: endpoint\ndata: /messages?sessionId=1\n\n"
        );
        assert_eq!(
            priming_event("1-0", Duration::from_millis(1500)),
            "id: 1-0\nretry: 1500\ndata:\n\n"
        );
    }

    async fn next(body: &mut ResponseBody) -> Option<Bytes> {
        body.frame()
            .await
            .map(|frame| frame.unwrap().into_data().unwrap())
    }

    #[tokio::test]
    async fn a_replay_reports_its_delivery_with_its_last_frame() {
        use std::sync::Arc;

        use crate::server::delivery::{Delivery, Handover};
        use crate::server::event_store::{EventStore, MemoryEventStore};

        let store = Arc::new(MemoryEventStore::new().delivered_retention(Duration::ZERO));
        store
            .append("s", 1, 1, Bytes::from("response"))
            .await
            .unwrap();
        let delivery = Delivery::new(store.clone(), Arc::from("s"), 1, Handover::queued());
        let frames = VecDeque::from([Bytes::from_static(b"prime"), Bytes::from_static(b"event")]);
        let mut body = ResponseBody::sse(frames, None, None, None).on_delivery(Some(delivery));
        assert_eq!(next(&mut body).await.unwrap(), "prime");
        assert_eq!(store.len(), 1, "not before the last frame");
        assert_eq!(next(&mut body).await.unwrap(), "event");
        assert!(body.is_end_stream());
        assert!(
            store.is_empty(),
            "handed the last frame, the client holds no position"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_stream_sends_keep_alive_comments_and_ends_when_its_sender_goes() {
        let (sender, receiver) = mpsc::channel(4);
        let mut body = ResponseBody::sse(
            VecDeque::from([Bytes::from_static(b"prime")]),
            Some(receiver),
            Some(Duration::from_secs(15)),
            None,
        );
        assert_eq!(next(&mut body).await.unwrap(), "prime");
        let started = Instant::now();
        assert_eq!(next(&mut body).await.unwrap(), ": keep-alive\n\n");
        assert_eq!(started.elapsed(), Duration::from_secs(15));
        sender.send(Bytes::from_static(b"event")).await.unwrap();
        assert_eq!(next(&mut body).await.unwrap(), "event");
        drop(sender);
        assert!(next(&mut body).await.is_none());
        assert!(body.is_end_stream());
    }
}
