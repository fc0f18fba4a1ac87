//! Static files embedded in the binary, served with content-hash ETags.
//! Pages link them as `/static/<file>?v=<hash>`; such URLs never change
//! content, so they are cached for a year.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Assets;

/// The URL of an embedded file, with its content hash as cache buster.
pub fn url(path: &str) -> String {
    match Assets::get(path) {
        Some(file) => format!("/static/{path}?v={}", &hash_of(&file)[..12]),
        None => format!("/static/{path}"),
    }
}

fn hash_of(file: &rust_embed::EmbeddedFile) -> String {
    file.metadata
        .sha256_hash()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Where static files are served.
pub const PATTERN: &str = "/static/{path:.*}";

/// `GET /static/{path}`.
pub async fn serve(request: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(file) = Assets::get(&path) else {
        return super::error_pages::not_found_page();
    };
    let hash = hash_of(&file);
    let etag = format!("\"{hash}\"");
    let matches = super::caching::etag_matches(&request, &etag);
    // Immutable only at the URL of this very content: a stale or made-up
    // `?v=` must not pin another file's bytes for a year.
    let versioned = request
        .query_string()
        .strip_prefix("v=")
        .is_some_and(|version| version.len() == 12 && hash.starts_with(version));
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    if matches {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.metadata.mimetype()))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(file.data.into_owned())
}
