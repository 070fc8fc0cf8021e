//! Object keys: exact reading and duplicate detection.
//!
//! serde_json keeps the last value when a key repeats inside a `Value` or a
//! map, while derived structs reject the repeat. Two readers of the same
//! message can therefore disagree about what it says. Every object this crate
//! reads goes through these helpers so repeats are refused instead.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::shorten::shorten;

/// Longest key, in bytes, that an error message quotes.
const QUOTED_KEY_LIMIT: usize = 64;

/// An object key after JSON unescaping, borrowed from the input when it
/// contains no escapes.
///
/// Keys compare as decoded strings with no case or Unicode folding, so
/// `"Method"` and `"method\u0000"` are different from `"method"`, and
/// `"m\u0065thod"` is the same key as `"method"`.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(key)))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key.to_owned())))
    }

    fn visit_string<E: de::Error>(self, key: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key)))
    }
}

/// The keys seen so far in one object.
#[derive(Default)]
pub(crate) struct SeenKeys<'de> {
    seen: HashSet<Cow<'de, str>>,
}

impl<'de> SeenKeys<'de> {
    /// Records `key` and returns `false` when it was already present.
    pub(crate) fn insert(&mut self, key: Cow<'de, str>) -> bool {
        self.seen.insert(key)
    }
}

/// The text used for a repeated key in error messages, cut short so a huge
/// key cannot inflate the error sent back to the peer.
pub(crate) fn describe_duplicate(key: &str) -> String {
    format!("duplicate key `{}`", shorten(key, QUOTED_KEY_LIMIT))
}

/// Checks every object nested anywhere in `raw` for repeated keys.
///
/// serde_json bounds the recursion of this walk at 128 levels and rejects
/// numbers beyond the `f64` range while reading them.
///
/// # Errors
///
/// Returns an error naming the first repeated key, or serde_json's error for
/// a value nested too deeply.
pub(crate) fn check_no_duplicate_keys(raw: &RawValue) -> Result<(), serde_json::Error> {
    serde_json::from_str::<NoDuplicates>(raw.get()).map(|_| ())
}

/// A value of any JSON type, read only to check its objects for repeats.
struct NoDuplicates;

impl<'de> Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }

    fn visit_unit<E: de::Error>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NoDuplicates, A::Error> {
        while seq.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoDuplicates, A::Error> {
        let mut seen = SeenKeys::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(describe_duplicate(&key)));
            }
            map.next_value::<NoDuplicates>()?;
        }
        Ok(NoDuplicates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), serde_json::Error> {
        let raw: Box<RawValue> = serde_json::from_str(text).unwrap();
        check_no_duplicate_keys(&raw)
    }

    #[test]
    fn accepts_distinct_keys_at_every_level() {
        check(r#"{"a":1,"b":{"a":1,"c":[{"a":1},{"a":2}]},"A":null}"#).unwrap();
        check(r#"[1,"x",true,null,1.5,{}]"#).unwrap();
    }

    #[test]
    fn rejects_repeats_at_any_depth() {
        let error = check(r#"{"a":{"b":[{"c":1,"c":2}]}}"#).unwrap_err();
        assert!(error.to_string().contains("duplicate key `c`"), "{error}");
    }

    #[test]
    fn compares_decoded_keys() {
        let error = check(r#"{"name":1,"n\u0061me":2}"#).unwrap_err();
        assert!(
            error.to_string().contains("duplicate key `name`"),
            "{error}"
        );
        check(r#"{"name":1,"Name":2,"name\u0000":3}"#).unwrap();
    }

    #[test]
    fn quotes_long_keys_shortened() {
        let key = "k".repeat(1000);
        let error = check(&format!(r#"{{"{key}":1,"{key}":2}}"#)).unwrap_err();
        assert!(error.to_string().len() < 200, "{error}");
    }
}
