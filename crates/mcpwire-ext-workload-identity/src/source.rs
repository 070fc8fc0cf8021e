//! [`WorkloadToken`]: where the workload's identity token comes from.

use std::fmt;
use std::path::PathBuf;

use mcpwire_auth::client::Secret;
use tokio::io::AsyncReadExt as _;

use crate::error::{Error, Kind};

/// The longest workload token read: 16 KiB, several times a Kubernetes service account token
/// or a CI system's OIDC token.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Where the workload's identity token (a JWT its platform issued) is read from.
///
/// It is read afresh for each grant, since platforms rotate it: Kubernetes rewrites a
/// projected service account token before it expires, and a CI job may be handed a new one.
/// Leading and trailing whitespace (the file's final newline) is not part of the token.
#[derive(Clone)]
pub struct WorkloadToken {
    from: Origin,
}

#[derive(Clone)]
enum Origin {
    File(PathBuf),
    Environment(String),
    Value(Secret),
}

impl WorkloadToken {
    /// The token in the file at `path`: a Kubernetes projected service account token (for
    /// example `/var/run/secrets/tokens/mcp-token`), a SPIFFE JWT-SVID written by a helper,
    /// or a token file a CI system provides.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        WorkloadToken {
            from: Origin::File(path.into()),
        }
    }

    /// The token in the environment variable `name`, as CI systems set one.
    pub fn env(name: impl Into<String>) -> Self {
        WorkloadToken {
            from: Origin::Environment(name.into()),
        }
    }

    /// A token obtained some other way; it is presented as it is, every time.
    pub fn value(token: impl Into<Secret>) -> Self {
        WorkloadToken {
            from: Origin::Value(token.into()),
        }
    }

    /// Reads the token now.
    ///
    /// # Errors
    ///
    /// [`Error::is_source`] when the file or the variable is missing or unreadable, or holds
    /// nothing but whitespace, or more than [`MAX_TOKEN_BYTES`].
    pub async fn read(&self) -> Result<Secret, Error> {
        let text = match &self.from {
            Origin::File(path) => {
                let file = tokio::fs::File::open(path).await.map_err(|error| {
                    Error::new(
                        Kind::Source,
                        format!("cannot open the token file {}", path.display()),
                    )
                    .with_source(error)
                })?;
                let mut bytes = Vec::new();
                // One byte more than allowed tells a token that is too long.
                let limit = u64::try_from(MAX_TOKEN_BYTES + 1).unwrap_or(u64::MAX);
                file.take(limit)
                    .read_to_end(&mut bytes)
                    .await
                    .map_err(|error| {
                        Error::new(
                            Kind::Source,
                            format!("cannot read the token file {}", path.display()),
                        )
                        .with_source(error)
                    })?;
                String::from_utf8(bytes).map_err(|_| {
                    Error::new(
                        Kind::Source,
                        format!("the token file {} is not text", path.display()),
                    )
                })?
            }
            // The error is not kept as the source: `NotUnicode` would show the value.
            Origin::Environment(name) => std::env::var(name).map_err(|error| {
                let why = match error {
                    std::env::VarError::NotPresent => "is not set",
                    std::env::VarError::NotUnicode(_) => "is not Unicode",
                };
                Error::new(
                    Kind::Source,
                    format!("the environment variable {name} {why}"),
                )
            })?,
            Origin::Value(token) => token.expose().to_owned(),
        };
        if text.len() > MAX_TOKEN_BYTES {
            return Err(Error::new(
                Kind::Source,
                format!("the token from {self:?} is longer than {MAX_TOKEN_BYTES} bytes"),
            ));
        }
        let token = text.trim();
        if token.is_empty() {
            return Err(Error::new(
                Kind::Source,
                format!("the token from {self:?} is empty"),
            ));
        }
        Ok(Secret::new(token))
    }
}

impl fmt::Debug for WorkloadToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.from {
            Origin::File(path) => write!(formatter, "WorkloadToken::file({})", path.display()),
            Origin::Environment(name) => write!(formatter, "WorkloadToken::env({name})"),
            Origin::Value(_) => formatter.write_str("WorkloadToken::value([redacted])"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file holding `contents`, removed when dropped.
    struct TokenFile(PathBuf);

    impl TokenFile {
        fn new(name: &str, contents: &[u8]) -> TokenFile {
            let path = std::env::temp_dir().join(format!(
                "mcpwire-workload-token-{}-{name}",
                std::process::id()
            ));
            std::fs::write(&path, contents).unwrap();
            TokenFile(path)
        }
    }

    impl Drop for TokenFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[tokio::test]
    async fn a_token_file_is_read_without_its_final_newline_each_time() {
        let file = TokenFile::new("rotating", b"header.claims.signature\n");
        let source = WorkloadToken::file(&file.0);
        assert_eq!(
            source.read().await.unwrap().expose(),
            "header.claims.signature"
        );
        // Rotated by the platform: the next read sees the new token.
        std::fs::write(&file.0, b"header.rotated.signature").unwrap();
        assert_eq!(
            source.read().await.unwrap().expose(),
            "header.rotated.signature"
        );
    }

    #[tokio::test]
    async fn missing_empty_oversized_and_binary_sources_are_refused() {
        let empty = TokenFile::new("empty", b" \n");
        let oversized = TokenFile::new("oversized", &vec![b'a'; MAX_TOKEN_BYTES + 1]);
        let binary = TokenFile::new("binary", &[0xff, 0xfe, 0x00]);
        let missing = std::env::temp_dir().join("mcpwire-workload-token-that-does-not-exist");
        for source in [
            WorkloadToken::file(&empty.0),
            WorkloadToken::file(&oversized.0),
            WorkloadToken::file(&binary.0),
            WorkloadToken::file(missing),
            WorkloadToken::env("MCPWIRE_WORKLOAD_TOKEN_THAT_IS_NOT_SET"),
            WorkloadToken::value(""),
        ] {
            let error = source.read().await.unwrap_err();
            assert!(error.is_source(), "{source:?}: {error}");
        }
    }

    #[tokio::test]
    async fn an_environment_variable_is_read_and_a_value_is_never_shown() {
        // Cargo sets this one for every test it runs.
        let source = WorkloadToken::env("CARGO_PKG_NAME");
        assert_eq!(
            source.read().await.unwrap().expose(),
            "mcpwire-ext-workload-identity"
        );
        let value = WorkloadToken::value("eyJ.hunter2.sig");
        assert_eq!(value.read().await.unwrap().expose(), "eyJ.hunter2.sig");
        assert!(!format!("{value:?}").contains("hunter2"));
    }
}
