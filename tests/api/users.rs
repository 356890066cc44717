use tidemark::db::users::{User, UserChangeError};
use tidemark::domain::Role;

use crate::helpers::{PASSWORD, browser, spawn_app};

#[tokio::test]
async fn an_admin_adds_a_viewer_who_can_sign_in_but_change_nothing() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;

    let response = app
        .post_form(
            &admin,
            "/users",
            "/users",
            &[("username", "Vera"), ("role", "viewer"), ("password", "viewer password 1")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let list = app.get_text(&admin, "/users?notice=user-created").await;
    assert!(list.contains("The user is added"));
    assert!(list.contains(">vera"));

    let viewer = browser();
    assert_eq!(app.login_with(&viewer, "vera", "viewer password 1").await.status(), 303);
    assert_eq!(app.get(&viewer, "/").await.status(), 200);
    assert_eq!(app.get(&viewer, "/users").await.status(), 403);
}

#[tokio::test]
async fn the_new_user_form_explains_what_is_wrong_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;

    let taken = app
        .post_form(
            &admin,
            "/users",
            "/users",
            &[("username", "ADA"), ("role", "viewer"), ("password", "long enough pw")],
        )
        .await;
    assert_eq!(taken.status(), 422);
    assert!(taken.text().await.unwrap().contains("The username ada is taken."));

    let weak = app
        .post_form(&admin, "/users", "/users", &[("username", "bob"), ("role", "viewer"), ("password", "short")])
        .await;
    assert_eq!(weak.status(), 422);
    let html = weak.text().await.unwrap();
    assert!(html.contains("at least 12 characters"));
    assert!(html.contains("value=\"bob\""), "the username is kept");
    assert!(!html.contains("value=\"short\""), "the password is never echoed");

    let guessable = app
        .post_form(
            &admin,
            "/users",
            "/users",
            &[("username", "bob"), ("role", "viewer"), ("password", "qwertyuiop123")],
        )
        .await;
    assert_eq!(guessable.status(), 422);
    assert!(guessable.text().await.unwrap().contains("too easy to guess"));

    let too_long = "é".repeat(40);
    let overlong = app
        .post_form(&admin, "/users", "/users", &[("username", "bob"), ("role", "viewer"), ("password", &too_long)])
        .await;
    assert_eq!(overlong.status(), 422);
    assert!(overlong.text().await.unwrap().contains("bcrypt uses only 72"));

    let bad_role = app
        .post_form(&admin, "/users", "/users", &[("username", "bob"), ("role", "root"), ("password", "long enough pw")])
        .await;
    assert_eq!(bad_role.status(), 422);
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn the_last_admin_can_be_neither_deleted_nor_demoted() {
    let app = spawn_app().await;
    let ada = app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;

    let delete = app.post_form(&admin, "/users", &format!("/users/{ada}/delete"), &[]).await;
    assert_eq!(delete.status(), 422);
    assert!(delete.text().await.unwrap().contains("last admin"));

    let demote = app.post_form(&admin, "/users", &format!("/users/{ada}/role"), &[("role", "viewer")]).await;
    assert_eq!(demote.status(), 422);

    let mut conn = app.db.connect().await;
    let stored = User::find(&mut conn, ada).await.unwrap().unwrap();
    assert_eq!(stored.role, Role::Admin);
    assert!(matches!(User::delete(&mut conn, ada).await, Err(UserChangeError::LastAdmin)));
}

#[tokio::test]
async fn with_a_second_admin_the_first_may_step_down() {
    let app = spawn_app().await;
    let ada = app.create_user("ada", Role::Admin).await;
    app.create_user("grace", Role::Admin).await;
    let admin = app.signed_in("ada").await;

    let demote = app.post_form(&admin, "/users", &format!("/users/{ada}/role"), &[("role", "viewer")]).await;
    assert_eq!(demote.status(), 303);
    // The change ended ada's sessions; this browser got a new one, now as a viewer.
    assert_eq!(app.get(&admin, "/").await.status(), 200);
    assert_eq!(app.get(&admin, "/users").await.status(), 403);
}

#[tokio::test]
async fn a_role_change_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let bob = app.create_user("bob", Role::Viewer).await;
    let admin = app.signed_in("ada").await;
    let bob_browser = app.signed_in("bob").await;

    let promote = app.post_form(&admin, "/users", &format!("/users/{bob}/role"), &[("role", "admin")]).await;
    assert_eq!(promote.status(), 303);
    assert_eq!(app.get(&bob_browser, "/").await.status(), 303, "bob's session ended with the change");
    let bob_again = app.signed_in("bob").await;
    assert_eq!(app.get(&bob_again, "/users").await.status(), 200);
}

#[tokio::test]
async fn an_admin_sets_a_new_password_for_a_user() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let bob = app.create_user("bob", Role::Viewer).await;
    let admin = app.signed_in("ada").await;

    let response =
        app.post_form(&admin, "/users", &format!("/users/{bob}/password"), &[("password", "fresh password 2")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.login_with(&browser(), "bob", PASSWORD).await.status(), 401);
    assert_eq!(app.login_with(&browser(), "bob", "fresh password 2").await.status(), 303);
}

#[tokio::test]
async fn deleting_a_user_asks_first_then_removes_them() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let bob = app.create_user("bob", Role::Viewer).await;
    let admin = app.signed_in("ada").await;

    let confirm = app.get_text(&admin, &format!("/users/{bob}/delete")).await;
    assert!(confirm.contains("Delete user bob?"));
    let response = app.post_form(&admin, &format!("/users/{bob}/delete"), &format!("/users/{bob}/delete"), &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.get(&admin, &format!("/users/{bob}/delete")).await.status(), 404);
}

#[tokio::test]
async fn the_dashboard_counts_what_the_database_holds() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let mut conn = app.db.connect().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "WITH a AS (INSERT INTO ig_accounts (flavour, ig_user_id, username, token_ciphertext, token_nonce, token_key_version)
                    VALUES ('instagram', '17841400000000001', 'shop', '\\x00', '\\x000000000000000000000000', 1) RETURNING id),
              p AS (INSERT INTO posts (account_id, media_id, media_type, posted_at) SELECT id, m::text, 'IMAGE', now() FROM a, generate_series(1, 3) m RETURNING id)
         INSERT INTO post_snapshots (post_id, captured_at, reach) SELECT id, now() - (n || ' hours')::interval, 10 FROM p, generate_series(1, 4) n",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let html = app.get_text(&app.signed_in("ada").await, "/").await;
    assert!(html.contains("<span>1 account, 1 syncing</span>"), "{html}");
    assert!(html.contains("<span>3 posts tracked</span>"));
    assert!(html.contains("<span>12 measurements recorded</span>"));
}

#[tokio::test]
async fn the_dashboard_adds_up_the_accounts_counts_it_keeps_and_counts_everything_when_most_moved() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let mut conn = app.db.connect().await;
    // Three accounts with 1, 2 and 3 posts of 4 snapshots each.
    for n in 1..=3 {
        crate::helpers::execute(
            &mut conn,
            &format!(
                "WITH a AS (INSERT INTO ig_accounts (flavour, ig_user_id, username, token_ciphertext, token_nonce, token_key_version)
                            VALUES ('instagram', '1784140000000000{n}', 'shop{n}', '\\x00', '\\x000000000000000000000000', 1) RETURNING id),
                      p AS (INSERT INTO posts (account_id, media_id, media_type, posted_at) SELECT id, ({n} * 10 + m)::text, 'IMAGE', now() FROM a, generate_series(1, {n}) m RETURNING id)
                 INSERT INTO post_snapshots (post_id, captured_at, reach) SELECT id, now() - (h || ' hours')::interval, 10 FROM p, generate_series(1, 4) h"
            ),
        )
        .await;
    }
    let admin = app.signed_in("ada").await;
    let html = app.get_text(&admin, "/").await;
    assert!(html.contains("<span>6 posts tracked</span>") && html.contains("<span>24 measurements recorded</span>"), "{html}");
    // Each account's page counts its own rows, which the dashboard then keeps.
    let first = app.count("SELECT min(id) AS n FROM ig_accounts").await;
    for id in first..first + 3 {
        assert_eq!(app.get(&admin, &format!("/accounts/{id}")).await.status(), 200);
    }
    // A snapshot written behind the triggers' back to the second account: a count of everything
    // would see it, the second account's kept count does not.
    let mut quiet = app.db.connect().await;
    crate::helpers::execute(&mut quiet, "SET session_replication_role = replica").await;
    let one_more = |account: i64| {
        format!(
            "INSERT INTO post_snapshots (post_id, captured_at, reach) \
             SELECT min(id), now(), 11 FROM posts WHERE account_id = {account}"
        )
    };
    crate::helpers::execute(&mut quiet, &one_more(first + 1)).await;
    // A real write to the first account: its count alone is made again and the three added up.
    crate::helpers::execute(&mut conn, &one_more(first)).await;
    let html = app.get_text(&admin, "/").await;
    assert!(html.contains("<span>25 measurements recorded</span>"), "added up from the kept counts: {html}");
    // A change every account's counts depend on: most are missing, so everything is counted.
    crate::helpers::execute(&mut conn, "UPDATE settings SET lookback_days = lookback_days").await;
    let html = app.get_text(&admin, "/").await;
    assert!(html.contains("<span>26 measurements recorded</span>"), "counted whole: {html}");
}
