//! [`TokenVerifier`]: how a bearer token becomes a [`Principal`], or is refused.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::secret::Secret;
use crate::server::principal::Principal;

/// The future a [`TokenVerifier`] returns.
pub type VerifyFuture<'a> = Pin<Box<dyn Future<Output = Result<Principal, Rejection>> + Send + 'a>>;

/// Verifies a bearer token and says whom it speaks for.
///
/// A verifier must refuse every token that was not issued for this resource: check its
/// signature or ask its issuer, and check its issuer, its audience and its lifetime.
/// [`JwtVerifier`](crate::server::JwtVerifier) and
/// [`IntrospectionVerifier`](crate::server::IntrospectionVerifier) do; a closure given to
/// [`verify_fn`] must.
///
/// The scopes every request needs are checked by the layer, after the verifier, against
/// [`Principal::scopes`].
pub trait TokenVerifier: Send + Sync + 'static {
    /// Verifies `token`.
    ///
    /// # Errors
    ///
    /// A [`Rejection`]: [`Rejection::invalid_token`] becomes `401` with
    /// `error="invalid_token"`, [`Rejection::unavailable`] becomes `503`.
    fn verify<'a>(&'a self, token: &'a Secret) -> VerifyFuture<'a>;
}

impl<T: TokenVerifier + ?Sized> TokenVerifier for Arc<T> {
    fn verify<'a>(&'a self, token: &'a Secret) -> VerifyFuture<'a> {
        (**self).verify(token)
    }
}

impl<T: TokenVerifier + ?Sized> TokenVerifier for Box<T> {
    fn verify<'a>(&'a self, token: &'a Secret) -> VerifyFuture<'a> {
        (**self).verify(token)
    }
}

/// Why a token was refused.
///
/// Its description is sent to the client as the challenge's `error_description`, and is
/// logged: it must never contain the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Rejection {
    unavailable: bool,
    description: Cow<'static, str>,
}

impl Rejection {
    /// The token is invalid: malformed, badly signed, expired, not yet valid, revoked, from
    /// another issuer, or for another resource. The request gets `401` with
    /// `error="invalid_token"` and `description` as `error_description`.
    pub fn invalid_token(description: impl Into<Cow<'static, str>>) -> Self {
        Rejection {
            unavailable: false,
            description: description.into(),
        }
    }

    /// The token could not be verified now: the issuer's keys or its introspection
    /// endpoint are unreachable. The request gets `503`; nothing is let through.
    pub fn unavailable(description: impl Into<Cow<'static, str>>) -> Self {
        Rejection {
            unavailable: true,
            description: description.into(),
        }
    }

    /// Whether the token is invalid (`401`).
    pub fn is_invalid_token(&self) -> bool {
        !self.unavailable
    }

    /// Whether verification was impossible for now (`503`).
    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }

    /// What was wrong, in a few words.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Rejection")
            .field("unavailable", &self.unavailable)
            .field("description", &self.description)
            .finish()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.unavailable {
            "token verification unavailable"
        } else {
            "invalid token"
        };
        write!(formatter, "{kind}: {}", self.description)
    }
}

impl std::error::Error for Rejection {}

/// A [`TokenVerifier`] that calls a closure: see [`verify_fn`].
#[derive(Clone)]
pub struct FnVerifier<F> {
    verify: F,
}

impl<F> fmt::Debug for FnVerifier<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("FnVerifier")
    }
}

/// A [`TokenVerifier`] that calls `verify` with each token: for static API keys, a session
/// store, or a verification this crate does not provide.
///
/// The closure must refuse tokens that were not issued for this resource (audience), from
/// issuers it does not trust, or past their lifetime; and must not log the token.
///
/// ```
/// use mcpwire_auth::server::{Principal, Rejection, verify_fn};
///
/// let verifier = verify_fn(|token| async move {
///     if token.expose() == "let-me-in" {
///         let mut principal = Principal::default();
///         principal.subject = Some("tester".to_owned());
///         principal.scopes = vec!["mcp:tools".to_owned()];
///         Ok(principal)
///     } else {
///         Err(Rejection::invalid_token("unknown token"))
///     }
/// });
/// # let _ = verifier;
/// ```
pub fn verify_fn<F, Fut>(verify: F) -> FnVerifier<F>
where
    F: Fn(Secret) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Principal, Rejection>> + Send + 'static,
{
    FnVerifier { verify }
}

impl<F, Fut> TokenVerifier for FnVerifier<F>
where
    F: Fn(Secret) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Principal, Rejection>> + Send + 'static,
{
    fn verify<'a>(&'a self, token: &'a Secret) -> VerifyFuture<'a> {
        Box::pin((self.verify)(token.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_say_what_they_are_without_more() {
        let invalid = Rejection::invalid_token("the token has expired");
        assert!(invalid.is_invalid_token() && !invalid.is_unavailable());
        assert_eq!(invalid.to_string(), "invalid token: the token has expired");
        let unavailable = Rejection::unavailable("the issuer's keys cannot be fetched");
        assert!(unavailable.is_unavailable());
        assert_eq!(
            unavailable.description(),
            "the issuer's keys cannot be fetched"
        );
    }
}
