//! Cache hints of the modern era (`ttlMs`, `cacheScope`).

use std::time::Duration;

/// Who may keep a cached result (`cacheScope`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CacheScope {
    /// The result holds data of the caller: caches must not share it across authorization
    /// contexts (`"private"`). The default.
    #[default]
    Private,
    /// The result is the same for every caller: any cache, shared ones included, may keep it
    /// (`"public"`).
    Public,
}

impl CacheScope {
    /// The wire form: `"private"` or `"public"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CacheScope::Private => "private",
            CacheScope::Public => "public",
        }
    }
}

/// How long a client may consider a result fresh and who may cache it: the `ttlMs` and
/// `cacheScope` the modern era (2026-07-28) puts on the results of `server/discover`, the four
/// lists and `resources/read`. Legacy sessions never see them.
///
/// The default, `ttlMs: 0` and `"private"`, is never wrong: the result is stale at once and
/// stays with the caller. Caching is opt-in, per server with
/// [`ServerBuilder::cache_hints`](crate::ServerBuilder::cache_hints) and per resource with
/// [`Resource::cache_hints`](crate::Resource::cache_hints).
///
/// ```
/// use std::time::Duration;
/// use mcpwire_server::{CacheHints, CacheScope};
///
/// let hints = CacheHints::new(Duration::from_secs(300), CacheScope::Public);
/// assert_eq!(hints.ttl_ms(), 300_000);
/// assert_eq!(CacheHints::default().ttl_ms(), 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CacheHints {
    ttl: Duration,
    scope: CacheScope,
}

impl CacheHints {
    /// Fresh for `ttl`, cacheable by `scope`.
    pub const fn new(ttl: Duration, scope: CacheScope) -> Self {
        CacheHints { ttl, scope }
    }

    /// `ttlMs`: how long the result stays fresh, in whole milliseconds.
    pub fn ttl_ms(&self) -> i64 {
        i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX)
    }

    /// `cacheScope`.
    pub fn scope(&self) -> CacheScope {
        self.scope
    }
}
