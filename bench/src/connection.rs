//! One client's HTTP/1.1 connection to the endpoint, made again when the server closes it, and
//! the reading of an answer, whether one JSON body or an SSE stream.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// Where the requests go: a loopback address and the endpoint's path.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    pub(crate) address: SocketAddr,
    /// The `Host` header: the URL's authority.
    pub(crate) authority: String,
    pub(crate) path: String,
}

impl Endpoint {
    /// Parses `http://HOST:PORT/PATH`, refusing anything but a loopback host.
    ///
    /// # Errors
    ///
    /// When the URL is not plain HTTP to `127.0.0.1`, `[::1]` or `localhost` with a port.
    pub(crate) fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow::anyhow!("`{url}` is not an http:// URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, "/"),
        };
        let (host, port) = authority
            .rsplit_once(':')
            .ok_or_else(|| anyhow::anyhow!("`{url}` has no port"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| anyhow::anyhow!("`{url}` has no valid port"))?;
        let ip = match host {
            "localhost" | "127.0.0.1" => std::net::Ipv4Addr::LOCALHOST.into(),
            "[::1]" => std::net::Ipv6Addr::LOCALHOST.into(),
            other => anyhow::bail!("`{other}` is not a loopback host; only loopback is measured"),
        };
        Ok(Endpoint {
            address: SocketAddr::new(ip, port),
            authority: authority.to_owned(),
            path: path.to_owned(),
        })
    }
}

/// What the server answered to one POST.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) session_id: Option<String>,
    /// The JSON-RPC messages of the body: one for a JSON body, each event's data for SSE.
    pub(crate) messages: Vec<Value>,
    pub(crate) was_sse: bool,
}

/// One client's connection, with `TCP_NODELAY`.
pub(crate) struct Connection {
    endpoint: Endpoint,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// How many TCP connections were made: more than one when the server closed one.
    pub(crate) connects: u64,
}

impl Connection {
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        Connection {
            endpoint,
            sender: None,
            connects: 0,
        }
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        if let Some(sender) = &mut self.sender {
            if sender.ready().await.is_ok() {
                return Ok(self.sender.as_mut().expect("checked just above"));
            }
            self.sender = None;
        }
        let stream = tokio::net::TcpStream::connect(self.endpoint.address)
            .await
            .map_err(|_| "connect".to_owned())?;
        stream.set_nodelay(true).map_err(|_| "nodelay".to_owned())?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| "handshake".to_owned())?;
        tokio::spawn(async move {
            // The connection ends when the server closes it or the sender is dropped; either
            // way the next request makes a new one.
            let _ = connection.await;
        });
        self.connects += 1;
        Ok(self.sender.insert(sender))
    }

    /// POSTs `body` with `headers` (and the session's id, if any), and reads the whole answer
    /// within `timeout`.
    ///
    /// # Errors
    ///
    /// A short name of what failed, used to count errors by kind.
    pub(crate) async fn post(
        &mut self,
        body: Vec<u8>,
        headers: &[(&str, &str)],
        session_id: Option<&str>,
        timeout: Duration,
    ) -> Result<Answer, String> {
        match tokio::time::timeout(timeout, self.exchange(body, headers, session_id)).await {
            Ok(answer) => answer,
            Err(_) => {
                // The connection may still carry the late answer: start afresh.
                self.sender = None;
                Err("timeout".to_owned())
            }
        }
    }

    async fn exchange(
        &mut self,
        body: Vec<u8>,
        headers: &[(&str, &str)],
        session_id: Option<&str>,
    ) -> Result<Answer, String> {
        let mut request = http::Request::post(self.endpoint.path.as_str())
            .header(http::header::HOST, self.endpoint.authority.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json, text/event-stream");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(session_id) = session_id {
            request = request.header("mcp-session-id", session_id);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| "request".to_owned())?;
        let sender = self.sender().await?;
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(_) => {
                self.sender = None;
                return Err("send".to_owned());
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let session_id = header("mcp-session-id");
        let was_sse =
            header("content-type").is_some_and(|kind| kind.starts_with("text/event-stream"));
        let body = match response.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                self.sender = None;
                return Err("body".to_owned());
            }
        };
        let messages = if body.is_empty() {
            Vec::new()
        } else if was_sse {
            sse_data(&body)
                .iter()
                .filter_map(|data| serde_json::from_str(data).ok())
                .collect()
        } else {
            vec![serde_json::from_slice(&body).map_err(|_| "json".to_owned())?]
        };
        Ok(Answer {
            status,
            session_id,
            messages,
            was_sse,
        })
    }
}

/// The data of each event of an SSE stream that carries any, its lines joined by `\n`;
/// comments, other fields and events without data are skipped.
fn sse_data(stream: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(stream);
    let mut events = Vec::new();
    let mut data: Option<String> = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            events.extend(data.take().filter(|data| !data.is_empty()));
        } else if let Some(value) = line.strip_prefix("data:") {
            let value = value.strip_prefix(' ').unwrap_or(value);
            match &mut data {
                Some(joined) => {
                    joined.push('\n');
                    joined.push_str(value);
                }
                None => data = Some(value.to_owned()),
            }
        }
    }
    events.extend(data.filter(|data| !data.is_empty()));
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_endpoints_are_accepted() {
        let endpoint = Endpoint::parse("http://localhost:8080/mcp").unwrap();
        assert_eq!(endpoint.address, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(endpoint.authority, "localhost:8080");
        assert_eq!(endpoint.path, "/mcp");
        assert!(Endpoint::parse("http://[::1]:1/").is_ok());
        for refused in [
            "http://example.com:80/mcp",
            "http://10.0.0.1:80/mcp",
            "https://127.0.0.1:443/mcp",
            "http://127.0.0.1/mcp",
        ] {
            assert!(Endpoint::parse(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn sse_events_give_their_data_and_skip_priming_and_comments() {
        let stream = b"id: 1\ndata:\n\n: keep-alive\n\nevent: message\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata: last";
        assert_eq!(
            sse_data(stream),
            vec!["{\"a\":\n1}".to_owned(), "last".to_owned()]
        );
    }
}
