//! The HTTP+SSE client transport of MCP 2024-11-05: one long-lived SSE stream from the
//! server, and a POST per message to the endpoint the stream names first.

use std::sync::Arc;

use crate::client::service::ResponseBody;
use bytes::Bytes;
use http::Uri;
use http_body_util::BodyExt;
use mcpwire_jsonrpc::Message;
use mcpwire_transport::{Error, MessageSender, SendOptions, Transport};

use crate::client::Error as HttpError;
use crate::client::connection::{Connection, TEXT_EVENT_STREAM, media_type};
use crate::client::inbox::{HttpClientReceiver, Inbox};
use crate::client::options::Options;
use crate::client::sse::{SseEvent, SseParser};

/// The event type that names the POST endpoint.
const ENDPOINT_EVENT: &str = "endpoint";

/// Room for the `data: ` prefix of an SSE line on top of the message limit.
const SSE_LINE_SLACK: usize = 64;

/// A client transport for servers that speak the deprecated HTTP+SSE transport of MCP
/// 2024-11-05.
///
/// [`HttpClientBuilder::legacy_sse`](crate::client::HttpClientBuilder::legacy_sse) opens the
/// SSE stream at the URL and waits for the `endpoint` event, whose URL must have the same
/// scheme, host and port as the stream's. Messages are then POSTed to that endpoint, and
/// everything the server sends arrives on the stream. When the server closes the stream the
/// receiver ends: this transport does not resume.
#[derive(Debug)]
pub struct LegacySseClientTransport {
    sender: LegacySseClientSender,
    receiver: HttpClientReceiver,
}

impl LegacySseClientTransport {
    pub(crate) async fn connect(
        connection: Arc<Connection>,
        options: Options,
    ) -> Result<Self, HttpError> {
        let (inbox, receiver) = Inbox::new(options.inbound_capacity, options.max_message_bytes);
        let legacy = Legacy::connect(connection, &options, inbox).await?;
        Ok(LegacySseClientTransport {
            sender: LegacySseClientSender {
                legacy,
                closed: false,
            },
            receiver,
        })
    }

    /// The URL messages are POSTed to, from the server's `endpoint` event.
    pub fn endpoint(&self) -> String {
        self.sender.legacy.endpoint.to_string()
    }
}

impl Transport for LegacySseClientTransport {
    type Sender = LegacySseClientSender;
    type Receiver = HttpClientReceiver;

    fn split(self) -> (LegacySseClientSender, HttpClientReceiver) {
        (self.sender, self.receiver)
    }
}

/// The sending half of a [`LegacySseClientTransport`].
#[derive(Debug)]
pub struct LegacySseClientSender {
    legacy: Arc<Legacy>,
    closed: bool,
}

impl MessageSender for LegacySseClientSender {
    /// POSTs `message` to the endpoint and waits for the server to accept it (the answer
    /// arrives on the SSE stream).
    ///
    /// # Errors
    ///
    /// [`Error::is_closed`] after [`close`](MessageSender::close) or once the server closed
    /// the stream; [`Error::is_io`] when the POST fails to connect or times out. A request
    /// the server refuses is answered with a `-32603` error response instead.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the message may or may not have been sent.
    async fn send(&mut self, message: Message, _options: SendOptions) -> Result<(), Error> {
        if self.closed || self.legacy.inbox.shutdown.is_cancelled() {
            return Err(self.legacy.inbox.closed_error());
        }
        self.legacy.send(message).await
    }

    /// Closes the SSE stream. Closing twice does nothing.
    ///
    /// # Errors
    ///
    /// Never fails.
    async fn close(&mut self) -> Result<(), Error> {
        self.closed = true;
        self.legacy.inbox.shutdown.cancel();
        Ok(())
    }
}

impl Drop for LegacySseClientSender {
    fn drop(&mut self) {
        self.legacy.inbox.shutdown.cancel();
    }
}

/// The state of one legacy connection.
#[derive(Debug)]
pub(crate) struct Legacy {
    connection: Arc<Connection>,
    pub(crate) inbox: Arc<Inbox>,
    endpoint: Uri,
}

impl Legacy {
    /// Opens the SSE stream, waits for the endpoint, and starts delivering the stream's
    /// messages into `inbox`.
    pub(crate) async fn connect(
        connection: Arc<Connection>,
        options: &Options,
        inbox: Arc<Inbox>,
    ) -> Result<Arc<Self>, HttpError> {
        let request = connection.get_stream(&connection.url);
        let response = connection.send(request, Bytes::new()).await?;
        if !response.status().is_success() {
            return Err(connection.status_error(response).await);
        }
        let media = media_type(&response);
        if media != TEXT_EVENT_STREAM {
            return Err(HttpError::protocol(format!(
                "the sse endpoint answered with `{media}`, not an event stream"
            )));
        }
        let mut body = response.into_body();
        let mut parser = SseParser::new(options.max_message_bytes.saturating_add(SSE_LINE_SLACK));
        let mut events = Vec::new();
        let wait = wait_for_endpoint(&mut body, &mut parser, &mut events);
        let endpoint = match tokio::time::timeout(options.request_timeout, wait).await {
            Ok(Ok(endpoint)) => endpoint,
            Ok(Err(error)) => return Err(error),
            Err(_) => return Err(HttpError::timeout("no endpoint event")),
        };
        let endpoint = resolve_endpoint(&connection.url, &endpoint)?;
        tracing::debug!(%endpoint, "the legacy sse endpoint");
        let legacy = Arc::new(Legacy {
            connection,
            inbox,
            endpoint,
        });
        let reader = Arc::clone(&legacy);
        let shutdown = legacy.inbox.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {}
                () = reader.read_stream(body, parser, events) => {}
            }
        });
        Ok(legacy)
    }

    /// POSTs one message to the endpoint.
    pub(crate) async fn send(&self, message: Message) -> Result<(), Error> {
        let body = Bytes::from(message.to_vec());
        let request = self.connection.post_json(&self.endpoint, body.clone());
        let response = self
            .connection
            .send(request, body)
            .await
            .map_err(HttpError::into_transport)?;
        if response.status().is_success() {
            // The answer ("Accepted") says nothing; reading it lets the connection be reused.
            let _ = self.connection.read_body(response.into_body(), 4096).await;
            return Ok(());
        }
        let error = self.connection.status_error(response).await;
        match message {
            Message::Request(request) => self.inbox.fail_request(request.id, error).await,
            _ => tracing::warn!(%error, "the server refused a notification or response"),
        }
        Ok(())
    }

    /// Delivers the stream's message events until it ends, then ends the transport.
    async fn read_stream(
        &self,
        mut body: ResponseBody,
        mut parser: SseParser,
        mut events: Vec<SseEvent>,
    ) {
        loop {
            for event in events.drain(..) {
                if !event.is_message() || event.data.is_empty() {
                    continue;
                }
                let mut data = event.data;
                if event.oversized && data.len() <= self.inbox.parse.max_size {
                    data.resize(self.inbox.parse.max_size + 1, b' ');
                }
                if !self.inbox.deliver_bytes(&data, |_| true).await {
                    return;
                }
            }
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(chunk) = frame.into_data() {
                        parser.feed(&chunk, &mut events);
                    }
                }
                Some(Err(error)) => {
                    tracing::debug!(%error, "the legacy sse stream broke");
                    break;
                }
                None => break,
            }
        }
        tracing::debug!("the server closed the legacy sse stream");
        self.inbox.shutdown.cancel();
    }
}

/// Reads events until the `endpoint` one, and returns its data; the events after it stay in
/// `events`, in order.
async fn wait_for_endpoint(
    body: &mut ResponseBody,
    parser: &mut SseParser,
    events: &mut Vec<SseEvent>,
) -> Result<String, HttpError> {
    loop {
        if let Some(position) = events
            .iter()
            .position(|event| event.event == ENDPOINT_EVENT)
        {
            let endpoint = events.remove(position);
            // Whatever came before the endpoint is not part of this transport's conversation.
            events.drain(..position);
            return String::from_utf8(endpoint.data)
                .map(|text| text.trim().to_owned())
                .map_err(|_| HttpError::protocol("the endpoint event is not utf-8"));
        }
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(chunk) = frame.into_data() {
                    parser.feed(&chunk, events);
                }
            }
            Some(Err(error)) => return Err(HttpError::connect(error)),
            None => {
                return Err(HttpError::protocol(
                    "the sse stream ended before the endpoint event",
                ));
            }
        }
    }
}

/// Resolves the endpoint the server named against the stream's URL, and checks that it has
/// the same origin, so that a server cannot direct the client's messages elsewhere.
fn resolve_endpoint(base: &Uri, endpoint: &str) -> Result<Uri, HttpError> {
    let invalid = || HttpError::protocol(format!("invalid endpoint `{endpoint}`"));
    let resolved: Uri = if endpoint.contains("://") {
        endpoint.parse().map_err(|_| invalid())?
    } else {
        let path_and_query = if endpoint.starts_with('/') {
            endpoint.to_owned()
        } else {
            let base_path = base.path();
            let directory = &base_path[..base_path.rfind('/').map_or(0, |slash| slash + 1)];
            let directory = if directory.is_empty() { "/" } else { directory };
            format!("{directory}{endpoint}")
        };
        let mut parts = base.clone().into_parts();
        parts.path_and_query = Some(path_and_query.parse().map_err(|_| invalid())?);
        Uri::from_parts(parts).map_err(|_| invalid())?
    };
    if resolved.scheme() != base.scheme() || resolved.authority() != base.authority() {
        return Err(HttpError::protocol(format!(
            "the endpoint `{endpoint}` is not on the sse stream's origin"
        )));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_resolve_against_the_stream_url() {
        let base: Uri = "http://127.0.0.1:8080/mcp/sse?x=1".parse().unwrap();
        let absolute_path = resolve_endpoint(&base, "/messages?sessionId=abc").unwrap();
        assert_eq!(
            absolute_path.to_string(),
            "http://127.0.0.1:8080/messages?sessionId=abc"
        );
        let relative = resolve_endpoint(&base, "messages?sessionId=abc").unwrap();
        assert_eq!(
            relative.to_string(),
            "http://127.0.0.1:8080/mcp/messages?sessionId=abc"
        );
        let full = resolve_endpoint(&base, "http://127.0.0.1:8080/m").unwrap();
        assert_eq!(full.path(), "/m");
    }

    #[test]
    fn endpoints_on_another_origin_are_refused() {
        let base: Uri = "http://127.0.0.1:8080/sse".parse().unwrap();
        assert!(
            resolve_endpoint(&base, "http://evil.example/m")
                .unwrap_err()
                .is_protocol()
        );
        assert!(
            resolve_endpoint(&base, "https://127.0.0.1:8080/m")
                .unwrap_err()
                .is_protocol()
        );
        assert!(
            resolve_endpoint(&base, "/bad path")
                .unwrap_err()
                .is_protocol()
        );
    }
}
