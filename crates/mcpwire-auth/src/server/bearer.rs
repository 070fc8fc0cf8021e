//! The strict reading of a request's bearer token: the `Authorization` header only (RFC 6750
//! §2.1), never the query string or a form body.

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::secret::Secret;

/// What a request's `Authorization` header presents.
#[derive(Debug)]
pub(crate) enum Presented {
    /// No `Authorization` header, or one of another scheme (`Basic …`): no token at all.
    Nothing,
    /// A token of the right form and size, with the scheme it came with.
    Token(Secret, Scheme),
    /// A malformed request: two `Authorization` headers, or `Bearer` credentials that are
    /// not one `token68`. The text says which, without the header's value.
    Malformed(&'static str),
    /// A token longer than the limit, refused before anything else looks at it.
    TooLong,
}

/// The scheme a token came with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `Authorization: Bearer` (RFC 6750).
    Bearer,
    /// `Authorization: DPoP` (RFC 9449 §7.1).
    Dpop,
}

/// Reads the access token of `headers`: exactly one `Authorization` header, the scheme
/// `Bearer` (or `DPoP`, when `dpop` is accepted) in any case, one or more spaces, then a
/// `token68` (RFC 7235 §2.1) of at most `max_bytes` bytes.
pub(crate) fn presented(headers: &HeaderMap, max_bytes: usize, dpop: bool) -> Presented {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Presented::Nothing;
    };
    if values.next().is_some() {
        return Presented::Malformed("more than one Authorization header");
    }
    let bytes = value.as_bytes();
    let (scheme, rest) = match bytes.iter().position(|byte| *byte == b' ') {
        Some(space) => (&bytes[..space], &bytes[space..]),
        None => (bytes, &[][..]),
    };
    let scheme = if scheme.eq_ignore_ascii_case(b"bearer") {
        Scheme::Bearer
    } else if dpop && scheme.eq_ignore_ascii_case(b"dpop") {
        Scheme::Dpop
    } else {
        return Presented::Nothing;
    };
    let token = trim_spaces(rest);
    if token.len() > max_bytes {
        return Presented::TooLong;
    }
    if token.is_empty() {
        return Presented::Malformed("the credentials are empty");
    }
    if !is_token68(token) {
        return Presented::Malformed("the credentials are not a token68");
    }
    // A token68 is ASCII, so the conversion cannot fail.
    match std::str::from_utf8(token) {
        Ok(token) => Presented::Token(Secret::new(token), scheme),
        Err(_) => Presented::Malformed("the credentials are not a token68"),
    }
}

fn trim_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|byte| *byte != b' ')
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|byte| *byte != b' ')
        .map_or(start, |last| last + 1);
    &bytes[start..end.max(start)]
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_token68(token: &[u8]) -> bool {
    let body_length = token.len() - token.iter().rev().take_while(|byte| **byte == b'=').count();
    body_length > 0
        && token[..body_length].iter().all(|byte| {
            byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn read(values: &[&[u8]]) -> Presented {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        }
        presented(&headers, 32, false)
    }

    fn token(values: &[&[u8]]) -> Option<String> {
        match read(values) {
            Presented::Token(token, Scheme::Bearer) => Some(token.expose().to_owned()),
            _ => None,
        }
    }

    #[test]
    fn a_bearer_token68_is_read_in_any_scheme_case() {
        for (header, expected) in [
            (&b"Bearer abc.DEF-1_2~3+4/5=="[..], "abc.DEF-1_2~3+4/5=="),
            (b"bearer abc", "abc"),
            (b"BEARER abc", "abc"),
            (b"BeArEr   abc", "abc"),
            (b"Bearer abc  ", "abc"),
        ] {
            assert_eq!(token(&[header]).as_deref(), Some(expected));
        }
    }

    #[test]
    fn anything_but_one_well_formed_header_is_refused() {
        assert!(matches!(read(&[]), Presented::Nothing));
        assert!(matches!(read(&[b"Basic dXNlcjpwYXNz"]), Presented::Nothing));
        assert!(matches!(read(&[b"Bearerabc"]), Presented::Nothing));
        assert!(matches!(
            read(&[b"Bearer a", b"Bearer a"]),
            Presented::Malformed(_)
        ));
        for malformed in [
            &b"Bearer"[..],
            b"Bearer ",
            b"Bearer a b",
            b"Bearer a,b",
            b"Bearer a\"b",
            b"Bearer ==",
            b"Bearer a=b",
            b"Bearer token=\"x\"",
            b"Bearer \xc3\xa9",
            b"Bearer a\tb",
        ] {
            assert!(
                matches!(read(&[malformed]), Presented::Malformed(_)),
                "{}",
                String::from_utf8_lossy(malformed)
            );
        }
        let long = format!("Bearer {}", "a".repeat(33));
        assert!(matches!(read(&[long.as_bytes()]), Presented::TooLong));
        let limit = format!("Bearer {}", "a".repeat(32));
        assert!(token(&[limit.as_bytes()]).is_some());
    }

    #[test]
    fn the_dpop_scheme_is_read_only_when_accepted() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("DPoP abc"));
        assert!(matches!(presented(&headers, 32, false), Presented::Nothing));
        assert!(matches!(
            presented(&headers, 32, true),
            Presented::Token(token, Scheme::Dpop) if token.expose() == "abc"
        ));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("dpop a b"));
        assert!(matches!(
            presented(&headers, 32, true),
            Presented::Malformed(_)
        ));
    }
}
