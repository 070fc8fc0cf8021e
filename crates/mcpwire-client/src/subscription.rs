//! `subscriptions/listen` (modern era): long-lived requests whose notifications, tagged with
//! the request's id, are routed to their own bounded channel.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mcpwire_jsonrpc::RequestId;
use mcpwire_rpc::{Peer, RequestOptions};
use mcpwire_schema::v2026_07_28::{
    SubscriptionFilter, SubscriptionsAcknowledgedNotificationParams,
};
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};

use crate::{Error, ServerNotification};

pub(crate) const METHOD: &str = "subscriptions/listen";
const ACKNOWLEDGED: &str = "notifications/subscriptions/acknowledged";

type ListenRequest =
    Pin<Box<dyn Future<Output = Result<Box<RawValue>, mcpwire_rpc::Error>> + Send>>;

/// The routes of the live subscriptions of a connection, by subscription id (the id of the
/// `subscriptions/listen` request). Clones share the routes: each [`Subscription`] keeps one
/// to withdraw its route when dropped.
#[derive(Clone, Default)]
pub(crate) struct Subscriptions {
    routes: Arc<Mutex<HashMap<RequestId, Route>>>,
}

struct Route {
    events: mpsc::Sender<ServerNotification>,
    /// Taken by the acknowledgement, which resolves [`open`].
    acknowledged: Option<oneshot::Sender<SubscriptionFilter>>,
}

impl Subscriptions {
    fn lock(&self) -> MutexGuard<'_, HashMap<RequestId, Route>> {
        // Every critical section is a single insert, lookup or removal, so a poisoned lock
        // still guards consistent data.
        self.routes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hands a notification tagged with the subscription `id` to that subscription: the
    /// acknowledgement resolves its opening, others are decoded with `decode` and queued. A
    /// notification for no live subscription, or beyond a full queue, is dropped.
    pub(crate) fn deliver(
        &self,
        id: &RequestId,
        method: String,
        params: Option<&RawValue>,
        decode: impl FnOnce(String, Option<&RawValue>) -> Option<ServerNotification>,
    ) {
        if method == ACKNOWLEDGED {
            let Some(acknowledged) = self
                .lock()
                .get_mut(id)
                .and_then(|route| route.acknowledged.take())
            else {
                tracing::debug!(%id, "ignoring an acknowledgement for no subscription waiting");
                return;
            };
            // An acknowledgement whose filter cannot be read acknowledges nothing in particular.
            let filter = mcpwire_jsonrpc::decode_params::<
                SubscriptionsAcknowledgedNotificationParams,
            >(params)
            .map(|params| params.notifications)
            .unwrap_or_default();
            let _ = acknowledged.send(filter);
            return;
        }
        let Some(events) = self.lock().get(id).map(|route| route.events.clone()) else {
            tracing::debug!(%id, %method, "dropping a notification for no live subscription");
            return;
        };
        let Some(notification) = decode(method, params) else {
            return;
        };
        if let Err(mpsc::error::TrySendError::Full(notification)) = events.try_send(notification) {
            tracing::warn!(
                %id,
                ?notification,
                "dropping a subscription's notification: its queue is full"
            );
        }
    }

    fn register(
        &self,
        id: RequestId,
        capacity: usize,
    ) -> (
        mpsc::Receiver<ServerNotification>,
        oneshot::Receiver<SubscriptionFilter>,
    ) {
        let (events, receiver) = mpsc::channel(capacity.max(1));
        let (acknowledged, acknowledgement) = oneshot::channel();
        self.lock().insert(
            id,
            Route {
                events,
                acknowledged: Some(acknowledged),
            },
        );
        (receiver, acknowledgement)
    }

    fn remove(&self, id: &RequestId) {
        self.lock().remove(id);
    }
}

/// A `subscriptions/listen` stream, opened by [`Client::listen`](crate::Client::listen): the
/// notifications the server sends for it, in order.
///
/// Dropping it ends the subscription: the request is withdrawn, which sends
/// `notifications/cancelled` for it on stdio.
pub struct Subscription {
    id: RequestId,
    acknowledged: SubscriptionFilter,
    events: mpsc::Receiver<ServerNotification>,
    /// The listen request, until it ends.
    request: Option<ListenRequest>,
    routes: Subscriptions,
}

impl Subscription {
    /// The subscription's id: the JSON-RPC id of its `subscriptions/listen` request.
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// What the server agreed to send, from its acknowledgement: the requested filter without
    /// the notification types it does not support.
    pub fn acknowledged(&self) -> &SubscriptionFilter {
        &self.acknowledged
    }

    /// The next notification of the subscription: `notifications/tools/list_changed`,
    /// `…/prompts/list_changed`, `…/resources/list_changed` or `…/resources/updated`.
    ///
    /// Returns `None` once the subscription has ended and every notification sent before the
    /// end was returned. When the server ends it gracefully (it answers the listen request)
    /// that is all; when it fails (an error response, or the connection closes) the error
    /// comes once, before `None`.
    ///
    /// Notifications wait in a queue of
    /// [`ClientBuilder::subscription_capacity`](crate::ClientBuilder::subscription_capacity)
    /// entries; while it is full, further notifications are dropped (with a warning).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no notification.
    pub async fn next(&mut self) -> Option<Result<ServerNotification, Error>> {
        if let Ok(notification) = self.events.try_recv() {
            return Some(Ok(notification));
        }
        let request = self.request.as_mut()?;
        let outcome = tokio::select! {
            biased;
            notification = self.events.recv() => return notification.map(Ok),
            outcome = request => outcome,
        };
        self.request = None;
        match outcome {
            // The notifications of a stream precede its end, so they are all queued by now.
            Ok(_) => self.events.try_recv().ok().map(Ok),
            Err(error) => Some(Err(Error::rpc(METHOD, error))),
        }
    }

    /// Whether the subscription has ended (notifications may still wait in the queue).
    pub fn is_ended(&self) -> bool {
        self.request.is_none()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.routes.remove(&self.id);
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Subscription")
            .field("id", &self.id)
            .field("acknowledged", &self.acknowledged)
            .field("ended", &self.is_ended())
            .finish_non_exhaustive()
    }
}

/// Sends `subscriptions/listen` with `params` and waits, at most `acknowledgement_timeout`,
/// for the server's acknowledgement.
///
/// The subscription's route exists before the request is sent, so no notification of the
/// stream can arrive unrouted.
pub(crate) async fn open(
    peer: &Peer,
    routes: &Subscriptions,
    params: Box<RawValue>,
    capacity: usize,
    acknowledgement_timeout: Option<Duration>,
) -> Result<Subscription, Error> {
    let mut options = RequestOptions::default();
    // The stream lasts until either side ends it.
    options.timeout = Some(None);
    let request = peer
        .begin_request(METHOD, Some(params), options)
        .await
        .map_err(|error| Error::rpc(METHOD, error))?;
    let id = request.id().clone();
    let (events, acknowledgement) = routes.register(id.clone(), capacity);
    let mut subscription = Subscription {
        id,
        acknowledged: SubscriptionFilter::default(),
        events,
        request: Some(Box::pin(request.send())),
        routes: routes.clone(),
    };
    let request = subscription
        .request
        .as_mut()
        .expect("the request was just set");
    let acknowledged = async {
        tokio::select! {
            biased;
            filter = acknowledgement => Ok(filter),
            outcome = request => Err(outcome),
        }
    };
    let acknowledged = match acknowledgement_timeout {
        Some(limit) => tokio::time::timeout(limit, acknowledged)
            .await
            // Dropping the subscription on return withdraws the request.
            .map_err(|_| Error::timeout(METHOD))?,
        None => acknowledged.await,
    };
    match acknowledged {
        Ok(Ok(filter)) => subscription.acknowledged = filter,
        // The server ended the stream without acknowledging it: an empty subscription. (The
        // acknowledgement's sender lives in the route, as long as the subscription, so it
        // cannot be gone.)
        Ok(Err(_)) | Err(Ok(_)) => subscription.request = None,
        Err(Err(error)) => return Err(Error::rpc(METHOD, error)),
    }
    Ok(subscription)
}
