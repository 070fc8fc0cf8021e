//! A request on its way: [`Call`], which [`Client::request`], [`Client::request_raw`] and
//! [`Client::call_tool`] return, takes the per-call options and sends when awaited.

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use mcpwire_jsonrpc::method::RequestMethod;
use mcpwire_schema::FromClient;
use mcpwire_schema::v2025_11_25::methods::CallTool;
use mcpwire_schema::v2025_11_25::{CallToolRequestParams, CallToolResult};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::client::{Sent, decode, tool_arguments};
use crate::{CallOptions, Client, Error, Progress};

/// One request to the server, sent when awaited: set its options first, if any.
///
/// ```no_run
/// # async fn run(client: mcpwire_client::Client) -> Result<(), mcpwire_client::Error> {
/// use std::time::Duration;
/// use serde_json::json;
///
/// // With the client's defaults:
/// let sum = client.call_tool("add", json!({"a": 1, "b": 2})).await?;
/// // With options of its own:
/// let report = client
///     .call_tool("index", json!({"path": "/src"}))
///     .timeout(Duration::from_secs(30))
///     .on_progress(|progress| println!("{} of {:?}", progress.progress, progress.total))
///     .await?;
/// # Ok(()) }
/// ```
///
/// # Cancel safety
///
/// Dropping the future cancels the request on the wire.
#[must_use = "a call sends nothing until it is awaited"]
pub struct Call<'a, P, R> {
    client: &'a Client,
    method: Cow<'a, str>,
    /// The params, or why they could not be made (reported when awaited).
    params: Result<P, Error>,
    options: CallOptions,
    decode: fn(&str, &serde_json::value::RawValue) -> Result<R, Error>,
}

impl<'a, P, R> Call<'a, P, R> {
    /// Replaces every option of this call with `options`, for options made once and reused.
    pub fn options(mut self, options: CallOptions) -> Self {
        self.options = options;
        self
    }

    /// Waits at most `timeout` for the response; see [`CallOptions::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.timeout(timeout);
        self
    }

    /// Waits without a timeout of its own; see [`CallOptions::without_timeout`].
    pub fn without_timeout(mut self) -> Self {
        self.options = self.options.without_timeout();
        self
    }

    /// Asks for progress and hands each update to `callback`; see
    /// [`CallOptions::on_progress`].
    pub fn on_progress(mut self, callback: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.options = self.options.on_progress(callback);
        self
    }

    /// Lets progress restart the timeout, up to `maximum`; see
    /// [`CallOptions::progress_extends_timeout`].
    pub fn progress_extends_timeout(mut self, maximum: Duration) -> Self {
        self.options = self.options.progress_extends_timeout(maximum);
        self
    }

    /// Keeps the timeout fixed; see [`CallOptions::progress_keeps_timeout`].
    pub fn progress_keeps_timeout(mut self) -> Self {
        self.options = self.options.progress_keeps_timeout();
        self
    }
}

impl<'a, P, R> IntoFuture for Call<'a, P, R>
where
    P: Serialize + Send + Sync + 'a,
    R: Send + 'a,
{
    type Output = Result<R, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<R, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let params = self.params?;
            let result = self
                .client
                .call(&self.method, &params, self.options)
                .await?;
            (self.decode)(&self.method, &result)
        })
    }
}

impl<P, R> fmt::Debug for Call<'_, P, R> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Call")
            .field("method", &self.method)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Sends one call and returns its result: a call the server runs as a task of the tasks
    /// extension is followed to its end.
    pub(crate) async fn call<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        options: CallOptions,
    ) -> Result<Box<RawValue>, Error> {
        match self.send_call(method, params, options).await? {
            Sent::Result(result) => Ok(result),
            #[cfg(feature = "tasks")]
            Sent::Task(created) => crate::task_handle::follow(self, &created).await,
        }
    }

    /// Sends the request `M` and decodes its result, when awaited; the compiler checks that
    /// `M` is a method the client sends. Per-call options go on the returned [`Call`].
    ///
    /// ```no_run
    /// # async fn run(client: mcpwire_client::Client) -> Result<(), mcpwire_client::Error> {
    /// use mcpwire_schema::v2025_11_25::methods::ListTools;
    ///
    /// let first_page = client.request::<ListTools>(None).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] (nothing sent), [`Error::is_remote`],
    /// [`Error::is_timeout`], [`Error::is_closed`], [`Error::is_encode`] or
    /// [`Error::is_decode`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the request on the wire.
    pub fn request<M>(&self, params: M::Params) -> Call<'_, M::Params, M::Result>
    where
        M: RequestMethod + FromClient,
        M::Result: DeserializeOwned,
    {
        Call {
            client: self,
            method: Cow::Borrowed(M::METHOD),
            params: Ok(params),
            options: CallOptions::default(),
            decode: decode::<M::Result>,
        }
    }

    /// Sends a request by method name with JSON params (`Value::Null` for none), and returns
    /// the raw JSON result, when awaited: the dynamic path, for methods this crate has no
    /// type for. Per-call options go on the returned [`Call`].
    ///
    /// # Errors
    ///
    /// As [`Client::request`]; params that are neither an object nor null fail with
    /// [`Error::is_encode`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the request on the wire.
    pub fn request_raw<'a>(&'a self, method: &'a str, params: Value) -> Call<'a, Value, Value> {
        Call {
            client: self,
            method: Cow::Borrowed(method),
            params: Ok(params),
            options: CallOptions::default(),
            decode: decode::<Value>,
        }
    }

    /// Calls the tool `name` with `arguments`, a JSON object (or `Value::Null` for none), when
    /// awaited. Per-call options, such as a progress callback, go on the returned [`Call`].
    ///
    /// A tool that fails returns `Ok` with `is_error: Some(true)`; `Err` means the call itself
    /// failed.
    ///
    /// # Errors
    ///
    /// As [`Client::request`]; arguments that are not an object fail with
    /// [`Error::is_encode`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the call on the wire.
    pub fn call_tool(
        &self,
        name: impl Into<String>,
        arguments: Value,
    ) -> Call<'_, CallToolRequestParams, CallToolResult> {
        let method = <CallTool as RequestMethod>::METHOD;
        let params = tool_arguments(method, arguments).map(|arguments| {
            let mut params = CallToolRequestParams::new(name);
            params.arguments = arguments;
            params
        });
        Call {
            client: self,
            method: Cow::Borrowed(method),
            params,
            options: CallOptions::default(),
            decode: decode::<CallToolResult>,
        }
    }
}
