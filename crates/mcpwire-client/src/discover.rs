//! `server/discover`: what a modern server offers, and the probe that tells a modern server
//! from a legacy one.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mcpwire_jsonrpc::ErrorCode;
use mcpwire_rpc::{Peer, RequestOptions};
use mcpwire_schema::v2025_11_25::{Implementation, ServerCapabilities};
use mcpwire_schema::v2026_07_28::{DiscoverResult, UnsupportedProtocolVersionErrorErrorData};
use mcpwire_schema::{Era, JsonObject, ProtocolVersion};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::Error;
use crate::modern::{self, Envelope, Outcome};

const METHOD: &str = "server/discover";

/// What `server/discover` told about a modern server.
#[derive(Debug)]
pub(crate) struct Discovery {
    /// The version both sides speak.
    pub(crate) version: ProtocolVersion,
    pub(crate) server_info: Implementation,
    /// The server's capabilities, in the shape the legacy era's checks read.
    pub(crate) capabilities: ServerCapabilities,
    pub(crate) instructions: Option<String>,
    /// The extensions the server declared (`capabilities.extensions`), which the legacy shape
    /// of the capabilities does not hold.
    pub(crate) extensions: BTreeMap<String, JsonObject>,
    /// How long the result is fresh, from its `ttlMs` (zero when absent or negative).
    pub(crate) ttl: Duration,
}

/// How discovering a server ended.
pub(crate) enum Found {
    /// The server is modern and speaks a version this client speaks.
    Modern(Arc<Discovery>),
    /// The server did not answer as a modern server: the legacy handshake comes next.
    NotModern,
}

/// How to ask.
#[derive(Clone, Copy)]
pub(crate) enum Mode {
    /// A probe: an answer that is not modern, or none within the timeout, means a legacy
    /// server; the probe is then withdrawn without a cancellation, which a legacy server
    /// might not expect before `initialize`.
    Probe(Duration),
    /// The server must be modern: anything else is an error. Waits for the request timeout.
    Modern(Option<Duration>),
}

/// Asks the server `server/discover` at `version`, retrying once at the best version of its
/// list when it answers that it does not support `version` (`-32022`), even when the list
/// names `version`.
///
/// A recognised modern error (`-32020`, `-32021`, `-32022`) means a modern server in either
/// mode: it is never taken for a legacy one.
///
/// # Errors
///
/// [`Error::is_unsupported_version`] when the server speaks no modern version of this
/// client; [`Error::is_remote`] for a modern error; in [`Mode::Modern`], any other failure.
pub(crate) async fn discover(
    peer: &Peer,
    envelope: &Envelope,
    version: ProtocolVersion,
    mode: Mode,
    request_timeout: Option<Duration>,
) -> Result<Found, Error> {
    let mut options = RequestOptions::default();
    match mode {
        Mode::Probe(limit) => {
            options.timeout = Some(Some(limit));
            options.silent_withdrawal = true;
        }
        Mode::Modern(timeout) => options.timeout = Some(timeout),
    }
    let error = match ask(peer, envelope, version, options).await? {
        Ok(result) => {
            return match (accept(&result, version), mode) {
                (Ok(discovery), _) => Ok(Found::Modern(Arc::new(discovery))),
                (Err(error), Mode::Probe(_)) => {
                    tracing::debug!(%error, "the probe's answer is not a discovery result");
                    Ok(Found::NotModern)
                }
                (Err(error), Mode::Modern(_)) => Err(error),
            };
        }
        Err(error) => error,
    };
    match error.remote().map(|remote| remote.code) {
        Some(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION) => {
            let supported = error
                .remote()
                .and_then(|remote| remote.data.as_deref())
                .and_then(|data| {
                    serde_json::from_str::<UnsupportedProtocolVersionErrorErrorData>(data.get())
                        .ok()
                })
                .map(|data| data.supported)
                .unwrap_or_default();
            let Some(choice) = best_modern(&supported) else {
                return Err(Error::no_common_version(version.as_str(), supported));
            };
            tracing::debug!(%version, %choice, "retrying discovery at the server's version");
            let mut options = RequestOptions::default();
            options.timeout = Some(request_timeout);
            let result = ask(peer, envelope, choice, options)
                .await?
                .map_err(|error| Error::rpc(METHOD, error))?;
            accept(&result, choice).map(|discovery| Found::Modern(Arc::new(discovery)))
        }
        Some(ErrorCode::HEADER_MISMATCH | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY) => {
            Err(Error::rpc(METHOD, error))
        }
        _ => match mode {
            Mode::Probe(_) => {
                tracing::debug!(%error, "the server did not answer the probe as a modern server");
                Ok(Found::NotModern)
            }
            Mode::Modern(_) => Err(Error::rpc(METHOD, error)),
        },
    }
}

/// Sends `server/discover` at `version`; the outer error is a local one.
async fn ask(
    peer: &Peer,
    envelope: &Envelope,
    version: ProtocolVersion,
    options: RequestOptions,
) -> Result<Result<Box<RawValue>, mcpwire_rpc::Error>, Error> {
    let params = envelope.params(METHOD, &Value::Null, version, None)?;
    let params =
        serde_json::value::to_raw_value(&params).map_err(|error| Error::encode(METHOD, error))?;
    Ok(peer.request_raw(METHOD, Some(params), options).await)
}

/// Reads a discovery result of a request made at `version`.
fn accept(result: &RawValue, version: ProtocolVersion) -> Result<Discovery, Error> {
    #[derive(serde::Deserialize)]
    struct TopLevelServerInfo {
        #[serde(rename = "serverInfo")]
        server_info: Option<Implementation>,
    }
    let Outcome::Complete = modern::outcome(METHOD, result, false)? else {
        unreachable!("server/discover cannot ask for input");
    };
    let decode = |error| Error::decode(METHOD, error);
    let discovered: DiscoverResult = serde_json::from_str(result.get()).map_err(decode)?;
    let version = if discovered
        .supported_versions
        .iter()
        .any(|supported| supported == version.as_str())
    {
        version
    } else {
        best_modern(&discovered.supported_versions).ok_or_else(|| {
            Error::no_common_version(version.as_str(), discovered.supported_versions.clone())
        })?
    };
    let meta_info = discovered
        .meta
        .and_then(|meta| meta.io_modelcontextprotocol_server_info);
    let server_info = match meta_info {
        Some(info) => modern::convert(&info).map_err(decode)?,
        // Servers before the `_meta` form sent it beside the capabilities.
        None => serde_json::from_str::<TopLevelServerInfo>(result.get())
            .ok()
            .and_then(|top_level| top_level.server_info)
            .unwrap_or_else(|| Implementation::new(String::new(), String::new())),
    };
    let ttl = discovered
        .ttl_ms
        .and_then(|ttl| u64::try_from(ttl).ok())
        .map_or(Duration::ZERO, Duration::from_millis);
    Ok(Discovery {
        version,
        server_info,
        capabilities: modern::convert(&discovered.capabilities).map_err(decode)?,
        extensions: discovered.capabilities.extensions.unwrap_or_default(),
        instructions: discovered.instructions,
        ttl,
    })
}

/// The newest modern version in `supported` that this client speaks.
fn best_modern(supported: &[String]) -> Option<ProtocolVersion> {
    supported
        .iter()
        .filter_map(|version| ProtocolVersion::from_wire(version))
        .filter(|version| version.era() == Era::Modern)
        .max()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn raw(value: Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(&value).expect("JSON values encode")
    }

    #[test]
    fn only_modern_versions_this_client_speaks_are_chosen() {
        let supported = |versions: &[&str]| -> Vec<String> {
            versions
                .iter()
                .map(|version| (*version).to_owned())
                .collect()
        };
        assert_eq!(
            best_modern(&supported(&["2025-11-25", "2026-07-28", "2099-01-01"])),
            Some(ProtocolVersion::V2026_07_28)
        );
        assert_eq!(best_modern(&supported(&["2025-11-25", "2099-01-01"])), None);
    }

    #[test]
    fn a_discovery_result_gives_the_server_and_its_capabilities() {
        let result = raw(json!({
            "resultType": "complete",
            "supportedVersions": ["2026-07-28"],
            "capabilities": {"tools": {"listChanged": true}, "extensions": {"x/y": {}}},
            "instructions": "hi",
            "ttlMs": 1500,
            "cacheScope": "public",
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "2"}},
        }));
        let discovery = accept(&result, ProtocolVersion::V2026_07_28).expect("a discovery");
        assert_eq!(discovery.server_info.name, "s");
        assert_eq!(discovery.instructions.as_deref(), Some("hi"));
        assert_eq!(discovery.ttl, Duration::from_millis(1500));
        assert!(discovery.capabilities.tools.is_some());
        assert!(discovery.capabilities.prompts.is_none());
        assert_eq!(discovery.extensions.keys().collect::<Vec<_>>(), ["x/y"]);

        // The older shape, with `serverInfo` beside the capabilities and no cache hints.
        let result = raw(json!({
            "supportedVersions": ["2026-07-28"],
            "capabilities": {},
            "serverInfo": {"name": "old", "version": "1"},
        }));
        let discovery = accept(&result, ProtocolVersion::V2026_07_28).expect("a discovery");
        assert_eq!(discovery.server_info.name, "old");
        assert_eq!(discovery.ttl, Duration::ZERO);

        let none_in_common = raw(json!({"supportedVersions": ["2099-01-01"], "capabilities": {}}));
        let error = accept(&none_in_common, ProtocolVersion::V2026_07_28).expect_err("no version");
        assert!(error.is_unsupported_version(), "{error:?}");
        let not_discovery = raw(json!({"protocolVersion": "2025-11-25"}));
        let error = accept(&not_discovery, ProtocolVersion::V2026_07_28).expect_err("not one");
        assert!(error.is_decode(), "{error:?}");
    }
}
