//! The authorization step: sending the user to the authorization server and getting back
//! the redirect that carries the code ([`UserAgent`]), and the headless user agent of tests
//! and automated clients ([`HeadlessUserAgent`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use http::header::LOCATION;
use mcpwire_http::client::BoxError;
use url::Url;

use crate::error::{Error, Kind};
use crate::fetch::{Fetcher, origin};

/// The future a [`UserAgent`] answers with: the URL the authorization server redirected to.
pub type AuthorizationFuture = Pin<Box<dyn Future<Output = Result<Url, BoxError>> + Send>>;

/// What the user agent is asked to do: open the authorization URL and wait for the
/// redirect to the client's redirect URI.
pub struct AuthorizationPrompt {
    url: Url,
    state: String,
    fetcher: Fetcher,
}

impl AuthorizationPrompt {
    pub(crate) fn new(url: Url, state: String, fetcher: Fetcher) -> Self {
        AuthorizationPrompt {
            url,
            state,
            fetcher,
        }
    }

    /// The authorization URL, already checked against the fetch policy (`https`, or
    /// loopback `http` when allowed): safe to hand to a browser (without a shell).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `state` the redirect must carry back; a user agent that listens for the
    /// redirect uses it to ignore foreign requests.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// `GET`s the authorization URL through the client's HTTP stack and fetch policy
    /// without following the redirect, and returns its `Location`: what an authorization
    /// server that authorizes without user interaction (a test server, or one that already
    /// holds consent) answers.
    ///
    /// # Errors
    ///
    /// When the fetch fails, or the answer is not a redirect with an absolute `Location`.
    pub async fn follow_redirect(&self) -> Result<Url, Error> {
        let response = self.fetcher.get(&self.url).await?;
        if !response.status.is_redirection() {
            return Err(Error::new(
                Kind::Authorization,
                format!(
                    "the authorization endpoint at {} answered {} instead of a redirect",
                    origin(&self.url),
                    response.status
                ),
            ));
        }
        let location = response
            .headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| Error::new(Kind::Authorization, "the redirect has no Location"))?;
        self.url.join(location).map_err(|error| {
            Error::new(Kind::Authorization, "the redirect's Location is not a URL")
                .with_source(error)
        })
    }
}

impl fmt::Debug for AuthorizationPrompt {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AuthorizationPrompt")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

/// Sends the user to the authorization server and returns where it redirected them.
///
/// The redirect URL is returned whole: the client checks its `state` and `iss`, and reads
/// `code` or `error` from it.
pub trait UserAgent: Send + Sync + 'static {
    /// The redirect URI the client registers and sends in authorization requests.
    fn redirect_uri(&self) -> &str;

    /// Opens `prompt.url()` and resolves to the URL the authorization server redirected to
    /// (the redirect URI with `code`, `state` and perhaps `iss`).
    fn authorize(&self, prompt: AuthorizationPrompt) -> AuthorizationFuture;
}

/// A user agent without a user: it follows the authorization URL's first redirect itself
/// ([`AuthorizationPrompt::follow_redirect`]). For tests, and for authorization servers that
/// grant without interaction.
#[derive(Clone, Debug)]
pub struct HeadlessUserAgent {
    redirect_uri: String,
}

impl HeadlessUserAgent {
    /// A headless user agent that registers `redirect_uri` (nothing listens there: the
    /// redirect is read, not followed).
    pub fn new(redirect_uri: impl Into<String>) -> Self {
        HeadlessUserAgent {
            redirect_uri: redirect_uri.into(),
        }
    }
}

impl UserAgent for HeadlessUserAgent {
    fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    fn authorize(&self, prompt: AuthorizationPrompt) -> AuthorizationFuture {
        Box::pin(async move {
            prompt
                .follow_redirect()
                .await
                .map_err(|error| Box::new(error) as BoxError)
        })
    }
}
