//! [`UnverifiedJwt`]: the header and claims of a JWT that a client holds and is about to
//! present, read without checking its signature.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::error::{Error, Kind};

/// A compact JWS (RFC 7515 §7.1) read without checking its signature: what a client looks
/// at before it presents a token it was handed (a workload's identity token, an identity
/// assertion grant), to see where and until when it may be presented.
///
/// Nothing read here is trusted: the signature is the business of whoever the token is
/// presented to. The checks are the client's own, so that it neither hands a token to a
/// server it is not for nor presents one that has expired.
///
/// Reading refuses what is not a JWT: not three parts, an empty header or signature, a
/// header or claims that are not base64url-encoded JSON objects, and registered claims of the
/// wrong type (`exp`, `nbf` and `iat` not numbers; `iss`, `sub` and `jti` not strings; `aud`
/// neither a string nor an array of strings). The errors never contain the token.
///
/// Its `Debug` output shows the header and the names of the claims, not their values.
#[derive(Clone)]
pub struct UnverifiedJwt {
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl UnverifiedJwt {
    /// Reads the compact JWT `token`.
    ///
    /// # Errors
    ///
    /// [`Error::is_token`] saying why `token` is not a JWT, without quoting it.
    pub fn parse(token: &str) -> Result<UnverifiedJwt, Error> {
        let not_a_jwt = |why: &str| Error::new(Kind::Token, format!("not a JWT: {why}"));
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(not_a_jwt("it does not have three parts"));
        };
        if header.is_empty() || signature.is_empty() {
            return Err(not_a_jwt("it is not signed"));
        }
        let object = |part: &str, what: &str| {
            let json = URL_SAFE_NO_PAD
                .decode(part.trim_end_matches('='))
                .map_err(|_| not_a_jwt(&format!("its {what} is not base64url")))?;
            match serde_json::from_slice(&json) {
                Ok(Value::Object(object)) => Ok(object),
                _ => Err(not_a_jwt(&format!("its {what} is not a JSON object"))),
            }
        };
        let jwt = UnverifiedJwt {
            header: object(header, "header")?,
            claims: object(claims, "claims")?,
        };
        jwt.check_registered_claims().map_err(|claim| {
            not_a_jwt(&format!(
                "its `{claim}` claim is not of the type RFC 7519 gives it"
            ))
        })?;
        Ok(jwt)
    }

    /// The name of the first registered claim whose value has the wrong type.
    fn check_registered_claims(&self) -> Result<(), &'static str> {
        for name in ["exp", "nbf", "iat"] {
            if self
                .claims
                .get(name)
                .is_some_and(|value| !value.is_number())
            {
                return Err(name);
            }
        }
        for name in ["iss", "sub", "jti"] {
            if self
                .claims
                .get(name)
                .is_some_and(|value| !value.is_string())
            {
                return Err(name);
            }
        }
        let audience_ok = match self.claims.get("aud") {
            None | Some(Value::String(_)) => true,
            Some(Value::Array(audiences)) => audiences.iter().all(Value::is_string),
            Some(_) => false,
        };
        if audience_ok { Ok(()) } else { Err("aud") }
    }

    /// The JOSE header (`alg`, `typ`, `kid`, ...).
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The header's `typ`, when it is a string.
    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    /// The claim `name`, when it is a string.
    pub fn string_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// The audiences (`aud`): none, one, or several (RFC 7519 §4.1.3).
    pub fn audiences(&self) -> Vec<&str> {
        match self.claims.get("aud") {
            Some(Value::String(audience)) => vec![audience.as_str()],
            Some(Value::Array(audiences)) => audiences.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// When the token expires (`exp`), if it says. A time before 1970 is 1970.
    pub fn expires_at(&self) -> Option<SystemTime> {
        let seconds = self.claims.get("exp")?.as_f64()?;
        let since_epoch = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::ZERO);
        Some(UNIX_EPOCH.checked_add(since_epoch).unwrap_or(UNIX_EPOCH))
    }

    /// How long ago the token expired, when its `exp` is not after `now`; `None` for a token
    /// without `exp` or one that is still valid at `now`.
    pub fn expired_for(&self, now: SystemTime) -> Option<Duration> {
        let expires_at = self.expires_at()?;
        (expires_at <= now).then(|| now.duration_since(expires_at).unwrap_or(Duration::ZERO))
    }
}

impl fmt::Debug for UnverifiedJwt {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("UnverifiedJwt")
            .field("header", &self.header)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn encode(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn jwt(header: &Value, claims: &Value) -> String {
        format!("{}.{}.c2lnbmF0dXJl", encode(header), encode(claims))
    }

    #[test]
    fn the_header_and_claims_are_read() {
        let token = jwt(
            &json!({"alg": "ES256", "typ": "oauth-id-jag+jwt"}),
            &json!({"iss": "https://idp.example", "aud": ["https://a", "https://b"], "exp": 2_000_000_000, "client_id": "c"}),
        );
        let jwt = UnverifiedJwt::parse(&token).unwrap();
        assert_eq!(jwt.typ(), Some("oauth-id-jag+jwt"));
        assert_eq!(jwt.audiences(), ["https://a", "https://b"]);
        assert_eq!(jwt.string_claim("client_id"), Some("c"));
        assert_eq!(jwt.string_claim("missing"), None);
        let expires_at = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        assert_eq!(jwt.expires_at(), Some(expires_at));
        assert_eq!(jwt.expired_for(expires_at - Duration::from_secs(1)), None);
        assert_eq!(
            jwt.expired_for(expires_at + Duration::from_secs(90)),
            Some(Duration::from_secs(90))
        );
        let one = UnverifiedJwt::parse(&jwt_with_claims(&json!({"aud": "https://a"}))).unwrap();
        assert_eq!(one.audiences(), ["https://a"]);
        assert_eq!(one.expires_at(), None);
        assert_eq!(one.expired_for(SystemTime::now()), None);
    }

    fn jwt_with_claims(claims: &Value) -> String {
        jwt(&json!({"alg": "RS256"}), claims)
    }

    #[test]
    fn what_is_not_a_jwt_is_refused_without_being_quoted() {
        let not_json = format!(
            "{}.{}.sig",
            encode(&json!({})),
            URL_SAFE_NO_PAD.encode("hunter2")
        );
        for token in [
            "hunter2".to_owned(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            ".e30.sig".to_owned(),
            "e30.e30.".to_owned(),
            "e30.!!!.sig".to_owned(),
            "e30.WyJodW50ZXIyIl0.sig".to_owned(),
            "WyJodW50ZXIyIl0.e30.sig".to_owned(),
            not_json,
            jwt_with_claims(&json!({"exp": "tomorrow"})),
            jwt_with_claims(&json!({"aud": ["https://a", 7]})),
            jwt_with_claims(&json!({"aud": {"hunter2": true}})),
            jwt_with_claims(&json!({"iss": 1})),
        ] {
            let error = UnverifiedJwt::parse(&token).unwrap_err();
            assert!(error.is_token(), "{token}: {error}");
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
    }

    #[test]
    fn debug_output_names_claims_without_their_values() {
        let token = jwt_with_claims(&json!({"sub": "alice@example.com", "exp": 1}));
        let debug = format!("{:?}", UnverifiedJwt::parse(&token).unwrap());
        assert!(
            debug.contains("RS256") && debug.contains("\"sub\""),
            "{debug}"
        );
        assert!(!debug.contains("alice"), "{debug}");
    }

    #[test]
    fn an_expiry_before_1970_has_passed() {
        let jwt = UnverifiedJwt::parse(&jwt_with_claims(&json!({"exp": -5}))).unwrap();
        assert_eq!(jwt.expires_at(), Some(UNIX_EPOCH));
        assert!(jwt.expired_for(SystemTime::now()).is_some());
    }
}
