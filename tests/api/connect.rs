//! Connecting through Meta's dialogs (the simulator's, over HTTP), disconnecting, and the
//! token's health.

use reqwest::{Client, Response};
use tidemark::db::accounts::Account;
use tidemark::domain::{AccountStatus, Flavour, Role};
use tidemark::simulator::oauth::INSTAGRAM_APP_ID;

use crate::helpers::{AppOptions, TestApp, location, spawn_app, spawn_app_with};

const BAKERY: usize = 0;
const STUDIO: usize = 1;

/// A client that keeps no cookies and follows no redirects: the browser's trips to Meta.
fn meta_browser() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// How the user answers Meta's dialog.
struct Answer<'a> {
    allow: bool,
    accounts: &'a [usize],
    /// Scopes to untick.
    withhold: &'a [&'a str],
}

const ALLOW: Answer<'static> = Answer { allow: true, accounts: &[], withhold: &[] };

/// Starts the dialog as `admin`, answers it on the simulator, and returns the URL Meta sends
/// the browser back to (without the `#_` a browser drops).
async fn through_dialog(app: &TestApp, admin: &Client, flavour: Flavour, answer: &Answer<'_>) -> String {
    let start = app.get(admin, &format!("/accounts/connect/{flavour}")).await;
    assert_eq!(start.status(), 303, "the dialog starts with a redirect");
    let dialog = url::Url::parse(&location(&start)).unwrap();
    assert!(dialog.as_str().starts_with(app.sim.base_url()), "sent to Meta (the simulator): {dialog}");
    let page = meta_browser().get(dialog.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Allow"), "{html}");

    let given: Vec<(String, String)> = dialog.query_pairs().into_owned().collect();
    let param = |name: &str| given.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let mut decide = url::Url::parse(&format!("{}/oauth/decide", app.sim.base_url())).unwrap();
    {
        let mut pairs = decide.query_pairs_mut();
        for name in ["client_id", "redirect_uri", "state"] {
            pairs.append_pair(name, &param(name));
        }
        pairs.append_pair("flavour", flavour.as_str());
        let default = match flavour {
            Flavour::Instagram => [BAKERY],
            Flavour::Facebook => [STUDIO],
        };
        let accounts = if answer.accounts.is_empty() { &default[..] } else { answer.accounts };
        for account in accounts {
            pairs.append_pair("account", &account.to_string());
        }
        for scope in param("scope").split(',').filter(|s| !answer.withhold.contains(s)) {
            pairs.append_pair("scope", scope);
        }
        pairs.append_pair("decision", if answer.allow { "allow" } else { "cancel" });
    }
    let back = meta_browser().get(decide).send().await.unwrap();
    assert_eq!(back.status(), 302);
    let mut url = url::Url::parse(&location(&back)).unwrap();
    url.set_fragment(None);
    assert!(url.as_str().starts_with(&app.address), "back to Tidemark: {url}");
    url.to_string()
}

async fn follow(admin: &Client, url: &str) -> Response {
    admin.get(url).send().await.unwrap()
}

async fn accounts(app: &TestApp) -> Vec<Account> {
    let mut conn = app.db.connect().await;
    Account::list(&mut conn).await.unwrap()
}

#[tokio::test]
async fn connecting_with_instagram_through_metas_dialog_stores_the_account_its_scopes_and_ids() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let callback = through_dialog(&app, &admin, Flavour::Instagram, &ALLOW).await;
    let done = follow(&admin, &callback).await;
    assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
    assert!(location(&done).ends_with("?notice=connected"), "{}", location(&done));

    let stored = accounts(&app).await;
    assert_eq!(stored.len(), 1);
    let account = &stored[0];
    assert_eq!(account.username, app.sim.username(BAKERY));
    assert_eq!(account.ig_user_id, app.sim.ig_user_id(BAKERY));
    assert_eq!(account.status, AccountStatus::Active);
    assert_eq!(
        account.scopes(),
        [
            "instagram_business_basic",
            "instagram_business_manage_insights",
            "instagram_business_content_publish",
            "instagram_business_manage_comments"
        ]
    );
    assert!(account.app_user_id.is_some(), "the id Meta's callbacks name is kept");
    assert!(account.token_expires_at.is_some(), "the long-lived token's expiry is known");

    let page = app.get_text(&admin, &location(&done)).await;
    assert!(page.contains("instagram_business_manage_insights"), "the scopes are shown");
    assert_eq!(app.run_sync().await.errors, Vec::<String>::new(), "the long-lived token syncs");
}

#[tokio::test]
async fn connecting_with_facebook_offers_the_pages_accounts_then_connects_the_chosen_ones() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let callback = through_dialog(&app, &admin, Flavour::Facebook, &ALLOW).await;
    let to_choice = follow(&admin, &callback).await;
    assert_eq!(to_choice.status(), 303);
    let choose = location(&to_choice);
    assert!(choose.starts_with("/accounts/connect/facebook/choose?choice="), "{choose}");
    let page = app.get_text(&admin, &choose).await;
    let username = app.sim.username(STUDIO);
    assert!(page.contains(&format!("@{username}")), "{page}");
    assert!(accounts(&app).await.is_empty(), "nothing stored before the choice");

    let choice = choose.split("choice=").nth(1).unwrap().to_owned();
    let none = app.post_form(&admin, &choose, "/accounts/connect/facebook/choose", &[("choice", &choice)]).await;
    assert_eq!(none.status(), 422, "choosing nothing is explained");
    let ig_user_id = app.sim.ig_user_id(STUDIO);
    let done = app
        .post_form(
            &admin,
            &choose,
            "/accounts/connect/facebook/choose",
            &[("choice", &choice), ("account", &ig_user_id)],
        )
        .await;
    assert_eq!(done.status(), 303);
    let stored = accounts(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].flavour, Flavour::Facebook);
    assert!(stored[0].scopes().contains(&"instagram_manage_insights".to_owned()));
    assert!(stored[0].app_user_id.is_some());

    let again = app
        .post_form(
            &admin,
            "/accounts",
            "/accounts/connect/facebook/choose",
            &[("choice", &choice), ("account", &ig_user_id)],
        )
        .await;
    assert_eq!(again.status(), 410, "a choice is used once");
    assert_eq!(app.run_sync().await.errors, Vec::<String>::new());
}

#[tokio::test]
async fn a_cancelled_dialog_ends_on_a_clear_page_and_stores_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let callback =
        through_dialog(&app, &admin, Flavour::Instagram, &Answer { allow: false, accounts: &[], withhold: &[] }).await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    let page = follow(&admin, &callback).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Nothing was connected") && html.contains("cancelled"), "{html}");
    assert!(accounts(&app).await.is_empty());
}

#[tokio::test]
async fn a_withheld_scope_is_explained_in_plain_words_and_nothing_is_stored() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let answer = Answer { allow: true, accounts: &[], withhold: &["instagram_business_manage_insights"] };
    let callback = through_dialog(&app, &admin, Flavour::Instagram, &answer).await;
    let page = follow(&admin, &callback).await;
    assert_eq!(page.status(), 422);
    let html = page.text().await.unwrap();
    assert!(html.contains("instagram_business_manage_insights"), "{html}");
    assert!(html.contains("read the reach, views"), "says what it is for: {html}");
    assert!(accounts(&app).await.is_empty());
}

#[tokio::test]
async fn declining_only_the_publishing_permission_still_connects_the_account() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let answer = Answer { allow: true, accounts: &[], withhold: &["instagram_business_content_publish"] };
    let callback = through_dialog(&app, &admin, Flavour::Instagram, &answer).await;
    let page = follow(&admin, &callback).await;
    assert!(page.status().is_success() || page.status() == 303, "{}", page.status());
    let stored = accounts(&app).await;
    assert_eq!(stored.len(), 1, "analytics need only the required permissions");
    assert!(!stored[0].scopes().iter().any(|s| s == "instagram_business_content_publish"));

    // Planning a post for it says what to do instead of failing hours later.
    let file = crate::publishing::upload(&app, "a.jpg", &tidemark::publishing::samples::jpeg(800, 800, 1));
    let plan = crate::publishing::composition(stored[0].id, tidemark::domain::PublicationKind::Feed, "x", vec![file]);
    let err = app.publishing.compose(plan).await.unwrap_err();
    assert!(err.to_string().contains("re-connect it and allow Tidemark to publish"), "{err}");
}

#[tokio::test]
async fn a_replayed_foreign_or_forged_state_and_a_reused_code_store_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let callback = through_dialog(&app, &admin, Flavour::Instagram, &ALLOW).await;

    // Another admin's browser cannot finish this admin's dialog.
    app.create_user("other.admin", Role::Admin).await;
    let other = app.signed_in("other.admin").await;
    let foreign = follow(&other, &callback).await;
    assert_eq!(foreign.status(), 400, "a state is bound to the session that started the dialog");
    // …and that attempt used the state up.
    assert_eq!(follow(&admin, &callback).await.status(), 400, "a state works once");

    let forged = callback.replace("state=", "state=forged");
    assert_eq!(follow(&admin, &forged).await.status(), 400);
    assert!(accounts(&app).await.is_empty());

    // A code used once is refused by Meta the second time, even with a fresh state.
    let first = through_dialog(&app, &admin, Flavour::Instagram, &ALLOW).await;
    assert_eq!(follow(&admin, &first).await.status(), 303);
    let fresh = through_dialog(&app, &admin, Flavour::Instagram, &ALLOW).await;
    let state =
        |url: &str| url.split("state=").nth(1).unwrap_or_default().split('&').next().unwrap_or_default().to_owned();
    let reused = first.replace(&state(&first), &state(&fresh));
    let refused = follow(&admin, &reused).await;
    assert_eq!(refused.status(), 502);
    assert!(refused.text().await.unwrap().contains("already used"));
    assert_eq!(accounts(&app).await.len(), 1, "only the first connection");
}

#[tokio::test]
async fn without_a_configured_app_the_button_is_hidden_and_the_dialog_is_not_found() {
    let app = spawn_app_with(AppOptions { meta_apps: false, ..AppOptions::default() }).await;
    let admin = app.admin().await;
    assert!(!app.get_text(&admin, "/accounts").await.contains("Connect with Instagram"));
    assert_eq!(app.get(&admin, "/accounts/connect/instagram").await.status(), 404);
    assert_eq!(app.get(&admin, "/accounts/connect/facebook/callback?code=x&state=y").await.status(), 404);

    let configured = spawn_app().await;
    let admin = configured.admin().await;
    let page = configured.get_text(&admin, "/accounts").await;
    assert!(page.contains("Connect with Instagram") && page.contains("Connect with Facebook"));
    assert!(!page.contains(INSTAGRAM_APP_ID), "the page links to Tidemark, which redirects");
}

#[tokio::test]
async fn disconnecting_a_facebook_account_revokes_at_meta_deletes_the_token_and_keeps_the_history() {
    let app = spawn_app().await;
    let studio = app.connect(STUDIO).await;
    app.run_sync().await;
    let posts = app.count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {}", studio.id)).await;
    assert!(posts > 0);
    let admin = app.admin().await;
    let page = format!("/accounts/{}", studio.id);
    let response = app.post_form(&admin, &page, &format!("/accounts/{}/disconnect", studio.id), &[]).await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).contains("notice=disconnected-revoked"), "{}", location(&response));

    let stored = accounts(&app).await.remove(0);
    assert_eq!(stored.status, AccountStatus::Disconnected);
    assert!(stored.token().is_none(), "the token is deleted");
    assert!(stored.token_expires_at.is_none() && stored.scopes().is_empty());
    assert_eq!(app.count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {}", studio.id)).await, posts);
    for token in app.sim_tokens_of(STUDIO) {
        let answer = reqwest::get(format!("{}/v25.0/me?access_token={token}", app.sim.base_url())).await.unwrap();
        assert_eq!(answer.status(), 400, "Meta no longer honours the token");
    }
    assert_eq!(app.run_sync().await.accounts, 0, "a disconnected account is not synced");
    let enable = app.post_form(&admin, &page, &format!("/accounts/{}/enable", studio.id), &[]).await;
    assert_eq!(enable.status(), 409, "it must be connected again, not enabled");

    // Connecting it again resumes the same account and its history.
    let callback = through_dialog(&app, &admin, Flavour::Facebook, &ALLOW).await;
    let choose = location(&follow(&admin, &callback).await);
    let choice = choose.split("choice=").nth(1).unwrap().to_owned();
    let ig_user_id = app.sim.ig_user_id(STUDIO);
    let fields = [("choice", choice.as_str()), ("account", ig_user_id.as_str())];
    assert_eq!(app.post_form(&admin, &choose, "/accounts/connect/facebook/choose", &fields).await.status(), 303);
    let again = accounts(&app).await.remove(0);
    assert_eq!((again.id, again.status), (studio.id, AccountStatus::Active));
    assert!(again.disconnected_at.is_none());
    assert!(app.count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {}", studio.id)).await >= posts);
}

#[tokio::test]
async fn disconnecting_an_instagram_account_says_where_to_remove_the_app() {
    let app = spawn_app().await;
    let bakery = app.connect(BAKERY).await;
    let admin = app.admin().await;
    let page = format!("/accounts/{}", bakery.id);
    let response = app.post_form(&admin, &page, &format!("/accounts/{}/disconnect", bakery.id), &[]).await;
    let shown = app.get_text(&admin, &location(&response)).await;
    assert!(shown.contains("remove Tidemark under Settings"), "{shown}");
    assert!(accounts(&app).await[0].token().is_none());
}

#[tokio::test]
async fn a_token_the_key_cannot_open_marks_the_account_for_reconnecting_with_the_reason() {
    let app = spawn_app().await;
    let bakery = app.connect(BAKERY).await;
    // As after a lost or changed TIDEMARK_TOKEN_KEY: the ciphertext no longer opens.
    app.count("WITH c AS (UPDATE ig_accounts SET token_ciphertext = '\\x00112233445566778899aabbccddeeff0011' RETURNING 1) SELECT count(*) AS n FROM c")
        .await;
    let summary = app.run_sync().await;
    assert_eq!(summary.errors.len(), 1);
    assert!(summary.errors[0].contains("cannot be decrypted"), "{:?}", summary.errors);
    let stored = accounts(&app).await.remove(0);
    assert_eq!(stored.status, AccountStatus::NeedsReauth);
    let admin = app.admin().await;
    let page = app.get_text(&admin, &format!("/accounts/{}", bakery.id)).await;
    assert!(page.contains("cannot be decrypted with the current TIDEMARK_TOKEN_KEY"), "shown on the page");
}
