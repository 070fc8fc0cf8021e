//! The HTTP stack under the client transports: any `tower` service of HTTP requests, by
//! default hyper-util's pooled client over rustls.
//!
//! The transports send each request through an [`HttpClientService`]. The builder makes the
//! default one from its settings (connect timeout, TLS) or takes the user's
//! ([`HttpClientBuilder::service`](crate::client::HttpClientBuilder::service)), then wraps it
//! in the user's layers ([`HttpClientBuilder::layer`](crate::client::HttpClientBuilder::layer)):
//! authorization, extra headers, retries, tracing or metrics are `tower` layers.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt as _};

use crate::client::Error as HttpError;
use crate::client::tls::TlsSetup;

/// An error of any kind, as `tower` services report them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The request body the transports send: one JSON message, or nothing.
pub type RequestBody = Full<Bytes>;

/// The response body the transports read: boxed, so that any service's body fits.
pub type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// The HTTP stack the client transports send through: a cloneable `tower` service from
/// requests with a [`RequestBody`] to responses with a [`ResponseBody`].
pub type HttpClientService =
    BoxCloneSyncService<Request<RequestBody>, Response<ResponseBody>, BoxError>;

/// Boxes `service` as an [`HttpClientService`], boxing its response bodies and errors.
pub(crate) fn boxed<S, B>(service: S) -> HttpClientService
where
    S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    BoxCloneSyncService::new(
        service
            .map_response(|response: Response<B>| {
                response.map(|body| body.map_err(Into::into).boxed_unsync())
            })
            .map_err(Into::into),
    )
}

/// Wraps `service` in `layer`, boxing what the layer makes.
pub(crate) fn layered<L>(layer: &L, service: HttpClientService) -> HttpClientService
where
    L: Layer<HttpClientService>,
    L::Service: Service<Request<RequestBody>, Response = Response<ResponseBody>, Error = BoxError>
        + Clone
        + Send
        + Sync
        + 'static,
    <L::Service as Service<Request<RequestBody>>>::Future: Send + 'static,
{
    BoxCloneSyncService::new(layer.layer(service))
}

/// The default stack: hyper-util's pooled HTTP/1.1 client with `TCP_NODELAY` and
/// `connect_timeout`, `https` through rustls as `tls` says.
pub(crate) fn default_service(
    tls: TlsSetup,
    connect_timeout: Duration,
) -> Result<HttpClientService, HttpError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls.into_config()?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client: Client<_, RequestBody> = Client::builder(TokioExecutor::new()).build(connector);
    Ok(boxed(client))
}
