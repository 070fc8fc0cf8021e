//! DPoP (RFC 9449) at the resource server: what [`ProtectedResource::dpop`] plugs in.
//!
//! The bearer layer reads `Authorization: DPoP` and the `DPoP` header, and asks a
//! [`DpopChecker`] to check the proof against the request; it then verifies the token as
//! usual and requires the token's `cnf.jkt` to be the proof key's thumbprint, and only then
//! lets the checker record the proof against replay. A token bound to a key (with
//! `cnf.jkt`) presented as `Bearer` is refused. The checker (the proof's cryptography, its
//! freshness, the replay cache and the server's nonces) is `mcpwire-ext-dpop`'s.
//!
//! [`ProtectedResource::dpop`]: crate::server::ProtectedResource::dpop

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::Method;
use url::Url;

use crate::secret::Secret;

/// Checks DPoP proofs (RFC 9449 §4.3) for a resource server.
pub trait DpopChecker: Send + Sync + 'static {
    /// The JWS algorithms proofs may be signed with, as challenges (`algs`) and the
    /// resource's metadata (`dpop_signing_alg_values_supported`) list them.
    fn algorithms(&self) -> &[String];

    /// Checks the proof `proof` (the `DPoP` header's value) against `target`: its form, its
    /// signature by the key in its `jwk` header, `htm`, `htu`, `iat`, `ath` and, when the
    /// server hands out nonces, `nonce`. It does not record the proof: the layer calls
    /// [`DpopChecker::record`] once the token is verified and bound to the proof's key.
    ///
    /// # Errors
    ///
    /// The refusal to answer with: an invalid proof, or a request to use a (new) nonce.
    fn check(&self, proof: &str, target: &ProofTarget<'_>) -> Result<CheckedProof, DpopRejection>;

    /// Records a checked proof as used; refuses one used before (its `jti` seen within the
    /// freshness window).
    ///
    /// # Errors
    ///
    /// [`DpopRejection::invalid_proof`] for a replayed proof.
    fn record(&self, proof: &CheckedProof) -> Result<(), DpopRejection>;

    /// The nonce clients must put in their next proofs, when the checker issues nonces: the
    /// layer hands it out as `DPoP-Nonce` on its answers (RFC 9449 §9), so that a client
    /// learns a new nonce before its proof is refused for want of it. `None` by default.
    fn current_nonce(&self) -> Option<String> {
        None
    }
}

/// The request a proof must be for.
#[derive(Debug)]
#[non_exhaustive]
pub struct ProofTarget<'a> {
    /// The request's method (`htm`).
    pub method: &'a Method,
    /// The request's URI, without query and fragment (`htu`), with the resource's scheme
    /// and authority.
    pub uri: &'a Url,
    /// The access token presented with the proof, whose hash must be `ath`.
    pub access_token: &'a Secret,
}

impl<'a> ProofTarget<'a> {
    /// The target `method` `uri`, presenting `access_token`.
    pub fn new(method: &'a Method, uri: &'a Url, access_token: &'a Secret) -> Self {
        ProofTarget {
            method,
            uri,
            access_token,
        }
    }
}

/// A proof the checker accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckedProof {
    /// The JWK SHA-256 thumbprint (RFC 7638) of the proof's key, base64url: what the
    /// token's `cnf.jkt` must be.
    pub thumbprint: String,
    /// The proof's `jti`.
    pub jti: String,
    /// The proof's `iat`, in seconds since the epoch.
    pub issued_at: i64,
}

impl CheckedProof {
    /// A checked proof of the key `thumbprint`, with `jti`, issued at `issued_at`.
    pub fn new(thumbprint: impl Into<String>, jti: impl Into<String>, issued_at: i64) -> Self {
        CheckedProof {
            thumbprint: thumbprint.into(),
            jti: jti.into(),
            issued_at,
        }
    }
}

/// Why a checker refused a proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopRejection {
    nonce: Option<String>,
    description: Cow<'static, str>,
}

impl DpopRejection {
    /// An invalid proof: `401` with `error="invalid_dpop_proof"`. `description` must not
    /// contain the proof or the token.
    pub fn invalid_proof(description: impl Into<Cow<'static, str>>) -> Self {
        DpopRejection {
            nonce: None,
            description: description.into(),
        }
    }

    /// A proof without the server's current nonce: `401` with `error="use_dpop_nonce"` and
    /// `DPoP-Nonce: nonce` (RFC 9449 §9).
    pub fn use_nonce(nonce: impl Into<String>) -> Self {
        DpopRejection {
            nonce: Some(nonce.into()),
            description: Cow::Borrowed("a fresh DPoP nonce is required"),
        }
    }

    /// The nonce to hand out, for a `use_dpop_nonce` refusal.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// What was wrong.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl fmt::Display for DpopRejection {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.description)
    }
}

impl std::error::Error for DpopRejection {}

/// The DPoP settings of a protected resource.
#[derive(Clone)]
pub(crate) struct DpopSettings {
    pub(crate) checker: Arc<dyn DpopChecker>,
    /// Whether every token must be DPoP-bound (no plain Bearer tokens).
    pub(crate) required: bool,
}

impl fmt::Debug for DpopSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DpopSettings")
            .field("algorithms", &self.checker.algorithms())
            .field("required", &self.required)
            .finish()
    }
}
