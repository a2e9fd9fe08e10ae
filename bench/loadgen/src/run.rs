//! One step of a run: set up N sessions, let them settle, measure a window, drain, report.

use crate::page::Kind;
use crate::session::{run_side, setup, Phase, Side, Target};
use crate::stats::{clock_ticks, core_busy, core_ticks, cpu_percent, load_average, sample, Latency, ProcSample, Stats};
use crate::wire::System;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// How a step runs.
#[derive(Debug, Clone)]
pub struct StepOptions {
    /// Sessions (each one customer and one agent).
    pub sessions: usize,
    /// Sessions being set up at once.
    pub ramp_concurrency: usize,
    /// Give up waiting for setups after this.
    pub ramp_timeout: Duration,
    /// Give up waiting sooner when no session finished setting up for this long: the system is
    /// saturated, and the step is reported with the sessions it has.
    pub ramp_stall: Duration,
    /// Traffic before the window opens.
    pub warmup: Duration,
    /// The measurement window.
    pub measure: Duration,
    /// After sending stops, how long frames in flight may still arrive.
    pub drain: Duration,
    /// The server's process, for CPU and memory (none: not measured).
    pub server_pid: Option<u32>,
    /// End the window early when standard input closes (for scripts that drive a browser
    /// meanwhile).
    pub stop_on_stdin: bool,
}

/// Frame loss and errors.
#[derive(Debug, Clone, Serialize)]
pub struct Loss {
    /// Stamped frames customers sent (whole run, after setup).
    pub customer_sent: u64,
    /// Of those, how many agents received.
    pub agent_received: u64,
    /// customer_sent − agent_received.
    pub lost_to_agents: i64,
    /// Pointer frames agents sent.
    pub agent_sent: u64,
    /// Of those, how many customers received.
    pub customer_received: u64,
    /// agent_sent − customer_received.
    pub lost_to_customers: i64,
    /// Jumps in the customers' numbering seen by agents (frames skipped).
    pub sequence_gaps: u64,
    /// Jumps in the server's numbering of agents' streams not onto a snapshot.
    pub server_sequence_gaps: u64,
    /// Lag resyncs (fresh snapshots) agents received.
    pub viewer_resyncs: u64,
    /// `resync` requests customers received.
    pub customer_resyncs: u64,
    /// `error` frames received.
    pub errors: u64,
    /// Sockets closed before the end.
    pub disconnects: u64,
}

impl Loss {
    /// Whether nothing was lost, skipped, resynced or refused.
    pub fn none(&self) -> bool {
        self.lost_to_agents == 0
            && self.lost_to_customers == 0
            && self.sequence_gaps == 0
            && self.server_sequence_gaps == 0
            && self.viewer_resyncs == 0
            && self.customer_resyncs == 0
            && self.errors == 0
            && self.disconnects == 0
    }
}

/// Server process figures.
#[derive(Debug, Clone, Serialize)]
pub struct ServerFigures {
    /// CPU used during the window, percent of one core.
    pub cpu_percent: f64,
    /// VmRSS before any session (after agents signed in).
    pub rss_idle_kib: u64,
    /// VmRSS at the end of the window.
    pub rss_loaded_kib: u64,
    /// Largest VmRSS seen during the window.
    pub rss_max_kib: u64,
    /// (loaded − idle) / sessions held.
    pub rss_per_session_kib: f64,
    /// The server's own estimate of the heap its page mirrors hold, per session held (Cobrowse
    /// only, from `cobrowse_mirror_heap_bytes` at the end of the window).
    pub mirror_per_session_kib: Option<f64>,
    /// `rss_per_session_kib` less `mirror_per_session_kib`: what a session costs besides its page.
    /// The mirror's estimate leaves out the allocator's overhead, so this errs high.
    pub rss_per_session_besides_mirror_kib: Option<f64>,
}

/// Actual sizes of the mix during the window.
#[derive(Debug, Clone, Serialize)]
pub struct MixEntry {
    /// Kind.
    pub kind: String,
    /// Share of customer frames, percent.
    pub share_percent: f64,
    /// Mean bytes on the wire.
    pub mean_bytes: u64,
}

/// Everything one step measured.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// Sessions asked for.
    pub sessions: usize,
    /// Sessions fully set up.
    pub sessions_ready: u64,
    /// Sessions with both sockets open at the end of the window.
    pub sessions_held: u64,
    /// Sessions that failed to set up.
    pub setup_failures: u64,
    /// Seconds to set up every session.
    pub setup_secs: f64,
    /// Length of the window.
    pub window_secs: f64,
    /// Stamped frames per second sent by customers and agents during the window (each is relayed
    /// once, so this is also the relay's frame rate).
    pub frames_sent_per_sec: f64,
    /// Messages per second received by customers and agents (relayed frames, acks, …).
    pub messages_received_per_sec: f64,
    /// Bytes per second sent and received by the clients.
    pub bytes_sent_per_sec: f64,
    /// See `bytes_sent_per_sec`.
    pub bytes_received_per_sec: f64,
    /// Customer→agent one-way latency, every kind.
    pub latency: Latency,
    /// Per kind.
    pub latency_by_kind: Vec<(String, Latency)>,
    /// Agent→customer pointer latency.
    pub latency_to_customer: Latency,
    /// How late the generator ran its send ticks (its own backlog, not the server's).
    pub generator_send_lag: Latency,
    /// Stamped frames sent per 10 ms of the window: whether the offered load came evenly.
    pub offered_per_10ms: crate::stats::Evenness,
    /// Customer→agent latency per second of the window.
    pub seconds: Vec<crate::stats::SecondTally>,
    /// Loss.
    pub loss: Loss,
    /// The server (absent when its pid is unknown).
    pub server: Option<ServerFigures>,
    /// The generator's own CPU, percent of one core (near 100: the generator limits the run).
    pub generator_cpu_percent: f64,
    /// Actual mix.
    pub mix: Vec<MixEntry>,
    /// First errors seen.
    pub first_errors: Vec<String>,
    /// Busy percent of each core during the window (everything on the machine: the system
    /// under test's core minus its own CPU is what other work took from it).
    pub core_busy_percent: Vec<f64>,
    /// 1-minute load average at the start and at the end of the window.
    pub load_average: (f64, f64),
}

/// Runs one step against `target`. `on_ready` is called once every session is set up.
pub async fn run_step(target: Arc<Target>, options: &StepOptions, on_ready: impl FnOnce(u64)) -> StepResult {
    let stats = Arc::new(Stats::new());
    let ticks = clock_ticks();
    let server_pid = options.server_pid.map(|p| p.to_string());
    let idle = server_pid.as_deref().and_then(sample);
    let (phase_tx, phase_rx) = watch::channel(Phase::Run);
    let permits = Arc::new(Semaphore::new(options.ramp_concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let setup_started = Instant::now();
    for index in 0..options.sessions {
        let (target, stats, permits, phase) = (target.clone(), stats.clone(), permits.clone(), phase_rx.clone());
        tasks.spawn(async move {
            let permit = permits.acquire_owned().await.expect("the semaphore is never closed");
            let sockets = setup(&target, index).await;
            drop(permit);
            let (customer, agent) = match sockets {
                Ok(sockets) => sockets,
                Err(err) => {
                    stats.setup_failures.fetch_add(1, Relaxed);
                    stats.note_error(format!("setup of session {index}: {err:#}"));
                    return;
                }
            };
            stats.ready.fetch_add(1, Relaxed);
            let broken = Arc::new(AtomicBool::new(false));
            // Each side in a task of its own: a task polls everything it awaits whenever it
            // wakes, so two sides in one task would each be polled for the other's traffic.
            let customer_side = tokio::spawn(run_side(
                target.clone(),
                stats.clone(),
                customer,
                Side::Customer,
                index,
                broken.clone(),
                phase.clone(),
            ));
            let agent_side = tokio::spawn(run_side(target, stats, agent, Side::Agent, index, broken, phase));
            let _ = tokio::join!(customer_side, agent_side);
        });
    }
    let deadline = Instant::now() + options.ramp_timeout;
    let mut last_report = Instant::now();
    let (mut last_done, mut last_progress) = (0, Instant::now());
    loop {
        let done = stats.ready.load(Relaxed) + stats.setup_failures.load(Relaxed);
        if done >= options.sessions as u64 || Instant::now() > deadline {
            break;
        }
        if done > last_done {
            (last_done, last_progress) = (done, Instant::now());
        } else if last_progress.elapsed() > options.ramp_stall {
            eprintln!("  … no session set up for {:?}; measuring the {done} there are", options.ramp_stall);
            break;
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!(
                "  … {} sessions set up, {} failed",
                stats.ready.load(Relaxed),
                stats.setup_failures.load(Relaxed)
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let setup_secs = setup_started.elapsed().as_secs_f64();
    on_ready(stats.ready.load(Relaxed));
    tokio::time::sleep(options.warmup).await;

    stats.reset_window();
    let server_start = server_pid.as_deref().and_then(sample);
    let generator_start = sample("self");
    let cores_start = core_ticks();
    let load_start = load_average();
    stats.measuring.store(true, Relaxed);
    let window_start = Instant::now();
    let mut rss_max = server_start.map(|s| s.rss_kib).unwrap_or(0);
    let mut stdin_closed = stdin_watch(options.stop_on_stdin);
    while window_start.elapsed() < options.measure {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stdin_closed.changed() => break,
        }
        if let Some(s) = server_pid.as_deref().and_then(sample) {
            rss_max = rss_max.max(s.rss_kib);
        }
    }
    stats.measuring.store(false, Relaxed);
    let window_secs = window_start.elapsed().as_secs_f64();
    let server_end = server_pid.as_deref().and_then(sample);
    let generator_end = sample("self");
    let cores = core_busy(&cores_start, &core_ticks());
    let load = (load_start, load_average());
    let held = stats.ready.load(Relaxed) - stats.broken_sessions.load(Relaxed);
    let mirror_heap_bytes = match target.system {
        System::Cobrowse => mirror_heap_bytes(&target).await,
        _ => None,
    };

    let _ = phase_tx.send(Phase::Drain);
    tokio::time::sleep(options.drain).await;
    let result = summarize(SummaryInput {
        stats: &stats,
        options,
        setup_secs,
        window_secs,
        held,
        idle,
        server_start,
        server_end,
        rss_max,
        mirror_heap_bytes,
        generator: (generator_start, generator_end),
        ticks,
        cores,
        load,
    });
    let _ = phase_tx.send(Phase::Finish);
    let closing = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(30), closing).await.is_err() {
        tasks.abort_all();
    }
    result
}

/// The server's estimate of the heap its page mirrors hold, from its metrics.
async fn mirror_heap_bytes(target: &Target) -> Option<u64> {
    let url = format!("http://{}/metrics", target.addr);
    let text = target.http.get(url).send().await.ok()?.text().await.ok()?;
    text.lines().find_map(|line| line.strip_prefix("cobrowse_mirror_heap_bytes ")).and_then(|v| v.trim().parse().ok())
}

/// A watch that changes when standard input reaches its end (if asked to watch it).
fn stdin_watch(enabled: bool) -> watch::Receiver<()> {
    let (tx, rx) = watch::channel(());
    if enabled {
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            let _ = tx.send(());
        });
    } else {
        std::mem::forget(tx);
    }
    rx
}

struct SummaryInput<'a> {
    stats: &'a Stats,
    options: &'a StepOptions,
    setup_secs: f64,
    window_secs: f64,
    held: u64,
    idle: Option<ProcSample>,
    server_start: Option<ProcSample>,
    server_end: Option<ProcSample>,
    rss_max: u64,
    mirror_heap_bytes: Option<u64>,
    generator: (Option<ProcSample>, Option<ProcSample>),
    ticks: u64,
    cores: Vec<f64>,
    load: (f64, f64),
}

fn summarize(input: SummaryInput<'_>) -> StepResult {
    let SummaryInput {
        stats,
        options,
        setup_secs,
        window_secs,
        held,
        idle,
        server_start,
        server_end,
        rss_max,
        mirror_heap_bytes,
        generator,
        ticks,
        cores,
        load,
    } = input;
    let per_sec = |v: u64| ((v as f64 / window_secs) * 10.0).round() / 10.0;
    let loss = Loss {
        customer_sent: stats.customer_sent.load(Relaxed),
        agent_received: stats.agent_received.load(Relaxed),
        lost_to_agents: stats.customer_sent.load(Relaxed) as i64 - stats.agent_received.load(Relaxed) as i64,
        agent_sent: stats.agent_sent.load(Relaxed),
        customer_received: stats.customer_received.load(Relaxed),
        lost_to_customers: stats.agent_sent.load(Relaxed) as i64 - stats.customer_received.load(Relaxed) as i64,
        sequence_gaps: stats.gaps.load(Relaxed),
        server_sequence_gaps: stats.server_seq_gaps.load(Relaxed),
        viewer_resyncs: stats.viewer_resyncs.load(Relaxed),
        customer_resyncs: stats.customer_resyncs.load(Relaxed),
        errors: stats.errors.load(Relaxed),
        disconnects: stats.disconnects.load(Relaxed),
    };
    let round = |kib: f64| (kib * 10.0).round() / 10.0;
    let server = match (idle, server_start, server_end) {
        (Some(idle), Some(start), Some(end)) if held > 0 => {
            let rss_per_session = (end.rss_kib as f64 - idle.rss_kib as f64) / held as f64;
            let mirror_per_session = mirror_heap_bytes.map(|bytes| bytes as f64 / 1024.0 / held as f64);
            Some(ServerFigures {
                cpu_percent: cpu_percent(&start, &end, ticks),
                rss_idle_kib: idle.rss_kib,
                rss_loaded_kib: end.rss_kib,
                rss_max_kib: rss_max,
                rss_per_session_kib: round(rss_per_session),
                mirror_per_session_kib: mirror_per_session.map(round),
                rss_per_session_besides_mirror_kib: mirror_per_session.map(|m| round(rss_per_session - m)),
            })
        }
        _ => None,
    };
    let generator_cpu_percent = match generator {
        (Some(a), Some(b)) => cpu_percent(&a, &b, ticks),
        _ => 0.0,
    };
    let customer_frames: u64 = (0..4).map(|i| stats.kind_count[i].load(Relaxed)).sum::<u64>();
    let mix = Kind::NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let count = stats.kind_count[i].load(Relaxed);
            MixEntry {
                kind: (*name).to_owned(),
                share_percent: if customer_frames > 0 {
                    (count as f64 / customer_frames as f64 * 1000.0).round() / 10.0
                } else {
                    0.0
                },
                mean_bytes: stats.kind_bytes[i].load(Relaxed).checked_div(count).unwrap_or(0),
            }
        })
        .collect();
    StepResult {
        sessions: options.sessions,
        sessions_ready: stats.ready.load(Relaxed),
        sessions_held: held,
        setup_failures: stats.setup_failures.load(Relaxed),
        setup_secs: (setup_secs * 10.0).round() / 10.0,
        window_secs: (window_secs * 10.0).round() / 10.0,
        frames_sent_per_sec: per_sec(customer_frames + stats.window_agent_frames.load(Relaxed)),
        messages_received_per_sec: per_sec(stats.window_received.load(Relaxed)),
        bytes_sent_per_sec: per_sec(stats.window_bytes_sent.load(Relaxed)),
        bytes_received_per_sec: per_sec(stats.window_bytes_received.load(Relaxed)),
        latency: stats.to_agent_summary(),
        latency_by_kind: stats.per_kind(),
        latency_to_customer: stats.to_customer_summary(),
        generator_send_lag: stats.send_lag_summary(),
        offered_per_10ms: stats.offered_evenness(),
        seconds: stats.seconds(),
        loss,
        server,
        generator_cpu_percent,
        mix,
        first_errors: stats.first_errors.lock().map(|e| e.clone()).unwrap_or_default(),
        core_busy_percent: cores,
        load_average: load,
    }
}
