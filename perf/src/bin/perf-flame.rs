//! `perf-flame`: one command from a cuttle-perf tool to a flame graph and a text summary.
//!
//! It builds the cuttle-perf binaries with frame pointers into a separate target directory
//! (so the normal build stays valid), runs the tool under `perf record -e cpu-clock
//! --call-graph fp`, folds `perf script` with inferno, writes `<out>` (SVG) and
//! `<out>.folded`, and prints the total samples plus the top functions by self and by
//! inclusive samples.
//!
//! ```text
//! cargo run --release -p cuttle-perf --bin perf-flame -- --out flame.svg -- \
//!     perf-msgr --driver epoll --size 4096 --secs 5
//! perf-flame --no-build --top 10 -- ./target/flame/release/perf-echo --secs 2
//! ```
//!
//! `<tool>` is a cuttle-perf binary name (looked up in `<target-dir>/release/`) or a path
//! (anything containing `/`). `perf` must be installed and allowed to record: as root, or
//! with `kernel.perf_event_paranoid` at most 2 for user-space-only stacks.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::fs;
use std::io::{BufReader, BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{Context, Result, bail};
use clap::Parser;
use cuttle_perf::flame::{SCRIPT_FIELDS, Summary, fold_perf_script, render_svg, retain_threads};

/// Profile a cuttle-perf tool (or any executable) with `perf` and render a flame graph.
#[derive(Parser, Debug)]
#[command(name = "perf-flame", version)]
struct Args {
    /// Flame graph SVG to write; the folded stacks go to `<out>.folded`.
    #[arg(long, default_value = "flame.svg")]
    out: PathBuf,
    /// Sampling frequency in Hz.
    #[arg(long, default_value_t = 999)]
    freq: u32,
    /// Flame graph title (default: the profiled command line).
    #[arg(long)]
    title: Option<String>,
    /// Rows in each table of the summary.
    #[arg(long, default_value_t = 25)]
    top: usize,
    /// Keep only samples of threads whose name contains this (repeatable; e.g. `msgr-` for
    /// cuttle's workers without perf-msgr's baselines). Applies to the SVG, .folded and summary.
    #[arg(long = "thread", value_name = "NAME")]
    threads: Vec<String>,
    /// Do not build: use the binaries already in the target directory, or a path.
    #[arg(long)]
    no_build: bool,
    /// Target directory of the frame-pointer build (default: `<workspace>/target/flame`).
    #[arg(long)]
    target_dir: Option<PathBuf>,
    /// Keep perf.data (its directory is printed) instead of deleting it.
    #[arg(long)]
    keep_data: bool,
    /// The tool and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "TOOL [ARGS]")]
    command: Vec<OsString>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let workdir = std::env::temp_dir().join(format!("perf-flame-{}", std::process::id()));
    fs::create_dir_all(&workdir).with_context(|| format!("create {}", workdir.display()))?;
    let result = run(&args, &workdir);
    let data = workdir.join("perf.data");
    if args.keep_data && data.is_file() {
        eprintln!("perf-flame: kept {}", data.display());
    } else {
        let _ = fs::remove_dir_all(&workdir);
    }
    result
}

fn run(args: &Args, workdir: &Path) -> Result<()> {
    check_perf(workdir, args.freq)?;

    // perf/ sits directly under the workspace root.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?;
    let target_dir = args
        .target_dir
        .clone()
        .unwrap_or_else(|| workspace.join("target/flame"));
    if !args.no_build {
        build(workspace, &target_dir)?;
    }
    let tool = &args.command[0];
    let binary = if tool.to_string_lossy().contains('/') {
        PathBuf::from(tool)
    } else {
        target_dir.join("release").join(tool)
    };
    if !binary.is_file() {
        bail!(
            "{} not found: <tool> is a cuttle-perf binary name (perf-msgr, perf-echo, …) or a path",
            binary.display()
        );
    }

    let data = workdir.join("perf.data");
    eprintln!(
        "perf-flame: recording {} at {} Hz",
        binary.display(),
        args.freq
    );
    let status = Command::new("perf")
        .args(["record", "-e", "cpu-clock", "--call-graph", "fp", "-F"])
        .arg(args.freq.to_string())
        .arg("-o")
        .arg(&data)
        .arg("--")
        .arg(&binary)
        .args(&args.command[1..])
        .status()
        .context("run perf record")?;
    if !status.success() {
        if !data.is_file() {
            bail!("perf record failed ({status}) and wrote no data");
        }
        eprintln!("perf-flame: warning: perf record exited with {status}; using what it recorded");
    }

    let mut folded = fold(&data)?;
    if folded.is_empty() {
        bail!("perf recorded no samples (did the tool run at all?)");
    }
    retain_threads(&mut folded, &args.threads);
    if folded.is_empty() {
        bail!("no samples in threads matching {:?}", args.threads);
    }
    let mut folded_path = args.out.clone().into_os_string();
    folded_path.push(".folded");
    let folded_path = PathBuf::from(folded_path);
    fs::write(&folded_path, folded.join("\n") + "\n")
        .with_context(|| format!("write {}", folded_path.display()))?;

    let cmdline = args
        .command
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let title = args.title.clone().unwrap_or_else(|| cmdline.clone());
    let mut subtitle = format!("perf record -e cpu-clock -F {} --call-graph fp", args.freq);
    if !args.threads.is_empty() {
        subtitle += &format!("; threads matching {}", args.threads.join(" or "));
    }
    let svg =
        fs::File::create(&args.out).with_context(|| format!("create {}", args.out.display()))?;
    let mut svg = BufWriter::new(svg);
    render_svg(&folded, &title, Some(&subtitle), &mut svg).context("render flame graph")?;
    svg.flush().context("write flame graph")?;

    let summary = Summary::from_folded(folded.iter().map(String::as_str));
    println!("\nperf-flame: {cmdline}");
    println!(
        "flame graph: {}  folded: {}",
        args.out.display(),
        folded_path.display()
    );
    println!("{subtitle}");
    print!("{}", summary.report(args.top));
    Ok(())
}

/// Fails early, with a fix to try, when `perf` is missing or may not record here.
fn check_perf(workdir: &Path, freq: u32) -> Result<()> {
    let probe = Command::new("perf")
        .args(["record", "-q", "-e", "cpu-clock", "-F"])
        .arg(freq.to_string())
        .arg("-o")
        .arg(workdir.join("probe.data"))
        .args(["--", "true"])
        .stdin(Stdio::null())
        .output();
    let out = match probe {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => bail!(
            "`perf` is not installed or not on PATH (Debian: apt-get install linux-perf; \
             Ubuntu: apt-get install linux-tools-$(uname -r))"
        ),
        Err(e) => return Err(e).context("run perf"),
    };
    let _ = fs::remove_file(workdir.join("probe.data"));
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let paranoid = fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    bail!(
        "perf cannot record here ({}):\n{}\nkernel.perf_event_paranoid is {paranoid}; \
         allow profiling with: sudo sysctl kernel.perf_event_paranoid=-1 \
         (in a container, perf_event_open may also need to be allowed by seccomp)",
        out.status,
        stderr.trim_end()
    );
}

/// `cargo build --release -p cuttle-perf --bins` with frame pointers into `target_dir`.
fn build(workspace: &Path, target_dir: &Path) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
    rustflags.push_str(" -C force-frame-pointers=yes");
    eprintln!(
        "perf-flame: building cuttle-perf with frame pointers into {}",
        target_dir.display()
    );
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "cuttle-perf", "--bins"])
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", target_dir)
        .env("RUSTFLAGS", rustflags.trim())
        // Would take precedence over RUSTFLAGS.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .context("run cargo build")?;
    check(status, "cargo build")
}

/// Runs `perf script` on `data` and folds its output into stack lines.
fn fold(data: &Path) -> Result<Vec<String>> {
    let mut child = Command::new("perf")
        .args(["script", "-F", SCRIPT_FIELDS, "-i"])
        .arg(data)
        .stdout(Stdio::piped())
        .spawn()
        .context("run perf script")?;
    let stdout = child.stdout.take().context("perf script stdout")?;
    let folded = fold_perf_script(BufReader::new(stdout)).context("fold perf script output")?;
    check(child.wait().context("wait for perf script")?, "perf script")?;
    Ok(folded)
}

fn check(status: ExitStatus, what: &str) -> Result<()> {
    if status.success() {
        Ok(())
    } else {
        bail!("{what} failed ({status})")
    }
}
