//! Which scopes to ask for (the spec's scope selection strategy and step-up union).

use std::collections::HashSet;

use crate::client::metadata::{AuthorizationServerMetadata, ProtectedResourceMetadata};

/// The scope that asks for a refresh token (OpenID Connect Core §11).
pub(crate) const OFFLINE_ACCESS: &str = "offline_access";

/// The scopes of a first authorization: the challenge's `scope` if it has one, otherwise all
/// of the resource's `scopes_supported`, otherwise none (the `scope` parameter is omitted).
pub(crate) fn initial_scopes(
    challenged: &[String],
    resource: Option<&ProtectedResourceMetadata>,
) -> Vec<String> {
    if !challenged.is_empty() {
        return dedup(challenged.to_vec());
    }
    resource
        .and_then(|metadata| metadata.scopes_supported.clone())
        .map(dedup)
        .unwrap_or_default()
}

/// The scopes of a step-up: those asked for before, then the challenged ones, without
/// repeats.
pub(crate) fn union(previous: &[String], challenged: &[String]) -> Vec<String> {
    dedup(previous.iter().chain(challenged).cloned().collect())
}

/// `scopes` with `offline_access` added when the client wants refresh tokens, the
/// authorization server lists `offline_access` in its `scopes_supported`, and some scope is
/// asked for at all (an omitted `scope` stays omitted).
pub(crate) fn with_offline_access(
    mut scopes: Vec<String>,
    wanted: bool,
    server: &AuthorizationServerMetadata,
) -> Vec<String> {
    let offered = server
        .scopes_supported
        .as_ref()
        .is_some_and(|supported| supported.iter().any(|scope| scope == OFFLINE_ACCESS));
    if wanted && offered && !scopes.is_empty() && !scopes.iter().any(|s| s == OFFLINE_ACCESS) {
        scopes.push(OFFLINE_ACCESS.to_owned());
    }
    scopes
}

/// `scopes` without empty ones and repeats, in their order; in linear time, since a
/// server's `scopes_supported` may be long.
fn dedup(scopes: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::with_capacity(scopes.len());
    scopes
        .into_iter()
        .filter(|scope| !scope.is_empty() && seen.insert(scope.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::*;

    fn owned(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|scope| (*scope).to_owned()).collect()
    }

    fn resource(scopes: Option<&[&str]>) -> ProtectedResourceMetadata {
        ProtectedResourceMetadata {
            resource: "https://mcp.example.com/mcp".to_owned(),
            authorization_servers: vec![],
            scopes_supported: scopes.map(owned),
        }
    }

    #[test]
    fn the_challenge_comes_first_then_scopes_supported_then_nothing() {
        let supported = resource(Some(&["a", "b"]));
        assert_eq!(initial_scopes(&owned(&["c"]), Some(&supported)), ["c"]);
        assert_eq!(initial_scopes(&[], Some(&supported)), ["a", "b"]);
        assert!(initial_scopes(&[], Some(&resource(None))).is_empty());
        assert!(initial_scopes(&[], None).is_empty());
    }

    #[test]
    fn a_step_up_keeps_what_was_asked_for_before() {
        assert_eq!(
            union(&owned(&["mcp:basic"]), &owned(&["mcp:write", "mcp:basic"])),
            ["mcp:basic", "mcp:write"]
        );
    }

    #[test]
    fn offline_access_is_added_only_when_the_server_lists_it() {
        let mut server =
            AuthorizationServerMetadata::fallback(&Url::parse("https://as.example.com").unwrap());
        assert_eq!(with_offline_access(owned(&["a"]), true, &server), ["a"]);
        server.scopes_supported = Some(owned(&["a", OFFLINE_ACCESS]));
        assert_eq!(
            with_offline_access(owned(&["a"]), true, &server),
            ["a", OFFLINE_ACCESS]
        );
        assert_eq!(with_offline_access(owned(&["a"]), false, &server), ["a"]);
        assert!(with_offline_access(vec![], true, &server).is_empty());
    }
}
