//! The thread's current async context: one tagged word in a thread-local.
//!
//! Reading the context is the hot path (every `LocalStorage::get`), and so is entering
//! one (every poll of every task), so the thread-local is a plain word with no destructor
//! (no lazy-registration check on access) and entering a context the caller already
//! owns takes no reference count. The word is one of:
//!
//! - `0`: the empty context;
//! - a `*const FrameInner` with no tag bit: a heap frame the thread-local **owns** (it
//!   holds one strong count). Only `enter` with an owned [`Context`] and
//!   `LocalStorage::enter_with` install one;
//! - a `*const FrameInner | BORROWED`: a heap frame owned by whoever entered it (a task,
//!   a `Scoped` future, a `Context::run_sync` caller), which outlives the setting;
//! - a `*const StackNode | STACK`: a `LocalStorage::run_sync` scope, whose one setting
//!   lives on that call's stack and is only copied to the heap if someone captures the
//!   context (`Context::current`, a spawn).
//!
//! Every setter is a [`ContextGuard`] that restores the previous word when dropped (also
//! on unwind) and then releases whatever owned frame it finds, so settings nest like a
//! stack. Nothing but a guard ever replaces a borrowed or stack word, which is why a
//! borrow of the current value is valid until the innermost scope ends.

use super::entries::{Entry, FrameBuilder, FrameInner, StorageKey};
use super::Context;
use std::cell::Cell;
use std::sync::Arc;
use std::sync::OnceLock;

const BORROWED: usize = 0b01;
const STACK: usize = 0b10;
const TAGS: usize = BORROWED | STACK;

/// Nested `run_sync` scopes form a chain that reads walk; past this depth a new scope
/// folds the chain into a heap frame instead, so a read never walks more than this.
const MAX_STACK_DEPTH: u32 = 16;

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// The tagged word (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Raw(usize);

/// What a [`Raw`] points to.
enum View<'a> {
    Empty,
    Heap(&'a FrameInner),
    Stack(&'a StackNode),
}

impl Raw {
    const EMPTY: Raw = Raw(0);

    /// Moves `context`'s reference into a word (owned).
    fn owned(context: Context) -> Raw {
        match context.into_frame() {
            None => Raw::EMPTY,
            Some(frame) => Raw(Arc::into_raw(frame) as usize),
        }
    }

    /// A word that borrows `context`'s frame.
    #[inline]
    fn borrowed(context: &Context) -> Raw {
        match context.frame() {
            None => Raw::EMPTY,
            Some(frame) => Raw(Arc::as_ptr(frame) as usize | BORROWED),
        }
    }

    #[inline]
    fn stack(node: &StackNode) -> Raw {
        Raw(node as *const StackNode as usize | STACK)
    }

    #[inline]
    fn is_owned(self) -> bool {
        self.0 != 0 && self.0 & TAGS == 0
    }

    #[inline]
    fn address(self) -> usize {
        self.0 & !TAGS
    }

    /// # Safety
    ///
    /// The word must have been current (or saved by a live guard) and its owner still
    /// alive for `'a`.
    #[inline]
    unsafe fn view<'a>(self) -> View<'a> {
        if self.0 == 0 {
            View::Empty
        } else if self.0 & STACK != 0 {
            // SAFETY: a stack word points to the node of a `run_sync` call that is still
            // running (its guard restores the previous word before the node goes away).
            View::Stack(unsafe { &*(self.address() as *const StackNode) })
        } else {
            // SAFETY: a heap word points to a frame kept alive by its owner (the
            // thread-local itself, or whoever entered it borrowed), per the contract.
            View::Heap(unsafe { &*(self.address() as *const FrameInner) })
        }
    }

    /// Releases the strong count an owned word holds; other words own nothing.
    ///
    /// # Safety
    ///
    /// The word must no longer be current nor saved anywhere: it is consumed.
    #[inline]
    unsafe fn release(self) {
        if self.is_owned() {
            // SAFETY: an owned word came from `Arc::into_raw` in `Raw::owned` and holds
            // one strong count, given back here exactly once (the caller consumed it).
            drop(unsafe { Arc::from_raw(self.0 as *const FrameInner) });
        }
    }
}

#[inline]
fn current() -> Raw {
    CURRENT.try_with(|c| Raw(c.get())).unwrap_or(Raw::EMPTY)
}

#[inline]
fn replace(new: Raw) -> Raw {
    CURRENT
        .try_with(|c| Raw(c.replace(new.0)))
        .unwrap_or(Raw::EMPTY)
}

/// One `LocalStorage` setting on top of a base context: on a `run_sync` call's stack,
/// or inside a `LocalStorage::run` future (see [`StackNode::enter_on`]).
pub(crate) struct StackNode {
    parent: Raw,
    key: StorageKey,
    /// `None`: the storage is unset here (`exit_sync`).
    entry: Option<Entry>,
    depth: u32,
    /// The whole context as a heap frame, built the first time someone captures it.
    promoted: OnceLock<Context>,
}

impl StackNode {
    /// A setting that is not entered yet.
    pub(crate) fn detached(key: StorageKey, entry: Option<Entry>) -> StackNode {
        StackNode {
            parent: Raw::EMPTY,
            key,
            entry,
            depth: 0,
            promoted: OnceLock::new(),
        }
    }

    /// Makes this setting, on top of `base`, the current context until the guard drops.
    /// `base` must be the same context at every call (the captured frame is cached).
    ///
    /// # Safety
    ///
    /// Neither `self` nor `base` may move or be dropped until the guard is dropped.
    #[inline]
    pub(crate) unsafe fn enter_on(&mut self, base: &Context) -> ContextGuard {
        self.parent = Raw::borrowed(base);
        // SAFETY: forwarded to the caller.
        unsafe { ContextGuard::enter_raw(Raw::stack(self)) }
    }

    /// Takes the setting's entry out (to reuse its value's allocation).
    pub(crate) fn take_entry(&mut self) -> Option<Entry> {
        self.entry.take()
    }

    fn promoted(&self) -> &Context {
        self.promoted.get_or_init(|| {
            let mut builder = FrameBuilder::default();
            collect(&mut builder, Raw::stack(self));
            Context::from_frame(builder.build())
        })
    }
}

/// Adds every setting visible from `raw` to `builder`, nearest first.
fn collect(builder: &mut FrameBuilder, mut raw: Raw) {
    loop {
        // SAFETY: `raw` is the current word or the parent of a live node: alive.
        match unsafe { raw.view() } {
            View::Empty => return,
            View::Heap(frame) => return builder.add_frame(frame),
            View::Stack(node) => {
                if let Some(frame) = node.promoted.get().and_then(Context::frame) {
                    return builder.add_frame(frame);
                }
                if node.promoted.get().is_some() {
                    return; // promoted to the empty context: nothing further is visible
                }
                builder.add(node.key, node.entry.as_ref());
                raw = node.parent;
            }
        }
    }
}

/// # Safety
///
/// The returned borrow is only valid while the scopes that are current now are alive
/// and nothing replaces an owned current frame: use it without running user code, or
/// from a non-owned word (see [`with_value`]).
#[inline]
unsafe fn find<'a>(mut raw: Raw, key: StorageKey) -> Option<&'a Entry> {
    loop {
        // SAFETY: per the contract.
        match unsafe { raw.view::<'a>() } {
            View::Empty => return None,
            View::Heap(frame) => return frame.find(key),
            View::Stack(node) => {
                if node.key == key {
                    return node.entry.as_ref();
                }
                raw = node.parent;
            }
        }
    }
}

/// A new strong reference to `key`'s current value, if it is a `T`.
#[inline]
pub(crate) fn get<T: Send + Sync + 'static>(key: StorageKey) -> Option<Arc<T>> {
    // SAFETY: the borrow ends inside this function; no user code runs meanwhile.
    unsafe { find(current(), key) }?.value_arc::<T>()
}

/// Calls `f` with a borrow of `key`'s current value, if it is a `T`.
#[inline]
pub(crate) fn with_value<T: 'static, R>(key: StorageKey, f: impl FnOnce(Option<&T>) -> R) -> R {
    let raw = current();
    if raw.is_owned() {
        // `f` could call `enter_with`, which releases an owned current frame: hold a
        // reference to it for the call.
        let context = current_context();
        return f(context.entry(key).and_then(Entry::value_ref::<T>));
    }
    // SAFETY: the word is empty, borrowed or a stack node: its owner is a scope that
    // encloses this call, and code inside `f` can only replace the word through guards
    // that restore it, or through `enter_with`, which never releases a non-owned word.
    let entry = unsafe { find(raw, key) };
    f(entry.and_then(Entry::value_ref::<T>))
}

/// The current context, as an owned snapshot.
pub(crate) fn current_context() -> Context {
    // SAFETY: the current word is alive for this call.
    match unsafe { current().view() } {
        View::Empty => Context::empty(),
        View::Heap(frame) => {
            let ptr = frame as *const FrameInner;
            // SAFETY: a heap word points into a live `Arc<FrameInner>` made by
            // `Arc::into_raw`/`Arc::as_ptr`; the count is incremented before the new
            // `Arc` takes ownership of it.
            let frame = unsafe {
                Arc::increment_strong_count(ptr);
                Arc::from_raw(ptr)
            };
            Context::from_frame(Some(frame))
        }
        View::Stack(node) => node.promoted().clone(),
    }
}

/// Whether `context` is the current one (same frame; no reference taken).
#[inline]
pub(crate) fn is_current(context: &Context) -> bool {
    let address = context.frame().map_or(0, |f| Arc::as_ptr(f) as usize);
    let raw = current();
    raw.0 & STACK == 0 && raw.address() == address
}

/// The current context with `key` set to `entry` (`None`: removed).
pub(crate) fn current_with(key: StorageKey, entry: Option<Entry>) -> Context {
    let mut builder = FrameBuilder::default();
    builder.add_owned(key, entry);
    collect(&mut builder, current());
    Context::from_frame(builder.build())
}

/// Makes `context` current until the enclosing scope restores its own (`enter_with`).
pub(crate) fn set_current(context: Context) {
    let old = replace(Raw::owned(context));
    // An owned word left at thread exit (an `enter_with` outside any scope) is released
    // by this thread-local's destructor; registering it is only needed on this path.
    let _ = LEFTOVER.try_with(|_| ());
    // SAFETY: `old` is no longer current. If it was owned, nothing else refers to it:
    // readers that run user code hold their own reference to an owned frame.
    unsafe { old.release() }
}

struct Leftover;

impl Drop for Leftover {
    fn drop(&mut self) {
        let left = replace(Raw::EMPTY);
        // SAFETY: the thread is exiting: no scope is alive to restore `left`, which was
        // current until now.
        unsafe { left.release() }
    }
}

thread_local! {
    static LEFTOVER: Leftover = const { Leftover };
}

/// Runs `f` with `key` set to `entry` (`None`: unset) on top of the current context,
/// without allocating a frame unless the context is captured; returns `f`'s output and
/// the entry, so its creator can reuse the value's allocation.
#[inline]
pub(crate) fn run_with<R>(
    key: StorageKey,
    entry: Option<Entry>,
    f: impl FnOnce() -> R,
) -> (R, Option<Entry>) {
    let parent = current();
    // SAFETY: the current word is alive for this call.
    let depth = match unsafe { parent.view() } {
        View::Stack(node) => node.depth + 1,
        _ => 0,
    };
    if depth >= MAX_STACK_DEPTH {
        // Fold the chain: later scopes start from this heap frame.
        let context = current_with(key, entry);
        return (context.run_sync(f), None);
    }
    let mut node = StackNode {
        depth,
        ..StackNode::detached(key, entry)
    };
    node.parent = parent;
    let output = {
        // SAFETY: `node` outlives the guard (declared before it, dropped after it).
        let _guard = unsafe { ContextGuard::enter_raw(Raw::stack(&node)) };
        f()
    };
    (output, node.entry.take())
}

/// Restores the context that was current before it was created; see the module docs.
#[must_use = "the context is left as soon as the guard is dropped"]
pub(crate) struct ContextGuard {
    saved: Raw,
    placed: Raw,
}

impl ContextGuard {
    /// Makes `context` current; the thread-local takes over its reference.
    pub(crate) fn enter_owned(context: Context) -> ContextGuard {
        // SAFETY: an owned word is kept alive by the thread-local itself.
        unsafe { ContextGuard::enter_raw(Raw::owned(context)) }
    }

    /// Makes `context` current without taking a reference.
    ///
    /// # Safety
    ///
    /// `context`'s frame must stay alive (the `Context`, or a clone, not dropped) until
    /// the guard is dropped.
    #[inline]
    pub(crate) unsafe fn enter_borrowed(context: &Context) -> ContextGuard {
        // SAFETY: forwarded to the caller.
        unsafe { ContextGuard::enter_raw(Raw::borrowed(context)) }
    }

    /// # Safety
    ///
    /// What `placed` points to must stay alive until the guard is dropped.
    #[inline]
    unsafe fn enter_raw(placed: Raw) -> ContextGuard {
        ContextGuard {
            saved: replace(placed),
            placed,
        }
    }

    /// If code inside this setting made another context current (`enter_with`), returns
    /// it. The thread-local then borrows it, so the caller must keep it alive until the
    /// guard is dropped (a task stores it as its context, a `Scoped` future as its own).
    #[inline]
    pub(crate) fn take_entered(&mut self) -> Option<Context> {
        let now = current();
        if now == self.placed || !now.is_owned() {
            return None;
        }
        // SAFETY: an owned word holds one strong count, moved into the returned
        // `Context`; the thread-local keeps the same frame as a borrowed word.
        let frame = unsafe { Arc::from_raw(now.0 as *const FrameInner) };
        replace(Raw(now.0 | BORROWED));
        self.placed = Raw(now.0 | BORROWED);
        Some(Context::from_frame(Some(frame)))
    }
}

impl Drop for ContextGuard {
    #[inline]
    fn drop(&mut self) {
        let left = replace(self.saved);
        // SAFETY: `left` is no longer current; if owned, the thread-local held its only
        // claim on it (our own owned setting, or an `enter_with` made inside).
        unsafe { left.release() }
    }
}
