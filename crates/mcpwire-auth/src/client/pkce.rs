//! PKCE with `S256` (RFC 7636) and the `state` value, from the operating system's random
//! source.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Kind};
use crate::secret::Secret;

/// A PKCE verifier and its `S256` challenge.
#[derive(Debug)]
pub(crate) struct Pkce {
    pub(crate) verifier: Secret,
    pub(crate) challenge: String,
}

impl Pkce {
    /// A fresh verifier of 32 random bytes (43 characters, RFC 7636 §4.1) and its challenge.
    pub(crate) fn generate() -> Result<Pkce, Error> {
        let verifier = random_string(32)?;
        let challenge = challenge_of(&verifier);
        Ok(Pkce {
            verifier: Secret::new(verifier),
            challenge,
        })
    }
}

/// `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2).
pub(crate) fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `bytes` random bytes, base64url without padding: verifiers and `state`.
pub(crate) fn random_string(bytes: usize) -> Result<String, Error> {
    let mut buffer = vec![0_u8; bytes];
    getrandom::fill(&mut buffer).map_err(|error| {
        Error::new(Kind::Authorization, "the random source failed")
            .with_source(std::io::Error::other(error.to_string()))
    })?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_rfc_7636_example() {
        // RFC 7636 Appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_are_fresh_and_of_the_allowed_length() {
        let first = Pkce::generate().unwrap();
        let second = Pkce::generate().unwrap();
        assert_ne!(first.verifier, second.verifier);
        assert_eq!(first.verifier.expose().len(), 43);
        assert_eq!(first.challenge, challenge_of(first.verifier.expose()));
        assert!(!format!("{first:?}").contains(first.verifier.expose()));
    }
}
