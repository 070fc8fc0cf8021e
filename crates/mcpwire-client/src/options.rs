//! Per-call options: timeout, progress callback, and whether progress extends the timeout.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mcpwire_jsonrpc::RequestId;

/// One `notifications/progress` update for a request.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// The progress token the server reported on.
    pub token: RequestId,
    /// How far along the work is; it increases with each update.
    pub progress: f64,
    /// The total the progress counts towards, when the server knows it.
    pub total: Option<f64>,
    /// A human-readable description of the current step.
    pub message: Option<String>,
}

pub(crate) type ProgressCallback = Arc<dyn Fn(Progress) + Send + Sync>;

/// Options of one call, made once and given to as many calls as need them with
/// [`Call::options`](crate::Call::options); a single call can also take each option directly
/// (`client.call_tool(…).timeout(…).await`).
///
/// ```
/// use std::time::Duration;
/// use mcpwire_client::CallOptions;
///
/// let options = CallOptions::new()
///     .timeout(Duration::from_secs(10))
///     .on_progress(|progress| println!("{} of {:?}", progress.progress, progress.total))
///     .progress_extends_timeout(Duration::from_secs(300));
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
pub struct CallOptions {
    pub(crate) timeout: Option<Option<Duration>>,
    pub(crate) on_progress: Option<ProgressCallback>,
    pub(crate) progress_maximum: Option<Option<Duration>>,
}

impl CallOptions {
    /// The client's defaults.
    pub fn new() -> Self {
        CallOptions::default()
    }

    /// Waits at most `timeout` for the response (or, when progress extends the timeout, at
    /// most `timeout` between two progress updates). Overrides the client's default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(Some(timeout));
        self
    }

    /// Waits for the response without a timeout of its own; a hard maximum set with
    /// [`CallOptions::progress_extends_timeout`] or on the client still applies.
    pub fn without_timeout(mut self) -> Self {
        self.timeout = Some(None);
        self
    }

    /// Asks the server for progress updates (a unique `_meta.progressToken` is added to the
    /// params) and hands each `notifications/progress` for this request to `callback`.
    ///
    /// The callback runs on the connection's reading task, in the order the updates arrive and
    /// before the response is delivered: keep it short, and hand longer work to a task.
    pub fn on_progress(mut self, callback: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    /// Lets each progress update restart the timeout, but never beyond `maximum` after the
    /// request was sent. A progress token is added to the params even without a callback.
    pub fn progress_extends_timeout(mut self, maximum: Duration) -> Self {
        self.progress_maximum = Some(Some(maximum));
        self
    }

    /// Keeps the timeout fixed even when the client lets progress extend it by default.
    pub fn progress_keeps_timeout(mut self) -> Self {
        self.progress_maximum = Some(None);
        self
    }
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("on_progress", &self.on_progress.is_some())
            .field("progress_maximum", &self.progress_maximum)
            .finish()
    }
}
