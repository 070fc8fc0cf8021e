//! The `WWW-Authenticate: Bearer` challenges of the resource server (RFC 6750 §3, RFC 9728
//! §5.1, and MCP's scope challenges).

use http::HeaderValue;

/// The `error` codes of RFC 6750 §3.1 the layer sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    /// A malformed request (`400`).
    InvalidRequest,
    /// A token that is expired, revoked, malformed, or not for this resource (`401`).
    InvalidToken,
    /// A valid token without the scopes the request needs (`403`).
    InsufficientScope,
    /// A DPoP proof that is missing, malformed or not for this request (RFC 9449 §7.1).
    InvalidDpopProof,
    /// A DPoP proof without the server's current nonce (RFC 9449 §9).
    UseDpopNonce,
}

impl ErrorCode {
    fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
        }
    }
}

/// One `Bearer` challenge, or with `algs` a `DPoP` one (RFC 9449 §7.1): `algs` (`DPoP`
/// only), `resource_metadata`, then `scope`, `error` and `error_description` when there are.
#[derive(Debug)]
pub(crate) struct Challenge<'a> {
    /// The algorithms of a `DPoP` challenge, space-separated; `None` for `Bearer`.
    pub(crate) dpop_algs: Option<&'a str>,
    pub(crate) resource_metadata: &'a str,
    pub(crate) scope: Option<&'a str>,
    pub(crate) error: Option<ErrorCode>,
    pub(crate) description: Option<&'a str>,
}

impl Challenge<'_> {
    /// The header value. Every parameter is a quoted string; the description keeps only the
    /// characters RFC 6750 §3 allows in it (printable ASCII but `"` and `\`), the others
    /// become `?`. The metadata URL and the scopes were checked when the layer was built.
    pub(crate) fn header_value(&self) -> HeaderValue {
        let mut value = match self.dpop_algs {
            Some(algs) => format!("DPoP algs=\"{}\", ", quotable(algs)),
            None => "Bearer ".to_owned(),
        };
        value.push_str(&format!(
            "resource_metadata=\"{}\"",
            quotable(self.resource_metadata)
        ));
        if let Some(scope) = self.scope {
            value.push_str(&format!(", scope=\"{}\"", quotable(scope)));
        }
        if let Some(error) = self.error {
            value.push_str(&format!(", error=\"{}\"", error.as_str()));
        }
        if let Some(description) = self.description {
            value.push_str(&format!(
                ", error_description=\"{}\"",
                quotable(description)
            ));
        }
        HeaderValue::from_str(&value).expect("only printable ASCII is written")
    }
}

/// `text` with every character outside `%x20-21 / %x23-5B / %x5D-7E` replaced by `?`.
fn quotable(text: &str) -> String {
    text.chars()
        .map(|character| match character {
            ' ' | '!' | '#'..='[' | ']'..='~' => character,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

    #[test]
    fn challenges_carry_metadata_scope_and_error() {
        let bare = Challenge {
            dpop_algs: None,
            resource_metadata: METADATA,
            scope: None,
            error: None,
            description: None,
        };
        assert_eq!(
            bare.header_value(),
            "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\""
        );
        let full = Challenge {
            dpop_algs: None,
            resource_metadata: METADATA,
            scope: Some("mcp:tools mcp:resources"),
            error: Some(ErrorCode::InsufficientScope),
            description: Some("the token lacks \"mcp:tools\" \\ é"),
        };
        assert_eq!(
            full.header_value(),
            "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", \
             scope=\"mcp:tools mcp:resources\", error=\"insufficient_scope\", \
             error_description=\"the token lacks ?mcp:tools? ? ?\""
        );
        let dpop = Challenge {
            dpop_algs: Some("ES256 PS256"),
            resource_metadata: METADATA,
            scope: None,
            error: Some(ErrorCode::UseDpopNonce),
            description: None,
        };
        assert_eq!(
            dpop.header_value(),
            "DPoP algs=\"ES256 PS256\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", \
             error=\"use_dpop_nonce\""
        );
    }

    #[cfg(feature = "client")]
    #[test]
    fn the_mcpwire_client_reads_what_the_server_writes() {
        let challenge = Challenge {
            dpop_algs: None,
            resource_metadata: METADATA,
            scope: Some("a b"),
            error: Some(ErrorCode::InvalidToken),
            description: Some("the token has expired"),
        };
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::WWW_AUTHENTICATE, challenge.header_value());
        let read = crate::client::BearerChallenge::from_headers(&headers).unwrap();
        assert_eq!(read.resource_metadata.as_deref(), Some(METADATA));
        assert_eq!(read.scopes(), ["a", "b"]);
        assert_eq!(read.error.as_deref(), Some("invalid_token"));
    }
}
