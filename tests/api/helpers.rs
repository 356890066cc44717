//! Test helpers: a fresh database per test (cloned from a migrated template, dropped on
//! `Drop`), the real application on a random port, and a cookie-keeping client.

use std::path::PathBuf;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rand::RngCore;
use reqwest::{Client, Response, redirect};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tidemark::config::{MetaApps, SessionSettings, Settings, TrustedProxies};
use tidemark::crypto::TokenKey;
use tidemark::db::accounts::Account;
use tidemark::db::changes::{self, Changes};
use tidemark::domain::{Role, Trigger, UserId};

use tidemark::db::users::{NewUser, User};
use tidemark::graph::{ClientOptions, GraphClient, GraphConfig, MetaApp};
use tidemark::publishing::PublishOptions;
use tidemark::services::{Accounts, Publishing};
use tidemark::simulator::{Simulator, SimulatorConfig, oauth};
use tidemark::startup::Application;
use tidemark::sync::{self, RunResult, Scope, SyncContext, SyncSummary};

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

pub async fn execute(conn: &mut AsyncPgConnection, sql: &str) {
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
    /// The Graph API this app talks to.
    pub sim: Simulator,
    /// The app's own sync (same pool, client and clock as its pages use).
    pub sync: Arc<SyncContext>,
    /// The app's own accounts service (the one its pages use).
    pub accounts: Arc<Accounts>,
    /// The app's own publishing service (the one its pages and scheduler use).
    pub publishing: Arc<Publishing>,
    /// The app's own inbox service.
    pub inbox: Arc<tidemark::services::inbox::Inbox>,
    /// The app's own reports service (its scheduler pass is called directly).
    pub reports: Arc<tidemark::services::Reports>,
    /// The app's own alerts service (its evaluation is called directly).
    pub alerts: Arc<tidemark::services::Alerts>,
    /// The passes the app's scheduler runs every minute.
    pub background: Arc<tidemark::services::Background>,
    /// What the database told the app changed, when it keeps sessions.
    pub changes: Option<Arc<Changes>>,
    pub token_key: TokenKey,
    /// This app's TIDEMARK_DATA_DIR (removed when the app is dropped).
    pub data_dir: TempDir,
    /// What the app was built with (a second server is built with the same).
    settings: Settings,
}

/// A second `serve` process beside a [`TestApp`], as behind a load balancer: the same
/// database, simulator, secrets and data directory, its own memory and port.
pub struct SecondServer {
    pub address: String,
    pub sync: Arc<SyncContext>,
    pub background: Arc<tidemark::services::Background>,
    pub changes: Option<Arc<Changes>>,
}

impl SecondServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A sync cycle of every account through this server, which must finish without error.
    pub async fn run_sync(&self) {
        match sync::run(&self.sync, Scope::All, Trigger::Command).await.expect("the sync runs") {
            RunResult::Ran(summary) => assert!(summary.errors.is_empty(), "{summary}"),
            RunResult::Busy => panic!("no other sync runs"),
        }
    }
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let mut bytes = [0u8; 6];
        rand::rng().fill_bytes(&mut bytes);
        let path = std::env::temp_dir().join(format!("tidemark-{label}-{}", hex::encode(bytes)));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Short waits for the publisher, so tests do not sit through Meta's processing times.
pub fn test_publish_options() -> PublishOptions {
    PublishOptions {
        poll_for: Duration::from_secs(10),
        poll_first: Duration::from_millis(50),
        poll_max: Duration::from_millis(250),
        ..PublishOptions::default()
    }
}

pub struct AppOptions {
    pub cookie_secure: bool,
    pub simulator: SimulatorConfig,
    pub demo: bool,
    /// Configure the simulator's Meta apps (the connect buttons and callbacks).
    pub meta_apps: bool,
    pub trusted_proxies: TrustedProxies,
    pub metrics_token: Option<String>,
    /// Rows to put in the database before the application starts.
    pub before_start: Option<&'static str>,
    /// Requests each API token may make per minute.
    pub api_requests_per_minute: u32,
    /// Where mail goes (a test's SMTP server); `None`: nothing is mailed.
    pub mail: Option<tidemark::mail::MailSettings>,
    /// Keep sessions in memory, as `serve` does by default. Off here: most tests write rows by
    /// hand or call services directly and read a page at once, before the database's notice
    /// could arrive; `kept_sessions.rs` tests the kept sessions, waiting for it with
    /// [`TestApp::settle`].
    pub keep_sessions: bool,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            cookie_secure: false,
            simulator: SimulatorConfig::standard(42),
            demo: false,
            meta_apps: true,
            trusted_proxies: TrustedProxies::default(),
            metrics_token: None,
            before_start: None,
            api_requests_per_minute: 600,
            mail: None,
            keep_sessions: false,
        }
    }
}

/// The webhook verify token the test apps are configured with.
pub const WEBHOOK_VERIFY_TOKEN: &str = "a verify token of the tests";

/// The simulator's own Meta apps, as an operator would configure theirs.
pub fn simulator_apps() -> MetaApps {
    MetaApps {
        instagram: Some(MetaApp::new(oauth::INSTAGRAM_APP_ID, oauth::INSTAGRAM_APP_SECRET)),
        facebook: Some(MetaApp::new(oauth::FACEBOOK_APP_ID, oauth::FACEBOOK_APP_SECRET)),
        webhook_verify_token: Some(WEBHOOK_VERIFY_TOKEN.to_owned()),
    }
}

/// Fast retries, so fault tests do not wait.
pub fn test_graph_options() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_millis(1500),
        max_attempts: 2,
        backoff_base: Duration::from_millis(5),
        slow_down_for: Duration::from_millis(1),
        ..ClientOptions::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let db = TestDb::new().await;
    if let Some(sql) = options.before_start {
        execute(&mut db.connect().await, sql).await;
    }
    let sim = Simulator::start(options.simulator, "127.0.0.1:0").expect("the simulator starts");
    let token_key = TokenKey::new([5u8; 32]);
    let data_dir = TempDir::new("data");
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
        token_key: token_key.clone(),
        graph: GraphConfig::new(Some(sim.base_url()), "v25.0").expect("graph config"),
        graph_options: test_graph_options(),
        run_scheduler: false,
        demo: options.demo,
        metrics_public: false,
        clock: sim.clock(),
        public_url: None,
        trusted_proxies: options.trusted_proxies.clone(),
        metrics_token: options.metrics_token.clone(),
        apps: if options.meta_apps { simulator_apps() } else { MetaApps::default() },
        data_dir: data_dir.0.clone(),
        publish_options: test_publish_options(),
        api_requests_per_minute: std::num::NonZeroU32::new(options.api_requests_per_minute).expect("a rate above zero"),
        mail: options.mail.clone(),
        keep_sessions: options.keep_sessions,
    };
    let app = Application::build(settings.clone()).await.expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let sync = app.sync();
    let accounts = app.accounts();
    let publishing = app.publishing();
    let inbox = app.inbox();
    let reports = app.reports();
    let alerts = app.alerts();
    let background = app.background();
    let changes = app.changes();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        db,
        sim,
        sync,
        accounts,
        publishing,
        inbox,
        reports,
        alerts,
        background,
        changes,
        token_key,
        data_dir,
        settings,
    }
}

impl TestApp {
    /// The session cookie's keys this app signs with.
    pub fn session_keys(&self) -> tidemark::auth::session::SessionKeys {
        tidemark::auth::session::SessionKeys::new(&self.settings.session)
    }

    /// Starts a second server on this app's database (see [`SecondServer`]).
    pub async fn second_server(&self) -> SecondServer {
        let app = Application::build(self.settings.clone()).await.expect("the second application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let (sync, background, changes) = (app.sync(), app.background(), app.changes());
        tokio::spawn(app.run_until_stopped());
        SecondServer { address, sync, background, changes }
    }

    /// Waits until this app (and `others`) have heard every change committed so far: a probe
    /// is notified after them and notices arrive in commit order. Nothing to wait for when
    /// sessions are not kept.
    pub async fn settle(&self, others: &[&SecondServer]) {
        static PROBES: AtomicU64 = AtomicU64::new(0);
        let probe = PROBES.fetch_add(1, Ordering::Relaxed) + 1;
        let listening: Vec<&Arc<Changes>> =
            self.changes.iter().chain(others.iter().filter_map(|other| other.changes.as_ref())).collect();
        if listening.is_empty() {
            return;
        }
        let mut conn = self.db.connect().await;
        execute(&mut conn, &format!("NOTIFY {}, '{}{probe}'", changes::CHANNEL, changes::PROBE)).await;
        for changes in listening {
            for _ in 0..1000 {
                if changes.probe_seen() >= probe {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert!(changes.probe_seen() >= probe, "the probe's notice did not arrive within 10 s");
        }
    }
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
        let new = NewUser { username, role, password_hash: &hash };
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

impl TestApp {
    /// Connects simulator account `index` (as the page and the command do) and returns it.
    pub async fn connect(&self, index: usize) -> Account {
        let token = self.sim.token(index);
        let mut connected = self.accounts.connect(&token, None).await.expect("the simulator's token connects");
        connected.remove(0)
    }

    /// One sync cycle over every due account; panics if another holds the lock.
    pub async fn run_sync(&self) -> SyncSummary {
        match sync::run(&self.sync, Scope::All, Trigger::Command).await.expect("the sync runs") {
            RunResult::Ran(summary) => summary,
            RunResult::Busy => panic!("the sync lock was taken"),
        }
    }

    /// A sync context like the app's but with a new Graph client (a new process's memory).
    pub fn fresh_sync(&self) -> SyncContext {
        let graph =
            GraphClient::new(GraphConfig::new(Some(self.sim.base_url()), "v25.0").unwrap(), test_graph_options())
                .unwrap();
        SyncContext::new(self.sync.pool().clone(), &self.db.url, graph, self.token_key.clone(), self.sim.clock())
    }

    pub fn sim_tokens_of(&self, index: usize) -> Vec<String> {
        self.sim.tokens_of(index)
    }

    /// A browser signed in as an admin (created on first use).
    pub async fn admin(&self) -> Client {
        let mut conn = self.db.connect().await;
        if User::find_by_username(&mut conn, "root.admin").await.unwrap().is_none() {
            self.create_user("root.admin", Role::Admin).await;
        }
        self.signed_in("root.admin").await
    }

    /// A new JSON API token of `scope`, made as Settings and the command make them.
    pub async fn api_token(&self, scope: tidemark::domain::ApiScope) -> String {
        let tokens = tidemark::auth::ApiTokens::new(
            self.sync.pool().clone(),
            &self.token_key,
            std::num::NonZeroU32::MIN,
            self.sim.clock(),
        );
        tokens.create("tests", scope, None, None).await.expect("the token is made").jwt
    }

    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.db.connect().await;
        let row: Count = diesel::sql_query(sql).get_result(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.n
    }
}
