//! The framing every hand-written baseline speaks, and the client's bookkeeping, both free of
//! I/O so the std, tokio and tokio-uring baselines share them (sans-IO).
//!
//! A frame is a `u32` LE body length, then the body: a `u64` LE send stamp, then the payload.
//! A server answers each read's complete frames with one write: the frames themselves
//! ([`Reply::Echo`]) or a reply frame per request carrying its stamp ([`Reply::Fixed`]).

use std::io;
use std::ops::Range;
use std::time::Instant;

use super::params::{LoadParams, Reply, Tally, Window};

/// Length prefix plus send stamp.
pub(super) const RAW_HEADER: usize = 4 + 8;
/// Frames up to this size are batched into one `write` per burst of credits.
const RAW_BATCH_MAX: usize = 64 * 1024;
/// Read buffer granularity.
const RAW_READ_CHUNK: usize = 256 * 1024;

/// Reads length-prefixed frames into one reused buffer, which grows to hold a whole frame.
/// One read is [`prepare`](Self::prepare), the read itself into that range of the buffer
/// (borrowed with [`spare`](Self::spare), or moved out with [`take_buf`](Self::take_buf) for
/// an owned-buffer read), then [`commit`](Self::commit).
pub(super) struct FrameReader {
    buf: Vec<u8>,
    filled: usize,
    /// End of the complete frames at the front of `buf`.
    done: usize,
}

impl FrameReader {
    pub(super) fn new() -> FrameReader {
        FrameReader {
            buf: vec![0; RAW_READ_CHUNK],
            filled: 0,
            done: 0,
        }
    }

    /// Drops the frames returned last time and makes room; returns the range of the buffer
    /// the next read fills (never empty).
    pub(super) fn prepare(&mut self) -> Range<usize> {
        if self.done > 0 {
            self.buf.copy_within(self.done..self.filled, 0);
            self.filled -= self.done;
            self.done = 0;
        }
        if self.buf.len() - self.filled < RAW_READ_CHUNK / 4 {
            self.buf.resize(self.buf.len() + RAW_READ_CHUNK, 0);
        }
        self.filled..self.buf.len()
    }

    /// [`prepare`](Self::prepare), then the free part of the buffer, to read into.
    pub(super) fn spare(&mut self) -> &mut [u8] {
        let r = self.prepare();
        &mut self.buf[r]
    }

    /// Moves the buffer out (for an owned-buffer read or write); give it back with
    /// [`restore`](Self::restore) before any other call.
    pub(super) fn take_buf(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Gives back the buffer [`take_buf`](Self::take_buf) moved out.
    pub(super) fn restore(&mut self, buf: Vec<u8>) {
        self.buf = buf;
    }

    /// Records that a read put `n` bytes at the start of the prepared range, and finds the
    /// frames it completed. Returns `Ok(false)` at EOF (`n == 0`).
    pub(super) fn commit(&mut self, n: usize) -> io::Result<bool> {
        if n == 0 {
            return Ok(false);
        }
        self.filled += n;
        while self.filled - self.done >= 4 {
            let at = self.done;
            let len = u32::from_le_bytes(self.buf[at..at + 4].try_into().expect("4 bytes"));
            let total = 4 + len as usize;
            if len < 8 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "short raw frame",
                ));
            }
            if self.filled - at < total {
                if self.buf.len() < at + total + RAW_READ_CHUNK / 4 {
                    self.buf.resize(at + total + RAW_READ_CHUNK / 4, 0);
                }
                break;
            }
            self.done += total;
        }
        Ok(true)
    }

    /// The complete frames read so far, back to back.
    pub(super) fn complete(&self) -> &[u8] {
        &self.buf[..self.done]
    }

    /// The send stamp of every complete frame.
    pub(super) fn stamps(&self) -> impl Iterator<Item = u64> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= self.done {
                return None;
            }
            let b = &self.buf[at..];
            let len = u32::from_le_bytes(b[..4].try_into().expect("4 bytes")) as usize;
            at += 4 + len;
            Some(u64::from_le_bytes(
                b[4..RAW_HEADER].try_into().expect("8 bytes"),
            ))
        })
    }
}

/// Puts into `out` (cleared first) a [`Reply::Fixed`] frame of `n` bytes for every complete
/// request in `r`, each carrying its request's stamp.
pub(super) fn fixed_replies(out: &mut Vec<u8>, r: &FrameReader, n: usize) {
    out.clear();
    for stamp in r.stamps() {
        out.extend_from_slice(&((8 + n) as u32).to_le_bytes());
        out.extend_from_slice(&stamp.to_le_bytes());
        out.resize(out.len() + n, 0);
    }
}

/// Builds request frames: all of a burst of credits in one buffer when frames are small,
/// one frame per buffer (each with its own stamp) when they are large.
pub(super) struct Requests {
    frame: Vec<u8>,
}

impl Requests {
    pub(super) fn new(size: usize) -> Requests {
        let mut frame = vec![0x5au8; RAW_HEADER + size];
        frame[..4].copy_from_slice(&((8 + size) as u32).to_le_bytes());
        Requests { frame }
    }

    /// Puts into `out` (cleared first) up to `credits` requests stamped now, for one write;
    /// returns how many.
    pub(super) fn fill(&mut self, out: &mut Vec<u8>, credits: usize, window: &Window) -> usize {
        let stamp = window.stamp(Instant::now()).to_le_bytes();
        self.frame[4..RAW_HEADER].copy_from_slice(&stamp);
        let count = if self.frame.len() <= RAW_BATCH_MAX {
            credits
        } else {
            credits.min(1)
        };
        out.clear();
        for _ in 0..count {
            out.extend_from_slice(&self.frame);
        }
        count
    }
}

/// One client connection's bookkeeping: `depth` requests are granted up front and every
/// reply received while the window is open grants one more; the connection is done once the
/// window is over and every granted request was answered.
pub(super) struct ClientLoad {
    window: Window,
    size: usize,
    granted: u64,
    received: u64,
    tally: Tally,
}

impl ClientLoad {
    pub(super) fn new(p: &LoadParams, window: Window) -> ClientLoad {
        ClientLoad {
            window,
            size: p.size,
            granted: p.depth as u64,
            received: 0,
            tally: Tally::default(),
        }
    }

    /// Records the complete replies in `r`, read at `now`; returns how many requests to send.
    pub(super) fn on_replies(&mut self, r: &FrameReader, now: Instant) -> usize {
        let mut grant = 0;
        for stamp in r.stamps() {
            self.tally.record(&self.window, stamp, now, self.size);
            self.received += 1;
            grant += usize::from(now < self.window.end);
        }
        self.granted += grant as u64;
        grant
    }

    /// Whether the window is over and every request was answered.
    pub(super) fn finished(&self, now: Instant) -> bool {
        self.received == self.granted && now >= self.window.end
    }

    pub(super) fn into_tally(self) -> Tally {
        self.tally
    }
}

/// What a server connection writes for the frames `r` completed: the frames themselves for
/// [`Reply::Echo`] (`None`: write [`FrameReader::complete`]), else `out` filled with replies.
pub(super) fn answer<'a>(reply: Reply, r: &FrameReader, out: &'a mut Vec<u8>) -> Option<&'a [u8]> {
    match reply {
        Reply::Echo => None,
        Reply::Fixed(n) => {
            fixed_replies(out, r, n);
            Some(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` to a reader in reads of at most `step` bytes; returns the stamps of
    /// the frames.
    fn feed(mut bytes: &[u8], step: usize) -> Vec<u64> {
        let mut r = FrameReader::new();
        let mut stamps = Vec::new();
        while !bytes.is_empty() {
            let spare = r.spare();
            let n = step.min(spare.len()).min(bytes.len());
            spare[..n].copy_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            assert!(r.commit(n).unwrap());
            stamps.extend(r.stamps());
        }
        stamps
    }

    #[test]
    fn frames_split_anywhere_are_found_once() {
        let p = LoadParams {
            size: 300_000,
            depth: 1,
            conns: 1,
            threads: 1,
            secs: 1.0,
            warmup: 0.0,
            recv_buf_size: None,
        };
        let w = Window::new(&p);
        let (mut big, mut small) = (Requests::new(p.size), Requests::new(10));
        let mut bytes = Vec::new();
        let mut out = Vec::new();
        assert_eq!(
            big.fill(&mut out, 3, &w),
            1,
            "large frames go one per write"
        );
        bytes.extend_from_slice(&out);
        assert_eq!(small.fill(&mut out, 3, &w), 3);
        bytes.extend_from_slice(&out);
        for step in [1, 7, 4096, bytes.len()] {
            assert_eq!(feed(&bytes, step).len(), 4, "step {step}");
        }
    }

    #[test]
    fn fixed_replies_carry_the_request_stamps() {
        let mut r = FrameReader::new();
        let mut frame = Requests::new(5).frame;
        frame[4..RAW_HEADER].copy_from_slice(&42u64.to_le_bytes());
        r.spare()[..frame.len()].copy_from_slice(&frame);
        r.commit(frame.len()).unwrap();
        let mut out = Vec::new();
        assert!(answer(Reply::Echo, &r, &mut out).is_none());
        let replies = answer(Reply::Fixed(3), &r, &mut out).unwrap().to_vec();
        assert_eq!(replies.len(), RAW_HEADER + 3);
        let mut echo = FrameReader::new();
        echo.spare()[..replies.len()].copy_from_slice(&replies);
        echo.commit(replies.len()).unwrap();
        assert_eq!(echo.stamps().collect::<Vec<_>>(), [42]);
    }

    #[test]
    fn a_short_frame_is_an_error() {
        let mut r = FrameReader::new();
        r.spare()[..4].copy_from_slice(&3u32.to_le_bytes());
        assert!(r.commit(4).is_err());
    }
}
