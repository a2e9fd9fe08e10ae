//! What the server's frame compression costs on recorded streams (`bench/compression.sh` runs it).
//!
//! Reads `.jsonl` streams of `{"dir": "up"|"down", "text": frame}` lines and, for each stream and
//! direction, applies the shipped policy — frames of at least `--min` bytes compressed with
//! [`compress`] (level 1), smaller ones left as text — then times [`compress`] and [`decompress`]
//! on the compressed frames (CPU time of this thread). Prints one JSON array to standard output.
//!
//! Usage: `cargo run --release -p cobrowse-protocol --example wire_cost -- [--min N] FILE...`

use cobrowse_protocol::compression::{compress, decompress, DEFAULT_MIN_BYTES};
use cobrowse_protocol::Encoding;
use std::time::Instant;

/// Each measurement repeats the whole set of frames until it has run at least this long, so that
/// short streams still give a stable per-frame figure.
const MIN_MEASURE_SECS: f64 = 0.3;

fn main() {
    let mut min = DEFAULT_MIN_BYTES;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--min" {
            min = args.next().and_then(|n| n.parse().ok()).expect("--min takes a byte count");
        } else {
            files.push(arg);
        }
    }
    let mut rows = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|err| panic!("{file}: {err}"));
        let (mut up, mut down) = (Vec::new(), Vec::new());
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let frame = value["text"].as_str().expect("a text field").to_owned();
            if value["dir"] == "down" {
                down.push(frame);
            } else {
                up.push(frame);
            }
        }
        let name = std::path::Path::new(file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for (dir, frames) in [("up", up), ("down", down)] {
            if !frames.is_empty() {
                rows.push(measure(&name, dir, &frames, min));
            }
        }
    }
    println!("{}", serde_json::Value::Array(rows));
}

fn measure(stream: &str, dir: &str, frames: &[String], min: usize) -> serde_json::Value {
    let large: Vec<&String> = frames.iter().filter(|f| f.len() >= min).collect();
    let raw: usize = frames.iter().map(String::len).sum();
    let compressed: Vec<Vec<u8>> = large.iter().map(|f| compress(Encoding::DeflateRaw, f)).collect();
    let small: usize = frames.iter().filter(|f| f.len() < min).map(|f| f.len()).sum();
    let wire = small + compressed.iter().map(Vec::len).sum::<usize>();
    let large_raw: usize = large.iter().map(|f| f.len()).sum();
    let max = large.iter().map(|f| f.len()).max().unwrap_or(0);
    for (message, frame) in compressed.iter().zip(&large) {
        assert_eq!(&decompress(message, max).expect("round trip"), *frame);
    }
    let deflate_us = per_frame(large.len(), || {
        for frame in &large {
            std::hint::black_box(compress(Encoding::DeflateRaw, frame));
        }
    });
    let inflate_us = per_frame(large.len(), || {
        for message in &compressed {
            std::hint::black_box(decompress(message, max).ok());
        }
    });
    serde_json::json!({
        "stream": stream,
        "dir": dir,
        "messages": frames.len(),
        "compressed_messages": large.len(),
        "raw_bytes": raw,
        "wire_bytes": wire,
        "ratio": ratio(wire, raw),
        "compressed_frames_ratio": ratio(compressed.iter().map(Vec::len).sum(), large_raw),
        "mean_compressed_frame_bytes": large_raw.checked_div(large.len()).unwrap_or(0),
        "deflate_us_per_compressed_frame": deflate_us,
        "inflate_us_per_compressed_frame": inflate_us,
    })
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 1.0;
    }
    (part as f64 / whole as f64 * 1000.0).round() / 1000.0
}

/// CPU time this thread has run, in seconds: the first field of Linux's
/// `/proc/thread-self/schedstat` (nanoseconds on a CPU), so that other processes sharing the
/// machine do not inflate the figure; wall time where that file does not exist.
fn cpu_seconds(wall: Instant) -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .map_or_else(|| wall.elapsed().as_secs_f64(), |ns| ns as f64 / 1e9)
}

/// CPU microseconds per frame of `run`, which handles `frames` frames; 0 when there are none.
fn per_frame(frames: usize, mut run: impl FnMut()) -> f64 {
    if frames == 0 {
        return 0.0;
    }
    run(); // warm up: the thread's compressor is allocated on first use
    let wall = Instant::now();
    let started = cpu_seconds(wall);
    let mut rounds = 0u32;
    while rounds == 0 || cpu_seconds(wall) - started < MIN_MEASURE_SECS {
        run();
        rounds += 1;
    }
    let us = (cpu_seconds(wall) - started) * 1e6 / (f64::from(rounds) * frames as f64);
    (us * 100.0).round() / 100.0
}
