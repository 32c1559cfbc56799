//! Running a tool as a subprocess: its command line ([`CommandSpec`]), a time limit
//! ([`run_limited`]), and one [`Step`] with the load average around it ([`run_step`]).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::machine::load_now;
use super::model::{Outcome, Step};

/// A command line: environment, program, arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandSpec {
    /// Variables set for it.
    pub env: Vec<(String, String)>,
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

/// `s` quoted for a POSIX shell if it needs to be.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:,=+@%".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

impl CommandSpec {
    /// `program args...`.
    pub fn new(program: impl Into<PathBuf>, args: &[&str]) -> CommandSpec {
        CommandSpec {
            env: Vec::new(),
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// The same command under `taskset -c <cpus>`.
    pub fn pinned(&self, cpus: &str) -> CommandSpec {
        let mut args = vec!["-c".to_owned(), cpus.to_owned()];
        args.push(self.program.display().to_string());
        args.extend(self.args.iter().cloned());
        CommandSpec {
            env: self.env.clone(),
            program: PathBuf::from("taskset"),
            args,
        }
    }

    /// The command as a shell would run it.
    pub fn display(&self) -> String {
        self.env
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .chain(std::iter::once(shell_quote(
                &self.program.display().to_string(),
            )))
            .chain(self.args.iter().map(|a| shell_quote(a)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The last `n` lines of `s`.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn reader(mut r: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs `cmd` and returns its stdout; an error (with the tail of its stderr) if it cannot
/// start, exits unsuccessfully, or runs past `limit` (then it is killed).
pub fn run_limited(cmd: &CommandSpec, limit: Duration) -> Result<String, String> {
    let mut child = Command::new(&cmd.program)
        .args(&cmd.args)
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", cmd.program.display()))?;
    let out = reader(child.stdout.take().expect("piped"));
    let err = reader(child.stderr.take().expect("piped"));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                // Our own child, by its handle.
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("killed after {} s", limit.as_secs()));
            }
            // Polling a child process's exit, with a deadline: there is no wait with a
            // time-out in std.
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(format!("wait: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match status {
        Ok(s) if s.success() => Ok(stdout),
        Ok(s) => Err(format!("{s}; stderr:\n{}", tail(&stderr, 12))),
        Err(e) => Err(format!("{e}; stderr:\n{}", tail(&stderr, 12))),
    }
}

/// Runs `cmd` as one step: load average around it, wall time, output parsed by `parse`.
pub fn run_step<T>(
    cmd: &CommandSpec,
    limit: Duration,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Step<T> {
    let load_before = load_now();
    let t0 = Instant::now();
    let result = run_limited(cmd, limit);
    let wall_s = t0.elapsed().as_secs_f64();
    let outcome = match result.and_then(|out| parse(&out).map_err(|e| format!("output: {e}"))) {
        Ok(t) => Outcome::Done(t),
        Err(e) => Outcome::Failed(e),
    };
    Step {
        command: cmd.display(),
        load_before,
        load_after: load_now(),
        wall_s,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_display_as_a_shell_line() {
        let mut c = CommandSpec::new("/t/perf-msgr", &["--size", "64", "a b", "it's"]);
        c.env.push(("CEPH_REF_DIR".into(), "/tmp/x".into()));
        assert_eq!(
            c.display(),
            r"CEPH_REF_DIR=/tmp/x /t/perf-msgr --size 64 'a b' 'it'\''s'"
        );
        assert_eq!(
            CommandSpec::new("p", &["--x"]).pinned("0").display(),
            "taskset -c 0 p --x"
        );
    }

    #[test]
    fn a_failing_command_reports_its_stderr() {
        let c = CommandSpec::new("sh", &["-c", "echo out; echo oops >&2; exit 3"]);
        let e = run_limited(&c, Duration::from_secs(30)).unwrap_err();
        assert!(e.contains("oops") && e.contains('3'), "{e}");
        let ok = CommandSpec::new("sh", &["-c", "echo out"]);
        assert_eq!(run_limited(&ok, Duration::from_secs(30)).unwrap(), "out\n");
    }

    #[test]
    fn a_command_past_its_limit_is_killed() {
        let c = CommandSpec::new("sleep", &["30"]);
        let t0 = Instant::now();
        let e = run_limited(&c, Duration::from_millis(100)).unwrap_err();
        assert!(e.contains("killed"), "{e}");
        assert!(t0.elapsed() < Duration::from_secs(10));
    }
}
