//! [`ProofClaims`]: the claims of a DPoP proof (RFC 9449 §4.2), and what both sides compute
//! from them.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Secret;

/// The media type of a proof's `typ` header (RFC 9449 §4.2).
pub(crate) const PROOF_TYPE: &str = "dpop+jwt";

/// The claims of one DPoP proof (RFC 9449 §4.2).
///
/// [`ProofClaims::new`] makes those of a fresh proof: a random `jti` and `iat` now. The
/// layer of `mcpwire-auth` makes them itself; build them by hand to sign a proof for a
/// request of your own with [`DpopKey::sign`](crate::DpopKey::sign).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProofClaims {
    /// A unique identifier of the proof.
    pub jti: String,
    /// The HTTP method of the request.
    pub htm: String,
    /// The request's URI, without query and fragment.
    pub htu: String,
    /// When the proof was made, in seconds since the epoch.
    pub iat: i64,
    /// The base64url SHA-256 of the access token the request presents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
    /// The nonce the server handed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

impl ProofClaims {
    /// The claims of a fresh proof for `method` `htu` (query and fragment already removed):
    /// a random 128-bit `jti`, `iat` now, no `ath` and no `nonce`.
    pub fn new(method: impl Into<String>, htu: impl Into<String>) -> Self {
        ProofClaims {
            jti: random_id(),
            htm: method.into(),
            htu: htu.into(),
            iat: unix_now(),
            ath: None,
            nonce: None,
        }
    }

    /// With `ath` for the access token `token`.
    pub fn access_token(mut self, token: &Secret) -> Self {
        self.ath = Some(token_hash(token.expose()));
        self
    }

    /// With the server's nonce.
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// With `iat` set to `seconds` since the epoch.
    pub fn issued_at(mut self, seconds: i64) -> Self {
        self.iat = seconds;
        self
    }

    /// With the identifier `jti`.
    pub fn jti(mut self, jti: impl Into<String>) -> Self {
        self.jti = jti.into();
        self
    }
}

/// `ath`: the base64url SHA-256 of the token's ASCII bytes (RFC 9449 §4.2).
pub(crate) fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// Seconds since the epoch, now.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// 128 random bits, base64url.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // Without an operating system's randomness there is nothing secure to fall back on; a
    // proof with a predictable `jti` would still be refused as a replay at worst.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_hash_is_the_rfc_example() {
        // RFC 9449 §7.1: the access token and the `ath` of its proof.
        assert_eq!(
            token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn fresh_claims_are_unique_and_serialize_without_empty_members() {
        let one = ProofClaims::new("POST", "https://as.example.com/token");
        let two = ProofClaims::new("POST", "https://as.example.com/token");
        assert_ne!(one.jti, two.jti);
        assert_eq!(one.jti.len(), 22);
        let json = serde_json::to_value(&one).unwrap();
        assert!(json.get("ath").is_none() && json.get("nonce").is_none());
        let bound = one.access_token(&Secret::new("t")).nonce("n");
        let json = serde_json::to_value(&bound).unwrap();
        assert_eq!(json["nonce"], "n");
        assert_eq!(json["ath"], token_hash("t"));
    }
}
