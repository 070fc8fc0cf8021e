//! The session state of a Streamable HTTP client: the session id the server assigned and the
//! protocol version to announce.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::HeaderValue;

/// A view of a Streamable HTTP transport's session, for logs and diagnostics.
///
/// It stays valid after the transport is handed to the engine, and follows its changes,
/// including a new session started after the server ended the old one (see
/// [`HttpClientBuilder::reinitialize_on_session_expiry`](crate::client::HttpClientBuilder::reinitialize_on_session_expiry)).
#[derive(Clone, Debug, Default)]
pub struct SessionHandle {
    state: Arc<SessionState>,
}

#[derive(Debug, Default)]
pub(crate) struct SessionState {
    current: Mutex<Current>,
    protocol_version: Mutex<Option<HeaderValue>>,
}

/// The session id in use, and how many sessions came before it on this transport.
#[derive(Debug, Default)]
struct Current {
    id: Option<HeaderValue>,
    generation: u64,
}

impl SessionHandle {
    pub(crate) fn state(&self) -> &SessionState {
        &self.state
    }

    /// The session id the server assigned in its answer to `initialize`, if it did.
    pub fn id(&self) -> Option<String> {
        header_text(lock(&self.state.current).id.as_ref())
    }

    /// The protocol version sent in `MCP-Protocol-Version`: the one the builder pinned, or the
    /// one the `initialize` result named. `None` before initialization.
    pub fn protocol_version(&self) -> Option<String> {
        header_text(lock(&self.state.protocol_version).as_ref())
    }

    /// How many times the transport started a new session after the server ended the one in
    /// use (answered `404` to its session id). `0` while the first session lasts.
    ///
    /// Each new session starts empty on the server: whatever the client set up on the old
    /// one (resource subscriptions, the logging level) is gone, and a client that needs it
    /// can watch this count and set it up again.
    pub fn reinitializations(&self) -> u64 {
        lock(&self.state.current).generation
    }
}

impl SessionState {
    /// The session id to send, if any, and the generation it belongs to.
    pub(crate) fn current(&self) -> (Option<HeaderValue>, u64) {
        let current = lock(&self.current);
        (current.id.clone(), current.generation)
    }

    /// The session id to send, if any.
    pub(crate) fn id(&self) -> Option<HeaderValue> {
        lock(&self.current).id.clone()
    }

    /// The generation of the session in use: how many sessions this transport replaced.
    pub(crate) fn generation(&self) -> u64 {
        lock(&self.current).generation
    }

    /// The protocol version to send, if any.
    pub(crate) fn protocol_version(&self) -> Option<HeaderValue> {
        lock(&self.protocol_version).clone()
    }

    /// Keeps the session id of the first answer that carries one. An id that is not visible
    /// ASCII, as the spec requires, is ignored.
    pub(crate) fn capture_id(&self, value: &HeaderValue) {
        let Some(value) = valid_id(value) else {
            return;
        };
        lock(&self.current).id.get_or_insert(value);
    }

    /// Replaces the ended session with the one the answer to a new `initialize` named (or
    /// with none, when it named none), and counts the new generation.
    pub(crate) fn replace(&self, value: Option<&HeaderValue>) {
        let id = value.and_then(valid_id);
        let mut current = lock(&self.current);
        current.id = id;
        current.generation += 1;
    }

    pub(crate) fn set_protocol_version(&self, version: HeaderValue) {
        *lock(&self.protocol_version) = Some(version);
    }
}

/// The session id to keep from a header value: visible ASCII, as the spec requires, and
/// marked sensitive.
fn valid_id(value: &HeaderValue) -> Option<HeaderValue> {
    if value.is_empty()
        || !value
            .as_bytes()
            .iter()
            .all(|byte| (0x21..=0x7E).contains(byte))
    {
        tracing::warn!("ignoring a session id that is not visible ascii");
        return None;
    }
    let mut value = value.clone();
    // The id is a credential for the session: keep it out of logs.
    value.set_sensitive(true);
    Some(value)
}

fn header_text(value: Option<&HeaderValue>) -> Option<String> {
    value
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values are replaced whole, so a panicking holder cannot leave them torn.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_valid_session_id_is_kept() {
        let handle = SessionHandle::default();
        handle
            .state()
            .capture_id(&HeaderValue::from_static("has space"));
        assert_eq!(handle.id(), None);
        handle
            .state()
            .capture_id(&HeaderValue::from_static("abc-1"));
        handle
            .state()
            .capture_id(&HeaderValue::from_static("abc-2"));
        assert_eq!(handle.id().as_deref(), Some("abc-1"));
        handle
            .state()
            .set_protocol_version(HeaderValue::from_static("2025-11-25"));
        assert_eq!(handle.protocol_version().as_deref(), Some("2025-11-25"));
    }

    #[test]
    fn a_replaced_session_counts_a_generation() {
        let handle = SessionHandle::default();
        handle
            .state()
            .capture_id(&HeaderValue::from_static("first"));
        assert_eq!(handle.reinitializations(), 0);
        handle
            .state()
            .replace(Some(&HeaderValue::from_static("second")));
        assert_eq!(handle.id().as_deref(), Some("second"));
        assert_eq!(handle.reinitializations(), 1);
        assert_eq!(handle.state().current().1, 1);
        handle
            .state()
            .replace(Some(&HeaderValue::from_static("has space")));
        assert_eq!(handle.id(), None, "an invalid id is not kept");
        assert_eq!(handle.state().generation(), 2);
    }
}
