//! What an SSE connection of a request's stream tells the event store once it has written the
//! stream's last event: the client holds no position in the stream to resume from, so the
//! store may release the stream's events sooner than those of a stream the client lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Context;

use crate::server::event_store::{BoxFuture, EventStore};

/// Whether a stream's last event was queued on one SSE connection: set by the session, which
/// queues it, and read by the connection's body once it has written everything queued.
#[derive(Debug, Default)]
pub(crate) struct Handover {
    last_queued: AtomicBool,
}

impl Handover {
    /// A handover whose last event is queued already: a replay that ends with the response.
    pub(crate) fn queued() -> Arc<Handover> {
        Arc::new(Handover {
            last_queued: AtomicBool::new(true),
        })
    }

    /// The stream's last event is queued on this connection.
    pub(crate) fn last_queued(&self) {
        self.last_queued.store(true, Ordering::Release);
    }
}

/// Tells the event store that the client was handed every event of a stream, when the body
/// of the stream's connection ends after writing its last event.
pub(crate) struct Delivery {
    store: Arc<dyn EventStore>,
    session: Arc<str>,
    stream: u64,
    handover: Arc<Handover>,
}

impl Delivery {
    pub(crate) fn new(
        store: Arc<dyn EventStore>,
        session: Arc<str>,
        stream: u64,
        handover: Arc<Handover>,
    ) -> Self {
        Delivery {
            store,
            session,
            stream,
            handover,
        }
    }

    /// The body has written every frame it was given and ends: tells the store when the
    /// stream's last event was among them. The store's answer is polled here, in the body's
    /// task, and only a store that must wait (one on another service) gets a task of its own.
    pub(crate) fn written(self, context: &mut Context<'_>) {
        // The session sets the flag before it lets go of the connection's sender, and the
        // body ends only once every sender is gone.
        if !self.handover.last_queued.load(Ordering::Acquire) {
            return;
        }
        let mut report: BoxFuture<'static, ()> = Box::pin(async move {
            self.store.delivered(&self.session, self.stream).await;
        });
        if report.as_mut().poll(context).is_ready() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(report);
            }
            // Without a runtime the store keeps the events for a completed stream's retention.
            Err(_) => tracing::debug!("a delivered stream could not be reported to the store"),
        }
    }
}
