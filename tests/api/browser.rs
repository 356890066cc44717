//! The pages in a real headless Chromium: sign in, charts drawn, connect an account through
//! the form, a post page, a viewer without admin controls, sign out, two-step sign-in; every page at 360 px
//! without horizontal scrolling, every control reachable by keyboard, and no serious or
//! critical axe-core violation. Screenshots go to target/screenshots/.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, spawn_app};

use tidemark::domain::Role;

/// ChromeDriver on a free port, stopped on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Driver {
    let path = std::env::var("TIDEMARK_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| {
            panic!("cannot start {path} ({err}): scripts/test installs chromium and chromium-driver")
        });
    Driver { child, port }
}

/// A Chromium session; `phone` emulates a 360 px wide screen (a desktop window cannot be
/// made that narrow).
async fn browser(driver: &Driver, phone: bool) -> Client {
    let mut caps = Capabilities::new();
    let binary = std::env::var("TIDEMARK_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let mut options = json!({
        "binary": binary,
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--window-size=1280,1000"]
    });
    if phone {
        options["mobileEmulation"] = json!({ "deviceMetrics": { "width": 360, "height": 800, "pixelRatio": 1.0 } });
    }
    caps.insert("goog:chromeOptions".to_owned(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let url = format!("http://127.0.0.1:{}", driver.port);
    for attempt in 0.. {
        match ClientBuilder::new(connector.clone()).capabilities(caps.clone()).connect(&url).await {
            Ok(client) => return client,
            Err(err) if attempt < 50 => {
                let _ = err;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => panic!("cannot open a Chromium session: {err}"),
        }
    }
    unreachable!()
}

async fn sign_in(client: &Client, app: &TestApp, username: &str) {
    client.goto(&app.url("/login")).await.unwrap();
    client.find(Locator::Id("username")).await.unwrap().send_keys(username).await.unwrap();
    client.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_text(client, "<h1>Dashboard</h1>").await;
}

/// The page source once it contains `text` (a click's navigation may still be under way).
async fn wait_for_text(client: &Client, text: &str) -> String {
    let mut source = String::new();
    for _ in 0..100 {
        source = client.source().await.unwrap_or_default();
        if source.contains(text) {
            return source;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never showed {text:?}: {}", &source[source.find("<main").unwrap_or(0)..]);
}

/// Waits until the page's query string satisfies `done`, and returns it.
async fn wait_for_query(client: &Client, done: impl Fn(&str) -> bool) -> String {
    let mut query = String::new();
    for _ in 0..100 {
        query = client.current_url().await.unwrap().query().unwrap_or_default().to_owned();
        if done(&query) {
            return query;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the address never changed as expected: ?{query}");
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
}

/// Charts drawn: each chart container holds a canvas with a size.
async fn drawn_charts(client: &Client) -> usize {
    // charts.js runs on DOMContentLoaded with deferred scripts; give it a moment.
    for _ in 0..50 {
        let drawn = client
            .execute(
                "return Array.from(document.querySelectorAll('.chart-canvas canvas')).filter(c => c.width > 0 && c.height > 0).length",
                vec![],
            )
            .await
            .unwrap();
        if drawn.as_u64().unwrap_or(0) > 0 {
            return drawn.as_u64().unwrap_or(0) as usize;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    0
}

/// How many pixel columns of chart `id`'s canvas hold the typical curve's colour (the second
/// series is drawn in `--warn`), and the canvas's width.
async fn typical_curve_columns(client: &Client, id: &str) -> (u64, u64) {
    let script = r#"
        const canvas = document.getElementById(arguments[0] + '-title').closest('figure').querySelector('canvas');
        const hex = getComputedStyle(document.documentElement).getPropertyValue('--warn').trim();
        const rgb = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const columns = new Set();
        for (let i = 0; i < pixels.length; i += 4) {
            if (pixels[i + 3] > 128 && rgb.every((c, k) => Math.abs(pixels[i + k] - c) < 40)) {
                columns.add((i / 4) % canvas.width);
            }
        }
        return [columns.size, canvas.width];
    "#;
    let found = client.execute(script, vec![serde_json::json!(id)]).await.unwrap();
    let found: (u64, u64) = serde_json::from_value(found).unwrap();
    found
}

/// axe-core's serious and critical violations on the current page.
async fn accessibility_problems(client: &Client, axe: &str) -> Vec<String> {
    client.execute(axe, vec![]).await.expect("axe-core loads into the page");
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, html: v.nodes[0] && v.nodes[0].html }))));",
            vec![],
        )
        .await
        .unwrap();
    result
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v: Value| format!("{} ({}, {} nodes, e.g. {})", v["id"], v["impact"], v["nodes"], v["html"]))
        .collect()
}

/// Tabs through the page and returns the interactive elements never reached.
async fn unreachable_by_keyboard(client: &Client) -> Vec<String> {
    // Controls inside a closed <details> are reached once its summary opens it.
    let script = "
        const targets = Array.from(document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]'));
        document.activeElement && document.activeElement.blur();
        return targets.length;";
    let count = client.execute(script, vec![]).await.unwrap().as_u64().unwrap_or(0);
    let body = client.find(Locator::Css("body")).await.unwrap();
    let mut reached = std::collections::HashSet::new();
    // Date inputs take several tab stops (day, month, year).
    for _ in 0..count * 2 + 20 {
        body.send_keys("\u{e004}").await.ok(); // Tab
        let id = client
            .execute(
                "const e = document.activeElement; if (!e) return ''; if (!e.dataset.tabProbe) e.dataset.tabProbe = Math.random().toString(36).slice(2); return e.dataset.tabProbe;",
                vec![],
            )
            .await
            .unwrap();
        reached.insert(id.as_str().unwrap_or("").to_owned());
    }
    // A radio group is one tab stop (arrow keys move within it): reaching one of a group
    // reaches them all.
    let missed = client
        .execute(
            "const groupReached = r => Array.from(document.querySelectorAll('input[type=radio]'))
                 .some(o => o.name === r.name && o.form === r.form && o.dataset.tabProbe);
             return Array.from(document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea'))
                .filter(e => e.offsetParent !== null && !e.closest('details:not([open])') && !e.dataset.tabProbe)
                .filter(e => !(e.type === 'radio' && groupReached(e)))
                .map(e => e.outerHTML.slice(0, 80));",
            vec![],
        )
        .await
        .unwrap();
    missed.as_array().cloned().unwrap_or_default().into_iter().map(|v| v.as_str().unwrap_or("").to_owned()).collect()
}

#[tokio::test]
async fn the_pages_work_in_a_real_browser() {
    let axe_path =
        std::env::var("TIDEMARK_AXE_JS").expect("TIDEMARK_AXE_JS names axe.min.js (scripts/test installs it)");
    let axe = std::fs::read_to_string(&axe_path).unwrap_or_else(|e| panic!("{axe_path}: {e}"));
    let app = spawn_app().await;
    let ada = app.create_user("ada", Role::Admin).await;
    app.create_user("vera", Role::Viewer).await;
    app.connect(1).await;
    for _ in 0..3 {
        app.run_sync().await;
        app.sim.advance(chrono::Duration::hours(8));
    }
    let driver = chromedriver();
    let client = browser(&driver, false).await;

    sign_in(&client, &app, "ada").await;
    assert!(drawn_charts(&client).await >= 1, "the dashboard draws its overview chart");
    let legend = client
        .execute("return Array.from(document.querySelectorAll('.u-legend .u-value')).map(v => v.textContent)", vec![])
        .await
        .unwrap();
    let legend: Vec<String> = serde_json::from_value(legend).unwrap();
    assert!(
        legend.first().is_some_and(|day| !day.contains(':') && day != "–"),
        "the legend names the latest day, without an hour, before any hover: {legend:?}"
    );
    assert!(legend.iter().skip(1).any(|v| v != "–"), "and its values: {legend:?}");
    let overview = client.source().await.unwrap();
    for card in ["followers", "accounts reached", "views", "interactions", "median engagement rate", "posts published"]
    {
        assert!(overview.contains(&format!("\">{card}</a></span><span class=\"figure\">")), "the {card} card");
    }
    screenshot(&client, "dashboard").await;

    // Connect an account through the form.
    client.goto(&app.url("/accounts")).await.unwrap();
    client.find(Locator::Id("token")).await.unwrap().send_keys(&app.sim.token(2)).await.unwrap();
    client.find(Locator::Css("form[action='/accounts'] button")).await.unwrap().click().await.unwrap();
    let page = wait_for_text(&client, "The account is connected").await;
    assert!(page.contains("@quiet.cove"), "connected through the form");

    let account = app.count("SELECT id AS n FROM ig_accounts WHERE username = 'tidal.studio'").await;
    client.goto(&app.url(&format!("/accounts/{account}?days=7"))).await.unwrap();
    assert!(drawn_charts(&client).await >= 4);
    screenshot(&client, "account").await;

    let post = app.count("SELECT post_id AS n FROM post_scores ORDER BY impact DESC NULLS LAST, post_id LIMIT 1").await;
    client.goto(&app.url(&format!("/posts/{post}"))).await.unwrap();
    assert!(drawn_charts(&client).await >= 1, "the post's curves are drawn");
    let (columns, width) = typical_curve_columns(&client, "post-reach").await;
    assert!(
        columns * 5 >= width,
        "the typical curve is drawn as a line across the ages, not as lost dots: {columns} of {width} columns"
    );
    screenshot(&client, "post").await;

    // Filters apply as soon as they change, "all" included.
    client.goto(&app.url("/posts?days=90")).await.unwrap();
    client.find(Locator::Id("f-account")).await.unwrap().select_by_value(&account.to_string()).await.unwrap();
    let query = wait_for_query(&client, |q| q.contains(&format!("account={account}"))).await;
    client.find(Locator::Id("f-account")).await.unwrap().select_by_value("").await.unwrap();
    wait_for_query(&client, |q| q != query && q.contains("account=&")).await;
    let page = wait_for_text(&client, "<h1>Posts</h1>").await;
    assert!(page.contains("Tracked posts published in the period"), "every account's posts again");

    // Keyboard shortcuts: "?" lists them, Escape closes the list, "g" then "d" goes home.
    client.find(Locator::Css("body")).await.unwrap().send_keys("?").await.unwrap();
    let open = "return document.getElementById('shortcuts').open";
    assert_eq!(client.execute(open, vec![]).await.unwrap(), Value::Bool(true), "? opens the list");
    client.active_element().await.unwrap().send_keys("\u{e00c}").await.unwrap(); // Escape
    assert_eq!(client.execute(open, vec![]).await.unwrap(), Value::Bool(false), "Escape closes it");
    let body = client.find(Locator::Css("body")).await.unwrap();
    body.send_keys("g").await.unwrap();
    body.send_keys("d").await.unwrap();
    wait_for_text(&client, "<h1>Dashboard</h1>").await;

    let (publication, _) = crate::publishing::planned_draft(&app, tidemark::domain::AccountId(account)).await;
    let span = tidemark::services::accounts::ShareSpan::Rolling(30);
    let share =
        app.accounts.share(tidemark::domain::AccountId(account), span, "", chrono::Duration::days(1), ada).await;
    let share = share.unwrap().url;
    let shared = share[share.find("/shared/").unwrap()..].to_owned();

    let pages = [
        "/".to_owned(),
        "/accounts".to_owned(),
        format!("/accounts/{account}"),
        "/posts".to_owned(),
        format!("/posts/{post}"),
        "/hashtags?days=90".to_owned(),
        "/best-time?days=90".to_owned(),
        "/sync".to_owned(),
        "/settings".to_owned(),
        "/users".to_owned(),
        "/me".to_owned(),
        "/data".to_owned(),
        "/privacy".to_owned(),
        "/definitions".to_owned(),
        "/planner".to_owned(),
        "/planner?view=week".to_owned(),
        "/inbox".to_owned(),
        "/inbox/rules".to_owned(),
        "/competitors".to_owned(),
        "/reports".to_owned(),
        "/alerts".to_owned(),
        format!("/reports/preview?account={account}&cadence=monthly"),
        "/planner/new".to_owned(),
        format!("/planner/{publication}"),
        shared,
    ];
    let mut problems = Vec::new();
    for path in &pages {
        client.goto(&app.url(path)).await.unwrap();
        for problem in accessibility_problems(&client, &axe).await {
            problems.push(format!("{path}: {problem}"));
        }
        for missed in unreachable_by_keyboard(&client).await {
            problems.push(format!("{path}: not reachable by keyboard: {missed}"));
        }
        // At 1280 px every table is laid out as a table (a stray class once made the best
        // cells flex boxes, shifting the hours after them).
        let misplaced = client
            .execute(
                "return Array.from(document.querySelectorAll('table td, table th')).filter(c => !c.closest('.u-legend') && getComputedStyle(c).display !== 'table-cell').slice(0, 3).map(c => c.outerHTML.slice(0, 80))",
                vec![],
            )
            .await
            .unwrap();
        if misplaced.as_array().is_some_and(|cells| !cells.is_empty()) {
            problems.push(format!("{path}: cells not laid out as cells: {misplaced}"));
        }
        if path.starts_with("/best-time") {
            // All 24 hours in view at 1280 px, without scrolling the grid sideways.
            let cut = client
                .execute(
                    "return Array.from(document.querySelectorAll('.grid-table')).filter(t => t.parentElement.scrollWidth > t.parentElement.clientWidth).length",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(cut.as_u64(), Some(0), "a best-time grid scrolls sideways at 1280 px");
            screenshot(&client, "best-time").await;
        }
    }
    let phone = browser(&driver, true).await;
    sign_in(&phone, &app, "ada").await;
    for path in &pages {
        phone.goto(&app.url(path)).await.unwrap();
        let width =
            phone.execute("return [window.innerWidth, document.documentElement.scrollWidth]", vec![]).await.unwrap();
        let (inner, scroll) = (width[0].as_u64().unwrap_or(0), width[1].as_u64().unwrap_or(0));
        if inner != 360 || scroll > 360 {
            // Name what sticks out, so the failure says where to look.
            let wide = phone
                .execute(
                    "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 361 && !e.closest('.table-wrap, .top nav')).slice(0, 3).map(e => e.outerHTML.slice(0, 80))",
                    vec![],
                )
                .await
                .unwrap();
            problems.push(format!("{path}: {scroll} px wide in a {inner} px screen: {wide}"));
        }
        if path == "/posts" {
            // Each post is a card: its caption gets the card's width, not a squeezed column.
            let widths = phone
                .execute("return Array.from(document.querySelectorAll('td.caption')).map(c => c.clientWidth)", vec![])
                .await
                .unwrap();
            let widths: Vec<u64> = serde_json::from_value(widths).unwrap();
            assert!(!widths.is_empty() && widths.iter().all(|w| *w >= 250), "captions on a phone: {widths:?} px");
            phone.execute("document.querySelector('.posts-table caption').scrollIntoView()", vec![]).await.unwrap();
            screenshot(&phone, "posts-360").await;
        }
    }
    // The loop ended on the last page; the phone screenshot is of the dashboard.
    phone.goto(&app.url("/")).await.unwrap();
    wait_for_text(&phone, "<h1>Dashboard</h1>").await;
    screenshot(&phone, "dashboard-360").await;
    phone.close().await.unwrap();

    // Sign out.
    client.goto(&app.url("/")).await.unwrap();
    client.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "You are signed out").await;

    // A viewer finds no admin control anywhere.
    sign_in(&client, &app, "vera").await;
    for path in pages.iter().filter(|p| !["/settings", "/users", "/planner/new"].contains(&p.as_str())) {
        client.goto(&app.url(path)).await.unwrap();
        let forms = client.find_all(Locator::Css("form[method=post]")).await.unwrap();
        let mut actions = Vec::new();
        for form in forms {
            actions.push(form.attr("action").await.unwrap().unwrap_or_default());
        }
        actions.retain(|a| a != "/logout" && !a.starts_with("/me"));
        if !actions.is_empty() {
            problems.push(format!("{path}: a viewer sees forms posting to {actions:?}"));
        }
    }
    client.goto(&app.url("/settings")).await.unwrap();
    assert!(client.source().await.unwrap().contains("Not allowed"));
    client.close().await.unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn an_admin_connects_through_metas_dialogs_in_a_real_browser() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let driver = chromedriver();
    let client = browser(&driver, false).await;
    sign_in(&client, &app, "ada").await;

    // Instagram Login: the button, Meta's (the simulator's) consent page, back connected.
    client.goto(&app.url("/accounts")).await.unwrap();
    client.find(Locator::LinkText("Connect with Instagram")).await.unwrap().click().await.unwrap();
    let consent = wait_for_text(&client, "allow access").await;
    assert!(consent.contains("instagram_business_manage_insights"), "the scopes are asked for");
    client.find(Locator::Id("allow")).await.unwrap().click().await.unwrap();
    let page = wait_for_text(&client, "The account is connected").await;
    assert!(page.contains(&format!("@{}", app.sim.username(0))), "{page}");
    assert!(client.current_url().await.unwrap().path().starts_with("/accounts/"));

    // Facebook Login: the consent page, then the choice of the Pages' Instagram accounts.
    client.goto(&app.url("/accounts")).await.unwrap();
    client.find(Locator::LinkText("Connect with Facebook")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "allow access").await;
    client.find(Locator::Id("allow")).await.unwrap().click().await.unwrap();
    let choice = wait_for_text(&client, "Choose the accounts to connect").await;
    assert!(choice.contains(&format!("@{}", app.sim.username(1))), "{choice}");
    client
        .find(Locator::Css("form[action='/accounts/connect/facebook/choose'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = wait_for_text(&client, "The account is connected").await;
    assert!(page.contains(&format!("@{}", app.sim.username(1))), "{page}");
    assert_eq!(app.count("SELECT count(*) AS n FROM ig_accounts WHERE status = 'active'").await, 2);

    // Cancelling ends on a clear page, nothing stored.
    client.goto(&app.url("/accounts/connect/instagram")).await.unwrap();
    wait_for_text(&client, "allow access").await;
    client.find(Locator::Id("cancel")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "Nothing was connected").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM ig_accounts").await, 2);
}

#[tokio::test]
async fn two_step_sign_in_works_in_a_real_browser() {
    use crate::second_factor::{code, secret_in};
    let axe_path =
        std::env::var("TIDEMARK_AXE_JS").expect("TIDEMARK_AXE_JS names axe.min.js (scripts/test installs it)");
    let axe = std::fs::read_to_string(&axe_path).unwrap_or_else(|e| panic!("{axe_path}: {e}"));
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let driver = chromedriver();
    let client = browser(&driver, false).await;
    sign_in(&client, &app, "ada").await;

    // Set up: scan (read) the secret, type the app's code, see the recovery codes.
    client.goto(&app.url("/me#two-step")).await.unwrap();
    let secret = secret_in(&client.source().await.unwrap());
    let qr_width = client.execute("return document.querySelector('img.qr').naturalWidth", vec![]).await.unwrap();
    assert!(qr_width.as_u64().unwrap_or(0) >= 200, "the QR code image loads: {qr_width}");
    screenshot(&client, "second-factor-setup").await;
    client.find(Locator::Id("confirm-code")).await.unwrap().send_keys(&code(&secret, 0)).await.unwrap();
    client.find(Locator::Id("confirm-password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("form[action='/me/second-factor'] button")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "Your recovery codes").await;
    let mut problems: Vec<String> =
        accessibility_problems(&client, &axe).await.into_iter().map(|p| format!("recovery codes: {p}")).collect();

    // Sign out, then in again: the password, then the code.
    client.goto(&app.url("/")).await.unwrap();
    client.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "You are signed out").await;
    client.find(Locator::Id("username")).await.unwrap().send_keys("ada").await.unwrap();
    client.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "Enter your code").await;
    problems.extend(accessibility_problems(&client, &axe).await.into_iter().map(|p| format!("code step: {p}")));
    problems.extend(unreachable_by_keyboard(&client).await.into_iter().map(|m| format!("code step: {m}")));
    client.find(Locator::Id("code")).await.unwrap().send_keys(&code(&secret, 30)).await.unwrap();
    client.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "<h1>Dashboard</h1>").await;
    assert!(problems.is_empty(), "{problems:#?}");
    client.close().await.unwrap();
}

#[tokio::test]
async fn an_admin_plans_a_post_sees_it_on_the_calendar_and_it_goes_out_in_a_real_browser() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let account = app.connect(0).await;
    app.run_sync().await;
    let image = app.data_dir.0.join("croissants.jpg");
    std::fs::write(&image, tidemark::publishing::samples::jpeg(1080, 1350, 0)).unwrap();
    let driver = chromedriver();
    let client = browser(&driver, false).await;
    sign_in(&client, &app, "ada").await;

    // Compose: a file, a caption (counted live), tomorrow at 09:15.
    client.goto(&app.url("/planner")).await.unwrap();
    client.find(Locator::LinkText("Plan a post")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "<h1>Plan a post</h1>").await;
    client.find(Locator::Id("media")).await.unwrap().send_keys(image.to_str().unwrap()).await.unwrap();
    let caption = "Butter croissants at 7 tomorrow 🥐 #bakery #breakfast";
    client.find(Locator::Id("caption")).await.unwrap().send_keys(caption).await.unwrap();
    let count = wait_for_text(&client, "2 / 30 hashtags").await;
    assert!(count.contains("/ 2200 characters"), "the caption is counted as it is typed");
    // A suggested time fills the date and time in place, keeping what was typed.
    let slot = client.find(Locator::Css("a.slot")).await.unwrap();
    let (slot_date, slot_time) = (slot.attr("data-date").await.unwrap(), slot.attr("data-time").await.unwrap());
    slot.click().await.unwrap();
    let filled = client
        .execute("return [document.getElementById('date').value, document.getElementById('time').value, document.getElementById('caption').value]", vec![])
        .await
        .unwrap();
    assert_eq!(filled[0].as_str(), slot_date.as_deref());
    assert_eq!(filled[1].as_str(), slot_time.as_deref());
    assert_eq!(filled[2].as_str(), Some(caption), "the caption stays");
    let tomorrow = (app.sim.now() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    client
        .execute(
            "document.getElementById('date').value = arguments[0]; document.getElementById('time').value = '09:15';
             document.querySelector('input[name=when][value=at]').checked = true;",
            vec![Value::String(tomorrow.clone())],
        )
        .await
        .unwrap();
    screenshot(&client, "composer").await;
    client.find(Locator::Css("form.composer button[type=submit]")).await.unwrap().click().await.unwrap();
    let page = wait_for_text(&client, "Saved. The publisher checks every minute").await;
    assert!(page.contains("Scheduled") && page.contains("09:15"), "{page}");
    let plan_path = client.current_url().await.unwrap().path().to_owned();

    // On the calendar, on its day.
    client.goto(&app.url(&format!("/planner?date={tomorrow}&account={}", account.id))).await.unwrap();
    let calendar = wait_for_text(&client, "09:15").await;
    assert!(calendar.contains(&format!("href=\"{plan_path}\"")), "the month shows the plan");
    screenshot(&client, "planner").await;

    // Publish it now, run the job, and follow it to its metrics.
    client.goto(&app.url(&plan_path)).await.unwrap();
    client.find(Locator::Css("input[name=when][value=now]")).await.unwrap().click().await.unwrap();
    client.find(Locator::Css("form[action$='/schedule'] button")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "The new time is saved").await;
    let summary = app.publishing.run_due(tidemark::domain::Trigger::Command).await.unwrap();
    assert_eq!(summary.published.len(), 1, "{summary:?}");
    client.goto(&app.url(&plan_path)).await.unwrap();
    wait_for_text(&client, "Live on Instagram as media").await;
    client.find(Locator::LinkText("Its metrics and impact score")).await.unwrap().click().await.unwrap();
    let post = wait_for_text(&client, "Published by Tidemark, planned for").await;
    assert!(post.contains("Butter croissants"), "the post page shows the published caption");
    assert!(post.contains("reach"), "with its figures");
    client.close().await.unwrap();
}

#[tokio::test]
async fn an_admin_answers_a_comment_from_the_inbox_in_a_real_browser() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    app.connect(0).await;
    app.run_sync().await;
    let media = app.sim.listed_media_ids(0)[0].clone();
    let (comment, body) = app.sim.comment_on(0, &media, "lina.k", "How much is the sourdough loaf? <b>bold</b>", None);
    let url = app.url("/meta/webhooks");
    let secret = tidemark::simulator::oauth::INSTAGRAM_APP_SECRET;
    assert_eq!(tidemark::simulator::webhooks::deliver(&url, secret, &body).await.unwrap(), 200);
    let driver = chromedriver();
    let client = browser(&driver, false).await;
    sign_in(&client, &app, "ada").await;

    client.find(Locator::Css("nav a[href='/inbox']")).await.unwrap().click().await.unwrap();
    let inbox = wait_for_text(&client, "How much is the sourdough loaf?").await;
    assert!(inbox.contains("&lt;b&gt;bold&lt;/b&gt;"), "the comment's markup stays text");
    let waiting = client.find(Locator::Css("nav .nav-count")).await.unwrap().text().await.unwrap();
    assert!(waiting.starts_with(|c: char| c.is_ascii_digit()), "the navigation counts what waits: {waiting}");
    screenshot(&client, "inbox").await;

    let thread = format!("#c{comment}");
    client
        .find(Locator::Css(&format!("{thread} textarea[name=message]")))
        .await
        .unwrap()
        .send_keys("€6.50, baked every morning 🍞")
        .await
        .unwrap();
    client.find(Locator::Css(&format!("{thread} form.reply-form button"))).await.unwrap().click().await.unwrap();
    let after = wait_for_text(&client, "Your reply is posted on Instagram.").await;
    assert!(after.contains("€6.50, baked every morning 🍞"), "the reply sits in its thread");
    assert!(client.current_url().await.unwrap().fragment() == Some(&format!("c{comment}")), "back at the thread");
    assert!(app.sim.comments_on(&media).contains(&"€6.50, baked every morning 🍞".to_owned()), "sent to Instagram");
    let replied = client.find(Locator::Css(&format!("{thread} .action-log"))).await.unwrap().text().await.unwrap();
    assert!(replied.contains("by ada"), "who answered is shown: {replied}");
    client.close().await.unwrap();
}

/// Scrolls the page to the `h2` whose text starts with `text`, for a screenshot of what is
/// below the fold.
async fn scroll_to_heading(client: &Client, text: &str) {
    let script = "Array.from(document.querySelectorAll('h2')).find(h => h.textContent.startsWith(arguments[0])).scrollIntoView()";
    client.execute(script, vec![json!(text)]).await.unwrap();
}

/// `tidemark demo` itself, as a child process that is stopped when the test ends.
struct DemoProcess {
    child: Child,
    address: String,
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the README's demo on a fresh database and waits for it to say where it serves.
async fn start_demo(database_url: &str) -> DemoProcess {
    use std::io::BufRead;
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .arg("demo")
        .env("DATABASE_URL", database_url)
        .env("TIDEMARK_BIND", format!("127.0.0.1:{port}"))
        .env("TIDEMARK_DEMO_PASSWORD", PASSWORD)
        .env("TIDEMARK_DATA_DIR", std::env::temp_dir().join(format!("tidemark-demo-{port}")))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the tidemark binary starts");
    let stdout = child.stdout.take().unwrap();
    let ready = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.starts_with("Tidemark demo: open"))
    });
    let demo = DemoProcess { child, address: format!("http://127.0.0.1:{port}") };
    assert!(
        tokio::time::timeout(Duration::from_secs(300), ready).await.unwrap().unwrap(),
        "the demo never said it was ready"
    );
    demo
}

#[tokio::test]
async fn the_demo_reads_like_three_real_businesses_in_a_real_browser() {
    let db = crate::helpers::TestDb::new().await;
    let demo = start_demo(&db.url).await;
    let driver = chromedriver();
    let client = browser(&driver, false).await;
    client.goto(&format!("{}/login", demo.address)).await.unwrap();
    client.find(Locator::Id("username")).await.unwrap().send_keys("demo").await.unwrap();
    client.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
    let mut dashboard = wait_for_text(&client, "<h1>Dashboard</h1>").await;
    // The demo's first sync starts with it; the screenshots show a Tidemark at rest.
    for _ in 0..120 {
        if !dashboard.contains("class=\"outcome-running\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        client.refresh().await.unwrap();
        dashboard = wait_for_text(&client, "<h1>Dashboard</h1>").await;
    }
    assert!(dashboard.contains("class=\"outcome-success\""), "the demo's first sync succeeds");
    assert!(drawn_charts(&client).await >= 1);
    assert!(dashboard.contains("/picture\""), "the best posts show their pictures");
    for fixture in ["&lt;script", "#security", "#unicode"] {
        assert!(!dashboard.contains(fixture), "the demo shows a test fixture: {fixture}");
    }
    screenshot(&client, "demo-dashboard").await;

    let url = |path: &str| format!("{}{path}", demo.address);
    client.goto(&url("/hashtags?days=90")).await.unwrap();
    let hashtags = client.source().await.unwrap();
    assert!(hashtags.contains("#sourdough") && hashtags.contains("#yoga"), "each business's own tags");
    assert!(!hashtags.contains("#security") && !hashtags.contains("#unicode"));

    client.goto(&url("/accounts")).await.unwrap();
    let studio = client.find(Locator::LinkText("@tidal.studio")).await.unwrap().attr("href").await.unwrap().unwrap();
    client.goto(&url(&format!("{studio}?days=30"))).await.unwrap();
    assert!(drawn_charts(&client).await >= 4);
    scroll_to_heading(&client, "In this period").await;
    screenshot(&client, "demo-account").await;
    // Who follows the studio: four breakdowns compared with a month earlier, countries named
    // by the browser, the busiest hours named.
    let audience = client.source().await.unwrap();
    assert!(audience.contains("Changes are against its count of"), "the demo holds a count a month older");
    assert_eq!(client.find_all(Locator::Css(".audience > div > .table-wrap > table")).await.unwrap().len(), 4);
    let country = client.find(Locator::Css("[data-country]")).await.unwrap().text().await.unwrap();
    assert!(country.chars().count() > 2, "a country is named, not coded: {country}");
    assert!(audience.contains("Most of them are online at"));
    scroll_to_heading(&client, "Audience").await;
    screenshot(&client, "demo-audience").await;
    client.goto(&url("/posts?days=30&sort=impact")).await.unwrap();
    let post = client.find(Locator::Css("td.date a")).await.unwrap().attr("href").await.unwrap().unwrap();
    client.goto(&url(&post)).await.unwrap();
    assert!(drawn_charts(&client).await >= 1);
    scroll_to_heading(&client, "Curves").await;
    screenshot(&client, "demo-post").await;
    client.goto(&url("/best-time?days=90")).await.unwrap();
    screenshot(&client, "demo-best-time").await;
    // The three businesses beside three of their kind, a month of counts each. The first sync
    // reads them after its accounts' runs are recorded (the dashboard already says it is done).
    let mut competitors = String::new();
    for _ in 0..120 {
        client.goto(&url("/competitors")).await.unwrap();
        competitors = client.source().await.unwrap();
        if !competitors.contains("Read at the next sync") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(competitors.matches("class=\"badge\">yours").count(), 3);
    for rival in ["@north.loaf", "@lumen.movement", "@saltmarsh.rooms"] {
        let row = &competitors[competitors.find(rival).unwrap_or_else(|| panic!("{rival} listed"))..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(
            row.contains("<td class=\"num\">+") || row.contains("<td class=\"num\">−"),
            "{rival} has a change: {row}"
        );
        assert!(!row.contains("Read at the next sync"), "{rival} was read by the first sync");
    }
    screenshot(&client, "demo-competitors").await;
    // The demo schedules a weekly report of every account: the scheduler's minute makes it.
    let mut reports = String::new();
    for _ in 0..90 {
        client.goto(&url("/reports")).await.unwrap();
        reports = client.source().await.unwrap();
        if reports.contains("href=\"/reports/1\"") {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(reports.contains("Weekly report for all accounts"), "the demo's report is made: {reports}");
    assert!(reports.contains("kept here only: no mail server is configured"));
    client.goto(&url("/reports/1")).await.unwrap();
    let report = client.source().await.unwrap();
    assert!(report.contains("Weekly report for all 3 accounts"));
    assert!(drawn_charts(&client).await >= 1);
    screenshot(&client, "demo-report").await;
    // The demo's alert rules were judged in the same minute.
    client.goto(&url("/alerts")).await.unwrap();
    let alerts = client.source().await.unwrap();
    assert!(
        alerts.contains("A post well above its account&#39;s earlier posts")
            || alerts.contains("A post well above its account's earlier posts"),
        "{alerts}"
    );
    screenshot(&client, "demo-alerts").await;
    client.close().await.unwrap();

    let phone = browser(&driver, true).await;
    phone.goto(&url("/login")).await.unwrap();
    phone.find(Locator::Id("username")).await.unwrap().send_keys("demo").await.unwrap();
    phone.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    phone.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_text(&phone, "<h1>Dashboard</h1>").await;
    screenshot(&phone, "demo-dashboard-360").await;
    phone.goto(&url("/posts?days=30")).await.unwrap();
    phone.execute("document.querySelector('.posts-table caption').scrollIntoView()", vec![]).await.unwrap();
    screenshot(&phone, "demo-posts-360").await;
    phone.close().await.unwrap();
}
