//! [`WorkloadIdentity`]: the workload's token as a JWT bearer grant (RFC 7523 §2.1), a
//! [`TokenGrant`] of `mcpwire-auth`'s headless client.

use std::fmt;
use std::time::SystemTime;

use mcpwire_auth::client::{
    AuthorizationServerMetadata, GrantFuture, GrantRequest, Secret, TokenGrant, TokenRequest,
    UnverifiedJwt,
};

use crate::error::{Error, Kind};
use crate::source::WorkloadToken;

/// The grant type of the JWT bearer grant (RFC 7523 §2.1).
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Workload identity federation (SEP-1933): the client presents its workload's identity
/// token, a JWT its platform issued, as a JWT bearer grant (RFC 7523 §2.1), with no client
/// id, secret or registration. A [`TokenGrant`] for
/// [`OAuthConfig::headless`](mcpwire_auth::client::OAuthConfig::headless).
///
/// For each grant the token is read afresh from its [`WorkloadToken`] source and its claims
/// are looked at (not verified: that is the authorization server's part). It is presented
/// only when it has not expired and the authorization server is one it is for:
///
/// - by default, a server its `aud` claim names, by issuer identifier or token endpoint URL
///   (the extension asks for the token endpoint, the official suite for the issuer), so a
///   token minted for one authorization server is never handed to another, which could
///   replay it;
/// - with [`WorkloadIdentity::issuer`], the server with that issuer only, whatever the
///   token's audience (for platforms that mint tokens with an audience of their own naming).
///
/// A server whose metadata lists `grant_types_supported` without the JWT bearer grant is
/// refused too. The request carries `grant_type`, `assertion`, and the `resource` and
/// `scope` the layer adds. When the authorization server refuses it (`invalid_grant`,
/// `invalid_scope`, `unauthorized_client`), the request that needed it fails with that
/// error: the grant is neither retried nor replaced by another.
#[derive(Clone)]
pub struct WorkloadIdentity {
    token: WorkloadToken,
    issuer: Option<String>,
}

impl WorkloadIdentity {
    /// Presents the token from `token`.
    pub fn new(token: WorkloadToken) -> Self {
        WorkloadIdentity {
            token,
            issuer: None,
        }
    }

    /// Presents the token to the authorization server with the issuer identifier `issuer`
    /// only, whatever its audience.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The token request for `server`, once the token and the server are checked.
    fn token_request(
        &self,
        token: Secret,
        server: &AuthorizationServerMetadata,
    ) -> Result<TokenRequest, Error> {
        let issuer = &server.issuer;
        if let Some(grants) = &server.grant_types_supported
            && !grants.iter().any(|grant| grant == JWT_BEARER_GRANT_TYPE)
        {
            return Err(Error::new(
                Kind::Server,
                format!("the authorization server {issuer} does not offer the JWT bearer grant"),
            ));
        }
        let claims = read_claims(token.expose())?;
        check_expiry(&claims, SystemTime::now())?;
        match &self.issuer {
            Some(configured) if configured != issuer => {
                return Err(Error::new(
                    Kind::Server,
                    format!(
                        "the workload token is for the authorization server {configured}, not \
                         {issuer}"
                    ),
                ));
            }
            Some(_) => {}
            None => check_audience(&claims, server)?,
        }
        tracing::debug!(%issuer, "presenting the workload token as a JWT bearer grant");
        Ok(TokenRequest::new(JWT_BEARER_GRANT_TYPE).parameter("assertion", token))
    }
}

impl fmt::Debug for WorkloadIdentity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("WorkloadIdentity")
            .field("token", &self.token)
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl TokenGrant for WorkloadIdentity {
    fn grant(&self, request: GrantRequest) -> GrantFuture {
        let identity = self.clone();
        Box::pin(async move {
            let token = identity.token.read().await?;
            // Each error is boxed as itself, so that the layer passes its own on unchanged.
            let form = identity.token_request(token, request.server())?;
            Ok(request.token_request(form).await?)
        })
    }
}

/// The workload token's claims, read (not verified) to see where and until when it may be
/// presented.
fn read_claims(token: &str) -> Result<UnverifiedJwt, Error> {
    UnverifiedJwt::parse(token).map_err(|error| {
        Error::new(Kind::Token, "the workload token is not a JWT").with_source(error)
    })
}

/// Refuses a token whose `exp` is not after `now`.
fn check_expiry(claims: &UnverifiedJwt, now: SystemTime) -> Result<(), Error> {
    match claims.expired_for(now) {
        Some(ago) => Err(Error::new(
            Kind::Token,
            format!(
                "the workload token expired {} seconds ago; its platform should have replaced it",
                ago.as_secs_f64().ceil()
            ),
        )),
        None => Ok(()),
    }
}

/// Refuses `server` unless the token's `aud` names it, by issuer or token endpoint.
fn check_audience(
    claims: &UnverifiedJwt,
    server: &AuthorizationServerMetadata,
) -> Result<(), Error> {
    let named = claims
        .audiences()
        .into_iter()
        .any(|audience| audience == server.issuer || audience == server.token_endpoint);
    if named {
        Ok(())
    } else {
        Err(Error::new(
            Kind::Server,
            format!(
                "the workload token's audience is not the authorization server {} (name the \
                 issuer it is for with WorkloadIdentity::issuer)",
                server.issuer
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::{Value, json};

    use super::*;

    const ISSUER: &str = "https://as.example.com";

    fn jwt(claims: &Value) -> Secret {
        let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        Secret::new(format!(
            "{}.{}.c2lnbmF0dXJl",
            encode(&json!({"alg": "ES256"})),
            encode(claims)
        ))
    }

    fn server(grants: Option<&[&str]>) -> AuthorizationServerMetadata {
        let mut metadata = json!({
            "issuer": ISSUER,
            "authorization_endpoint": format!("{ISSUER}/authorize"),
            "token_endpoint": format!("{ISSUER}/oauth/token"),
        });
        if let Some(grants) = grants {
            metadata["grant_types_supported"] = json!(grants);
        }
        serde_json::from_value(metadata).unwrap()
    }

    /// The seconds since 1970 now.
    fn now() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    }

    fn in_an_hour() -> f64 {
        now() + 3600.0
    }

    #[test]
    fn a_token_for_this_server_is_presented_as_the_assertion() {
        let identity = WorkloadIdentity::new(WorkloadToken::value("unused"));
        for aud in [
            json!(ISSUER),
            json!("https://as.example.com/oauth/token"),
            json!(["https://other.example.com", ISSUER]),
        ] {
            let token = jwt(
                &json!({"iss": "https://k8s.example", "sub": "system:serviceaccount:ns:agent", "aud": aud, "exp": in_an_hour()}),
            );
            let request = identity
                .token_request(token, &server(Some(&[JWT_BEARER_GRANT_TYPE])))
                .unwrap();
            assert_eq!(request.grant_type(), JWT_BEARER_GRANT_TYPE);
            let debug = format!("{request:?}");
            assert!(debug.contains(r#"parameters: ["assertion"]"#), "{debug}");
            assert!(debug.contains("client_secret_basic: None"), "{debug}");
        }
    }

    #[test]
    fn a_token_for_another_server_or_expired_is_not_presented() {
        let identity = WorkloadIdentity::new(WorkloadToken::value("unused"));
        let cases = [
            (
                "another audience",
                json!({"aud": "https://evil.example.com", "exp": in_an_hour()}),
                true,
            ),
            ("no audience", json!({"exp": in_an_hour()}), true),
            (
                "an issuer with a slash",
                json!({"aud": "https://as.example.com/", "exp": in_an_hour()}),
                true,
            ),
            (
                "expired",
                json!({"aud": ISSUER, "exp": now() - 60.0}),
                false,
            ),
        ];
        for (what, claims, server_error) in cases {
            let error = identity
                .token_request(jwt(&claims), &server(None))
                .unwrap_err();
            assert_eq!(error.is_server(), server_error, "{what}: {error}");
            assert_eq!(error.is_token(), !server_error, "{what}: {error}");
        }
        let error = identity
            .token_request(
                jwt(&json!({"aud": ISSUER, "exp": in_an_hour()})),
                &server(Some(&["client_credentials"])),
            )
            .unwrap_err();
        assert!(error.is_server(), "{error}");
    }

    #[test]
    fn a_configured_issuer_replaces_the_audience_check() {
        let identity = WorkloadIdentity::new(WorkloadToken::value("unused")).issuer(ISSUER);
        let token = || jwt(&json!({"aud": "mcp-authorization", "exp": in_an_hour()}));
        assert!(identity.token_request(token(), &server(None)).is_ok());
        let elsewhere = WorkloadIdentity::new(WorkloadToken::value("unused"))
            .issuer("https://other.example.com");
        let error = elsewhere.token_request(token(), &server(None)).unwrap_err();
        assert!(error.is_server(), "{error}");
    }

    #[test]
    fn tokens_that_are_not_jwts_are_refused_without_showing_them() {
        let identity = WorkloadIdentity::new(WorkloadToken::value("unused"));
        for token in [
            "hunter2",
            "a.b",
            "a.b.c.d",
            ".e30.sig",
            "e30.e30.",
            "e30.!!!.sig",
            "e30.WyJodW50ZXIyIl0.sig",
        ] {
            let error = identity
                .token_request(Secret::new(token), &server(None))
                .unwrap_err();
            assert!(error.is_token(), "{token}: {error}");
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
    }
}
