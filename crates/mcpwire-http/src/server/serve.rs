//! Serving a [`StreamableHttpService`] on a TCP listener.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::Layer;
use tower::layer::util::Identity;

use crate::server::Error;
use crate::server::{ClientAddress, StreamableHttpService};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest HTTP/1 read buffer, which bounds the size of request headers: 64 KiB.
const MAX_HEADER_BUFFER_BYTES: usize = 64 * 1024;
/// The shortest header window hyper is given after protocol detection, so that a first byte
/// arriving just before the deadline still leaves time to read a line that arrived with it.
const MIN_HEADER_WINDOW: std::time::Duration = std::time::Duration::from_millis(100);
/// HTTP/2 streams one connection may have open at once.
const MAX_CONCURRENT_STREAMS: u32 = 100;

/// How long connections have, at least, to write their last bytes once the service has shut
/// down.
const LAST_WRITES: std::time::Duration = std::time::Duration::from_secs(1);

/// Serves `service` on `listener`, speaking HTTP/1.1 and HTTP/2 (cleartext), until `shutdown`
/// completes.
///
/// Every accepted socket gets `TCP_NODELAY`, so that small SSE events leave at once. The head
/// of a connection's first request must arrive within the service's
/// [`header_read_timeout`](crate::server::Config::header_read_timeout) counted from accept
/// (one deadline, however the bytes are spread), which also bounds how long an idle HTTP/1
/// connection stays open; at most
/// [`max_connections`](crate::server::Config::max_connections) connections are open at once.
///
/// On shutdown, the listener stops accepting, and the service shuts down gracefully within
/// [`shutdown_grace`](crate::server::Config::shutdown_grace) (see
/// [`StreamableHttpService::shutdown`]): requests in flight may finish, what still runs at the
/// end is answered `503` or has its stream told to come back later. Connections then have what
/// is left of the grace period, and at least one more second, to write their last bytes
/// before they are dropped.
///
/// # Errors
///
/// [`Error::is_io`] when accepting fails in a way that retrying cannot fix.
///
/// # Examples
///
/// ```no_run
/// use mcpwire_http::server::{Config, StreamableHttpService, serve};
///
/// # async fn run() -> Result<(), mcpwire_http::server::Error> {
/// let service = StreamableHttpService::new(Config::default(), |transport| drop(transport));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
/// // Serve until the process ends; pass a signal or a channel to stop gracefully.
/// serve(listener, service, std::future::pending()).await
/// # }
/// ```
pub async fn serve<F>(
    listener: TcpListener,
    service: StreamableHttpService,
    shutdown: F,
) -> Result<(), Error>
where
    F: Future<Output = ()> + Send,
{
    serve_layered(listener, service, Identity::new(), shutdown).await
}

/// [`serve`], with `layer` around the service: authorization (`mcpwire-auth`'s
/// `BearerAuthLayer`), tracing, metrics or anything else written as a `tower` layer, under the
/// same connection handling (header deadline, connection limit, `TCP_NODELAY`, graceful
/// shutdown). Each request reaches the layer with its [`ClientAddress`] already set.
///
/// # Errors
///
/// As [`serve`].
///
/// # Examples
///
/// ```no_run
/// use mcpwire_http::server::{Config, StreamableHttpService, serve_layered};
///
/// # async fn run() -> Result<(), mcpwire_http::server::Error> {
/// let service = StreamableHttpService::new(Config::default(), |transport| drop(transport));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
/// // Any `tower` layer; `Identity` changes nothing.
/// let layer = tower::layer::util::Identity::new();
/// serve_layered(listener, service, layer, std::future::pending()).await
/// # }
/// ```
pub async fn serve_layered<L, B, F>(
    listener: TcpListener,
    service: StreamableHttpService,
    layer: L,
    shutdown: F,
) -> Result<(), Error>
where
    L: Layer<StreamableHttpService>,
    L::Service: tower_service::Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    <L::Service as tower_service::Service<http::Request<Incoming>>>::Future: Send + 'static,
    <L::Service as tower_service::Service<http::Request<Incoming>>>::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send,
{
    let config = service.config().clone();
    let layered = layer.layer(service.clone());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(MAX_HEADER_BUFFER_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .keep_alive_interval(Some(std::time::Duration::from_secs(30)));
    let connections = Arc::new(Semaphore::new(config.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = accept(&listener) => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_transient(&error) => {
                tracing::debug!(%error, "accepting a connection failed; going on");
                // Running out of file descriptors clears only when connections close.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            Err(error) => return Err(Error::io(error)),
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tracing::debug!(%peer, "closing a connection beyond the connection limit");
            continue;
        };
        let mut builder = builder.clone();
        let service = layered.clone();
        let watcher = graceful.watcher();
        // One deadline for the whole head of the first request, counted from accept.
        let deadline = tokio::time::Instant::now() + config.header_read_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            // hyper's header read timeout starts only once the protocol is detected, and the
            // detection waits for bytes without a limit: bound it here.
            match tokio::time::timeout_at(deadline, first_bytes(&stream)).await {
                Ok(true) => {}
                Ok(false) | Err(_) => {
                    tracing::debug!(%peer, "closing a connection that sent no request");
                    return;
                }
            }
            // hyper then gets what is left of the deadline, not a fresh one: a client that
            // waited before its first byte cannot double its window by dribbling the rest.
            // (That shorter window stays the connection's for its later requests.)
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            builder
                .http1()
                .header_read_timeout(left.max(MIN_HEADER_WINDOW));
            let service = WithClientAddress {
                service,
                address: ClientAddress(peer),
            };
            let connection = builder.serve_connection_with_upgrades(
                TokioIo::new(stream),
                TowerToHyperService::new(service),
            );
            if let Err(error) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, error = %error, "a connection ended with an error");
            }
        });
    }
    drop(listener);
    let flushed_by = tokio::time::Instant::now() + config.shutdown_grace;
    service.shutdown().await;
    let flushed_by = flushed_by.max(tokio::time::Instant::now() + LAST_WRITES);
    if tokio::time::timeout_at(flushed_by, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("connections still open after the shutdown grace period are dropped");
    }
    Ok(())
}

/// The service of one connection: every request gets the connection's [`ClientAddress`].
#[derive(Clone)]
struct WithClientAddress<S> {
    service: S,
    address: ClientAddress,
}

impl<S, B> tower_service::Service<http::Request<B>> for WithClientAddress<S>
where
    S: tower_service::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.service.poll_ready(context)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        request.extensions_mut().insert(self.address);
        self.service.call(request)
    }
}

/// Accepts the next connection and configures its socket. `serve` gets its sockets only
/// from here, so that none escapes the configuration.
async fn accept(listener: &TcpListener) -> std::io::Result<(TcpStream, SocketAddr)> {
    let (stream, peer) = listener.accept().await?;
    configure_socket(&stream);
    Ok((stream, peer))
}

/// Sets the options of an accepted socket: `TCP_NODELAY`, so that a small SSE event or JSON
/// answer leaves at once instead of waiting for Nagle's algorithm to batch it.
fn configure_socket(stream: &TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "setting TCP_NODELAY failed");
    }
}

/// Waits until the connection has sent enough to tell HTTP/1 from HTTP/2: one byte that
/// cannot start the HTTP/2 preface, or the whole preface. Returns `false` when the client
/// closes first.
async fn first_bytes(stream: &TcpStream) -> bool {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut buffer = [0u8; PREFACE.len()];
    loop {
        let read = match stream.peek(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(read) => read,
        };
        if read == PREFACE.len() || buffer[..read] != PREFACE[..read] {
            return true;
        }
        // Part of the preface is waiting and `peek` would return it again at once: wait for
        // more. Only a client speaking HTTP/2 in small pieces gets here.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Whether an accept error concerns one connection or a passing shortage, not the listener.
fn is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionAborted
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionRefused
            | ErrorKind::Interrupted
            | ErrorKind::WouldBlock
            | ErrorKind::TimedOut
    ) || error
        .raw_os_error()
        .is_some_and(|code| code == 23 || code == 24)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_sockets_get_tcp_nodelay() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(address), accept(&listener));
        let client = client.unwrap();
        let (server_side, peer) = accepted.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        // A socket starts without the option, so the accepted one has it from `accept`.
        assert!(!client.nodelay().unwrap());
        assert!(server_side.nodelay().unwrap());
    }
}
