//! [`FileTokenStore`]: tokens kept in a JSON file that only its owner can read, so that a
//! command-line client signs in once and stays signed in between runs.

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::client::token::{TokenKey, TokenSet, TokenStore, TokenType};
use crate::error::{Error, Kind};
use crate::secret::Secret;

/// The largest token file read: 1 MiB, far above what [`FileTokenStore::CAPACITY`] keys
/// take.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The version of the file's format.
const FORMAT: u32 = 1;

/// A [`TokenStore`] in a JSON file, for clients that run again and again (command-line
/// tools, desktop hosts): tokens survive the process, so the user signs in once and refresh
/// tokens keep the session going.
///
/// The file holds bearer and refresh tokens, so it is treated like a private key:
///
/// - On Unix it is created with mode `0600` (and its missing parent directories with
///   `0700`); [`open`](Self::open) refuses a file that its group or others can read or
///   write, rather than trust or leak what is in it.
/// - Every change is written to a temporary file beside it (mode `0600`), flushed to disk,
///   and renamed over the old file, so that a crash leaves the old tokens or the new ones,
///   never half of either.
/// - Reads are bounded (1 MiB), at most [`CAPACITY`](Self::CAPACITY) keys are kept, and
///   tokens that expired without a refresh token are dropped when the file is read.
///
/// The store keeps its own copy in memory: `get` never touches the disk. A change that
/// cannot be written is kept in memory and logged (without any token).
///
/// ```no_run
/// use mcpwire_auth::client::{FileTokenStore, OAuthConfig};
///
/// # fn run(config: OAuthConfig) -> Result<(), mcpwire_auth::Error> {
/// let store = FileTokenStore::open(".config/my-agent/tokens.json")?;
/// let config = config.token_store(store);
/// # let _ = config;
/// # Ok(())
/// # }
/// ```
pub struct FileTokenStore {
    path: PathBuf,
    tokens: Mutex<HashMap<TokenKey, TokenSet>>,
}

/// One key's tokens, as the file holds them.
#[derive(Serialize, Deserialize)]
struct Entry {
    issuer: String,
    resource: String,
    access_token: String,
    /// `DPoP` for a DPoP-bound token; absent for a Bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// Seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(default)]
    requested_scopes: Vec<String>,
    #[serde(default)]
    granted_scopes: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Document {
    version: u32,
    tokens: Vec<Entry>,
}

impl FileTokenStore {
    /// The most keys the store holds; storing another drops an arbitrary other one.
    pub const CAPACITY: usize = 64;

    /// The store in the file at `path`, with the tokens it holds; a missing file is an
    /// empty store, created at the first change.
    ///
    /// # Errors
    ///
    /// [`Error::is_store`] when the file cannot be read, is not a token file of this
    /// format, is larger than 1 MiB, or (on Unix) can be read or written by its group or
    /// others.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let tokens = match File::open(&path) {
            Ok(file) => read(&path, file)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(error) => {
                return Err(store_error(&path, "cannot be opened").with_source(error));
            }
        };
        Ok(FileTokenStore {
            path,
            tokens: Mutex::new(tokens),
        })
    }

    /// The file the store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes the tokens in memory with `change`, then writes them all.
    fn change(&self, change: impl FnOnce(&mut HashMap<TokenKey, TokenSet>)) {
        let Ok(mut tokens) = self.tokens.lock() else {
            return;
        };
        change(&mut tokens);
        // Written under the lock, so that two changes reach the disk in their order.
        if let Err(error) = write(&self.path, &tokens) {
            tracing::warn!(
                path = %self.path.display(),
                %error,
                "cannot write the token file; the tokens are kept in memory"
            );
        }
    }
}

impl fmt::Debug for FileTokenStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.tokens.lock().map(|tokens| tokens.len()).unwrap_or(0);
        formatter
            .debug_struct("FileTokenStore")
            .field("path", &self.path)
            .field("keys", &keys)
            .finish()
    }
}

impl TokenStore for FileTokenStore {
    fn get(&self, key: &TokenKey) -> Option<TokenSet> {
        self.tokens.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: TokenKey, tokens: TokenSet) {
        self.change(|map| {
            if !map.contains_key(&key)
                && map.len() >= Self::CAPACITY
                && let Some(other) = map.keys().next().cloned()
            {
                map.remove(&other);
            }
            map.insert(key, tokens);
        });
    }

    fn remove(&self, key: &TokenKey) {
        self.change(|map| {
            map.remove(key);
        });
    }
}

fn store_error(path: &Path, what: &str) -> Error {
    Error::new(
        Kind::Store,
        format!("the token file {} {what}", path.display()),
    )
}

/// Reads the tokens of the open file at `path`, after checking who may read it.
fn read(path: &Path, file: File) -> Result<HashMap<TokenKey, TokenSet>, Error> {
    let metadata = file
        .metadata()
        .map_err(|error| store_error(path, "cannot be read").with_source(error))?;
    check_private(path, &metadata)?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(store_error(path, "is larger than 1 MiB"));
    }
    let mut text = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|error| store_error(path, "cannot be read").with_source(error))?;
    let document: Document = serde_json::from_slice(&text)
        .map_err(|error| store_error(path, "is not a token file").with_source(error))?;
    if document.version != FORMAT {
        return Err(store_error(
            path,
            &format!("has format {}, not {FORMAT}", document.version),
        ));
    }
    let now = SystemTime::now();
    let mut tokens = HashMap::new();
    for entry in document.tokens.into_iter().take(FileTokenStore::CAPACITY) {
        let expires_at = entry
            .expires_at
            .map(|seconds| UNIX_EPOCH + Duration::from_secs(seconds));
        let expired = expires_at.is_some_and(|expires_at| expires_at <= now);
        if expired && entry.refresh_token.is_none() {
            continue;
        }
        let key = TokenKey {
            issuer: entry.issuer,
            resource: entry.resource,
        };
        let set = TokenSet {
            access_token: Secret::new(entry.access_token),
            token_type: match entry.token_type.as_deref() {
                Some("DPoP") => TokenType::Dpop,
                _ => TokenType::Bearer,
            },
            refresh_token: entry.refresh_token.map(Secret::new),
            expires_at: expires_at.map(|at| to_instant(at, now)),
            requested_scopes: entry.requested_scopes,
            granted_scopes: entry.granted_scopes,
        };
        tokens.insert(key, set);
    }
    Ok(tokens)
}

/// The instant of the system time `at`, as seen at `now`.
fn to_instant(at: SystemTime, now: SystemTime) -> Instant {
    let instant = Instant::now();
    match at.duration_since(now) {
        Ok(ahead) => instant + ahead,
        Err(behind) => instant.checked_sub(behind.duration()).unwrap_or(instant),
    }
}

/// The Unix time of `at`, an instant.
fn to_unix_seconds(at: Instant) -> u64 {
    let now = Instant::now();
    let system = if at >= now {
        SystemTime::now() + (at - now)
    } else {
        SystemTime::now() - (now - at)
    };
    system
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0)
}

/// Writes every token to `path`, through a private temporary file renamed over it.
fn write(path: &Path, tokens: &HashMap<TokenKey, TokenSet>) -> std::io::Result<()> {
    let document = Document {
        version: FORMAT,
        tokens: tokens
            .iter()
            .map(|(key, set)| Entry {
                issuer: key.issuer.clone(),
                resource: key.resource.clone(),
                access_token: set.access_token.expose().to_owned(),
                token_type: (set.token_type == TokenType::Dpop).then(|| "DPoP".to_owned()),
                refresh_token: set
                    .refresh_token
                    .as_ref()
                    .map(|token| token.expose().to_owned()),
                expires_at: set.expires_at.map(to_unix_seconds),
                requested_scopes: set.requested_scopes.clone(),
                granted_scopes: set.granted_scopes.clone(),
            })
            .collect(),
    };
    let bytes = serde_json::to_vec_pretty(&document).map_err(std::io::Error::other)?;
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        create_private_dirs(parent)?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let written = (|| {
        let mut file = private_options().open(&temporary)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

#[cfg(unix)]
fn private_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt as _;

    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true).mode(0o600);
    options
}

#[cfg(not(unix))]
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    options
}

#[cfg(unix)]
fn create_private_dirs(directory: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;

    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(directory)
}

#[cfg(not(unix))]
fn create_private_dirs(directory: &Path) -> std::io::Result<()> {
    fs::create_dir_all(directory)
}

/// Refuses a file that its group or others may read or write.
#[cfg(unix)]
fn check_private(path: &Path, metadata: &fs::Metadata) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt as _;

    if metadata.mode() & 0o077 != 0 {
        return Err(store_error(
            path,
            &format!(
                "can be read or written by others (mode {:o}); make it 0600",
                metadata.mode() & 0o777
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _metadata: &fs::Metadata) -> Result<(), Error> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own under the system's temporary directory, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let directory = std::env::temp_dir().join(format!(
                "mcpwire-auth-{name}-{}-{}",
                std::process::id(),
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ));
            Scratch(directory)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn key(resource: &str) -> TokenKey {
        TokenKey {
            issuer: "https://as.example.com".to_owned(),
            resource: resource.to_owned(),
        }
    }

    fn tokens(access: &str, refresh: Option<&str>, expires_in: Option<Duration>) -> TokenSet {
        TokenSet {
            access_token: Secret::new(access),
            token_type: TokenType::Bearer,
            refresh_token: refresh.map(Secret::new),
            expires_at: expires_in.map(|ahead| Instant::now() + ahead),
            requested_scopes: vec!["mcp:tools".to_owned()],
            granted_scopes: vec!["mcp:tools".to_owned(), "offline_access".to_owned()],
        }
    }

    #[test]
    fn tokens_outlive_the_store_in_a_private_file() {
        let scratch = Scratch::new("roundtrip");
        let path = scratch.0.join("nested/tokens.json");
        let store = FileTokenStore::open(&path).unwrap();
        assert!(store.get(&key("https://a.example.com/mcp")).is_none());
        assert!(!path.exists(), "nothing is written before a change");
        let hour = Duration::from_secs(3600);
        store.put(
            key("https://a.example.com/mcp"),
            tokens("a-access", Some("a-refresh"), Some(hour)),
        );
        store.put(
            key("https://b.example.com/mcp"),
            tokens("b-access", None, None),
        );
        store.remove(&key("https://b.example.com/mcp"));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["tokens.json"]);

        let again = FileTokenStore::open(&path).unwrap();
        assert!(again.get(&key("https://b.example.com/mcp")).is_none());
        let kept = again.get(&key("https://a.example.com/mcp")).unwrap();
        assert_eq!(kept.access_token.expose(), "a-access");
        assert_eq!(kept.refresh_token.as_ref().unwrap().expose(), "a-refresh");
        assert_eq!(kept.granted_scopes, ["mcp:tools", "offline_access"]);
        assert!(!kept.expires_within(hour - Duration::from_secs(5)));
        assert!(kept.expires_within(hour + Duration::from_secs(5)));
        assert!(!format!("{again:?}").contains("a-access"));
    }

    #[test]
    fn expired_tokens_without_a_refresh_token_are_dropped_when_read() {
        let scratch = Scratch::new("expired");
        let path = scratch.0.join("tokens.json");
        let store = FileTokenStore::open(&path).unwrap();
        let past = Some(Instant::now() - Duration::from_secs(60));
        let mut expired = tokens("old", None, None);
        expired.expires_at = past;
        let mut refreshable = tokens("old-too", Some("refresh"), None);
        refreshable.expires_at = past;
        store.put(key("https://gone.example.com/mcp"), expired);
        store.put(key("https://kept.example.com/mcp"), refreshable);
        let again = FileTokenStore::open(&path).unwrap();
        assert!(again.get(&key("https://gone.example.com/mcp")).is_none());
        let kept = again.get(&key("https://kept.example.com/mcp")).unwrap();
        assert!(kept.expires_within(Duration::ZERO));
    }

    #[test]
    fn a_file_others_can_read_or_that_is_not_a_token_file_is_refused() {
        let scratch = Scratch::new("refused");
        fs::create_dir_all(&scratch.0).unwrap();
        let path = scratch.0.join("tokens.json");
        fs::write(&path, r#"{"version":1,"tokens":[]}"#).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            let error = FileTokenStore::open(&path).unwrap_err();
            assert!(error.is_store(), "{error}");
            assert!(error.to_string().contains("mode 644"), "{error}");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert!(FileTokenStore::open(&path).is_ok());
        for text in ["not json", r#"{"version":2,"tokens":[]}"#] {
            fs::write(&path, text).unwrap();
            assert!(
                FileTokenStore::open(&path).unwrap_err().is_store(),
                "{text}"
            );
        }
    }
}
