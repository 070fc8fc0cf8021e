//! Choosing the protocol era, and remembering which era each server speaks.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use mcpwire_schema::Era;
use tokio::time::Instant;

use crate::discover::Discovery;

/// Which era of the protocol a client speaks with its server; see
/// [`ClientBuilder::era`](crate::ClientBuilder::era).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EraChoice {
    /// Probe with `server/discover`: a modern answer selects the modern era, anything else
    /// (another error, no answer in time) the legacy `initialize` handshake.
    #[default]
    Auto,
    /// Speak the modern era only: `server/discover`, then stateless requests. A server that
    /// does not answer as a modern server fails the connection.
    Modern,
    /// Speak the legacy era only: the `initialize` handshake, without a probe.
    Legacy,
}

/// Remembers which era each server speaks, so that connecting again skips the probe.
///
/// Shared by cloning: every clone is the same cache. Give it to
/// [`ClientBuilder::era_cache`](crate::ClientBuilder::era_cache) with a key naming the server
/// (its command line, its URL...). After a connection with [`EraChoice::Auto`]:
///
/// - a server found legacy is next time sent `initialize` at once; if it refuses, the entry is
///   dropped and the client probes again;
/// - a server found modern is next time asked `server/discover` at the agreed version; while
///   the previous discovery is fresh (its `ttlMs` has not run out) nothing is sent at all. A
///   client connected this way that is answered `-32600` (invalid request) or `-32022`
///   (unsupported version) drops the entry, so the next connection probes again.
///
/// The cache holds at most [`EraCache::DEFAULT_CAPACITY`] servers unless made with
/// [`EraCache::with_capacity`]; beyond it the oldest entry is forgotten.
#[derive(Clone)]
pub struct EraCache {
    inner: Arc<Mutex<Entries>>,
}

struct Entries {
    capacity: usize,
    next_sequence: u64,
    entries: HashMap<String, Entry>,
}

struct Entry {
    /// Orders entries by insertion, to forget the oldest when full.
    sequence: u64,
    known: Known,
}

/// What the cache knows about one server.
#[derive(Clone)]
pub(crate) enum Known {
    /// The server answered `initialize`.
    Legacy,
    /// The server answered `server/discover`.
    Modern {
        discovery: Arc<Discovery>,
        /// Until when the discovery may be reused without asking again.
        fresh_until: Instant,
    },
}

impl Known {
    fn era(&self) -> Era {
        match self {
            Known::Legacy => Era::Legacy,
            Known::Modern { .. } => Era::Modern,
        }
    }
}

impl EraCache {
    /// How many servers a cache made with [`EraCache::new`] remembers: 256.
    pub const DEFAULT_CAPACITY: usize = 256;

    /// An empty cache for [`EraCache::DEFAULT_CAPACITY`] servers.
    pub fn new() -> Self {
        EraCache::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// An empty cache for `capacity` servers (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        EraCache {
            inner: Arc::new(Mutex::new(Entries {
                capacity: capacity.max(1),
                next_sequence: 0,
                entries: HashMap::new(),
            })),
        }
    }

    /// The era the server under `key` spoke when last connected, if remembered.
    pub fn era(&self, key: &str) -> Option<Era> {
        self.lock().entries.get(key).map(|entry| entry.known.era())
    }

    /// Forgets the server under `key`: the next connection probes again.
    pub fn forget(&self, key: &str) {
        self.lock().entries.remove(key);
    }

    /// How many servers are remembered.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no server is remembered.
    pub fn is_empty(&self) -> bool {
        self.lock().entries.is_empty()
    }

    pub(crate) fn get(&self, key: &str) -> Option<Known> {
        self.lock()
            .entries
            .get(key)
            .map(|entry| entry.known.clone())
    }

    pub(crate) fn remember(&self, key: &str, known: Known) {
        let mut entries = self.lock();
        let sequence = entries.next_sequence;
        entries.next_sequence += 1;
        if entries.entries.len() >= entries.capacity && !entries.entries.contains_key(key) {
            let oldest = entries
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.sequence)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                entries.entries.remove(&oldest);
            }
        }
        entries
            .entries
            .insert(key.to_owned(), Entry { sequence, known });
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // Every critical section is a single lookup, insert or removal, so a poisoned lock
        // still guards consistent data.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for EraCache {
    fn default() -> Self {
        EraCache::new()
    }
}

impl fmt::Debug for EraCache {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.lock();
        let mut map = formatter.debug_map();
        for (key, entry) in &entries.entries {
            map.entry(key, &entry.known.era());
        }
        map.finish()
    }
}

/// Where a client records what it learns about its server.
#[derive(Clone, Debug)]
pub(crate) struct CacheSlot {
    pub(crate) cache: EraCache,
    pub(crate) key: String,
}

impl CacheSlot {
    pub(crate) fn get(&self) -> Option<Known> {
        self.cache.get(&self.key)
    }

    pub(crate) fn remember(&self, known: Known) {
        self.cache.remember(&self.key, known);
    }

    pub(crate) fn forget(&self) {
        self.cache.forget(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_server_is_forgotten_when_full() {
        let cache = EraCache::with_capacity(2);
        cache.remember("a", Known::Legacy);
        cache.remember("b", Known::Legacy);
        // Updating a known server does not evict another.
        cache.remember("a", Known::Legacy);
        assert_eq!(cache.len(), 2);
        cache.remember("c", Known::Legacy);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.era("b"), None);
        assert_eq!(cache.era("a"), Some(Era::Legacy));
        assert_eq!(cache.era("c"), Some(Era::Legacy));
        cache.forget("a");
        assert_eq!(cache.era("a"), None);
        assert!(!cache.is_empty());
    }
}
