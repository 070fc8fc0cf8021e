//! A TCP fault proxy on loopback: it forwards bytes between clients and one upstream server,
//! and breaks the connections the way networks and peers do, on the test's command.
//!
//! Every connection a client opens to [`FaultProxy::address`] gets its own connection to the
//! upstream server; bytes are forwarded both ways as they come. The test then injects faults:
//!
//! - [`reset_all`](FaultProxy::reset_all) resets every open connection at once (TCP `RST` to
//!   both the client and the server, no `FIN`), as a crashed client or a broken network does;
//! - [`reset_after`](FaultProxy::reset_after) resets the connection that carries the next `n`
//!   bytes from the server, right after forwarding them, so a stream breaks at a chosen byte;
//! - [`stall`](FaultProxy::stall) stops reading from the server until
//!   [`release`](FaultProxy::release), as a client that stops reading does: the server's
//!   socket buffers fill and its writes wait;
//! - [`ProxyBuilder::one_byte_writes`] forwards every byte in a write of its own, both ways, so
//!   the peers' parsers see every possible split of their input.
//!
//! The proxy counts the connections it accepted and the bytes it forwarded from the server,
//! which tests use to count reconnections and to pick fault positions inside a response.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The size of the proxy's read buffer per direction of a connection.
const BUFFER_BYTES: usize = 16 * 1024;

/// Configures a [`FaultProxy`]; made by [`FaultProxy::builder`].
#[derive(Clone, Debug)]
pub struct ProxyBuilder {
    upstream: SocketAddr,
    one_byte_writes: bool,
    upstream_receive_buffer: Option<u32>,
}

impl ProxyBuilder {
    /// Forwards every byte in a write of its own, in both directions (off by default).
    pub fn one_byte_writes(mut self, enabled: bool) -> Self {
        self.one_byte_writes = enabled;
        self
    }

    /// Sets the receive buffer of the proxy's sockets to the server (`SO_RCVBUF`), so that a
    /// [`stall`](FaultProxy::stall) holds back the server after few bytes instead of the
    /// megabytes a loopback socket buffers by default.
    pub fn upstream_receive_buffer(mut self, bytes: u32) -> Self {
        self.upstream_receive_buffer = Some(bytes);
        self
    }

    /// Binds the proxy to a free loopback port and starts accepting.
    ///
    /// # Errors
    ///
    /// Fails when no loopback port can be bound.
    pub async fn start(self) -> io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stalled, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            settings: self,
            stalled,
            reset_budget: Mutex::new(None),
            connections: Mutex::new(HashMap::new()),
            accepted: watch::Sender::new(0),
            bytes_down: AtomicU64::new(0),
            resets: AtomicUsize::new(0),
            captured: Mutex::new(None),
        });
        let accepting = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(FaultProxy {
            address,
            shared,
            accepting,
        })
    }
}

/// A TCP proxy between clients and one server, on loopback, that injects faults; see the
/// [module documentation](self).
///
/// Dropping the proxy stops accepting; connections already open go on until either side
/// closes them.
#[derive(Debug)]
pub struct FaultProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    accepting: JoinHandle<()>,
}

#[derive(Debug)]
struct Shared {
    settings: ProxyBuilder,
    stalled: watch::Sender<bool>,
    /// Bytes from the server still to forward before the connection carrying them is reset.
    reset_budget: Mutex<Option<u64>>,
    /// The reset switch of every open connection, by the order it was accepted in.
    connections: Mutex<HashMap<usize, watch::Sender<bool>>>,
    accepted: watch::Sender<usize>,
    bytes_down: AtomicU64,
    resets: AtomicUsize,
    /// The bytes from the server since [`FaultProxy::capture`], when capturing.
    captured: Mutex<Option<Vec<u8>>>,
}

impl FaultProxy {
    /// A proxy to the server at `upstream`, with no fault configured.
    pub fn builder(upstream: SocketAddr) -> ProxyBuilder {
        ProxyBuilder {
            upstream,
            one_byte_writes: false,
            upstream_receive_buffer: None,
        }
    }

    /// Starts a proxy to `upstream` with the default settings.
    ///
    /// # Errors
    ///
    /// Fails when no loopback port can be bound.
    pub async fn start(upstream: SocketAddr) -> io::Result<FaultProxy> {
        Self::builder(upstream).start().await
    }

    /// The address clients connect to.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The connections accepted so far.
    pub fn accepted(&self) -> usize {
        *self.shared.accepted.borrow()
    }

    /// Waits until the proxy has accepted `count` connections in all, for at most `limit`.
    ///
    /// # Panics
    ///
    /// Panics when `limit` passes first.
    pub async fn wait_for_accepted(&self, count: usize, limit: Duration) {
        let mut accepted = self.shared.accepted.subscribe();
        let waited = tokio::time::timeout(limit, accepted.wait_for(|accepted| *accepted >= count));
        if !matches!(waited.await, Ok(Ok(_))) {
            panic!(
                "waited {limit:?} for {count} connections; {} accepted",
                self.accepted()
            );
        }
    }

    /// The bytes forwarded from the server to clients so far.
    pub fn bytes_down(&self) -> u64 {
        self.shared.bytes_down.load(Ordering::SeqCst)
    }

    /// The connections reset so far, by [`reset_all`](Self::reset_all) or
    /// [`reset_after`](Self::reset_after).
    pub fn resets(&self) -> usize {
        self.shared.resets.load(Ordering::SeqCst)
    }

    /// The connections open now.
    pub fn open(&self) -> usize {
        self.shared
            .connections
            .lock()
            .expect("the connection list")
            .len()
    }

    /// Resets every open connection now: both the client and the server get a TCP `RST`.
    /// Returns how many were reset.
    pub fn reset_all(&self) -> usize {
        let connections = self.shared.connections.lock().expect("the connection list");
        let mut count = 0;
        for connection in connections.values() {
            if connection.send_if_modified(|reset| !std::mem::replace(reset, true)) {
                count += 1;
            }
        }
        self.shared.resets.fetch_add(count, Ordering::SeqCst);
        count
    }

    /// Forwards the next `bytes` bytes from the server (on whichever connections carry them),
    /// then resets the connection that carried the last of them, once. With `0`, the next
    /// connection to receive anything from the server is reset before it is forwarded.
    pub fn reset_after(&self, bytes: u64) {
        *self.shared.reset_budget.lock().expect("the reset budget") = Some(bytes);
    }

    /// Whether a [`reset_after`](Self::reset_after) is still waiting for its bytes.
    pub fn reset_pending(&self) -> bool {
        self.shared
            .reset_budget
            .lock()
            .expect("the reset budget")
            .is_some()
    }

    /// Starts keeping a copy of every byte forwarded from the server from now on (dropping
    /// what was kept before), to find where in an answer a fault should go.
    pub fn capture(&self) {
        *self.shared.captured.lock().expect("the capture") = Some(Vec::new());
    }

    /// Stops capturing and returns the bytes forwarded from the server since
    /// [`capture`](Self::capture), in the order they were forwarded.
    pub fn take_captured(&self) -> Vec<u8> {
        self.shared
            .captured
            .lock()
            .expect("the capture")
            .take()
            .unwrap_or_default()
    }

    /// Stops reading from the server on every connection, until [`release`](Self::release).
    pub fn stall(&self) {
        self.shared.stalled.send_replace(true);
    }

    /// Resumes reading from the server after a [`stall`](Self::stall).
    pub fn release(&self) {
        self.shared.stalled.send_replace(false);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // Accepting fails only when the listener is broken: the proxy stops.
            return;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let Ok(server) = connect_upstream(&shared.settings).await else {
                // Without its server the client's connection is closed at once.
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (reset, _) = watch::channel(false);
            let mut number = 0;
            shared.accepted.send_modify(|accepted| {
                number = *accepted;
                *accepted += 1;
            });
            shared
                .connections
                .lock()
                .expect("the connection list")
                .insert(number, reset.clone());
            relay(client, server, reset, &shared).await;
            shared
                .connections
                .lock()
                .expect("the connection list")
                .remove(&number);
        });
    }
}

async fn connect_upstream(settings: &ProxyBuilder) -> io::Result<TcpStream> {
    let socket = match settings.upstream {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(bytes) = settings.upstream_receive_buffer {
        socket.set_recv_buffer_size(bytes)?;
    }
    socket.connect(settings.upstream).await
}

/// Forwards both directions of one connection until both end or it is reset.
async fn relay(client: TcpStream, server: TcpStream, reset: watch::Sender<bool>, shared: &Shared) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = tokio::spawn(forward_up(
        client_read,
        server_write,
        reset.subscribe(),
        shared.settings.one_byte_writes,
    ));
    forward_down(server_read, client_write, &reset, shared).await;
    let _ = up.await;
}

/// Client to server.
async fn forward_up(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut reset: watch::Receiver<bool>,
    one_byte_writes: bool,
) {
    let mut buffer = vec![0; BUFFER_BYTES];
    loop {
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            _ = reset.wait_for(|reset| *reset) => return abort(from, to),
        };
        let count = match read {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(count) => count,
        };
        let written = tokio::select! {
            written = write(&mut to, &buffer[..count], one_byte_writes) => written,
            _ = reset.wait_for(|reset| *reset) => return abort(from, to),
        };
        if written.is_err() {
            return;
        }
    }
}

/// Server to client, where the stall and the reset budget apply.
async fn forward_down(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    reset: &watch::Sender<bool>,
    shared: &Shared,
) {
    let mut reset_signal = reset.subscribe();
    let mut stalled = shared.stalled.subscribe();
    let mut buffer = vec![0; BUFFER_BYTES];
    loop {
        tokio::select! {
            _ = stalled.wait_for(|stalled| !*stalled) => {}
            _ = reset_signal.wait_for(|reset| *reset) => return abort(from, to),
        }
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            _ = reset_signal.wait_for(|reset| *reset) => return abort(from, to),
            // A stall that starts while waiting for the server takes effect before the read.
            _ = stalled.wait_for(|stalled| *stalled) => continue,
        };
        let count = match read {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(count) => count,
        };
        let (forward, then_reset) = {
            let mut budget = shared.reset_budget.lock().expect("the reset budget");
            match *budget {
                Some(left) if (count as u64) >= left => {
                    *budget = None;
                    (left as usize, true)
                }
                Some(left) => {
                    *budget = Some(left - count as u64);
                    (count, false)
                }
                None => (count, false),
            }
        };
        if forward > 0 {
            let written = tokio::select! {
                written = write(&mut to, &buffer[..forward], shared.settings.one_byte_writes) => written,
                _ = reset_signal.wait_for(|reset| *reset) => return abort(from, to),
            };
            if written.is_err() {
                return;
            }
            shared
                .bytes_down
                .fetch_add(forward as u64, Ordering::SeqCst);
            if let Some(captured) = shared.captured.lock().expect("the capture").as_mut() {
                captured.extend_from_slice(&buffer[..forward]);
            }
        }
        if then_reset {
            if reset.send_if_modified(|reset| !std::mem::replace(reset, true)) {
                shared.resets.fetch_add(1, Ordering::SeqCst);
            }
            return abort(from, to);
        }
    }
}

async fn write(to: &mut OwnedWriteHalf, bytes: &[u8], one_byte_writes: bool) -> io::Result<()> {
    if !one_byte_writes {
        return to.write_all(bytes).await;
    }
    for byte in bytes.chunks(1) {
        to.write_all(byte).await?;
        to.flush().await?;
        // Give the reader a chance to see this byte alone.
        tokio::task::yield_now().await;
    }
    Ok(())
}

/// Closes both sockets of a direction with `RST`: a zero linger time makes the close abort
/// the connection. The other direction's task drops the other halves on the same signal.
fn abort(from: OwnedReadHalf, to: OwnedWriteHalf) {
    let _ = from.as_ref().set_zero_linger();
    let _ = to.as_ref().set_zero_linger();
    drop(from);
    // Dropping a write half would send `FIN` first, and the peer would see an orderly end.
    to.forget();
}
