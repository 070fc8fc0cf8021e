//! The sealed `requestState` of multi round-trip requests.
//!
//! The state travels through the client, which must echo it unchanged, so it is
//! attacker-controlled input: it is signed with HMAC-SHA256 under a server key, bound to the
//! request it was issued for (method, tool or prompt name or resource URI, a digest of the
//! arguments, and the caller's principal when the transport has one), and it expires.
//!
//! ```text
//! token   = base64url(payload) "." base64url(tag)
//! tag     = HMAC-SHA256(key, "mcpwire requestState v1\0" || payload)
//! payload = {"v":1, "m":method, "t":target, "d":digest of the arguments, "p":principal?,
//!            "x":expiry (unix ms), "r":round, "a":{key: {"h":ask digest, "v":answer}},
//!            "o":{key: ask digest}}
//! ```
//!
//! `a` holds the answers the handler consumed so far, `o` the asks of the last round that are
//! still unanswered. Verification is all or nothing: any failure refuses the whole state.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::{digest, hmac};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The domain separation of the tag, so that no other HMAC under the same key is a state's.
const TAG_CONTEXT: &[u8] = b"mcpwire requestState v1\0";

/// The payload format this server writes and reads.
const VERSION: u32 = 1;

/// The keys, limits and clock of the states a server issues.
pub(crate) struct StateConfig {
    /// Signs new states, and verifies.
    current: hmac::Key,
    /// Verify only, so that states issued before a key rotation stay valid until they expire.
    previous: Vec<hmac::Key>,
    /// How long a state stays valid.
    pub(crate) ttl: Duration,
    /// The longest token accepted or issued, in bytes.
    pub(crate) max_size: usize,
    /// The most rounds of input one request may take.
    pub(crate) max_rounds: u32,
    clock: Clock,
}

impl std::fmt::Debug for StateConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StateConfig")
            .field("previous_keys", &self.previous.len())
            .field("ttl", &self.ttl)
            .field("max_size", &self.max_size)
            .field("max_rounds", &self.max_rounds)
            .finish_non_exhaustive()
    }
}

impl StateConfig {
    /// Default time to live of a state: 10 minutes.
    pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(600);
    /// Default largest state: 64 KiB.
    pub(crate) const DEFAULT_MAX_SIZE: usize = 64 * 1024;
    /// Default most rounds of input: 16.
    pub(crate) const DEFAULT_MAX_ROUNDS: u32 = 16;

    pub(crate) fn new(current: [u8; 32], previous: &[[u8; 32]]) -> Self {
        StateConfig {
            current: hmac::Key::new(hmac::HMAC_SHA256, &current),
            previous: previous
                .iter()
                .map(|key| hmac::Key::new(hmac::HMAC_SHA256, key))
                .collect(),
            ttl: Self::DEFAULT_TTL,
            max_size: Self::DEFAULT_MAX_SIZE,
            max_rounds: Self::DEFAULT_MAX_ROUNDS,
            clock: Clock::new(),
        }
    }

    /// Signs `payload`.
    ///
    /// # Errors
    ///
    /// [`StateError::TooLarge`] when the token would exceed the size limit.
    pub(crate) fn seal(&self, payload: &Payload) -> Result<String, StateError> {
        let payload = serde_json::to_vec(payload).map_err(|_| StateError::Malformed)?;
        let tag = sign(&self.current, &payload);
        let token = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        );
        if token.len() > self.max_size {
            return Err(StateError::TooLarge);
        }
        Ok(token)
    }

    /// Verifies `token` for the request `binding` describes, and returns its payload.
    ///
    /// # Errors
    ///
    /// The first check that fails, in this order: size, form, signature (current key, then
    /// the previous ones), payload version, binding, principal, expiry, rounds.
    pub(crate) fn open(&self, token: &str, binding: &Binding) -> Result<Payload, StateError> {
        if token.len() > self.max_size {
            return Err(StateError::TooLarge);
        }
        let (payload, tag) = token.split_once('.').ok_or(StateError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| StateError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| StateError::Malformed)?;
        let mut signed = Vec::with_capacity(TAG_CONTEXT.len() + payload.len());
        signed.extend_from_slice(TAG_CONTEXT);
        signed.extend_from_slice(&payload);
        // `hmac::verify` compares in constant time.
        let verified = std::iter::once(&self.current)
            .chain(&self.previous)
            .any(|key| hmac::verify(key, &signed, &tag).is_ok());
        if !verified {
            return Err(StateError::Forged);
        }
        let payload: Payload =
            serde_json::from_slice(&payload).map_err(|_| StateError::Malformed)?;
        if payload.version != VERSION {
            return Err(StateError::Malformed);
        }
        if payload.method != binding.method
            || payload.target != binding.target
            || payload.arguments != binding.arguments
        {
            return Err(StateError::OtherRequest);
        }
        if payload.principal != binding.principal {
            return Err(StateError::OtherPrincipal);
        }
        if payload.expiry <= self.clock.now_ms() {
            return Err(StateError::Expired);
        }
        if payload.round == 0 || payload.round > self.max_rounds {
            return Err(StateError::TooManyRounds);
        }
        Ok(payload)
    }

    /// The payload of the state issued after round `round` of the request `binding`
    /// describes, expiring one time-to-live from now.
    pub(crate) fn payload(
        &self,
        binding: &Binding,
        round: u32,
        answered: BTreeMap<String, Answer>,
        outstanding: BTreeMap<String, String>,
    ) -> Payload {
        let ttl = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        Payload {
            version: VERSION,
            method: binding.method.clone(),
            target: binding.target.clone(),
            arguments: binding.arguments.clone(),
            principal: binding.principal.clone(),
            expiry: self.clock.now_ms().saturating_add(ttl),
            round,
            answered,
            outstanding,
        }
    }
}

fn sign(key: &hmac::Key, payload: &[u8]) -> hmac::Tag {
    let mut context = hmac::Context::with_key(key);
    context.update(TAG_CONTEXT);
    context.update(payload);
    context.sign()
}

/// Unix time in milliseconds that follows tokio's clock, so that expiry can be tested with
/// paused time: the wall clock when the server was built plus tokio's monotonic time since.
struct Clock {
    wall_at_start: u64,
    start: tokio::time::Instant,
}

impl Clock {
    fn new() -> Self {
        let wall_at_start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            });
        Clock {
            wall_at_start,
            start: tokio::time::Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.wall_at_start.saturating_add(elapsed)
    }
}

/// The request a state belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Binding {
    method: String,
    target: String,
    arguments: String,
    principal: Option<String>,
}

impl Binding {
    /// The request `method` on `target` (a tool or prompt name, or a resource URI) with
    /// `arguments`, by the caller `principal`.
    pub(crate) fn new(
        method: &str,
        target: &str,
        arguments: &Value,
        principal: Option<[u8; 32]>,
    ) -> Self {
        Binding {
            method: method.to_owned(),
            target: target.to_owned(),
            arguments: digest_of(arguments),
            principal: principal.map(|principal| URL_SAFE_NO_PAD.encode(principal)),
        }
    }
}

/// One answer the handler consumed: the digest of the ask it answers, and the answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Answer {
    #[serde(rename = "h")]
    pub(crate) ask: String,
    #[serde(rename = "v")]
    pub(crate) value: Value,
}

/// What a state carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Payload {
    #[serde(rename = "v")]
    version: u32,
    #[serde(rename = "m")]
    method: String,
    #[serde(rename = "t")]
    target: String,
    #[serde(rename = "d")]
    arguments: String,
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    principal: Option<String>,
    #[serde(rename = "x")]
    expiry: u64,
    #[serde(rename = "r")]
    pub(crate) round: u32,
    #[serde(rename = "a", default)]
    pub(crate) answered: BTreeMap<String, Answer>,
    #[serde(rename = "o", default)]
    pub(crate) outstanding: BTreeMap<String, String>,
}

/// Why a state was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StateError {
    /// Not a state this server writes.
    Malformed,
    /// The signature does not verify under any key.
    Forged,
    /// Issued for another method, tool, prompt, resource or arguments.
    OtherRequest,
    /// Issued to another caller.
    OtherPrincipal,
    /// Past its expiry.
    Expired,
    /// Longer than the size limit.
    TooLarge,
    /// More rounds than the limit.
    TooManyRounds,
}

impl std::fmt::Display for StateError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            StateError::Malformed => "invalid requestState: malformed",
            StateError::Forged => "invalid requestState: the signature does not verify",
            StateError::OtherRequest => "invalid requestState: issued for another request",
            StateError::OtherPrincipal => "invalid requestState: issued to another caller",
            StateError::Expired => "invalid requestState: expired",
            StateError::TooLarge => "invalid requestState: too large",
            StateError::TooManyRounds => "invalid requestState: too many rounds of input",
        })
    }
}

/// The SHA-256 of the canonical form of `value` (object keys sorted), base64url.
pub(crate) fn digest_of(value: &Value) -> String {
    let mut text = String::new();
    canonical(value, &mut text);
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, text.as_bytes()))
}

/// Writes `value` as JSON with the keys of every object sorted, whatever order the map keeps.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(object) => {
            let mut members: Vec<(&String, &Value)> = object.iter().collect();
            members.sort_by(|left, right| left.0.cmp(right.0));
            out.push('{');
            for (index, (key, member)) in members.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(member, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn binding() -> Binding {
        Binding::new(
            "tools/call",
            "greet",
            &serde_json::json!({"name": "Ada", "loud": true}),
            None,
        )
    }

    fn sealed(config: &StateConfig, round: u32) -> String {
        let answered = BTreeMap::from([(
            "name".to_owned(),
            Answer {
                ask: digest_of(&serde_json::json!({"method": "roots/list"})),
                value: serde_json::json!({"roots": []}),
            },
        )]);
        let outstanding = BTreeMap::from([("color".to_owned(), "digest".to_owned())]);
        config
            .seal(&config.payload(&binding(), round, answered, outstanding))
            .expect("small enough")
    }

    #[tokio::test]
    async fn a_state_round_trips_for_its_request() {
        let config = StateConfig::new(KEY, &[]);
        let token = sealed(&config, 2);
        let payload = config.open(&token, &binding()).expect("valid");
        assert_eq!(payload.round, 2);
        assert_eq!(
            payload.answered["name"].value,
            serde_json::json!({"roots": []})
        );
        assert_eq!(payload.outstanding["color"], "digest");
        // The argument digest ignores the order of keys.
        let reordered = Binding::new(
            "tools/call",
            "greet",
            &serde_json::from_str(r#"{"loud":true,"name":"Ada"}"#).expect("JSON"),
            None,
        );
        assert!(config.open(&token, &reordered).is_ok());
    }

    #[tokio::test]
    async fn tampering_anywhere_is_refused() {
        let config = StateConfig::new(KEY, &[]);
        let token = sealed(&config, 1);
        // `-` is in the base64url alphabet: the suffix lengthens the tag, which then fails.
        assert!(matches!(
            config.open(&format!("{token}-TAMPERED"), &binding()),
            Err(StateError::Forged | StateError::Malformed)
        ));
        assert_eq!(
            config.open(&format!("{token}!"), &binding()),
            Err(StateError::Malformed)
        );
        let (payload, tag) = token.split_once('.').expect("two parts");
        let mut bytes = URL_SAFE_NO_PAD.decode(payload).expect("base64");
        let round = bytes
            .windows(5)
            .position(|window| window == br#""r":1"#)
            .expect("the round");
        bytes[round + 4] = b'9';
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(config.open(&forged, &binding()), Err(StateError::Forged));
        assert_eq!(
            config.open("no-dot", &binding()),
            Err(StateError::Malformed)
        );
        assert_eq!(config.open("", &binding()), Err(StateError::Malformed));
    }

    #[tokio::test]
    async fn another_key_cannot_verify_but_a_previous_one_can() {
        let old = StateConfig::new([1; 32], &[]);
        let token = sealed(&old, 1);
        let other = StateConfig::new(KEY, &[]);
        assert_eq!(other.open(&token, &binding()), Err(StateError::Forged));
        let rotated = StateConfig::new(KEY, &[[1; 32]]);
        assert!(rotated.open(&token, &binding()).is_ok());
        // New states are signed with the current key only.
        let fresh = sealed(&rotated, 1);
        assert!(other.open(&fresh, &binding()).is_ok());
        assert_eq!(old.open(&fresh, &binding()), Err(StateError::Forged));
    }

    #[tokio::test]
    async fn a_state_is_bound_to_its_request_and_principal() {
        let config = StateConfig::new(KEY, &[]);
        let token = sealed(&config, 1);
        let arguments = serde_json::json!({"name": "Ada", "loud": true});
        for other in [
            Binding::new("prompts/get", "greet", &arguments, None),
            Binding::new("tools/call", "farewell", &arguments, None),
            Binding::new(
                "tools/call",
                "greet",
                &serde_json::json!({"name": "Bob"}),
                None,
            ),
        ] {
            assert_eq!(config.open(&token, &other), Err(StateError::OtherRequest));
        }
        let alice = Binding::new("tools/call", "greet", &arguments, Some([1; 32]));
        let alices = config
            .seal(&config.payload(&alice, 1, BTreeMap::new(), BTreeMap::new()))
            .expect("small");
        assert!(config.open(&alices, &alice).is_ok());
        let bob = Binding::new("tools/call", "greet", &arguments, Some([2; 32]));
        assert_eq!(config.open(&alices, &bob), Err(StateError::OtherPrincipal));
        assert_eq!(
            config.open(&alices, &binding()),
            Err(StateError::OtherPrincipal)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_state_expires_after_its_time_to_live() {
        let config = StateConfig::new(KEY, &[]);
        let token = sealed(&config, 1);
        tokio::time::advance(StateConfig::DEFAULT_TTL - Duration::from_secs(1)).await;
        assert!(config.open(&token, &binding()).is_ok());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(config.open(&token, &binding()), Err(StateError::Expired));
    }

    #[tokio::test]
    async fn size_and_rounds_are_bounded() {
        let mut config = StateConfig::new(KEY, &[]);
        let over = sealed(&config, config.max_rounds + 1);
        assert_eq!(
            config.open(&over, &binding()),
            Err(StateError::TooManyRounds)
        );
        config.max_size = 64;
        let large = Answer {
            ask: String::new(),
            value: Value::String("x".repeat(100)),
        };
        let payload = config.payload(
            &binding(),
            1,
            BTreeMap::from([("big".to_owned(), large)]),
            BTreeMap::new(),
        );
        assert_eq!(config.seal(&payload), Err(StateError::TooLarge));
        assert_eq!(
            config.open(&"a".repeat(65), &binding()),
            Err(StateError::TooLarge)
        );
    }

    #[test]
    fn digests_are_canonical() {
        let left: Value =
            serde_json::from_str(r#"{"b":[1,{"d":2,"c":"x"}],"a":null}"#).expect("JSON");
        let right: Value =
            serde_json::from_str(r#"{"a":null,"b":[1,{"c":"x","d":2}]}"#).expect("JSON");
        assert_eq!(digest_of(&left), digest_of(&right));
        assert_ne!(digest_of(&left), digest_of(&serde_json::json!({"a": null})));
        let mut text = String::new();
        canonical(&left, &mut text);
        assert_eq!(text, r#"{"a":null,"b":[1,{"c":"x","d":2}]}"#);
    }
}
