//! The capacity benchmark: for each step N and each system, start the system fresh on the
//! server core, sign the agents in, run the step, stop the system; write JSON and Markdown.

use crate::page::{Page, PageSize};
use crate::run::{run_step, StepOptions, StepResult};
use crate::session::Target;
use crate::wire::System;
use anyhow::{anyhow, bail, Context};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Password of every load-test agent (their hash goes in the generated configuration).
pub const AGENT_PASSWORD: &str = "loadgen-agent-password";

/// One system with one page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// The system.
    pub system: System,
    /// The page its customers share.
    pub page: PageSize,
}

impl Variant {
    /// `cobrowse`, `cobrowse-tiny`, `socketio`, `ws`.
    pub fn parse(name: &str) -> anyhow::Result<Variant> {
        Ok(match name {
            "cobrowse-tiny" => Variant { system: System::Cobrowse, page: PageSize::Tiny },
            other => Variant { system: System::parse(other)?, page: PageSize::Realistic },
        })
    }

    /// Name in reports.
    pub fn name(self) -> String {
        match (self.system, self.page) {
            (System::Cobrowse, PageSize::Tiny) => "cobrowse-tiny".into(),
            (system, _) => system.name().into(),
        }
    }
}

/// Options of the whole benchmark.
#[derive(Debug, Clone)]
pub struct CapacityOptions {
    /// Session counts.
    pub steps: Vec<usize>,
    /// Systems, run in this order at each step.
    pub variants: Vec<Variant>,
    /// Steps at which the tiny-page variant runs (its agents' sign-ins are slow: Argon2).
    pub tiny_steps: Vec<usize>,
    /// The `cobrowse` binary (release).
    pub cobrowse_bin: PathBuf,
    /// bench/relays/.
    pub relays_dir: PathBuf,
    /// Where results go (bench/results/).
    pub out_dir: PathBuf,
    /// The core the systems run on.
    pub server_core: u32,
    /// Per-step timing.
    pub step: StepOptions,
}

/// A step of one variant.
#[derive(Debug, Clone, Serialize)]
pub struct VariantStep {
    /// Variant name.
    pub system: String,
    /// Page size.
    pub page: PageSize,
    /// Snapshot nodes and bytes.
    pub snapshot_nodes: u32,
    /// See `snapshot_nodes`.
    pub snapshot_bytes: usize,
    /// Seconds the agents' sign-ins took (Cobrowse only; Argon2 on the server core).
    pub sign_in_secs: Option<f64>,
    /// The step's figures, or why it did not run.
    pub result: Result<StepResult, String>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct CapacityReport {
    /// When.
    pub started: String,
    /// Machine and software.
    pub machine: serde_json::Value,
    /// How the steps ran.
    pub settings: serde_json::Value,
    /// Every step of every variant.
    pub steps: Vec<VariantStep>,
    /// Per variant: highest N with p99 ≤ 25 ms and nothing lost.
    pub capacity: Vec<(String, Option<usize>)>,
}

/// A running system under test.
struct Running {
    child: Child,
    addr: SocketAddr,
    pid: u32,
}

async fn start(variant: Variant, options: &CapacityOptions, config: &Path, log: &Path) -> anyhow::Result<Running> {
    let core = options.server_core.to_string();
    let mut command = Command::new("taskset");
    command.arg("-c").arg(&core);
    match variant.system {
        System::Cobrowse => {
            let data = log.with_extension("data");
            let _ = std::fs::remove_dir_all(&data);
            command
                .arg(&options.cobrowse_bin)
                .arg("serve")
                .arg("--config")
                .arg(config)
                .arg("--listen")
                .arg("127.0.0.1:0")
                .arg("--data-dir")
                .arg(&data);
        }
        System::SocketIo => {
            command.arg("node").arg(options.relays_dir.join("socketio-relay.js"));
        }
        System::Ws => {
            command.arg("node").arg(options.relays_dir.join("ws-relay.js"));
        }
    }
    // Every `COBROWSE_*` variable is a configuration key to the server, which refuses unknown
    // ones: pass none through but the log level.
    for (name, _) in std::env::vars() {
        if name.starts_with("COBROWSE_") {
            command.env_remove(name);
        }
    }
    if variant.system == System::Cobrowse {
        command.env("COBROWSE_LOG", "warn");
    }
    let stderr = std::fs::File::create(log).with_context(|| format!("create {}", log.display()))?;
    command.stdout(Stdio::piped()).stderr(Stdio::from(stderr)).stdin(Stdio::null()).kill_on_drop(true);
    let mut child = command.spawn().context("start the system under test (is taskset installed?)")?;
    let pid = child.id().ok_or_else(|| anyhow!("the system exited at once"))?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            for prefix in ["cobrowse listening on http://", "relay listening on http://"] {
                if let Some(rest) = line.strip_prefix(prefix) {
                    let addr: SocketAddr = rest.trim().trim_end_matches('/').parse()?;
                    return Ok(addr);
                }
            }
        }
        bail!("the system exited before listening; see {}", log.display())
    })
    .await
    .map_err(|_| anyhow!("the system did not start within 60 s; see {}", log.display()))??;
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Running { child, addr, pid })
}

/// Signs in agents `0..count` (Argon2 on the server: this is slow on purpose).
pub async fn sign_in_agents(http: &reqwest::Client, base: &str, count: usize) -> anyhow::Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct SignedIn {
        token: String,
    }
    let mut tokens = vec![String::new(); count];
    let mut started = 0;
    let mut pending = tokio::task::JoinSet::new();
    let mut done = 0;
    let mut last_report = Instant::now();
    while done < count {
        while started < count && pending.len() < 4 {
            let (http, base, index) = (http.clone(), base.to_owned(), started);
            pending.spawn(async move {
                let body = serde_json::json!({ "username": agent_id(index), "password": AGENT_PASSWORD });
                let response = http.post(format!("{base}/api/v1/auth/login")).json(&body).send().await?;
                let signed: SignedIn = response.error_for_status()?.json().await?;
                anyhow::Ok((index, signed.token))
            });
            started += 1;
        }
        let (index, token) = pending.join_next().await.ok_or_else(|| anyhow!("no sign-in running"))???;
        tokens[index] = token;
        done += 1;
        if last_report.elapsed() > Duration::from_secs(15) {
            eprintln!("  … {done}/{count} agents signed in");
            last_report = Instant::now();
        }
    }
    Ok(tokens)
}

/// The ID of load-test agent `index`.
pub fn agent_id(index: usize) -> String {
    format!("lg-{index:05}")
}

/// Writes the configuration for `agents` load-test agents (plus any `extra` TOML appended).
///
/// Sessions are created without a chat or call reference (`policy.standalone_sessions`) when
/// the server knows that setting; older servers accept such sessions without it.
pub fn write_config(path: &Path, cobrowse_bin: &Path, agents: usize, extra: &str) -> anyhow::Result<()> {
    let hash = cheap_hash(AGENT_PASSWORD)?;
    let mut body = String::new();
    body.push_str(extra);
    for index in 0..agents {
        body.push_str(&format!(
            "[[agents]]\nid = \"{}\"\nname = \"Load agent {index}\"\npassword_hash = \"{hash}\"\n\n",
            agent_id(index)
        ));
    }
    for standalone in [true, false] {
        let mut text = String::from(
            "# Generated by cobrowse-loadgen: load-test agents and limits raised for one client machine.\n\
             [limits]\n\
             logins_per_address_per_minute = 1000000\n\
             joins_per_address_per_minute = 1000000\n\
             joins_per_agent_per_minute = 1000000\n\
             sessions_per_address_per_minute = 1000000\n\
             # Two sockets per session; the open-file limit (20,000) is the real ceiling.\n\
             max_connections = 19990\n\
             max_sessions = 10000\n\n",
        );
        if standalone {
            text.push_str("[policy]\nstandalone_sessions = true\n\n");
        }
        text.push_str(&body);
        std::fs::write(path, text).with_context(|| format!("write {}", path.display()))?;
        if config_accepted(cobrowse_bin, path)? {
            return Ok(());
        }
    }
    bail!("`cobrowse check-config` refuses the generated configuration {}", path.display())
}

/// Whether `cobrowse check-config` accepts a configuration file.
fn config_accepted(cobrowse_bin: &Path, path: &Path) -> anyhow::Result<bool> {
    let mut command = std::process::Command::new(cobrowse_bin);
    for (name, _) in std::env::vars() {
        if name.starts_with("COBROWSE_") {
            command.env_remove(name);
        }
    }
    let out =
        command.arg("check-config").arg("--config").arg(path).stdout(Stdio::null()).stderr(Stdio::null()).status()?;
    Ok(out.success())
}

/// An Argon2id hash at the algorithm's lowest cost, for the load-test agents only. The server
/// verifies with the parameters the hash names; at the production cost, signing in 9,900 agents
/// kept the server's one core busy for minutes before every step, and sign-in is not what this
/// benchmark measures.
fn cheap_hash(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(argon2::Params::MIN_M_COST, 1, 1, None).map_err(|e| anyhow!("{e}"))?;
    let hasher = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::encode_b64(b"cobrowse-loadgen").map_err(|e| anyhow!("{e}"))?;
    Ok(hasher.hash_password(password.as_bytes(), &salt).map_err(|e| anyhow!("{e}"))?.to_string())
}

/// `cobrowse hash-password`.
pub fn hash_password(cobrowse_bin: &Path, password: &str) -> anyhow::Result<String> {
    use std::io::Write;
    let mut command = std::process::Command::new(cobrowse_bin);
    for (name, _) in std::env::vars() {
        if name.starts_with("COBROWSE_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("run {} hash-password", cobrowse_bin.display()))?;
    child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?.write_all(format!("{password}\n").as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("hash-password failed");
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// Runs every step of every variant.
pub async fn run(options: CapacityOptions, machine: serde_json::Value) -> anyhow::Result<CapacityReport> {
    let raw = options.out_dir.join("raw").join("capacity");
    std::fs::create_dir_all(&raw)?;
    let max_agents = options.steps.iter().copied().max().unwrap_or(0);
    let config = raw.join("cobrowse-bench.toml");
    if options.variants.iter().any(|v| v.system == System::Cobrowse) {
        write_config(&config, &options.cobrowse_bin, max_agents, "")?;
    }
    let http = reqwest::Client::builder().pool_max_idle_per_host(8).build()?;
    let mut report = CapacityReport {
        started: now_text(),
        machine,
        settings: serde_json::json!({
            "steps": options.steps,
            "variants": options.variants.iter().map(|v| v.name()).collect::<Vec<_>>(),
            "tiny_steps": options.tiny_steps,
            "server_core": options.server_core,
            "warmup_secs": options.step.warmup.as_secs_f64(),
            "measure_secs": options.step.measure.as_secs_f64(),
            "drain_secs": options.step.drain.as_secs_f64(),
            "ramp_concurrency": options.step.ramp_concurrency,
            "customer_frames_per_sec": crate::session::CUSTOMER_FPS,
            "agent_frames_per_sec": crate::session::AGENT_FPS,
        }),
        steps: Vec::new(),
        capacity: Vec::new(),
    };
    for &sessions in &options.steps {
        for &variant in &options.variants {
            if variant.page == PageSize::Tiny && !options.tiny_steps.contains(&sessions) {
                continue;
            }
            let name = variant.name();
            eprintln!("== {name}, {sessions} sessions");
            let page = Page::new(variant.page);
            let (snapshot_nodes, snapshot_bytes) = (page.nodes, page.snapshot_body.len());
            let log = raw.join(format!("{name}-{sessions}.log"));
            let outcome = run_variant(variant, sessions, page, &options, &config, &log, &http).await;
            let (sign_in_secs, result) = match outcome {
                Ok((sign_in, result)) => (sign_in, Ok(result)),
                Err(err) => {
                    eprintln!("   failed: {err:#}");
                    (None, Err(format!("{err:#}")))
                }
            };
            if let Ok(r) = &result {
                print_line(&name, r);
            }
            report.steps.push(VariantStep {
                system: name,
                page: variant.page,
                snapshot_nodes,
                snapshot_bytes,
                sign_in_secs,
                result,
            });
            report.capacity = capacity(&report.steps, &options.variants);
            write_report(&options.out_dir, &report)?;
            // Let the closed sockets leave the kernel's tables before the next system starts.
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }
    Ok(report)
}

async fn run_variant(
    variant: Variant,
    sessions: usize,
    page: Page,
    options: &CapacityOptions,
    config: &Path,
    log: &Path,
    http: &reqwest::Client,
) -> anyhow::Result<(Option<f64>, StepResult)> {
    let mut running = start(variant, options, config, log).await?;
    let base = format!("http://{}", running.addr);
    let mut sign_in_secs = None;
    let agent_tokens = if variant.system == System::Cobrowse {
        let started = Instant::now();
        let tokens = sign_in_agents(http, &base, sessions).await?;
        sign_in_secs = Some((started.elapsed().as_secs_f64() * 10.0).round() / 10.0);
        tokens
    } else {
        Vec::new()
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let target =
        Arc::new(Target { system: variant.system, addr: running.addr, http: http.clone(), page, agent_tokens });
    let step = StepOptions { sessions, server_pid: Some(running.pid), ..options.step.clone() };
    let result = run_step(target, &step, |ready| eprintln!("   {ready} sessions ready")).await;
    let _ = running.child.start_kill();
    let _ = tokio::time::timeout(Duration::from_secs(20), running.child.wait()).await;
    Ok((sign_in_secs, result))
}

/// RSS per session less the mirror's estimate, where the system has a mirror.
fn besides_mirror(server: Option<&crate::run::ServerFigures>) -> String {
    server.and_then(|s| s.rss_per_session_besides_mirror_kib).map_or_else(|| "–".to_owned(), |kib| format!("{kib:.1}"))
}

fn print_line(name: &str, r: &StepResult) {
    let server = r.server.as_ref();
    eprintln!(
        "   {name}: held {}/{}  frames/s {:.0}  p50 {:.2} p95 {:.2} p99 {:.2} max {:.2} ms  lost {}+{} gaps {} resyncs {}  server CPU {}%  RSS/session {} KiB (besides the mirror {})  generator CPU {}% (send lag p99 {:.2} ms; sends per 10 ms mean {} p99 {} max {})  cores busy {:?}  load {:?}\n   per second (frames, over 25 ms, max ms): {}",
        r.sessions_held,
        r.sessions,
        r.frames_sent_per_sec,
        r.latency.p50_ms,
        r.latency.p95_ms,
        r.latency.p99_ms,
        r.latency.max_ms,
        r.loss.lost_to_agents,
        r.loss.lost_to_customers,
        r.loss.sequence_gaps + r.loss.server_sequence_gaps,
        r.loss.viewer_resyncs + r.loss.customer_resyncs,
        server.map(|s| s.cpu_percent).unwrap_or(0.0),
        server.map(|s| s.rss_per_session_kib).unwrap_or(0.0),
        besides_mirror(server),
        r.generator_cpu_percent,
        r.generator_send_lag.p99_ms,
        r.offered_per_10ms.mean,
        r.offered_per_10ms.p99,
        r.offered_per_10ms.max,
        r.core_busy_percent,
        r.load_average,
        r.seconds.iter().map(|s| format!("{}/{}/{:.0}", s.count, s.over_25ms, s.max_us as f64 / 1000.0)).collect::<Vec<_>>().join(" "),
    );
}

/// The p99 budget of the capacity target.
pub const P99_BUDGET_MS: f64 = 25.0;

fn capacity(steps: &[VariantStep], variants: &[Variant]) -> Vec<(String, Option<usize>)> {
    variants
        .iter()
        .map(|v| {
            let name = v.name();
            let best = steps
                .iter()
                .filter(|s| s.system == name)
                .filter_map(|s| s.result.as_ref().ok())
                .filter(|r| {
                    r.sessions_held == r.sessions as u64
                        && r.setup_failures == 0
                        && r.loss.none()
                        && r.latency.p99_ms <= P99_BUDGET_MS
                        && r.latency.count > 0
                })
                .map(|r| r.sessions)
                .max();
            (name, best)
        })
        .collect()
}

fn now_text() -> String {
    std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%dT%H:%M:%SZ")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn write_report(out_dir: &Path, report: &CapacityReport) -> anyhow::Result<()> {
    std::fs::create_dir_all(out_dir)?;
    std::fs::write(out_dir.join("capacity.json"), serde_json::to_string_pretty(report)?)?;
    std::fs::write(out_dir.join("capacity.md"), markdown(report))?;
    Ok(())
}

fn markdown(report: &CapacityReport) -> String {
    let mut md = String::new();
    md.push_str(&format!(
        "# Server capacity\n\nRun {} · {}\n\nN customers + N agents; customers send 2 frames/s (≈70 % pointer/scroll, 25 % ≈1.5 KB mutation batches, 5 % ≈20 KB batches), agents 1 pointer frame/s. System pinned to one core, generator to the other. Latency is customer→agent one-way, on the generator's clock. \"Lost\" counts stamped frames never received plus sequence gaps, lag resyncs and error frames; held counts sessions with both sockets open at the end of the window. RSS/session = (RSS at the end of the window − RSS before the first session) / sessions held; \"besides the mirror\" subtracts the server's own estimate of the heap its page mirrors hold (`cobrowse_mirror_heap_bytes`, which leaves out the allocator's overhead, so the difference errs high).\n\n",
        report.started,
        report.machine.get("summary").and_then(|v| v.as_str()).unwrap_or("")
    ));
    md.push_str("| N | system | held | frames/s | p50 ms | p95 ms | p99 ms | max ms | lost | server CPU % | RSS/session KiB | besides the mirror KiB | generator CPU % | generator send lag p99 ms | sends per 10 ms, mean / p99 / max | core 0 / core 1 busy % | load avg |\n");
    md.push_str("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n");
    for step in &report.steps {
        match &step.result {
            Ok(r) => {
                let lost = r.loss.lost_to_agents.max(0) as u64
                    + r.loss.lost_to_customers.max(0) as u64
                    + r.loss.sequence_gaps
                    + r.loss.server_sequence_gaps
                    + r.loss.viewer_resyncs
                    + r.loss.customer_resyncs
                    + r.loss.errors;
                let server = r.server.as_ref();
                md.push_str(&format!(
                    "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.1} | {:.1} | {} | {:.1} | {:.2} | {} / {} / {} | {} | {:.1}→{:.1} |\n",
                    r.sessions,
                    step.system,
                    r.sessions_held,
                    r.frames_sent_per_sec,
                    r.latency.p50_ms,
                    r.latency.p95_ms,
                    r.latency.p99_ms,
                    r.latency.max_ms,
                    lost,
                    server.map(|s| s.cpu_percent).unwrap_or(0.0),
                    server.map(|s| s.rss_per_session_kib).unwrap_or(0.0),
                    besides_mirror(server),
                    r.generator_cpu_percent,
                    r.generator_send_lag.p99_ms,
                    r.offered_per_10ms.mean,
                    r.offered_per_10ms.p99,
                    r.offered_per_10ms.max,
                    r.core_busy_percent.iter().map(|c| format!("{c:.0}")).collect::<Vec<_>>().join(" / "),
                    r.load_average.0,
                    r.load_average.1
                ));
            }
            Err(err) => {
                md.push_str(&format!("| ? | {} | failed: {} ||||||||||||||\n", step.system, err.replace('|', "/")));
            }
        }
    }
    md.push_str("\nHighest N with p99 ≤ 25 ms and nothing lost:\n\n");
    for (name, best) in &report.capacity {
        md.push_str(&format!(
            "- {name}: {}\n",
            best.map(|n| n.to_string()).unwrap_or_else(|| "none of the steps".into())
        ));
    }
    md.push_str("\nThe open-file limit of this machine (20,000) caps one server process at about 9,900 sessions (two sockets each); 9,900 is the largest step, not a measured ceiling of the server.\n");
    md
}
