//! Raw OS helpers. Every syscall goes through `syscall!`, which maps `-1` to
//! `io::Error::last_os_error()`. Unsafe code outside the drivers lives here only.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Calls a libc function and maps a `-1` return to the thread's `errno`.
macro_rules! syscall {
    ($fn: ident ( $($arg: expr),* $(,)* ) ) => {{
        // SAFETY: every caller passes arguments that satisfy the libc function's
        // contract (valid fds and pointers to live, correctly sized memory).
        let res = unsafe { libc::$fn($($arg, )*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}
pub(crate) use syscall;

/// A non-blocking `eventfd(2)`: the cross-thread doorbell of an [`EventCenter`](crate::EventCenter).
///
/// Both drivers watch it: epoll as a readable source, io_uring with a read op on it.
#[derive(Debug)]
pub struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    /// Creates a non-blocking, close-on-exec eventfd with a zero counter.
    pub fn new() -> io::Result<Self> {
        let fd = syscall!(eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC))?;
        // SAFETY: eventfd returned a fresh fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(EventFd { fd })
    }

    /// Adds one to the counter, waking whoever waits on it. Never blocks.
    pub fn wake(&self) -> io::Result<()> {
        let one: u64 = 1;
        match syscall!(write(
            self.fd.as_raw_fd(),
            (&one as *const u64).cast(),
            std::mem::size_of::<u64>()
        )) {
            Ok(_) => Ok(()),
            // The counter is saturated: the reader is already due to wake.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Resets the counter to zero. Returns the count read (0 if none was pending).
    pub fn drain(&self) -> io::Result<u64> {
        let mut n: u64 = 0;
        match syscall!(read(
            self.fd.as_raw_fd(),
            (&mut n as *mut u64).cast(),
            std::mem::size_of::<u64>()
        )) {
            Ok(_) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        }
    }
}

impl AsRawFd for EventFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A non-blocking monotonic `timerfd`: gives the epoll driver nanosecond timer precision,
/// since `epoll_wait` only takes whole milliseconds.
#[derive(Debug)]
pub struct TimerFd {
    fd: OwnedFd,
}

impl TimerFd {
    /// Creates a disarmed timerfd on `CLOCK_MONOTONIC`.
    pub fn new() -> io::Result<Self> {
        let fd = syscall!(timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_NONBLOCK | libc::TFD_CLOEXEC
        ))?;
        // SAFETY: timerfd_create returned a fresh fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(TimerFd { fd })
    }

    /// Arms the timer to expire once, `after` from now. A zero duration is bumped to 1 ns
    /// (zero would disarm it).
    pub fn set_relative(&self, after: Duration) -> io::Result<()> {
        let after = after.max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs().min(i64::MAX as u64) as libc::time_t,
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        syscall!(timerfd_settime(
            self.fd.as_raw_fd(),
            0,
            &spec,
            std::ptr::null_mut()
        ))?;
        Ok(())
    }

    /// Consumes an expiry, if any.
    pub fn drain(&self) -> io::Result<()> {
        let mut n: u64 = 0;
        match syscall!(read(
            self.fd.as_raw_fd(),
            (&mut n as *mut u64).cast(),
            std::mem::size_of::<u64>()
        )) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl AsRawFd for TimerFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Sets or clears `O_NONBLOCK` on `fd`.
pub fn set_nonblocking(fd: RawFd, nonblocking: bool) -> io::Result<()> {
    let flags = syscall!(fcntl(fd, libc::F_GETFL))?;
    let new = if nonblocking {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if new != flags {
        syscall!(fcntl(fd, libc::F_SETFL, new))?;
    }
    Ok(())
}

/// Pins the calling thread to `cpu` (`sched_setaffinity`).
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is a plain bitmask for which all-zero is valid (the empty set).
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpu >= 8 * std::mem::size_of::<libc::cpu_set_t>() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cpu index out of range",
        ));
    }
    // SAFETY: `cpu` is within the set's bit capacity (checked above).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    syscall!(sched_setaffinity(
        0,
        std::mem::size_of::<libc::cpu_set_t>(),
        &set
    ))?;
    Ok(())
}

/// Number of open file descriptors of this process (for leak checks in tests and tools).
pub fn open_fd_count() -> io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/fd")?.count())
}

/// `read(2)` into `spare`, returning how many of its bytes are now initialised.
fn read_uninit(fd: RawFd, spare: &mut [std::mem::MaybeUninit<u8>]) -> io::Result<usize> {
    Ok(syscall!(read(fd, spare.as_mut_ptr().cast(), spare.len()))? as usize)
}

/// Reads from `fd` into the spare capacity of `buf` (at most `max` bytes) and extends its
/// length by the count read. The buffer must already have spare capacity (`reserve` first).
pub fn read_spare(fd: RawFd, buf: &mut bytes::BytesMut, max: usize) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    let want = spare.len().min(max);
    let n = read_uninit(fd, &mut spare[..want])?;
    // SAFETY: read(2) initialised the first `n <= want` spare bytes.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// [`read_spare`] for a `Vec` (a frame decoder's segment buffer, read into directly).
pub fn read_spare_vec(fd: RawFd, buf: &mut Vec<u8>) -> io::Result<usize> {
    let n = read_uninit(fd, buf.spare_capacity_mut())?;
    // SAFETY: read(2) initialised the first `n` spare bytes (no more than it was given).
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// CPUs the process may run on (the main thread's affinity mask, e.g. as `taskset` set it);
/// 1 if it cannot be read.
pub fn process_cpu_count() -> usize {
    // SAFETY: cpu_set_t is a plain bitmask for which all-zero is valid (the empty set).
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    match syscall!(sched_getaffinity(
        pid,
        std::mem::size_of::<libc::cpu_set_t>(),
        &mut set
    )) {
        // SAFETY: `set` was filled in by the kernel.
        Ok(_) => (unsafe { libc::CPU_COUNT(&set) }) as usize,
        Err(_) => 1,
    }
}
