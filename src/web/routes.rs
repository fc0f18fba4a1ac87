//! Route tables: each domain declares its routes once, with
//! [`route_table!`], as path constants (from its `paths` module), who may
//! use them and their handlers. The same table registers the routes with
//! actix-web and lists them ([`all`]) for the tests that check every admin
//! route refuses non-admins and every form checks its CSRF token, so a new
//! route is covered the moment it exists.

use actix_web::web;

/// Who a route is for. The handler enforces it (with the
/// [`super::access::Member`] and [`super::access::Admin`] extractors); the
/// table says it so the tests can check it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A signed-in user (some pages also answer visitors, with less).
    Member,
    /// An admin.
    Admin,
    /// Stripe, proven by the signature instead of a session or CSRF token.
    Signed,
}

/// One route: its path pattern (`{id}` for a path segment), methods, and
/// who it is for.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// The path pattern, as registered.
    pub path: &'static str,
    /// "get", "post".
    pub methods: &'static [&'static str],
    /// Who it is for.
    pub access: Access,
}

impl Route {
    /// True when the route answers `method` ("get", "post").
    pub fn has(&self, method: &str) -> bool {
        self.methods.contains(&method)
    }

    /// The path with each `{name}` segment given by `value(name)`.
    pub fn filled(&self, value: impl Fn(&str) -> String) -> String {
        fill(self.path, value)
    }
}

/// `pattern` with each `{name}` (or `{name:regex}`) replaced by
/// `value(name)`.
pub fn fill(pattern: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(pattern.len() + 32);
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 1..start + end];
        let name = inner.split(':').next().unwrap_or(inner);
        out.push_str(&value(name));
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// `pattern` with its one `{name}` segment filled with `value` (a typed
/// id, a slug): how `paths` modules build links.
pub fn one(pattern: &str, value: impl std::fmt::Display) -> String {
    let value = value.to_string();
    fill(pattern, |_| value.clone())
}

/// Declares a domain's routes once: `$register(config)` registers them and
/// `$table` lists them.
///
/// ```ignore
/// route_table! {
///     pub fn routes, pub const ROUTES = [
///         paths::SIGN_IN, Public => { get: sign_in::page, post: sign_in::submit },
///         paths::WEBHOOK, Signed, data(web::PayloadConfig::new(1024)) => { post: receive },
///     ]
/// }
/// ```
macro_rules! route_table {
    (
        $vis:vis fn $register:ident, $tvis:vis const $table:ident = [
            $( $path:expr, $access:ident $(, data($data:expr))? => {
                $( $method:ident : $handler:path ),+ $(,)?
            } ),* $(,)?
        ]
    ) => {
        /// Every route of this domain, as registered by the function beside it.
        $tvis const $table: &[$crate::web::routes::Route] = &[
            $( $crate::web::routes::Route {
                path: $path,
                methods: &[$(stringify!($method)),+],
                access: $crate::web::routes::Access::$access,
            } ),*
        ];

        /// Registers every route of this domain (listed in the table beside it).
        $vis fn $register(config: &mut actix_web::web::ServiceConfig) {
            $(
                config.service(
                    actix_web::web::resource($path)
                        $(.app_data($data))?
                        $(.route(actix_web::web::$method().to($handler)))+
                );
            )*
        }
    };
}

pub(crate) use route_table;

/// Every domain's route table and the function that registers it: the one
/// list both [`all`] and [`register`] read, so a registered route is always
/// a listed (and tested) one.
type Domain = (&'static [Route], fn(&mut web::ServiceConfig));

const DOMAINS: &[Domain] = &[
    (super::ROUTES, super::routes),
    (crate::monitoring::ROUTES, crate::monitoring::routes),
    (
        crate::accounts::pages::ROUTES,
        crate::accounts::pages::routes,
    ),
    (crate::content::pages::ROUTES, crate::content::pages::routes),
    (crate::billing::pages::ROUTES, crate::billing::pages::routes),
    (crate::admin::ROUTES, crate::admin::routes),
    (crate::backup::pages::ROUTES, crate::backup::pages::routes),
    (crate::site::pages::ROUTES, crate::site::pages::routes),
];

/// Every route of the application, domain by domain (the static files and
/// the 404 page aside).
pub fn all() -> Vec<Route> {
    DOMAINS
        .iter()
        .flat_map(|(table, _)| table.iter().copied())
        .collect()
}

/// Registers every route of the application.
pub fn register(config: &mut web::ServiceConfig) {
    for (_, register) in DOMAINS {
        register(config);
    }
    config
        .service(web::resource(super::assets::PATTERN).get(super::assets::serve))
        .default_service(web::to(super::error_pages::not_found));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_fill_every_segment() {
        assert_eq!(
            fill("/admin/users/{id}/role", |_| "x".to_owned()),
            "/admin/users/x/role"
        );
        assert_eq!(
            fill("/static/{path:.*}", |name| name.to_owned()),
            "/static/path"
        );
        assert_eq!(fill("/blog", |_| "x".to_owned()), "/blog");
    }

    #[test]
    fn no_path_is_registered_twice() {
        let routes = all();
        for (index, route) in routes.iter().enumerate() {
            assert!(
                routes[index + 1..]
                    .iter()
                    .all(|other| other.path != route.path),
                "{} is declared twice",
                route.path
            );
        }
    }
}
