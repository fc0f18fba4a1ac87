//! HTTP methods as clients expect them: `HEAD` is answered on every `GET`
//! route (the same status and headers; the HTTP codec leaves the body
//! out), and a method a path does not take is a 405 with `Allow` (each
//! path is one `web::resource` with its methods, so actix answers that;
//! this adds `HEAD` wherever `GET` is allowed).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};

/// Marks a `HEAD` request answered as `GET` (work that only a reader's
/// visit should cause, such as counting a view, skips it).
#[derive(Clone, Copy, Debug)]
pub struct HeadRequest;

/// True when `request` came as `HEAD`.
pub fn is_head(request: &HttpRequest) -> bool {
    request.extensions().get::<HeadRequest>().is_some()
}

/// The middleware.
pub async fn head_as_get(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let head = request.method() == Method::HEAD;
    if head {
        request.head_mut().method = Method::GET;
        request.extensions_mut().insert(HeadRequest);
    }
    let mut response = next.call(request).await?;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        let headers = response.headers_mut();
        let allow = headers
            .get(header::ALLOW)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        if let Some(allow) = allow
            && allow.split(',').any(|method| method.trim() == "GET")
            && !allow.split(',').any(|method| method.trim() == "HEAD")
            && let Ok(value) = header::HeaderValue::from_str(&format!("{allow}, HEAD"))
        {
            headers.insert(header::ALLOW, value);
        }
    }
    Ok(response)
}
