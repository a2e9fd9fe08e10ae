//! What a run counts: latency histograms (microseconds), frames, bytes, losses; and the
//! server's CPU time and resident memory read from `/proc`.

use crate::page::Kind;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Instant;

/// Counters shared by every simulated client of a run.
pub struct Stats {
    /// The generator's clock: stamps are microseconds since this instant.
    pub epoch: Instant,
    /// Whether latencies and window counts are being recorded (the measurement window).
    pub measuring: AtomicBool,
    /// Customer→agent latency per frame kind, recorded during the window.
    pub to_agent: [Mutex<Histogram<u64>>; 4],
    /// Agent→customer pointer latency, recorded during the window.
    pub to_customer: Mutex<Histogram<u64>>,
    /// Stamped frames customers sent since their session was ready (whole run).
    pub customer_sent: AtomicU64,
    /// Stamped customer frames agents received (whole run).
    pub agent_received: AtomicU64,
    /// Stamped frames agents sent (whole run).
    pub agent_sent: AtomicU64,
    /// Stamped agent frames customers received (whole run).
    pub customer_received: AtomicU64,
    /// Customer frames an agent never saw: jumps in the customer's own numbering.
    pub gaps: AtomicU64,
    /// Jumps in the server's numbering of an agent's stream not onto a snapshot.
    pub server_seq_gaps: AtomicU64,
    /// Snapshots a viewer received after its first (lag resyncs).
    pub viewer_resyncs: AtomicU64,
    /// `resync` requests the server sent to customers.
    pub customer_resyncs: AtomicU64,
    /// `error` frames received.
    pub errors: AtomicU64,
    /// Sockets that closed or failed before the end of the run.
    pub disconnects: AtomicU64,
    /// Sessions with a socket that closed before the end of the run.
    pub broken_sessions: AtomicU64,
    /// Sessions that failed to set up.
    pub setup_failures: AtomicU64,
    /// Sessions fully set up (both sides connected, agent has the page).
    pub ready: AtomicU64,
    /// Frames sent / received during the window (all clients, both directions).
    pub window_sent: AtomicU64,
    /// See `window_sent`.
    pub window_received: AtomicU64,
    /// Bytes sent / received during the window.
    pub window_bytes_sent: AtomicU64,
    /// See `window_bytes_sent`.
    pub window_bytes_received: AtomicU64,
    /// Pointer frames agents sent during the window.
    pub window_agent_frames: AtomicU64,
    /// Bytes of stamped customer frames sent, per kind, during the window (for the mix's actual sizes).
    pub kind_bytes: [AtomicU64; 4],
    /// Count of stamped frames sent per kind during the window.
    pub kind_count: [AtomicU64; 4],
    /// How late the generator ran each send tick, recorded during the window: when it is large
    /// the generator, not the server, is what delays frames.
    pub send_lag: Mutex<Histogram<u64>>,
    /// Customer→agent latency per second of the window: shows whether the tail is steady or
    /// comes from stalls.
    pub seconds: Mutex<Vec<SecondTally>>,
    /// Stamped frames sent in each 10 ms of the window: how evenly the offered load arrives.
    /// Clients whose sends bunch together hit the server in bursts that an even 2 frames a
    /// second would not, and the tail would measure the generator's rhythm.
    pub send_buckets: Mutex<Vec<u32>>,
    /// `now_micros` when the window opened.
    pub window_start_micros: AtomicU64,
    /// First error messages, for the report.
    pub first_errors: Mutex<Vec<String>>,
}

/// One second of the window.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SecondTally {
    /// Frames received in this second.
    pub count: u64,
    /// Of those, frames that took longer than 25 ms.
    pub over_25ms: u64,
    /// The slowest, microseconds.
    pub max_us: u64,
}

fn histogram() -> Mutex<Histogram<u64>> {
    Mutex::new(Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds"))
}

impl Stats {
    /// Fresh counters; the clock starts now.
    pub fn new() -> Stats {
        Stats {
            epoch: Instant::now(),
            measuring: AtomicBool::new(false),
            to_agent: [histogram(), histogram(), histogram(), histogram()],
            to_customer: histogram(),
            customer_sent: AtomicU64::new(0),
            agent_received: AtomicU64::new(0),
            agent_sent: AtomicU64::new(0),
            customer_received: AtomicU64::new(0),
            gaps: AtomicU64::new(0),
            server_seq_gaps: AtomicU64::new(0),
            viewer_resyncs: AtomicU64::new(0),
            customer_resyncs: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            disconnects: AtomicU64::new(0),
            broken_sessions: AtomicU64::new(0),
            setup_failures: AtomicU64::new(0),
            ready: AtomicU64::new(0),
            window_sent: AtomicU64::new(0),
            window_received: AtomicU64::new(0),
            window_bytes_sent: AtomicU64::new(0),
            window_bytes_received: AtomicU64::new(0),
            window_agent_frames: AtomicU64::new(0),
            kind_bytes: Default::default(),
            kind_count: Default::default(),
            send_lag: histogram(),
            seconds: Mutex::new(Vec::new()),
            send_buckets: Mutex::new(Vec::new()),
            window_start_micros: AtomicU64::new(0),
            first_errors: Mutex::new(Vec::new()),
        }
    }

    /// Microseconds since the epoch.
    pub fn now_micros(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Whether the window is open.
    pub fn in_window(&self) -> bool {
        self.measuring.load(Relaxed)
    }

    /// A frame went out: a customer's stamped frame (`kind`), an agent's stamped pointer
    /// (`agent_frame`), or anything else.
    pub fn sent(&self, bytes: usize, kind: Option<Kind>, agent_frame: bool) {
        if self.in_window() {
            self.window_sent.fetch_add(1, Relaxed);
            self.window_bytes_sent.fetch_add(bytes as u64, Relaxed);
            if agent_frame {
                self.window_agent_frames.fetch_add(1, Relaxed);
            } else if let Some(kind) = kind {
                self.kind_bytes[kind.index()].fetch_add(bytes as u64, Relaxed);
                self.kind_count[kind.index()].fetch_add(1, Relaxed);
            }
            if agent_frame || kind.is_some() {
                let bucket = (self.now_micros().saturating_sub(self.window_start_micros.load(Relaxed))
                    / SEND_BUCKET_MICROS) as usize;
                let mut buckets = self.send_buckets.lock().unwrap_or_else(|p| p.into_inner());
                if buckets.len() <= bucket {
                    buckets.resize(bucket + 1, 0);
                }
                buckets[bucket] += 1;
            }
        }
    }

    /// A frame came in.
    pub fn received(&self, bytes: usize) {
        if self.in_window() {
            self.window_received.fetch_add(1, Relaxed);
            self.window_bytes_received.fetch_add(bytes as u64, Relaxed);
        }
    }

    /// A stamped frame reached its receiver after `latency` microseconds.
    pub fn latency(&self, to_agent: bool, kind: Kind, latency: u64) {
        if !self.in_window() {
            return;
        }
        let histogram = if to_agent { &self.to_agent[kind.index()] } else { &self.to_customer };
        histogram.lock().unwrap_or_else(|p| p.into_inner()).saturating_record(latency.max(1));
        if to_agent {
            let second =
                (self.now_micros().saturating_sub(self.window_start_micros.load(Relaxed)) / 1_000_000) as usize;
            let mut seconds = self.seconds.lock().unwrap_or_else(|p| p.into_inner());
            if seconds.len() <= second {
                seconds.resize(second + 1, SecondTally::default());
            }
            let tally = &mut seconds[second];
            tally.count += 1;
            tally.over_25ms += u64::from(latency > 25_000);
            tally.max_us = tally.max_us.max(latency);
        }
    }

    /// A send tick ran `lag` microseconds after it was due.
    pub fn send_lag(&self, lag: u64) {
        if self.in_window() {
            self.send_lag.lock().unwrap_or_else(|p| p.into_inner()).saturating_record(lag.max(1));
        }
    }

    /// Keeps the first few error descriptions for the report.
    pub fn note_error(&self, text: String) {
        let mut errors = self.first_errors.lock().unwrap_or_else(|p| p.into_inner());
        if errors.len() < 8 {
            errors.push(text);
        }
    }

    /// Resets the window's histograms and counters (at the start of the window).
    pub fn reset_window(&self) {
        self.seconds.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.send_buckets.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.window_start_micros.store(self.now_micros(), Relaxed);
        for h in self.to_agent.iter().chain([&self.to_customer, &self.send_lag]) {
            h.lock().unwrap_or_else(|p| p.into_inner()).reset();
        }
        for c in [
            &self.window_sent,
            &self.window_received,
            &self.window_bytes_sent,
            &self.window_bytes_received,
            &self.window_agent_frames,
        ] {
            c.store(0, Relaxed);
        }
        for c in self.kind_bytes.iter().chain(self.kind_count.iter()) {
            c.store(0, Relaxed);
        }
    }

    /// Latency summary customer→agent over every kind.
    pub fn to_agent_summary(&self) -> Latency {
        let mut all = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds");
        for h in &self.to_agent {
            let _ = all.add(&*h.lock().unwrap_or_else(|p| p.into_inner()));
        }
        Latency::of(&all)
    }

    /// Latency summary per kind.
    pub fn per_kind(&self) -> Vec<(String, Latency)> {
        Kind::NAMES
            .iter()
            .zip(&self.to_agent)
            .map(|(name, h)| ((*name).to_owned(), Latency::of(&h.lock().unwrap_or_else(|p| p.into_inner()))))
            .collect()
    }

    /// How late the generator's send ticks ran.
    pub fn send_lag_summary(&self) -> Latency {
        Latency::of(&self.send_lag.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// How evenly the stamped frames went out over the window, in 10 ms slices.
    pub fn offered_evenness(&self) -> Evenness {
        Evenness::of(&self.send_buckets.lock().map(|b| b.clone()).unwrap_or_default())
    }

    /// The per-second tallies of the window.
    pub fn seconds(&self) -> Vec<SecondTally> {
        self.seconds.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Latency summary agent→customer.
    pub fn to_customer_summary(&self) -> Latency {
        Latency::of(&self.to_customer.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Width of the slices [`Stats::send_buckets`] counts sends in.
const SEND_BUCKET_MICROS: u64 = 10_000;

/// Stamped frames sent per 10 ms slice of the window. With every client on its own steady
/// schedule the slices hold about the mean; a p99 or max far above it means sends bunched up.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Evenness {
    /// Mean frames per slice.
    pub mean: f64,
    /// 99th percentile of the slices.
    pub p99: u32,
    /// The fullest slice.
    pub max: u32,
}

impl Evenness {
    fn of(buckets: &[u32]) -> Evenness {
        // The last slice is cut short by the end of the window.
        let full = &buckets[..buckets.len().saturating_sub(1)];
        if full.is_empty() {
            return Evenness::default();
        }
        let mut sorted = full.to_vec();
        sorted.sort_unstable();
        let mean = full.iter().map(|&n| f64::from(n)).sum::<f64>() / full.len() as f64;
        Evenness {
            mean: (mean * 10.0).round() / 10.0,
            p99: sorted[(sorted.len() - 1) * 99 / 100],
            max: sorted[sorted.len() - 1],
        }
    }
}

/// Percentiles in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Latency {
        let ms = |us: u64| (us as f64 / 1000.0 * 100.0).round() / 100.0;
        if h.is_empty() {
            return Latency { count: 0, p50_ms: 0.0, p95_ms: 0.0, p99_ms: 0.0, p999_ms: 0.0, max_ms: 0.0 };
        }
        Latency {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

/// CPU time (user + system, in clock ticks) and resident memory of a process, from `/proc`.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    /// When it was read.
    pub at: Instant,
    /// utime + stime, in ticks.
    pub ticks: u64,
    /// VmRSS in KiB.
    pub rss_kib: u64,
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux unless built otherwise).
pub fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100)
}

/// Reads `/proc/<pid>/stat` and `/proc/<pid>/status` (`pid` "self" for this process).
pub fn sample(pid: &str) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())?;
    Some(ProcSample { at: Instant::now(), ticks, rss_kib })
}

/// Share of one core used between two samples, in percent.
pub fn cpu_percent(from: &ProcSample, to: &ProcSample, ticks_per_second: u64) -> f64 {
    let seconds = to.at.duration_since(from.at).as_secs_f64();
    if seconds <= 0.0 {
        return 0.0;
    }
    let used = (to.ticks.saturating_sub(from.ticks)) as f64 / ticks_per_second as f64;
    (used / seconds * 1000.0).round() / 10.0
}

/// Busy and total clock ticks of each core, from `/proc/stat`.
pub fn core_ticks() -> Vec<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let v: Vec<u64> = l.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
            let total: u64 = v.iter().take(8).sum();
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            (total - idle, total)
        })
        .collect()
}

/// Percent busy of each core between two readings of [`core_ticks`].
pub fn core_busy(from: &[(u64, u64)], to: &[(u64, u64)]) -> Vec<f64> {
    from.iter()
        .zip(to)
        .map(|((b0, t0), (b1, t1))| {
            let total = t1.saturating_sub(*t0).max(1) as f64;
            ((b1.saturating_sub(*b0)) as f64 / total * 1000.0).round() / 10.0
        })
        .collect()
}

/// The 1-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_even_load_has_its_peak_at_the_mean() {
        let even = Evenness::of(&[30; 101]);
        assert_eq!((even.mean, even.p99, even.max), (30.0, 30, 30));
    }

    #[test]
    fn bunched_sends_show_in_the_fullest_slices() {
        // The same 3,000 frames, a tenth of the slices holding half of them.
        let mut slices = vec![1500 / 90; 90];
        slices.extend([150; 10]);
        slices.push(0); // the slice the window's end cut short
        let bunched = Evenness::of(&slices);
        assert_eq!(bunched.max, 150);
        assert_eq!(bunched.p99, 150);
        assert!(bunched.mean < 30.0, "mean {}", bunched.mean);
    }

    #[test]
    fn no_slices_make_no_figures() {
        let none = Evenness::of(&[]);
        assert_eq!((none.mean, none.p99, none.max), (0.0, 0, 0));
        assert_eq!(Evenness::of(&[7]).max, 0, "a lone, cut-short slice is not counted");
    }
}
