//! `notifications/progress`, both ways: the progress a handler reports on a request it
//! serves, and the progress the peer reports on a request we sent.
//!
//! A request asks for progress by carrying a `progressToken` in its `_meta`. The side serving
//! it reports with a [`ProgressReporter`], which keeps the values increasing as the spec
//! requires. The side that sent it registers the token in its [`ProgressRoutes`] for as long
//! as the request is pending, and looks each update's token up there.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use mcpwire_jsonrpc::RequestId;
use mcpwire_schema::v2025_11_25::ProgressNotificationParams;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is one comparison, insert, remove or lookup: a poisoned lock
    // still guards consistent data.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The last progress reported for one request, to keep the values it sends increasing.
///
/// # Examples
///
/// ```
/// use mcpwire_protocol::progress::ProgressTracker;
///
/// let tracker = ProgressTracker::default();
/// assert!(tracker.advance(1.0));
/// assert!(!tracker.advance(1.0), "not above the last value");
/// assert!(!tracker.advance(f64::NAN), "not finite");
/// assert!(tracker.advance(2.5));
/// ```
#[derive(Debug, Default)]
pub struct ProgressTracker {
    last: Mutex<Option<f64>>,
}

impl ProgressTracker {
    /// Records `progress` and returns `true` when it may be sent: it is finite and above every
    /// value recorded before. Otherwise returns `false` and records nothing.
    pub fn advance(&self, progress: f64) -> bool {
        let mut last = lock(&self.last);
        if !progress.is_finite() || last.is_some_and(|last| progress <= last) {
            return false;
        }
        *last = Some(progress);
        true
    }
}

/// The progress a handler reports on one inbound request that carried a progress token.
///
/// ```
/// use mcpwire_jsonrpc::RequestId;
/// use mcpwire_protocol::progress::ProgressReporter;
///
/// let reporter = ProgressReporter::new(RequestId::from("t1"));
/// let params = reporter.update(0.5, Some(1.0), Some("halfway")).expect("increases");
/// assert_eq!(params.progress_token, RequestId::from("t1"));
/// assert!(reporter.update(0.5, None, None).is_none(), "not above the last value");
/// ```
#[derive(Debug)]
pub struct ProgressReporter {
    token: RequestId,
    last: ProgressTracker,
}

impl ProgressReporter {
    /// A reporter for the request that carried `token`.
    pub fn new(token: RequestId) -> Self {
        ProgressReporter {
            token,
            last: ProgressTracker::default(),
        }
    }

    /// The progress token the request carried.
    pub fn token(&self) -> &RequestId {
        &self.token
    }

    /// The params of the next `notifications/progress`, or `None` when `progress` may not be
    /// sent: it is not finite or not above the last value reported.
    pub fn update(
        &self,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) -> Option<ProgressNotificationParams> {
        if !self.last.advance(progress) {
            return None;
        }
        let mut params = ProgressNotificationParams::new(progress, self.token.clone());
        params.total = total;
        params.message = message.map(str::to_owned);
        Some(params)
    }
}

/// How many ended requests' tokens are remembered, so that progress the peer sends after a
/// request ended (it was answered, cancelled or timed out) is recognised as late.
const RETIRED_TOKENS: usize = 256;

/// Where the peer's progress on our pending requests goes, by progress token.
///
/// The table is bounded: [`ProgressRoutes::route`] refuses a route beyond its limit, and the
/// request is then sent without a token. Tokens are fresh integers, so a peer cannot guess its
/// way into another request's route; the route is removed when its guard is dropped, and the
/// token is remembered a little longer as [`Destination::Ended`].
///
/// ```
/// use mcpwire_protocol::progress::{Destination, ProgressRoutes};
///
/// let routes = ProgressRoutes::new(8);
/// let route = routes.route("callback").expect("room for a route");
/// let token = route.token().clone();
/// assert!(matches!(routes.destination(&token), Destination::Route(callback) if *callback == "callback"));
/// drop(route);
/// assert!(matches!(routes.destination(&token), Destination::Ended));
/// ```
pub struct ProgressRoutes<R> {
    table: Arc<Table<R>>,
}

struct Table<R> {
    routes: Mutex<HashMap<RequestId, Arc<R>>>,
    retired: Mutex<VecDeque<RequestId>>,
    next_token: AtomicI64,
    limit: usize,
}

/// Where one progress update goes.
#[derive(Debug)]
pub enum Destination<R> {
    /// To the pending request that registered its token.
    Route(Arc<R>),
    /// Nowhere: the request it belongs to has ended, and nobody waits for it.
    Ended,
    /// The token is not one of ours.
    Unknown,
}

impl<R> ProgressRoutes<R> {
    /// An empty table that holds at most `limit` routes at once.
    pub fn new(limit: usize) -> Self {
        ProgressRoutes {
            table: Arc::new(Table {
                routes: Mutex::new(HashMap::new()),
                retired: Mutex::new(VecDeque::new()),
                next_token: AtomicI64::new(1),
                limit,
            }),
        }
    }

    /// Registers `route` under a fresh token until the returned guard is dropped; `None` when
    /// the table is full.
    pub fn route(&self, route: R) -> Option<ProgressRoute<R>> {
        let token = RequestId::from(self.table.next_token.fetch_add(1, Ordering::Relaxed));
        let route = Arc::new(route);
        {
            let mut routes = lock(&self.table.routes);
            if routes.len() >= self.table.limit {
                return None;
            }
            routes.insert(token.clone(), Arc::clone(&route));
        }
        Some(ProgressRoute {
            table: Arc::clone(&self.table),
            token,
            route,
        })
    }

    /// Where the progress carrying `token` goes.
    pub fn destination(&self, token: &RequestId) -> Destination<R> {
        if let Some(route) = lock(&self.table.routes).get(token) {
            return Destination::Route(Arc::clone(route));
        }
        if lock(&self.table.retired).contains(token) {
            Destination::Ended
        } else {
            Destination::Unknown
        }
    }
}

impl<R> Clone for ProgressRoutes<R> {
    fn clone(&self) -> Self {
        ProgressRoutes {
            table: Arc::clone(&self.table),
        }
    }
}

impl<R> std::fmt::Debug for ProgressRoutes<R> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ProgressRoutes")
            .field("routes", &lock(&self.table.routes).len())
            .field("limit", &self.table.limit)
            .finish()
    }
}

/// Keeps one progress route registered; dropping it removes the route and remembers its token
/// as ended.
pub struct ProgressRoute<R> {
    table: Arc<Table<R>>,
    token: RequestId,
    route: Arc<R>,
}

impl<R> ProgressRoute<R> {
    /// The token the request carries in `_meta.progressToken`.
    pub fn token(&self) -> &RequestId {
        &self.token
    }

    /// What the route was registered with.
    pub fn get(&self) -> &R {
        &self.route
    }
}

impl<R> Drop for ProgressRoute<R> {
    fn drop(&mut self) {
        lock(&self.table.routes).remove(&self.token);
        let mut retired = lock(&self.table.retired);
        if retired.len() == RETIRED_TOKENS {
            retired.pop_front();
        }
        retired.push_back(self.token.clone());
    }
}

impl<R> std::fmt::Debug for ProgressRoute<R> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ProgressRoute")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_bounded_and_freed_by_their_guards() {
        let routes = ProgressRoutes::new(2);
        let first = routes.route(1).expect("room");
        let second = routes.route(2).expect("room");
        assert!(routes.route(3).is_none(), "the table is full");
        assert_ne!(first.token(), second.token());
        drop(first);
        let third = routes.route(3).expect("room again");
        assert!(
            matches!(routes.destination(third.token()), Destination::Route(value) if *value == 3)
        );
    }

    #[test]
    fn only_the_latest_ended_tokens_are_remembered() {
        let routes = ProgressRoutes::new(1);
        let first = routes.route(()).expect("room");
        let token = first.token().clone();
        drop(first);
        for _ in 0..RETIRED_TOKENS {
            drop(routes.route(()).expect("room"));
        }
        assert!(matches!(routes.destination(&token), Destination::Unknown));
        assert!(matches!(
            routes.destination(&RequestId::from("foreign")),
            Destination::Unknown
        ));
    }

    #[test]
    fn reports_increase_and_stay_finite() {
        let reporter = ProgressReporter::new(RequestId::from(3));
        assert!(reporter.update(1.0, None, None).is_some());
        assert!(reporter.update(f64::INFINITY, None, None).is_none());
        assert!(reporter.update(0.5, None, None).is_none());
        let params = reporter
            .update(2.0, Some(4.0), Some("half"))
            .expect("increases");
        assert_eq!(params.total, Some(4.0));
        assert_eq!(params.message.as_deref(), Some("half"));
    }
}
