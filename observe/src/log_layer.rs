//! Log correlation for `tracing`: [`CorrelationLayer`] and the [`CorrelatedJson`]
//! event format.

use crate::correlation::{Correlation, CorrelationFields};
use serde_json::{Map, Value};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// A `tracing_subscriber` layer that stamps every new span with the
/// [`CorrelationFields`] of the moment it is created (`async_id`, `trigger_id`, the
/// chosen storages), stored in the span's extensions for formatters and other layers
/// to read (`span.extensions().get::<CorrelationFields>()`).
///
/// Events need no stamping: they are formatted on the thread that emits them, inside
/// the execution that emits them, so [`CorrelatedJson`] reads the fields there.
///
/// ```no_run
/// use hookrt::context::LocalStorage;
/// use hookrt_observe::{CorrelatedJson, Correlation, CorrelationLayer};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// static REQUEST_ID: LocalStorage<u64> = LocalStorage::new();
/// let correlation = Correlation::new().with_storage("request_id", &REQUEST_ID);
/// let subscriber = tracing_subscriber::registry()
///     .with(CorrelationLayer::new(correlation.clone()))
///     .with(tracing_subscriber::fmt::layer().event_format(CorrelatedJson::new(correlation)));
/// tracing::subscriber::set_global_default(subscriber).unwrap();
/// // Every line now reads like:
/// // {"timestamp":..,"level":"INFO","target":"app","fields":{"message":"served"},
/// //  "async_id":42,"trigger_id":7,"request_id":"1234","spans":[..]}
/// ```
#[derive(Debug, Clone)]
pub struct CorrelationLayer {
    correlation: Correlation,
}

impl CorrelationLayer {
    /// A layer that stamps spans with `correlation`'s fields.
    pub fn new(correlation: Correlation) -> CorrelationLayer {
        CorrelationLayer { correlation }
    }
}

impl<S> Layer<S> for CorrelationLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(self.correlation.current());
        }
    }
}

/// A `FormatEvent` that writes each event as one JSON object per line, with the
/// correlation fields at the top level so logs can be grouped per request:
/// `timestamp` (Unix seconds), `level`, `target`, `fields` (the event's fields,
/// `message` included), `async_id`, `trigger_id`, each chosen storage by name, and
/// `spans` (outermost first, each with its name, fields-at-creation `async_id` and
/// storages, when [`CorrelationLayer`] is installed).
#[derive(Debug, Clone)]
pub struct CorrelatedJson {
    correlation: Correlation,
}

impl CorrelatedJson {
    /// The format, adding `correlation`'s fields.
    pub fn new(correlation: Correlation) -> CorrelatedJson {
        CorrelatedJson { correlation }
    }
}

fn put_fields(obj: &mut Map<String, Value>, f: &CorrelationFields) {
    obj.insert("async_id".into(), f.async_id.as_u64().into());
    obj.insert("trigger_id".into(), f.trigger_id.as_u64().into());
    for (name, v) in &f.values {
        obj.insert((*name).into(), Value::String(v.clone()));
    }
}

impl<S, N> FormatEvent<S, N> for CorrelatedJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut obj = Map::new();
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        obj.insert("timestamp".into(), ts.into());
        obj.insert("level".into(), meta.level().as_str().into());
        obj.insert("target".into(), meta.target().into());
        let mut fields = JsonVisitor(Map::new());
        event.record(&mut fields);
        obj.insert("fields".into(), Value::Object(fields.0));
        put_fields(&mut obj, &self.correlation.current());
        if let Some(scope) = ctx.event_scope() {
            let mut spans = Vec::new();
            for span in scope.from_root() {
                let mut s = Map::new();
                s.insert("name".into(), span.name().into());
                if let Some(f) = span.extensions().get::<CorrelationFields>() {
                    put_fields(&mut s, f);
                }
                spans.push(Value::Object(s));
            }
            obj.insert("spans".into(), Value::Array(spans));
        }
        writeln!(writer, "{}", Value::Object(obj))
    }
}

/// Collects an event's fields as JSON values.
struct JsonVisitor(Map<String, Value>);

impl Visit for JsonVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
}
