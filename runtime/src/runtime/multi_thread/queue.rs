//! The run queues of the multi-thread scheduler, behind one small interface.
//!
//! Normally these are crossbeam-deque's Chase-Lev deque (`Worker`/`Stealer`, used FIFO)
//! and its `Injector`. Under `cfg(loom)` they are mutex-protected `VecDeque`s built on
//! loom's `Mutex`, because loom cannot see inside crossbeam's atomics; the scheduler code
//! above this interface is the same in both modes.

use crate::task::Notified;

/// How many tasks one steal moves at most (crossbeam's own cap is 32).
#[cfg(loom)]
const STEAL_BATCH: usize = 2;

#[cfg(not(loom))]
mod imp {
    use super::Notified;
    use crossbeam_deque::{Injector, Steal, Stealer, Worker};

    /// A worker's own queue; only its worker pushes and pops.
    pub(crate) struct Local(Worker<Notified>);

    /// The other end of a worker's queue, for thieves.
    pub(crate) struct Thief(Stealer<Notified>);

    /// The global queue for tasks scheduled from outside the workers.
    pub(crate) struct Inject(Injector<Notified>);

    pub(crate) fn local() -> (Local, Thief) {
        let worker = Worker::new_fifo();
        let stealer = worker.stealer();
        (Local(worker), Thief(stealer))
    }

    fn retry<T>(mut f: impl FnMut() -> Steal<T>) -> Option<T> {
        loop {
            match f() {
                Steal::Success(t) => return Some(t),
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        }
    }

    impl Local {
        pub(crate) fn push(&self, task: Notified) {
            self.0.push(task);
        }
        pub(crate) fn pop(&self) -> Option<Notified> {
            self.0.pop()
        }
    }

    impl Thief {
        /// Moves about half of the victim's tasks into `dst` and returns one of them.
        pub(crate) fn steal_into(&self, dst: &Local) -> Option<Notified> {
            retry(|| self.0.steal_batch_and_pop(&dst.0))
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
    }

    impl Inject {
        pub(crate) fn new() -> Inject {
            Inject(Injector::new())
        }
        pub(crate) fn push(&self, task: Notified) {
            self.0.push(task);
        }
        pub(crate) fn pop(&self) -> Option<Notified> {
            retry(|| self.0.steal())
        }
        /// Moves a batch into `dst` and returns one task.
        pub(crate) fn steal_into(&self, dst: &Local) -> Option<Notified> {
            retry(|| self.0.steal_batch_and_pop(&dst.0))
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
    }
}

#[cfg(loom)]
mod imp {
    use super::{Notified, STEAL_BATCH};
    use crate::loom::sync::{Arc, Mutex};
    use std::collections::VecDeque;

    pub(crate) struct Local(Arc<Mutex<VecDeque<Notified>>>);
    pub(crate) struct Thief(Arc<Mutex<VecDeque<Notified>>>);
    pub(crate) struct Inject(Mutex<VecDeque<Notified>>);

    pub(crate) fn local() -> (Local, Thief) {
        let q = Arc::new(Mutex::new(VecDeque::new()));
        (Local(q.clone()), Thief(q))
    }

    fn move_batch(src: &mut VecDeque<Notified>, dst: &Local) -> Option<Notified> {
        let first = src.pop_front()?;
        let extra = (src.len() / 2).min(STEAL_BATCH - 1);
        let mut dst = dst.0.lock().unwrap();
        for _ in 0..extra {
            if let Some(t) = src.pop_front() {
                dst.push_back(t);
            }
        }
        Some(first)
    }

    impl Local {
        pub(crate) fn push(&self, task: Notified) {
            self.0.lock().unwrap().push_back(task);
        }
        pub(crate) fn pop(&self) -> Option<Notified> {
            self.0.lock().unwrap().pop_front()
        }
    }

    impl Thief {
        pub(crate) fn steal_into(&self, dst: &Local) -> Option<Notified> {
            if Arc::ptr_eq(&self.0, &dst.0) {
                return None;
            }
            let mut src = self.0.lock().unwrap();
            move_batch(&mut src, dst)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().unwrap().is_empty()
        }
    }

    impl Inject {
        pub(crate) fn new() -> Inject {
            Inject(Mutex::new(VecDeque::new()))
        }
        pub(crate) fn push(&self, task: Notified) {
            self.0.lock().unwrap().push_back(task);
        }
        pub(crate) fn pop(&self) -> Option<Notified> {
            self.0.lock().unwrap().pop_front()
        }
        pub(crate) fn steal_into(&self, dst: &Local) -> Option<Notified> {
            let mut src = self.0.lock().unwrap();
            move_batch(&mut src, dst)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().unwrap().is_empty()
        }
    }
}

pub(crate) use imp::{local, Inject, Local, Thief};
