//! `Buf`: the buffer a `File` hands to its background reads and writes.

use crate::io::ReadBuf;
use std::cmp;
use std::io::{self, IoSlice, Read, Write};

/// The most a `File` moves in one background read or write, unless changed with
/// `set_max_buf_size` (tokio's default).
pub(super) const DEFAULT_MAX_BUF_SIZE: usize = 2 * 1024 * 1024;

/// Bytes `data[pos..end]` waiting to be read by the task (after a background read) or
/// written by the pool (before a background write).
///
/// `data` is always initialised (zeroed when it grows) and keeps its high-water length,
/// so reads need no `unsafe` and only the first read of a given size pays for zeroing.
#[derive(Debug, Default)]
pub(super) struct Buf {
    data: Vec<u8>,
    pos: usize,
    end: usize,
}

impl Buf {
    pub(super) fn new() -> Buf {
        Buf::default()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pos == self.end
    }

    fn len(&self) -> usize {
        self.end - self.pos
    }

    fn bytes(&self) -> &[u8] {
        &self.data[self.pos..self.end]
    }

    fn clear(&mut self) {
        self.pos = 0;
        self.end = 0;
    }

    /// Grows the initialised area to at least `n` bytes.
    fn reserve_initialised(&mut self, n: usize) {
        if self.data.len() < n {
            self.data.resize(n, 0);
        }
    }

    /// Moves as much as fits into `dst`; returns how much.
    pub(super) fn copy_to(&mut self, dst: &mut ReadBuf<'_>) -> usize {
        let n = cmp::min(self.len(), dst.remaining());
        dst.put_slice(&self.bytes()[..n]);
        self.pos += n;
        if self.pos == self.end {
            self.clear();
        }
        n
    }

    /// Takes up to `max` bytes of `src` for a background write; returns how many.
    pub(super) fn copy_from(&mut self, src: &[u8], max: usize) -> usize {
        assert!(self.is_empty(), "a write buffer starts empty");
        let n = cmp::min(src.len(), max);
        self.reserve_initialised(n);
        self.data[..n].copy_from_slice(&src[..n]);
        self.pos = 0;
        self.end = n;
        n
    }

    /// [`copy_from`](Buf::copy_from) for a vectored write.
    pub(super) fn copy_from_bufs(&mut self, bufs: &[IoSlice<'_>], max: usize) -> usize {
        assert!(self.is_empty(), "a write buffer starts empty");
        let total = cmp::min(bufs.iter().map(|b| b.len()).sum::<usize>(), max);
        self.reserve_initialised(total);
        let mut n = 0;
        for buf in bufs {
            if n == total {
                break;
            }
            let take = cmp::min(buf.len(), total - n);
            self.data[n..n + take].copy_from_slice(&buf[..take]);
            n += take;
        }
        self.pos = 0;
        self.end = n;
        n
    }

    /// Reads up to `max` bytes from `rd` (on a pool thread), retrying interruptions.
    pub(super) fn read_from<T: Read>(&mut self, rd: &mut T, max: usize) -> io::Result<usize> {
        assert!(self.is_empty(), "a read buffer starts empty");
        self.reserve_initialised(max);
        self.clear();
        let res = loop {
            match rd.read(&mut self.data[..max]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                res => break res,
            }
        };
        if let Ok(n) = res {
            assert!(n <= max, "a reader reported more bytes than it was given");
            self.end = n;
        }
        res
    }

    /// Writes everything to `wr` (on a pool thread) and empties the buffer.
    pub(super) fn write_to<T: Write>(&mut self, wr: &mut T) -> io::Result<()> {
        assert_eq!(self.pos, 0, "a write buffer is written from its start");
        let res = wr.write_all(self.bytes());
        self.clear();
        res
    }

    /// Drops buffered read-ahead; returns the (negative) offset that moves the OS file
    /// position back to where the task's reading stands.
    pub(super) fn discard_read(&mut self) -> i64 {
        let ret = -(self.len() as i64);
        self.clear();
        ret
    }
}
