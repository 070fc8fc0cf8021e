//! The client's checks of the identity assertion grant (ID-JAG) the identity provider
//! issued, before it is presented to the authorization server.

use std::time::SystemTime;

use mcpwire_auth::client::{Secret, UnverifiedJwt};
use serde_json::Value;

use crate::error::{Error, Kind};

/// The token type of an identity assertion grant, as the token exchange asks for it
/// (`requested_token_type`) and the identity provider says it issued (`issued_token_type`).
pub const ID_JAG_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id-jag";

/// The JWS `typ` of an identity assertion grant.
pub const ID_JAG_JWT_TYPE: &str = "oauth-id-jag+jwt";

/// What the grant must be for: the authorization server it will be presented to, the
/// resource it was asked for, and the client presenting it.
pub(crate) struct Expected<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) resource: &'a str,
    pub(crate) client_id: &'a str,
}

/// Checks what the identity provider issued, `grant` of the type `issued_token_type`: an
/// identity assertion grant (`issued_token_type`, and the JWT's `typ`), for the
/// authorization server (`aud`), the resource (`resource`, when present) and the client
/// (`client_id`, when present) of `expected`, and unexpired at `now`. Its signature is the
/// authorization server's to check.
pub(crate) fn check(
    issued_token_type: Option<&str>,
    grant: &Secret,
    expected: &Expected<'_>,
    now: SystemTime,
) -> Result<(), Error> {
    let refuse = |message: String| Error::new(Kind::IdJag, message);
    match issued_token_type {
        Some(ID_JAG_TOKEN_TYPE) => {}
        Some(other) => {
            return Err(refuse(format!(
                "the identity provider issued a token of the type `{other}`, not an ID-JAG"
            )));
        }
        None => {
            return Err(refuse(
                "the identity provider did not say which type of token it issued".to_owned(),
            ));
        }
    }
    let jwt = UnverifiedJwt::parse(grant.expose()).map_err(|error| {
        refuse("the identity provider's grant is not a JWT".to_owned()).with_source(error)
    })?;
    if !jwt.typ().is_some_and(is_id_jag_typ) {
        return Err(refuse(format!(
            "the grant's JWT type is {}, not `{ID_JAG_JWT_TYPE}`",
            jwt.typ()
                .map_or_else(|| "absent".to_owned(), |typ| format!("`{typ}`"))
        )));
    }
    if !jwt.audiences().contains(&expected.issuer) {
        return Err(refuse(format!(
            "the grant is for the audience {:?}, not the authorization server `{}`",
            jwt.audiences(),
            expected.issuer
        )));
    }
    for (claim, wanted) in [
        ("resource", expected.resource),
        ("client_id", expected.client_id),
    ] {
        match jwt.claims().get(claim) {
            None => {}
            Some(Value::String(value)) if value == wanted => {}
            Some(other) => {
                return Err(refuse(format!(
                    "the grant's `{claim}` is {other}, not `{wanted}`"
                )));
            }
        }
    }
    if let Some(ago) = jwt.expired_for(now) {
        return Err(refuse(format!(
            "the grant expired {} seconds ago",
            ago.as_secs_f64().ceil()
        )));
    }
    Ok(())
}

/// Whether a JWS `typ` is that of an ID-JAG: media types compare without case, and may leave
/// out `application/` (RFC 7515 §4.1.9).
fn is_id_jag_typ(typ: &str) -> bool {
    let typ = typ.to_ascii_lowercase();
    typ == ID_JAG_JWT_TYPE || typ.strip_prefix("application/") == Some(ID_JAG_JWT_TYPE)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use mcpwire_auth::client::Secret;
    use serde_json::json;

    use super::*;

    const ISSUER: &str = "https://auth.chat.example";
    const RESOURCE: &str = "https://mcp.chat.example/mcp";
    const CLIENT_ID: &str = "chat-client";
    const NOW: u64 = 1_800_000_000;

    fn expected() -> Expected<'static> {
        Expected {
            issuer: ISSUER,
            resource: RESOURCE,
            client_id: CLIENT_ID,
        }
    }

    /// A grant with `header` and `claims`, signed with a made-up signature.
    fn grant(header: &Value, claims: &Value) -> Secret {
        let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        Secret::new(format!(
            "{}.{}.c2VjcmV0LXNpZ25hdHVyZQ",
            encode(header),
            encode(claims)
        ))
    }

    fn check_grant(grant: &Secret) -> Result<(), Error> {
        check(Some(ID_JAG_TOKEN_TYPE), grant, &expected(), now())
    }

    fn header() -> Value {
        json!({"alg": "ES256", "typ": "oauth-id-jag+jwt"})
    }

    fn claims() -> Value {
        json!({
            "iss": "https://acme.idp.example",
            "sub": "U019488227",
            "aud": ISSUER,
            "resource": RESOURCE,
            "client_id": CLIENT_ID,
            "jti": "9e43f81b64a33f20116179",
            "iat": NOW - 10,
            "exp": NOW + 300,
            "scope": "chat.read chat.history",
        })
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }

    fn with(mut value: Value, name: &str, replacement: Value) -> Value {
        if replacement.is_null() {
            value.as_object_mut().unwrap().remove(name);
        } else {
            value[name] = replacement;
        }
        value
    }

    #[test]
    fn a_grant_for_this_server_resource_and_client_passes() {
        assert!(check_grant(&grant(&header(), &claims())).is_ok());
        // `typ` in its other spellings, `aud` as a list, `resource` and `client_id` absent.
        for typ in ["OAUTH-ID-JAG+JWT", "application/oauth-id-jag+jwt"] {
            let header = with(header(), "typ", json!(typ));
            assert!(check_grant(&grant(&header, &claims())).is_ok(), "{typ}");
        }
        let claims = with(claims(), "aud", json!(["https://other.example", ISSUER]));
        let claims = with(
            with(claims, "resource", Value::Null),
            "client_id",
            Value::Null,
        );
        assert!(check_grant(&grant(&header(), &claims)).is_ok());
    }

    #[test]
    fn a_grant_for_another_server_resource_or_client_or_expired_is_refused() {
        let cases = [
            ("wrong typ", with(header(), "typ", json!("JWT")), claims()),
            ("no typ", with(header(), "typ", Value::Null), claims()),
            (
                "ID token typ",
                with(header(), "typ", json!("id+jwt")),
                claims(),
            ),
            (
                "wrong aud",
                header(),
                with(claims(), "aud", json!("https://evil.example")),
            ),
            (
                "aud with a slash",
                header(),
                with(claims(), "aud", json!(format!("{ISSUER}/"))),
            ),
            ("no aud", header(), with(claims(), "aud", Value::Null)),
            (
                "wrong resource",
                header(),
                with(claims(), "resource", json!("https://other.example/mcp")),
            ),
            (
                "resource not a string",
                header(),
                with(claims(), "resource", json!([RESOURCE])),
            ),
            (
                "wrong client_id",
                header(),
                with(claims(), "client_id", json!("other-client")),
            ),
            ("expired", header(), with(claims(), "exp", json!(NOW - 1))),
            ("expiring now", header(), with(claims(), "exp", json!(NOW))),
        ];
        for (what, header, claims) in cases {
            let token = grant(&header, &claims);
            let error = check_grant(&token).unwrap_err();
            assert!(error.is_id_jag(), "{what}: {error}");
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains(token.expose()), "{what}: {shown}");
            assert!(!shown.contains("c2VjcmV0LXNpZ25hdHVyZQ"), "{what}: {shown}");
        }
    }

    #[test]
    fn a_token_of_another_type_or_not_a_jwt_is_refused() {
        let jag = grant(&header(), &claims());
        let access_token = "urn:ietf:params:oauth:token-type:access_token";
        for (issued_token_type, token) in [
            (Some(access_token), jag.clone()),
            (None, jag),
            (Some(ID_JAG_TOKEN_TYPE), Secret::new("hunter2")),
        ] {
            let error = check(issued_token_type, &token, &expected(), now()).unwrap_err();
            assert!(error.is_id_jag(), "{error}");
            assert!(
                !format!("{error} {error:?}").contains("hunter2"),
                "{error:?}"
            );
        }
    }
}
