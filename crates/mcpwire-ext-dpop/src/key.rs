//! [`DpopKey`]: the client's key, and the proofs it signs.

use std::fmt;
use std::str::FromStr;

use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcpwire_auth::client::{DpopProver, ProofRequest};
use p256::pkcs8::EncodePrivateKey as _;

use crate::error::Error;
use crate::proof::{PROOF_TYPE, ProofClaims};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The algorithms a [`DpopKey`] signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA with P-256 and SHA-256: the default, and the one every DPoP server takes.
    Es256,
    /// ECDSA with P-384 and SHA-384.
    Es384,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256.
    Ps256,
}

impl KeyAlgorithm {
    /// The JWS name (`ES256`, ...).
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::Es256 => "ES256",
            KeyAlgorithm::Es384 => "ES384",
            KeyAlgorithm::Rs256 => "RS256",
            KeyAlgorithm::Ps256 => "PS256",
        }
    }

    fn jws(self) -> Algorithm {
        match self {
            KeyAlgorithm::Es256 => Algorithm::ES256,
            KeyAlgorithm::Es384 => Algorithm::ES384,
            KeyAlgorithm::Rs256 => Algorithm::RS256,
            KeyAlgorithm::Ps256 => Algorithm::PS256,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        match name {
            "ES256" => Ok(KeyAlgorithm::Es256),
            "ES384" => Ok(KeyAlgorithm::Es384),
            "RS256" => Ok(KeyAlgorithm::Rs256),
            "PS256" => Ok(KeyAlgorithm::Ps256),
            other => Err(Error::new(format!(
                "`{other}` is not a DPoP key algorithm (ES256, ES384, RS256 or PS256)"
            ))),
        }
    }
}

/// The client's DPoP key: it signs the proofs, and the authorization server binds the
/// client's tokens to its public half (by its thumbprint, `cnf.jkt`).
///
/// A [`DpopProver`] for [`OAuthConfig::dpop`](mcpwire_auth::client::OAuthConfig::dpop).
/// [`DpopKey::generate`] makes a fresh ES256 key in memory: tokens bound to it die with the
/// process, which is what a short-lived agent wants. A client that keeps its tokens across
/// runs (a file token store) keeps its key too, and reads it with [`DpopKey::from_pem`].
///
/// `Debug` shows the algorithm and the thumbprint, never the private key.
#[derive(Clone)]
pub struct DpopKey {
    key: EncodingKey,
    algorithm: KeyAlgorithm,
    header: Header,
    thumbprint: String,
}

impl DpopKey {
    /// A new random ES256 (P-256) key.
    ///
    /// # Errors
    ///
    /// When the operating system gives no randomness.
    pub fn generate() -> Result<Self, Error> {
        let mut secret = [0u8; 32];
        // A random 256-bit string is a valid P-256 scalar but with negligible probability;
        // a few draws settle it.
        for _ in 0..8 {
            getrandom::fill(&mut secret)
                .map_err(|_| Error::new("the operating system gives no randomness for a key"))?;
            if let Ok(key) = DpopKey::from_p256_secret(&secret) {
                return Ok(key);
            }
        }
        Err(Error::new("no valid key could be drawn"))
    }

    /// The ES256 key whose secret scalar is `secret`.
    pub(crate) fn from_p256_secret(secret: &[u8; 32]) -> Result<Self, Error> {
        let signing = p256::ecdsa::SigningKey::from_slice(secret)
            .map_err(|_| Error::new("the bytes are not a P-256 secret key"))?;
        let der = signing
            .to_pkcs8_der()
            .map_err(|_| Error::new("the key cannot be encoded"))?;
        DpopKey::with_key(
            EncodingKey::from_ec_der(der.as_bytes()),
            KeyAlgorithm::Es256,
        )
    }

    /// The private key `pem` (PKCS#8, or SEC1 for EC and PKCS#1 for RSA), which signs with
    /// `algorithm`.
    ///
    /// # Errors
    ///
    /// When `pem` is not a private key of `algorithm`'s kind.
    pub fn from_pem(pem: impl AsRef<[u8]>, algorithm: KeyAlgorithm) -> Result<Self, Error> {
        let pem = pem.as_ref();
        let key = match algorithm {
            KeyAlgorithm::Es256 | KeyAlgorithm::Es384 => EncodingKey::from_ec_pem(pem),
            KeyAlgorithm::Rs256 | KeyAlgorithm::Ps256 => EncodingKey::from_rsa_pem(pem),
        }
        .map_err(|_| Error::new(format!("the PEM is not a private key for {algorithm}")))?;
        DpopKey::with_key(key, algorithm)
    }

    fn with_key(key: EncodingKey, algorithm: KeyAlgorithm) -> Result<Self, Error> {
        let jwk = Jwk::from_encoding_key(&key, algorithm.jws()).map_err(|_| {
            Error::new(format!(
                "the public half of the {algorithm} key cannot be read"
            ))
        })?;
        let thumbprint = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|_| Error::new("the key's thumbprint cannot be computed"))?;
        let mut header = Header::new(algorithm.jws());
        header.typ = Some(PROOF_TYPE.to_owned());
        header.jwk = Some(jwk);
        // A proof whose signature does not verify with its own `jwk` (a PEM whose curve is
        // not the algorithm's) is refused here rather than by every server.
        let probe = DpopKey {
            key,
            algorithm,
            header,
            thumbprint,
        };
        probe.sign(&ProofClaims::new("GET", "https://probe.invalid/"))?;
        Ok(probe)
    }

    /// The algorithm the proofs are signed with.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The JWK SHA-256 thumbprint (RFC 7638) of the public key, base64url: the `cnf.jkt`
    /// of the tokens bound to it.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public key as a JWK, as each proof's header carries it.
    pub fn public_jwk(&self) -> &Jwk {
        self.header
            .jwk
            .as_ref()
            .expect("the header of a key always carries its JWK")
    }

    /// Signs a proof with `claims`.
    ///
    /// # Errors
    ///
    /// When the signature cannot be made.
    pub fn sign(&self, claims: &ProofClaims) -> Result<String, Error> {
        self.sign_any(claims)
    }

    /// Signs a proof with any claims, for the fuzz targets.
    pub(crate) fn sign_any(&self, claims: &impl serde::Serialize) -> Result<String, Error> {
        jsonwebtoken::encode(&self.header, claims, &self.key)
            .map_err(|error| Error::new("the proof cannot be signed").with_source(error))
    }
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DpopKey")
            .field("algorithm", &self.algorithm)
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl DpopProver for DpopKey {
    fn algorithm(&self) -> &str {
        self.algorithm.name()
    }

    fn proof(&self, request: &ProofRequest<'_>) -> Result<String, BoxError> {
        let mut claims = ProofClaims::new(request.method, request.target.as_str());
        if let Some(token) = request.access_token {
            claims = claims.access_token(token);
        }
        if let Some(nonce) = request.nonce {
            claims = claims.nonce(nonce);
        }
        Ok(self.sign(&claims)?)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::Value;

    use super::*;

    fn decode_part(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn proofs_carry_the_public_key_and_verify_with_it() {
        let key = DpopKey::generate().unwrap();
        let url = url::Url::parse("https://mcp.example.com/mcp").unwrap();
        let token = crate::Secret::new("access");
        let proof = key
            .proof(
                &ProofRequest::new("POST", &url)
                    .access_token(&token)
                    .nonce("n1"),
            )
            .unwrap();
        let parts: Vec<&str> = proof.split('.').collect();
        let header = decode_part(parts[0]);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["kty"], "EC");
        assert_eq!(header["jwk"]["crv"], "P-256");
        assert!(header["jwk"].get("d").is_none(), "{header}");
        let jwk: Jwk = serde_json::from_value(header["jwk"].clone()).unwrap();
        assert_eq!(
            jwk.thumbprint(ThumbprintHash::SHA256).unwrap(),
            key.thumbprint()
        );
        let mut validation = Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let decoded = jsonwebtoken::decode::<ProofClaims>(
            &proof,
            &DecodingKey::from_jwk(&jwk).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims.htm, "POST");
        assert_eq!(decoded.claims.htu, "https://mcp.example.com/mcp");
        assert_eq!(decoded.claims.nonce.as_deref(), Some("n1"));
        assert_eq!(
            decoded.claims.ath.as_deref(),
            Some(crate::proof::token_hash("access").as_str())
        );
        let again = key.proof(&ProofRequest::new("POST", &url)).unwrap();
        assert_ne!(
            decode_part(again.split('.').nth(1).unwrap())["jti"],
            decoded.claims.jti
        );
        assert!(!format!("{key:?}").contains("key:"));
    }

    #[test]
    fn keys_are_distinct_and_pem_must_fit_the_algorithm() {
        let one = DpopKey::generate().unwrap();
        let two = DpopKey::generate().unwrap();
        assert_ne!(one.thumbprint(), two.thumbprint());
        assert!(DpopKey::from_pem("not a key", KeyAlgorithm::Es256).is_err());
        assert_eq!(
            "ES256".parse::<KeyAlgorithm>().unwrap(),
            KeyAlgorithm::Es256
        );
        assert!("HS256".parse::<KeyAlgorithm>().is_err());
        assert!("none".parse::<KeyAlgorithm>().is_err());
    }
}
