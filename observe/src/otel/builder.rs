//! [`OtelExporterBuilder`]: configuration of an [`OtelExporter`], and its `build`
//! (OTLP exporter, resource, queue, exporter thread).

use super::exporter::{OtelExporter, RequestIdFn};
use super::spans::Clock;
use super::worker::{Counters, Worker};
use super::StdHttpClient;
use hookrt::context::{Context, LocalStorage};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, RetryPolicy, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SpanExporter as _;
use std::fmt;
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::Duration;

pub use opentelemetry_otlp::ExporterBuildError;

/// Default capacity of the queue between the hooks and the exporter thread.
pub const DEFAULT_QUEUE_CAPACITY: usize = 4096;
/// Default largest batch sent in one OTLP request.
pub const DEFAULT_MAX_BATCH: usize = 512;
/// Default time a partial batch waits before it is sent.
pub const DEFAULT_BATCH_INTERVAL: Duration = Duration::from_millis(1000);
/// Default timeout of one OTLP request (connect, send, answer), as the OTLP spec's.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of timer/socket events kept per span.
pub const DEFAULT_MAX_EVENTS: usize = 64;

/// Configures an [`OtelExporter`]; see [`OtelExporter::builder`].
pub struct OtelExporterBuilder {
    endpoint: Option<String>,
    service_name: Option<String>,
    attributes: Vec<KeyValue>,
    queue_capacity: usize,
    max_batch: usize,
    interval: Duration,
    timeout: Option<Duration>,
    retries: Option<usize>,
    max_events: usize,
    request_id: Option<Box<RequestIdFn>>,
}

impl fmt::Debug for OtelExporterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelExporterBuilder")
            .field("endpoint", &self.endpoint)
            .field("service_name", &self.service_name)
            .field("queue_capacity", &self.queue_capacity)
            .field("max_batch", &self.max_batch)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("max_events", &self.max_events)
            .field("request_id", &self.request_id.is_some())
            .finish_non_exhaustive()
    }
}

impl OtelExporterBuilder {
    /// The collector's URL, overriding `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` and
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`. A URL without a path (`http://host:4318`) gets
    /// `/v1/traces` appended, as the base variable does; one with a path is used as is.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        let url: String = url.into();
        let has_path = url
            .split_once("://")
            .map_or(url.as_str(), |(_, rest)| rest)
            .trim_end_matches('/')
            .contains('/');
        self.endpoint = Some(if has_path {
            url
        } else {
            format!("{}/v1/traces", url.trim_end_matches('/'))
        });
        self
    }

    /// The `service.name` resource attribute (else `OTEL_SERVICE_NAME`, else the SDK's
    /// `unknown_service`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Adds a resource attribute (on top of `OTEL_RESOURCE_ATTRIBUTES`).
    pub fn resource_attribute(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.attributes.push(KeyValue::new(key, value.into()));
        self
    }

    /// Capacity of the queue between the hooks and the exporter thread
    /// ([`DEFAULT_QUEUE_CAPACITY`]); a span finished while it is full is dropped and
    /// counted in [`OtelExporter::dropped_spans`].
    pub fn queue_capacity(mut self, spans: usize) -> Self {
        self.queue_capacity = spans.max(1);
        self
    }

    /// Largest batch per OTLP request ([`DEFAULT_MAX_BATCH`]).
    pub fn max_batch(mut self, spans: usize) -> Self {
        self.max_batch = spans.max(1);
        self
    }

    /// How long a partial batch waits ([`DEFAULT_BATCH_INTERVAL`]).
    pub fn batch_interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Timeout of one OTLP request (else `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` /
    /// `OTEL_EXPORTER_OTLP_TIMEOUT` in milliseconds, else [`DEFAULT_EXPORT_TIMEOUT`]).
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retries of a failed request (the OTLP exporter's recommended policy when not
    /// set: 3, with exponential backoff from 100 ms).
    pub fn retries(mut self, retries: usize) -> Self {
        self.retries = Some(retries);
        self
    }

    /// Timer and socket events kept per span ([`DEFAULT_MAX_EVENTS`]); the rest are
    /// counted as dropped events.
    pub fn max_events(mut self, events: usize) -> Self {
        self.max_events = events;
        self
    }

    /// Stamps every span of a request with `request.id`, read (by `Display`) from
    /// `storage` where the request's root task was created.
    pub fn request_id<T>(mut self, storage: &'static LocalStorage<T>) -> Self
    where
        T: fmt::Display + Send + Sync + 'static,
    {
        self.request_id = Some(Box::new(move |cx: &Context| {
            cx.get(storage).map(|v| Arc::from(v.to_string()))
        }));
        self
    }

    /// Builds the OTLP/HTTP exporter and starts the exporter thread.
    ///
    /// Fails when an endpoint (given or from the environment) is not a valid URL.
    pub fn build(self) -> Result<OtelExporter, ExporterBuildError> {
        let timeout = self
            .timeout
            .or_else(|| env_millis("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"))
            .or_else(|| env_millis("OTEL_EXPORTER_OTLP_TIMEOUT"))
            .unwrap_or(DEFAULT_EXPORT_TIMEOUT);
        let retry = match self.retries {
            Some(n) => RetryPolicy::recommended().with_max_retries(n),
            None => RetryPolicy::recommended(),
        };
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_http_client(StdHttpClient::new(timeout))
            .with_timeout(timeout)
            .with_retry_policy(retry);
        if let Some(url) = &self.endpoint {
            builder = builder.with_endpoint(url.clone());
        }
        let mut exporter = builder.build()?;
        let mut resource = opentelemetry_sdk::Resource::builder();
        if let Some(name) = self.service_name {
            resource = resource.with_service_name(name);
        }
        let resource = resource
            .with_attribute(KeyValue::new("telemetry.sdk.runtime", "hookrt"))
            .with_attributes(self.attributes)
            .build();
        exporter.set_resource(&resource);

        let (tx, rx) = sync_channel(self.queue_capacity);
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            rx,
            exporter,
            counters: counters.clone(),
            clock: Clock::now(),
            scope: InstrumentationScope::builder("hookrt-observe")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
            max_batch: self.max_batch,
            interval: self.interval,
        };
        let thread = std::thread::Builder::new()
            .name("hookrt-otel-export".into())
            .spawn(move || worker.run())
            .map_err(|e| {
                ExporterBuildError::InternalFailure(format!("spawning the export thread: {e}"))
            })?;

        Ok(OtelExporter::start(
            tx,
            counters,
            self.max_events,
            self.request_id,
            thread,
        ))
    }
}

/// `name` as a number of milliseconds, if set and valid.
fn env_millis(name: &str) -> Option<Duration> {
    let v = std::env::var(name).ok()?;
    v.trim().parse().ok().map(Duration::from_millis)
}

impl OtelExporter {
    /// A builder with the defaults; the endpoint comes from the environment unless
    /// [`endpoint`](OtelExporterBuilder::endpoint) is called.
    pub fn builder() -> OtelExporterBuilder {
        OtelExporterBuilder {
            endpoint: None,
            service_name: None,
            attributes: Vec::new(),
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            max_batch: DEFAULT_MAX_BATCH,
            interval: DEFAULT_BATCH_INTERVAL,
            timeout: None,
            retries: None,
            max_events: DEFAULT_MAX_EVENTS,
            request_id: None,
        }
    }
}
