//! Meta's OAuth for both logins (graph-api.md §1.2, §1.3): the consent dialog's address, the
//! code exchanged server-side for a short-lived token, that token exchanged for a long-lived
//! one, the scopes granted, and (Facebook Login) revoking the grant (§8).
//!
//! The oauth2 crate was considered and left out: Instagram's code exchange answers with a
//! flat or `{"data":[…]}` body with an unquoted 64-bit `user_id`, the long-lived step is a GET
//! with the secret in the query, and codes carry a `#_` suffix; plain requests read clearer.

use std::fmt;

use reqwest::RequestBuilder;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::client::{GraphClient, GraphSession, endpoint_label};
use super::error::{GraphError, classify, redact, shorten};
use super::types::{AccessToken, FlatOrWrapped, Flavour, TokenGrant, id_string};

/// The scopes Tidemark asks for with Instagram Login.
pub const INSTAGRAM_SCOPES: &[&str] = &["instagram_business_basic", "instagram_business_manage_insights"];
/// The scopes Tidemark asks for with Facebook Login for Business.
pub const FACEBOOK_SCOPES: &[&str] =
    &["instagram_basic", "instagram_manage_insights", "pages_show_list", "pages_read_engagement"];

/// Asked for too, but a connection works without them: publishing (graph-api.md §7; Meta's
/// permissions reference names `instagram_business_content_publish` for Instagram Login and
/// `instagram_content_publish` for Facebook Login) and comments (§8). Declined, the planner
/// and the inbox say to re-connect.
pub const INSTAGRAM_OPTIONAL_SCOPES: &[&str] =
    &["instagram_business_content_publish", "instagram_business_manage_comments"];
pub const FACEBOOK_OPTIONAL_SCOPES: &[&str] = &["instagram_content_publish", "instagram_manage_comments"];

/// The scopes a flavour's connection needs.
pub fn required_scopes(flavour: Flavour) -> &'static [&'static str] {
    match flavour {
        Flavour::Instagram => INSTAGRAM_SCOPES,
        Flavour::Facebook => FACEBOOK_SCOPES,
    }
}

/// Every scope the consent dialog asks for: the required ones, then the optional ones.
pub fn requested_scopes(flavour: Flavour) -> Vec<&'static str> {
    let optional = match flavour {
        Flavour::Instagram => INSTAGRAM_OPTIONAL_SCOPES,
        Flavour::Facebook => FACEBOOK_OPTIONAL_SCOPES,
    };
    required_scopes(flavour).iter().chain(optional).copied().collect()
}

/// What a scope lets Tidemark do, in plain words (for the pages).
pub fn scope_purpose(scope: &str) -> &'static str {
    match scope {
        "instagram_business_basic" | "instagram_basic" => "read the account's profile and its posts",
        "instagram_business_manage_insights" | "instagram_manage_insights" => {
            "read the reach, views and other figures of the account and its posts"
        }
        "pages_show_list" => "see which Facebook Pages you manage, to find their Instagram accounts",
        "instagram_business_content_publish" | "instagram_content_publish" => {
            "publish the posts you plan in Tidemark (optional: without it, analytics still work)"
        }
        "instagram_business_manage_comments" | "instagram_manage_comments" => {
            "read and answer comments in the inbox (optional: without it, analytics still work)"
        }
        "pages_read_engagement" => "read the Page that links the Instagram account",
        _ => "a permission Tidemark does not use",
    }
}

/// The operator's own Meta app for one login: its id and secret.
#[derive(Clone)]
pub struct MetaApp {
    pub id: String,
    secret: String,
}

impl MetaApp {
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self { id: id.into(), secret: secret.into() }
    }

    /// The app secret: it signs Meta's callbacks and authenticates the code exchange.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for MetaApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaApp").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

/// What the code exchange gives: a short-lived token and, with Instagram Login, the account
/// and the scopes granted.
#[derive(Debug)]
pub struct CodeGrant {
    pub token: AccessToken,
    pub permissions: Vec<String>,
}

#[derive(Deserialize)]
struct CodeWire {
    access_token: String,
    #[serde(default, deserialize_with = "permissions")]
    permissions: Vec<String>,
}

/// `permissions` as an array or a comma-separated string (both are seen, §1.4).
fn permissions<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::List(list) => list,
        Either::Text(text) => text.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
    })
}

impl GraphClient {
    /// The consent dialog to send the admin's browser to.
    pub fn authorize_url(&self, flavour: Flavour, app: &MetaApp, redirect_uri: &str, state: &str) -> Url {
        let config = self.config();
        let scope = requested_scopes(flavour).join(",");
        let mut url = match flavour {
            Flavour::Instagram => with_path(&config.instagram_www, "oauth/authorize"),
            Flavour::Facebook => with_path(&config.facebook_www, &format!("{}/dialog/oauth", config.version)),
        };
        url.query_pairs_mut()
            .append_pair("client_id", &app.id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &scope)
            .append_pair("state", state);
        url
    }

    /// Exchanges the dialog's code for a short-lived token (server-side: the secret never
    /// reaches the browser). A trailing `#_` on Instagram codes is dropped.
    pub async fn exchange_code(
        &self,
        flavour: Flavour,
        app: &MetaApp,
        redirect_uri: &str,
        code: &str,
    ) -> Result<CodeGrant, GraphError> {
        let code = code.trim().trim_end_matches("#_");
        let config = self.config();
        let secrets = [app.secret(), code];
        let wire: CodeWire = match flavour {
            Flavour::Instagram => {
                let url = with_path(&config.instagram_api, "oauth/access_token");
                let form = [
                    ("client_id", app.id.as_str()),
                    ("client_secret", app.secret()),
                    ("grant_type", "authorization_code"),
                    ("redirect_uri", redirect_uri),
                    ("code", code),
                ];
                let wrapped: FlatOrWrapped<CodeWire> =
                    self.call(self.http.post(url.clone()).form(&form), &url, &secrets).await?;
                wrapped.into_first().ok_or_else(|| unexpected("the code exchange named no token"))?
            }
            Flavour::Facebook => {
                let url = with_path(&config.facebook_base, &format!("{}/oauth/access_token", config.version));
                let query = [
                    ("client_id", app.id.as_str()),
                    ("client_secret", app.secret()),
                    ("redirect_uri", redirect_uri),
                    ("code", code),
                ];
                self.call(self.http.get(url.clone()).query(&query), &url, &secrets).await?
            }
        };
        Ok(CodeGrant { token: AccessToken::new(wire.access_token), permissions: wire.permissions })
    }

    /// Exchanges a short-lived token for a long-lived one (about 60 days).
    pub async fn long_lived(
        &self,
        flavour: Flavour,
        app: &MetaApp,
        short: &AccessToken,
    ) -> Result<TokenGrant, GraphError> {
        let config = self.config();
        let secrets = [app.secret(), short.expose()];
        match flavour {
            Flavour::Instagram => {
                let url = with_path(&config.instagram_base, "access_token");
                let query = [
                    ("grant_type", "ig_exchange_token"),
                    ("client_secret", app.secret()),
                    ("access_token", short.expose()),
                ];
                self.call(self.http.get(url.clone()).query(&query), &url, &secrets).await
            }
            Flavour::Facebook => {
                let url = with_path(&config.facebook_base, &format!("{}/oauth/access_token", config.version));
                let query = [
                    ("grant_type", "fb_exchange_token"),
                    ("client_id", app.id.as_str()),
                    ("client_secret", app.secret()),
                    ("fb_exchange_token", short.expose()),
                ];
                self.call(self.http.get(url.clone()).query(&query), &url, &secrets).await
            }
        }
    }

    /// One request outside a token session (the OAuth steps): not retried, since a code is
    /// single-use; every secret in `secrets` is kept out of the error.
    async fn call<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        url: &Url,
        secrets: &[&str],
    ) -> Result<T, GraphError> {
        let clean = |text: &str| secrets.iter().fold(text.to_owned(), |text, secret| redact(&text, secret));
        let result = async {
            let response = request
                .send()
                .await
                .map_err(|err| GraphError::Transient { detail: clean(&err.without_url().to_string()) })?;
            let status = response.status().as_u16();
            let body = response
                .text()
                .await
                .map_err(|err| GraphError::Transient { detail: clean(&err.without_url().to_string()) })?;
            let body = clean(&body);
            if (200..300).contains(&status) {
                return serde_json::from_str(&body)
                    .map_err(|err| GraphError::Unexpected { status, body: format!("{err}: {}", shorten(&body)) });
            }
            Err(classify(status, &body, None))
        }
        .await;
        if let Some(observer) = &self.observer {
            observer(endpoint_label(url.path()), result.as_ref().map_or_else(GraphError::kind, |_| "ok"));
        }
        result
    }
}

impl GraphSession<'_> {
    /// Facebook Login: the app-scoped id of the user the token belongs to (the id Meta's
    /// deauthorize and deletion callbacks name).
    pub async fn app_user_id(&self) -> Result<String, GraphError> {
        #[derive(Deserialize)]
        struct Me {
            #[serde(deserialize_with = "id_string")]
            id: String,
        }
        let me: Me = self.get(self.url("me"), &[("fields", "id")], None).await?;
        Ok(me.id)
    }

    /// Facebook Login: the scopes the user granted (and did not decline).
    pub async fn granted_scopes(&self) -> Result<Vec<String>, GraphError> {
        #[derive(Deserialize)]
        struct Grant {
            permission: String,
            #[serde(default)]
            status: String,
        }
        #[derive(Deserialize)]
        struct Grants {
            #[serde(default)]
            data: Vec<Grant>,
        }
        let grants: Grants = self.get(self.url("me/permissions"), &[], None).await?;
        Ok(grants.data.into_iter().filter(|g| g.status == "granted").map(|g| g.permission).collect())
    }

    /// Facebook Login: removes the app's grant (`DELETE /me/permissions`), after which every
    /// token of this user for the app stops working.
    pub async fn revoke(&self) -> Result<(), GraphError> {
        #[derive(Deserialize)]
        struct Done {
            #[serde(default)]
            success: bool,
        }
        let done: Done = self.delete(self.url("me/permissions")).await?;
        if done.success { Ok(()) } else { Err(unexpected("the revocation did not report success")) }
    }
}

fn with_path(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let base_path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base_path}/{path}"));
    url
}

fn unexpected(what: &str) -> GraphError {
    GraphError::Unexpected { status: 200, body: what.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{ClientOptions, GraphConfig};

    fn client(base: Option<&str>) -> GraphClient {
        GraphClient::new(GraphConfig::new(base, "v25.0").unwrap(), ClientOptions::default()).unwrap()
    }

    #[test]
    fn the_dialogs_are_on_metas_hosts_with_the_scopes_and_the_state() {
        let app = MetaApp::new("123", "shh");
        let ig = client(None).authorize_url(Flavour::Instagram, &app, "https://t.example/cb", "s1");
        assert_eq!(ig.host_str(), Some("www.instagram.com"));
        assert_eq!(ig.path(), "/oauth/authorize");
        let query: Vec<(String, String)> = ig.query_pairs().into_owned().collect();
        assert!(
            query.contains(&(
                "scope".into(),
                "instagram_business_basic,instagram_business_manage_insights,instagram_business_content_publish,\
             instagram_business_manage_comments"
                    .into()
            ))
        );
        assert!(query.contains(&("state".into(), "s1".into())));
        assert!(query.contains(&("redirect_uri".into(), "https://t.example/cb".into())));
        assert!(!ig.as_str().contains("shh"), "the secret never goes to the browser");

        let fb = client(None).authorize_url(Flavour::Facebook, &app, "https://t.example/cb", "s2");
        assert_eq!(fb.host_str(), Some("www.facebook.com"));
        assert_eq!(fb.path(), "/v25.0/dialog/oauth");
    }

    #[test]
    fn one_base_url_stands_in_for_every_meta_host_keeping_the_paths() {
        let app = MetaApp::new("123", "shh");
        let ig = client(Some("http://127.0.0.1:9/sim")).authorize_url(Flavour::Instagram, &app, "x", "s");
        assert_eq!(ig.as_str().split('?').next(), Some("http://127.0.0.1:9/sim/oauth/authorize"));
    }

    #[test]
    fn permissions_read_as_a_list_or_a_comma_separated_text() {
        let list: CodeWire = serde_json::from_str(r#"{"access_token":"t","permissions":["a","b"]}"#).unwrap();
        let text: CodeWire = serde_json::from_str(r#"{"access_token":"t","permissions":"a, b"}"#).unwrap();
        assert_eq!(list.permissions, ["a", "b"]);
        assert_eq!(text.permissions, ["a", "b"]);
    }

    #[test]
    fn the_app_secret_never_shows_in_debug_output() {
        assert!(!format!("{:?}", MetaApp::new("1", "very secret")).contains("very secret"));
    }
}
