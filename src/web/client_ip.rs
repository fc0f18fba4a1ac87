//! The client's address, the one used by rate limits, sessions, audit rows
//! and logs: the TCP peer, unless the peer is a trusted reverse proxy
//! (`trusted_proxies`). Then `X-Forwarded-For` (or, without it,
//! `Forwarded: for=`) is read from the right, skipping trusted proxies, and
//! the first address that is not one is the client. A header sent by anyone
//! else is ignored, so it cannot be used to dodge a rate limit or forge the
//! address in the audit trail.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::{HttpRequest, web};
use ipnet::IpNet;

use super::AppState;

/// Reverse proxies whose forwarding headers are believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    /// Proxies in these networks.
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks.into())
    }

    /// True when `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|network| network.contains(&ip))
    }
}

/// The client address of `request` (none for a request without a peer,
/// as in some unit tests).
pub fn of(request: &HttpRequest) -> Option<IpAddr> {
    let trusted = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.trusted_proxies.clone())
        .unwrap_or_default();
    resolve(
        request.peer_addr().map(|addr| addr.ip()),
        request.headers(),
        &trusted,
    )
}

/// The client behind `peer`, given the request's headers.
pub fn resolve(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let mut client = peer?.to_canonical();
    if !trusted.contains(client) {
        return Some(client);
    }
    let hops = forwarded_hops(headers);
    for hop in hops.iter().rev() {
        // A hop that is not an address ("unknown", garbage) ends the walk:
        // the nearest trusted proxy is the best that is known.
        let Some(hop) = hop else {
            return Some(client);
        };
        client = hop.to_canonical();
        if !trusted.contains(client) {
            return Some(client);
        }
    }
    Some(client)
}

/// The hops of `X-Forwarded-For` (all its headers, in order), or of
/// `Forwarded`'s `for=` parameters when there is no `X-Forwarded-For`.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let x_forwarded_for: Vec<Option<IpAddr>> = headers
        .get_all("x-forwarded-for")
        .flat_map(|value| {
            value
                .to_str()
                .unwrap_or("invalid")
                .split(',')
                .map(parse_hop)
                .collect::<Vec<_>>()
        })
        .collect();
    if !x_forwarded_for.is_empty() {
        return x_forwarded_for;
    }
    headers
        .get_all(actix_web::http::header::FORWARDED)
        .flat_map(|value| {
            value
                .to_str()
                .unwrap_or("for=invalid")
                .split(',')
                .filter_map(|element| {
                    element.split(';').find_map(|pair| {
                        let (name, value) = pair.trim().split_once('=')?;
                        name.eq_ignore_ascii_case("for")
                            .then(|| parse_hop(value.trim().trim_matches('"')))
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `203.0.113.7`, `2001:db8::1`, `203.0.113.7:4711` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn trusted(networks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(networks.iter().map(|net| net.parse().unwrap()).collect())
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let forged = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(
            resolve(ip("203.0.113.9"), &forged, &trusted(&["127.0.0.1/32"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            resolve(ip("127.0.0.1"), &forged, &TrustedProxies::default()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_walk_from_the_right_stops_at_the_first_untrusted_hop() {
        let chain = headers(&[(
            "x-forwarded-for",
            "6.6.6.6, 198.51.100.1, 10.0.0.2, 10.0.0.3",
        )]);
        assert_eq!(
            resolve(
                ip("127.0.0.1"),
                &chain,
                &trusted(&["127.0.0.0/8", "10.0.0.0/8"])
            ),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn several_headers_are_one_list_and_ports_and_brackets_are_dropped() {
        let chain = headers(&[
            ("x-forwarded-for", "198.51.100.1:5555"),
            ("x-forwarded-for", "10.0.0.2"),
        ]);
        assert_eq!(
            resolve(ip("10.0.0.1"), &chain, &trusted(&["10.0.0.0/8"])),
            ip("198.51.100.1")
        );
        let forwarded = headers(&[(
            "forwarded",
            "for=198.51.100.1;proto=https, for=\"[2001:db8::7]:4711\"",
        )]);
        assert_eq!(
            resolve(ip("::1"), &forwarded, &trusted(&["::1/128"])),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn garbage_or_only_trusted_hops_leave_the_nearest_known_address() {
        let garbage = headers(&[("x-forwarded-for", "198.51.100.1, unknown")]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &garbage, &trusted(&["127.0.0.1/32"])),
            ip("127.0.0.1")
        );
        let inside = headers(&[("x-forwarded-for", "10.0.0.5")]);
        assert_eq!(
            resolve(
                ip("127.0.0.1"),
                &inside,
                &trusted(&["127.0.0.1/32", "10.0.0.0/8"])
            ),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn ipv4_mapped_peers_count_as_ipv4() {
        let chain = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), &chain, &trusted(&["127.0.0.1/32"])),
            ip("198.51.100.1")
        );
    }
}
