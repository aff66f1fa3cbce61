//! The `captionfeed` command line.

use std::io::Read as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use captionfeed::cli;

#[derive(Parser)]
#[command(
    name = "captionfeed",
    version,
    about = "Blog feeds in, ready-to-post social media captions out"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web app, the poller and everything else in one process.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the captions that would be made for a feed's posts (URL or file).
    Preview {
        /// A feed URL (http/https) or a local file.
        source: String,
        /// Platforms, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        platform: Vec<String>,
        /// One JSON object per post per line.
        #[arg(long)]
        json: bool,
    },
    /// The length of a text as a platform counts it (stdin when TEXT is absent). Exits 0
    /// when the text fits, 1 when it does not, 2 on an error.
    Measure {
        #[arg(long)]
        platform: String,
        text: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage personal API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Copy the live SQLite database to PATH (a new file), consistent as of one moment.
    Backup { path: std::path::PathBuf },
    /// Operators: the accounts that may use the console under /admin.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Email digests.
    Digest {
        #[command(subcommand)]
        command: DigestCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Make an account an operator.
    Grant {
        #[arg(long)]
        email: String,
    },
    /// Take the console away from an account.
    Revoke {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum DigestCommand {
    /// Mail an account a digest of its newest captions now (outside its schedule).
    Send {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for an account and print it (it is shown only once).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from stdin.
    Create {
        #[arg(long)]
        email: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match captionfeed::config::Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    // Neither reading the command line nor the settings starts a thread.
    tune_malloc(settings.database_url.is_sqlite());
    captionfeed::telemetry::init(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Measure's verdict: the status says whether the text fits; an error is 2 there.
    let mut measured: Option<bool> = None;
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve => cli::serve(settings).await,
            Command::Migrate => cli::migrate(&settings).await,
            Command::Preview {
                source,
                platform,
                json,
            } => cli::preview(&settings, &source, &platform, json).await,
            Command::Measure {
                platform,
                text,
                json,
            } => {
                let text = match text {
                    Some(text) => text,
                    None => {
                        let mut buf = String::new();
                        std::io::stdin().read_to_string(&mut buf)?;
                        buf
                    }
                };
                measured = Some(false);
                measured = Some(cli::measure(&platform, &text, json)?);
                Ok(())
            }
            Command::User {
                command: UserCommand::Create { email },
            } => {
                let mut password = String::new();
                std::io::stdin().read_to_string(&mut password)?;
                cli::create_user(&settings, &email, password.trim_end_matches(['\r', '\n'])).await
            }
            Command::Token {
                command: TokenCommand::Create { email, name },
            } => cli::create_token(&settings, &email, &name).await,
            Command::Backup { path } => cli::backup(&settings, &path).await,
            Command::Admin {
                command: AdminCommand::Grant { email },
            } => cli::grant_operator(&settings, &email).await,
            Command::Admin {
                command: AdminCommand::Revoke { email },
            } => cli::revoke_operator(&settings, &email).await,
            Command::Digest {
                command: DigestCommand::Send { email },
            } => cli::send_test_digest(&settings, &email).await,
        }
    });
    match result {
        Ok(()) if measured == Some(false) => ExitCode::from(1),
        Ok(()) => ExitCode::SUCCESS,
        // The reader of the output went away (`| head -1`): nothing more to say.
        Err(e) if cli::is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if measured.is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// glibc's malloc, set before any thread starts. By default it gives each thread that
/// allocates its own arena (up to 8 per core) and raises its mmap threshold after each
/// large free, so the poller's batches (many threads, documents of tens of KB, batch
/// statements of MBs) leave memory in arenas that is never given back: the first poll of
/// 2,000 feeds peaked at 86 MiB on SQLite and 159 MiB on PostgreSQL (issue 21). A fixed
/// 128 KiB threshold gives the large blocks back.
///
/// Arenas: on SQLite the process does all of the database's work itself, on the threads
/// that allocate most (the batch writer beside Tokio's workers and the feed parsers, one
/// of each per core), and with two arenas in all they queued for each other's arena locks:
/// four per core made a first poll of 2,000 feeds on two cores about 20% shorter, for a
/// peak of 72 MiB against 60 (80 MiB with 10,000 feeds). On PostgreSQL the server does that
/// work in its own processes: more arenas gained nothing there and raised the first poll's
/// peak from 80 to 95 MiB, so it keeps two. An operator who sets `GLIBC_TUNABLES` keeps
/// their own choice.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc(sqlite: bool) {
    if std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    // From glibc's <malloc.h>.
    const M_MMAP_THRESHOLD: i32 = -3;
    const M_ARENA_MAX: i32 = -8;
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    let arenas = if sqlite {
        std::thread::available_parallelism().map_or(2, |n| n.get().saturating_mul(4))
    } else {
        2
    };
    // SAFETY: mallopt only sets the allocator's parameters, and no other thread exists yet.
    unsafe {
        mallopt(M_ARENA_MAX, i32::try_from(arenas).unwrap_or(i32::MAX));
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc(_sqlite: bool) {}
