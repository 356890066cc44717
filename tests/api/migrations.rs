use diesel::QueryableByName;
use diesel_async::RunQueryDsl;

use crate::helpers::TestDb;

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
}

async fn tables(db: &TestDb) -> Vec<String> {
    let mut conn = db.connect().await;
    let rows: Vec<TableName> = diesel::sql_query(
        "SELECT table_name::text AS table_name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.table_name).collect()
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let db = TestDb::empty().await;
    assert!(tidemark::db::run_migrations(&db.url).await.unwrap() >= 1);
    let after_up = tables(&db).await;
    for table in ["users", "ig_accounts", "posts", "post_snapshots", "account_snapshots", "sync_runs", "settings"] {
        assert!(after_up.contains(&table.to_owned()), "{table} in {after_up:?}");
    }

    tidemark::db::revert_migrations(&db.url).await.unwrap();
    assert_eq!(tables(&db).await, Vec::<String>::new(), "down.sql removes everything up.sql made");

    tidemark::db::run_migrations(&db.url).await.unwrap();
    assert_eq!(tables(&db).await, after_up);
    assert_eq!(tidemark::db::run_migrations(&db.url).await.unwrap(), 0, "nothing left to apply");
}

#[tokio::test]
async fn deleting_an_account_removes_everything_that_belongs_to_it() {
    let db = TestDb::new().await;
    let mut conn = db.connect().await;
    diesel::sql_query(
        "WITH a AS (INSERT INTO ig_accounts (flavour, ig_user_id, username, token_ciphertext, token_nonce, token_key_version)
                    VALUES ('facebook', '17841499999999999999', 'shop', '\\x00', '\\x000000000000000000000000', 1) RETURNING id),
              s AS (INSERT INTO account_snapshots (account_id, captured_at, followers_count) SELECT id, now(), 10 FROM a),
              d AS (INSERT INTO account_daily_insights (account_id, day, reach) SELECT id, current_date, 5 FROM a),
              u AS (INSERT INTO account_audience (account_id, day, dimension, key, followers) SELECT id, current_date, 'city', 'Falmouth, England', 40 FROM a),
              r AS (INSERT INTO sync_runs (account_id, trigger) SELECT id, 'manual' FROM a),
              p AS (INSERT INTO posts (account_id, media_id, media_type, posted_at) SELECT id, '18000000000000000001', 'IMAGE', now() FROM a RETURNING id),
              t AS (INSERT INTO post_thumbnails (post_id, image, fetched_at) SELECT id, '\\xffd8', now() FROM p)
         INSERT INTO post_snapshots (post_id, captured_at, reach) SELECT id, now(), 0 FROM p",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query("DELETE FROM ig_accounts").execute(&mut conn).await.unwrap();

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    for table in [
        "posts",
        "post_snapshots",
        "post_thumbnails",
        "account_snapshots",
        "account_daily_insights",
        "account_audience",
        "sync_runs",
        "account_versions",
    ] {
        let left: Count =
            diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")).get_result(&mut conn).await.unwrap();
        assert_eq!(left.n, 0, "{table} keeps rows of a deleted account");
    }
}

#[tokio::test]
async fn the_schema_refuses_a_state_the_code_does_not_know() {
    let db = TestDb::new().await;
    let mut conn = db.connect().await;
    diesel::sql_query(
        "WITH a AS (INSERT INTO ig_accounts (flavour, ig_user_id, username, token_ciphertext, token_nonce, token_key_version)
                    VALUES ('instagram', '17841400000000001', 'shop', '\\x00', '\\x000000000000000000000000', 1) RETURNING id)
         INSERT INTO sync_runs (account_id, trigger) SELECT id, 'manual' FROM a",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query("INSERT INTO users (username, role, password_hash) VALUES ('ada', 'admin', 'x')")
        .execute(&mut conn)
        .await
        .unwrap();
    for statement in [
        "UPDATE ig_accounts SET status = 'suspended'",
        "UPDATE ig_accounts SET flavour = 'threads'",
        "UPDATE users SET role = 'owner'",
        "UPDATE sync_runs SET outcome = 'queued'",
        "UPDATE sync_runs SET trigger = 'webhook'",
        "UPDATE settings SET engagement_definition = 'impressions'",
        "UPDATE settings SET timezone = 'Mars/Olympus'",
        "INSERT INTO account_audience (account_id, day, dimension, key, followers) SELECT id, current_date, 'locale', 'en_GB', 1 FROM ig_accounts",
    ] {
        assert!(diesel::sql_query(statement).execute(&mut conn).await.is_err(), "{statement} was accepted");
    }
    diesel::sql_query("UPDATE settings SET timezone = 'Europe/Berlin'").execute(&mut conn).await.unwrap();
}

#[tokio::test]
async fn an_unknown_stored_state_is_an_error_naming_it_never_a_default() {
    let db = TestDb::new().await;
    let mut conn = db.connect().await;
    // As a newer binary (or a hand edit) might leave it, past the constraint.
    diesel::sql_query("ALTER TABLE ig_accounts DROP CONSTRAINT ig_accounts_status_check")
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query(
        "INSERT INTO ig_accounts (flavour, ig_user_id, username, token_ciphertext, token_nonce, token_key_version, status)
         VALUES ('instagram', '17841400000000001', 'shop', '\\x00', '\\x000000000000000000000000', 1, 'suspended')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let err = tidemark::db::accounts::Account::list(&mut conn).await.unwrap_err();
    // The whole cause chain, as the error log writes it.
    let logged = format!("{:#}", anyhow::Error::new(err));
    assert!(logged.contains("unknown account status \"suspended\""), "{logged}");
}

#[tokio::test]
async fn a_statement_that_changes_no_row_leaves_the_data_version_and_one_that_does_moves_it() {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let db = TestDb::new().await;
    let mut conn = db.connect().await;
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT DISTINCT t.event_object_table AS name FROM information_schema.triggers t \
         WHERE t.trigger_name = t.event_object_table || '_data_version_update'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(tables.len() >= 15, "every table the pages read moves the version: {}", tables.len());
    let before: Version = diesel::sql_query("SELECT n FROM data_version").get_result(&mut conn).await.unwrap();
    for Name { name } in &tables {
        let first: Name = diesel::sql_query(format!(
            "SELECT column_name::text AS name FROM information_schema.columns WHERE table_name = '{name}' ORDER BY ordinal_position LIMIT 1"
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
        let column = first.name;
        for statement in
            [format!("UPDATE {name} SET {column} = {column} WHERE false"), format!("DELETE FROM {name} WHERE false")]
        {
            diesel::sql_query(&statement).execute(&mut conn).await.unwrap();
        }
    }
    let after: Version = diesel::sql_query("SELECT n FROM data_version").get_result(&mut conn).await.unwrap();
    assert_eq!(after.n, before.n, "statements that changed nothing moved the data version");

    diesel::sql_query("UPDATE settings SET lookback_days = 30").execute(&mut conn).await.unwrap();
    let changed: Version = diesel::sql_query("SELECT n FROM data_version").get_result(&mut conn).await.unwrap();
    assert!(changed.n > after.n, "a real change moves it");
}
