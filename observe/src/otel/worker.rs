//! The exporter thread: takes finished spans from the bounded queue, batches them,
//! converts them to the SDK's `SpanData` and sends them with the OTLP exporter.
//!
//! Hooks only `try_send` into the queue; everything that allocates attribute vectors,
//! encodes protobuf or touches the network happens here.

use super::spans::{to_span_data, Clock, SpanRecord};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanExporter as _;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// What travels through the queue.
#[derive(Debug)]
pub(crate) enum Msg {
    /// A finished span.
    Span(Box<SpanRecord>),
    /// Send everything queued before this message, then answer.
    Flush(SyncSender<()>),
    /// Flush, shut the OTLP exporter down, answer and end the thread.
    Shutdown(SyncSender<()>),
}

/// The exporter's counters, shared by the hooks (which count starts and drops) and the
/// exporter thread (which counts sends).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Spans opened for sampled trees.
    pub(crate) started: AtomicU64,
    /// Finished spans put in the queue.
    pub(crate) queued: AtomicU64,
    /// Finished spans dropped because the queue was full or the thread had ended.
    pub(crate) dropped: AtomicU64,
    /// Spans the collector accepted.
    pub(crate) exported: AtomicU64,
    /// Spans in batches whose export failed (collector down, slow, refusing).
    pub(crate) failed: AtomicU64,
    /// Failed export calls.
    pub(crate) export_errors: AtomicU64,
    /// The last export error, for diagnostics.
    pub(crate) last_error: Mutex<Option<String>>,
}

impl Counters {
    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The thread's state.
pub(crate) struct Worker {
    pub(crate) rx: Receiver<Msg>,
    pub(crate) exporter: opentelemetry_otlp::SpanExporter,
    pub(crate) counters: Arc<Counters>,
    pub(crate) clock: Clock,
    pub(crate) scope: InstrumentationScope,
    pub(crate) max_batch: usize,
    pub(crate) interval: Duration,
}

impl Worker {
    /// The thread's loop: a batch goes out when it is full, when `interval` has passed
    /// since the last send, on a flush, or when every sender is gone.
    pub(crate) fn run(mut self) {
        let mut batch: Vec<Box<SpanRecord>> = Vec::with_capacity(self.max_batch);
        let mut next_send = Instant::now() + self.interval;
        loop {
            let wait = next_send.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(wait) {
                Ok(Msg::Span(span)) => {
                    batch.push(span);
                    if batch.len() >= self.max_batch {
                        self.send(&mut batch);
                        next_send = Instant::now() + self.interval;
                    }
                }
                Ok(Msg::Flush(ack)) => {
                    self.drain(&mut batch);
                    let _ = ack.try_send(());
                }
                Ok(Msg::Shutdown(ack)) => {
                    self.drain(&mut batch);
                    let _ = self.exporter.shutdown();
                    let _ = ack.try_send(());
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.send(&mut batch);
                    next_send = Instant::now() + self.interval;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.send(&mut batch);
                    let _ = self.exporter.shutdown();
                    return;
                }
            }
        }
    }

    // The records arrive boxed through the queue (a small channel slot); keeping the
    // box moves a pointer instead of copying the record.
    #[allow(clippy::vec_box)]
    /// Sends `batch` and whatever is queued now, in batches of at most `max_batch`.
    fn drain(&mut self, batch: &mut Vec<Box<SpanRecord>>) {
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Msg::Span(span) => {
                    batch.push(span);
                    if batch.len() >= self.max_batch {
                        self.send(batch);
                    }
                }
                // A flush queued behind ours is answered by ours.
                Msg::Flush(ack) | Msg::Shutdown(ack) => {
                    let _ = ack.try_send(());
                }
            }
        }
        self.send(batch);
    }

    #[allow(clippy::vec_box)]
    /// Converts and exports one batch (blocking this thread, never a hook).
    fn send(&mut self, batch: &mut Vec<Box<SpanRecord>>) {
        if batch.is_empty() {
            return;
        }
        let data: Vec<_> = batch
            .drain(..)
            .map(|r| to_span_data(&r, &self.clock, &self.scope))
            .collect();
        let n = data.len() as u64;
        match block_on(self.exporter.export(data)) {
            Ok(()) => Counters::add(&self.counters.exported, n),
            Err(e) => {
                Counters::add(&self.counters.failed, n);
                Counters::add(&self.counters.export_errors, 1);
                *self
                    .counters
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
            }
        }
    }
}

/// Wakes the exporter thread parked in [`block_on`].
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread. The OTLP exporter's future does its I/O
/// synchronously through [`StdHttpClient`](super::StdHttpClient) (and sleeps between
/// retries with `std::thread::sleep`), so it is ready on its first poll; parking covers
/// any other client.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
