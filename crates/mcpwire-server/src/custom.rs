//! Custom methods, registered with `ServerBuilder::request` and `request_raw`: requests of
//! methods the server does not answer itself, an extension's or the application's own. Both
//! eras route them through the same table, after the methods of the spec.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use mcpwire_jsonrpc::{ErrorObject, RequestMethod};
use mcpwire_schema::Era;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::router::Route;
use crate::{Context, Error, HandlerError};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A registered method's handler, on JSON params (`null` when absent) and result.
pub(crate) type Handler =
    Arc<dyn Fn(Value, Context) -> BoxFuture<Result<Value, HandlerError>> + Send + Sync>;

/// The custom methods of a server, by name.
#[derive(Default)]
pub(crate) struct Methods(BTreeMap<String, Handler>);

impl std::fmt::Debug for Methods {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_list().entries(self.0.keys()).finish()
    }
}

impl Methods {
    /// The table of `registered`, refusing a name registered twice, a method of the spec,
    /// and a name that is not a method name.
    pub(crate) fn new(registered: Vec<(String, Handler)>) -> Result<Self, Error> {
        let mut methods = BTreeMap::new();
        for (method, handler) in registered {
            if method.is_empty() || method.starts_with("notifications/") {
                return Err(Error::invalid_definition(format!(
                    "`{method}` cannot name a request method"
                )));
            }
            if Route::of(&method).is_some() {
                return Err(Error::invalid_definition(format!(
                    "`{method}` is answered by the server itself"
                )));
            }
            if methods.insert(method.clone(), handler).is_some() {
                return Err(Error::invalid_definition(format!(
                    "two handlers for the method `{method}`"
                )));
            }
        }
        Ok(Methods(methods))
    }

    /// The handler of `method`, if one is registered.
    pub(crate) fn get(&self, method: &str) -> Option<&Handler> {
        self.0.get(method)
    }
}

/// The handler of a typed method `M`: params decoded as `M::Params` (`-32602` when they do
/// not fit), the result encoded from `M::Result`.
pub(crate) fn typed<M, F, Fut>(handler: F) -> Handler
where
    M: RequestMethod,
    F: Fn(M::Params, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<M::Result, HandlerError>> + Send + 'static,
{
    let handler = Arc::new(handler);
    Arc::new(move |params: Value, context: Context| {
        let handler = Arc::clone(&handler);
        Box::pin(async move {
            let params: M::Params = serde_json::from_value(params).map_err(|error| {
                HandlerError::invalid_params(format!("invalid params of `{}`: {error}", M::METHOD))
            })?;
            let result = handler(params, context).await?;
            serde_json::to_value(result).map_err(|error| {
                HandlerError::new(format!(
                    "the result of `{}` cannot be encoded: {error}",
                    M::METHOD
                ))
            })
        })
    })
}

/// The handler of a method on raw JSON.
pub(crate) fn raw<F, Fut>(handler: F) -> Handler
where
    F: Fn(Value, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, HandlerError>> + Send + 'static,
{
    let handler = Arc::new(handler);
    Arc::new(move |params: Value, context: Context| {
        let handler = Arc::clone(&handler);
        Box::pin(async move { handler(params, context).await })
    })
}

/// The params of a request as JSON, `null` when absent.
pub(crate) fn params_value(params: Option<&RawValue>) -> Result<Value, HandlerError> {
    match params {
        None => Ok(Value::Null),
        Some(params) => serde_json::from_str(params.get())
            .map_err(|error| HandlerError::invalid_params(format!("invalid params: {error}"))),
    }
}

/// Serves a custom method in a legacy session: the handler's result as built, which must be
/// a JSON object.
pub(crate) async fn serve_legacy(
    handler: &Handler,
    params: Option<&RawValue>,
    context: Context,
) -> Result<Box<RawValue>, ErrorObject> {
    let params = params_value(params).map_err(|error| error.into_error_object(Era::Legacy))?;
    let result = context
        .run(|context| handler(params, context))
        .await
        .map_err(|error| error.into_error_object(Era::Legacy))?;
    encode_object(result)
}

/// `result`, which must be a JSON object, as raw JSON.
pub(crate) fn encode_object(result: Value) -> Result<Box<RawValue>, ErrorObject> {
    if !result.is_object() {
        return Err(ErrorObject::internal_error(
            "the result of a custom method is not a JSON object",
        ));
    }
    serde_json::value::to_raw_value(&result)
        .map_err(|error| ErrorObject::internal_error(error.to_string()))
}
