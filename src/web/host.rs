//! The Host check: a request must be addressed to this site, by the base
//! URL's host or, on a Soloist bound to loopback, by localhost, 127.0.0.1
//! or [::1] with its port. Anything else is answered 421 Misdirected
//! Request. This stops DNS rebinding, where a page on an attacker's domain
//! re-points that domain at 127.0.0.1 and talks to a Soloist on its
//! visitor's laptop as if it were the attacker's own site.

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use super::AppState;

/// Paths any Host may reach: health checks and scrapers address a server
/// by its IP, and neither path acts for a signed-in user.
const ANY_HOST: &[&str] = &["/healthz", "/metrics"];

/// The Host values this site answers to.
#[derive(Clone, Debug, Default)]
pub struct AllowedHosts {
    /// `host` or `host:port`, lower-case.
    hosts: Arc<[String]>,
    /// No check: listening on every interface without a base URL, the
    /// public name is unknown (the boot output says so).
    any: bool,
}

impl AllowedHosts {
    /// The hosts of a site served at `base_url` and bound to `bound`; with
    /// `any`, every Host is accepted.
    pub fn new(base_url: &str, bound: SocketAddr, any: bool) -> Self {
        let mut hosts = Vec::new();
        let (scheme, rest) = base_url.split_once("://").unwrap_or(("http", base_url));
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_lowercase();
        let default_port = if scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            80
        };
        push_with_port(&mut hosts, &authority, default_port);
        if bound.ip().is_loopback() {
            for name in ["localhost", "127.0.0.1", "[::1]"] {
                push_with_port(&mut hosts, &format!("{name}:{}", bound.port()), 80);
            }
        }
        Self {
            hosts: hosts.into(),
            any,
        }
    }

    /// True when a request for `host` is for this site.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().trim_end_matches('.').to_lowercase();
        self.any || self.hosts.contains(&host)
    }

    /// True when every Host is accepted.
    pub fn accepts_any(&self) -> bool {
        self.any
    }
}

/// Adds `authority`, and its other spelling: with and without the default
/// port.
fn push_with_port(hosts: &mut Vec<String>, authority: &str, default_port: u16) {
    if authority.is_empty() {
        return;
    }
    hosts.push(authority.to_owned());
    let suffix = format!(":{default_port}");
    match authority.strip_suffix(&suffix) {
        Some(bare) => hosts.push(bare.to_owned()),
        None if !has_port(authority) => hosts.push(format!("{authority}{suffix}")),
        None => {}
    }
}

fn has_port(authority: &str) -> bool {
    match authority.rsplit_once(':') {
        Some((host, port)) => {
            (!host.contains(':') || host.ends_with(']')) && port.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// The host a request is addressed to: a trusted proxy's
/// `X-Forwarded-Host`, else `Host`, else the URI's authority (HTTP/2).
fn requested_host(request: &ServiceRequest, state: &AppState) -> Option<String> {
    let from_proxy = request
        .peer_addr()
        .is_some_and(|peer| state.trusted_proxies.contains(peer.ip()));
    let header_value = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                value
                    .split(',')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            })
    };
    if from_proxy && let Some(host) = header_value("x-forwarded-host") {
        return Some(host);
    }
    header_value(header::HOST.as_str()).or_else(|| {
        request
            .uri()
            .authority()
            .map(|authority| authority.to_string())
    })
}

/// The middleware: 421 for a request addressed to another host.
pub async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let exempt = ANY_HOST.contains(&request.path());
    let allowed = exempt
        || requested_host(&request, &state).is_some_and(|host| state.allowed_hosts.allows(&host));
    if allowed {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let response = HttpResponse::MisdirectedRequest()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "This server does not answer for that host name. Open {} instead.\n",
            state.base_url
        ));
    Ok(request.into_response(response))
}

#[cfg(test)]
mod tests {
    use super::AllowedHosts;

    fn hosts(base_url: &str, bound: &str) -> AllowedHosts {
        AllowedHosts::new(base_url, bound.parse().unwrap(), false)
    }

    #[test]
    fn the_base_url_host_is_allowed_with_or_without_its_default_port() {
        let allowed = hosts("https://blog.example.com", "0.0.0.0:8080");
        assert!(allowed.allows("blog.example.com"));
        assert!(allowed.allows("Blog.Example.COM:443"));
        assert!(allowed.allows("blog.example.com."));
        assert!(!allowed.allows("blog.example.com:8080"));
        assert!(!allowed.allows("attacker.example"));
        assert!(!allowed.allows("localhost:8080"));
        assert!(!allowed.allows(""));
    }

    #[test]
    fn loopback_names_are_allowed_with_the_bound_port_only_on_loopback() {
        let allowed = hosts("https://blog.example.com", "127.0.0.1:8080");
        for host in ["localhost:8080", "127.0.0.1:8080", "[::1]:8080"] {
            assert!(allowed.allows(host), "{host}");
        }
        assert!(!allowed.allows("localhost:9090"));
        assert!(!allowed.allows("rebind.attacker.example:8080"));
        let local = hosts("http://127.0.0.1:8080", "127.0.0.1:8080");
        assert!(local.allows("127.0.0.1:8080"));
        assert!(!local.allows("127.0.0.1"));
    }

    #[test]
    fn any_accepts_every_host() {
        let allowed =
            AllowedHosts::new("http://0.0.0.0:8080", "0.0.0.0:8080".parse().unwrap(), true);
        assert!(allowed.allows("203.0.113.5:8080"));
        assert!(allowed.accepts_any());
    }
}
