//! `cobrowse-loadgen`: the Cobrowse capacity benchmark's load generator (issue 6, item 3).
//!
//! - `capacity` runs the whole benchmark: for each step N it starts each system under test
//!   fresh on the server core (the `cobrowse` server with a realistic page and with a tiny one,
//!   and the minimal socket.io and `ws` relays of bench/relays/), drives N customers and N agents
//!   and writes bench/results/capacity.json and capacity.md. Run it through bench/capacity.sh,
//!   which builds, installs the relays' packages and pins this process to the other core.
//! - `drive` puts load on a server that is already running (the end-to-end latency benchmark
//!   uses it for its "under load" figures).
//! - `config` writes a server configuration with N load-test agents.
//! - `compress` measures permessage-deflate on recorded frame streams (item 5).
//!
//! Layout: [`page`] the shared page and the frame mix; [`wire`] the envelopes of each system;
//! [`session`] one customer and one agent; [`run`] one step; [`stats`] counters and `/proc`;
//! [`capacity`] the orchestration and reports; [`compress`] the compression measurement.

mod capacity;
mod compress;
mod page;
mod run;
mod session;
mod stats;
mod wire;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "cobrowse-loadgen", about = "Load generator for the Cobrowse capacity benchmark")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Timing {
    /// Sessions set up at once.
    #[arg(long, default_value_t = 64)]
    ramp_concurrency: usize,
    /// Seconds of traffic before the window.
    #[arg(long, default_value_t = 10)]
    warmup: u64,
    /// Seconds in the window.
    #[arg(long, default_value_t = 30)]
    measure: u64,
    /// Seconds to wait for frames in flight after sending stops.
    #[arg(long, default_value_t = 3)]
    drain: u64,
}

#[derive(Subcommand)]
enum Command {
    /// The full capacity benchmark.
    Capacity {
        /// Session counts, comma-separated.
        #[arg(long, default_value = "1000,2000,3000,5000,9900", value_delimiter = ',')]
        steps: Vec<usize>,
        /// Systems: cobrowse, cobrowse-tiny, socketio, ws.
        #[arg(long, default_value = "cobrowse,cobrowse-tiny,socketio,ws", value_delimiter = ',')]
        systems: Vec<String>,
        /// Steps at which cobrowse-tiny runs (for the memory figure, below saturation).
        #[arg(long, default_value = "2000", value_delimiter = ',')]
        tiny_steps: Vec<usize>,
        /// The release `cobrowse` binary.
        #[arg(long, default_value = "target/release/cobrowse")]
        cobrowse_bin: PathBuf,
        /// Directory of the Node relays.
        #[arg(long, default_value = "bench/relays")]
        relays_dir: PathBuf,
        /// Results directory.
        #[arg(long, default_value = "bench/results")]
        out: PathBuf,
        /// Core the systems under test are pinned to.
        #[arg(long, default_value_t = 0)]
        server_core: u32,
        #[command(flatten)]
        timing: Timing,
    },
    /// Load a running server: N sessions for the window, then print the figures as JSON.
    Drive {
        /// cobrowse, socketio or ws.
        #[arg(long, default_value = "cobrowse")]
        system: String,
        /// The server's address (host:port).
        #[arg(long)]
        addr: std::net::SocketAddr,
        /// Sessions.
        #[arg(long, default_value_t = 1000)]
        sessions: usize,
        /// tiny or realistic.
        #[arg(long, default_value = "realistic")]
        page: String,
        /// The server's pid, for CPU and memory figures.
        #[arg(long)]
        server_pid: Option<u32>,
        /// End the window when standard input closes.
        #[arg(long)]
        stop_on_stdin: bool,
        #[command(flatten)]
        timing: Timing,
    },
    /// Write a server configuration with N load-test agents (password: the loadgen's own).
    Config {
        /// Agents.
        #[arg(long)]
        agents: usize,
        /// The `cobrowse` binary, for `hash-password`.
        #[arg(long, default_value = "target/release/cobrowse")]
        cobrowse_bin: PathBuf,
        /// Extra agents as `id:password` (e.g. the demo's alice:alice-demo).
        #[arg(long)]
        extra_agent: Vec<String>,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure permessage-deflate on recorded frame streams (JSON lines of {"dir","text"}).
    Compress {
        /// Recorded streams.
        #[arg(required = true)]
        streams: Vec<PathBuf>,
        /// Where to write the JSON result.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // One thread: the generator is pinned to one core, and a single thread keeps its own
    // scheduling out of the figures.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(dispatch(cli.command))
}

fn step_options(timing: &Timing, sessions: usize, server_pid: Option<u32>, stop_on_stdin: bool) -> run::StepOptions {
    run::StepOptions {
        sessions,
        ramp_concurrency: timing.ramp_concurrency,
        ramp_timeout: Duration::from_secs(900),
        ramp_stall: Duration::from_secs(60),
        warmup: Duration::from_secs(timing.warmup),
        measure: Duration::from_secs(timing.measure),
        drain: Duration::from_secs(timing.drain),
        server_pid,
        stop_on_stdin,
    }
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Capacity { steps, systems, tiny_steps, cobrowse_bin, relays_dir, out, server_core, timing } => {
            let variants = systems.iter().map(|s| capacity::Variant::parse(s)).collect::<anyhow::Result<Vec<_>>>()?;
            let options = capacity::CapacityOptions {
                steps,
                variants,
                tiny_steps,
                cobrowse_bin,
                relays_dir,
                out_dir: out.clone(),
                server_core,
                step: step_options(&timing, 0, None, false),
            };
            let report = capacity::run(options, machine()).await?;
            eprintln!("\nHighest N with p99 ≤ 25 ms and nothing lost:");
            for (name, best) in &report.capacity {
                eprintln!("  {name}: {}", best.map(|n| n.to_string()).unwrap_or_else(|| "none".into()));
            }
            eprintln!("Wrote {} and {}", out.join("capacity.json").display(), out.join("capacity.md").display());
            Ok(())
        }
        Command::Drive { system, addr, sessions, page, server_pid, stop_on_stdin, timing } => {
            let system = wire::System::parse(&system)?;
            let page = page::Page::new(if page == "tiny" { page::PageSize::Tiny } else { page::PageSize::Realistic });
            let http = reqwest::Client::builder().pool_max_idle_per_host(8).build()?;
            let agent_tokens = if system == wire::System::Cobrowse {
                eprintln!("loadgen: signing in {sessions} agents");
                capacity::sign_in_agents(&http, &format!("http://{addr}"), sessions).await?
            } else {
                Vec::new()
            };
            let target = Arc::new(session::Target { system, addr, http, page, agent_tokens });
            let options = step_options(&timing, sessions, server_pid, stop_on_stdin);
            let result = run::run_step(target, &options, |ready| {
                // Scripts wait for this line before they measure under load.
                println!("loadgen ready {ready}");
            })
            .await;
            println!("{}", serde_json::to_string(&result)?);
            Ok(())
        }
        Command::Config { agents, cobrowse_bin, extra_agent, out } => {
            let mut extra = String::new();
            for entry in extra_agent {
                let (id, password) = entry.split_once(':').context("--extra-agent is id:password")?;
                let hash = capacity::hash_password(&cobrowse_bin, password)?;
                extra.push_str(&format!("[[agents]]\nid = \"{id}\"\nname = \"{id}\"\npassword_hash = \"{hash}\"\n\n"));
            }
            capacity::write_config(&out, &cobrowse_bin, agents, &extra)
        }
        Command::Compress { streams, out } => {
            let report = compress::measure(&streams)?;
            let text = serde_json::to_string_pretty(&report)?;
            if let Some(out) = out {
                std::fs::write(&out, &text)?;
            }
            println!("{text}");
            Ok(())
        }
    }
}

/// What the figures were measured on.
fn machine() -> serde_json::Value {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        .unwrap_or_default();
    let cores = read("/proc/cpuinfo").lines().filter(|l| l.starts_with("processor")).count();
    let memory =
        read("/proc/meminfo").lines().next().unwrap_or_default().split_whitespace().nth(1).unwrap_or("0").to_owned();
    let files = read("/proc/self/limits")
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .map(|l| l.split_whitespace().nth(3).unwrap_or("").to_owned())
        .unwrap_or_default();
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    let load = read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let git = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let memory_gib = memory.parse::<f64>().unwrap_or(0.0) / 1024.0 / 1024.0;
    serde_json::json!({
        "summary": format!("{cpu}, {cores} cores, {memory_gib:.0} GiB, open-file limit {files}, Linux {kernel}, load average at start {load}, commit {git}"),
        "cpu": cpu,
        "memory_kib": memory,
        "open_files": files,
        "kernel": kernel,
        "load_average_at_start": load,
        "commit": git,
    })
}
