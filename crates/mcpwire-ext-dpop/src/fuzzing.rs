//! Entry points for the fuzz targets: not a public API.

use std::sync::OnceLock;
use std::time::Duration;

use http::Method;
use mcpwire_auth::server::{DpopChecker as _, ProofTarget, Secret};
use serde_json::{Map, Value};
use url::Url;

use crate::proof::unix_now;
use crate::{DpopKey, DpopVerifier};

/// The request every fuzzed proof is checked against.
const TARGET: &str = "https://mcp.example.com/mcp";

/// The token every fuzzed proof is checked with.
const TOKEN: &str = "fuzz-token";

/// Checks a proof made of `data` against a `POST` to a fixed URI presenting a fixed token, and
/// records it when accepted. The first byte chooses: its low bit, whether the rest is the proof
/// itself (the parser and the checks of the header, the signature and the claims) or a JSON
/// object of claims that a fixed key signs (the checks of the claims, past the signature); its
/// second bit, whether the verifier issues nonces. Nothing may panic, and an accepted proof must
/// be for the request. Whether the proof was accepted.
pub fn check_proof(data: &[u8]) -> bool {
    let Some((&mode, rest)) = data.split_first() else {
        return false;
    };
    let proof = if mode & 1 == 0 {
        match std::str::from_utf8(rest) {
            Ok(proof) => proof.to_owned(),
            Err(_) => return false,
        }
    } else {
        let Ok(Value::Object(mut claims)) = serde_json::from_slice::<Value>(rest) else {
            return false;
        };
        claims
            .entry("iat")
            .or_insert_with(|| Value::from(unix_now()));
        match key().sign_any(&claims) {
            Ok(proof) => proof,
            Err(_) => return false,
        }
    };
    let verifier = if mode & 2 == 0 {
        plain()
    } else {
        with_nonces()
    };
    let uri = Url::parse(TARGET).expect("a fixed URL");
    let token = Secret::new(TOKEN);
    if let Ok(checked) = verifier.check(&proof, &ProofTarget::new(&Method::POST, &uri, &token)) {
        assert!(!checked.jti.is_empty(), "an accepted proof has a jti");
        assert!(
            !checked.thumbprint.is_empty(),
            "an accepted proof has a key"
        );
        assert!(
            (unix_now() - checked.issued_at).abs() <= 61,
            "an accepted proof is fresh"
        );
        return verifier.record(&checked).is_ok();
    }
    false
}

/// The claims of a valid proof for the fixed request, as the seeds of the signed mode start
/// from.
pub fn valid_claims() -> Map<String, Value> {
    let claims = crate::ProofClaims::new("POST", TARGET).access_token(&Secret::new(TOKEN));
    match serde_json::to_value(claims) {
        Ok(Value::Object(claims)) => claims,
        _ => Map::new(),
    }
}

/// The fixed key of the signed mode.
pub fn key() -> &'static DpopKey {
    static KEY: OnceLock<DpopKey> = OnceLock::new();
    KEY.get_or_init(|| DpopKey::from_p256_secret(&[7; 32]).expect("a fixed valid scalar"))
}

fn plain() -> &'static DpopVerifier {
    static VERIFIER: OnceLock<DpopVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| DpopVerifier::builder().replay_capacity(64).build())
}

fn with_nonces() -> &'static DpopVerifier {
    static VERIFIER: OnceLock<DpopVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        DpopVerifier::builder()
            .nonces(Duration::from_secs(3600))
            .replay_capacity(64)
            .build()
    })
}
