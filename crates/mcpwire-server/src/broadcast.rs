//! The server's announcements to the other instances of a deployment: a list changed, or a
//! resource was updated (every instance tells its own clients), or a requestor answered or
//! cancelled a shared task through another instance than the one running it (that instance
//! acts on it), or a shared task's record changed (the instances following it look again). An instance publishes them on the deployment's bus (feature `http`).

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use mcpwire_http::server::MessageBus;
#[cfg(feature = "tasks")]
use mcpwire_schema::JsonObject;

use crate::lists::ListKind;

/// The first byte of the server's frames on the bus; the HTTP service's own frames start with
/// another, so each reader passes over the other's.
const TOPIC: u8 = 0x53;

/// What one instance announces to the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Announcement {
    ListChanged(ListKind),
    ResourceUpdated(String),
    /// `tasks/update` of a shared task, with its owner's digest.
    #[cfg(feature = "tasks")]
    TaskAnswered {
        task_id: String,
        owner: Option<[u8; 32]>,
        answers: JsonObject,
    },
    /// `tasks/cancel` of a shared task, with its owner's digest.
    #[cfg(feature = "tasks")]
    TaskCancelled {
        task_id: String,
        owner: Option<[u8; 32]>,
    },
    /// A shared task's record changed: those following it elsewhere look again.
    #[cfg(feature = "tasks")]
    TaskChanged {
        task_id: String,
    },
}

/// The payload of the task announcements.
#[cfg(feature = "tasks")]
#[derive(serde::Serialize, serde::Deserialize)]
struct TaskNote {
    #[serde(rename = "taskId")]
    task_id: String,
    owner: Option<[u8; 32]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answers: Option<JsonObject>,
}

impl Announcement {
    pub(crate) fn encode(&self, instance: u64) -> Bytes {
        #[cfg(feature = "tasks")]
        let note = |task_id: &String, owner: &Option<[u8; 32]>, answers: Option<&JsonObject>| {
            let note = TaskNote {
                task_id: task_id.clone(),
                owner: *owner,
                answers: answers.cloned(),
            };
            serde_json::to_vec(&note).unwrap_or_default()
        };
        let (kind, payload): (u8, Vec<u8>) = match self {
            Announcement::ListChanged(ListKind::Tools) => (1, Vec::new()),
            Announcement::ListChanged(ListKind::Prompts) => (2, Vec::new()),
            Announcement::ListChanged(ListKind::Resources) => (3, Vec::new()),
            Announcement::ResourceUpdated(uri) => (4, uri.as_bytes().to_vec()),
            #[cfg(feature = "tasks")]
            Announcement::TaskAnswered {
                task_id,
                owner,
                answers,
            } => (5, note(task_id, owner, Some(answers))),
            #[cfg(feature = "tasks")]
            Announcement::TaskCancelled { task_id, owner } => (6, note(task_id, owner, None)),
            #[cfg(feature = "tasks")]
            Announcement::TaskChanged { task_id } => (7, task_id.as_bytes().to_vec()),
        };
        let mut frame = BytesMut::with_capacity(10 + payload.len());
        frame.put_u8(TOPIC);
        frame.put_u64(instance);
        frame.put_u8(kind);
        frame.put_slice(&payload);
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
            #[cfg(feature = "tasks")]
            5 | 6 => {
                let note: TaskNote = serde_json::from_slice(payload).ok()?;
                match (kind, note.answers) {
                    (5, Some(answers)) => Announcement::TaskAnswered {
                        task_id: note.task_id,
                        owner: note.owner,
                        answers,
                    },
                    (6, None) => Announcement::TaskCancelled {
                        task_id: note.task_id,
                        owner: note.owner,
                    },
                    _ => return None,
                }
            }
            #[cfg(feature = "tasks")]
            7 => Announcement::TaskChanged {
                task_id: std::str::from_utf8(payload).ok()?.to_owned(),
            },
            _ => return None,
        };
        Some((u64::from_be_bytes(*instance), announcement))
    }
}

/// The bus a server announces on, and the random number that names this instance on it.
#[derive(Clone)]
pub(crate) struct Broadcaster {
    pub(crate) bus: Arc<dyn MessageBus>,
    pub(crate) instance: u64,
}

impl Broadcaster {
    /// A broadcaster on `bus` for the instance numbered `instance`.
    pub(crate) fn new(bus: Arc<dyn MessageBus>, instance: u64) -> Broadcaster {
        Broadcaster { bus, instance }
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
            #[cfg(feature = "tasks")]
            Announcement::TaskAnswered {
                task_id: "t1".to_owned(),
                owner: Some([9; 32]),
                answers: serde_json::from_value(serde_json::json!({"k": {"action": "accept"}}))
                    .expect("an object"),
            },
            #[cfg(feature = "tasks")]
            Announcement::TaskCancelled {
                task_id: "t2".to_owned(),
                owner: None,
            },
            #[cfg(feature = "tasks")]
            Announcement::TaskChanged {
                task_id: "t3".to_owned(),
            },
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
