//! [`Correlation`]: which values a log line is stamped with.

use hookrt::context::LocalStorage;
use hookrt::hooks::{execution_async_id, trigger_async_id, AsyncId};
use std::fmt;
use std::sync::Arc;

type Reader = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// The set of values the log integrations add to every span, event and record: the
/// current `async_id` and `trigger_id` (from the thread's execution frame), and the
/// current value of each chosen [`LocalStorage`] (e.g. a request id).
///
/// ```
/// use hookrt::context::LocalStorage;
/// use hookrt_observe::Correlation;
///
/// static REQUEST_ID: LocalStorage<u64> = LocalStorage::new();
/// let correlation = Correlation::new().with_storage("request_id", &REQUEST_ID);
/// let fields = REQUEST_ID.run_sync(42, || correlation.current());
/// assert_eq!(fields.value("request_id"), Some("42"));
/// ```
#[derive(Clone, Default)]
pub struct Correlation {
    storages: Arc<Vec<(&'static str, Reader)>>,
}

impl Correlation {
    /// Async ids only.
    pub fn new() -> Correlation {
        Correlation::default()
    }

    /// Also adds `storage`'s current value (by `Display`) under `name`, when it has one.
    pub fn with_storage<T>(
        self,
        name: &'static str,
        storage: &'static LocalStorage<T>,
    ) -> Correlation
    where
        T: fmt::Display + Send + Sync + 'static,
    {
        let mut storages: Vec<(&'static str, Reader)> = self.storages.to_vec();
        storages.push((
            name,
            Arc::new(move || storage.with(|v| v.map(|v| v.to_string()))),
        ));
        Correlation {
            storages: Arc::new(storages),
        }
    }

    /// The fields as they are now, on this thread.
    pub fn current(&self) -> CorrelationFields {
        CorrelationFields {
            async_id: execution_async_id(),
            trigger_id: trigger_async_id(),
            values: self
                .storages
                .iter()
                .filter_map(|(name, read)| read().map(|v| (*name, v)))
                .collect(),
        }
    }
}

impl fmt::Debug for Correlation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.storages.iter().map(|(n, _)| *n).collect();
        f.debug_struct("Correlation")
            .field("storages", &names)
            .finish()
    }
}

/// The correlation values of one moment: what a span was created in, or where an
/// event was emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorrelationFields {
    /// The current execution.
    pub async_id: AsyncId,
    /// What triggered it.
    pub trigger_id: AsyncId,
    /// The chosen storages that have a value, by name.
    pub values: Vec<(&'static str, String)>,
}

impl CorrelationFields {
    /// The value stored under `name`, if any.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for CorrelationFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "async_id={} trigger_id={}",
            self.async_id, self.trigger_id
        )?;
        for (name, v) in &self.values {
            write!(f, " {name}={v}")?;
        }
        Ok(())
    }
}
