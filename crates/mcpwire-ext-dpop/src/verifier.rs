//! [`DpopVerifier`]: the resource server's checks of DPoP proofs (RFC 9449 §4.3), its
//! replay cache and its nonces.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mcpwire_auth::server::{CheckedProof, DpopChecker, DpopRejection, ProofTarget};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

use crate::proof::{PROOF_TYPE, ProofClaims, random_id, token_hash, unix_now};

/// How old (and how far in the future) a proof's `iat` may be by default: 60 seconds.
pub const DEFAULT_MAX_PROOF_AGE: Duration = Duration::from_secs(60);

/// The longest proof looked at by default: 8 KiB (an RSA-4096 key and its signature fit).
pub const DEFAULT_MAX_PROOF_BYTES: usize = 8 * 1024;

/// How many proofs the replay cache remembers by default.
pub const DEFAULT_REPLAY_CAPACITY: usize = 65_536;

/// The longest `jti` and `nonce` accepted.
const MAX_CLAIM_BYTES: usize = 256;

/// The members of a JWK that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The asymmetric algorithms a proof may use by default.
const DEFAULT_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::EdDSA,
];

/// The resource server's DPoP checker, for
/// [`ProtectedResource::dpop`](mcpwire_auth::server::ProtectedResource::dpop).
///
/// A proof is accepted when, in this order: it is at most
/// [`max_proof_bytes`](DpopVerifierBuilder::max_proof_bytes) long and a compact JWS whose
/// header has `typ` `dpop+jwt`, an accepted asymmetric `alg` (never `none` nor an HMAC),
/// and a `jwk` with no private member; its signature verifies with that `jwk`; `htm` is the
/// request's method and `htu` its URI (compared as parsed URLs, without query and
/// fragment); `iat` is within [`max_age`](DpopVerifierBuilder::max_age) of now, either way;
/// `ath` is the hash of the presented token; and, with
/// [nonces](DpopVerifierBuilder::nonces), `nonce` is the current or the previous one (else
/// the answer is `use_dpop_nonce` with the current one). The layer then checks the token's
/// `cnf.jkt` and records the proof: a `jti` seen from the same key within twice the window
/// is a replay. The cache holds at most
/// [`replay_capacity`](DpopVerifierBuilder::replay_capacity) proofs, forgetting the oldest
/// first; only proofs that came with a valid token bound to their key get in.
///
/// Clones share the cache and the nonces.
#[derive(Clone)]
pub struct DpopVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    algorithms: Vec<Algorithm>,
    names: Vec<String>,
    max_age: i64,
    max_proof_bytes: usize,
    replay: Mutex<ReplayCache>,
    nonces: Option<Mutex<Nonces>>,
    clock: fn() -> i64,
}

impl DpopVerifier {
    /// A verifier with the defaults: ES256, ES384, RS256, PS256, PS384 and EdDSA; a
    /// 60-second window; a replay cache of 65 536 proofs; no nonces.
    pub fn new() -> Self {
        DpopVerifier::builder().build()
    }

    /// A builder, to change the defaults.
    pub fn builder() -> DpopVerifierBuilder {
        DpopVerifierBuilder {
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            max_age: DEFAULT_MAX_PROOF_AGE,
            max_proof_bytes: DEFAULT_MAX_PROOF_BYTES,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            nonce_period: None,
            clock: unix_now,
        }
    }

    /// The nonce a client must put in its next proofs, when the verifier issues nonces.
    /// The bearer layer sends it as `DPoP-Nonce` on its answers.
    pub fn current_nonce(&self) -> Option<String> {
        let now = (self.inner.clock)();
        let nonces = self.inner.nonces.as_ref()?;
        let mut nonces = nonces.lock().ok()?;
        nonces.rotate(now);
        Some(nonces.current.clone())
    }

    fn read(&self, proof: &str, target: &ProofTarget<'_>) -> Result<CheckedProof, DpopRejection> {
        let inner = &self.inner;
        if proof.len() > inner.max_proof_bytes {
            return Err(invalid("the DPoP proof is too long"));
        }
        let mut parts = proof.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("the DPoP proof is not a compact JWS"));
        };
        let header: ProofHeader = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| invalid("the DPoP proof's header is not a JSON object"))?;
        if !header
            .typ
            .is_some_and(|typ| typ.eq_ignore_ascii_case(PROOF_TYPE))
        {
            return Err(invalid("the DPoP proof's typ is not dpop+jwt"));
        }
        let algorithm = header
            .alg
            .parse::<Algorithm>()
            .ok()
            .filter(|algorithm| inner.algorithms.contains(algorithm))
            .ok_or_else(|| invalid("the DPoP proof's algorithm is not accepted"))?;
        let jwk = header
            .jwk
            .ok_or_else(|| invalid("the DPoP proof has no jwk header"))?;
        if PRIVATE_MEMBERS
            .iter()
            .any(|member| jwk.contains_key(*member))
        {
            return Err(invalid("the DPoP proof's jwk is not a public key"));
        }
        let jwk: Jwk = serde_json::from_value(Value::Object(jwk))
            .map_err(|_| invalid("the DPoP proof's jwk is not a key"))?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|_| invalid("the DPoP proof's jwk is not a key"))?;
        let mut validation = Validation::new(algorithm);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<ProofClaims>(proof, &key, &validation)
            .map_err(|_| invalid("the DPoP proof's signature or claims are not valid"))?
            .claims;
        if claims.jti.is_empty() || claims.jti.len() > MAX_CLAIM_BYTES {
            return Err(invalid("the DPoP proof's jti is empty or too long"));
        }
        if claims.htm != target.method.as_str() {
            return Err(invalid("the DPoP proof is for another method"));
        }
        let htu =
            Url::parse(&claims.htu).map_err(|_| invalid("the DPoP proof's htu is not a URL"))?;
        if htu.query().is_some() || htu.fragment().is_some() || !same_target(&htu, target.uri) {
            return Err(invalid("the DPoP proof is for another URI"));
        }
        let now = (inner.clock)();
        if (now - claims.iat).abs() > inner.max_age {
            return Err(invalid("the DPoP proof is not fresh"));
        }
        if claims.ath.as_deref() != Some(token_hash(target.access_token.expose()).as_str()) {
            return Err(invalid("the DPoP proof is not for the presented token"));
        }
        if let Some(nonces) = &inner.nonces {
            let mut nonces = nonces
                .lock()
                .map_err(|_| invalid("the DPoP nonces are unavailable"))?;
            nonces.rotate(now);
            if !claims
                .nonce
                .as_deref()
                .is_some_and(|nonce| nonces.accepts(nonce))
            {
                return Err(DpopRejection::use_nonce(nonces.current.clone()));
            }
        }
        let thumbprint = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|_| invalid("the DPoP proof's jwk has no thumbprint"))?;
        Ok(CheckedProof::new(thumbprint, claims.jti, claims.iat))
    }
}

impl Default for DpopVerifier {
    fn default() -> Self {
        DpopVerifier::new()
    }
}

impl fmt::Debug for DpopVerifier {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DpopVerifier")
            .field("algorithms", &self.inner.names)
            .field("max_age", &self.inner.max_age)
            .field("nonces", &self.inner.nonces.is_some())
            .finish_non_exhaustive()
    }
}

impl DpopChecker for DpopVerifier {
    fn algorithms(&self) -> &[String] {
        &self.inner.names
    }

    fn check(&self, proof: &str, target: &ProofTarget<'_>) -> Result<CheckedProof, DpopRejection> {
        self.read(proof, target)
    }

    fn current_nonce(&self) -> Option<String> {
        DpopVerifier::current_nonce(self)
    }

    fn record(&self, proof: &CheckedProof) -> Result<(), DpopRejection> {
        let now = (self.inner.clock)();
        let mut cache = self
            .inner
            .replay
            .lock()
            .map_err(|_| invalid("the DPoP replay cache is unavailable"))?;
        // A proof is refused once its `iat` leaves the window, so it need not be remembered
        // longer than that.
        let expires = proof.issued_at.saturating_add(self.inner.max_age) + 1;
        if cache.insert(replay_key(proof), expires, now) {
            Ok(())
        } else {
            Err(invalid("the DPoP proof was used before"))
        }
    }
}

/// Builds a [`DpopVerifier`].
#[derive(Debug)]
pub struct DpopVerifierBuilder {
    algorithms: Vec<Algorithm>,
    max_age: Duration,
    max_proof_bytes: usize,
    replay_capacity: usize,
    nonce_period: Option<Duration>,
    clock: fn() -> i64,
}

impl DpopVerifierBuilder {
    /// The algorithms proofs may be signed with, by their JWS names; `none`, the HMAC
    /// algorithms and unknown names are left out. An empty list keeps the defaults.
    pub fn algorithms<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let chosen: Vec<Algorithm> = names
            .into_iter()
            .filter_map(|name| name.as_ref().parse::<Algorithm>().ok())
            .filter(|algorithm| DEFAULT_ALGORITHMS.contains(algorithm) || is_asymmetric(*algorithm))
            .collect();
        if !chosen.is_empty() {
            self.algorithms = chosen;
        }
        self
    }

    /// How far a proof's `iat` may be from now, either way ([`DEFAULT_MAX_PROOF_AGE`] by
    /// default; at least one second).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age.max(Duration::from_secs(1));
        self
    }

    /// The longest proof looked at ([`DEFAULT_MAX_PROOF_BYTES`] by default).
    pub fn max_proof_bytes(mut self, limit: usize) -> Self {
        self.max_proof_bytes = limit;
        self
    }

    /// How many proofs the replay cache remembers ([`DEFAULT_REPLAY_CAPACITY`] by default;
    /// at least one).
    pub fn replay_capacity(mut self, capacity: usize) -> Self {
        self.replay_capacity = capacity.max(1);
        self
    }

    /// Issues nonces (RFC 9449 §9): every proof must carry the current nonce, or the one
    /// before it, which changes every `period` (at least one second). A proof without
    /// either is answered `use_dpop_nonce` with the current one.
    pub fn nonces(mut self, period: Duration) -> Self {
        self.nonce_period = Some(period.max(Duration::from_secs(1)));
        self
    }

    #[cfg(test)]
    fn clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    /// The verifier.
    pub fn build(self) -> DpopVerifier {
        let names = self
            .algorithms
            .iter()
            .map(|algorithm| format!("{algorithm:?}"))
            .collect();
        let now = (self.clock)();
        DpopVerifier {
            inner: Arc::new(Inner {
                names,
                algorithms: self.algorithms,
                max_age: i64::try_from(self.max_age.as_secs()).unwrap_or(i64::MAX / 4),
                max_proof_bytes: self.max_proof_bytes,
                replay: Mutex::new(ReplayCache::new(self.replay_capacity)),
                nonces: self
                    .nonce_period
                    .map(|period| Mutex::new(Nonces::new(period, now))),
                clock: self.clock,
            }),
        }
    }
}

fn is_asymmetric(algorithm: Algorithm) -> bool {
    !matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    )
}

fn invalid(description: &'static str) -> DpopRejection {
    DpopRejection::invalid_proof(description)
}

/// Whether the `htu` of a proof names `target`: the same scheme, host, port and path, as the
/// URL parser normalizes them (case of scheme and host, default ports, dot segments).
fn same_target(htu: &Url, target: &Url) -> bool {
    htu.scheme() == target.scheme()
        && htu.host() == target.host()
        && htu.port_or_known_default() == target.port_or_known_default()
        && htu.path() == target.path()
}

/// The header members of a proof this verifier reads.
#[derive(Deserialize)]
struct ProofHeader {
    #[serde(default)]
    typ: Option<String>,
    alg: String,
    #[serde(default)]
    jwk: Option<Map<String, Value>>,
}

/// What the replay cache keeps of a proof: a digest of its key's thumbprint and its `jti`.
fn replay_key(proof: &CheckedProof) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(proof.thumbprint.as_bytes());
    digest.update([0]);
    digest.update(proof.jti.as_bytes());
    digest.finalize().into()
}

/// The proofs seen, until they leave the window, bounded.
struct ReplayCache {
    capacity: usize,
    expiries: HashMap<[u8; 32], i64>,
    order: VecDeque<([u8; 32], i64)>,
}

impl ReplayCache {
    fn new(capacity: usize) -> Self {
        ReplayCache {
            capacity,
            expiries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Remembers `key` until `expires`; false when it is remembered already.
    fn insert(&mut self, key: [u8; 32], expires: i64, now: i64) -> bool {
        while let Some((oldest, until)) = self.order.front().copied() {
            if until > now && self.order.len() < self.capacity {
                break;
            }
            self.order.pop_front();
            if self.expiries.get(&oldest) == Some(&until) {
                self.expiries.remove(&oldest);
            }
        }
        if self.expiries.get(&key).is_some_and(|until| *until > now) {
            return false;
        }
        self.expiries.insert(key, expires);
        self.order.push_back((key, expires));
        true
    }
}

/// The server's nonces: the current one and the one before, rotated every period.
struct Nonces {
    period: i64,
    since: i64,
    current: String,
    previous: Option<String>,
}

impl Nonces {
    fn new(period: Duration, now: i64) -> Self {
        Nonces {
            period: i64::try_from(period.as_secs()).unwrap_or(i64::MAX / 4),
            since: now,
            current: random_id(),
            previous: None,
        }
    }

    fn rotate(&mut self, now: i64) {
        if now - self.since >= self.period {
            let fresh = random_id();
            // After more than two periods, the old nonce is forgotten too.
            self.previous = (now - self.since < 2 * self.period)
                .then(|| std::mem::replace(&mut self.current, fresh.clone()));
            self.current = fresh;
            self.since = now;
        }
    }

    fn accepts(&self, nonce: &str) -> bool {
        nonce.len() <= MAX_CLAIM_BYTES
            && (nonce == self.current || self.previous.as_deref() == Some(nonce))
    }
}

#[cfg(all(test, feature = "client"))]
mod tests {
    use std::cell::Cell;

    use http::Method;

    use super::*;
    use crate::{DpopKey, Secret};

    thread_local! {
        // Each test runs on its own thread, so each has its own clock.
        static NOW: Cell<i64> = const { Cell::new(1_800_000_000) };
    }

    fn clock() -> i64 {
        NOW.with(Cell::get)
    }

    fn advance(seconds: i64) {
        NOW.with(|now| now.set(now.get() + seconds));
    }

    const URI: &str = "https://mcp.example.com/mcp";

    fn claims(key_now: i64) -> ProofClaims {
        ProofClaims::new("POST", URI)
            .issued_at(key_now)
            .access_token(&Secret::new("token-1"))
    }

    fn check(verifier: &DpopVerifier, proof: &str) -> Result<CheckedProof, DpopRejection> {
        let uri = Url::parse(URI).unwrap();
        let token = Secret::new("token-1");
        verifier.check(proof, &ProofTarget::new(&Method::POST, &uri, &token))
    }

    #[test]
    fn a_valid_proof_is_accepted_once() {
        let verifier = DpopVerifier::builder().clock(clock).build();
        let key = DpopKey::generate().unwrap();
        let proof = key.sign(&claims(clock())).unwrap();
        let checked = check(&verifier, &proof).unwrap();
        assert_eq!(checked.thumbprint, key.thumbprint());
        verifier.record(&checked).unwrap();
        let replayed = check(&verifier, &proof).unwrap();
        assert_eq!(
            verifier.record(&replayed).unwrap_err().description(),
            "the DPoP proof was used before"
        );
    }

    #[test]
    fn proofs_for_other_requests_or_times_are_refused() {
        let verifier = DpopVerifier::builder().clock(clock).build();
        let key = DpopKey::generate().unwrap();
        let now = clock();
        let cases = [
            (
                ProofClaims::new("GET", URI)
                    .issued_at(now)
                    .access_token(&Secret::new("token-1")),
                "another method",
            ),
            (
                ProofClaims::new("POST", "https://mcp.example.com/other")
                    .issued_at(now)
                    .access_token(&Secret::new("token-1")),
                "another URI",
            ),
            (
                ProofClaims::new("POST", "https://mcp.example.com/mcp?x=1")
                    .issued_at(now)
                    .access_token(&Secret::new("token-1")),
                "another URI",
            ),
            (claims(now - 61), "not fresh"),
            (claims(now + 61), "not fresh"),
            (
                ProofClaims::new("POST", URI)
                    .issued_at(now)
                    .access_token(&Secret::new("token-2")),
                "presented token",
            ),
            (
                ProofClaims::new("POST", URI).issued_at(now),
                "presented token",
            ),
        ];
        for (claims, expected) in cases {
            let proof = key.sign(&claims).unwrap();
            let refused = check(&verifier, &proof).unwrap_err();
            assert!(
                refused.description().contains(expected),
                "{expected}: {refused}"
            );
            assert!(refused.nonce().is_none());
        }
        // The URI is compared as a URL: case and the default port do not matter.
        let proof = key
            .sign(
                &ProofClaims::new("POST", "HTTPS://MCP.example.com:443/mcp")
                    .issued_at(now)
                    .access_token(&Secret::new("token-1")),
            )
            .unwrap();
        assert!(check(&verifier, &proof).is_ok());
    }

    #[test]
    fn malformed_proofs_are_refused_without_a_panic() {
        let verifier = DpopVerifier::builder().clock(clock).build();
        let key = DpopKey::generate().unwrap();
        let good = key.sign(&claims(clock())).unwrap();
        let parts: Vec<&str> = good.split('.').collect();
        let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let mut header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let with_header = |header: &Value| format!("{}.{}.{}", encode(header), parts[1], parts[2]);
        let mut wrong_typ = header.clone();
        wrong_typ["typ"] = Value::from("jwt");
        let mut none = header.clone();
        none["alg"] = Value::from("none");
        let mut hmac = header.clone();
        hmac["alg"] = Value::from("HS256");
        let mut private = header.clone();
        private["jwk"]["d"] = Value::from("c2VjcmV0");
        let other = DpopKey::generate().unwrap();
        header["jwk"] = serde_json::to_value(other.public_jwk()).unwrap();
        let substituted_key = with_header(&header);
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            &parts[2][..parts[2].len() - 4]
        );
        for proof in [
            String::new(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            "!!.e30.c2ln".to_owned(),
            with_header(&wrong_typ),
            with_header(&none),
            format!("{}.{}.", encode(&none), parts[1]),
            with_header(&hmac),
            with_header(&private),
            substituted_key,
            tampered,
            "x".repeat(DEFAULT_MAX_PROOF_BYTES + 1),
        ] {
            assert!(check(&verifier, &proof).is_err(), "{proof}");
        }
    }

    #[test]
    fn nonces_are_required_issued_and_rotated() {
        let verifier = DpopVerifier::builder()
            .clock(clock)
            .nonces(Duration::from_secs(10))
            .build();
        let key = DpopKey::generate().unwrap();
        let refused = check(&verifier, &key.sign(&claims(clock())).unwrap()).unwrap_err();
        let nonce = refused.nonce().unwrap().to_owned();
        assert_eq!(verifier.current_nonce().as_deref(), Some(nonce.as_str()));
        let with_nonce = |nonce: &str| key.sign(&claims(clock()).nonce(nonce)).unwrap();
        assert!(check(&verifier, &with_nonce(&nonce)).is_ok());
        assert!(
            check(&verifier, &with_nonce("made-up"))
                .unwrap_err()
                .nonce()
                .is_some()
        );
        advance(10);
        let fresh = verifier.current_nonce().unwrap();
        assert_ne!(fresh, nonce);
        assert!(
            check(&verifier, &with_nonce(&nonce)).is_ok(),
            "the previous nonce is still taken"
        );
        advance(10);
        let _ = verifier.current_nonce();
        assert!(
            check(&verifier, &with_nonce(&nonce))
                .unwrap_err()
                .nonce()
                .is_some()
        );
    }

    #[test]
    fn the_replay_cache_is_bounded_and_forgets_expired_proofs() {
        let mut cache = ReplayCache::new(2);
        assert!(cache.insert([1; 32], 100, 0));
        assert!(!cache.insert([1; 32], 100, 50));
        assert!(cache.insert([2; 32], 100, 50));
        assert!(cache.insert([3; 32], 100, 50));
        assert!(cache.order.len() <= 2 && cache.expiries.len() <= 2);
        assert!(
            cache.insert([3; 32], 300, 200),
            "an expired entry is forgotten"
        );
        assert!(cache.expiries.len() <= 2);
    }

    #[test]
    fn algorithms_leave_out_symmetric_and_unknown_ones() {
        let verifier = DpopVerifier::builder()
            .algorithms(["ES256", "HS256", "none", "bogus"])
            .build();
        assert_eq!(verifier.algorithms(), ["ES256"]);
        assert_eq!(
            DpopVerifier::new().algorithms().len(),
            DEFAULT_ALGORITHMS.len()
        );
    }
}
