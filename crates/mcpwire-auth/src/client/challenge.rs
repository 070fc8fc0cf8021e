//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1, §11.2) and the Bearer parameters MCP reads
//! from them (RFC 6750 §3, RFC 9728 §5.1): `resource_metadata`, `scope` and `error`.
//!
//! The parser is strict and bounded: a header value longer than [`MAX_HEADER_LENGTH`], more
//! than [`MAX_CHALLENGES`] challenges, more than [`MAX_PARAMS`] parameters in one challenge,
//! a parameter named twice in one challenge, or anything off the grammar is refused as a
//! whole, and the client then discovers as if the server had sent no parameters.

use http::HeaderMap;
use http::header::WWW_AUTHENTICATE;

use crate::error::{Error, Kind};

/// The longest `WWW-Authenticate` value (all header lines together) that is parsed.
pub const MAX_HEADER_LENGTH: usize = 8 * 1024;

/// The most challenges one `WWW-Authenticate` value may carry.
pub const MAX_CHALLENGES: usize = 16;

/// The most parameters one challenge may carry.
pub const MAX_PARAMS: usize = 32;

/// One challenge of a `WWW-Authenticate` header: its scheme, and either its parameters or a
/// `token68`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    scheme: String,
    params: Vec<(String, String)>,
    token68: Option<String>,
}

impl Challenge {
    /// The authentication scheme, as sent (compare it case-insensitively).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The value of the parameter `name` (matched case-insensitively), unquoted.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The parameters, names in lowercase, in the order sent.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The `token68` of a challenge that carries one instead of parameters.
    pub fn token68(&self) -> Option<&str> {
        self.token68.as_deref()
    }
}

/// Parses a `WWW-Authenticate` value: one or more comma-separated challenges.
///
/// # Errors
///
/// [`Error::is_discovery`] when the value is off the grammar or over a bound.
pub fn parse_challenges(value: &str) -> Result<Vec<Challenge>, Error> {
    if value.len() > MAX_HEADER_LENGTH {
        return Err(malformed("the header is too long"));
    }
    let mut parser = Parser {
        bytes: value.as_bytes(),
        position: 0,
    };
    let mut challenges = Vec::new();
    loop {
        parser.skip_list_separators();
        if parser.at_end() {
            break;
        }
        if challenges.len() == MAX_CHALLENGES {
            return Err(malformed("too many challenges"));
        }
        challenges.push(parser.challenge()?);
    }
    if challenges.is_empty() {
        return Err(malformed("no challenge"));
    }
    Ok(challenges)
}

/// What a `Bearer` challenge tells an MCP client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// The URL of the Protected Resource Metadata (RFC 9728 §5.1).
    pub resource_metadata: Option<String>,
    /// The scopes the request needs, space-separated (RFC 6750 §3).
    pub scope: Option<String>,
    /// The error code: `invalid_token`, `insufficient_scope`, ...
    pub error: Option<String>,
}

impl BearerChallenge {
    /// The first `Bearer` challenge of the `WWW-Authenticate` headers, else their first
    /// `DPoP` challenge (RFC 9449 §7.1), which carries the same parameters, if they parse and
    /// carry one.
    pub fn from_headers(headers: &HeaderMap) -> Option<BearerChallenge> {
        let mut value = String::new();
        for line in headers.get_all(WWW_AUTHENTICATE) {
            let line = line.to_str().ok()?;
            if value.len() + line.len() + 2 > MAX_HEADER_LENGTH {
                return None;
            }
            if !value.is_empty() {
                value.push_str(", ");
            }
            value.push_str(line);
        }
        if value.is_empty() {
            return None;
        }
        let challenges = parse_challenges(&value).ok()?;
        let scheme = |name: &str| {
            challenges
                .iter()
                .find(|challenge| challenge.scheme().eq_ignore_ascii_case(name))
        };
        let bearer = scheme("bearer").or_else(|| scheme("dpop"))?;
        Some(BearerChallenge {
            resource_metadata: bearer.param("resource_metadata").map(str::to_owned),
            scope: bearer.param("scope").map(str::to_owned),
            error: bearer.param("error").map(str::to_owned),
        })
    }

    /// The challenged scopes, split on spaces.
    pub fn scopes(&self) -> Vec<String> {
        split_scopes(self.scope.as_deref())
    }

    /// Whether the server says the token lacks scope (`error="insufficient_scope"`).
    pub fn is_insufficient_scope(&self) -> bool {
        self.error.as_deref() == Some("insufficient_scope")
    }
}

/// Splits a space-separated scope string, dropping empty parts.
pub(crate) fn split_scopes(scope: Option<&str>) -> Vec<String> {
    scope
        .unwrap_or_default()
        .split(' ')
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

fn malformed(why: &str) -> Error {
    Error::new(
        Kind::Discovery,
        format!("malformed WWW-Authenticate header: {why}"),
    )
}

struct Parser<'a> {
    bytes: &'a [u8],
    position: usize,
}

/// `tchar` of RFC 9110 §5.6.2.
pub(crate) fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// The characters of a `token68` before its padding (RFC 9110 §11.2).
fn is_token68_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~+/".contains(&byte)
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.position >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn skip_whitespace(&mut self) -> usize {
        let start = self.position;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.position += 1;
        }
        self.position - start
    }

    fn skip_list_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.position += 1;
        }
    }

    fn token(&mut self) -> &str {
        let start = self.position;
        while self.peek().is_some_and(is_tchar) {
            self.position += 1;
        }
        // Only ASCII bytes were consumed.
        std::str::from_utf8(&self.bytes[start..self.position]).unwrap_or_default()
    }

    fn challenge(&mut self) -> Result<Challenge, Error> {
        let scheme = self.token().to_owned();
        if scheme.is_empty() {
            return Err(malformed("expected an authentication scheme"));
        }
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
            token68: None,
        };
        let spaces = self.skip_whitespace();
        if self.at_end() || self.peek() == Some(b',') {
            return Ok(challenge);
        }
        if spaces == 0 {
            return Err(malformed("expected a space after the scheme"));
        }
        if !self.param_follows() {
            challenge.token68 = Some(self.token68()?);
            self.skip_whitespace();
            if !(self.at_end() || self.peek() == Some(b',')) {
                return Err(malformed("unexpected text after a token68"));
            }
            return Ok(challenge);
        }
        loop {
            if challenge.params.len() == MAX_PARAMS {
                return Err(malformed("too many parameters"));
            }
            let (name, value) = self.param()?;
            if challenge
                .params
                .iter()
                .any(|(existing, _)| *existing == name)
            {
                return Err(malformed("a parameter is repeated"));
            }
            challenge.params.push((name, value));
            self.skip_whitespace();
            if self.at_end() {
                return Ok(challenge);
            }
            if self.peek() != Some(b',') {
                return Err(malformed("expected a comma between parameters"));
            }
            // After the comma comes another parameter of this challenge, or the next
            // challenge (whose scheme is not followed by `=`).
            let before_comma = self.position;
            self.skip_list_separators();
            if self.at_end() {
                return Ok(challenge);
            }
            if !self.param_follows() {
                self.position = before_comma;
                return Ok(challenge);
            }
        }
    }

    /// Whether the text at the cursor is `token BWS "=" BWS (token / quoted-string)`.
    fn param_follows(&mut self) -> bool {
        let start = self.position;
        let name = self.token().len();
        self.skip_whitespace();
        let mut follows = false;
        if name > 0 && self.peek() == Some(b'=') {
            self.position += 1;
            self.skip_whitespace();
            follows = self
                .peek()
                .is_some_and(|byte| byte == b'"' || is_tchar(byte));
        }
        self.position = start;
        follows
    }

    fn param(&mut self) -> Result<(String, String), Error> {
        let name = self.token().to_ascii_lowercase();
        self.skip_whitespace();
        if name.is_empty() || self.peek() != Some(b'=') {
            return Err(malformed("expected a parameter"));
        }
        self.position += 1;
        self.skip_whitespace();
        let value = if self.peek() == Some(b'"') {
            self.quoted_string()?
        } else {
            let token = self.token().to_owned();
            if token.is_empty() {
                return Err(malformed("a parameter has no value"));
            }
            token
        };
        Ok((name, value))
    }

    fn quoted_string(&mut self) -> Result<String, Error> {
        // The opening quote.
        self.position += 1;
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(malformed("an unterminated quoted string")),
                Some(b'"') => {
                    self.position += 1;
                    break;
                }
                Some(b'\\') => {
                    self.position += 1;
                    match self.peek() {
                        Some(byte) if byte == b'\t' || (0x20..0x7f).contains(&byte) => {
                            value.push(byte);
                            self.position += 1;
                        }
                        _ => return Err(malformed("a bad escape in a quoted string")),
                    }
                }
                Some(byte) if byte == b'\t' || byte == b' ' || (0x21..0x7f).contains(&byte) => {
                    value.push(byte);
                    self.position += 1;
                }
                Some(_) => return Err(malformed("a control or non-ASCII byte in a quoted string")),
            }
        }
        String::from_utf8(value).map_err(|_| malformed("a quoted string is not text"))
    }

    fn token68(&mut self) -> Result<String, Error> {
        let start = self.position;
        while self.peek().is_some_and(is_token68_char) {
            self.position += 1;
        }
        if self.position == start {
            return Err(malformed("expected parameters or a token68"));
        }
        while self.peek() == Some(b'=') {
            self.position += 1;
        }
        Ok(String::from_utf8_lossy(&self.bytes[start..self.position]).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn bearer_parameters_are_read_quoted_or_not() {
        let challenges = parse_challenges(
            r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="files:read files:write", error=insufficient_scope"#,
        )
        .unwrap();
        assert_eq!(challenges.len(), 1);
        let bearer = &challenges[0];
        assert_eq!(bearer.scheme(), "Bearer");
        assert_eq!(
            bearer.param("RESOURCE_METADATA"),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource")
        );
        assert_eq!(bearer.param("scope"), Some("files:read files:write"));
        assert_eq!(bearer.param("error"), Some("insufficient_scope"));
    }

    #[test]
    fn several_challenges_and_token68_are_told_apart() {
        let challenges = parse_challenges(
            r#"Basic realm="x", Negotiate abc+/de==, Bearer realm="a\"b", error="invalid_token", DPoP"#,
        )
        .unwrap();
        let schemes: Vec<&str> = challenges.iter().map(Challenge::scheme).collect();
        assert_eq!(schemes, ["Basic", "Negotiate", "Bearer", "DPoP"]);
        assert_eq!(challenges[1].token68(), Some("abc+/de=="));
        assert_eq!(challenges[2].param("realm"), Some("a\"b"));
        assert_eq!(challenges[2].param("error"), Some("invalid_token"));
        assert!(challenges[3].params().is_empty());
    }

    #[test]
    fn malformed_values_are_refused() {
        for value in [
            "",
            ", ,",
            r#"Bearer scope="unterminated"#,
            r#"Bearer scope="a", scope="b""#,
            r#"Bearer scope="a" error="b""#,
            "Bearer =x",
            "Bearer\u{1}",
            r#"Bearer scope="bad\"#,
            "Bearer scope=\"a\u{7f}\"",
        ] {
            assert!(parse_challenges(value).is_err(), "{value:?}");
        }
    }

    #[test]
    fn bounds_are_kept() {
        let many_params: Vec<String> = (0..=MAX_PARAMS).map(|n| format!("p{n}=v")).collect();
        assert!(parse_challenges(&format!("Bearer {}", many_params.join(", "))).is_err());
        let many_challenges: Vec<&str> = vec!["Basic"; MAX_CHALLENGES + 1];
        assert!(parse_challenges(&many_challenges.join(", ")).is_err());
        let long = format!("Bearer scope=\"{}\"", "a".repeat(MAX_HEADER_LENGTH));
        assert!(parse_challenges(&long).is_err());
    }

    #[test]
    fn the_bearer_challenge_is_found_among_header_lines() {
        let mut headers = HeaderMap::new();
        headers.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="r""#),
        );
        headers.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(
                r#"bearer scope="mcp:basic", resource_metadata="https://a/b""#,
            ),
        );
        let bearer = BearerChallenge::from_headers(&headers).unwrap();
        assert_eq!(bearer.scopes(), ["mcp:basic"]);
        assert_eq!(bearer.resource_metadata.as_deref(), Some("https://a/b"));
        assert!(!bearer.is_insufficient_scope());
        let mut broken = HeaderMap::new();
        broken.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer scope="x"#),
        );
        assert_eq!(BearerChallenge::from_headers(&broken), None);
        assert_eq!(BearerChallenge::from_headers(&HeaderMap::new()), None);
    }
}
