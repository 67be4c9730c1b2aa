//! Log correlation for the `log` facade: [`CorrelatedLogger`].

use crate::correlation::{Correlation, CorrelationFields};
use log::kv::{self, Key, Source, Value, VisitSource};
use log::{Log, Metadata, Record};

/// A `log::Log` that passes every record on to another logger with the correlation
/// fields (`async_id`, `trigger_id`, the chosen storages) added to its key-values, after
/// the record's own. Loggers that print key-values (env_logger with its `kv`
/// feature, `structured-logger`, ...) then show them on every line.
///
/// ```no_run
/// use hookrt::context::LocalStorage;
/// use hookrt_observe::{CorrelatedLogger, Correlation};
/// # struct MyLogger;
/// # impl log::Log for MyLogger {
/// #     fn enabled(&self, _: &log::Metadata<'_>) -> bool { true }
/// #     fn log(&self, _: &log::Record<'_>) {}
/// #     fn flush(&self) {}
/// # }
///
/// static REQUEST_ID: LocalStorage<String> = LocalStorage::new();
/// let correlation = Correlation::new().with_storage("request_id", &REQUEST_ID);
/// log::set_boxed_logger(Box::new(CorrelatedLogger::new(MyLogger, correlation))).unwrap();
/// log::set_max_level(log::LevelFilter::Info);
/// ```
#[derive(Debug)]
pub struct CorrelatedLogger<L> {
    inner: L,
    correlation: Correlation,
}

impl<L: Log> CorrelatedLogger<L> {
    /// Wraps `inner`, adding `correlation`'s fields.
    pub fn new(inner: L, correlation: Correlation) -> CorrelatedLogger<L> {
        CorrelatedLogger { inner, correlation }
    }

    /// The wrapped logger.
    pub fn inner(&self) -> &L {
        &self.inner
    }
}

/// A record's own key-values followed by the correlation fields.
struct Chained<'a> {
    own: &'a dyn Source,
    fields: CorrelationFields,
    async_id: u64,
    trigger_id: u64,
}

impl Source for Chained<'_> {
    fn visit<'kvs>(&'kvs self, visitor: &mut dyn VisitSource<'kvs>) -> Result<(), kv::Error> {
        self.own.visit(visitor)?;
        visitor.visit_pair(Key::from_str("async_id"), Value::from(self.async_id))?;
        visitor.visit_pair(Key::from_str("trigger_id"), Value::from(self.trigger_id))?;
        for (name, v) in &self.fields.values {
            visitor.visit_pair(Key::from_str(name), Value::from(v.as_str()))?;
        }
        Ok(())
    }
}

impl<L: Log> Log for CorrelatedLogger<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.inner.enabled(record.metadata()) {
            return;
        }
        let fields = self.correlation.current();
        let chained = Chained {
            own: record.key_values(),
            async_id: fields.async_id.as_u64(),
            trigger_id: fields.trigger_id.as_u64(),
            fields,
        };
        self.inner.log(
            &Record::builder()
                .metadata(record.metadata().clone())
                .args(*record.args())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .key_values(&chained)
                .build(),
        );
    }

    fn flush(&self) {
        self.inner.flush()
    }
}
