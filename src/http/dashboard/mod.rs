//! The dashboard at `/`: static files compiled into the binary (rust-embed; debug builds read
//! them from disk, so editing a page needs no rebuild), built on the read API alone. Served with
//! a strong ETag (the file's SHA-256) and 304s, `no-cache` for the pages and scripts (always
//! revalidated, so an upgrade shows at once), a year for the versioned vendor files, and a
//! Content-Security-Policy that allows no inline script and nothing from elsewhere.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "src/http/dashboard/assets/"]
struct Assets;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

async fn index(req: HttpRequest) -> HttpResponse {
    serve(&req, "index.html")
}

async fn asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    serve(&req, &path)
}

fn serve(req: &HttpRequest, name: &str) -> HttpResponse {
    // Debug builds read these from disk: never a name that could leave the folder.
    let outside = name
        .split(['/', '\\'])
        .any(|part| part == ".." || part.is_empty());
    let found = (!outside).then(|| Assets::get(name)).flatten();
    let Some(file) = found else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let cache = if name.starts_with("vendor/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let unchanged = matches_etag(req, &etag);
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    if unchanged {
        return response.finish();
    }
    let mime = file.metadata.mimetype();
    let mime = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    response
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_str(&mime)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        ))
        .body(file.data.into_owned())
}

fn matches_etag(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == etag || tag == "*" || tag.strip_prefix("W/") == Some(etag)
        })
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::get_only("/", index))
        .service(super::get_only("/assets/{path:.+}", asset));
}
