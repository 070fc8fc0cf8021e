//! What every clone of a service shares: its configuration, its session factory, its session
//! registry and its stateless lane.

use std::sync::Arc;

use crate::server::config::Config;
use crate::server::registry::Registry;
use crate::server::stateless::Lane;
use crate::server::transport::HttpSessionTransport;

/// The function that serves each new session's transport, supplied by the role crate.
pub(crate) type SessionFactory = dyn Fn(HttpSessionTransport) + Send + Sync;

/// What every clone of a service shares.
pub(crate) struct Shared {
    pub(crate) config: Arc<Config>,
    pub(crate) factory: Arc<SessionFactory>,
    pub(crate) registry: Arc<Registry>,
    /// The stateless lane of modern requests, when installed.
    pub(crate) stateless: Option<Lane>,
}
