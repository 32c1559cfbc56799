//! The open-file limit: a run of `--conns 1000` holds both ends of every connection in one
//! process, more than the common soft limit of 1024 descriptors.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors a run of `conns` connections may hold at once: both ends of each, doubled for
/// the raw baseline's cloned sockets, plus room for listeners, rings, eventfds and stdio.
pub fn fds_needed(conns: usize) -> u64 {
    4 * conns as u64 + 256
}

/// Raises this process's soft open-file limit to `needed` if it is lower (up to the hard
/// limit, which an unprivileged process cannot pass). Returns the soft limit now in force
/// (`u64::MAX`: unlimited); fails if it is still below `needed`.
pub fn raise_fd_limit(needed: u64) -> anyhow::Result<u64> {
    let lim = getrlimit(Resource::Nofile);
    let soft = lim.current.unwrap_or(u64::MAX);
    if soft >= needed {
        return Ok(soft);
    }
    let hard = lim.maximum.unwrap_or(u64::MAX);
    anyhow::ensure!(
        hard >= needed,
        "{needed} file descriptors needed but the hard limit is {hard} (raise `ulimit -Hn`)"
    );
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(needed),
            maximum: lim.maximum,
        },
    )
    .map_err(|e| anyhow::anyhow!("setrlimit(RLIMIT_NOFILE, {needed}) failed: {e}"))?;
    Ok(needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_already_met_is_left_alone() {
        let before = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
        assert_eq!(raise_fd_limit(16).unwrap(), before);
        assert!(fds_needed(1000) > 2000);
    }
}
