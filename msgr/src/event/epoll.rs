//! The epoll driver, on `mio`. Edge-triggered like Ceph's `EpollDriver`: a handler must read or
//! write until `WouldBlock` before it is told again.
//!
//! `epoll_wait` takes whole milliseconds (mio rounds up, so timers are never early); for a
//! deadline less than [`TIMERFD_BELOW`] away a `timerfd` is armed so timers keep sub-millisecond
//! precision without spinning.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::driver::{EventMask, Ready};
use crate::net::SocketId;
use crate::sys::TimerFd;

const WAKE: Token = Token(usize::MAX);
const TIMER: Token = Token(usize::MAX - 1);
/// Deadlines closer than this use the timerfd; further ones accept ≤ 1 ms lateness.
const TIMERFD_BELOW: Duration = Duration::from_millis(100);

fn file_token(fd: RawFd) -> Token {
    Token((fd as usize) << 1)
}

pub(crate) fn socket_token(id: SocketId) -> Token {
    Token((id.to_raw() as usize) << 1 | 1)
}

fn interest(mask: EventMask) -> Option<Interest> {
    match (
        mask.contains(EventMask::READABLE),
        mask.contains(EventMask::WRITABLE),
    ) {
        (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
        (true, false) => Some(Interest::READABLE),
        (false, true) => Some(Interest::WRITABLE),
        (false, false) => None,
    }
}

pub(crate) struct EpollDriver {
    poll: Poll,
    events: Events,
    timer: TimerFd,
    timer_armed_for: Option<Instant>,
}

impl EpollDriver {
    pub(crate) fn new(wake_fd: RawFd) -> io::Result<Self> {
        let poll = Poll::new()?;
        let timer = TimerFd::new()?;
        poll.registry()
            .register(&mut SourceFd(&wake_fd), WAKE, Interest::READABLE)?;
        poll.registry()
            .register(&mut SourceFd(&timer.as_raw_fd()), TIMER, Interest::READABLE)?;
        Ok(EpollDriver {
            poll,
            events: Events::with_capacity(1024),
            timer,
            timer_armed_for: None,
        })
    }

    pub(crate) fn set_file(&mut self, fd: RawFd, old: EventMask, new: EventMask) -> io::Result<()> {
        self.set_interest(fd, file_token(fd), old, new)
    }

    /// Registers, re-registers or deregisters `fd` under `token`. A closed-and-reused fd
    /// (the kernel dropped it from the epoll set) is re-added rather than failing.
    pub(crate) fn set_interest(
        &mut self,
        fd: RawFd,
        token: Token,
        old: EventMask,
        new: EventMask,
    ) -> io::Result<()> {
        let registry = self.poll.registry();
        match (interest(old), interest(new)) {
            (_, None) => match registry.deregister(&mut SourceFd(&fd)) {
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::EBADF)) => Ok(()),
                r => r,
            },
            (None, Some(i)) => match registry.register(&mut SourceFd(&fd), token, i) {
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                    registry.reregister(&mut SourceFd(&fd), token, i)
                }
                r => r,
            },
            (Some(_), Some(i)) => match registry.reregister(&mut SourceFd(&fd), token, i) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    registry.register(&mut SourceFd(&fd), token, i)
                }
                r => r,
            },
        }
    }

    pub(crate) fn wait(
        &mut self,
        deadline: Option<Instant>,
        precise: bool,
        out: &mut Vec<Ready>,
    ) -> io::Result<bool> {
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if let (Some(d), Some(t)) = (deadline, timeout)
            && precise
            && !t.is_zero()
            && t < TIMERFD_BELOW
            && self.timer_armed_for != Some(d)
        {
            self.timer.set_relative(t)?;
            self.timer_armed_for = Some(d);
        }
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(false),
            Err(e) => return Err(e),
        }
        let mut woken = false;
        for ev in self.events.iter() {
            let mut mask = EventMask::NONE;
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                mask = mask | EventMask::READABLE;
            }
            if ev.is_writable() || ev.is_write_closed() || ev.is_error() {
                mask = mask | EventMask::WRITABLE;
            }
            if ev.is_read_closed() || ev.is_error() {
                mask = mask | EventMask::CLOSED;
            }
            match ev.token() {
                WAKE => woken = true,
                TIMER => {
                    self.timer.drain()?;
                    self.timer_armed_for = None;
                }
                Token(t) if t & 1 == 1 => out.push(Ready::Sock {
                    id: SocketId::from_raw((t >> 1) as u64),
                    mask,
                }),
                Token(t) => out.push(Ready::File {
                    fd: (t >> 1) as RawFd,
                    mask,
                }),
            }
        }
        Ok(woken)
    }
}
