//! Test helpers: a fresh database per test (cloned from a migrated template, dropped on
//! `Drop`), the real application on a random port, and a cookie-keeping client.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rand::RngCore;
use reqwest::{Client, Response, redirect};
use sha2::{Digest, Sha256};
use tidemark::config::{SessionSettings, Settings};
use tidemark::crypto::TokenKey;
use tidemark::db::users::{NewUser, Role, User, UserId};
use tidemark::startup::Application;

pub const PASSWORD: &str = "correct horse battery";

fn server_url() -> String {
    std::env::var("TIDEMARK_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `postgres://…/postgres` → `postgres://…/{name}`
fn url_for(name: &str) -> String {
    let server = server_url();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

async fn admin_connection() -> AsyncPgConnection {
    AsyncPgConnection::establish(&server_url())
        .await
        .expect("the test PostgreSQL server is reachable (set TIDEMARK_TEST_DATABASE_URL or run scripts/test)")
}

async fn execute(conn: &mut AsyncPgConnection, sql: &str) {
    diesel::sql_query(sql).execute(conn).await.unwrap_or_else(|err| panic!("{sql}: {err}"));
}

/// The template's name changes whenever a migration's text does.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("migrations folder").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        for file in ["up.sql", "down.sql"] {
            hasher.update(entry.file_name().to_string_lossy().as_bytes());
            hasher.update(std::fs::read(entry.path().join(file)).unwrap_or_default());
        }
    }
    format!("tidemark_template_{}", &hex::encode(hasher.finalize())[..16])
}

/// Creates the migrated template once; an advisory lock makes concurrent test processes wait.
async fn ensure_template(conn: &mut AsyncPgConnection) -> String {
    let name = template_name();
    execute(conn, "SELECT pg_advisory_lock(727274)").await;
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let found: Found = diesel::sql_query(format!("SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"))
        .get_result(conn)
        .await
        .expect("query pg_database");
    if found.n == 0 {
        // Built under another name and renamed, so a crash never leaves a half-made template.
        let building = format!("{name}_building");
        execute(conn, &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).await;
        execute(conn, &format!("CREATE DATABASE {building}")).await;
        tidemark::db::run_migrations(&url_for(&building)).await.expect("migrations apply to the template");
        execute(conn, &format!("ALTER DATABASE {building} RENAME TO {name}")).await;
    }
    execute(conn, "SELECT pg_advisory_unlock(727274)").await;
    name
}

/// A database of its own for one test.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A migrated database.
    pub async fn new() -> Self {
        let mut conn = admin_connection().await;
        let template = ensure_template(&mut conn).await;
        Self::create(&mut conn, Some(&template)).await
    }

    /// A database with no schema at all.
    pub async fn empty() -> Self {
        let mut conn = admin_connection().await;
        Self::create(&mut conn, None).await
    }

    async fn create(conn: &mut AsyncPgConnection, template: Option<&str>) -> Self {
        let mut bytes = [0u8; 6];
        rand::rng().fill_bytes(&mut bytes);
        let name = format!("tidemark_test_{}", hex::encode(bytes));
        let sql = match template {
            Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
            None => format!("CREATE DATABASE {name}"),
        };
        // Cloning fails while another session is connected to the template; retry briefly.
        for attempt in 0.. {
            match diesel::sql_query(&sql).execute(conn).await {
                Ok(_) => break,
                Err(err) if attempt < 50 => {
                    let _ = err;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => panic!("{sql}: {err}"),
            }
        }
        let url = url_for(&name);
        Self { name, url }
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url).await.expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any async context we can borrow: use a small runtime of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async {
                let mut conn = admin_connection().await;
                execute(&mut conn, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
            });
        })
        .join();
    }
}

pub struct TestApp {
    pub address: String,
    pub db: TestDb,
}

pub struct AppOptions {
    pub cookie_secure: bool,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions { cookie_secure: false }).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let db = TestDb::new().await;
    let mut secret = vec![0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let settings = Settings {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".parse().expect("address"),
        session: SessionSettings {
            secret,
            cookie_secure: options.cookie_secure,
            idle_timeout: Duration::from_secs(3600),
            max_lifetime: Duration::from_secs(24 * 3600),
        },
        token_key: TokenKey::new([5u8; 32]),
        graph: tidemark::graph::GraphConfig::new(None, "v25.0").expect("graph config"),
    };
    let app = Application::build(settings).await.expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp { address, db }
}

/// A browser-like client: keeps cookies, does not follow redirects, asks for HTML.
pub fn browser() -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ACCEPT, "text/html,application/xhtml+xml".parse().expect("header"));
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn csrf_token_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("the page has a csrf_token field");
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_owned()
}

pub fn location(response: &Response) -> String {
    response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn create_user(&self, username: &str, role: Role) -> UserId {
        let hash = bcrypt::hash(PASSWORD, 4).expect("hash");
        let mut conn = self.db.connect().await;
        let new = NewUser { username, role: role.as_str(), password_hash: &hash };
        User::create(&mut conn, &new).await.expect("insert user").expect("username is free").id
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_text(&self, client: &Client, path: &str) -> String {
        self.get(client, path).await.text().await.expect("body")
    }

    /// Posts a form, taking a valid CSRF token from the page at `token_from`.
    pub async fn post_form(&self, client: &Client, token_from: &str, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = csrf_token_in(&self.get_text(client, token_from).await);
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        form.extend_from_slice(fields);
        client.post(self.url(path)).form(&form).send().await.expect("POST")
    }

    pub async fn login_with(&self, client: &Client, username: &str, password: &str) -> Response {
        self.post_form(client, "/login", "/login", &[("username", username), ("password", password)]).await
    }

    /// A signed-in browser for `username` (password [`PASSWORD`]).
    pub async fn signed_in(&self, username: &str) -> Client {
        let client = browser();
        let response = self.login_with(&client, username, PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-in as {username} succeeds");
        client
    }

    pub async fn user_count(&self) -> i64 {
        let mut conn = self.db.connect().await;
        User::count(&mut conn).await.expect("count users")
    }
}
