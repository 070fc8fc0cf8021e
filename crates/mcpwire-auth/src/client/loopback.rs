//! [`LoopbackUserAgent`]: the interactive authorization step of a native client (RFC 8252):
//! the system browser opens the authorization URL, and a listener on a random loopback port
//! takes exactly one redirect that carries the expected `state`.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use mcpwire_http::client::BoxError;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::client::user_agent::{AuthorizationFuture, AuthorizationPrompt, UserAgent};

/// How long the user has to authorize, by default: five minutes.
pub const DEFAULT_AUTHORIZATION_TIMEOUT: Duration = Duration::from_secs(300);

/// The most connections the listener answers while it waits for the redirect.
const MAX_CONNECTIONS: usize = 64;

/// The longest request head the listener reads.
const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// How long one connection may take to send its request head.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// What opens the authorization URL.
type Opener = Arc<dyn Fn(&Url) -> io::Result<()> + Send + Sync>;

/// A user agent for a program on the user's machine: it opens the authorization URL in the
/// system browser (as a program argument, never through a shell) and waits on
/// `http://127.0.0.1:<port>/callback` for the one redirect whose `state` matches; other
/// requests get `400` and are ignored.
#[derive(Clone)]
pub struct LoopbackUserAgent {
    listener: Arc<tokio::sync::Mutex<TcpListener>>,
    redirect_uri: String,
    opener: Opener,
    timeout: Duration,
}

impl LoopbackUserAgent {
    /// Binds the listener on a random port of `127.0.0.1`.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound.
    pub async fn bind() -> io::Result<LoopbackUserAgent> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let port = listener.local_addr()?.port();
        Ok(LoopbackUserAgent {
            listener: Arc::new(tokio::sync::Mutex::new(listener)),
            redirect_uri: format!("http://127.0.0.1:{port}/callback"),
            opener: Arc::new(open_in_browser),
            timeout: DEFAULT_AUTHORIZATION_TIMEOUT,
        })
    }

    /// Opens the authorization URL with `opener` instead of the system browser (to print
    /// it, or to drive a browser in a test).
    pub fn opener(
        mut self,
        opener: impl Fn(&Url) -> io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.opener = Arc::new(opener);
        self
    }

    /// How long to wait for the redirect ([`DEFAULT_AUTHORIZATION_TIMEOUT`] by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl fmt::Debug for LoopbackUserAgent {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("LoopbackUserAgent")
            .field("redirect_uri", &self.redirect_uri)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl UserAgent for LoopbackUserAgent {
    fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    fn authorize(&self, prompt: AuthorizationPrompt) -> AuthorizationFuture {
        let agent = self.clone();
        Box::pin(async move {
            (agent.opener)(prompt.url())?;
            let wait = agent.wait_for_redirect(prompt.state());
            match tokio::time::timeout(agent.timeout, wait).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    Err(format!("no authorization redirect within {:?}", agent.timeout).into())
                }
            }
        })
    }
}

impl LoopbackUserAgent {
    async fn wait_for_redirect(&self, state: &str) -> Result<Url, BoxError> {
        let listener = self.listener.lock().await;
        let base = Url::parse(&self.redirect_uri)?;
        for _ in 0..MAX_CONNECTIONS {
            let (mut stream, _) = listener.accept().await?;
            let target = tokio::time::timeout(CONNECTION_TIMEOUT, request_target(&mut stream))
                .await
                .ok()
                .flatten();
            let redirect = target
                .and_then(|target| base.join(&target).ok())
                .filter(|url| {
                    url.path() == base.path()
                        && url
                            .query_pairs()
                            .any(|(name, value)| name == "state" && value == state)
                });
            let (status, text) = if redirect.is_some() {
                ("200 OK", "Authorization received: you can close this page.")
            } else {
                (
                    "400 Bad Request",
                    "Not the expected authorization response.",
                )
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
            if let Some(redirect) = redirect {
                return Ok(redirect);
            }
        }
        Err("too many requests to the redirect listener without the authorization response".into())
    }
}

/// The target of a `GET` request (`/callback?code=...`), from a head of at most
/// [`MAX_REQUEST_HEAD`] bytes.
async fn request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 || head.len() + read > MAX_REQUEST_HEAD {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let line = head.split(|byte| *byte == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    (method == "GET" && target.starts_with('/')).then(|| target.to_owned())
}

/// Opens `url` in the system browser: the URL is one program argument, no shell reads it.
fn open_in_browser(url: &Url) -> io::Result<()> {
    let mut command = if cfg!(target_os = "macos") {
        Command::new("open")
    } else if cfg!(windows) {
        let mut command = Command::new("rundll32");
        command.arg("url.dll,FileProtocolHandler");
        command
    } else {
        Command::new("xdg-open")
    };
    command
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt as _;

    use super::*;

    async fn get(port: u16, target: &str) -> String {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap();
        stream
            .write_all(format!("GET {target} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn only_the_redirect_with_the_expected_state_is_taken() {
        let agent = LoopbackUserAgent::bind().await.unwrap();
        let port = Url::parse(agent.redirect_uri()).unwrap().port().unwrap();
        let waiting = tokio::spawn({
            let agent = agent.clone();
            async move {
                agent
                    .wait_for_redirect("s1")
                    .await
                    .map_err(|error| error.to_string())
            }
        });
        assert!(
            get(port, "/callback?code=c&state=forged")
                .await
                .starts_with("HTTP/1.1 400")
        );
        assert!(
            get(port, "/elsewhere?code=c&state=s1")
                .await
                .starts_with("HTTP/1.1 400")
        );
        assert!(
            get(port, "/callback?code=c&state=s1")
                .await
                .starts_with("HTTP/1.1 200")
        );
        let redirect = waiting.await.unwrap().unwrap();
        assert_eq!(redirect.path(), "/callback");
        assert!(
            redirect
                .query_pairs()
                .any(|(name, value)| name == "code" && value == "c")
        );
    }
}
