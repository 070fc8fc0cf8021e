//! Per-operation scopes: the JSON-RPC methods and tools of a request body, read without
//! building a JSON tree, and the scopes they need.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The scopes operations need beyond the resource's required ones: by JSON-RPC method, and
/// by tool for `tools/call`.
#[derive(Clone, Debug, Default)]
pub(crate) struct OperationScopes {
    pub(crate) methods: HashMap<String, Vec<String>>,
    pub(crate) tools: HashMap<String, Vec<String>>,
}

impl OperationScopes {
    /// Whether any operation needs scopes of its own, so that request bodies must be read.
    pub(crate) fn is_empty(&self) -> bool {
        self.methods.is_empty() && self.tools.is_empty()
    }

    /// Adds to `needed` the scopes each message of `body` needs (a JSON-RPC message, or a
    /// batch of them).
    ///
    /// # Errors
    ///
    /// When `body` is not JSON whose messages each have at most one string `method`: the
    /// layer then refuses the request as a parse error rather than guess what it asks for.
    pub(crate) fn needed<'a>(
        &'a self,
        body: &[u8],
        needed: &mut Vec<&'a str>,
    ) -> Result<(), serde_json::Error> {
        let messages: Messages<'_> = serde_json::from_slice(body)?;
        for message in &messages.0 {
            let Some(method) = message.method.as_deref() else {
                continue;
            };
            let by_method = self.methods.get(method);
            let by_tool = match (method, &message.params) {
                ("tools/call", Some(Params { name: Some(name) })) => self.tools.get(name.as_ref()),
                _ => None,
            };
            for scope in by_method.into_iter().chain(by_tool).flatten() {
                if !needed.contains(&scope.as_str()) {
                    needed.push(scope);
                }
            }
        }
        Ok(())
    }
}

/// A body: one message, or a batch.
struct Messages<'a>(Vec<Message<'a>>);

/// What the scopes depend on in one message; everything else is skipped.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<Params<'a>>,
}

/// The `name` of a message's `params`, when they are an object with a string `name`.
#[derive(Default)]
struct Params<'a> {
    name: Option<Cow<'a, str>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Messages<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MessagesVisitor;

        impl<'de> Visitor<'de> for MessagesVisitor {
            type Value = Messages<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a JSON-RPC message or a batch of them")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let message = Message::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Messages(vec![message]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut messages = Vec::new();
                while let Some(message) = seq.next_element::<Message<'de>>()? {
                    messages.push(message);
                }
                Ok(Messages(messages))
            }
        }

        deserializer.deserialize_any(MessagesVisitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Params<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ParamsVisitor;

        impl<'de> Visitor<'de> for ParamsVisitor {
            type Value = Params<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("JSON-RPC params")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut name = None;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key == "name" {
                        if name.is_some() {
                            return Err(de::Error::duplicate_field("name"));
                        }
                        name = Some(map.next_value::<NameValue<'de>>()?.0);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Params {
                    name: name.flatten(),
                })
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Params::default())
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Params::default())
            }
        }

        deserializer.deserialize_any(ParamsVisitor)
    }
}

/// A `name` member: its text when it is a string, nothing otherwise.
struct NameValue<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for NameValue<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;

        impl<'de> Visitor<'de> for NameVisitor {
            type Value = NameValue<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a value")
            }

            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(NameValue(Some(Cow::Borrowed(value))))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(NameValue(Some(Cow::Owned(value.to_owned()))))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(NameValue(Some(Cow::Owned(value))))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(NameValue(None))
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(NameValue(None))
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(NameValue(None))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(NameValue(None))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(NameValue(None))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(NameValue(None))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(NameValue(None))
            }
        }

        deserializer.deserialize_any(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes() -> OperationScopes {
        let mut scopes = OperationScopes::default();
        scopes
            .methods
            .insert("resources/read".to_owned(), vec!["files:read".to_owned()]);
        scopes
            .tools
            .insert("delete".to_owned(), vec!["files:write".to_owned()]);
        scopes.tools.insert(
            "é\"quoted".to_owned(),
            vec!["files:write".to_owned(), "admin".to_owned()],
        );
        scopes
    }

    fn needed(body: &str) -> Result<Vec<String>, serde_json::Error> {
        let scopes = scopes();
        let mut needed = Vec::new();
        scopes.needed(body.as_bytes(), &mut needed)?;
        Ok(needed.into_iter().map(str::to_owned).collect())
    }

    #[test]
    fn methods_and_tools_name_their_scopes() {
        let call = |name: &str| {
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"arguments":{{"name":"x"}},"name":{name}}}}}"#
            )
        };
        assert_eq!(needed(&call(r#""delete""#)).unwrap(), ["files:write"]);
        assert_eq!(
            needed(&call(r#""\u00e9\"quoted""#)).unwrap(),
            ["files:write", "admin"]
        );
        assert!(needed(&call(r#""list""#)).unwrap().is_empty());
        assert!(needed(&call("7")).unwrap().is_empty());
        assert!(needed(&call(r#"{"a":[1]}"#)).unwrap().is_empty());
        assert_eq!(
            needed(
                r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a"}}"#
            )
            .unwrap(),
            ["files:read"]
        );
        assert!(
            needed(r#"{"jsonrpc":"2.0","id":1,"method":"delete","params":[1,2]}"#)
                .unwrap()
                .is_empty()
        );
        assert!(
            needed(r#"{"jsonrpc":"2.0","id":1,"result":{"name":"delete"}}"#)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_batch_needs_the_union() {
        let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{}},
            {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete"}},
            {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete"}}]"#;
        assert_eq!(needed(batch).unwrap(), ["files:read", "files:write"]);
    }

    #[test]
    fn an_ambiguous_body_is_an_error() {
        for body in [
            "",
            "not json",
            r#"{"method":"tools/call","method":"ping"}"#,
            r#"{"method":"tools/call","params":{"name":"list","name":"delete"}}"#,
            r#"{"method":7}"#,
            r#"{"method":"tools/call","params":{"name":"delete"}"#,
            "\"text\"",
        ] {
            assert!(needed(body).is_err(), "{body}");
        }
    }
}
