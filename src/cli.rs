//! The command line: every command of the `tidemark` binary.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::auth::password;
use crate::config::{DatabaseArgs, LogFormat, ServeArgs, Settings};
use crate::db::users::{NewUser, Role, User, UserChangeError, normalize_username};
use crate::simulator::{Simulator, SimulatorConfig};
use crate::startup::Application;
use crate::{db, telemetry};

#[derive(Debug, Parser)]
#[command(name = "tidemark", version, about = "Self-hosted Instagram analytics")]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Log output: text for people, json for machines.
    #[arg(
        long,
        env = "TIDEMARK_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the dashboard until SIGINT/SIGTERM.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage dashboard users.
    #[command(subcommand)]
    User(UserCommand),
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
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => {
                let settings = Settings::from_args(&cli.database, &args)?;
                let app = Application::build(settings).await?;
                app.run_until_stopped()
                    .await
                    .context("the server stopped with an error")
            }
            Command::Migrate => {
                let applied = db::run_migrations(&cli.database.url()?).await?;
                println!("{applied} migration(s) applied; the database is current");
                Ok(())
            }
            Command::User(command) => run_user_command(&cli.database.url()?, command).await,
            Command::Simulator { bind, seed } => run_simulator(&bind, seed).await,
        }
    })
}

async fn run_user_command(database_url: &str, command: UserCommand) -> anyhow::Result<()> {
    db::run_migrations(database_url).await?;
    let mut conn = AsyncPgConnection::establish(database_url)
        .await
        .context("cannot connect to the database")?;
    match command {
        UserCommand::Create { username, role } => {
            let username =
                normalize_username(&username).map_err(|problem| anyhow::anyhow!(problem))?;
            let password = read_password(&username)?;
            password::check_new_password(&password).map_err(|problem| anyhow::anyhow!(problem))?;
            let hash = password::hash(password).await?;
            let new = NewUser {
                username: &username,
                role: role.as_str(),
                password_hash: &hash,
            };
            match User::create(&mut conn, &new).await? {
                Some(user) => println!(
                    "created {} user {} (id {})",
                    user.role, user.username, user.id
                ),
                None => bail!("the username {username} is taken"),
            }
        }
        UserCommand::List => {
            for user in User::list(&mut conn).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    user.id,
                    user.username,
                    user.role,
                    user.created_at.format("%Y-%m-%d")
                );
            }
        }
        UserCommand::Delete { username } => {
            let username =
                normalize_username(&username).map_err(|problem| anyhow::anyhow!(problem))?;
            let user = User::find_by_username(&mut conn, &username)
                .await?
                .with_context(|| format!("there is no user {username}"))?;
            match User::delete(&mut conn, user.id).await {
                Ok(()) => println!("deleted user {username}"),
                Err(UserChangeError::LastAdmin) => {
                    bail!("{username} is the last admin: make another user an admin first")
                }
                Err(err) => return Err(err.into()),
            }
        }
    }
    Ok(())
}

async fn run_simulator(bind: &str, seed: u64) -> anyhow::Result<()> {
    let simulator = Simulator::start(SimulatorConfig::standard(seed), bind)?;
    println!(
        "Graph API simulator at {} (seed {seed})",
        simulator.base_url()
    );
    println!(
        "Point Tidemark at it with TIDEMARK_GRAPH_BASE_URL={}",
        simulator.base_url()
    );
    for index in 0..simulator.account_count() {
        println!(
            "account @{} ({} login): token {}",
            simulator.username(index),
            simulator.flavour(index),
            simulator.token(index)
        );
    }
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    simulator.stop().await;
    Ok(())
}

/// One line from stdin, without its line ending. Never from argv, where other users of
/// the machine could read it.
fn read_password(username: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password for {username} (shown as typed): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!(
            "no password on stdin: pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | tidemark user create …`"
        );
    }
    Ok(password)
}
