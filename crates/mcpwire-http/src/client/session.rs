//! The session state of a Streamable HTTP client: the session id the server assigned and the
//! protocol version to announce.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::HeaderValue;

/// A view of a Streamable HTTP transport's session, for logs and diagnostics.
///
/// It stays valid after the transport is handed to the engine, and follows its changes.
#[derive(Clone, Debug, Default)]
pub struct SessionHandle {
    state: Arc<SessionState>,
}

#[derive(Debug, Default)]
pub(crate) struct SessionState {
    id: Mutex<Option<HeaderValue>>,
    protocol_version: Mutex<Option<HeaderValue>>,
}

impl SessionHandle {
    pub(crate) fn state(&self) -> &SessionState {
        &self.state
    }

    /// The session id the server assigned in its answer to `initialize`, if it did.
    pub fn id(&self) -> Option<String> {
        header_text(lock(&self.state.id).as_ref())
    }

    /// The protocol version sent in `MCP-Protocol-Version`: the one the builder pinned, or the
    /// one the `initialize` result named. `None` before initialization.
    pub fn protocol_version(&self) -> Option<String> {
        header_text(lock(&self.state.protocol_version).as_ref())
    }
}

impl SessionState {
    /// The session id to send, if any.
    pub(crate) fn id(&self) -> Option<HeaderValue> {
        lock(&self.id).clone()
    }

    /// The protocol version to send, if any.
    pub(crate) fn protocol_version(&self) -> Option<HeaderValue> {
        lock(&self.protocol_version).clone()
    }

    /// Keeps the session id of the first answer that carries one. An id that is not visible
    /// ASCII, as the spec requires, is ignored.
    pub(crate) fn capture_id(&self, value: &HeaderValue) {
        if value.is_empty()
            || !value
                .as_bytes()
                .iter()
                .all(|byte| (0x21..=0x7E).contains(byte))
        {
            tracing::warn!("ignoring a session id that is not visible ascii");
            return;
        }
        let mut id = lock(&self.id);
        if id.is_none() {
            let mut value = value.clone();
            // The id is a credential for the session: keep it out of logs.
            value.set_sensitive(true);
            *id = Some(value);
        }
    }

    pub(crate) fn set_protocol_version(&self, version: HeaderValue) {
        *lock(&self.protocol_version) = Some(version);
    }
}

fn header_text(value: Option<&HeaderValue>) -> Option<String> {
    value
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
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
}
