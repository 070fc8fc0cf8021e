//! The session registry: the live sessions of one service, each found only through the
//! endpoints of its own transport, within the session limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use http::StatusCode;
use mcpwire_jsonrpc::ErrorCode;
use mcpwire_transport::Inbound;
use tokio::sync::mpsc;

use crate::server::config::Config;
use crate::server::response::Reject;
use crate::server::session::{Session, SessionList};

/// The live sessions of one service.
pub(crate) struct Registry {
    sessions: Mutex<HashMap<Arc<str>, Entry>>,
    shutting_down: AtomicBool,
}

/// A live session, and whether it speaks the legacy HTTP+SSE transport: a session is only
/// found through the endpoints of its own transport.
struct Entry {
    session: Arc<Session>,
    legacy: bool,
}

impl Registry {
    /// A registry without sessions, taking new ones.
    pub(crate) fn new() -> Self {
        Registry {
            sessions: Mutex::new(HashMap::new()),
            shutting_down: AtomicBool::new(false),
        }
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
                return Err(Reject {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    code: ErrorCode::INTERNAL_ERROR,
                    message: "too many sessions",
                });
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
            let (session, inbound) =
                Session::new(Arc::from(id), Arc::clone(config), registry, client, owner);
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
