//! Protocol revisions and the era each belongs to.

use std::fmt;
use std::str::FromStr;

/// The two eras of MCP, which are different protocols on the same transports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Era {
    /// Revisions up to 2025-11-25: an `initialize` handshake, sessions, and requests in both
    /// directions.
    Legacy,
    /// Revisions from 2026-07-28: stateless, with the protocol version and client capabilities
    /// in every request's `_meta`, and multi round-trip requests instead of server requests.
    Modern,
}

/// A revision of the Model Context Protocol, named by its date.
///
/// Revisions are ordered by date, so `version >= ProtocolVersion::V2025_06_18` asks whether a
/// feature introduced in 2025-06-18 is available.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// `2024-11-05`, the first published revision.
    V2024_11_05,
    /// `2025-03-26`: Streamable HTTP, authorization, tool annotations, audio, batches.
    V2025_03_26,
    /// `2025-06-18`: structured tool output, elicitation, resource links; batches removed.
    V2025_06_18,
    /// `2025-11-25`: tasks, URL elicitation, sampling with tools, icons; the last legacy revision.
    V2025_11_25,
    /// `2026-07-28`: the first modern (stateless) revision.
    V2026_07_28,
}

impl ProtocolVersion {
    /// Every revision, oldest first.
    pub const ALL: [ProtocolVersion; 5] = [
        ProtocolVersion::V2024_11_05,
        ProtocolVersion::V2025_03_26,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_11_25,
        ProtocolVersion::V2026_07_28,
    ];

    /// The revisions of the modern era, oldest first: those a request names in its `_meta`.
    pub const MODERN: [ProtocolVersion; 1] = [ProtocolVersion::V2026_07_28];

    /// The newest revision.
    pub const LATEST: ProtocolVersion = ProtocolVersion::V2026_07_28;

    /// The newest revision of the legacy era, the one `initialize` negotiates by default.
    pub const LATEST_LEGACY: ProtocolVersion = ProtocolVersion::V2025_11_25;

    /// The version a Streamable HTTP server assumes when `MCP-Protocol-Version` is absent.
    pub const HTTP_DEFAULT: ProtocolVersion = ProtocolVersion::V2025_03_26;

    /// The wire form, such as `"2025-11-25"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2024_11_05 => "2024-11-05",
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
            ProtocolVersion::V2026_07_28 => "2026-07-28",
        }
    }

    /// The era this revision belongs to.
    pub const fn era(self) -> Era {
        match self {
            ProtocolVersion::V2026_07_28 => Era::Modern,
            _ => Era::Legacy,
        }
    }

    /// Looks up a revision by its wire form.
    pub fn from_wire(text: &str) -> Option<ProtocolVersion> {
        ProtocolVersion::ALL
            .into_iter()
            .find(|version| version.as_str() == text)
    }

    /// Whether JSON-RPC batches may be received: only revision 2025-03-26 required them.
    pub const fn allows_batches(self) -> bool {
        matches!(self, ProtocolVersion::V2025_03_26)
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The error for a protocol version string that names no known revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownProtocolVersion(String);

impl UnknownProtocolVersion {
    /// The string that was not recognised.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnknownProtocolVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "unknown protocol version {:?}", self.0)
    }
}

impl std::error::Error for UnknownProtocolVersion {}

impl FromStr for ProtocolVersion {
    type Err = UnknownProtocolVersion;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ProtocolVersion::from_wire(text).ok_or_else(|| UnknownProtocolVersion(text.to_owned()))
    }
}

impl serde::Serialize for ProtocolVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = crate::support::deserialize_string(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_revision_round_trips_through_its_wire_form() {
        for version in ProtocolVersion::ALL {
            assert_eq!(version.as_str().parse::<ProtocolVersion>(), Ok(version));
            let json = serde_json::to_string(&version).expect("serializes");
            assert_eq!(
                serde_json::from_str::<ProtocolVersion>(&json).expect("decodes"),
                version
            );
        }
    }

    #[test]
    fn eras_and_order() {
        assert_eq!(ProtocolVersion::V2025_11_25.era(), Era::Legacy);
        assert_eq!(ProtocolVersion::V2024_11_05.era(), Era::Legacy);
        assert_eq!(ProtocolVersion::V2026_07_28.era(), Era::Modern);
        assert!(ProtocolVersion::V2025_06_18 > ProtocolVersion::V2025_03_26);
        assert_eq!(
            ProtocolVersion::LATEST,
            *ProtocolVersion::ALL.last().expect("not empty")
        );
        assert!(
            ProtocolVersion::MODERN
                .iter()
                .all(|version| version.era() == Era::Modern)
        );
        assert!(ProtocolVersion::V2025_03_26.allows_batches());
        assert!(!ProtocolVersion::V2025_06_18.allows_batches());
    }

    #[test]
    fn unknown_versions_are_reported() {
        let error = "2099-01-01"
            .parse::<ProtocolVersion>()
            .expect_err("unknown");
        assert_eq!(error.as_str(), "2099-01-01");
        assert_eq!(error.to_string(), "unknown protocol version \"2099-01-01\"");
        assert!(serde_json::from_str::<ProtocolVersion>("\"2024-11-06\"").is_err());
    }
}
