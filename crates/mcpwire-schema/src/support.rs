//! Runtime support for the generated schema modules.
//!
//! The generated code stays small by leaning on the macros and helpers here: constant tags
//! (`"type": "text"`), open string enums, and the strict JSON buffering that unions use to
//! read their discriminator before decoding the chosen variant.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A JSON object with arbitrary members, as the schema's open objects (`_meta`, `arguments`,
/// `structuredContent`, capability maps) are represented.
pub type JsonObject = Map<String, Value>;

/// Declares a zero-sized type that serializes as one fixed string and refuses any other on
/// decoding, for schema properties with a `const` value such as `"jsonrpc": "2.0"`.
#[doc(hidden)]
#[macro_export]
macro_rules! __const_tag {
    ($(#[$attr:meta])* $name:ident = $value:literal) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name;

        impl $name {
            /// The only value this tag takes on the wire.
            pub const VALUE: &'static str = $value;

            /// Returns the wire value.
            pub const fn as_str(self) -> &'static str {
                $value
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str($value)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::support::expect_str(deserializer, $value).map(|()| $name)
            }
        }
    };
}

/// Declares an open string enum: the known values as unit variants plus `Unknown(String)`, so
/// that a value from a newer revision decodes, round-trips and can be recognised as unknown.
#[doc(hidden)]
#[macro_export]
macro_rules! __open_enum {
    ($(#[$attr:meta])* $name:ident { $($(#[$vattr:meta])* $variant:ident = $value:literal,)* }) => {
        $(#[$attr])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vattr])* $variant,)*
            /// A value this revision does not define, kept as received.
            Unknown(::std::string::String),
        }

        impl $name {
            /// Returns the wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Returns `true` for a value this revision does not define.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::core::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($value => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, formatter: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::support::deserialize_string(deserializer).map(|value| match value.as_str() {
                    $($value => Self::$variant,)*
                    _ => Self::Unknown(value),
                })
            }
        }
    };
}

pub use crate::{__const_tag as const_tag, __open_enum as open_enum};

/// Decodes a string and checks that it equals `expected`.
///
/// # Errors
///
/// Fails when the input is not a string or is another string.
pub fn expect_str<'de, D: Deserializer<'de>>(
    deserializer: D,
    expected: &'static str,
) -> Result<(), D::Error> {
    struct ExpectStr(&'static str);

    impl Visitor<'_> for ExpectStr {
        type Value = ();

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(formatter, "the string {:?}", self.0)
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<(), E> {
            if value == self.0 {
                Ok(())
            } else {
                Err(E::invalid_value(de::Unexpected::Str(value), &self))
            }
        }
    }

    deserializer.deserialize_str(ExpectStr(expected))
}

/// Decodes an owned string.
///
/// # Errors
///
/// Fails when the input is not a string.
pub fn deserialize_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    <String as serde::Deserialize>::deserialize(deserializer)
}

/// Buffers any JSON value, rejecting duplicate object keys at every depth.
///
/// Unions read their discriminator from this buffer. Rejecting duplicates here closes the
/// key-smuggling class of bugs where two parsers disagree on which of two equal keys wins.
///
/// # Errors
///
/// Fails on a duplicate key or on input that is not JSON data.
pub fn deserialize_strict_value<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Value, D::Error> {
    deserializer.deserialize_any(StrictValueVisitor)
}

struct StrictValueVisitor;

struct StrictValueSeed;

impl<'de> de::DeserializeSeed<'de> for StrictValueSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictValueVisitor)
    }
}

impl<'de> Visitor<'de> for StrictValueVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element_seed(StrictValueSeed)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let value = map.next_value_seed(StrictValueSeed)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Decodes a buffered value into `T`, converting the error into the caller's error type.
///
/// # Errors
///
/// Fails when the value does not have the shape of `T`.
pub fn from_value<T: DeserializeOwned, E: de::Error>(value: Value) -> Result<T, E> {
    serde_json::from_value(value).map_err(E::custom)
}

/// Reads a string member of a buffered object, if it is present and a string.
pub fn str_member<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// Returns `true` when a buffered object has the member `key`.
pub fn has_member(value: &Value, key: &str) -> bool {
    value.get(key).is_some()
}

/// Names the JSON kind of a buffered value, for union error messages.
pub fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
