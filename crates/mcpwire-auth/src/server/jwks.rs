//! The issuer's JSON Web Key Set: fetched under the fetch policy, kept, and fetched again
//! when it is older than its maximum age or a token names a key it lacks, at most once per
//! refresh interval.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::StatusCode;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use crate::error::{Error, Kind};
use crate::fetch::{Fetcher, origin};

/// The most keys read from one key set; the rest are ignored.
pub(crate) const MAX_KEYS: usize = 64;

/// How long after a failed fetch the next one may start, at most.
const FAILED_FETCH_BACKOFF: Duration = Duration::from_secs(5);

/// A verification key of the set, with the algorithms it may verify.
pub(crate) struct Key {
    pub(crate) kid: Option<String>,
    pub(crate) decoding: DecodingKey,
    /// The key's `alg` alone when it names one, else its family's: RSA (`RS*`, `PS*`), the
    /// ECDSA algorithm of its curve, or `EdDSA`. Never an HMAC algorithm.
    pub(crate) algorithms: Vec<Algorithm>,
}

/// What a lookup found.
pub(crate) enum Lookup {
    Found(Arc<Key>),
    /// The key set, fresh or as fetched again, has no such key.
    Unknown,
    /// There is no key set to look in: it cannot be fetched now.
    Unavailable,
}

struct KeySet {
    keys: Vec<Arc<Key>>,
    fetched_at: Instant,
}

impl KeySet {
    /// The key named `kid`; without one, the only key that may verify `algorithm`.
    fn find(&self, kid: Option<&str>, algorithm: Algorithm) -> Option<Arc<Key>> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|key| key.kid.as_deref() == Some(kid))
                .cloned(),
            None => {
                let mut fitting = self
                    .keys
                    .iter()
                    .filter(|key| key.algorithms.contains(&algorithm));
                let only = fitting.next()?;
                fitting.next().is_none().then(|| Arc::clone(only))
            }
        }
    }
}

struct State {
    keys: Option<Arc<KeySet>>,
    /// The earliest time of the next fetch.
    next_fetch: Option<Instant>,
}

/// The key set of one issuer.
pub(crate) struct Jwks {
    url: Url,
    fetcher: Fetcher,
    refresh_interval: Duration,
    max_age: Duration,
    state: Mutex<State>,
    /// Held by the one request that fetches; the others wait for its result.
    fetching: tokio::sync::Mutex<()>,
}

impl Jwks {
    pub(crate) fn new(
        url: Url,
        fetcher: Fetcher,
        refresh_interval: Duration,
        max_age: Duration,
    ) -> Self {
        Jwks {
            url,
            fetcher,
            refresh_interval,
            max_age,
            state: Mutex::new(State {
                keys: None,
                next_fetch: None,
            }),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    fn snapshot(&self) -> (Option<Arc<KeySet>>, bool) {
        let state = self
            .state
            .lock()
            .expect("the key set lock is never poisoned");
        let may_fetch = state.next_fetch.is_none_or(|next| Instant::now() >= next);
        (state.keys.clone(), may_fetch)
    }

    fn is_fresh(&self, keys: &KeySet) -> bool {
        keys.fetched_at.elapsed() < self.max_age
    }

    /// The key named `kid` (or the only one for `algorithm`), fetching the set when there
    /// is none, when it is stale, or when it lacks the key, as the refresh interval allows.
    pub(crate) async fn key(&self, kid: Option<&str>, algorithm: Algorithm) -> Lookup {
        if let (Some(keys), _) = self.snapshot()
            && self.is_fresh(&keys)
            && let Some(key) = keys.find(kid, algorithm)
        {
            return Lookup::Found(key);
        }
        let _fetching = self.fetching.lock().await;
        // Another request may have fetched the set while this one waited.
        let (keys, may_fetch) = self.snapshot();
        if let Some(keys) = &keys
            && (self.is_fresh(keys) || !may_fetch)
            && let Some(key) = keys.find(kid, algorithm)
        {
            return Lookup::Found(key);
        }
        if !may_fetch {
            return if keys.is_some() {
                Lookup::Unknown
            } else {
                Lookup::Unavailable
            };
        }
        let fetched = self.fetch().await;
        let mut state = self
            .state
            .lock()
            .expect("the key set lock is never poisoned");
        match fetched {
            Ok(fetched) => {
                let fetched = Arc::new(fetched);
                state.keys = Some(Arc::clone(&fetched));
                state.next_fetch = Some(Instant::now() + self.refresh_interval);
                fetched
                    .find(kid, algorithm)
                    .map_or(Lookup::Unknown, Lookup::Found)
            }
            Err(error) => {
                tracing::warn!(%error, "cannot fetch the issuer's JWKS");
                let backoff = self.refresh_interval.min(FAILED_FETCH_BACKOFF);
                state.next_fetch = Some(Instant::now() + backoff);
                match keys.and_then(|keys| keys.find(kid, algorithm)) {
                    Some(key) => Lookup::Found(key),
                    None => Lookup::Unavailable,
                }
            }
        }
    }

    async fn fetch(&self) -> Result<KeySet, Error> {
        let fetched = self.fetcher.get_json(&self.url).await?;
        if fetched.status != StatusCode::OK {
            return Err(Error::new(
                Kind::Fetch,
                format!(
                    "the JWKS at {} answered {}",
                    origin(&self.url),
                    fetched.status
                ),
            ));
        }
        let keys = parse(&fetched.body)?;
        tracing::debug!(keys = keys.len(), "fetched the issuer's JWKS");
        Ok(KeySet {
            keys,
            fetched_at: Instant::now(),
        })
    }
}

/// The verification keys of a JWKS document; keys that cannot verify signatures (HMAC
/// secrets, encryption keys, unknown types or curves, an `alg` outside the key's family)
/// are left out.
fn parse(body: &[u8]) -> Result<Vec<Arc<Key>>, Error> {
    #[derive(Deserialize)]
    struct Document {
        keys: Vec<Value>,
    }
    let document: Document = serde_json::from_slice(body)
        .map_err(|error| Error::new(Kind::Fetch, "the JWKS is not a key set").with_source(error))?;
    Ok(document
        .keys
        .into_iter()
        .take(MAX_KEYS)
        .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
        .filter_map(|jwk| verification_key(&jwk))
        .map(Arc::new)
        .collect())
}

fn verification_key(jwk: &Jwk) -> Option<Key> {
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|usage| *usage != PublicKeyUse::Signature)
    {
        return None;
    }
    if jwk
        .common
        .key_operations
        .as_ref()
        .is_some_and(|operations| !operations.contains(&KeyOperations::Verify))
    {
        return None;
    }
    let family = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(parameters) => match parameters.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(parameters)
            if parameters.curve == EllipticCurve::Ed25519 =>
        {
            vec![Algorithm::EdDSA]
        }
        // Symmetric (`oct`) keys are never used: a resource server must not hold the secret
        // that mints its tokens, and HMAC over a public key is the classic confusion attack.
        _ => return None,
    };
    let algorithms = match jwk.common.key_algorithm {
        None => family,
        Some(named) => {
            let named = Algorithm::try_from(named).ok()?;
            if !family.contains(&named) {
                return None;
            }
            vec![named]
        }
    };
    let decoding = DecodingKey::from_jwk(jwk).ok()?;
    Some(Key {
        kid: jwk.common.key_id.clone(),
        decoding,
        algorithms,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;
    use http::{Request, Response};
    use http_body_util::{BodyExt as _, Full};
    use mcpwire_http::client::{BoxError, HttpClientService, RequestBody, ResponseBody};
    use serde_json::json;
    use tower::util::BoxCloneSyncService;

    use super::*;
    use crate::fetch::FetchPolicy;

    const URL: &str = "https://as.example.com/jwks";

    /// A JWKS endpoint that answers `status` with `document` and counts its requests.
    fn endpoint(status: StatusCode, document: Value, count: Arc<AtomicUsize>) -> HttpClientService {
        BoxCloneSyncService::new(tower::service_fn(move |request: Request<RequestBody>| {
            let body = document.to_string();
            count.fetch_add(1, Ordering::SeqCst);
            assert_eq!(request.uri(), URL);
            async move {
                let body: ResponseBody = Full::new(Bytes::from(body))
                    .map_err(|never| match never {})
                    .boxed_unsync();
                Ok::<_, BoxError>(Response::builder().status(status).body(body).unwrap())
            }
        }))
    }

    fn jwks(status: StatusCode, document: Value) -> (Jwks, Arc<AtomicUsize>) {
        let count = Arc::new(AtomicUsize::new(0));
        let fetcher = Fetcher::new(
            endpoint(status, document, count.clone()),
            FetchPolicy::default(),
        );
        let jwks = Jwks::new(
            Url::parse(URL).unwrap(),
            fetcher,
            Duration::from_secs(60),
            Duration::from_secs(3600),
        );
        (jwks, count)
    }

    fn rsa(kid: &str, extra: Value) -> Value {
        let mut key = json!({"kty": "RSA", "kid": kid, "n": "wHUfTUp_6aBy8SN2", "e": "AQAB"});
        key.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        key
    }

    fn found(lookup: Lookup) -> Option<Vec<Algorithm>> {
        match lookup {
            Lookup::Found(key) => Some(key.algorithms.clone()),
            _ => None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn only_signature_keys_of_an_asymmetric_family_are_kept() {
        let (jwks, _) = jwks(
            StatusCode::OK,
            json!({"keys": [
                rsa("any", json!({})),
                rsa("pinned", json!({"alg": "PS384", "use": "sig"})),
                rsa("hmac-named", json!({"alg": "HS256"})),
                rsa("encryption", json!({"use": "enc"})),
                rsa("wrap", json!({"key_ops": ["wrapKey"]})),
                {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
                {"kty": "weird", "kid": "weird"},
            ]}),
        );
        assert_eq!(
            found(jwks.key(Some("any"), Algorithm::RS256).await)
                .unwrap()
                .len(),
            6
        );
        assert_eq!(
            found(jwks.key(Some("pinned"), Algorithm::RS256).await),
            Some(vec![Algorithm::PS384])
        );
        for refused in ["hmac-named", "encryption", "wrap", "secret", "weird"] {
            assert!(
                matches!(
                    jwks.key(Some(refused), Algorithm::HS256).await,
                    Lookup::Unknown
                ),
                "{refused}"
            );
        }
        // Without a `kid`, the one key that fits the algorithm, and only one.
        assert!(found(jwks.key(None, Algorithm::PS384).await).is_none());
        assert!(found(jwks.key(None, Algorithm::RS512).await).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_kid_fetches_again_at_most_once_per_interval() {
        let (jwks, count) = jwks(StatusCode::OK, json!({"keys": [rsa("a", json!({}))]}));
        assert!(found(jwks.key(Some("a"), Algorithm::RS256).await).is_some());
        assert!(found(jwks.key(Some("a"), Algorithm::RS256).await).is_some());
        assert_eq!(count.load(Ordering::SeqCst), 1);
        for _ in 0..5 {
            assert!(matches!(
                jwks.key(Some("b"), Algorithm::RS256).await,
                Lookup::Unknown
            ));
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(matches!(
            jwks.key(Some("b"), Algorithm::RS256).await,
            Lookup::Unknown
        ));
        assert!(matches!(
            jwks.key(Some("c"), Algorithm::RS256).await,
            Lookup::Unknown
        ));
        assert_eq!(count.load(Ordering::SeqCst), 2);
        // A stale set is fetched again when it may be.
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert!(found(jwks.key(Some("a"), Algorithm::RS256).await).is_some());
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unreachable_key_set_is_unavailable_and_not_hammered() {
        let (jwks, count) = jwks(StatusCode::INTERNAL_SERVER_ERROR, json!({}));
        assert!(matches!(
            jwks.key(Some("a"), Algorithm::RS256).await,
            Lookup::Unavailable
        ));
        assert!(matches!(
            jwks.key(Some("a"), Algorithm::RS256).await,
            Lookup::Unavailable
        ));
        assert_eq!(count.load(Ordering::SeqCst), 1);
        tokio::time::advance(FAILED_FETCH_BACKOFF).await;
        assert!(matches!(
            jwks.key(Some("a"), Algorithm::RS256).await,
            Lookup::Unavailable
        ));
        assert_eq!(count.load(Ordering::SeqCst), 2);
        let (garbage, _) = jwks_with_body("not json");
        assert!(matches!(
            garbage.key(Some("a"), Algorithm::RS256).await,
            Lookup::Unavailable
        ));
    }

    fn jwks_with_body(body: &'static str) -> (Jwks, Arc<AtomicUsize>) {
        let count = Arc::new(AtomicUsize::new(0));
        let service: HttpClientService = BoxCloneSyncService::new(tower::service_fn(
            move |_: Request<RequestBody>| async move {
                let body: ResponseBody = Full::new(Bytes::from_static(body.as_bytes()))
                    .map_err(|never| match never {})
                    .boxed_unsync();
                Ok::<_, BoxError>(Response::new(body))
            },
        ));
        let fetcher = Fetcher::new(service, FetchPolicy::default());
        let jwks = Jwks::new(
            Url::parse(URL).unwrap(),
            fetcher,
            Duration::from_secs(60),
            Duration::from_secs(3600),
        );
        (jwks, count)
    }
}
