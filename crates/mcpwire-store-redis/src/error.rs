//! The error of the Redis stores.

use std::fmt;

/// A failure of the Redis store: Redis could not be reached, or answered with an error.
#[derive(Debug)]
pub struct Error {
    source: redis::RedisError,
}

impl Error {
    /// Whether Redis could not be reached (refused, timed out, or the connection dropped), as
    /// opposed to answering with an error.
    pub fn is_unreachable(&self) -> bool {
        self.source.is_io_error()
            || self.source.is_timeout()
            || self.source.is_connection_refusal()
            || self.source.is_connection_dropped()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "redis store: {}", self.source)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl From<redis::RedisError> for Error {
    fn from(source: redis::RedisError) -> Self {
        Error { source }
    }
}
