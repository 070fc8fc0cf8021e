//! A real HAProxy (from Debian's packages) in front of several server instances on
//! loopback: round-robin for every request, no stickiness, as a deployment runs it. Started by
//! the test with a configuration of its own temporary directory, and killed when dropped.
//!
//! `cargo xtask interop-setup` (which CI runs) installs `haproxy` when it is missing.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// How long HAProxy may take to listen.
const START_LIMIT: Duration = Duration::from_secs(20);

/// A running HAProxy balancing over a fixed set of backends.
pub struct Balancer {
    child: Child,
    directory: PathBuf,
    address: SocketAddr,
}

impl Balancer {
    /// Starts HAProxy on a free loopback port, balancing each HTTP request round-robin over
    /// `backends`, and waits until it accepts connections. A backend that refuses connections
    /// is skipped (the request is sent to the next one), as `option redispatch` does in a
    /// deployment.
    ///
    /// # Panics
    ///
    /// When `haproxy` is not installed or does not start in time: the test cannot run.
    pub async fn start(backends: &[SocketAddr]) -> Balancer {
        let directory = super::fresh_directory("haproxy");
        let port = free_port();
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let configuration = directory.join("haproxy.cfg");
        std::fs::write(&configuration, config(address, backends))
            .expect("the configuration of haproxy");
        let child = Command::new("haproxy")
            .arg("-f")
            .arg(&configuration)
            .arg("-db")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("haproxy is installed (cargo xtask interop-setup installs it)");
        let started = tokio::time::Instant::now();
        while TcpStream::connect(address).await.is_err() {
            assert!(
                started.elapsed() < START_LIMIT,
                "haproxy did not start in time"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Balancer {
            child,
            directory,
            address,
        }
    }

    /// The address clients connect to.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// The configuration: HTTP mode, round-robin over the backends for every request of a
/// connection (HAProxy balances each request on its own unless told to prefer the last
/// server), long server and tunnel timeouts for SSE streams, a retry on another backend when
/// one refuses the connection, and `http-no-delay`: without it HAProxy holds small writes
/// back, and an SSE event (an elicitation asked mid-request) waits some 40 to 200 ms.
fn config(address: SocketAddr, backends: &[SocketAddr]) -> String {
    let mut text = format!(
        "global\n  maxconn 4096\n\ndefaults\n  mode http\n  timeout connect 2s\n  \
         timeout client 120s\n  timeout server 120s\n  timeout tunnel 120s\n  \
         timeout http-request 10s\n  retries 2\n  option redispatch 1\n  option http-no-delay\n\n\
         frontend mcp\n  bind {address}\n  default_backend instances\n\n\
         backend instances\n  balance roundrobin\n"
    );
    for (index, backend) in backends.iter().enumerate() {
        let _ = writeln!(text, "  server instance{index} {backend}");
    }
    text
}

/// A loopback port no one listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}
