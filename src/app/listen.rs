//! The address Soloist serves on.

use std::net::{SocketAddr, TcpListener};

use super::StartError;

/// Binds the HTTP address, with a sentence for the operator when it fails.
pub(super) fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).map_err(|error| StartError::Bind {
        addr,
        reason: match error.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "the port is already in use by another program; stop it or choose another address, e.g. --listen {}:{}",
                addr.ip(),
                addr.port().wrapping_add(1).max(1024)
            ),
            std::io::ErrorKind::PermissionDenied => {
                "permission denied (ports below 1024 need privileges; use a reverse proxy or a higher port)".to_owned()
            }
            std::io::ErrorKind::AddrNotAvailable => "this machine has no such address".to_owned(),
            _ => error.to_string(),
        },
    })
}

/// True when the base URL names this machine (localhost, 127.0.0.0/8, ::1).
pub(super) fn base_url_is_loopback(base_url: &str) -> bool {
    let rest = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::base_url_is_loopback;

    #[test]
    fn only_localhost_and_loopback_addresses_are_this_machine() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:8080/",
            "http://[::1]:8080",
            "http://127.1.2.3",
        ] {
            assert!(base_url_is_loopback(url), "{url}");
        }
        for url in [
            "https://example.com",
            "http://10.0.0.5:8080",
            "http://localhost.example.com",
            "http://[2001:db8::1]:8080",
        ] {
            assert!(!base_url_is_loopback(url), "{url}");
        }
    }
}
