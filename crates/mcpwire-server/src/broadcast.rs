//! The server's announcements to every instance of a deployment (feature `http`): a list
//! changed, or a resource was updated. An instance that announces one publishes it on the
//! deployment's bus, and every instance tells its own clients.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use mcpwire_http::server::MessageBus;

use crate::lists::ListKind;

/// The first byte of the server's frames on the bus; the HTTP service's own frames start with
/// another, so each reader passes over the other's.
const TOPIC: u8 = 0x53;

/// What one instance announces to the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Announcement {
    ListChanged(ListKind),
    ResourceUpdated(String),
}

impl Announcement {
    fn encode(&self, instance: u64) -> Bytes {
        let (kind, payload): (u8, &[u8]) = match self {
            Announcement::ListChanged(ListKind::Tools) => (1, b""),
            Announcement::ListChanged(ListKind::Prompts) => (2, b""),
            Announcement::ListChanged(ListKind::Resources) => (3, b""),
            Announcement::ResourceUpdated(uri) => (4, uri.as_bytes()),
        };
        let mut frame = BytesMut::with_capacity(10 + payload.len());
        frame.put_u8(TOPIC);
        frame.put_u64(instance);
        frame.put_u8(kind);
        frame.put_slice(payload);
        frame.freeze()
    }

    /// The announcement in `frame` and the instance that made it, or `None` for a frame that
    /// is not one.
    pub(crate) fn decode(frame: &[u8]) -> Option<(u64, Announcement)> {
        let (&topic, rest) = frame.split_first()?;
        if topic != TOPIC {
            return None;
        }
        let (instance, rest) = rest.split_first_chunk::<8>()?;
        let (&kind, payload) = rest.split_first()?;
        let announcement = match kind {
            1 if payload.is_empty() => Announcement::ListChanged(ListKind::Tools),
            2 if payload.is_empty() => Announcement::ListChanged(ListKind::Prompts),
            3 if payload.is_empty() => Announcement::ListChanged(ListKind::Resources),
            4 => Announcement::ResourceUpdated(std::str::from_utf8(payload).ok()?.to_owned()),
            _ => return None,
        };
        Some((u64::from_be_bytes(*instance), announcement))
    }
}

/// The bus a server announces on, and the random number that names this instance on it.
pub(crate) struct Broadcaster {
    pub(crate) bus: Arc<dyn MessageBus>,
    pub(crate) instance: u64,
}

impl Broadcaster {
    /// A broadcaster on `bus`; `None` when no random instance number can be drawn.
    pub(crate) fn new(bus: Arc<dyn MessageBus>) -> Option<Broadcaster> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).ok()?;
        Some(Broadcaster {
            bus,
            instance: u64::from_be_bytes(bytes),
        })
    }

    /// Tells the other instances; a bus that cannot be reached loses the announcement for
    /// them (this instance's clients are told all the same).
    pub(crate) async fn announce(&self, announcement: &Announcement) {
        if let Err(error) = self.bus.publish(announcement.encode(self.instance)).await {
            tracing::warn!(%error, "an announcement could not reach the other instances");
        }
    }
}

impl std::fmt::Debug for Broadcaster {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Broadcaster")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_round_trip_and_garbage_is_none() {
        for announcement in [
            Announcement::ListChanged(ListKind::Tools),
            Announcement::ListChanged(ListKind::Prompts),
            Announcement::ListChanged(ListKind::Resources),
            Announcement::ResourceUpdated("file:///a b".to_owned()),
        ] {
            let frame = announcement.encode(7);
            assert_eq!(Announcement::decode(&frame), Some((7, announcement)));
        }
        for garbage in [
            &b""[..],
            b"\x53",
            b"\x01\0\0\0\0\0\0\0\0\x01",
            b"\x53\0\0\0\0\0\0\0\0\x09",
        ] {
            assert_eq!(Announcement::decode(garbage), None);
        }
    }
}
