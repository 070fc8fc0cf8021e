//! [`IdTokenSource`]: where the user's ID token, from single sign-on, comes from.

use std::future::Future;
use std::pin::Pin;

use mcpwire_auth::client::Secret;

/// The future an [`IdTokenSource`] answers with: the user's current ID token.
pub type IdTokenFuture =
    Pin<Box<dyn Future<Output = Result<Secret, Box<dyn std::error::Error + Send + Sync>>> + Send>>;

/// Where the identity assertion of the signed-in user comes from: the ID token the
/// enterprise identity provider issued when the user signed in to the application (or a SAML
/// assertion, with
/// [`EnterpriseManagedAuthorization::subject_token_type`](crate::EnterpriseManagedAuthorization::subject_token_type)).
///
/// It is asked for each grant, that is, when the client first needs a token for an MCP
/// server and again shortly before that token expires, so an application that renews its
/// ID token (with its own refresh token at the identity provider, or by signing the user in
/// again) hands out the current one.
///
/// Implemented by:
///
/// - [`Secret`]: one token, the same every time (a command-line tool, a test);
/// - any `Fn() -> impl Future<Output = Result<Secret, E>>`, `E` an error: an async closure
///   that reads the application's session, renewing the token when it must.
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// use mcpwire_auth::client::Secret;
/// use mcpwire_ext_enterprise_auth::IdTokenSource;
///
/// fn takes(_: impl IdTokenSource) {}
///
/// // The application keeps the current ID token where its sign-in code puts it.
/// let session: Arc<Mutex<Option<Secret>>> = Arc::new(Mutex::new(None));
/// takes(move || {
///     let session = session.clone();
///     async move {
///         let token = session.lock().map_err(|_| "the session is poisoned")?.clone();
///         token.ok_or("the user is not signed in")
///     }
/// });
/// takes(Secret::new("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"));
/// ```
pub trait IdTokenSource: Send + Sync + 'static {
    /// The user's current ID token.
    ///
    /// An error, and an empty token, fail the grant and the request that needed it, with
    /// [`Error::is_id_token`](crate::Error::is_id_token); the error must not contain the
    /// token.
    fn id_token(&self) -> IdTokenFuture;
}

impl IdTokenSource for Secret {
    fn id_token(&self) -> IdTokenFuture {
        let token = self.clone();
        Box::pin(async move { Ok(token) })
    }
}

impl<F, Fut, E> IdTokenSource for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Secret, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn id_token(&self) -> IdTokenFuture {
        let token = self();
        Box::pin(async move { token.await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_value_is_given_as_it_is_and_a_closure_is_asked_each_time() {
        let value = Secret::new("id-token");
        assert_eq!(value.id_token().await.unwrap().expose(), "id-token");
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = asked.clone();
        let renewing = move || {
            let round = counter.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, std::io::Error>(Secret::new(format!("id-token-{round}"))) }
        };
        assert_eq!(renewing.id_token().await.unwrap().expose(), "id-token-0");
        assert_eq!(renewing.id_token().await.unwrap().expose(), "id-token-1");
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        let signed_out = || async { Err::<Secret, _>("the user is not signed in") };
        let error = signed_out.id_token().await.unwrap_err();
        assert_eq!(error.to_string(), "the user is not signed in");
    }
}
