//! The task cell, its layout, the vtable, and `RawTask`, the type-erased pointer.

use super::core::{Core, Stage};
use super::harness;
use super::header::{Header, Trailer};
use super::state::State;
use super::Schedule;
use crate::loom::sync::atomic::AtomicU64;
use crate::loom::UnsafeCell;
use hookrt_hooks::{AsyncId, Context, HookData, Resource, ResourceKind};
use std::future::Future;
use std::panic::Location;
use std::ptr::NonNull;
use std::task::Waker;

/// One heap allocation per task: header first (so a `NonNull<Header>` is also a pointer
/// to the cell), then the scheduler handle and the future/output stage, then the cold
/// trailer.
#[repr(C)]
pub(crate) struct Cell<F: Future, S: 'static> {
    pub(crate) header: Header,
    pub(crate) core: Core<F, S>,
    pub(crate) trailer: Trailer,
}

/// The functions that know a task's concrete types. One static instance per `(F, S)`.
pub(crate) struct Vtable {
    /// Runs the task; consumes the `Notified` reference that was dequeued.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Emits `wake(task, by)` when `by` is given, then submits a `Notified` whose
    /// reference the caller already counted (as a yield when the flag is set).
    pub(crate) schedule: unsafe fn(NonNull<Header>, Option<AsyncId>, bool),
    /// The execution a waker firing now should be attributed to: the thread's execution
    /// id when the thread works for this task's runtime, [`AsyncId::ROOT`] when it works
    /// for another runtime (whose ids this runtime's hooks never saw) or for none.
    pub(crate) waker_execution: unsafe fn(NonNull<Header>) -> AsyncId,
    /// Frees the cell; called when the last reference goes.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: writes `Poll::Ready(output)` to the destination (a
    /// `*mut Poll<Result<F::Output, JoinError>>`) or registers the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// Drops the `JoinHandle`'s reference and whatever it still owns.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Runtime shutdown: cancels the task if nobody else will; consumes the owned-list
    /// reference.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
    /// Byte offset of the trailer from the header.
    pub(crate) trailer_offset: usize,
    /// The resource kind hooks see (`Task` or `Blocking`).
    pub(crate) kind: ResourceKind,
}

/// The vtable of one `(F, S)` pair, computed at compile time.
struct VtableFor<F, S>(std::marker::PhantomData<(F, S)>);

impl<F: Future, S: Schedule> VtableFor<F, S> {
    const VTABLE: Vtable = Vtable {
        poll: harness::poll::<F, S>,
        schedule: harness::schedule::<F, S>,
        waker_execution: harness::waker_execution::<F, S>,
        dealloc: harness::dealloc::<F, S>,
        try_read_output: harness::try_read_output::<F, S>,
        drop_join_handle: harness::drop_join_handle::<F, S>,
        shutdown: harness::shutdown::<F, S>,
        trailer_offset: std::mem::offset_of!(Cell<F, S>, trailer),
        kind: S::KIND,
    };
}

/// Where and by whom a task is created.
#[derive(Debug)]
pub(crate) struct TaskMeta {
    pub(crate) id: AsyncId,
    pub(crate) trigger_id: AsyncId,
    pub(crate) context: Context,
    pub(crate) location: &'static Location<'static>,
    pub(crate) name: Option<Box<str>>,
}

/// A type-erased pointer to a task cell. Copying it does not count a reference: the
/// reference types (`Notified`, `OwnedTask`, `JoinHandle`, `AbortHandle`, wakers) own
/// one each and say so.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: a task cell is shared between threads only through its atomic state word and
// fields whose access rules are given in `header.rs` and `state.rs`; the future itself
// is `Send` for every task the multi-thread scheduler holds (the spawn functions require
// it), and `!Send` tasks never leave their thread.
unsafe impl Send for RawTask {}
// SAFETY: as for `Send`: all shared access goes through the state protocol.
unsafe impl Sync for RawTask {}

impl RawTask {
    /// Allocates a cell with three references (owned list, `JoinHandle`, first
    /// `Notified`).
    pub(crate) fn new<F: Future, S: Schedule>(future: F, scheduler: S, meta: TaskMeta) -> RawTask {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable: &VtableFor::<F, S>::VTABLE,
                id: meta.id,
                trigger_id: meta.trigger_id,
                woken_by: AtomicU64::new(0),
                context: meta.context,
                location: meta.location,
            },
            core: Core {
                scheduler,
                stage: UnsafeCell::new(Stage::Running(future)),
            },
            trailer: Trailer {
                owned_slot: UnsafeCell::new(usize::MAX),
                join_waker: UnsafeCell::new(None),
                name: meta.name,
                context: UnsafeCell::new(None),
                hook_data: HookData::new(),
            },
        });
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }

    /// # Safety
    ///
    /// `ptr` must point to the header of a live task cell.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a `RawTask` only exists for a cell kept alive by a reference its owner
        // holds, and the header is never written after creation except through atomics.
        unsafe { self.ptr.as_ref() }
    }

    /// The cold part of the cell.
    ///
    /// Computed from the task pointer, whose provenance covers the whole cell (it came
    /// from `Box::leak` of the cell), never from a `&Header`, whose provenance covers
    /// the header only.
    pub(crate) fn trailer(&self) -> &Trailer {
        // `vtable.trailer_offset` is `offset_of!` for this very cell type.
        // SAFETY: the pointer addresses a live `Cell<F, S>` (provenance over the whole
        // cell) whose trailer sits that many bytes in and lives as long as our reference.
        unsafe {
            self.ptr
                .cast::<u8>()
                .add(self.header().vtable.trailer_offset)
                .cast::<Trailer>()
                .as_ref()
        }
    }

    /// The view hooks receive for this task.
    pub(crate) fn resource(&self) -> Resource<'_> {
        let header = self.header();
        Resource::new(
            header.id,
            header.trigger_id,
            header.vtable.kind,
            &header.context,
        )
        .with_name(self.trailer().name.as_deref())
        .with_location(Some(header.location))
        .with_data(&self.trailer().hook_data)
    }

    pub(crate) fn id(&self) -> AsyncId {
        self.header().id
    }

    /// Runs the task, consuming one `Notified` reference.
    pub(crate) fn poll(self) {
        // SAFETY: the caller hands over the `Notified` reference it owned.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    /// The execution to report as the waker of this task (see `Vtable::waker_execution`).
    pub(crate) fn waker_execution(self) -> AsyncId {
        // SAFETY: the vtable's own function, for this task's header.
        unsafe { (self.header().vtable.waker_execution)(self.ptr) }
    }

    /// Emits `wake` (if `by` is given) and submits a `Notified` already counted.
    pub(crate) fn schedule(self, by: Option<AsyncId>) {
        // SAFETY: the caller counted the reference this `Notified` owns.
        unsafe { (self.header().vtable.schedule)(self.ptr, by, false) }
    }

    /// As `schedule`, for a task that woke itself during its poll.
    pub(crate) fn schedule_yield(self, by: Option<AsyncId>) {
        // SAFETY: the caller counted the reference this `Notified` owns.
        unsafe { (self.header().vtable.schedule)(self.ptr, by, true) }
    }

    /// Cancels the task for shutdown, consuming the owned-list reference.
    pub(crate) fn shutdown(self) {
        // SAFETY: the caller hands over the owned-list reference.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// Adds a reference (the caller must later give it back with `drop_reference`).
    pub(crate) fn add_reference(self) {
        self.header().state.ref_inc();
    }

    /// Whether the task's future is gone (completed, panicked or cancelled).
    pub(crate) fn is_complete(self) -> bool {
        self.header().state.load().is_complete()
    }

    /// Drops one reference, freeing the cell if it was the last.
    pub(crate) fn drop_reference(self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference: nobody else can reach the cell.
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }

    /// # Safety
    ///
    /// `dst` must be a valid `*mut Poll<Result<T, JoinError>>` where `T` is the task's
    /// output type, and the caller must be the task's `JoinHandle`.
    pub(crate) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        // SAFETY: forwarded from the caller's contract.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    /// # Safety
    ///
    /// The caller must be the task's `JoinHandle`, giving up its reference.
    pub(crate) unsafe fn drop_join_handle(self) {
        // SAFETY: forwarded from the caller's contract.
        unsafe { (self.header().vtable.drop_join_handle)(self.ptr) }
    }
}

impl std::fmt::Debug for RawTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawTask")
            .field("id", &self.id())
            .field("state", &self.header().state)
            .finish()
    }
}
