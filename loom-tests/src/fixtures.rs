//! Futures, wakers and values for driving tasks in a model, with loom's leak tracking.

use loom::alloc::Track;
use loom::sync::{Arc, Mutex};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// A one-shot gate a task can wait on: [`Gate::wait`] is `Pending` until [`Gate::open`].
///
/// The waker slot sits under a loom mutex, so the hand-off between the polling thread and
/// the opening thread is part of what loom explores (and no wake-up can be lost by the
/// gate itself).
#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    open: bool,
    waker: Option<Waker>,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    /// A future that waits for the gate to open. It holds the gate and a loom-tracked
    /// allocation, so a task whose future is never dropped shows up as a leak.
    pub fn wait(gate: &Arc<Gate>) -> Wait {
        Wait {
            gate: gate.clone(),
            _alive: Track::new(()),
        }
    }

    /// Opens the gate and wakes the waiting task, if it registered.
    pub fn open(&self) {
        let waker = {
            let mut state = self.state.lock().unwrap();
            state.open = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// A clone of the waker the waiting task registered last.
    pub fn waker(&self) -> Option<Waker> {
        self.state.lock().unwrap().waker.clone()
    }
}

/// The future of [`Gate::wait`].
#[derive(Debug)]
pub struct Wait {
    gate: Arc<Gate>,
    _alive: Track<()>,
}

impl Future for Wait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.gate.state.lock().unwrap();
        if state.open {
            Poll::Ready(())
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// A value whose drops are counted: never dropped is reported by loom as a leak at the
/// end of the execution, and [`DropProbe::drops`] tells how many times it was dropped
/// (a double drop cannot be caught inside the task, where the harness catches panics
/// from destructors).
#[derive(Debug)]
pub struct Tracked<T> {
    value: T,
    drops: &'static AtomicUsize,
    _alive: Track<()>,
}

impl<T> Tracked<T> {
    /// Tracks `value`.
    #[track_caller]
    pub fn new(value: T) -> Tracked<T> {
        Tracked {
            value,
            // Leaked on purpose (one word per value): the counter must outlive a value
            // that is dropped twice.
            drops: Box::leak(Box::new(AtomicUsize::new(0))),
            _alive: Track::new(()),
        }
    }

    /// The value.
    pub fn get(&self) -> &T {
        &self.value
    }

    /// A probe that counts this value's drops.
    pub fn probe(&self) -> DropProbe {
        DropProbe(self.drops)
    }
}

impl<T> Drop for Tracked<T> {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts the drops of one [`Tracked`] value. A std atomic: read it after the threads
/// that may drop the value have been joined.
#[derive(Clone, Copy, Debug)]
pub struct DropProbe(&'static AtomicUsize);

impl DropProbe {
    /// How many times the value was dropped.
    pub fn drops(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// A waker that counts its wakes and whose last clone loom tracks (a leaked join waker
/// shows up as a leak).
#[derive(Debug)]
pub struct CountingWaker {
    wakes: AtomicUsize,
    _alive: Track<()>,
}

impl CountingWaker {
    /// A new waker and the counter behind it.
    ///
    /// The counter is a std atomic: read it only after the threads that may wake have
    /// been joined (loom runs threads one at a time, so the value is then exact).
    pub fn new() -> (std::sync::Arc<CountingWaker>, Waker) {
        let inner = std::sync::Arc::new(CountingWaker {
            wakes: AtomicUsize::new(0),
            _alive: Track::new(()),
        });
        let waker = Waker::from(inner.clone());
        (inner, waker)
    }

    /// How many times a clone of the waker was woken.
    pub fn wakes(&self) -> usize {
        self.wakes.load(Ordering::Relaxed)
    }
}

impl Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
    }
}

/// Polls `future` once with `waker`.
pub fn poll_once<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}
