//! Serving over Streamable HTTP (feature `http`).

use std::future::Future;

use mcpwire_http::server::{Config, HttpSessionTransport, StreamableHttpService, serve};
use tokio::net::TcpListener;

use crate::Server;

impl Server {
    /// The Streamable HTTP endpoint of this server: every session a client opens with
    /// `initialize` is served by [`Server::serve`].
    ///
    /// The service is a `tower::Service`; mount it at the MCP endpoint of an existing hyper
    /// or axum application, or run it with [`Server::serve_http`].
    ///
    /// With the `legacy-sse` feature, a config with `HttpConfig::legacy_sse_endpoints` makes
    /// the service serve clients of the HTTP+SSE transport of 2024-11-05 too: each event
    /// stream such a client opens is a session served by [`Server::serve`] like any other.
    ///
    /// # Examples
    ///
    /// ```
    /// use mcpwire_server::{HttpConfig, Server};
    ///
    /// let server = Server::builder("example", "1.0.0").build().unwrap();
    /// let service = server.http_service(HttpConfig::default().max_sessions(100));
    /// assert_eq!(service.session_count(), 0);
    /// ```
    pub fn http_service(&self, config: Config) -> StreamableHttpService {
        let server = self.clone();
        StreamableHttpService::new(config, move |transport: HttpSessionTransport| {
            // The session runs on its own tasks and ends with the HTTP session.
            server.serve(transport);
        })
    }

    /// Serves this server over Streamable HTTP on `listener`, with the default
    /// [`HttpConfig`](crate::HttpConfig), until the process ends.
    ///
    /// The defaults accept only loopback `Host` and `Origin` values: bind to `127.0.0.1`, or
    /// use [`Server::serve_http_with`] with the allowed hosts of a public name.
    ///
    /// # Errors
    ///
    /// Fails when accepting connections fails for good.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = mcpwire_server::Server::builder("example", "1.0.0").build()?;
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// server.serve_http(listener).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve_http(&self, listener: TcpListener) -> Result<(), mcpwire_http::Error> {
        self.serve_http_with(listener, Config::default(), std::future::pending())
            .await
    }

    /// Serves this server over Streamable HTTP on `listener` with `config`, until `shutdown`
    /// completes; then every session ends and connections get the configured grace period.
    ///
    /// # Errors
    ///
    /// Fails when accepting connections fails for good.
    pub async fn serve_http_with<F>(
        &self,
        listener: TcpListener,
        config: Config,
        shutdown: F,
    ) -> Result<(), mcpwire_http::Error>
    where
        F: Future<Output = ()> + Send,
    {
        serve(listener, self.http_service(config), shutdown).await
    }
}
