//! Read-only links: an admin makes one for an account's overview; whoever holds it sees that
//! account only, without a sign-in, until it expires or is revoked.

use tidemark::domain::Role;

use crate::helpers::{TestApp, browser, spawn_app};

const BAKERY: usize = 0;
const STUDIO: usize = 1;

/// Makes a link from the account page `here` and returns its path, read from the page that
/// shows it once.
async fn make_link(app: &TestApp, admin: &reqwest::Client, here: &str, form: &[(&str, &str)]) -> String {
    let made = app.post_form(admin, here, &format!("{here}/shares"), form).await;
    assert_eq!(made.status(), 200);
    let page = made.text().await.unwrap();
    let start = page.find("/shared/").expect("the page shows the link");
    page[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c)).collect()
}

#[tokio::test]
async fn a_shared_link_shows_one_accounts_overview_to_anyone_until_it_is_revoked() {
    let app = spawn_app().await;
    let bakery = app.connect(BAKERY).await;
    app.connect(STUDIO).await;
    app.run_sync().await;
    let admin = app.admin().await;
    let here = format!("/accounts/{}", bakery.id);

    let form = [("span", "30"), ("expires", "7"), ("label", "<i>the owner</i>"), ("from", ""), ("to", "")];
    let path = make_link(&app, &admin, &here, &form).await;
    assert_eq!(path.len(), "/shared/".len() + 43, "a 256-bit secret: {path}");
    let secret = path.trim_start_matches("/shared/");
    let hashed =
        format!("SELECT count(*) AS n FROM shared_links WHERE token_hash = sha256(convert_to('{secret}', 'UTF8'))");
    assert_eq!(app.count(&hashed).await, 1, "what is stored is the secret's SHA-256, not the secret");

    // Anyone: no session, no navigation, nothing of the other account, not indexed.
    let visitor = browser();
    let response = app.get(&visitor, &path).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-robots-tag"], "noindex, nofollow");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    assert!(response.headers().get("set-cookie").is_none(), "no cookie for a visitor");
    let page = response.text().await.unwrap();
    assert!(page.contains("@harbour.bakery") && page.contains("followers"), "the overview: {page}");
    assert!(page.contains("<meta name=\"robots\" content=\"noindex, nofollow\">"));
    for hidden in ["tidal.studio", "<nav", "/posts/", "/export/", "/definitions", "csrf_token", "Sign out"] {
        assert!(!page.contains(hidden), "the shared page shows {hidden}");
    }
    app.get(&visitor, &path).await;
    assert_eq!(app.count("SELECT views AS n FROM shared_links").await, 2, "every view is counted");

    // The account page lists it, its label escaped, with its views; revoking ends it at once.
    let listed = app.get_text(&admin, &here).await;
    assert!(listed.contains("&#60;i&#62;the owner&#60;/i&#62;") && listed.contains("the last 30 days"), "{listed}");
    assert!(listed.contains("<td class=\"num\">2</td>"), "both views, though the page was kept before them");
    app.get(&visitor, &path).await;
    assert!(app.get_text(&admin, &here).await.contains("<td class=\"num\">3</td>"), "a view since is shown at once");
    let id = app.count("SELECT id AS n FROM shared_links").await;
    let revoked = app.post_form(&admin, &here, &format!("{here}/shares/{id}/revoke"), &[]).await;
    assert_eq!(revoked.status(), 303);
    assert!(!app.get_text(&admin, &here).await.contains("/revoke\""), "the revoked link has no Revoke button");
    assert_eq!(app.get(&visitor, &path).await.status(), 404);
    assert_eq!(app.count("SELECT views AS n FROM shared_links").await, 3, "a refused view is not counted");
    let again = app.post_form(&admin, &here, &format!("{here}/shares/{id}/revoke"), &[]).await;
    assert_eq!(again.status(), 404, "a revoked link cannot be revoked twice");
}

#[tokio::test]
async fn wrong_expired_and_other_accounts_links_show_nothing_and_viewers_make_none() {
    let app = spawn_app().await;
    let bakery = app.connect(BAKERY).await;
    let studio = app.connect(STUDIO).await;
    let admin = app.admin().await;
    let here = format!("/accounts/{}", bakery.id);
    let form = [("span", "period"), ("from", "2026-11-01"), ("to", "2026-11-30"), ("expires", "30"), ("label", "")];
    let path = make_link(&app, &admin, &here, &form).await;
    let visitor = browser();
    let page = app.get_text(&visitor, &path).await;
    assert!(page.contains("1 Nov 2026 – 30 Nov 2026"), "a fixed period: {page}");

    for wrong in ["/shared/nothing", "/shared/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        assert_eq!(app.get(&visitor, wrong).await.status(), 404, "{wrong}");
    }
    // A link belongs to its account: the studio's page cannot revoke the bakery's link.
    let id = app.count("SELECT id AS n FROM shared_links").await;
    let studio_page = format!("/accounts/{}", studio.id);
    let other = app.post_form(&admin, &studio_page, &format!("{studio_page}/shares/{id}/revoke"), &[]).await;
    assert_eq!(other.status(), 404);
    assert_eq!(app.get(&visitor, &path).await.status(), 200);

    let mut conn = app.db.connect().await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("UPDATE shared_links SET expires_at = now() - interval '1 second'"),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(app.get(&visitor, &path).await.status(), 404, "an expired link shows nothing");
    assert!(app.get_text(&admin, &here).await.contains("expired"));

    // Bad choices are refused with what is wrong, and nothing is made.
    for (field, value) in [("span", "3650"), ("expires", "0"), ("label", &"x".repeat(101))] {
        let mut form = vec![("span", "30"), ("expires", "30"), ("label", "ok")];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let refused = app.post_form(&admin, &here, &format!("{here}/shares"), &form).await;
        assert_eq!(refused.status(), 400, "{field}={value}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM shared_links").await, 1);

    app.create_user("vera", Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    assert!(!app.get_text(&viewer, &here).await.contains("Make a link"), "no form for a viewer");
    let refused = app.post_form(&viewer, &here, &format!("{here}/shares"), &[("span", "30"), ("expires", "30")]).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(app.count("SELECT count(*) AS n FROM shared_links").await, 1);
}
