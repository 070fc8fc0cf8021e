//! The result cache of the modern era: results the server marks fresh for a while (`ttlMs`)
//! are served again without asking, until they expire or a notification says they changed.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::time::Instant;

/// The methods whose results may be cached, with the param that tells their results apart.
const CACHEABLE: [(&str, &str); 5] = [
    ("tools/list", "cursor"),
    ("prompts/list", "cursor"),
    ("resources/list", "cursor"),
    ("resources/templates/list", "cursor"),
    ("resources/read", "uri"),
];

/// A cached result's identity: the method and the value of its distinguishing param (the
/// cursor of a page, the URI of a resource; empty for a first page).
type Key = (&'static str, String);

/// The fresh results of one connection. Results are never shared between connections, so a
/// result the server marked `private` stays with the client that asked.
pub(crate) struct ResultCache {
    capacity: usize,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    next_sequence: u64,
    map: HashMap<Key, Entry>,
}

struct Entry {
    result: Box<RawValue>,
    fresh_until: Instant,
    /// Orders entries by insertion, to forget the oldest when full.
    sequence: u64,
}

impl ResultCache {
    /// A cache of at most `capacity` results (at least 1).
    pub(crate) fn new(capacity: usize) -> Self {
        ResultCache {
            capacity: capacity.max(1),
            entries: Mutex::new(Entries::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // Every critical section is a single lookup, insert or scan, so a poisoned lock still
        // guards consistent data.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The key of a request for `method` with `params`, when its result may be cached.
    pub(crate) fn key(method: &str, params: &Map<String, Value>) -> Option<Key> {
        let (method, param) = CACHEABLE.into_iter().find(|(name, _)| *name == method)?;
        let value = match params.get(param) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(value)) => value.clone(),
            Some(other) => other.to_string(),
        };
        Some((method, value))
    }

    /// The cached result of `key`, while it is fresh.
    pub(crate) fn get(&self, key: &Key) -> Option<Box<RawValue>> {
        let mut entries = self.lock();
        let entry = entries.map.get(key)?;
        if Instant::now() < entry.fresh_until {
            return Some(entry.result.clone());
        }
        entries.map.remove(key);
        None
    }

    /// Keeps `result` of `key` for as long as its `ttlMs` says (not at all when it is absent,
    /// zero or negative).
    pub(crate) fn put(&self, key: Key, result: &RawValue) {
        #[derive(serde::Deserialize)]
        struct Hints {
            #[serde(rename = "ttlMs")]
            ttl_ms: Option<i64>,
        }
        let ttl = serde_json::from_str::<Hints>(result.get())
            .ok()
            .and_then(|hints| hints.ttl_ms)
            .and_then(|ttl| u64::try_from(ttl).ok())
            .filter(|ttl| *ttl > 0);
        let Some(ttl) = ttl else {
            return;
        };
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.map.len() >= self.capacity && !entries.map.contains_key(&key) {
            entries.map.retain(|_, entry| now < entry.fresh_until);
            if entries.map.len() >= self.capacity {
                let oldest = entries
                    .map
                    .iter()
                    .min_by_key(|(_, entry)| entry.sequence)
                    .map(|(key, _)| key.clone());
                if let Some(oldest) = oldest {
                    entries.map.remove(&oldest);
                }
            }
        }
        let sequence = entries.next_sequence;
        entries.next_sequence += 1;
        entries.map.insert(
            key,
            Entry {
                result: result.to_owned(),
                fresh_until: now + Duration::from_millis(ttl),
                sequence,
            },
        );
    }

    /// Forgets every result of `method`, for example after it failed (a cursor may have
    /// become invalid).
    pub(crate) fn forget_method(&self, method: &str) {
        self.lock().map.retain(|(cached, _), _| *cached != method);
    }

    /// Forgets what the notification `method` with `params` says has changed.
    pub(crate) fn invalidate(&self, method: &str, params: Option<&RawValue>) {
        match method {
            "notifications/tools/list_changed" => self.forget_method("tools/list"),
            "notifications/prompts/list_changed" => self.forget_method("prompts/list"),
            "notifications/resources/list_changed" => {
                self.forget_method("resources/list");
                self.forget_method("resources/templates/list");
            }
            "notifications/resources/updated" => {
                #[derive(serde::Deserialize)]
                struct Updated {
                    uri: String,
                }
                let updated =
                    params.and_then(|params| serde_json::from_str::<Updated>(params.get()).ok());
                match updated {
                    Some(updated) => {
                        self.lock().map.remove(&("resources/read", updated.uri));
                    }
                    // Not knowing which resource changed, forget them all.
                    None => self.forget_method("resources/read"),
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn raw(value: Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(&value).expect("JSON values encode")
    }

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn keys_tell_pages_and_resources_apart() {
        assert_eq!(
            ResultCache::key("tools/list", &params(json!({"_meta": {}}))),
            Some(("tools/list", String::new()))
        );
        assert_eq!(
            ResultCache::key("tools/list", &params(json!({"cursor": "2"}))),
            Some(("tools/list", "2".to_owned()))
        );
        assert_eq!(
            ResultCache::key("resources/read", &params(json!({"uri": "file:///a"}))),
            Some(("resources/read", "file:///a".to_owned()))
        );
        assert_eq!(ResultCache::key("tools/call", &params(json!({}))), None);
    }

    #[tokio::test(start_paused = true)]
    async fn results_live_as_long_as_their_ttl_and_the_oldest_goes_first() {
        let cache = ResultCache::new(2);
        let key = |value: &str| ("resources/read", value.to_owned());
        cache.put(key("a"), &raw(json!({"ttlMs": 1000, "contents": []})));
        cache.put(key("none"), &raw(json!({"contents": []})));
        cache.put(key("zero"), &raw(json!({"ttlMs": 0})));
        cache.put(key("negative"), &raw(json!({"ttlMs": -5})));
        assert!(cache.get(&key("a")).is_some());
        for uncached in ["none", "zero", "negative"] {
            assert!(cache.get(&key(uncached)).is_none(), "{uncached}");
        }
        cache.put(key("b"), &raw(json!({"ttlMs": 5000})));
        cache.put(key("c"), &raw(json!({"ttlMs": 5000})));
        assert!(cache.get(&key("a")).is_none(), "the oldest was forgotten");
        tokio::time::advance(Duration::from_millis(5000)).await;
        assert!(cache.get(&key("b")).is_none(), "expired");
    }
}
