//! The `cobrowse` binary: parses flags, builds the configuration, binds, and runs the server.

mod demo;
mod settings;

use clap::{Parser, Subcommand};
use settings::Overrides;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc rather than the C library's allocator. The relay allocates and frees a few small
/// buffers per frame (the frame's text, its parsed ops, a batch), and under the capacity load
/// glibc's malloc and free were a tenth of the server's CPU (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Self-hosted co-browsing for contact centers.
#[derive(Parser)]
#[command(name = "cobrowse", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the file and environment).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data directory (overrides the file and environment).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Run the server with the demo company site at /demo/ and demo agents.
    Demo(ServeArgs),
    /// Check a configuration and print it resolved.
    CheckConfig(ServeArgs),
    /// Read a password on standard input and print its Argon2 hash for `[[agents]]`.
    HashPassword,
}

/// The async runtime. With one core to run on (a small VM, or a process pinned to one core), a
/// single-threaded scheduler: the work-stealing one only adds cross-thread wake-ups and atomics
/// there. With more cores, one worker per core.
fn build_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut builder = if cores == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COBROWSE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match build_runtime() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cobrowse: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cobrowse: {err:#}");
            ExitCode::from(2)
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve(cobrowse_server::config::Config::default(), args, false).await,
        Command::Demo(args) => serve(demo::base_config(), args, true).await,
        Command::CheckConfig(args) => {
            let config =
                settings::load(cobrowse_server::config::Config::default(), args.config.as_deref(), &overrides(&args))?;
            println!("{}", toml_like(&config));
            Ok(())
        }
        Command::HashPassword => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                anyhow::bail!("no password on standard input");
            }
            println!("{}", cobrowse_server::auth::hash_password(password));
            Ok(())
        }
    }
}

fn overrides(args: &ServeArgs) -> Overrides {
    Overrides { listen: args.listen, data_dir: args.data_dir.clone() }
}

fn toml_like(config: &cobrowse_server::config::Config) -> String {
    serde_json::to_string_pretty(config).unwrap_or_default()
}

async fn serve(base: cobrowse_server::config::Config, args: ServeArgs, demo: bool) -> anyhow::Result<()> {
    let config = settings::load(base, args.config.as_deref(), &overrides(&args))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {}: {err}", config.listen))?;
    let address = listener.local_addr()?;
    let base_url = config.public_url.clone().unwrap_or_else(|| format!("http://{address}"));
    // The first line of standard output is machine-readable: tests and scripts wait for it.
    println!("cobrowse listening on http://{address}");
    if demo {
        println!("{}", demo::banner(&base_url));
    }
    cobrowse_server::run(listener, config, shutdown_signal()).await?;
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
