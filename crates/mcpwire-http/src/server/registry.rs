//! The session registry: the live sessions of one service, each found only through the
//! endpoints of its own transport, within the session limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, Weak};

use bytes::Bytes;
use http::StatusCode;
use mcpwire_jsonrpc::ErrorCode;
use mcpwire_transport::Inbound;
use tokio::sync::mpsc;

use crate::server::cluster::{self, Cluster, Frame, FrameSink, SessionRecord};
use crate::server::config::Config;
use crate::server::event_store::BoxFuture;
use crate::server::response::Reject;
use crate::server::session::{Session, SessionList, SharedCopy};

/// The live sessions of one service.
pub(crate) struct Registry {
    sessions: Mutex<HashMap<Arc<str>, Entry>>,
    shutting_down: AtomicBool,
    /// The deployment whose instances share the Streamable HTTP sessions, if any.
    cluster: Option<Arc<Cluster>>,
    /// Set once the registry reads the deployment's bus.
    listening: Once,
    /// Where the bus's frames that are not the service's own go, once the role asked.
    foreign: Mutex<Option<mpsc::Sender<Bytes>>>,
}

/// How many frames of the role's wait for it; beyond, the bus's at-most-once delivery drops
/// them, as it drops what a subscriber that falls behind misses.
const FOREIGN_QUEUE: usize = 1024;

/// A live session, and whether it speaks the legacy HTTP+SSE transport: a session is only
/// found through the endpoints of its own transport.
struct Entry {
    session: Arc<Session>,
    legacy: bool,
}

impl Registry {
    /// A registry without sessions, taking new ones, which shares them with the deployment
    /// of `config`'s [`shared_sessions`](Config::shared_sessions), if any.
    pub(crate) fn new(config: &Config) -> Self {
        let cluster = config.shared_sessions.as_ref().and_then(|(store, bus)| {
            let cluster = Cluster::new(Arc::clone(store), Arc::clone(bus));
            if cluster.is_none() {
                tracing::error!("no instance number could be drawn: sessions are not shared");
            }
            cluster.map(Arc::new)
        });
        Registry {
            sessions: Mutex::new(HashMap::new()),
            shutting_down: AtomicBool::new(false),
            cluster,
            listening: Once::new(),
            foreign: Mutex::new(None),
        }
    }

    /// The deployment the sessions are shared with, if any; the first call starts reading
    /// its bus (on the current tokio runtime).
    pub(crate) fn cluster(self: &Arc<Self>) -> Option<&Arc<Cluster>> {
        let cluster = self.cluster.as_ref()?;
        self.listening.call_once(|| {
            let frames = cluster.bus.subscribe();
            let sink: Weak<dyn FrameSink> = Arc::downgrade(self) as Weak<dyn FrameSink>;
            tokio::spawn(cluster::listen(cluster.instance, frames, sink));
        });
        Some(cluster)
    }

    /// The frames on the deployment's bus that are not the service's own, each after the
    /// service acted on every frame before it; `None` without a deployment, or once taken.
    pub(crate) fn foreign_frames(self: &Arc<Self>) -> Option<mpsc::Receiver<Bytes>> {
        let mut foreign = self
            .foreign
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if foreign.is_some() {
            return None;
        }
        let (sender, receiver) = mpsc::channel(FOREIGN_QUEUE);
        *foreign = Some(sender);
        drop(foreign);
        self.cluster()?;
        Some(receiver)
    }

    /// Takes in a copy of the shared session `id` from its `record`, or the copy another
    /// request took in meanwhile; returns it with the receiver of its POSTed messages when
    /// it is new, for the session factory to serve.
    pub(crate) fn adopt(
        self: &Arc<Self>,
        config: &Arc<Config>,
        id: &str,
        record: &SessionRecord,
    ) -> Result<(Arc<Session>, Option<mpsc::Receiver<Inbound>>), Reject> {
        let Some(cluster) = self.cluster() else {
            return Err(Reject::SESSION_NOT_FOUND);
        };
        let owner: Option<Arc<str>> = record.owner.as_deref().map(Arc::from);
        let (session, inbound) = {
            let mut sessions = self.lock();
            if let Some(entry) = sessions.get(id) {
                return Ok((Arc::clone(&entry.session), None));
            }
            if sessions.len() >= config.max_sessions {
                return Err(TOO_MANY_SESSIONS);
            }
            let registry: Weak<Registry> = Arc::downgrade(self);
            let shared = SharedCopy::new(Arc::clone(cluster), Some(record));
            let (session, inbound) = Session::new(
                Arc::from(id),
                Arc::clone(config),
                registry,
                None,
                owner,
                Some(shared),
            );
            if record.initialized {
                session.mark_initialized();
            }
            let entry = Entry {
                session: Arc::clone(&session),
                legacy: false,
            };
            sessions.insert(Arc::clone(&session.id), entry);
            (session, inbound)
        };
        session.spawn_expiry();
        if !record.initialized {
            session.spawn_initialization_deadline();
        }
        tracing::debug!("session adopted from its record");
        Ok((session, Some(inbound)))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<str>, Entry>> {
        // Every critical section is one lookup, insert or remove.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The live Streamable HTTP session `id`, for a request of `owner`.
    pub(crate) fn get(&self, id: &str, owner: Option<&str>) -> Option<Arc<Session>> {
        self.find(id, false, owner)
    }

    /// The live session `id` of the transport `legacy` names, for a request of `owner`: a
    /// session of another principal is not found, as if it did not exist.
    pub(crate) fn find(&self, id: &str, legacy: bool, owner: Option<&str>) -> Option<Arc<Session>> {
        self.lock()
            .get(id)
            .filter(|entry| entry.legacy == legacy && entry.session.owner.as_deref() == owner)
            .map(|entry| Arc::clone(&entry.session))
    }

    /// The live session `id`, whatever its transport or owner.
    fn any(&self, id: &str) -> Option<Arc<Session>> {
        self.lock().get(id).map(|entry| Arc::clone(&entry.session))
    }

    /// How many sessions are live.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Marks the service as shutting down: every request is refused from now on.
    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether the service is shutting down.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Every live session.
    pub(crate) fn sessions(&self) -> Vec<Arc<Session>> {
        self.lock()
            .values()
            .map(|entry| Arc::clone(&entry.session))
            .collect()
    }

    /// Makes a session with a fresh id within the session limit, of the legacy HTTP+SSE
    /// transport when `legacy`; returns it with the receiver of its POSTed messages.
    /// A client address counts only its sessions still waiting for `notifications/initialized`
    /// against [`Config::max_pending_initializations`].
    pub(crate) fn register(
        self: &Arc<Self>,
        config: &Arc<Config>,
        legacy: bool,
        client: Option<IpAddr>,
        owner: Option<Arc<str>>,
    ) -> Result<(Arc<Session>, mpsc::Receiver<Inbound>), Reject> {
        let id = new_session_id().map_err(|_| Reject {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: ErrorCode::INTERNAL_ERROR,
            message: "no session id could be made",
        })?;
        let (session, inbound) = {
            let mut sessions = self.lock();
            if sessions.len() >= config.max_sessions {
                return Err(TOO_MANY_SESSIONS);
            }
            if let Some(client) = client {
                let pending = sessions
                    .values()
                    .filter(|entry| {
                        entry.session.client == Some(client) && !entry.session.is_initialized()
                    })
                    .count();
                if pending >= config.max_pending_initializations {
                    return Err(Reject {
                        status: StatusCode::TOO_MANY_REQUESTS,
                        code: ErrorCode::INTERNAL_ERROR,
                        message: "too many sessions of this client are waiting to be initialized",
                    });
                }
            }
            let registry: Weak<Registry> = Arc::downgrade(self);
            // A legacy HTTP+SSE session lives with its one event stream: it is never shared.
            let shared = match (legacy, self.cluster()) {
                (false, Some(cluster)) => Some(SharedCopy::new(Arc::clone(cluster), None)),
                _ => None,
            };
            let (session, inbound) = Session::new(
                Arc::from(id),
                Arc::clone(config),
                registry,
                client,
                owner,
                shared,
            );
            let entry = Entry {
                session: Arc::clone(&session),
                legacy,
            };
            sessions.insert(Arc::clone(&session.id), entry);
            (session, inbound)
        };
        session.spawn_expiry();
        session.spawn_initialization_deadline();
        tracing::debug!(legacy, "session created");
        Ok((session, inbound))
    }
}

impl SessionList for Registry {
    fn remove(&self, id: &str) {
        self.lock().remove(id);
    }
}

impl FrameSink for Registry {
    fn receive(self: Arc<Self>, frame: Frame) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            if let Some(session) = self.any(&frame.session)
                && session.shared().is_some()
            {
                session.on_signal(frame.signal).await;
            }
        })
    }

    fn foreign(&self, frame: Bytes) {
        let foreign = self
            .foreign
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sender) = foreign.as_ref()
            && sender.try_send(frame).is_err()
        {
            tracing::debug!("a frame of the role's on the bus was dropped: its reader is behind");
        }
    }
}

/// The refusal of a session beyond [`Config::max_sessions`].
const TOO_MANY_SESSIONS: Reject = Reject {
    status: StatusCode::SERVICE_UNAVAILABLE,
    code: ErrorCode::INTERNAL_ERROR,
    message: "too many sessions",
};

/// A session id: 32 bytes from the operating system's CSPRNG, as 64 lowercase hex digits.
fn new_session_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_visible_ascii_and_distinct() {
        let first = new_session_id().unwrap();
        let second = new_session_id().unwrap();
        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|byte| (0x21..=0x7e).contains(&byte)));
        assert_ne!(first, second);
    }
}
