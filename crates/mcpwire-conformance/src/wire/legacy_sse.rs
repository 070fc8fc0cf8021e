//! The HTTP+SSE transport of 2024-11-05, for servers that offer only it: an event stream
//! opened with `GET`, whose first event (`endpoint`) names where to `POST` messages, and on
//! which every message of the server arrives, as `message` events.

use std::time::Duration;

use http_body_util::BodyExt as _;
use tokio::sync::{mpsc, oneshot};

use crate::wire::http::{HttpReply, HttpRequest, HttpWire, Until};
use crate::wire::sse::SseReader;
use crate::wire::stdio::Line;

/// How many of the server's messages wait to be read; past it, the stream is not read until
/// the suite catches up (the server then waits, as on a slow network).
const QUEUE: usize = 1024;

/// The most bytes one message may have.
const MESSAGE_LIMIT: usize = 16 * 1024 * 1024;

/// An open HTTP+SSE connection: its event stream, read as it arrives, and the endpoint to
/// post messages to.
#[derive(Debug)]
pub struct SseWire {
    post: HttpWire,
    endpoint: String,
    messages: mpsc::Receiver<Line>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for SseWire {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl SseWire {
    /// Opens the event stream of `wire`'s endpoint and waits for its `endpoint` event; the
    /// messages are posted with `wire`'s access token, if any.
    ///
    /// # Errors
    ///
    /// When the answer to the `GET` is not an event stream, or no `endpoint` event comes
    /// within `limit`.
    pub async fn open(wire: &HttpWire, limit: Duration) -> Result<SseWire, String> {
        let deadline = tokio::time::Instant::now() + limit;
        let response = wire.open_to(None, HttpRequest::get(), deadline).await?;
        let status = response.status();
        let event_stream = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        if !status.is_success() || !event_stream {
            return Err(format!(
                "a GET of the event stream: HTTP {} ({})",
                status.as_u16(),
                response
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("no Content-Type")
            ));
        }
        let (endpoint_sender, endpoint) = oneshot::channel();
        let (sender, messages) = mpsc::channel(QUEUE);
        let reader = tokio::spawn(read(response.into_body(), endpoint_sender, sender));
        let announced = tokio::time::timeout_at(deadline, endpoint)
            .await
            .map_err(|_| "no `endpoint` event on the event stream in time".to_owned())?
            .map_err(|_| "the event stream ended before its `endpoint` event".to_owned())?;
        let base = url::Url::parse(&wire.url().to_string())
            .map_err(|error| format!("the stream's URL: {error}"))?;
        let endpoint = base
            .join(announced.trim())
            .map_err(|error| format!("the `endpoint` event `{announced}`: {error}"))?;
        if endpoint.origin() != base.origin() {
            return Err(format!(
                "the `endpoint` event names another origin ({endpoint}) than the stream's: \
                 the suite posts only to the server it tests"
            ));
        }
        let post = wire.to_url(endpoint.as_str())?;
        Ok(SseWire {
            post,
            endpoint: endpoint.to_string(),
            messages,
            reader,
        })
    }

    /// Where messages are posted, as the `endpoint` event named it (resolved).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Posts one message (raw bytes) and reads the answer to the `POST` itself.
    ///
    /// # Errors
    ///
    /// When the request cannot be sent, or no answer comes within `limit`.
    pub async fn send(&self, message: &[u8], limit: Duration) -> Result<HttpReply, String> {
        self.post
            .send(HttpRequest::post(message.to_vec()), Until::End, limit)
            .await
    }

    /// The next message of the server's stream (the data of a `message` event), waiting at
    /// most `limit`.
    pub async fn next(&mut self, limit: Duration) -> Line {
        match tokio::time::timeout(limit, self.messages.recv()).await {
            Err(_) => Line::TimedOut,
            Ok(None) => Line::Closed,
            Ok(Some(line)) => line,
        }
    }
}

/// Reads the event stream: its `endpoint` event to `endpoint`, then each message to
/// `messages`, until the stream or the connection ends.
async fn read(
    mut body: hyper::body::Incoming,
    endpoint: oneshot::Sender<String>,
    messages: mpsc::Sender<Line>,
) {
    let mut endpoint = Some(endpoint);
    let mut reader = SseReader::default();
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(data) = frame.into_data() else {
            continue;
        };
        for event in reader.feed(&data) {
            match event.event.as_deref() {
                Some("endpoint") => {
                    if let Some(endpoint) = endpoint.take() {
                        let _ = endpoint.send(event.data);
                    }
                }
                None | Some("message") if !event.data.is_empty() => {
                    let line = if event.data.len() > MESSAGE_LIMIT {
                        Line::TooLong(event.data.as_bytes()[..1024].to_vec())
                    } else {
                        Line::Text(event.data.into_bytes())
                    };
                    if messages.send(line).await.is_err() {
                        return;
                    }
                }
                _ => {}
            }
        }
    }
}
