//! The driver boundary: what an [`EventCenter`](crate::EventCenter) asks of epoll or io_uring,
//! and the [`Ready`] events they hand back from one wait.

use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::str::FromStr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::epoll::EpollDriver;
use super::uring::{RecvBuf, UringDriver};
use crate::net::SocketId;

/// Interest in, or readiness of, a file descriptor (Ceph's `EVENT_READABLE` / `EVENT_WRITABLE`).
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct EventMask(u8);

impl EventMask {
    /// No interest.
    pub const NONE: EventMask = EventMask(0);
    /// Readable (or hung up / in error: a read will not block).
    pub const READABLE: EventMask = EventMask(1);
    /// Writable (or in error: a write will not block).
    pub const WRITABLE: EventMask = EventMask(2);
    /// Both.
    pub const ALL: EventMask = EventMask(3);
    /// Internal: the peer hung up or the socket is in error, so a short read does not prove
    /// the socket drained (EOF may be pending under the same edge). Never reaches handlers.
    pub(crate) const CLOSED: EventMask = EventMask(4);

    /// True if every bit of `other` is set in `self`.
    pub fn contains(self, other: EventMask) -> bool {
        self.0 & other.0 == other.0
    }
    /// True if any bit of `other` is set in `self`.
    pub fn intersects(self, other: EventMask) -> bool {
        self.0 & other.0 != 0
    }
    /// True if no bit is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The bits of `self` that are not in `other`.
    pub fn without(self, other: EventMask) -> EventMask {
        EventMask(self.0 & !other.0)
    }
}

impl std::ops::BitOr for EventMask {
    type Output = EventMask;
    fn bitor(self, rhs: EventMask) -> EventMask {
        EventMask(self.0 | rhs.0)
    }
}

impl std::ops::BitAnd for EventMask {
    type Output = EventMask;
    fn bitand(self, rhs: EventMask) -> EventMask {
        EventMask(self.0 & rhs.0)
    }
}

impl fmt::Debug for EventMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = if self.contains(Self::READABLE) {
            "R"
        } else {
            ""
        };
        let w = if self.contains(Self::WRITABLE) {
            "W"
        } else {
            ""
        };
        write!(f, "EventMask({r}{w})")
    }
}

/// Which kernel interface an [`EventCenter`](crate::EventCenter) uses (config `ms_async_driver`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum DriverKind {
    /// Readiness with `epoll(7)` through `mio`; all socket I/O is `read`/`writev` syscalls.
    #[default]
    Epoll,
    /// One `io_uring` per thread: completions for socket I/O (multishot recv into a provided
    /// buffer ring, `sendmsg` with an iovec per segment), poll ops for plain file events.
    IoUring,
}

impl DriverKind {
    /// Both drivers, for suites that run against each.
    pub const ALL: [DriverKind; 2] = [DriverKind::Epoll, DriverKind::IoUring];

    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DriverKind::Epoll => "epoll",
            DriverKind::IoUring => "io_uring",
        }
    }
}

impl fmt::Display for DriverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown `ms_async_driver` value.
#[derive(Debug, thiserror::Error)]
#[error("unknown ms_async_driver {0:?}: expected \"epoll\" or \"io_uring\"")]
pub struct UnknownDriver(String);

impl FromStr for DriverKind {
    type Err = UnknownDriver;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "epoll" | "posix" => Ok(DriverKind::Epoll),
            "io_uring" | "uring" | "io-uring" => Ok(DriverKind::IoUring),
            other => Err(UnknownDriver(other.to_string())),
        }
    }
}

/// Driver settings. `Default` gives Ceph-like defaults on epoll.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// Which driver to try first; io_uring falls back to epoll (with a log line) when the
    /// kernel refuses it.
    pub kind: DriverKind,
    /// io_uring submission queue entries (the completion queue gets four times as many).
    pub uring_entries: u32,
    /// Buffers in the provided-buffer ring shared by all receiving sockets of one center
    /// (a power of two, at most 32768).
    pub recv_buf_count: u16,
    /// Size of each provided buffer (io_uring); receive buffers are allocated in chunks of at
    /// least 64 KiB, or of this size if larger, and epoll reads fill their spare room.
    pub recv_buf_size: u32,
    /// Opt-in adaptive busy polling (off by default): before sleeping in the kernel, poll
    /// without blocking for up to this long, so that an event arriving meanwhile is handled
    /// without a sleep and a wakeup (~20-25 µs on these VMs). Spinning stops by itself while
    /// it keeps finding nothing. No Ceph counterpart (Ceph's epoll loop always sleeps).
    pub busy_poll: Option<Duration>,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            kind: DriverKind::Epoll,
            uring_entries: 512,
            recv_buf_count: 512,
            recv_buf_size: 16 * 1024,
            busy_poll: None,
        }
    }
}

impl DriverConfig {
    /// The defaults with `kind` as the driver.
    pub fn with_kind(kind: DriverKind) -> Self {
        DriverConfig {
            kind,
            ..Default::default()
        }
    }
}

/// One thing a driver saw during a wait, for the center to act on.
pub(crate) enum Ready {
    /// A plain file event (registered with `create_file_event`) is ready.
    File { fd: RawFd, mask: EventMask },
    /// A socket is ready (epoll: all socket I/O; io_uring: connect completion only).
    Sock { id: SocketId, mask: EventMask },
    /// io_uring: bytes received into a provided buffer.
    Recv { id: SocketId, data: RecvBuf },
    /// io_uring: the receive stream ended: `Ok` at EOF, `Err` on a socket error.
    RecvEnd {
        id: SocketId,
        key: usize,
        res: io::Result<()>,
    },
    /// io_uring: a multishot receive stopped without EOF (buffers ran out); re-arm it.
    RecvRearm { id: SocketId, key: usize },
    /// io_uring: a send op completed; `bufs` are the segments it owned, `res` the bytes sent.
    Sent {
        id: SocketId,
        bufs: Vec<Bytes>,
        res: io::Result<usize>,
    },
    /// io_uring: a receive into the caller's buffer finished; `buf` comes back with the
    /// bytes read appended (its length grew by the `Ok` count).
    RecvInto {
        id: SocketId,
        key: usize,
        buf: Vec<u8>,
        res: io::Result<usize>,
    },
}

/// The driver a center runs on, chosen at run time.
// One per center, never moved after creation: boxing the larger variant would only add an
// indirection on every call.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Driver {
    Epoll(EpollDriver),
    Uring(UringDriver),
}

impl Driver {
    /// Builds the configured driver; io_uring falls back to epoll when unavailable.
    /// `wake_fd` is the center's eventfd, watched for cross-thread wakeups.
    pub(crate) fn new(cfg: &DriverConfig, wake_fd: RawFd, center: usize) -> io::Result<Driver> {
        if cfg.kind == DriverKind::IoUring {
            match UringDriver::new(cfg, wake_fd) {
                Ok(d) => return Ok(Driver::Uring(d)),
                Err(e) => tracing::warn!(
                    center, error = %e,
                    "io_uring unavailable (old kernel or kernel.io_uring_disabled?); falling back to epoll"
                ),
            }
        }
        Ok(Driver::Epoll(EpollDriver::new(wake_fd)?))
    }

    pub(crate) fn kind(&self) -> DriverKind {
        match self {
            Driver::Epoll(_) => DriverKind::Epoll,
            Driver::Uring(_) => DriverKind::IoUring,
        }
    }

    /// Whether the wake eventfd must be drained with `read(2)` by the owner after a wakeup
    /// (epoll); io_uring consumes it with its own read op.
    pub(crate) fn wake_needs_drain(&self) -> bool {
        matches!(self, Driver::Epoll(_))
    }

    /// Sets the interest of plain file event `fd` from `old` to `new` (either may be empty).
    pub(crate) fn set_file(&mut self, fd: RawFd, old: EventMask, new: EventMask) -> io::Result<()> {
        match self {
            Driver::Epoll(d) => d.set_file(fd, old, new),
            Driver::Uring(d) => d.set_file(fd, new),
        }
    }

    /// Waits until something is ready or `deadline` passes (`None`: no deadline), appending
    /// what happened to `out`. `precise`: the deadline is a timer's, so wake on time (epoll
    /// arms its timerfd); otherwise up to 1 ms late is fine. Returns whether the wake eventfd
    /// fired.
    pub(crate) fn wait(
        &mut self,
        deadline: Option<Instant>,
        precise: bool,
        out: &mut Vec<Ready>,
    ) -> io::Result<bool> {
        match self {
            Driver::Epoll(d) => d.wait(deadline, precise, out),
            Driver::Uring(d) => d.wait(deadline, out),
        }
    }
}
