//! A provided-buffer ring (`IORING_REGISTER_PBUF_RING`): a pool of equal buffers the kernel
//! picks from for multishot receives. A received buffer is lent to the center as a
//! [`RecvBuf`] and goes back to the ring when that guard drops.

use std::cell::Cell;
use std::io;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::Submitter;
use io_uring::types::BufRingEntry;

use crate::sys::syscall;

/// Anonymous, page-aligned memory from `mmap`, unmapped on drop.
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    fn new(len: usize) -> io::Result<Self> {
        // SAFETY: an anonymous private mapping with no address hint touches no existing memory.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping {
            ptr: NonNull::new(ptr.cast()).ok_or_else(|| io::Error::other("mmap returned null"))?,
            len,
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        let _ = syscall!(munmap(self.ptr.as_ptr().cast(), self.len));
    }
}

/// The ring of buffer descriptors plus the buffers themselves.
pub(crate) struct BufRing {
    entries: Mapping,
    bufs: Mapping,
    count: u16,
    size: u32,
    bgid: u16,
    /// Our copy of the tail; published to the kernel with a release store.
    tail: Cell<u16>,
}

impl BufRing {
    /// Maps `count` buffers of `size` bytes, fills the ring with all of them and registers it
    /// as buffer group `bgid`. `count` must be a power of two ≤ 32768.
    pub(crate) fn new(
        submitter: &Submitter<'_>,
        count: u16,
        size: u32,
        bgid: u16,
    ) -> io::Result<Self> {
        if !count.is_power_of_two() || count > 32768 || size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "recv_buf_count must be a power of two ≤ 32768",
            ));
        }
        let entries = Mapping::new(usize::from(count) * std::mem::size_of::<BufRingEntry>())?;
        let bufs = Mapping::new(usize::from(count) * size as usize)?;
        let ring = BufRing {
            entries,
            bufs,
            count,
            size,
            bgid,
            tail: Cell::new(0),
        };
        for bid in 0..count {
            ring.push_entry(bid);
        }
        ring.publish_tail();
        // SAFETY: the entry memory stays mapped for as long as this BufRing lives, and the
        // driver keeps the BufRing alive until every op that could select from it completed
        // and the ring is unregistered or destroyed.
        unsafe {
            submitter.register_buf_ring_with_flags(
                ring.entries.ptr.as_ptr() as u64,
                count,
                bgid,
                0,
            )?;
        }
        Ok(ring)
    }

    pub(crate) fn bgid(&self) -> u16 {
        self.bgid
    }

    fn entry_base(&self) -> *mut BufRingEntry {
        self.entries.ptr.as_ptr().cast()
    }

    /// Writes buffer `bid` at the current tail slot (not yet visible to the kernel).
    fn push_entry(&self, bid: u16) {
        let tail = self.tail.get();
        let slot = usize::from(tail & (self.count - 1));
        // SAFETY: `slot < count`, so the entry lies inside the mapping; the kernel only reads
        // entries between its head and our published tail, and this slot is past the tail.
        let entry = unsafe { &mut *self.entry_base().add(slot) };
        // SAFETY: `bid < count`, so the buffer lies inside the mapping.
        let addr = unsafe {
            self.bufs
                .ptr
                .as_ptr()
                .add(usize::from(bid) * self.size as usize)
        };
        entry.set_addr(addr as u64);
        entry.set_len(self.size);
        entry.set_bid(bid);
        self.tail.set(tail.wrapping_add(1));
    }

    fn publish_tail(&self) {
        // SAFETY: the tail field lives in entry 0 of the mapped ring, is 2-byte aligned, and
        // the kernel reads it atomically; we are its only writer.
        let tail = unsafe { &*(BufRingEntry::tail(self.entry_base()) as *const AtomicU16) };
        tail.store(self.tail.get(), Ordering::Release);
    }

    /// Gives buffer `bid` back to the kernel.
    pub(crate) fn recycle(&self, bid: u16) {
        self.push_entry(bid);
        self.publish_tail();
    }

    /// The first `len` bytes of buffer `bid`, as filled by the kernel.
    ///
    /// Only valid while `bid` is lent out (between its completion and its recycle).
    fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        assert!(
            bid < self.count && len <= self.size as usize,
            "buffer {bid}/{len} outside the ring"
        );
        // SAFETY: bounds checked above; while lent out the kernel does not write this buffer,
        // and recycling happens only when the RecvBuf borrowing it drops.
        unsafe {
            std::slice::from_raw_parts(
                self.bufs
                    .ptr
                    .as_ptr()
                    .add(usize::from(bid) * self.size as usize),
                len,
            )
        }
    }
}

/// A received buffer lent by the ring; derefs to the received bytes and returns the buffer
/// to the kernel when dropped.
pub struct RecvBuf {
    ring: Rc<BufRing>,
    bid: u16,
    len: usize,
}

impl RecvBuf {
    pub(crate) fn new(ring: Rc<BufRing>, bid: u16, len: usize) -> Self {
        let len = len.min(ring.size as usize);
        RecvBuf { ring, bid, len }
    }
}

impl std::ops::Deref for RecvBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.ring.bytes(self.bid, self.len)
    }
}

impl Drop for RecvBuf {
    fn drop(&mut self) {
        self.ring.recycle(self.bid);
    }
}
