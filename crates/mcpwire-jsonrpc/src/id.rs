//! Request identifiers.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};
use serde::ser::{Serialize, Serializer};

/// The `id` of a JSON-RPC request: a string or an integer.
///
/// MCP narrows JSON-RPC 2.0 here: an id is never `null` and never a fraction.
/// Integers are kept as [`i64`] and strings as [`String`], so an id is echoed
/// back exactly as the peer sent it; nothing passes through a float.
///
/// The derived order sorts every number before every string. It exists so ids
/// can key ordered maps; it carries no protocol meaning.
///
/// # Deserializing
///
/// The [`Deserialize`] impl accepts only a JSON string or a JSON integer that
/// fits in [`i64`]. It rejects `null`, booleans, arrays, objects, integers
/// outside the `i64` range and every number written with a fraction or an
/// exponent, even when its value is whole (`1.0`, `1e3`). The literal `-0` is
/// rejected as well: it cannot be echoed byte for byte once it is stored as
/// the integer `0`, and a peer that compares ids as text would never match the
/// reply to its request.
///
/// # Examples
///
/// ```
/// use mcpwire_jsonrpc::RequestId;
///
/// let id: RequestId = serde_json::from_str("7").unwrap();
/// assert_eq!(id, RequestId::Number(7));
/// assert!(serde_json::from_str::<RequestId>("7.0").is_err());
/// assert_eq!(RequestId::from("abc").to_string(), r#""abc""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    /// An integer id.
    Number(i64),
    /// A string id. Any string is allowed, including the empty one.
    String(String),
}

impl RequestId {
    /// Returns the integer when this id is a number.
    pub fn as_number(&self) -> Option<i64> {
        match self {
            RequestId::Number(number) => Some(*number),
            RequestId::String(_) => None,
        }
    }

    /// Returns the string when this id is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            RequestId::Number(_) => None,
            RequestId::String(string) => Some(string),
        }
    }
}

/// Formats the id as it appears on the wire: numbers bare, strings as quoted
/// JSON strings, so `1` and `"1"` stay distinguishable in logs.
impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(number) => write!(f, "{number}"),
            RequestId::String(string) => {
                let quoted = serde_json::to_string(string).map_err(|_| fmt::Error)?;
                f.write_str(&quoted)
            }
        }
    }
}

impl From<i64> for RequestId {
    fn from(number: i64) -> Self {
        RequestId::Number(number)
    }
}

impl From<&str> for RequestId {
    fn from(string: &str) -> Self {
        RequestId::String(string.to_owned())
    }
}

impl From<String> for RequestId {
    fn from(string: String) -> Self {
        RequestId::String(string)
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::Number(number) => serializer.serialize_i64(*number),
            RequestId::String(string) => serializer.serialize_str(string),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RequestIdVisitor)
    }
}

/// Accepts strings and integers only. Every method that serde would use for
/// another JSON type keeps its default, which reports an invalid type.
struct RequestIdVisitor;

impl Visitor<'_> for RequestIdVisitor {
    type Value = RequestId;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string or an integer within the i64 range")
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<RequestId, E> {
        Ok(RequestId::Number(number))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<RequestId, E> {
        i64::try_from(number)
            .map(RequestId::Number)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(number), &self))
    }

    // serde_json reports `1.0`, `1e3`, `-0` and integers beyond u64 as floats.
    // Refusing them here is what keeps ids from being rounded.
    fn visit_f64<E: de::Error>(self, number: f64) -> Result<RequestId, E> {
        Err(E::invalid_type(Unexpected::Float(number), &self))
    }

    fn visit_str<E: de::Error>(self, string: &str) -> Result<RequestId, E> {
        Ok(RequestId::String(string.to_owned()))
    }

    fn visit_string<E: de::Error>(self, string: String) -> Result<RequestId, E> {
        Ok(RequestId::String(string))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_strings_and_integers() {
        let cases = [
            ("0", RequestId::Number(0)),
            ("-1", RequestId::Number(-1)),
            ("9223372036854775807", RequestId::Number(i64::MAX)),
            ("-9223372036854775808", RequestId::Number(i64::MIN)),
            (r#""""#, RequestId::String(String::new())),
            (r#""a\"b""#, RequestId::String("a\"b".to_owned())),
            (r#""\u00e9""#, RequestId::String("\u{e9}".to_owned())),
        ];
        for (text, expected) in cases {
            let id: RequestId = serde_json::from_str(text).unwrap();
            assert_eq!(id, expected, "{text}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        let cases = [
            "null",
            "true",
            "false",
            "1.0",
            "1.5",
            "1e3",
            "1E3",
            "-0",
            "-0.0",
            "9223372036854775808",
            "-9223372036854775809",
            "18446744073709551616",
            "[]",
            "[1]",
            "{}",
            r#"{"id":1}"#,
        ];
        for text in cases {
            assert!(
                serde_json::from_str::<RequestId>(text).is_err(),
                "{text} should be rejected"
            );
        }
    }

    #[test]
    fn serializes_as_bare_json() {
        assert_eq!(serde_json::to_string(&RequestId::from(42)).unwrap(), "42");
        assert_eq!(
            serde_json::to_string(&RequestId::from("x\ny")).unwrap(),
            r#""x\ny""#
        );
    }

    #[test]
    fn display_matches_wire_form() {
        assert_eq!(RequestId::from(-3).to_string(), "-3");
        assert_eq!(RequestId::from("1").to_string(), r#""1""#);
        assert_eq!(RequestId::from(String::from("a\"")).to_string(), r#""a\"""#);
    }

    #[test]
    fn numbers_order_before_strings() {
        let mut ids = vec![
            RequestId::from("a"),
            RequestId::from(2),
            RequestId::from(-5),
        ];
        ids.sort();
        assert_eq!(
            ids,
            vec![
                RequestId::from(-5),
                RequestId::from(2),
                RequestId::from("a")
            ]
        );
    }

    #[test]
    fn accessors() {
        assert_eq!(RequestId::from(3).as_number(), Some(3));
        assert_eq!(RequestId::from(3).as_str(), None);
        assert_eq!(RequestId::from("x").as_str(), Some("x"));
        assert_eq!(RequestId::from("x").as_number(), None);
    }
}
