//! The task waker: a `RawWaker` over the task header that owns one reference.

use super::header::Header;
use super::raw::RawTask;
use super::state::TransitionToNotified;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker that borrows the caller's reference instead of owning one (for polls).
///
/// # Safety
///
/// `ptr` must point to a live task header and stay live while the waker is used.
pub(super) unsafe fn waker_ref(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    let raw = RawWaker::new(ptr.as_ptr() as *const (), &VTABLE);
    // SAFETY: the vtable's functions uphold `RawWaker`'s contract for task headers;
    // `ManuallyDrop` keeps the borrowed reference from being released.
    ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
}

/// # Safety
///
/// `data` must be a task header pointer from this module.
unsafe fn raw_task(data: *const ()) -> RawTask {
    // SAFETY: our wakers are only ever built over non-null task header pointers.
    unsafe { RawTask::from_raw(NonNull::new_unchecked(data as *mut Header)) }
}

/// # Safety
///
/// Waker vtable contract: `data` is a live task header.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: per the waker contract.
    let task = unsafe { raw_task(data) };
    task.header().state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

/// # Safety
///
/// Waker vtable contract: `data` is a live task header whose reference this waker owns.
unsafe fn wake(data: *const ()) {
    // SAFETY: per the waker contract.
    unsafe { wake_by_ref(data) };
    // SAFETY: the waker's own reference is released after use.
    unsafe { drop_waker(data) };
}

/// # Safety
///
/// Waker vtable contract: `data` is a live task header.
unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: per the waker contract.
    let task = unsafe { raw_task(data) };
    let header = task.header();
    let by = task.waker_execution();
    // Recorded before the state change, whose release ordering publishes it to the
    // poller that later sees NOTIFIED.
    header.record_waker(by);
    match header.state.transition_to_notified() {
        TransitionToNotified::Submit => task.schedule(Some(by)),
        TransitionToNotified::DoNothing => {}
    }
}

/// # Safety
///
/// Waker vtable contract: `data` is a live task header whose reference this waker owns.
unsafe fn drop_waker(data: *const ()) {
    // SAFETY: per the waker contract.
    let task = unsafe { raw_task(data) };
    task.drop_reference();
}
