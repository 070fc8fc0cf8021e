//! `subscriptions/listen`: a long-lived modern request on whose stream the server sends the
//! notifications the client opted into, each tagged with the request's id.
//!
//! The request registers a [`Listener`] with the server, sends
//! `notifications/subscriptions/acknowledged` with the part of the filter the server honours,
//! and waits: until the client cancels it (`notifications/cancelled` on stdio, closing the
//! stream on HTTP), the connection ends, or the server closes its subscriptions, in which case
//! it is answered with a complete result. Progress and log messages never go on it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use mcpwire_jsonrpc::{ErrorObject, RequestId};
use mcpwire_rpc::CancellationToken;
use mcpwire_schema::{JsonObject, meta, v2026_07_28};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::link::Link;
use crate::ListKind;

/// Most resource URIs one subscription may name.
const MAX_RESOURCE_SUBSCRIPTIONS: usize = 1024;

/// Something a subscription follows besides the lists and resources: a task of the tasks
/// extension, whose status changes go out as `notifications/tasks`.
pub(crate) trait Followed: Send + Sync + 'static {
    /// Its id, as the acknowledgement names it.
    fn id(&self) -> &str;
    /// Changes whenever what [`Followed::snapshot`] shows does.
    fn watch(&self) -> tokio::sync::watch::Receiver<u64>;
    /// The params of its notification now, and whether it will never change again.
    fn snapshot(&self) -> (JsonObject, bool);
}

/// The subscriptions of a server.
#[derive(Debug)]
pub(crate) struct Listeners {
    live: Mutex<Vec<Weak<Listener>>>,
    limit: usize,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section is a push, a retain or a copy: a poisoned lock is consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Listeners {
    /// Default most subscriptions a server holds at once: 10 000.
    pub(crate) const DEFAULT_LIMIT: usize = 10_000;
    /// Default most subscriptions one connection holds at once: 16.
    pub(crate) const DEFAULT_PER_CONNECTION: usize = 16;

    pub(crate) fn new(limit: usize) -> Self {
        Listeners {
            live: Mutex::new(Vec::new()),
            limit,
        }
    }

    /// Adds a listener, unless the server holds as many as it may.
    fn register(&self, listener: &Arc<Listener>) -> bool {
        let mut live = lock(&self.live);
        live.retain(|listener| listener.strong_count() > 0);
        if live.len() >= self.limit {
            return false;
        }
        live.push(Arc::downgrade(listener));
        true
    }

    fn snapshot(&self) -> Vec<Arc<Listener>> {
        let mut live = lock(&self.live);
        live.retain(|listener| listener.strong_count() > 0);
        live.iter().filter_map(Weak::upgrade).collect()
    }

    /// Tells the listeners that asked for it that a list changed.
    pub(crate) async fn list_changed(&self, kind: ListKind) {
        for listener in self.snapshot() {
            let wanted = match kind {
                ListKind::Tools => listener.filter.tools,
                ListKind::Prompts => listener.filter.prompts,
                ListKind::Resources => listener.filter.resources,
            };
            if wanted {
                listener.send(kind.notification(), JsonObject::new()).await;
            }
        }
    }

    /// Tells the listeners subscribed to `uri` that the resource changed.
    pub(crate) async fn resource_updated(&self, uri: &str) {
        for listener in self.snapshot() {
            if listener.filter.uris.contains(uri) {
                let mut params = JsonObject::new();
                params.insert("uri".to_owned(), Value::from(uri));
                listener
                    .send("notifications/resources/updated", params)
                    .await;
            }
        }
    }

    /// Ends every subscription with a complete result.
    pub(crate) fn close_all(&self) {
        for listener in self.snapshot() {
            listener.closed.cancel();
        }
    }
}

/// The subscriptions one connection may still open.
#[derive(Debug)]
pub(crate) struct ListenerSlots {
    used: AtomicUsize,
    limit: usize,
}

impl ListenerSlots {
    pub(crate) fn new(limit: usize) -> Self {
        ListenerSlots {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    fn acquire(self: &Arc<Self>) -> Option<Slot> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < self.limit).then_some(used + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(self)))
    }
}

/// One subscription of a connection; dropping it frees the slot.
struct Slot(Arc<ListenerSlots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The part of a filter the server honours.
#[derive(Debug, Default)]
struct Honoured {
    tools: bool,
    prompts: bool,
    resources: bool,
    uris: BTreeSet<String>,
}

/// One open subscription.
struct Listener {
    id: RequestId,
    filter: Honoured,
    link: Arc<dyn Link>,
    /// Held while the acknowledgement goes out, so that no notification overtakes it.
    gate: tokio::sync::Mutex<()>,
    /// Fires when the server closes its subscriptions.
    closed: CancellationToken,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Listener")
            .field("id", &self.id)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// Sends `method` on the subscription's stream, tagged with its id, unless the client
    /// cancelled the subscription.
    async fn send(&self, method: &str, mut params: JsonObject) {
        let _gate = self.gate.lock().await;
        if self.link.cancellation().is_cancelled() {
            return;
        }
        params.insert("_meta".to_owned(), tag(&self.id));
        let Ok(params) = serde_json::value::to_raw_value(&params) else {
            return;
        };
        if let Err(error) = self.link.notify(method, Some(params)).await {
            tracing::debug!(%error, id = %self.id, "a subscription's notification was not sent");
        }
    }
}

/// `{"io.modelcontextprotocol/subscriptionId": id}`.
fn tag(id: &RequestId) -> Value {
    let mut meta = JsonObject::new();
    meta.insert(
        meta::SUBSCRIPTION_ID.to_owned(),
        serde_json::to_value(id).unwrap_or(Value::Null),
    );
    Value::Object(meta)
}

/// Sends `followed`'s status on `listener`'s stream now and after each change, until it
/// will not change again.
async fn follow(listener: Arc<Listener>, followed: Arc<dyn Followed>) {
    // Watched before the first snapshot, so that no change falls between them.
    let mut changes = followed.watch();
    loop {
        changes.borrow_and_update();
        let (params, done) = followed.snapshot();
        listener.send("notifications/tasks", params).await;
        if done || changes.changed().await.is_err() {
            return;
        }
    }
}

#[derive(Deserialize)]
struct ListenParams {
    notifications: v2026_07_28::SubscriptionFilter,
}

/// Serves `subscriptions/listen` until the client cancels it or the server closes it, and
/// returns its result: the server's `listeners`, which honour the lists the server `offers`.
/// `tasks` are the tasks the request asked to follow (`taskIds`) that the server follows for
/// it, or `None` when it asked for none: each one's current status goes out, then every
/// change until it is terminal.
///
/// # Errors
///
/// `-32602` for params without a `notifications` filter, too many URIs, or too many
/// subscriptions on the connection or the server.
pub(crate) async fn listen(
    listeners: &Listeners,
    offers: impl Fn(ListKind) -> bool,
    params: Option<&RawValue>,
    link: Arc<dyn Link>,
    slots: Option<&Arc<ListenerSlots>>,
    tasks: Option<Vec<Arc<dyn Followed>>>,
) -> Result<JsonObject, ErrorObject> {
    let params: ListenParams = mcpwire_jsonrpc::decode_params(params)?;
    let requested = params.notifications;
    let uris = requested.resource_subscriptions.clone().unwrap_or_default();
    if uris.len() > MAX_RESOURCE_SUBSCRIPTIONS {
        return Err(ErrorObject::invalid_params(format!(
            "a subscription may name at most {MAX_RESOURCE_SUBSCRIPTIONS} resources"
        )));
    }
    let wants = |flag: Option<bool>, enabled: bool| flag == Some(true) && enabled;
    let resources = offers(ListKind::Resources);
    let filter = Honoured {
        tools: wants(requested.tools_list_changed, offers(ListKind::Tools)),
        prompts: wants(requested.prompts_list_changed, offers(ListKind::Prompts)),
        resources: wants(requested.resources_list_changed, resources),
        uris: if resources {
            uris.into_iter().collect()
        } else {
            BTreeSet::new()
        },
    };
    let acknowledged = v2026_07_28::SubscriptionFilter {
        tools_list_changed: filter.tools.then_some(true),
        prompts_list_changed: filter.prompts.then_some(true),
        resources_list_changed: filter.resources.then_some(true),
        resource_subscriptions: requested.resource_subscriptions.filter(|_| resources),
    };
    let _slot = match slots {
        Some(slots) => Some(slots.acquire().ok_or_else(|| {
            ErrorObject::invalid_params("too many subscriptions on this connection")
        })?),
        None => None,
    };
    let listener = Arc::new(Listener {
        id: link.request_id().clone(),
        filter,
        link: Arc::clone(&link),
        gate: tokio::sync::Mutex::new(()),
        closed: CancellationToken::new(),
    });
    {
        // Registered first, so that no change is lost; the gate holds its notifications back
        // until the acknowledgement is out.
        let _gate = listener.gate.lock().await;
        if !listeners.register(&listener) {
            return Err(ErrorObject::invalid_params(
                "too many subscriptions on this server",
            ));
        }
        let mut notifications = serde_json::to_value(acknowledged).unwrap_or(Value::Null);
        if let (Some(tasks), Value::Object(notifications)) = (&tasks, &mut notifications) {
            let ids = tasks.iter().map(|task| Value::from(task.id())).collect();
            notifications.insert("taskIds".to_owned(), Value::Array(ids));
        }
        let mut params = JsonObject::new();
        params.insert("_meta".to_owned(), tag(&listener.id));
        params.insert("notifications".to_owned(), notifications);
        let params = serde_json::value::to_raw_value(&params)
            .map_err(|error| ErrorObject::internal_error(error.to_string()))?;
        link.notify("notifications/subscriptions/acknowledged", Some(params))
            .await
            .map_err(|error| ErrorObject::internal_error(error.to_string()))?;
    }
    // Ends with the subscription: dropping the set stops every follower.
    let mut followers = tokio::task::JoinSet::new();
    for task in tasks.into_iter().flatten() {
        followers.spawn(follow(Arc::clone(&listener), task));
    }
    tokio::select! {
        () = link.cancellation().cancelled() => {}
        () = listener.closed.cancelled() => {}
    }
    drop(followers);
    let mut result = JsonObject::new();
    result.insert("resultType".to_owned(), Value::from("complete"));
    result.insert("_meta".to_owned(), tag(&listener.id));
    Ok(result)
}
