//! The command line: every command of the `tidemark` binary.

pub mod demo;

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use std::sync::Arc;

use crate::auth::ApiTokens;
use crate::config::{DataDirArgs, DatabaseArgs, GraphArgs, LogFormat, SecretArgs, ServeArgs, Settings};
use crate::db::accounts::Account;
use crate::db::users::normalize_username;
use crate::domain::{AccountId, AccountStatus, Flavour, Role, Trigger, system_clock};
use crate::domain::{ApiScope, PublicationKind};
use crate::graph::{ClientOptions, GraphClient, GraphConfig, MetaApp};
use crate::publishing::{MediaStore, Publisher};
use crate::services::Publishing;
use crate::services::accounts;
use crate::services::accounts::Revocation;
use crate::services::archive;
use crate::services::keys;
use crate::services::publishing::{Composition, Upload, When};
use crate::services::users::UserRefused;
use crate::services::{Accounts, Archive, Users};
use crate::simulator::{Simulator, SimulatorConfig, oauth};
use crate::startup::Application;
use crate::sync::{self, RunResult, Scope, SyncContext};
use crate::{db, telemetry};
use chrono::Utc;

#[derive(Debug, Parser)]
#[command(name = "tidemark", version, about = "Self-hosted Instagram analytics")]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Log output: text for people, json for machines.
    #[arg(long, env = "TIDEMARK_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the dashboard until SIGINT/SIGTERM.
    Serve(ServeArgs),
    /// The whole service with an in-process Graph API simulator and three demo accounts with
    /// ~90 days of history. Resets its database: give it one of its own.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// Password of the demo admin `demo` (generated and printed when absent).
        #[arg(long, env = "TIDEMARK_DEMO_PASSWORD", hide_env_values = true)]
        demo_password: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Apply every retention rule now and print what was removed (the scheduler does the
    /// same every night inside `serve`).
    Purge,
    /// Write the full archive of everything Tidemark holds (CSV files and a manifest in a
    /// zip), never a token or a password hash.
    Export {
        /// The zip file to write; it appears only once complete.
        #[arg(long)]
        output: std::path::PathBuf,
        /// Only this account's part.
        #[arg(long)]
        account: Option<i64>,
    },
    /// Exit 0 when the server on TIDEMARK_BIND answers /healthz (for container health checks).
    Healthcheck {
        #[arg(long, env = "TIDEMARK_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
    },
    /// Manage dashboard users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage connected Instagram accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Run one sync cycle now and print what it did.
    Sync {
        /// Only this account (its id from `account list`).
        #[arg(long)]
        account: Option<i64>,
        #[command(flatten)]
        secrets: SecretArgs,
        #[command(flatten)]
        graph: GraphArgs,
    },
    /// Token-key management.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Plan and publish posts.
    #[command(subcommand)]
    Publish(PublishCommand),
    /// Tokens for the JSON API (/api/v1/).
    #[command(subcommand)]
    ApiToken(ApiTokenCommand),
    /// Run the Graph API simulator on its own (for trying Tidemark without a Meta app).
    Simulator {
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        bind: String,
        /// Seed for the simulated accounts, media and tokens.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from stdin (one line).
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List users.
    List,
    /// Delete a user (never the last admin).
    Delete {
        #[arg(long)]
        username: String,
    },
    /// Remove a user's second factor (lost phone and recovery codes); they set up a new one
    /// on their account page after signing in with their password.
    ResetSecondFactor {
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Connect an account: reads a long-lived access token from stdin, checks it with the
    /// Graph API and stores it encrypted.
    Add {
        /// Instagram Login (IGAA… tokens) or Facebook Login (EAA… tokens); guessed when absent.
        #[arg(long, value_parser = parse_flavour)]
        login: Option<Flavour>,
        #[command(flatten)]
        secrets: SecretArgs,
        #[command(flatten)]
        graph: GraphArgs,
    },
    /// One line per account: id, username, status, last sync, token expiry.
    List,
    /// Stop syncing an account, keeping its data.
    Disable { id: i64 },
    /// Resume syncing an account.
    Enable { id: i64 },
    /// Revoke the account's permission at Meta where the API allows it (Facebook Login) and
    /// delete its token, keeping its history.
    Disconnect {
        id: i64,
        #[command(flatten)]
        secrets: SecretArgs,
        #[command(flatten)]
        graph: GraphArgs,
    },
    /// Delete an account and everything that belongs to it.
    Delete {
        id: i64,
        /// Confirms the deletion.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PublishCommand {
    /// Queue a publication (several --media make a carousel); prints its id. Without --at it
    /// is due now. The files are checked against Instagram's rules first and copied into
    /// TIDEMARK_DATA_DIR.
    Schedule {
        /// The account's id (from `account list`).
        #[arg(long)]
        account: i64,
        /// When to publish (RFC 3339, e.g. 2026-12-01T09:00:00+01:00).
        #[arg(long)]
        at: Option<String>,
        #[arg(long, value_parser = parse_kind, default_value = "feed")]
        kind: PublicationKind,
        /// A file holding the caption (UTF-8).
        #[arg(long)]
        caption_file: std::path::PathBuf,
        /// A JPEG image, or an MP4/MOV video; repeat for a carousel.
        #[arg(long, required = true)]
        media: Vec<std::path::PathBuf>,
        /// Text for people who cannot see the image(s).
        #[arg(long)]
        alt_text: Option<String>,
        /// A comment posted under the post once it is live.
        #[arg(long)]
        first_comment: Option<String>,
        #[command(flatten)]
        context: PublishContextArgs,
    },
    /// One line per publication: id, account, kind, due, status, Instagram media id once published.
    List,
    /// Publish what is due now; exits non-zero if any failed (the scheduler does the same
    /// every minute inside `serve`).
    Run {
        #[command(flatten)]
        context: PublishContextArgs,
    },
}

/// What a publishing command needs beyond the database: the token key, Meta, where files
/// wait and the address Meta fetches them from.
#[derive(Debug, Clone, clap::Args)]
pub struct PublishContextArgs {
    #[command(flatten)]
    secrets: SecretArgs,
    #[command(flatten)]
    graph: GraphArgs,
    #[command(flatten)]
    data: DataDirArgs,
    /// The address at which Meta reaches the running Tidemark to fetch the media.
    #[arg(long, env = "TIDEMARK_PUBLIC_URL")]
    public_url: Option<String>,
    #[arg(long, env = "TIDEMARK_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
}

impl PublishContextArgs {
    fn publishing(&self, database_url: &str) -> anyhow::Result<Publishing> {
        let public_url = match &self.public_url {
            Some(url) => crate::config::public_url(url)?,
            None => crate::config::public_url(&format!("http://{}", self.bind))?,
        };
        let key = self.secrets.token_key()?;
        let pool = db::pool(database_url, 2)?;
        let client = GraphClient::new(self.graph.config()?, ClientOptions::default())?;
        let store = MediaStore::open(&self.data.data_dir, &key, public_url)?;
        let publisher = Publisher::new(pool.clone(), client.clone(), key.clone(), store, system_clock());
        let sync = SyncContext::new(pool.clone(), database_url, client, key, system_clock());
        Ok(Publishing::new(pool, Arc::new(publisher), system_clock()).with_sync(Arc::new(sync)))
    }
}

#[derive(Debug, Subcommand)]
pub enum ApiTokenCommand {
    /// Make a token and print it once (it is not stored: keep it somewhere safe).
    Create {
        /// What the token is for, e.g. the script that uses it.
        #[arg(long)]
        name: String,
        /// `read`, or `write` to also change what the API allows.
        #[arg(long, value_parser = parse_scope, default_value = "read")]
        scope: ApiScope,
        /// Stop working after this many days (none by default).
        #[arg(long)]
        expires_days: Option<u32>,
        #[command(flatten)]
        secrets: SecretArgs,
    },
    /// One line per token: id, name, scope, made, expiry, last use, revoked.
    List,
    /// Stop a token working, at once.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Re-encrypt every stored token from TIDEMARK_TOKEN_KEY_OLD to TIDEMARK_TOKEN_KEY.
    Rotate {
        #[command(flatten)]
        secrets: SecretArgs,
        /// The key the tokens are encrypted with now (base64, 32 bytes).
        #[arg(long, env = "TIDEMARK_TOKEN_KEY_OLD", hide_env_values = true)]
        old_key: Option<String>,
        /// File holding TIDEMARK_TOKEN_KEY_OLD.
        #[arg(long, env = "TIDEMARK_TOKEN_KEY_OLD_FILE")]
        old_key_file: Option<std::path::PathBuf>,
    },
}

fn parse_flavour(text: &str) -> Result<Flavour, String> {
    text.parse().map_err(|err: crate::domain::UnknownState| err.to_string())
}

fn parse_kind(text: &str) -> Result<PublicationKind, String> {
    text.parse().map_err(|err: crate::domain::UnknownState| err.to_string())
}

fn parse_scope(text: &str) -> Result<ApiScope, String> {
    text.parse().map_err(|err: crate::domain::UnknownState| err.to_string())
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse().map_err(|err: crate::domain::UnknownState| err.to_string())
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.log_format);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => {
                let settings = Settings::from_args(&cli.database, &args)?;
                let app = Application::build(settings).await?;
                app.run_until_stopped().await.context("the server stopped with an error")
            }
            Command::Demo { serve, demo_password } => {
                let mut settings = Settings::for_demo(&cli.database, &serve)?;
                let (simulator, password) =
                    demo::prepare(&settings.database_url, &settings.token_key, demo_password).await?;
                settings.graph = GraphConfig::new(Some(simulator.base_url()), &settings.graph.version)?;
                // Connecting through the simulator's dialogs works out of the box.
                settings
                    .apps
                    .instagram
                    .get_or_insert_with(|| MetaApp::new(oauth::INSTAGRAM_APP_ID, oauth::INSTAGRAM_APP_SECRET));
                settings
                    .apps
                    .facebook
                    .get_or_insert_with(|| MetaApp::new(oauth::FACEBOOK_APP_ID, oauth::FACEBOOK_APP_SECRET));
                // The simulator plays Meta's webhooks too: comments arrive while the demo runs.
                settings.apps.webhook_verify_token.get_or_insert_with(|| "demo webhook verify token".to_owned());
                let app_secret = settings.apps.instagram.as_ref().map(|a| a.secret().to_owned()).unwrap_or_default();
                let app = Application::build(settings.clone()).await?;
                simulator.start_comment_feed(
                    format!("http://127.0.0.1:{}/meta/webhooks", app.port()),
                    app_secret,
                    std::time::Duration::from_secs(45),
                );
                println!(
                    "Tidemark demo: open http://{} and sign in as {} with password {password}",
                    settings.bind,
                    demo::DEMO_USERNAME
                );
                let ctx = app.sync();
                if let Err(err) = demo::seed_inbox(&app.inbox()).await {
                    tracing::warn!(error = format!("{err:#}"), "the demo's saved replies and rule could not be made");
                }
                if let Err(err) = demo::add_alert_rules(&app.alerts()).await {
                    tracing::warn!(error = format!("{err:#}"), "the demo's alert rules could not be made");
                }
                if let Err(err) = demo::schedule_reports(&app.reports(), chrono_tz::UTC).await {
                    tracing::warn!(error = format!("{err:#}"), "the demo's report schedule could not be made");
                }
                match demo::plan_posts(&app.publishing()).await {
                    Ok(planned) => tracing::info!(planned, "demo posts planned"),
                    Err(err) => tracing::warn!(error = format!("{err:#}"), "demo posts could not be planned"),
                }
                tokio::spawn(async move {
                    if let Err(err) = sync::run(&ctx, Scope::All, Trigger::Schedule).await {
                        tracing::warn!(error = format!("{err:#}"), "first demo sync failed");
                    }
                });
                let result = app.run_until_stopped().await.context("the server stopped with an error");
                simulator.stop().await;
                result
            }
            Command::Healthcheck { bind } => healthcheck(&bind).await,
            Command::Export { output, account } => {
                let url = cli.database.url()?;
                db::run_migrations(&url).await?;
                let scope = account.map_or(archive::Scope::Everything, |id| archive::Scope::Account(AccountId(id)));
                if let Some(id) = account {
                    let mut conn = connect(&url).await?;
                    Account::find(&mut conn, AccountId(id))
                        .await?
                        .with_context(|| format!("there is no account {id}"))?;
                }
                // Written beside the target and renamed when complete: never a half-written archive.
                let partial = output.with_extension("zip.partial");
                let file =
                    std::fs::File::create(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
                let archive = Archive::new(db::pool(&url, 2)?, system_clock());
                if let Err(err) = archive.write_to(file, scope).await {
                    let _ = std::fs::remove_file(&partial);
                    return Err(err.context("the archive could not be written"));
                }
                std::fs::rename(&partial, &output).with_context(|| format!("cannot write {}", output.display()))?;
                println!("wrote {}", output.display());
                Ok(())
            }
            Command::Purge => {
                let url = cli.database.url()?;
                db::run_migrations(&url).await?;
                let counts = sync::retention::purge(&db::pool(&url, 1)?, &url, Utc::now()).await?;
                println!("purged {counts}");
                Ok(())
            }
            Command::Migrate => {
                let applied = db::run_migrations(&cli.database.url()?).await?;
                println!("{applied} migration(s) applied; the database is current");
                Ok(())
            }
            Command::User(command) => run_user_command(&cli.database.url()?, command).await,
            Command::Publish(command) => run_publish_command(&cli.database.url()?, command).await,
            Command::ApiToken(command) => run_api_token_command(&cli.database.url()?, command).await,
            Command::Simulator { bind, seed } => run_simulator(&bind, seed).await,
            Command::Account(command) => run_account_command(&cli.database.url()?, command).await,
            Command::Sync { account, secrets, graph } => {
                run_sync(&cli.database.url()?, account, &secrets, &graph).await
            }
            Command::Key(KeyCommand::Rotate { secrets, old_key, old_key_file }) => {
                let new = secrets.token_key()?;
                let old =
                    SecretArgs { token_key: old_key, token_key_file: old_key_file }.token_key().map_err(|err| {
                        anyhow::anyhow!("{}", err.to_string().replace("TIDEMARK_TOKEN_KEY", "TIDEMARK_TOKEN_KEY_OLD"))
                    })?;
                let url = cli.database.url()?;
                db::run_migrations(&url).await?;
                let mut conn = connect(&url).await?;
                let rotation = keys::rotate_keys(&mut conn, &old, &new).await?;
                println!(
                    "{} token(s) re-encrypted, {} already under the new key; {} second-factor secret(s) re-encrypted",
                    rotation.rotated, rotation.already_current, rotation.second_factors
                );
                if rotation.old_versions_may_remain {
                    println!(
                        "a transaction older than the rotation was still running: run VACUUM FULL ig_accounts, users, totp_enrolments once it ends to remove the old ciphertext from the database files"
                    );
                }
                Ok(())
            }
        }
    })
}

async fn run_api_token_command(database_url: &str, command: ApiTokenCommand) -> anyhow::Result<()> {
    db::run_migrations(database_url).await?;
    match command {
        ApiTokenCommand::Create { name, scope, expires_days, secrets } => {
            let pool = db::pool(database_url, 1)?;
            let tokens = ApiTokens::new(pool, &secrets.token_key()?, std::num::NonZeroU32::MIN, system_clock());
            let made = tokens.create(&name, scope, expires_days, None).await?;
            println!("{}", made.jwt);
            eprintln!(
                "token {} ({}, {}) made: it is shown only now; send it as `Authorization: Bearer <token>`",
                made.token.id,
                made.token.name,
                made.token.scope.as_str()
            );
        }
        ApiTokenCommand::List => {
            let mut conn = connect(database_url).await?;
            let when =
                |t: Option<chrono::DateTime<Utc>>| t.map_or("-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string());
            for token in db::api_tokens::all(&mut conn).await? {
                println!(
                    "{}\t{}\t{}\tmade {}\texpires {}\tlast used {}{}",
                    token.id,
                    token.name,
                    token.scope.as_str(),
                    token.created_at.format("%Y-%m-%d %H:%M"),
                    when(token.expires_at),
                    when(token.last_used_at),
                    token.revoked_at.map_or(String::new(), |at| format!("\trevoked {}", at.format("%Y-%m-%d %H:%M"))),
                );
            }
        }
        ApiTokenCommand::Revoke { id } => {
            let mut conn = connect(database_url).await?;
            if !db::api_tokens::revoke(&mut conn, crate::domain::ApiTokenId(id), Utc::now()).await? {
                bail!("there is no token {id} that is not revoked already");
            }
            println!("token {id} revoked");
        }
    }
    Ok(())
}

async fn connect(database_url: &str) -> anyhow::Result<AsyncPgConnection> {
    AsyncPgConnection::establish(database_url).await.context("cannot connect to the database")
}

async fn run_account_command(database_url: &str, command: AccountCommand) -> anyhow::Result<()> {
    db::run_migrations(database_url).await?;
    let mut conn = connect(database_url).await?;
    match command {
        AccountCommand::Add { login, secrets, graph } => {
            let key = secrets.token_key()?;
            let client = GraphClient::new(graph.config()?, ClientOptions::default())?;
            let token = read_secret_line("access token")?;
            let connected = accounts::connect(&mut conn, &client, &key, &token, login, Utc::now()).await?;
            for account in connected {
                println!(
                    "{}\t@{}\t{} followers",
                    account.id,
                    account.username,
                    account.followers_count.map_or("?".to_owned(), |n| n.to_string())
                );
            }
        }
        AccountCommand::List => {
            for account in Account::list(&mut conn).await? {
                let when = |t: Option<chrono::DateTime<Utc>>| {
                    t.map_or("never".to_owned(), |t| t.format("%Y-%m-%dT%H:%MZ").to_string())
                };
                println!(
                    "{}\t@{}\t{}\tlast sync {}\ttoken expires {}",
                    account.id,
                    account.username,
                    account.status.as_str(),
                    when(account.last_synced_at),
                    account.token_expires_at.map_or("unknown".to_owned(), |t| t.format("%Y-%m-%d").to_string())
                );
            }
        }
        AccountCommand::Disable { id } | AccountCommand::Enable { id } => {
            let status = if matches!(command, AccountCommand::Disable { .. }) {
                AccountStatus::Disabled
            } else {
                AccountStatus::Active
            };
            let account =
                Account::find(&mut conn, AccountId(id)).await?.with_context(|| format!("there is no account {id}"))?;
            if status == AccountStatus::Active && account.token().is_none() {
                bail!("account {id} has no token any more: connect it again to sync it");
            }
            Account::set_status(&mut conn, AccountId(id), status, None).await?;
            println!("account {id} is {status}");
        }
        AccountCommand::Disconnect { id, secrets, graph } => {
            let client = GraphClient::new(graph.config()?, ClientOptions::default())?;
            let accounts = Accounts::new(db::pool(database_url, 1)?, client, secrets.token_key()?, system_clock());
            let reason = format!(
                "Disconnected with `tidemark account disconnect` on {}.",
                Utc::now().format("%Y-%m-%d %H:%M UTC")
            );
            let revocation = accounts
                .disconnect(AccountId(id), &reason)
                .await?
                .with_context(|| format!("there is no account {id}"))?;
            let at_meta = match revocation {
                Revocation::Revoked => "Meta removed Tidemark's access",
                Revocation::NotOffered => {
                    "Instagram offers no revoke call: remove Tidemark under Settings › Apps and websites in Instagram"
                }
                Revocation::NoToken => "it had no token to revoke",
                Revocation::Failed => {
                    "Meta could not be reached to revoke: remove Tidemark in Facebook's Business integrations"
                }
            };
            println!("account {id} is disconnected: token deleted, history kept; {at_meta}");
        }
        AccountCommand::Delete { id, yes } => {
            if !yes {
                bail!("deleting account {id} removes all its posts and history: add --yes to confirm");
            }
            let footprint = Account::footprint(&mut conn, AccountId(id)).await?;
            if !Account::delete(&mut conn, AccountId(id)).await? {
                bail!("there is no account {id}");
            }
            println!("deleted account {id}: {} posts, {} snapshots", footprint.posts, footprint.snapshots);
        }
    }
    Ok(())
}

async fn run_publish_command(database_url: &str, command: PublishCommand) -> anyhow::Result<()> {
    db::run_migrations(database_url).await?;
    match command {
        PublishCommand::Schedule { account, at, kind, caption_file, media, alt_text, first_comment, context } => {
            let when = match at {
                Some(text) => When::At(
                    chrono::DateTime::parse_from_rfc3339(&text)
                        .with_context(|| {
                            format!("--at {text:?} is not an RFC 3339 time like 2026-12-01T09:00:00+01:00")
                        })?
                        .with_timezone(&Utc),
                ),
                None => When::Now,
            };
            let caption = std::fs::read_to_string(&caption_file)
                .with_context(|| format!("cannot read the caption from {}", caption_file.display()))?;
            let publishing = context.publishing(database_url)?;
            let mut uploads = Vec::with_capacity(media.len());
            for file in &media {
                // Copied, not moved: the operator's file stays where it was.
                let path = publishing.upload_path();
                if let Err(err) = std::fs::copy(file, &path) {
                    publishing.discard(&uploads);
                    bail!("cannot read {}: {err}", file.display());
                }
                let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into());
                uploads.push(Upload { path, name, alt_text: alt_text.clone() });
            }
            let composition = Composition {
                account: AccountId(account),
                kind,
                caption: caption.trim_end_matches(['\n', '\r']).to_owned(),
                first_comment,
                when,
                uploads,
                created_by: None,
            };
            let id = publishing.compose(composition).await.map_err(|err| anyhow::anyhow!("{err}"))?;
            println!("{id}");
        }
        PublishCommand::List => {
            let pool = db::pool(database_url, 1)?;
            let mut conn = pool.get().await?;
            for listed in crate::db::publications::Publication::all(&mut conn).await? {
                let p = &listed.publication;
                println!(
                    "{}\t@{}\t{}\t{}\t{}\t{}",
                    p.id,
                    listed.username,
                    p.kind.as_str(),
                    p.due_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    p.status.as_str(),
                    p.media_id.as_deref().unwrap_or("-")
                );
            }
        }
        PublishCommand::Run { context } => {
            let publishing = context.publishing(database_url)?;
            let summary = publishing.run_due(Trigger::Command).await?;
            println!("{summary}");
            for (id, media_id) in summary.published.iter().map(|(id, _, media)| (id, media)) {
                println!("  {id}: published as {media_id}");
            }
            for (id, why) in &summary.waiting {
                println!("  {id}: waiting: {why}");
            }
            for (id, why) in &summary.failed {
                println!("  {id}: failed: {why}");
            }
            if !summary.failed.is_empty() {
                bail!("{} publication(s) failed", summary.failed.len());
            }
        }
    }
    Ok(())
}

async fn run_sync(
    database_url: &str,
    account: Option<i64>,
    secrets: &SecretArgs,
    graph: &GraphArgs,
) -> anyhow::Result<()> {
    db::run_migrations(database_url).await?;
    let pool = db::pool(database_url, 2)?;
    let client = GraphClient::new(graph.config()?, ClientOptions::default())?;
    let ctx = SyncContext::new(pool, database_url, client, secrets.token_key()?, system_clock());
    let scope = account.map_or(Scope::All, |id| Scope::Account(AccountId(id)));
    match sync::run(&ctx, scope, Trigger::Command).await? {
        RunResult::Busy => bail!("another sync is running; try again when it has finished"),
        RunResult::Ran(summary) => {
            println!("{summary}");
            for error in &summary.errors {
                println!("  {error}");
            }
            if !summary.errors.is_empty() {
                bail!("{} account(s) had errors", summary.errors.len());
            }
        }
    }
    Ok(())
}

async fn run_user_command(database_url: &str, command: UserCommand) -> anyhow::Result<()> {
    db::run_migrations(database_url).await?;
    let users = Users::new(db::pool(database_url, 1)?);
    match command {
        UserCommand::Create { username, role } => {
            let username = normalize_username(&username).map_err(|problem| anyhow::anyhow!(problem))?;
            let password = read_secret_line(&format!("password for {username}"))?;
            let user = users.create(&username, role, password).await?;
            println!("created {} user {} (id {})", user.role, user.username, user.id);
        }
        UserCommand::List => {
            for user in users.list().await? {
                let second_factor = if user.second_factor_since.is_some() { "second factor" } else { "password only" };
                println!(
                    "{}\t{}\t{}\t{}\t{second_factor}",
                    user.id,
                    user.username,
                    user.role,
                    user.created_at.format("%Y-%m-%d")
                );
            }
        }
        UserCommand::Delete { username } => {
            let username = normalize_username(&username).map_err(|problem| anyhow::anyhow!(problem))?;
            let user =
                users.find_by_username(&username).await?.with_context(|| format!("there is no user {username}"))?;
            match users.delete(user.id).await {
                Ok(()) => println!("deleted user {username}"),
                Err(UserRefused::LastAdmin) => {
                    bail!("{username} is the last admin: make another user an admin first")
                }
                Err(err) => return Err(err.into()),
            }
        }
        UserCommand::ResetSecondFactor { username } => {
            let username = normalize_username(&username).map_err(|problem| anyhow::anyhow!(problem))?;
            let user =
                users.find_by_username(&username).await?.with_context(|| format!("there is no user {username}"))?;
            if users.reset_second_factor(user.id).await? {
                println!("removed the second factor of {username}; they set up a new one on their account page");
            } else {
                println!("{username} had no second factor; nothing changed");
            }
        }
    }
    Ok(())
}

async fn healthcheck(bind: &str) -> anyhow::Result<()> {
    // A server bound to every interface is asked on loopback.
    let target = bind.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]");
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(3)).build()?;
    let response = client
        .get(format!("http://{target}/healthz"))
        .send()
        .await
        .with_context(|| format!("no answer from {target}"))?;
    if !response.status().is_success() {
        bail!("{target}/healthz answered {}", response.status());
    }
    Ok(())
}

async fn run_simulator(bind: &str, seed: u64) -> anyhow::Result<()> {
    let simulator = Simulator::start(SimulatorConfig::standard(seed), bind)?;
    println!("Graph API simulator at {} (seed {seed})", simulator.base_url());
    println!("Point Tidemark at it with TIDEMARK_GRAPH_BASE_URL={}", simulator.base_url());
    println!(
        "Its Meta apps, for Connect with Instagram/Facebook: TIDEMARK_INSTAGRAM_APP_ID={} TIDEMARK_INSTAGRAM_APP_SECRET={} TIDEMARK_FACEBOOK_APP_ID={} TIDEMARK_FACEBOOK_APP_SECRET={}",
        oauth::INSTAGRAM_APP_ID,
        oauth::INSTAGRAM_APP_SECRET,
        oauth::FACEBOOK_APP_ID,
        oauth::FACEBOOK_APP_SECRET
    );
    for index in 0..simulator.account_count() {
        println!(
            "account @{} ({} login): token {}",
            simulator.username(index),
            simulator.flavour(index),
            simulator.token(index)
        );
    }
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    simulator.stop().await;
    Ok(())
}

/// One line from stdin, without its line ending. Secrets never come from argv, where other
/// users of the machine could read them.
fn read_secret_line(what: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{what} (shown as typed): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).with_context(|| format!("cannot read the {what} from stdin"))?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        bail!("no {what} on stdin: pipe it in, e.g. `printf '%s\\n' \"$SECRET\" | tidemark …`");
    }
    Ok(secret)
}
