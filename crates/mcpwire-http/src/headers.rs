//! The header names of Streamable HTTP, shared by the server and the client, and the value
//! codec of the headers that mirror request fields in revision 2026-07-28.
//!
//! From 2026-07-28 on, a client mirrors parts of each request's body into headers so that
//! intermediaries can route without parsing JSON: the method into [`MCP_METHOD`], the tool or
//! prompt name or resource URI into [`MCP_NAME`], and annotated tool arguments into
//! `Mcp-Param-{Name}` headers ([`MCP_PARAM_PREFIX`]). A value that is not a plain header value
//! travels Base64-encoded between the markers `=?base64?` and `?=`: [`encode_value`] writes
//! that form, [`decode_value`] reads either form.
//!
//! ```
//! use mcpwire_http::headers::{decode_value, encode_value};
//!
//! assert_eq!(encode_value("us-west1"), "us-west1");
//! assert_eq!(encode_value("Hello, 世界"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
//! assert_eq!(decode_value(" =?base64?SGVsbG8sIOS4lueVjA==?= ").unwrap(), "Hello, 世界");
//! assert!(decode_value("=?base64?SGVsbG8?=").is_err()); // Base64 without its padding
//! ```

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::HeaderName;

/// The `Mcp-Session-Id` header: the session the server assigned.
pub const MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
/// The `MCP-Protocol-Version` header: the negotiated protocol version (legacy era), or the
/// version of this request (modern era, equal to the `_meta` version of the body).
pub const MCP_PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
/// The `Last-Event-ID` header: where a resumed SSE stream picks up.
pub const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");
/// The `Mcp-Method` header (modern era): the JSON-RPC method of the request, as is.
pub const MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
/// The `Mcp-Name` header (modern era): `params.name` of `tools/call` and `prompts/get`,
/// `params.uri` of `resources/read`, `params.taskId` of `tasks/get`, `tasks/update` and
/// `tasks/cancel`, encoded with [`encode_value`].
pub const MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");
/// The prefix of the `Mcp-Param-{Name}` headers (modern era), lowercase as header names are
/// compared: each mirrors a tool argument whose schema carries `"x-mcp-header": "{Name}"`, its
/// value encoded with [`encode_value`].
pub const MCP_PARAM_PREFIX: &str = "mcp-param-";

/// The marker that opens a Base64-encoded value.
const SENTINEL_PREFIX: &str = "=?base64?";
/// The marker that closes a Base64-encoded value.
const SENTINEL_SUFFIX: &str = "?=";

/// Writes `value` as the value of an `Mcp-Name` or `Mcp-Param-{Name}` header.
///
/// The value goes as is when every character is visible ASCII or a space, it neither starts
/// nor ends with a space, and it does not look like an encoded value (starting with
/// `=?base64?` and ending with `?=`); the empty string goes as is too. Anything else (non-ASCII
/// text, control characters, tabs included, leading or trailing spaces, a literal sentinel)
/// becomes `=?base64?{standard Base64 of the UTF-8, padded}?=`.
///
/// # Examples
///
/// ```
/// use mcpwire_http::headers::encode_value;
///
/// assert_eq!(encode_value("us west 1"), "us west 1");
/// assert_eq!(encode_value(" padded "), "=?base64?IHBhZGRlZCA=?=");
/// assert_eq!(encode_value("=?base64?literal?="), "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
/// ```
pub fn encode_value(value: &str) -> String {
    let needs_encoding = value.bytes().any(|byte| !(0x20..=0x7e).contains(&byte))
        || value.starts_with(' ')
        || value.ends_with(' ')
        || (value.starts_with(SENTINEL_PREFIX) && value.ends_with(SENTINEL_SUFFIX));
    if !needs_encoding {
        return value.to_owned();
    }
    format!(
        "{SENTINEL_PREFIX}{}{SENTINEL_SUFFIX}",
        STANDARD.encode(value.as_bytes())
    )
}

/// Reads the value of an `Mcp-Name` or `Mcp-Param-{Name}` header.
///
/// Leading and trailing spaces and tabs (optional whitespace) are removed first. A value
/// between the markers `=?base64?` and `?=` is then decoded as standard Base64 with canonical
/// padding, and must be UTF-8; any other value is taken literally (a value with only one of
/// the markers included), and may hold only visible ASCII, spaces and tabs.
///
/// # Errors
///
/// [`InvalidHeaderValue`] when the value holds other characters, or the encoded form is not
/// valid Base64 or not UTF-8. A server answers such a header with `400 Bad Request` and
/// `-32020` (HeaderMismatch).
///
/// # Examples
///
/// ```
/// use mcpwire_http::headers::decode_value;
///
/// assert_eq!(decode_value("=?base64?SGVsbG8=?=").unwrap(), "Hello");
/// assert_eq!(decode_value("SGVsbG8=").unwrap(), "SGVsbG8=");
/// assert_eq!(decode_value("=?base64?SGVsbG8=").unwrap(), "=?base64?SGVsbG8=");
/// assert!(decode_value("=?base64?SGVs!!!bG8=?=").is_err());
/// ```
pub fn decode_value(value: &str) -> Result<String, InvalidHeaderValue> {
    let value = trim_ows(value);
    if !value
        .bytes()
        .all(|byte| byte == b'\t' || (0x20..=0x7e).contains(&byte))
    {
        return Err(InvalidHeaderValue(Invalid::Characters));
    }
    let Some(encoded) = value
        .strip_prefix(SENTINEL_PREFIX)
        .and_then(|rest| rest.strip_suffix(SENTINEL_SUFFIX))
    else {
        return Ok(value.to_owned());
    };
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| InvalidHeaderValue(Invalid::Base64))?;
    String::from_utf8(bytes).map_err(|_| InvalidHeaderValue(Invalid::Utf8))
}

/// `value` without leading and trailing optional whitespace (spaces and tabs, RFC 9110).
pub fn trim_ows(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
}

/// A header value that [`decode_value`] refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidHeaderValue(Invalid);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Invalid {
    Characters,
    Base64,
    Utf8,
    /// Only the server reads headers that may not repeat.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    Repeated,
}

#[cfg(feature = "server")]
impl InvalidHeaderValue {
    /// A value holding characters other than visible ASCII, spaces and tabs.
    pub(crate) fn characters() -> Self {
        InvalidHeaderValue(Invalid::Characters)
    }

    /// A header that appears more than once where one value is expected.
    pub(crate) fn repeated() -> Self {
        InvalidHeaderValue(Invalid::Repeated)
    }
}

impl fmt::Display for InvalidHeaderValue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self.0 {
            Invalid::Characters => {
                "the header value holds characters other than visible ASCII, spaces and tabs"
            }
            Invalid::Base64 => "the encoded header value is not valid padded standard Base64",
            Invalid::Utf8 => "the encoded header value is not UTF-8",
            Invalid::Repeated => "the header appears more than once",
        })
    }
}

impl std::error::Error for InvalidHeaderValue {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_as_the_spec_and_the_suite_expect() {
        let cases = [
            // The examples of the transport's Value Encoding section.
            ("us-west1", "us-west1"),
            ("Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="),
            (" padded ", "=?base64?IHBhZGRlZCA=?="),
            ("line1\nline2", "=?base64?bGluZTEKbGluZTI=?="),
            ("=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
            // Interior spaces stay plain; leading or trailing ones do not.
            ("us west 1", "us west 1"),
            (" us-west1", "=?base64?IHVzLXdlc3Qx?="),
            ("us-west1 ", "=?base64?dXMtd2VzdDEg?="),
            // Every control character is encoded, a tab too, even inside the value.
            ("\tindented", "=?base64?CWluZGVudGVk?="),
            ("a\tb", "=?base64?YQli?="),
            ("line1\r\nline2", "=?base64?bGluZTENCmxpbmUy?="),
            ("\u{7f}", "=?base64?fw==?="),
            // The empty string is an empty header value.
            ("", ""),
            // Only one of the markers is no sentinel; both are, even overlapping.
            ("=?base64?abc", "=?base64?abc"),
            ("abc?=", "abc?="),
            ("=?base64?=", "=?base64?PT9iYXNlNjQ/PQ==?="),
            ("true", "true"),
            ("-7", "-7"),
        ];
        for (value, encoded) in cases {
            assert_eq!(encode_value(value), encoded, "{value:?}");
            assert_eq!(
                decode_value(encoded).as_deref(),
                Ok(value),
                "{value:?} round-trips"
            );
        }
    }

    #[test]
    fn values_are_decoded_after_trimming_optional_whitespace() {
        let cases = [
            ("  tools/call  ", "tools/call"),
            ("\tname\t", "name"),
            ("a\tb", "a\tb"),
            (" =?base64?SGVsbG8=?= ", "Hello"),
            ("=?base64??=", ""),
            // Not a sentinel: taken literally.
            ("SGVsbG8=", "SGVsbG8="),
            ("=?base64?SGVsbG8=", "=?base64?SGVsbG8="),
            ("=?BASE64?SGVsbG8=?=", "=?BASE64?SGVsbG8=?="),
        ];
        for (header, value) in cases {
            assert_eq!(decode_value(header).as_deref(), Ok(value), "{header:?}");
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        let characters = InvalidHeaderValue(Invalid::Characters);
        let base64 = InvalidHeaderValue(Invalid::Base64);
        let cases = [
            // Base64 without its padding, with characters outside the alphabet, with
            // non-zero trailing bits, or of the URL-safe alphabet.
            ("=?base64?SGVsbG8?=", &base64),
            ("=?base64?SGVs!!!bG8=?=", &base64),
            ("=?base64?SGVsbG9=?=", &base64),
            ("=?base64?_w==?=", &base64),
            ("=?base64?SGVs bG8=?=", &base64),
            // Characters a header value may not hold.
            ("caf\u{e9}", &characters),
            ("line1\nline2", &characters),
            ("nul\0", &characters),
        ];
        for (header, error) in cases {
            assert_eq!(decode_value(header).as_ref(), Err(error), "{header:?}");
        }
        assert_eq!(
            decode_value("=?base64?/w==?="),
            Err(InvalidHeaderValue(Invalid::Utf8))
        );
        assert!(base64.to_string().contains("Base64"));
    }
}
