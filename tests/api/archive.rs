//! The full archive and starting over.

use std::collections::BTreeSet;
use std::io::{Cursor, Read};
use std::process::Command;

use tidemark::domain::Role;
use tidemark::services::archive::{NOT_EXPORTED, TABLES, WITHHELD};

use crate::helpers::{TestApp, spawn_app};

const BAKERY: usize = 0;
const COVE: usize = 2;

/// (file name, contents) of every file in a zip.
fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a valid zip");
    (0..zip.len())
        .map(|i| {
            let mut file = zip.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            (file.name().unwrap().into_owned(), text)
        })
        .collect()
}

async fn synced() -> TestApp {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.connect(COVE).await;
    app.run_sync().await;
    app.create_user("vera", Role::Viewer).await;
    app
}

#[tokio::test]
async fn the_archive_holds_every_table_with_a_manifest_matching_the_database_and_no_secret() {
    let app = synced().await;
    let admin = app.admin().await;
    let response = app.get(&admin, "/export/archive.zip").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let files = unzip(&response.bytes().await.unwrap());
    let manifest: serde_json::Value =
        serde_json::from_str(&files.iter().find(|(n, _)| n == "manifest.json").expect("a manifest").1).unwrap();
    assert_eq!(manifest["format"], "tidemark-archive");
    assert!(manifest["schema_version"].as_str().unwrap().starts_with("2026"));

    let tables = manifest["tables"].as_array().unwrap();
    assert_eq!(tables.len(), TABLES.len());
    for table in tables {
        let name = table["table"].as_str().unwrap();
        let text = &files.iter().find(|(n, _)| *n == format!("{name}.csv")).expect("a CSV per table").1;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        let described: Vec<String> =
            table["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(header, described, "{name}: the manifest describes the columns in order");
        let rows = reader.records().count() as i64;
        assert_eq!(rows, table["rows"].as_i64().unwrap(), "{name}");
        assert_eq!(rows, app.count(&format!("SELECT count(*) AS n FROM {name}")).await, "{name}: every row");
    }
    let everything: String = files.iter().map(|(_, text)| text.as_str()).collect();
    for token in app.sim_tokens_of(BAKERY).iter().chain(&app.sim_tokens_of(COVE)) {
        assert!(!everything.contains(token.as_str()), "a token in the archive");
    }
    assert!(!everything.contains("$2b$") && !everything.contains("$2y$"), "a password hash in the archive");
    assert!(!everything.contains("token_ciphertext") && !everything.contains("password_hash"));
}

#[tokio::test]
async fn every_column_of_every_table_is_described_or_deliberately_withheld() {
    let app = spawn_app().await;
    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.connect().await;
    let columns: Vec<Column> = diesel::sql_query(
        // A partition's rows are its table's (the snapshots' months): the table is what is exported.
        "SELECT table_name::text AS table_name, column_name::text AS column_name FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition)",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let mut missing = BTreeSet::new();
    for column in &columns {
        let table = column.table_name.as_str();
        if NOT_EXPORTED.iter().any(|(t, _)| *t == table) {
            continue;
        }
        let Some(exported) = TABLES.iter().find(|t| t.name == table) else {
            missing.insert(format!("table {table}"));
            continue;
        };
        let known = exported.columns.iter().any(|(c, _)| *c == column.column_name)
            || WITHHELD.iter().any(|(t, c, _)| *t == table && *c == column.column_name);
        if !known {
            missing.insert(format!("{table}.{}", column.column_name));
        }
    }
    assert!(missing.is_empty(), "say what these are, or why they are withheld: {missing:?}");
    for (table, column, _) in WITHHELD {
        let exported = TABLES.iter().find(|t| t.name == *table).unwrap();
        assert!(!exported.columns.iter().any(|(c, _)| c == column), "{table}.{column} is withheld and exported");
    }
}

#[tokio::test]
async fn an_accounts_archive_holds_its_rows_only() {
    let app = synced().await;
    let bakery = app
        .count(&format!("SELECT id AS n FROM ig_accounts WHERE ig_user_id = '{}'", app.sim.ig_user_id(BAKERY)))
        .await;
    let admin = app.admin().await;
    let response = app.get(&admin, &format!("/accounts/{bakery}/archive.zip")).await;
    assert_eq!(response.status(), 200);
    let files = unzip(&response.bytes().await.unwrap());
    let names: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(!names.contains("users.csv") && !names.contains("settings.csv"), "{names:?}");
    let posts = &files.iter().find(|(n, _)| n == "posts.csv").unwrap().1;
    let rows = csv::Reader::from_reader(posts.as_bytes()).records().count() as i64;
    assert_eq!(rows, app.count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {bakery}")).await);
    assert!(rows > 0);
    let accounts = &files.iter().find(|(n, _)| n == "ig_accounts.csv").unwrap().1;
    assert_eq!(csv::Reader::from_reader(accounts.as_bytes()).records().count(), 1);
    assert_eq!(app.get(&admin, "/accounts/99999/archive.zip").await.status(), 404);
}

#[tokio::test]
async fn the_export_command_writes_the_archive_whole_or_not_at_all() {
    let app = synced().await;
    let dir = std::env::temp_dir().join(format!("tidemark-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join(format!("{}.zip", app.db.name));
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_tidemark"))
            .args(args)
            .env("DATABASE_URL", &app.db.url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (ok, err) = run(&["export", "--output", target.to_str().unwrap()]);
    assert!(ok, "{err}");
    let files = unzip(&std::fs::read(&target).unwrap());
    assert!(files.iter().any(|(n, _)| n == "manifest.json"));
    assert!(files.iter().any(|(n, _)| n == "post_snapshots.csv"));

    let (ok, err) = run(&["export", "--output", "/nonexistent-dir/archive.zip"]);
    assert!(!ok && err.lines().count() == 1 && err.contains("cannot write"), "{err}");
    let (ok, err) = run(&["export", "--output", target.to_str().unwrap(), "--account", "999"]);
    assert!(!ok && err.contains("no account 999"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn starting_over_asks_for_the_phrase_then_deletes_every_account_and_keeps_the_users() {
    let app = synced().await;
    let admin = app.admin().await;
    let users = app.user_count().await;
    let wrong = app.post_form(&admin, "/data", "/data/delete-everything", &[("confirm", "yes")]).await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("Nothing was deleted"));
    assert_eq!(app.count("SELECT count(*) AS n FROM ig_accounts").await, 2);

    let done = app.post_form(&admin, "/data", "/data/delete-everything", &[("confirm", "Delete everything")]).await;
    assert_eq!(done.status(), 303);
    for table in
        ["ig_accounts", "posts", "post_snapshots", "post_scores", "account_snapshots", "sync_runs", "dropped_metrics"]
    {
        assert_eq!(app.count(&format!("SELECT count(*) AS n FROM {table}")).await, 0, "{table}");
    }
    assert_eq!(app.user_count().await, users, "the users stay");
}
