//! Flaws of a protected server: its challenge, its Protected Resource Metadata, and how it
//! treats tokens that are invalid, malformed, missing from a session's request, or put in
//! the query string. The sound peer is the sound server behind `mcpwire-auth`'s
//! `BearerAuthLayer`.

use std::sync::Arc;

use http::{HeaderValue, Method};
use serde_json::json;

use crate::support::{Alter, AlterRequest, Answer, Case, Flaw, Intercept, SOUND_TOKEN, Seen};

/// Whether the request carries no `Authorization` header.
fn anonymous(seen: &Seen) -> bool {
    !seen.headers.contains_key("authorization")
}

/// Whether the request asks for the Protected Resource Metadata.
fn asks_metadata(seen: &Seen) -> bool {
    seen.method == Method::GET
        && seen
            .path
            .starts_with("/.well-known/oauth-protected-resource")
}

/// The proxy's endpoint, as the request named its host.
fn endpoint(seen: &Seen) -> String {
    let host = seen
        .headers
        .get("host")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/mcp")
}

/// Rewrites the `WWW-Authenticate` of every 401 with `change`.
fn challenge_of_401(change: fn(&str) -> String) -> Arc<dyn Flaw> {
    Arc::new(Alter(move |_: &Seen, answer: &mut Answer| {
        if answer.status.as_u16() != 401 {
            return;
        }
        let sent = answer
            .headers
            .get("www-authenticate")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        answer.headers.remove("www-authenticate");
        let changed = change(&sent);
        if let Ok(value) = HeaderValue::from_str(&changed)
            && !changed.is_empty()
        {
            answer.headers.insert("www-authenticate", value);
        }
    }))
}

/// A challenge without the parameter `name`.
fn without_param(challenge: &str, name: &str) -> String {
    let params = challenge.strip_prefix("Bearer ").unwrap_or(challenge);
    let kept: Vec<&str> = params
        .split(", ")
        .filter(|param| !param.starts_with(&format!("{name}=")))
        .collect();
    format!("Bearer {}", kept.join(", "))
}

/// Answers the metadata requests with `document(endpoint)`.
fn metadata_is(document: fn(String) -> serde_json::Value) -> Arc<dyn Flaw> {
    Arc::new(Intercept(move |seen: &Seen| {
        asks_metadata(seen).then(|| Answer::json(200, &document(endpoint(seen))))
    }))
}

/// Sets the request's `Authorization` to `value`.
fn authorize(seen: &mut Seen, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        seen.headers.insert("authorization", value);
    }
}

pub(crate) const CASES: &[Case] = &[
    Case {
        check: "authorization/challenge",
        // A 401 without any challenge.
        flaw: || challenge_of_401(|_| String::new()),
    },
    Case {
        check: "authorization/metadata-discoverable",
        // No `resource_metadata` in the challenge, and nothing at the well-known URIs.
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                if asks_metadata(seen) {
                    return Some(Answer::empty(404));
                }
                anonymous(seen).then(|| {
                    let mut answer = Answer::empty(401);
                    answer.headers.insert(
                        "www-authenticate",
                        HeaderValue::from_static("Bearer scope=\"mcp\""),
                    );
                    answer
                })
            }))
        },
    },
    Case {
        check: "authorization/metadata-resource",
        // The metadata names another resource.
        flaw: || {
            metadata_is(|_| {
                json!({"resource": "https://elsewhere.example/mcp",
                       "authorization_servers": ["https://auth.example.test"]})
            })
        },
    },
    Case {
        check: "authorization/metadata-authorization-servers",
        // The metadata names no authorization server.
        flaw: || metadata_is(|endpoint| json!({"resource": endpoint, "authorization_servers": []})),
    },
    Case {
        check: "authorization/invalid-token",
        // Any token is as good as the valid one.
        flaw: || {
            Arc::new(AlterRequest(|seen: &mut Seen| {
                if !anonymous(seen) {
                    authorize(seen, &format!("Bearer {SOUND_TOKEN}"));
                }
            }))
        },
    },
    Case {
        check: "authorization/malformed-authorization",
        // A malformed header breaks the server.
        flaw: || {
            Arc::new(Intercept(|seen: &Seen| {
                let value = seen.headers.get("authorization")?.to_str().ok()?;
                (value.trim() == "Bearer").then(|| Answer::empty(500))
            }))
        },
    },
    Case {
        check: "authorization/scope-in-challenge",
        // The challenge names no scope.
        flaw: || challenge_of_401(|sent| without_param(sent, "scope")),
    },
    Case {
        check: "authorization/valid-token",
        // The server refuses the token it should accept.
        flaw: || {
            Arc::new(AlterRequest(|seen: &mut Seen| {
                if !anonymous(seen) {
                    authorize(seen, "Bearer refused-by-the-flaw");
                }
            }))
        },
    },
    Case {
        check: "authorization/every-request",
        // A request in a session needs no token: the session authenticates it.
        flaw: || {
            Arc::new(AlterRequest(|seen: &mut Seen| {
                if anonymous(seen) && seen.headers.contains_key("mcp-session-id") {
                    authorize(seen, &format!("Bearer {SOUND_TOKEN}"));
                }
            }))
        },
    },
    Case {
        check: "authorization/token-in-query",
        // A token in the query string is taken as if it were in the header.
        flaw: || {
            Arc::new(AlterRequest(|seen: &mut Seen| {
                if let Some((_, token)) = seen.path.split_once("access_token=") {
                    let token = token.split('&').next().unwrap_or_default().to_owned();
                    authorize(seen, &format!("Bearer {token}"));
                }
            }))
        },
    },
];

#[test]
fn a_challenge_loses_one_parameter() {
    assert_eq!(
        without_param(
            r#"Bearer resource_metadata="http://a/.well-known/x", scope="mcp""#,
            "scope"
        ),
        r#"Bearer resource_metadata="http://a/.well-known/x""#
    );
    assert_eq!(
        without_param(r#"Bearer scope="mcp", resource_metadata="m""#, "scope"),
        r#"Bearer resource_metadata="m""#
    );
}
