//! What the instances of one deployment share about Streamable HTTP sessions: each session's
//! record, so that any instance can serve it, and a bus that carries to the other instances
//! the messages of a session that belong to their copy of it.
//!
//! An instance that gets a request for a session it does not hold loads the record and adopts
//! the session: it keeps a copy of its own, served by the role crate from the record's state.
//! From then on each copy serves the requests that reach its instance. What crosses between
//! copies goes over the bus: a client's answer to a request another copy sent, a cancellation
//! of a request another copy runs, a message for a standalone stream another instance holds,
//! a change of the record, and the session's end.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::mpsc;

use crate::server::Error;
use crate::server::event_store::BoxFuture;

/// The record of one Streamable HTTP session that the instances of a deployment share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// The principal that owns the session ([`SessionOwner`](crate::server::SessionOwner)),
    /// if an authorization layer named one: only its requests find the session.
    pub owner: Option<String>,
    /// Whether the client sent `notifications/initialized`.
    pub initialized: bool,
    /// The role crate's state of the session (what `initialize` settled, the log level, the
    /// subscriptions), opaque to this crate.
    pub state: Bytes,
    /// How many times the record was saved: the store counts each save, and a copy of the
    /// session never takes a state older than the one it has. Ignored by
    /// [`SessionStore::save`].
    pub revision: u64,
}

/// Where the instances of a deployment keep their sessions' records.
///
/// A record lives for the time to live given with it, renewed while the session is used; a
/// session whose record is gone is unknown to every instance (`404`).
pub trait SessionStore: Send + Sync + 'static {
    /// Keeps `record` as the record of session `id` for `ttl`, replacing the one there, and
    /// returns the record's new revision: one more than the revision it replaces, counted by
    /// the store in the same atomic step as the write.
    ///
    /// With `create`, the record is made when there is none (the session's first save);
    /// without, a record that is gone (the session ended on another instance, or expired)
    /// stays gone and the answer is `None`, so that an ended session never comes back.
    ///
    /// # Errors
    ///
    /// [`Error::is_store`] when the store cannot be reached.
    fn save<'a>(
        &'a self,
        id: &'a str,
        record: &'a SessionRecord,
        create: bool,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<u64>, Error>>;

    /// The record of session `id`, or `None` when there is none (never made, deleted or
    /// expired).
    ///
    /// # Errors
    ///
    /// [`Error::is_store`] when the store cannot be reached.
    fn load<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<SessionRecord>, Error>>;

    /// Keeps the record of session `id` for `ttl` from now; `false` when there is none.
    ///
    /// # Errors
    ///
    /// [`Error::is_store`] when the store cannot be reached.
    fn touch<'a>(&'a self, id: &'a str, ttl: Duration) -> BoxFuture<'a, Result<bool, Error>>;

    /// Drops the record of session `id`, which has ended.
    ///
    /// # Errors
    ///
    /// [`Error::is_store`] when the store cannot be reached.
    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>>;
}

/// The channel between the instances of a deployment: every frame one publishes reaches every
/// instance subscribed at the time, itself included. Frames are opaque to the bus.
///
/// Delivery is at most once: an instance whose subscription is down misses what is published
/// meanwhile. What it misses is what a lost connection loses in one process (an answer or a
/// notification), and the client's request fails or times out explicitly.
pub trait MessageBus: Send + Sync + 'static {
    /// Sends `frame` to every subscribed instance.
    ///
    /// # Errors
    ///
    /// [`Error::is_store`] when the bus cannot be reached.
    fn publish(&self, frame: Bytes) -> BoxFuture<'_, Result<(), Error>>;

    /// The frames published from now on, through a bounded queue: a subscriber that falls
    /// behind loses frames rather than holding the bus up.
    fn subscribe(&self) -> mpsc::Receiver<Bytes>;
}

/// What one frame on the bus says about a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// A message the client POSTed to another instance, for the copy that it belongs to: the
    /// answer to a request that copy sent, or the cancellation of a request it runs.
    FromClient(Bytes),
    /// A message for the session's standalone stream, which another instance holds.
    Standalone(Bytes),
    /// The record changed: the client finished initializing, or the role's state changed;
    /// `revision` is the record's revision after the change.
    Changed {
        initialized: bool,
        revision: u64,
        state: Bytes,
    },
    /// The session ended (`DELETE`, or its end everywhere).
    Ended,
    /// A client resumed a request's stream on the sender's instance: the copy that runs the
    /// request is asked to pass on the stream's events from now on.
    Follow { stream: u64 },
    /// The copy that runs a followed stream's request passes its events on from now on.
    Followed { stream: u64 },
    /// An event of a followed stream, the last one (the response) marked.
    Event {
        stream: u64,
        sequence: u64,
        last: bool,
        message: Bytes,
    },
}

/// One frame: the instance that sent it, the session it is about, and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) instance: u64,
    pub(crate) session: String,
    pub(crate) signal: Signal,
}

/// The version byte every frame starts with.
const FRAME_VERSION: u8 = 2;

impl Frame {
    pub(crate) fn encode(&self) -> Bytes {
        let numbered = |first: u64, second: Option<u64>, message: &[u8]| {
            let mut payload = Vec::with_capacity(16 + message.len());
            payload.extend_from_slice(&first.to_be_bytes());
            if let Some(second) = second {
                payload.extend_from_slice(&second.to_be_bytes());
            }
            payload.extend_from_slice(message);
            payload
        };
        let (kind, initialized, payload): (u8, bool, std::borrow::Cow<'_, [u8]>) =
            match &self.signal {
                Signal::FromClient(message) => (1, false, message.as_ref().into()),
                Signal::Standalone(message) => (2, false, message.as_ref().into()),
                Signal::Changed {
                    initialized,
                    revision,
                    state,
                } => (3, *initialized, numbered(*revision, None, state).into()),
                Signal::Ended => (4, false, (&[][..]).into()),
                Signal::Follow { stream } => (5, false, numbered(*stream, None, &[]).into()),
                Signal::Followed { stream } => (6, false, numbered(*stream, None, &[]).into()),
                Signal::Event {
                    stream,
                    sequence,
                    last,
                    message,
                } => (7, *last, numbered(*stream, Some(*sequence), message).into()),
            };
        let session = self.session.as_bytes();
        let mut frame = BytesMut::with_capacity(12 + session.len() + payload.len());
        frame.put_u8(FRAME_VERSION);
        frame.put_u8(kind);
        frame.put_u8(u8::from(initialized));
        frame.put_u64(self.instance);
        // Session ids are at most 255 bytes: the service makes them 64.
        frame.put_u8(u8::try_from(session.len()).unwrap_or(u8::MAX));
        frame.put_slice(&session[..session.len().min(255)]);
        frame.put_slice(&payload);
        frame.freeze()
    }

    /// Reads a frame, or `None` for bytes that are not one (another version, or garbage).
    pub(crate) fn decode(frame: &Bytes) -> Option<Frame> {
        let (header, rest) = frame.split_first_chunk::<3>()?;
        let [version, kind, initialized] = *header;
        if version != FRAME_VERSION || initialized > 1 {
            return None;
        }
        let (instance, rest) = rest.split_first_chunk::<8>()?;
        let (&length, rest) = rest.split_first()?;
        let length = usize::from(length);
        if rest.len() < length {
            return None;
        }
        let session = std::str::from_utf8(&rest[..length]).ok()?.to_owned();
        let start = frame.len() - (rest.len() - length);
        let payload = frame.slice(start..);
        let number = |at: usize| -> Option<u64> {
            let bytes = payload.get(at..at + 8)?;
            Some(u64::from_be_bytes(bytes.try_into().ok()?))
        };
        let signal = match kind {
            1 => Signal::FromClient(payload),
            2 => Signal::Standalone(payload),
            3 if payload.len() >= 8 => Signal::Changed {
                initialized: initialized == 1,
                revision: number(0)?,
                state: payload.slice(8..),
            },
            4 if payload.is_empty() => Signal::Ended,
            5 if payload.len() == 8 => Signal::Follow { stream: number(0)? },
            6 if payload.len() == 8 => Signal::Followed { stream: number(0)? },
            7 if payload.len() >= 16 => Signal::Event {
                stream: number(0)?,
                sequence: number(8)?,
                last: initialized == 1,
                message: payload.slice(16..),
            },
            _ => return None,
        };
        Some(Frame {
            instance: u64::from_be_bytes(*instance),
            session,
            signal,
        })
    }
}

/// A service's link to the store and bus of its deployment, with the random number that
/// names this instance on the bus.
pub(crate) struct Cluster {
    pub(crate) store: Arc<dyn SessionStore>,
    pub(crate) bus: Arc<dyn MessageBus>,
    pub(crate) instance: u64,
}

impl Cluster {
    /// A link for a new service; `None` when the random instance number cannot be drawn.
    pub(crate) fn new(store: Arc<dyn SessionStore>, bus: Arc<dyn MessageBus>) -> Option<Cluster> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).ok()?;
        Some(Cluster {
            store,
            bus,
            instance: u64::from_be_bytes(bytes),
        })
    }

    /// Publishes `signal` about `session` to the other instances.
    pub(crate) async fn publish(&self, session: &str, signal: Signal) -> Result<(), Error> {
        let frame = Frame {
            instance: self.instance,
            session: session.to_owned(),
            signal,
        };
        self.bus.publish(frame.encode()).await
    }
}

/// Where the frames of other instances go: the service's sessions.
pub(crate) trait FrameSink: Send + Sync {
    /// Acts on one frame of another instance.
    fn receive(self: Arc<Self>, frame: Frame) -> BoxFuture<'static, ()>;

    /// Passes on a frame that is not the service's own (a role's announcement), once the
    /// service has acted on every frame before it.
    fn foreign(&self, frame: Bytes);
}

/// Reads the bus until the sink is gone or the bus ends, passing on the frames of other
/// instances, one at a time and in order.
pub(crate) async fn listen(
    instance: u64,
    mut frames: mpsc::Receiver<Bytes>,
    sink: Weak<dyn FrameSink>,
) {
    while let Some(bytes) = frames.recv().await {
        // The role's frames (its announcements) go to the role in the bus's order, after
        // what the frames before them changed here: an announcement made after a change
        // of a session's state (a subscription) finds the change made.
        if bytes.first() != Some(&FRAME_VERSION) {
            if let Some(sink) = sink.upgrade() {
                sink.foreign(bytes);
            }
            continue;
        }
        let Some(frame) = Frame::decode(&bytes) else {
            tracing::debug!("ignoring a frame on the bus that is not one of this version");
            continue;
        };
        if frame.instance == instance {
            continue;
        }
        let Some(sink) = sink.upgrade() else {
            return;
        };
        sink.receive(frame).await;
    }
}

/// A random number in `1..2^21`, which puts the request ids and stream numbers of one copy of
/// a session in a range of their own (`tag << 32` and up), below 2^53 so that JavaScript
/// clients read the ids exactly.
pub(crate) fn copy_tag() -> u64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 1;
    }
    u64::from(u32::from_be_bytes(bytes) & 0x1f_ffff).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        for signal in [
            Signal::FromClient(Bytes::from_static(
                br#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            )),
            Signal::Standalone(Bytes::from_static(b"{}")),
            Signal::Changed {
                initialized: true,
                revision: 7,
                state: Bytes::from_static(b"state"),
            },
            Signal::Changed {
                initialized: false,
                revision: u64::MAX,
                state: Bytes::new(),
            },
            Signal::Ended,
            Signal::Follow { stream: 1 << 40 },
            Signal::Followed { stream: 3 },
            Signal::Event {
                stream: 9,
                sequence: 4,
                last: true,
                message: Bytes::from_static(b"{}"),
            },
        ] {
            let frame = Frame {
                instance: 0x0102_0304_0506_0708,
                session: "ab".repeat(32),
                signal,
            };
            assert_eq!(Frame::decode(&frame.encode()), Some(frame));
        }
    }

    #[test]
    fn garbage_is_not_a_frame() {
        for bytes in [
            &b""[..],
            b"\x02",
            b"\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00",
            b"\x02\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00",
            b"\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x05ab",
            b"\x02\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00extra",
            b"\x02\x01\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00",
            b"\x02\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00short",
        ] {
            assert_eq!(
                Frame::decode(&Bytes::copy_from_slice(bytes)),
                None,
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn copy_tags_keep_ids_below_two_to_the_fifty_third() {
        for _ in 0..100 {
            let tag = copy_tag();
            assert!((1..1 << 21).contains(&tag));
            assert!((tag << 32) + u64::from(u32::MAX) < 1 << 53);
        }
    }
}
