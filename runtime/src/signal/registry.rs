//! Process-wide signal state: one [`Slot`] per signal number, created the first time a
//! listener asks for that signal and kept for the life of the process (the OS handler
//! stays installed, as in tokio).
//!
//! A slot is a self-pipe (a non-blocking `UnixStream` pair) and a delivery counter. The
//! handler, installed through `signal-hook-registry`, bumps the counter and writes one
//! byte to the pipe. Each [`Signal`](super::unix::Signal) registers its own duplicate of
//! the read end with its runtime's I/O driver, so the byte wakes it through the driver
//! (`wake(task, by = the Signal resource)`).
//!
//! **Broadcast.** Several listeners, on one runtime or several, share a slot's pipe, and
//! the first one to drain it would take the bytes (and so the readiness) from the
//! others. The counter is therefore the truth: each listener remembers the count it has
//! seen, and whoever drains the pipe then wakes every other listener of the slot
//! ([`Slot::wake_others`], in the root frame), which compare the counter with what they
//! saw. Deliveries between two looks coalesce into one notification, as in tokio.

use hookrt_hooks::{AsyncId, Context};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::os::raw::c_int;
use std::os::unix::io::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

/// The process-wide state of one signal number.
pub(crate) struct Slot {
    signum: c_int,
    /// Deliveries so far (wrapping). The handler bumps it *before* writing to the pipe,
    /// so whoever reads a byte sees the count that byte stands for.
    deliveries: AtomicUsize,
    /// The read end (non-blocking); listeners register duplicates of it.
    read: UnixStream,
    /// The write end (non-blocking); only the handler writes, through `write_fd`.
    write: UnixStream,
    /// `write.as_raw_fd()`, read by the handler.
    write_fd: RawFd,
    /// The wakers of the listeners, by listener key; taken by [`Slot::wake_others`].
    waiters: Mutex<slab::Slab<Option<Waker>>>,
}

/// Slots by signal number.
static SLOTS: Mutex<BTreeMap<c_int, Arc<Slot>>> = Mutex::new(BTreeMap::new());

/// The slot of `signum`, installing the process's handler for it the first time.
///
/// # Errors
///
/// For a signal that cannot be handled (`SIGKILL`, `SIGSTOP`, and those
/// `signal-hook-registry` forbids: `SIGILL`, `SIGFPE`, `SIGSEGV`), a number the OS does
/// not know, or when the pipe cannot be created.
pub(crate) fn slot(signum: c_int) -> io::Result<Arc<Slot>> {
    if signum <= 0 || signal_hook_registry::FORBIDDEN.contains(&signum) {
        return Err(io::Error::other(format!(
            "hookrt: refusing to register signal {signum}"
        )));
    }
    let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(slot) = slots.get(&signum) {
        return Ok(slot.clone());
    }
    let (read, write) = UnixStream::pair()?;
    read.set_nonblocking(true)?;
    write.set_nonblocking(true)?;
    let slot = Arc::new(Slot {
        signum,
        deliveries: AtomicUsize::new(0),
        write_fd: write.as_raw_fd(),
        read,
        write,
        waiters: Mutex::new(slab::Slab::new()),
    });
    let handler_slot = slot.clone();
    // `Slot::on_signal` does one atomic `fetch_add` on a lock-free `AtomicUsize` and one
    // `write(2)` of a stack byte to a non-blocking descriptor (no allocation, no lock,
    // no panic, never blocks). The closure owns an `Arc` of the slot, so the descriptor
    // stays open as long as the action may run (never unregistered, so for ever), and
    // `signal-hook-registry` saves and restores `errno` around actions.
    let action = move || handler_slot.on_signal();
    // SAFETY: `register` requires an async-signal-safe action, which `action` is (above).
    let registered = unsafe { signal_hook_registry::register(signum, action) };
    // On failure the closure (and its `Arc`) is dropped: the pipe closes with `slot`.
    registered?;
    slots.insert(signum, slot.clone());
    Ok(slot)
}

impl Slot {
    /// The action run inside the signal handler: async-signal-safe only.
    fn on_signal(&self) {
        self.deliveries.fetch_add(1, Ordering::SeqCst);
        let byte = 1u8;
        // A full pipe (`EAGAIN`) loses only the byte, not the delivery: the counter was
        // bumped first and a byte is already pending.
        // SAFETY: `write(2)` is async-signal-safe; `write_fd` is the slot's own open
        // descriptor and the pointer/length describe one readable byte on this stack.
        unsafe {
            libc::write(self.write_fd, (&raw const byte).cast(), 1);
        }
    }

    /// The delivery count now.
    pub(crate) fn deliveries(&self) -> usize {
        self.deliveries.load(Ordering::SeqCst)
    }

    /// A duplicate of the read end (same pipe, own descriptor, so each listener can be
    /// registered with a driver on its own).
    pub(crate) fn dup_read_end(&self) -> io::Result<UnixStream> {
        self.read.try_clone()
    }

    /// Reads every pending byte through `pipe` (a duplicate of the read end).
    pub(crate) fn drain(&self, pipe: &UnixStream) {
        let mut buf = [0u8; 128];
        loop {
            match (&*pipe).read(&mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // `WouldBlock`: drained. Any other error cannot be acted on here; the
                // counter still tells deliveries.
                Err(_) => return,
            }
        }
    }

    fn waiters(&self) -> MutexGuard<'_, slab::Slab<Option<Waker>>> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new listener's key in the waiter list.
    pub(crate) fn add_listener(&self) -> usize {
        self.waiters().insert(None)
    }

    /// Removes a listener.
    pub(crate) fn remove_listener(&self, key: usize) {
        self.waiters().try_remove(key);
    }

    /// Stores the listener's waker (to be woken when another listener drains the pipe).
    pub(crate) fn set_waker(&self, key: usize, waker: &Waker) {
        let mut waiters = self.waiters();
        if let Some(slot) = waiters.get_mut(key) {
            match slot {
                Some(w) if w.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        }
    }

    /// Wakes every listener but `key` (the one that just drained the pipe); each is
    /// woken once per stored waker.
    ///
    /// The wakes run in the root frame, so hooks see `wake(task, by = ROOT)` (as for a
    /// wake from a plain thread), not `by` the draining listener: that listener may
    /// belong to another runtime, whose ids the woken task's hooks never saw.
    pub(crate) fn wake_others(&self, key: usize) {
        let wakers: Vec<Waker> = self
            .waiters()
            .iter_mut()
            .filter(|(k, _)| *k != key)
            .filter_map(|(_, w)| w.take())
            .collect();
        if wakers.is_empty() {
            return;
        }
        let _root = hookrt_hooks::enter(AsyncId::ROOT, AsyncId::ROOT, Context::empty());
        for waker in wakers {
            waker.wake();
        }
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("signum", &self.signum)
            .field("deliveries", &self.deliveries())
            .field("write", &self.write)
            .finish()
    }
}
