//! The grants: the authorization code flow with PKCE (the authorization request, the
//! checks of the response, the code exchange), the refresh of a token, and the token request
//! every grant ends in.

use url::Url;

use crate::client::discovery::Discovered;
use crate::client::metadata::AuthorizationServerMetadata;
use crate::client::pkce::{Pkce, random_string};
use crate::client::registration::Registration;
use crate::client::token::{TokenOutcome, TokenSet, send_token_request};
use crate::client::user_agent::{AuthorizationPrompt, UserAgent};
use crate::error::{Error, Kind};
use crate::fetch::Fetcher;
use crate::secret::Secret;

/// Runs the authorization code flow for `scopes` through `user_agent` and returns the tokens
/// granted.
pub(crate) async fn authorization_code(
    user_agent: &dyn UserAgent,
    fetcher: &Fetcher,
    discovered: &Discovered,
    registration: &Registration,
    scopes: &[String],
) -> Result<TokenSet, Error> {
    let server = &discovered.server;
    let redirect_uri = user_agent.redirect_uri().to_owned();
    let pkce = Pkce::generate()?;
    let state = random_string(24)?;
    let mut url = Url::parse(&server.authorization_endpoint).map_err(|error| {
        Error::new(
            Kind::Authorization,
            "the authorization endpoint is not a URL",
        )
        .with_source(error)
    })?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &registration.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", &state);
        if !scopes.is_empty() {
            query.append_pair("scope", &scopes.join(" "));
        }
        if let Some(resource) = discovered.resource_parameter() {
            query.append_pair("resource", resource);
        }
    }
    // The URL comes from a server: it goes to the user agent only if the policy takes it.
    fetcher.policy().check(&url)?;
    tracing::debug!(
        issuer = %server.issuer,
        client_id = %registration.client_id,
        scopes = %scopes.join(" "),
        "asking the user agent to authorize"
    );
    let redirect = user_agent
        .authorize(AuthorizationPrompt::new(
            url,
            state.clone(),
            fetcher.clone(),
        ))
        .await
        .map_err(|error| {
            Error::new(Kind::Authorization, "the user agent failed").with_boxed_source(error)
        })?;
    let code = check_redirect(&redirect, &redirect_uri, &state, server)?;
    let mut form: Vec<(&str, String)> = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.expose().to_owned()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", pkce.verifier.expose().to_owned()),
    ];
    if let Some(resource) = discovered.resource_parameter() {
        form.push(("resource", resource.to_owned()));
    }
    match token_request(fetcher, server, registration, form, scopes).await? {
        TokenOutcome::Granted(tokens) => {
            tracing::debug!(issuer = %server.issuer, "the authorization code was exchanged for tokens");
            Ok(tokens)
        }
        TokenOutcome::Refused(error) => Err(Error::new(
            Kind::Token,
            format!("the token endpoint refused the code: {error}"),
        )),
    }
}

/// Exchanges the refresh token of `tokens`; `Ok(None)` when the server refuses it
/// (`invalid_grant`: revoked or expired), so that the caller authorizes afresh.
pub(crate) async fn refresh(
    fetcher: &Fetcher,
    server: &AuthorizationServerMetadata,
    registration: &Registration,
    resource: Option<&str>,
    tokens: &TokenSet,
) -> Result<Option<TokenSet>, Error> {
    let Some(refresh_token) = &tokens.refresh_token else {
        return Ok(None);
    };
    let mut form: Vec<(&str, String)> = vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", refresh_token.expose().to_owned()),
    ];
    if let Some(resource) = resource {
        form.push(("resource", resource.to_owned()));
    }
    match token_request(
        fetcher,
        server,
        registration,
        form,
        &tokens.requested_scopes,
    )
    .await?
    {
        TokenOutcome::Granted(mut fresh) => {
            tracing::debug!(issuer = %server.issuer, rotated = fresh.refresh_token.is_some(), "the tokens were refreshed");
            // Without rotation the old refresh token stays valid (RFC 6749 §6).
            if fresh.refresh_token.is_none() {
                fresh.refresh_token = tokens.refresh_token.clone();
            }
            Ok(Some(fresh))
        }
        TokenOutcome::Refused(error) => {
            tracing::debug!(issuer = %server.issuer, %error, "the refresh token was refused; authorizing afresh");
            Ok(None)
        }
    }
}

async fn token_request(
    fetcher: &Fetcher,
    server: &AuthorizationServerMetadata,
    registration: &Registration,
    mut form: Vec<(&str, String)>,
    scopes: &[String],
) -> Result<TokenOutcome, Error> {
    let (extra, basic) = registration.authenticate();
    form.extend(extra);
    send_token_request(fetcher, server, &form, basic, scopes).await
}

/// Checks the authorization response at `redirect` and returns its code: the redirect URI
/// it came back to, `iss` by RFC 9207 §2.4 (first: nothing of a response from the wrong
/// server is acted on), `state`, then `error`.
pub(crate) fn check_redirect(
    redirect: &Url,
    redirect_uri: &str,
    state: &str,
    server: &AuthorizationServerMetadata,
) -> Result<Secret, Error> {
    let refuse = |why: String| Err(Error::new(Kind::Authorization, why));
    let expected = Url::parse(redirect_uri).map_err(|error| {
        Error::new(Kind::Config, "the redirect URI is not a URL").with_source(error)
    })?;
    if redirect.origin() != expected.origin() || redirect.path() != expected.path() {
        return refuse("the authorization response came back to another URI".to_owned());
    }
    let mut issuer = None;
    let mut returned_state = None;
    let mut code = None;
    let mut error = None;
    for (name, value) in redirect.query_pairs() {
        let slot = match name.as_ref() {
            "iss" => &mut issuer,
            "state" => &mut returned_state,
            "code" => &mut code,
            "error" => &mut error,
            _ => continue,
        };
        if slot.is_some() {
            return refuse(format!("the authorization response repeats `{name}`"));
        }
        *slot = Some(value.into_owned());
    }
    let advertised = server.authorization_response_iss_parameter_supported == Some(true);
    match issuer {
        // A plain string comparison: no case folding, port or slash normalization.
        Some(issuer) if issuer != server.issuer => {
            return refuse(format!(
                "the authorization response is from the issuer `{issuer}`, not `{}`",
                server.issuer
            ));
        }
        None if advertised => {
            return refuse(
                "the authorization response lacks the `iss` its server advertises".to_owned(),
            );
        }
        _ => {}
    }
    if returned_state.as_deref() != Some(state) {
        return refuse("the authorization response's `state` does not match".to_owned());
    }
    if let Some(error) = error {
        return refuse(format!("the authorization server answered `{error}`"));
    }
    match code {
        Some(code) if !code.is_empty() => Ok(Secret::new(code)),
        _ => refuse("the authorization response has no code".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(advertised: Option<bool>) -> AuthorizationServerMetadata {
        let mut server =
            AuthorizationServerMetadata::fallback(&Url::parse("https://as.example.com").unwrap());
        server.authorization_response_iss_parameter_supported = advertised;
        server
    }

    fn check(query: &str, advertised: Option<bool>) -> Result<String, Error> {
        let redirect = Url::parse(&format!("http://127.0.0.1:9/callback?{query}")).unwrap();
        check_redirect(
            &redirect,
            "http://127.0.0.1:9/callback",
            "s1",
            &server(advertised),
        )
        .map(|code| code.expose().to_owned())
    }

    #[test]
    fn iss_is_checked_by_the_rfc_9207_table() {
        let issuer = "iss=https%3A%2F%2Fas.example.com";
        assert_eq!(
            check(&format!("code=c&state=s1&{issuer}"), Some(true)).unwrap(),
            "c"
        );
        assert!(
            check("code=c&state=s1", Some(true))
                .unwrap_err()
                .is_authorization()
        );
        assert_eq!(
            check(&format!("code=c&state=s1&{issuer}"), None).unwrap(),
            "c"
        );
        assert_eq!(check("code=c&state=s1", Some(false)).unwrap(), "c");
        for wrong in [
            "iss=https%3A%2F%2Fevil.example.com",
            "iss=https%3A%2F%2Fas.example.com%2F",
            "iss=HTTPS%3A%2F%2Fas.example.com",
            "iss=https%3A%2F%2Fas.example.com%3A443",
        ] {
            assert!(
                check(&format!("code=c&state=s1&{wrong}"), Some(true)).is_err(),
                "{wrong}"
            );
            assert!(
                check(&format!("code=c&state=s1&{wrong}"), None).is_err(),
                "{wrong}"
            );
        }
    }

    #[test]
    fn state_error_and_code_are_checked() {
        assert!(check("code=c&state=other", None).is_err());
        assert!(check("code=c", None).is_err());
        assert!(check("code=c&state=s1&state=s1", None).is_err());
        assert!(check("error=access_denied&state=s1", None).is_err());
        assert!(check("state=s1", None).is_err());
        let elsewhere = Url::parse("http://127.0.0.1:9/other?code=c&state=s1").unwrap();
        assert!(
            check_redirect(
                &elsewhere,
                "http://127.0.0.1:9/callback",
                "s1",
                &server(None)
            )
            .is_err()
        );
    }
}
