//! Operational metrics in the Prometheus text format, served at `GET /metrics`
//! (`routes::metrics`, behind `--metrics-token`). One [`Metrics`] per application, so the
//! many apps of the test suite never share counters.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `pulse_http_requests_total` | counter | `method`, `route` (the route *pattern*, e.g. `/s/{token}`, never the path), `status` |
//! | `pulse_http_request_duration_seconds` | histogram | `method`, `route` |
//! | `pulse_responses_received_total` | counter | |
//! | `pulse_outbox_sent_total` | counter | |
//! | `pulse_outbox_send_failures_total` | counter | `kind` = `transient` (retried), `permanent` or `relay` (the relay cannot be used) |
//! | `pulse_outbox_relay_paused` | gauge, 1 while this process's sending is paused because the relay cannot be used | `reason` = `unreachable`, `tls`, `authentication`, `sender` |
//! | `pulse_outbox_released_total` | counter | rows handed back unsent at shutdown |
//! | `pulse_outbox_messages` | gauge, read from the database at scrape time | `state` = `pending`, `sending`, `dead` |
//! | `pulse_scheduler_ticks_total` | counter | `result` = `ok` or `error` |
//! | `pulse_scheduler_waves_opened_total`, `…_closed_total`, `pulse_scheduler_reminders_enqueued_total` | counter | |
//! | `pulse_build_info` | gauge (1) | `version` |
//!
//! Counters count what this process did; the outbox gauge is the whole database's.
//! No label ever carries a token, an email address or any other request data.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The `reason` label of `pulse_outbox_relay_paused`.
const RELAY_REASONS: [&str; 4] = ["unreachable", "tls", "authentication", "sender"];

/// Outbox states reported by `pulse_outbox_messages` (the unfinished ones and the failures).
pub const OUTBOX_STATES: [&str; 3] = ["pending", "sending", "dead"];

/// Latency buckets in seconds: from a cached page to a slow export.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Why this process stopped sending: the mail relay cannot be used (see
/// `crate::outbox`). Shown on the admin pages and in the log, counted in `/metrics`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RelayPause {
    /// When sending was paused (UTC), shown to the minute.
    #[serde(serialize_with = "to_the_minute")]
    pub since: chrono::NaiveDateTime,
    /// The relay's answer or the connection error (addresses masked).
    pub reason: String,
    /// `unreachable`, `tls`, `authentication` or `sender`.
    pub kind: &'static str,
    /// Seconds until the next try of the relay.
    pub retry_seconds: u64,
}

fn to_the_minute<S: serde::Serializer>(
    at: &chrono::NaiveDateTime,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&at.format("%Y-%m-%d %H:%M"))
}

pub struct Metrics {
    registry: Registry,
    relay_paused: IntGaugeVec,
    relay: std::sync::Mutex<Option<RelayPause>>,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    responses_received: IntCounter,
    outbox_sent: IntCounter,
    outbox_failures: IntCounterVec,
    outbox_released: IntCounter,
    outbox_messages: IntGaugeVec,
    scheduler_ticks: IntCounterVec,
    waves_opened: IntCounter,
    waves_closed: IntCounter,
    reminders_enqueued: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        // The names and labels below are constants and each is registered once into a
        // registry of its own: construction and registration cannot fail.
        Self::try_new().expect("the metric definitions are valid and distinct")
    }

    fn try_new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new("pulse_http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "pulse_http_request_duration_seconds",
                "Time to answer an HTTP request (until the response head)",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let responses_received = IntCounter::new(
            "pulse_responses_received_total",
            "Survey responses stored (acknowledged to the respondent)",
        )?;
        let outbox_sent = IntCounter::new(
            "pulse_outbox_sent_total",
            "Emails accepted by the mail server",
        )?;
        let outbox_failures = IntCounterVec::new(
            Opts::new(
                "pulse_outbox_send_failures_total",
                "Failed send attempts: transient ones are retried, permanent ones end the row",
            ),
            &["kind"],
        )?;
        let outbox_released = IntCounter::new(
            "pulse_outbox_released_total",
            "Claimed emails handed back unsent at shutdown",
        )?;
        let outbox_messages = IntGaugeVec::new(
            Opts::new(
                "pulse_outbox_messages",
                "Emails in the outbox by state (the whole database, read at scrape time)",
            ),
            &["state"],
        )?;
        let relay_paused = IntGaugeVec::new(
            Opts::new(
                "pulse_outbox_relay_paused",
                "1 while sending is paused because the mail relay cannot be used",
            ),
            &["reason"],
        )?;
        let scheduler_ticks = IntCounterVec::new(
            Opts::new("pulse_scheduler_ticks_total", "Scheduler passes"),
            &["result"],
        )?;
        let waves_opened = IntCounter::new(
            "pulse_scheduler_waves_opened_total",
            "Waves opened by this process's scheduler",
        )?;
        let waves_closed = IntCounter::new(
            "pulse_scheduler_waves_closed_total",
            "Waves closed by this process's scheduler",
        )?;
        let reminders_enqueued = IntCounter::new(
            "pulse_scheduler_reminders_enqueued_total",
            "Reminder emails enqueued by this process's scheduler",
        )?;
        let build_info = IntGaugeVec::new(
            Opts::new("pulse_build_info", "The running version (always 1)"),
            &["version"],
        )?;
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(responses_received.clone()))?;
        registry.register(Box::new(outbox_sent.clone()))?;
        registry.register(Box::new(outbox_failures.clone()))?;
        registry.register(Box::new(outbox_released.clone()))?;
        registry.register(Box::new(outbox_messages.clone()))?;
        registry.register(Box::new(relay_paused.clone()))?;
        registry.register(Box::new(scheduler_ticks.clone()))?;
        registry.register(Box::new(waves_opened.clone()))?;
        registry.register(Box::new(waves_closed.clone()))?;
        registry.register(Box::new(reminders_enqueued.clone()))?;
        registry.register(Box::new(build_info))?;
        // Series that exist from the start, so a dashboard sees 0 rather than nothing.
        for kind in ["transient", "permanent", "relay"] {
            outbox_failures.with_label_values(&[kind]);
        }
        for reason in RELAY_REASONS {
            relay_paused.with_label_values(&[reason]);
        }
        for result in ["ok", "error"] {
            scheduler_ticks.with_label_values(&[result]);
        }
        for state in OUTBOX_STATES {
            outbox_messages.with_label_values(&[state]);
        }
        Ok(Self {
            registry,
            relay_paused,
            relay: std::sync::Mutex::new(None),
            http_requests,
            http_duration,
            responses_received,
            outbox_sent,
            outbox_failures,
            outbox_released,
            outbox_messages,
            scheduler_ticks,
            waves_opened,
            waves_closed,
            reminders_enqueued,
        })
    }

    /// One answered request. `route` must be a route pattern or a fixed word, never a path.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    pub fn response_received(&self) {
        self.responses_received.inc();
    }

    pub fn outbox_sent(&self) {
        self.outbox_sent.inc();
    }

    /// A failed send attempt: `kind` is `transient`, `permanent` or `relay`.
    pub fn outbox_failed(&self, kind: &'static str) {
        self.outbox_failures.with_label_values(&[kind]).inc();
    }

    /// Sending paused (`Some`) or resumed (`None`).
    pub fn set_relay_pause(&self, pause: Option<RelayPause>) {
        for reason in RELAY_REASONS {
            let on = pause.as_ref().is_some_and(|p| p.kind == reason);
            self.relay_paused
                .with_label_values(&[reason])
                .set(i64::from(on));
        }
        if let Ok(mut relay) = self.relay.lock() {
            *relay = pause;
        }
    }

    /// Why sending is paused, if it is.
    pub fn relay_pause(&self) -> Option<RelayPause> {
        self.relay.lock().ok().and_then(|relay| relay.clone())
    }

    pub fn outbox_released(&self, rows: u64) {
        self.outbox_released.inc_by(rows);
    }

    pub fn scheduler_tick(&self, report: Option<&crate::scheduler::TickReport>) {
        let Some(report) = report else {
            self.scheduler_ticks.with_label_values(&["error"]).inc();
            return;
        };
        self.scheduler_ticks.with_label_values(&["ok"]).inc();
        self.waves_opened.inc_by(report.waves_opened as u64);
        self.waves_closed.inc_by(report.waves_closed as u64);
        self.reminders_enqueued.inc_by(report.reminders as u64);
    }

    /// Sets `pulse_outbox_messages` from fresh counts; states without rows read 0.
    pub fn set_outbox_counts(&self, counts: &[(String, i64)]) {
        for state in OUTBOX_STATES {
            let n = counts
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            self.outbox_messages.with_label_values(&[state]).set(n);
        }
    }

    /// Everything, in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// The `method` label: the standard methods by name, anything else as `other` (a client
/// must not be able to create series at will).
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::Metrics;

    #[test]
    fn renders_the_text_format_with_help_and_type() {
        let metrics = Metrics::new();
        metrics.observe_request("GET", "/s/{token}", 200, 0.004);
        metrics.outbox_failed("transient");
        metrics.set_outbox_counts(&[("pending".into(), 7)]);
        let text = metrics.render().unwrap();
        assert!(text.contains("# TYPE pulse_http_requests_total counter"));
        assert!(text.contains(
            "pulse_http_requests_total{method=\"GET\",route=\"/s/{token}\",status=\"200\"} 1"
        ));
        assert!(text.contains("pulse_outbox_messages{state=\"pending\"} 7"));
        assert!(text.contains("pulse_outbox_messages{state=\"dead\"} 0"));
        assert!(text.contains("pulse_outbox_send_failures_total{kind=\"transient\"} 1"));
        assert!(text.contains("# TYPE pulse_http_request_duration_seconds histogram"));
    }
}
