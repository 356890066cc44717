//! Static files, compiled into the binary.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, AppResult};

const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");
const CHARTS_JS: &str = include_str!("../../static/charts.js");
const COMPOSER_JS: &str = include_str!("../../static/composer.js");
const UPLOT_JS: &str = include_str!("../../static/vendor/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../static/vendor/uplot/uPlot.min.css");
const FAVICON_SVG: &str = include_str!("../../static/favicon.svg");

/// `/favicon.ico`, which browsers and tools ask for whatever the page says: the same icon.
pub async fn favicon() -> AppResult<HttpResponse> {
    asset(web::Path::from("favicon.svg".to_owned())).await
}

pub async fn asset(file: web::Path<String>) -> AppResult<HttpResponse> {
    let (body, content_type) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "charts.js" => (CHARTS_JS, "text/javascript; charset=utf-8"),
        "composer.js" => (COMPOSER_JS, "text/javascript; charset=utf-8"),
        "vendor/uplot/uPlot.iife.min.js" => (UPLOT_JS, "text/javascript; charset=utf-8"),
        "vendor/uplot/uPlot.min.css" => (UPLOT_CSS, "text/css; charset=utf-8"),
        "favicon.svg" => (FAVICON_SVG, "image/svg+xml"),
        _ => return Err(AppError::NotFound),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body))
}
