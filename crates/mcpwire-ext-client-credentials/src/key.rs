//! The client's private key ([`PrivateKey`]) and the JWT client assertions it signs
//! (RFC 7523 §2.2 and §3).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcpwire_auth::client::Secret;
use serde::Serialize;

use crate::error::{Error, Kind};

/// How long a client assertion is valid: one token request, with room for clock skew.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(60);

/// The largest PEM document [`PrivateKey::from_pem`] reads: 16 KiB, well above an RSA key of
/// 8192 bits.
pub const MAX_PEM_BYTES: usize = 16 * 1024;

/// The shortest RSA modulus RS256 takes, in bytes: 2048 bits (RFC 7518 §3.3).
const MIN_RSA_BYTES: usize = 256;

/// The JWS algorithm a [`PrivateKey`] signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SigningAlgorithm {
    /// ECDSA with the P-256 curve and SHA-256.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
}

impl SigningAlgorithm {
    /// The algorithm's JWS name: `ES256` or `RS256`.
    pub fn name(self) -> &'static str {
        match self {
            SigningAlgorithm::Es256 => "ES256",
            SigningAlgorithm::Rs256 => "RS256",
        }
    }

    fn jws(self) -> Algorithm {
        match self {
            SigningAlgorithm::Es256 => Algorithm::ES256,
            SigningAlgorithm::Rs256 => Algorithm::RS256,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for SigningAlgorithm {
    type Err = Error;

    /// Reads a JWS name: `ES256` or `RS256`, exactly.
    fn from_str(name: &str) -> Result<Self, Error> {
        match name {
            "ES256" => Ok(SigningAlgorithm::Es256),
            "RS256" => Ok(SigningAlgorithm::Rs256),
            _ => Err(Error::new(
                Kind::Key,
                format!("the signing algorithm `{name}` is not supported (ES256 or RS256)"),
            )),
        }
    }
}

/// The private key a client proves its identity with (`private_key_jwt`): it signs a short
/// JWT client assertion for each token request.
///
/// Its `Debug` output shows the algorithm and key id only.
#[derive(Clone)]
pub struct PrivateKey {
    key: EncodingKey,
    algorithm: SigningAlgorithm,
    key_id: Option<String>,
}

impl PrivateKey {
    /// Reads a private key from PEM for `algorithm`: for ES256 a P-256 key in PKCS#8
    /// (`BEGIN PRIVATE KEY`), for RS256 an RSA key in PKCS#8 or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`), of 2048 bits or more. The key signs once here, so a key
    /// that does not fit its algorithm is refused now rather than at the first token request.
    ///
    /// # Errors
    ///
    /// [`Error::is_key`] when the PEM is longer than [`MAX_PEM_BYTES`], is not a private key
    /// of the algorithm's family in a form above, or cannot sign with the algorithm. A SEC1
    /// EC key (`BEGIN EC PRIVATE KEY`) converts to PKCS#8 with
    /// `openssl pkcs8 -topk8 -nocrypt`.
    pub fn from_pem(pem: impl AsRef<[u8]>, algorithm: SigningAlgorithm) -> Result<Self, Error> {
        let pem = pem.as_ref();
        if pem.len() > MAX_PEM_BYTES {
            return Err(Error::new(
                Kind::Key,
                format!("the PEM is longer than {MAX_PEM_BYTES} bytes"),
            ));
        }
        let key = match algorithm {
            SigningAlgorithm::Es256 => EncodingKey::from_ec_pem(pem),
            SigningAlgorithm::Rs256 => EncodingKey::from_rsa_pem(pem),
        }
        .map_err(|error| {
            let form = match algorithm {
                SigningAlgorithm::Es256 => "a PKCS#8 EC private key",
                SigningAlgorithm::Rs256 => "a PKCS#8 or PKCS#1 RSA private key",
            };
            Error::new(
                Kind::Key,
                format!("the PEM is not {form}, as {algorithm} needs"),
            )
            .with_source(error)
        })?;
        let probe =
            jsonwebtoken::crypto::sign(b"probe", &key, algorithm.jws()).map_err(|error| {
                let needs = match algorithm {
                    SigningAlgorithm::Es256 => "a P-256 private key",
                    SigningAlgorithm::Rs256 => "an RSA private key",
                };
                Error::new(
                    Kind::Key,
                    format!("the key cannot sign with {algorithm}, which needs {needs}"),
                )
                .with_source(error)
            })?;
        // An RSA signature is as long as the key's modulus (RFC 7518 §3.3 asks for 2048 bits).
        let signature_bytes = URL_SAFE_NO_PAD.decode(probe).map_or(0, |bytes| bytes.len());
        if algorithm == SigningAlgorithm::Rs256 && signature_bytes < MIN_RSA_BYTES {
            return Err(Error::new(
                Kind::Key,
                format!(
                    "the RSA key has {} bits; RS256 needs 2048 or more",
                    signature_bytes * 8
                ),
            ));
        }
        Ok(PrivateKey {
            key,
            algorithm,
            key_id: None,
        })
    }

    /// The `kid` header of the assertions, naming the key among those the authorization
    /// server holds for the client.
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// The algorithm the key signs with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// A client assertion (RFC 7523 §3) of `client_id` for the authorization server
    /// `audience` (its issuer identifier): `iss` and `sub` the client id, `aud` the issuer,
    /// `iat` now, `exp` [`ASSERTION_LIFETIME`] later, and a random 128-bit `jti`.
    pub(crate) fn client_assertion(
        &self,
        client_id: &str,
        audience: &str,
    ) -> Result<Secret, Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|error| Error::new(Kind::Key, "the clock is before 1970").with_source(error))?
            .as_secs();
        let mut jti = [0_u8; 16];
        getrandom::fill(&mut jti).map_err(|error| {
            Error::new(
                Kind::Key,
                format!("no randomness for the assertion's jti: {error}"),
            )
        })?;
        let claims = AssertionClaims {
            iss: client_id,
            sub: client_id,
            aud: audience,
            iat: now,
            exp: now + ASSERTION_LIFETIME.as_secs(),
            jti: URL_SAFE_NO_PAD.encode(jti),
        };
        let mut header = Header::new(self.algorithm.jws());
        header.kid = self.key_id.clone();
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(Secret::new)
            .map_err(|error| {
                Error::new(Kind::Key, "signing the client assertion failed").with_source(error)
            })
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// The claims of a client assertion. `aud` is one string, the issuer identifier, so that
/// the assertion is good at that authorization server only.
#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::Value;

    const RSA_PKCS8: &str = include_str!("../tests/keys/rsa-2048.pkcs8.pem");
    const RSA_PKCS1: &str = include_str!("../tests/keys/rsa-2048.pkcs1.pem");
    const RSA_PUBLIC: &str = include_str!("../tests/keys/rsa-2048.public.pem");
    const RSA_1024: &str = include_str!("../tests/keys/rsa-1024.pkcs8.pem");
    const ISSUER: &str = "https://as.example.com";

    fn ec_key(algorithm: &'static rcgen::SignatureAlgorithm) -> (String, String) {
        let key = rcgen::KeyPair::generate_for(algorithm).unwrap();
        (key.serialize_pem(), key.public_key_pem())
    }

    /// Verifies `assertion` with `public_key` as an authorization server would, and returns
    /// its header and claims.
    fn verify(
        assertion: &Secret,
        public_key: &DecodingKey,
        algorithm: Algorithm,
    ) -> (Header, Value) {
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&[ISSUER]);
        validation.set_issuer(&["client-1"]);
        validation.set_required_spec_claims(&["iss", "sub", "aud", "exp", "iat", "jti"]);
        validation.leeway = 0;
        let data =
            jsonwebtoken::decode::<Value>(assertion.expose(), public_key, &validation).unwrap();
        (data.header, data.claims)
    }

    fn check_claims(claims: &Value) {
        assert_eq!(claims["iss"], "client-1");
        assert_eq!(claims["sub"], "client-1");
        // One string, the issuer: not an array, not the token endpoint.
        assert_eq!(claims["aud"], ISSUER);
        let iat = claims["iat"].as_u64().unwrap();
        assert_eq!(
            claims["exp"].as_u64().unwrap() - iat,
            ASSERTION_LIFETIME.as_secs()
        );
        assert_eq!(claims["jti"].as_str().unwrap().len(), 22);
    }

    #[test]
    fn es256_assertions_name_the_client_and_the_issuer_briefly_and_uniquely() {
        let (private, public) = ec_key(&rcgen::PKCS_ECDSA_P256_SHA256);
        let key = PrivateKey::from_pem(&private, SigningAlgorithm::Es256)
            .unwrap()
            .key_id("key-7");
        let public = DecodingKey::from_ec_pem(public.as_bytes()).unwrap();
        let first = key.client_assertion("client-1", ISSUER).unwrap();
        let second = key.client_assertion("client-1", ISSUER).unwrap();
        let (header, claims) = verify(&first, &public, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some("key-7"));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        check_claims(&claims);
        let (_, again) = verify(&second, &public, Algorithm::ES256);
        assert_ne!(claims["jti"], again["jti"]);
        let debug = format!("{key:?}");
        assert!(
            debug.contains("Es256") && debug.contains("key-7"),
            "{debug}"
        );
        assert!(!debug.contains(&private[40..80]), "{debug}");
    }

    #[test]
    fn rs256_keys_are_read_from_pkcs8_and_pkcs1() {
        let public = DecodingKey::from_rsa_pem(RSA_PUBLIC.as_bytes()).unwrap();
        for pem in [RSA_PKCS8, RSA_PKCS1] {
            let key = PrivateKey::from_pem(pem, SigningAlgorithm::Rs256).unwrap();
            assert_eq!(key.algorithm(), SigningAlgorithm::Rs256);
            let assertion = key.client_assertion("client-1", ISSUER).unwrap();
            let (header, claims) = verify(&assertion, &public, Algorithm::RS256);
            assert_eq!(header.alg, Algorithm::RS256);
            assert_eq!(header.kid, None);
            check_claims(&claims);
        }
    }

    #[test]
    fn keys_that_do_not_fit_their_algorithm_are_refused() {
        let (p256, _) = ec_key(&rcgen::PKCS_ECDSA_P256_SHA256);
        let (p384, _) = ec_key(&rcgen::PKCS_ECDSA_P384_SHA384);
        let oversized = format!("{RSA_PKCS8}{}", " ".repeat(MAX_PEM_BYTES));
        let cases = [
            ("an RSA key for ES256", RSA_PKCS8, SigningAlgorithm::Es256),
            (
                "a P-384 key for ES256",
                p384.as_str(),
                SigningAlgorithm::Es256,
            ),
            (
                "an EC key for RS256",
                p256.as_str(),
                SigningAlgorithm::Rs256,
            ),
            ("a 1024-bit RSA key", RSA_1024, SigningAlgorithm::Rs256),
            ("a public key", RSA_PUBLIC, SigningAlgorithm::Rs256),
            ("not PEM", "hunter2", SigningAlgorithm::Es256),
            (
                "an oversized PEM",
                oversized.as_str(),
                SigningAlgorithm::Rs256,
            ),
        ];
        for (what, pem, algorithm) in cases {
            let error = PrivateKey::from_pem(pem, algorithm).unwrap_err();
            assert!(error.is_key(), "{what}: {error}");
            assert!(!error.to_string().contains("hunter2"), "{what}: {error}");
        }
    }

    #[test]
    fn algorithms_are_read_by_their_jws_names() {
        assert_eq!(
            "ES256".parse::<SigningAlgorithm>().unwrap(),
            SigningAlgorithm::Es256
        );
        assert_eq!(
            "RS256".parse::<SigningAlgorithm>().unwrap(),
            SigningAlgorithm::Rs256
        );
        assert!("es256".parse::<SigningAlgorithm>().unwrap_err().is_key());
        assert!("HS256".parse::<SigningAlgorithm>().is_err());
    }
}
