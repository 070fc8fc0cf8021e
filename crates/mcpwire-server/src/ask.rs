//! Asking the client: the options of an ask ([`AskOptions`], with the [`ClientProgress`] the
//! client reports), the capability checks every ask passes first, and the decoding of the
//! client's answer. Shared by a handler's [`Context`](crate::Context) and the
//! [`Session`](crate::Session) handle.

use std::sync::Arc;

use mcpwire_schema::v2025_11_25 as wire;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::Error;

/// Options of a request a handler sends to the client.
#[derive(Clone, Default)]
pub struct AskOptions {
    pub(crate) on_progress: Option<ProgressCallback>,
    pub(crate) key: Option<String>,
}

/// A callback for the progress the client reports on a request.
pub(crate) type ProgressCallback = Arc<dyn Fn(ClientProgress) + Send + Sync>;

impl AskOptions {
    /// Default options.
    pub fn new() -> Self {
        AskOptions::default()
    }

    /// Asks the client for progress (the request carries a progress token) and hands each
    /// `notifications/progress` the client sends for it to `callback`, until the request
    /// ends. The callback runs on the session's reading task: keep it short. The modern era
    /// has no progress on input requests: there the callback is never called.
    pub fn on_progress(
        mut self,
        callback: impl Fn(ClientProgress) + Send + Sync + 'static,
    ) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    /// Names the ask in the modern era: the key of its entry in `inputRequests` and of the
    /// client's answer in `inputResponses`. Keys must be unique within one run of the handler;
    /// by default asks are named `input-1`, `input-2`... in the order the handler makes them.
    /// The legacy era ignores it.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

impl std::fmt::Debug for AskOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AskOptions")
            .field("on_progress", &self.on_progress.is_some())
            .field("key", &self.key)
            .finish()
    }
}

/// Progress the client reported on a request the server sent it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientProgress {
    /// Progress so far; it increases with each update.
    pub progress: f64,
    /// The total, when the client knows it.
    pub total: Option<f64>,
    /// A human-readable message about the progress.
    pub message: Option<String>,
}

/// Whether a client that declared `capabilities` may be asked for `params`.
pub(crate) fn check_sampling(
    capabilities: &wire::ClientCapabilities,
    params: &wire::CreateMessageRequestParams,
) -> Result<(), Error> {
    let Some(sampling) = &capabilities.sampling else {
        return Err(Error::capability_missing("sampling"));
    };
    if (params.tools.is_some() || params.tool_choice.is_some()) && sampling.tools.is_none() {
        return Err(Error::capability_missing("sampling.tools"));
    }
    Ok(())
}

/// Whether a client that declared `capabilities` may be asked for `params`.
pub(crate) fn check_elicitation(
    capabilities: &wire::ClientCapabilities,
    params: &wire::ElicitRequestParams,
) -> Result<(), Error> {
    let Some(elicitation) = &capabilities.elicitation else {
        return Err(Error::capability_missing("elicitation"));
    };
    match params {
        wire::ElicitRequestParams::ElicitRequestURLParams(_) if elicitation.url.is_none() => {
            Err(Error::capability_missing("elicitation.url"))
        }
        // An empty elicitation capability means form mode only.
        wire::ElicitRequestParams::ElicitRequestFormParams(_)
            if elicitation.form.is_none() && elicitation.url.is_some() =>
        {
            Err(Error::capability_missing("elicitation.form"))
        }
        _ => Ok(()),
    }
}

/// Decodes a client's result.
pub(crate) fn decode_result<T: DeserializeOwned>(result: &RawValue) -> Result<T, Error> {
    serde_json::from_str(result.get())
        .map_err(|error| Error::protocol(format!("the client's result is malformed: {error}")))
}
