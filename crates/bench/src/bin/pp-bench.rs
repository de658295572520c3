//! `pp-bench`: generate the synthetic clusters (S, M, L, XL), then per size report the median of
//! several runs of parse, full analysis and re-analysis after a one-line edit, plus peak memory
//! (a counting global allocator: peak bytes live during one parse + analysis), as a Markdown
//! table. `--write-yaml DIR` writes the inputs (`DIR/<size>/cluster.yaml`, and the edited one as
//! `DIR/<size>-edited/cluster.yaml`) so other tools can run on the same input.
//!
//! `cargo run --release -p bench --bin pp-bench -- [--sizes S,M,L,XL] [--runs 5] [--write-yaml DIR]`
//! `[--method matrix|index|flows]` (`matrix`, the default: `engine::npmatrix`; `index`: `NpIndex`
//! pairs; `flows`: `engine::flows::flow_matrix`, every flow materialised with reasons).

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bench::measure::{self, Method};
use bench::synth::{self, Size};

/// Counts live bytes and their peak; otherwise `System`.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counters
// are plain atomics and never affect the returned pointers.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Args {
    sizes: Vec<Size>,
    runs: usize,
    write_yaml: Option<String>,
    method: Method,
}

const USAGE: &str =
    "usage: pp-bench [--sizes S,M,L,XL] [--runs N] [--write-yaml DIR] [--method analyze|matrix|index|flows]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        sizes: Size::ALL.to_vec(),
        runs: 5,
        write_yaml: None,
        method: Method::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next());
        match flag.as_str() {
            "--sizes" => {
                let v = value().ok_or("--sizes needs a value")?;
                args.sizes = v
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| Size::parse(s).ok_or(format!("unknown size {s:?} (S, M, L, XL)")))
                    .collect::<Result<_, _>>()?;
            }
            "--runs" => {
                let v = value().ok_or("--runs needs a value")?;
                args.runs = v
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("--runs: not a positive number: {v:?}"))?;
            }
            "--write-yaml" => args.write_yaml = Some(value().ok_or("--write-yaml needs a DIR")?),
            "--method" => {
                let v = value().ok_or("--method needs a value")?;
                args.method = Method::parse(&v).ok_or(format!(
                    "unknown method {v:?} (analyze, matrix, index, flows)"
                ))?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("pp-bench: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let now = move || start.elapsed().as_secs_f64() * 1000.0;
    let method = args.method;
    let mut rows = Vec::new();
    for size in &args.sizes {
        let synth = synth::generate_size(*size);
        if let Some(dir) = &args.write_yaml {
            for (sub, text) in [
                (size.name().to_owned(), synth.yaml.clone()),
                (format!("{}-edited", size.name()), synth.edited()),
            ] {
                let path = std::path::Path::new(dir).join(sub);
                let written = std::fs::create_dir_all(&path)
                    .and_then(|()| std::fs::write(path.join("cluster.yaml"), text));
                if let Err(e) = written {
                    eprintln!("pp-bench: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
        }
        eprintln!(
            "{}: {} bytes, {} pods, {} workloads, {} policies; {} runs …",
            size.name(),
            synth.yaml.len(),
            synth.pods,
            synth.workloads,
            synth.policies(),
            args.runs
        );
        // Peak memory of one parse + analysis (the input text itself included).
        PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
        let base = LIVE.load(Ordering::Relaxed);
        if method == Method::Analyze {
            measure::analyze_text(&synth.yaml);
        } else {
            let analysis = measure::parse(&synth.yaml);
            measure::analyze(&analysis.cluster, method);
        }
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base) + synth.yaml.len();
        let mut row = measure::run(size.name(), &synth, args.runs, method, &now);
        row.peak_bytes = Some(peak);
        rows.push(row);
    }
    println!("Analysis: {}.\n", method.describe());
    println!("{}", measure::markdown_table(&rows));
    ExitCode::SUCCESS
}
