//! The simulator's half of Meta's OAuth (graph-api.md §1.2, §1.3): the consent dialogs a
//! browser clicks through, single-use codes valid for an hour, the code exchanges with their
//! own error envelopes, the scopes granted, revocation (§8), and signed requests as Meta's
//! deauthorize and data-deletion callbacks carry them (§6).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::json;
use sha2::Sha256;

use super::world::{SimToken, token_text};
use super::{Inner, SimState};
use crate::domain::Flavour;

/// The simulated Meta apps: what Tidemark is configured with to connect through the simulator.
pub const INSTAGRAM_APP_ID: &str = "1000000000000001";
pub const INSTAGRAM_APP_SECRET: &str = "simulated-instagram-app-secret";
pub const FACEBOOK_APP_ID: &str = "2000000000000002";
pub const FACEBOOK_APP_SECRET: &str = "simulated-facebook-app-secret";

/// How long a dialog's code may be exchanged (§1.2: one hour, single use).
const CODE_LIFETIME: Duration = Duration::hours(1);
/// A short-lived token lasts an hour (§1.2, §1.3).
const SHORT_TOKEN: Duration = Duration::hours(1);

/// Every scope a flavour's app may ask for.
pub fn all_scopes(flavour: Flavour) -> Vec<String> {
    let scopes: &[&str] = match flavour {
        Flavour::Instagram => &[
            "instagram_business_basic",
            "instagram_business_manage_insights",
            "instagram_business_content_publish",
            "instagram_business_manage_comments",
        ],
        Flavour::Facebook => &[
            "instagram_basic",
            "instagram_manage_insights",
            "pages_show_list",
            "pages_read_engagement",
            "instagram_content_publish",
            "instagram_manage_comments",
        ],
    };
    scopes.iter().map(|s| (*s).to_owned()).collect()
}

/// A code the dialog handed out.
#[derive(Debug, Clone)]
pub(crate) struct SimCode {
    code: String,
    flavour: Flavour,
    redirect_uri: String,
    accounts: Vec<usize>,
    scopes: Vec<String>,
    issued_at: DateTime<Utc>,
    used: bool,
}

fn app_of(flavour: Flavour) -> (&'static str, &'static str) {
    match flavour {
        Flavour::Instagram => (INSTAGRAM_APP_ID, INSTAGRAM_APP_SECRET),
        Flavour::Facebook => (FACEBOOK_APP_ID, FACEBOOK_APP_SECRET),
    }
}

/// The dialogs and exchanges, if `req` is one of them.
pub(crate) fn handle(req: &HttpRequest, body: &[u8], state: &SimState) -> Option<HttpResponse> {
    let segments: Vec<&str> = req.path().split('/').filter(|s| !s.is_empty()).collect();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let post = req.method() == actix_web::http::Method::POST;
    match segments.as_slice() {
        ["oauth", "authorize"] => Some(dialog(state, Flavour::Instagram, &query)),
        [version, "dialog", "oauth"] if version.starts_with('v') => Some(dialog(state, Flavour::Facebook, &query)),
        ["oauth", "decide"] => Some(decide(state, &query)),
        // Instagram's code exchange: api.instagram.com, a form POST, its own error envelope.
        ["oauth", "access_token"] if post => {
            let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
            Some(exchange_instagram_code(state, &form))
        }
        // Facebook's code exchange (the long-lived exchange carries `fb_exchange_token` instead).
        [version, "oauth", "access_token"] if version.starts_with('v') && param("code").is_some() => {
            Some(exchange_facebook_code(state, &query))
        }
        _ => None,
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The consent page: who signs in, which scopes to grant, Allow or Cancel.
fn dialog(state: &SimState, flavour: Flavour, query: &[(String, String)]) -> HttpResponse {
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let (app_id, _) = app_of(flavour);
    if param("client_id") != app_id {
        return HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body("<!doctype html><title>Error</title><p>Invalid App ID: the app does not exist.</p>");
    }
    if param("redirect_uri").is_empty() {
        return HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body("<!doctype html><title>Error</title><p>URL blocked: the redirect URI is missing.</p>");
    }
    let inner = state.lock();
    let (kind, multiple) = match flavour {
        Flavour::Instagram => ("radio", false),
        Flavour::Facebook => ("checkbox", true),
    };
    let choices: String = inner
        .accounts
        .iter()
        .enumerate()
        .filter(|(_, a)| a.spec.flavour == flavour)
        .enumerate()
        .map(|(n, (index, account))| {
            let label = match flavour {
                Flavour::Instagram => format!("@{}", account.spec.username),
                Flavour::Facebook => format!("{} Page (Instagram @{})", account.spec.name, account.spec.username),
            };
            let checked = if n == 0 || multiple { " checked" } else { "" };
            format!(
                "<li><label><input type=\"{kind}\" name=\"account\" value=\"{index}\"{checked}> {}</label></li>",
                html_escape(&label)
            )
        })
        .collect();
    let requested: Vec<&str> = param("scope").split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let scopes: String = requested
        .iter()
        .map(|scope| {
            let scope = html_escape(scope);
            format!(
                "<li><label><input type=\"checkbox\" name=\"scope\" value=\"{scope}\" checked> {scope}</label></li>"
            )
        })
        .collect();
    let hidden: String = ["client_id", "redirect_uri", "state"]
        .iter()
        .map(|name| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", html_escape(param(name))))
        .collect();
    let title = match flavour {
        Flavour::Instagram => "Instagram (simulated): allow access",
        Flavour::Facebook => "Facebook (simulated): allow access",
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\
         <h1>{title}</h1><form method=\"get\" action=\"/oauth/decide\">{hidden}\
         <input type=\"hidden\" name=\"flavour\" value=\"{}\">\
         <fieldset><legend>Accounts to share</legend><ul>{choices}</ul></fieldset>\
         <fieldset><legend>Permissions</legend><ul>{scopes}</ul></fieldset>\
         <button type=\"submit\" name=\"decision\" value=\"allow\" id=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"cancel\" id=\"cancel\">Cancel</button>\
         </form></body></html>",
        flavour.as_str()
    );
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page)
}

/// The dialog's answer: back to the app with a code (and Instagram's `#_`), or Meta's
/// cancellation parameters.
fn decide(state: &SimState, query: &[(String, String)]) -> HttpResponse {
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let values = |name: &str| query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let Ok(flavour) = param("flavour").parse::<Flavour>() else {
        return HttpResponse::BadRequest().body("unknown login");
    };
    let Ok(mut redirect) = url::Url::parse(param("redirect_uri")) else {
        return HttpResponse::BadRequest().body("bad redirect_uri");
    };
    let mut fragment = None;
    if param("decision") == "allow" {
        let mut inner = state.lock();
        let accounts: Vec<usize> = values("account")
            .iter()
            .filter_map(|a| a.parse::<usize>().ok())
            .filter(|a| inner.accounts.get(*a).is_some_and(|acc| acc.spec.flavour == flavour))
            .collect();
        let code = random_code(&mut inner);
        let issued_at = inner.now();
        inner.codes.push(SimCode {
            code: code.clone(),
            flavour,
            redirect_uri: param("redirect_uri").to_owned(),
            accounts,
            scopes: values("scope"),
            issued_at,
            used: false,
        });
        redirect.query_pairs_mut().append_pair("code", &code);
        if flavour == Flavour::Instagram {
            fragment = Some("_");
        }
    } else {
        redirect
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_reason", "user_denied")
            .append_pair("error_description", "The user denied your request.");
    }
    redirect.query_pairs_mut().append_pair("state", param("state"));
    redirect.set_fragment(fragment);
    HttpResponse::Found().insert_header((header::LOCATION, redirect.to_string())).finish()
}

fn random_code(inner: &mut Inner) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..64).map(|_| char::from(CHARS[inner.rng.random_range(0..CHARS.len())])).collect()
}

/// Takes a valid, unused code of `flavour` for this redirect URI (it is used up either way).
fn redeem(inner: &mut Inner, flavour: Flavour, code: &str, redirect_uri: &str) -> Option<SimCode> {
    let now = inner.now();
    let found = inner.codes.iter_mut().find(|c| c.code == code.trim_end_matches("#_") && c.flavour == flavour)?;
    let fresh = !found.used && now - found.issued_at < CODE_LIFETIME && found.redirect_uri == redirect_uri;
    found.used = true;
    fresh.then(|| found.clone())
}

/// A short-lived token for the accounts a code was granted for.
fn short_token(inner: &mut Inner, code: &SimCode) -> Option<String> {
    let (&first, rest) = code.accounts.split_first()?;
    let now = inner.now();
    let text = token_text(&mut inner.rng, code.flavour);
    inner.tokens.push(SimToken {
        token: text.clone(),
        account: first,
        also: rest.to_vec(),
        scopes: code.scopes.clone(),
        flavour: code.flavour,
        issued_at: now,
        expires_at: now + SHORT_TOKEN,
        revoked: None,
        calls: 0,
        budget: super::DEFAULT_BUDGET,
    });
    Some(text)
}

fn exchange_instagram_code(state: &SimState, form: &[(String, String)]) -> HttpResponse {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    // api.instagram.com's envelope (§1.2), not the Graph one.
    let refuse = |message: &str| {
        HttpResponse::BadRequest()
            .json(json!({ "error_type": "OAuthException", "code": 400, "error_message": message }))
    };
    if field("client_id") != INSTAGRAM_APP_ID {
        return refuse("Invalid platform app");
    }
    if field("client_secret") != INSTAGRAM_APP_SECRET {
        return refuse("Error validating client secret.");
    }
    if field("grant_type") != "authorization_code" {
        return refuse("Invalid grant_type");
    }
    let mut inner = state.lock();
    let Some(code) = redeem(&mut inner, Flavour::Instagram, field("code"), field("redirect_uri")) else {
        return refuse("Matching code was not found or was already used");
    };
    let Some(token) = short_token(&mut inner, &code) else {
        return refuse("No account was shared");
    };
    let user_id: u64 = inner.accounts[code.accounts[0]].ig_user_id.parse().unwrap_or(0);
    // The flat form, with the 64-bit id unquoted, as clients observe it (§1.4).
    HttpResponse::Ok()
        .content_type("application/json")
        .body(format!(r#"{{"access_token":"{token}","user_id":{user_id},"permissions":{}}}"#, json!(code.scopes)))
}

fn exchange_facebook_code(state: &SimState, query: &[(String, String)]) -> HttpResponse {
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let refuse = |code: i64, subcode: Option<i64>, message: &str| {
        let mut error = json!({ "message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Asim" });
        if let Some(subcode) = subcode {
            error["error_subcode"] = json!(subcode);
        }
        HttpResponse::build(StatusCode::BAD_REQUEST).json(json!({ "error": error }))
    };
    if param("client_id") != FACEBOOK_APP_ID {
        return refuse(101, None, "Error validating application. Invalid application ID.");
    }
    if param("client_secret") != FACEBOOK_APP_SECRET {
        return refuse(1, None, "Error validating client secret.");
    }
    let mut inner = state.lock();
    let Some(code) = redeem(&mut inner, Flavour::Facebook, param("code"), param("redirect_uri")) else {
        return refuse(100, Some(36009), "This authorization code has been used.");
    };
    let Some(token) = short_token(&mut inner, &code) else {
        return refuse(100, None, "No Page was shared");
    };
    HttpResponse::Ok().json(json!({ "access_token": token, "token_type": "bearer", "expires_in": 3600 }))
}

/// Whether an exchange of `grant_type` names the right app secret (the long-lived steps).
pub(crate) fn secret_matches(flavour: Flavour, client_id: Option<&str>, client_secret: Option<&str>) -> bool {
    let (id, secret) = app_of(flavour);
    client_secret == Some(secret) && client_id.is_none_or(|given| given == id)
}

/// A signed request as Meta posts it to the deauthorize and data-deletion callbacks: the
/// base64url HMAC-SHA256 of the payload segment, a dot, the payload segment.
pub fn signed_request(secret: &str, payload: &serde_json::Value) -> String {
    let body = URL_SAFE_NO_PAD.encode(payload.to_string());
    // HMAC takes keys of any length.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    format!("{}.{body}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}
