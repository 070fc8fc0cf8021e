//! DNS-rebinding protection: the `Host` and `Origin` allowlists.

use http::HeaderMap;
use http::header::{HOST, ORIGIN};

/// The names a server bound to loopback answers to.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The `Host` and `Origin` checks of one service.
#[derive(Clone, Debug)]
pub(crate) struct HostGuard {
    pub(crate) enabled: bool,
    /// `None` means the loopback names with any port.
    pub(crate) hosts: Option<Vec<String>>,
    /// `None` means `http` or `https` origins of the loopback names with any port.
    pub(crate) origins: Option<Vec<String>>,
}

/// Why a request failed the checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    Host,
    Origin,
}

impl HostGuard {
    pub(crate) fn loopback() -> Self {
        HostGuard {
            enabled: true,
            hosts: None,
            origins: None,
        }
    }

    /// Checks the request's `Host` (or, in HTTP/2, its `:authority`) and `Origin`.
    pub(crate) fn check(
        &self,
        headers: &HeaderMap,
        authority: Option<&str>,
    ) -> Result<(), Rejection> {
        if !self.enabled {
            return Ok(());
        }
        let host = match headers.get(HOST) {
            Some(value) => value.to_str().ok(),
            None => authority,
        };
        if !host.is_some_and(|host| self.host_allowed(host)) {
            return Err(Rejection::Host);
        }
        if let Some(origin) = headers.get(ORIGIN) {
            let allowed = origin
                .to_str()
                .ok()
                .is_some_and(|origin| self.origin_allowed(origin));
            if !allowed {
                return Err(Rejection::Origin);
            }
        }
        Ok(())
    }

    fn host_allowed(&self, host: &str) -> bool {
        let Some((name, port)) = split_authority(host) else {
            return false;
        };
        match &self.hosts {
            None => LOOPBACK_NAMES.contains(&name.as_str()),
            Some(allowed) => allowed.iter().any(|entry| {
                split_authority(entry).is_some_and(|(allowed_name, allowed_port)| {
                    allowed_name == name && (allowed_port.is_none() || allowed_port == port)
                })
            }),
        }
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false;
        };
        let scheme = scheme.to_ascii_lowercase();
        let Some((name, port)) = split_authority(authority) else {
            return false;
        };
        match &self.origins {
            None => {
                (scheme == "http" || scheme == "https") && LOOPBACK_NAMES.contains(&name.as_str())
            }
            Some(allowed) => allowed.iter().any(|entry| {
                let Some((allowed_scheme, allowed_authority)) = entry.split_once("://") else {
                    return false;
                };
                allowed_scheme.eq_ignore_ascii_case(&scheme)
                    && split_authority(allowed_authority).is_some_and(
                        |(allowed_name, allowed_port)| {
                            allowed_name == name && (allowed_port.is_none() || allowed_port == port)
                        },
                    )
            }),
        }
    }
}

/// The loopback guard's decisions on `value` as a `Host` and as an `Origin`, which must not
/// change when the value is upper-cased or its name gets a trailing dot.
///
/// # Panics
///
/// Panics when a decision changes.
pub(crate) fn fuzz_stability(value: &str) {
    let guard = HostGuard::loopback();
    let decide = |value: &str| (guard.host_allowed(value), guard.origin_allowed(value));
    let decision = decide(value);
    assert_eq!(
        decision,
        decide(&value.to_ascii_uppercase()),
        "case changed a decision"
    );
    if let Some((name, port)) = value
        .rsplit_once(':')
        .filter(|(_, port)| !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit()))
        && !name.ends_with('.')
        && !name.ends_with(']')
        && !name.contains("://")
    {
        let dotted = format!("{name}.:{port}");
        assert_eq!(
            decision,
            decide(&dotted),
            "a trailing dot changed a decision"
        );
    }
}

/// Splits `host[:port]` (IPv6 literals in brackets) into a lowercase name without a trailing
/// dot and the port, or `None` when the text is not an authority.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    if authority.is_empty() || authority.contains(['/', '@', ' ', '?', '#']) {
        return None;
    }
    let (name, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (name, rest) = authority.split_at(end + 1);
        match rest {
            "" => (name, None),
            _ => (name, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(port) => Some(port.parse::<u16>().ok()?),
        None => None,
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return None;
    }
    Some((name.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(host: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert(HOST, HeaderValue::from_str(host).unwrap());
        }
        if let Some(origin) = origin {
            headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        headers
    }

    #[test]
    fn loopback_defaults_accept_loopback_names_with_any_port() {
        let guard = HostGuard::loopback();
        for host in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:1",
            "[::1]:3000",
            "LOCALHOST.",
        ] {
            assert_eq!(
                guard.check(&headers(Some(host), None), None),
                Ok(()),
                "{host}"
            );
        }
        let origin = Some("http://localhost:5173");
        assert_eq!(
            guard.check(&headers(Some("localhost"), origin), None),
            Ok(())
        );
    }

    #[test]
    fn loopback_defaults_reject_other_hosts_and_origins() {
        let guard = HostGuard::loopback();
        for host in [
            "evil.example.com",
            "localhost.evil.com",
            "127.0.0.2",
            "localhost:99999",
            "user@localhost",
        ] {
            assert_eq!(
                guard.check(&headers(Some(host), None), None),
                Err(Rejection::Host),
                "{host}"
            );
        }
        assert_eq!(
            guard.check(&headers(None, None), None),
            Err(Rejection::Host)
        );
        for origin in [
            "http://evil.example.com",
            "null",
            "file://",
            "ftp://localhost",
        ] {
            assert_eq!(
                guard.check(&headers(Some("localhost"), Some(origin)), None),
                Err(Rejection::Origin),
                "{origin}"
            );
        }
    }

    #[test]
    fn the_authority_stands_in_for_a_missing_host() {
        let guard = HostGuard::loopback();
        assert_eq!(
            guard.check(&headers(None, None), Some("127.0.0.1:80")),
            Ok(())
        );
    }

    #[test]
    fn configured_lists_replace_the_defaults_and_may_pin_ports() {
        let guard = HostGuard {
            enabled: true,
            hosts: Some(vec![
                "mcp.example.com".into(),
                "pinned.example.com:8443".into(),
            ]),
            origins: Some(vec!["https://app.example.com".into()]),
        };
        let check = |host, origin| guard.check(&headers(Some(host), origin), None);
        assert_eq!(check("mcp.example.com:443", None), Ok(()));
        assert_eq!(check("pinned.example.com:8443", None), Ok(()));
        assert_eq!(check("pinned.example.com:8444", None), Err(Rejection::Host));
        assert_eq!(check("localhost", None), Err(Rejection::Host));
        assert_eq!(
            check("mcp.example.com", Some("https://app.example.com")),
            Ok(())
        );
        assert_eq!(
            check("mcp.example.com", Some("http://app.example.com")),
            Err(Rejection::Origin)
        );
    }

    #[test]
    fn disabled_protection_accepts_anything() {
        let guard = HostGuard {
            enabled: false,
            ..HostGuard::loopback()
        };
        assert_eq!(
            guard.check(
                &headers(Some("evil.example.com"), Some("http://evil")),
                None
            ),
            Ok(())
        );
    }
}
