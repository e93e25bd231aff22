//! What the nodes log, captured: a `tracing` layer that records every event at INFO and above
//! with the simulated time and the madsim node it came from (madsim enters a `node` span with
//! the node's name around every task it polls).
//!
//! Out: [`Trace::lines`], which the determinism check hashes ([`Trace::hash`]), and the facts
//! the invariants read from it, such as each node's pulls with their Raft term
//! ([`Trace::pulls`]). Set `BINRAFT_SIM_LOG=1` to also print them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// One event.
#[derive(Debug, Clone)]
pub struct Line {
    /// Simulated milliseconds since the simulation started.
    pub ms: u64,
    /// The madsim node's name ("" outside any node).
    pub node: String,
    pub level: Level,
    pub target: String,
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

/// A node started pulling from the primary as the leader of `term`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    pub ms: u64,
    pub node: String,
    pub term: u64,
}

#[derive(Debug, Default)]
pub struct Trace {
    pub lines: Vec<Line>,
    print: bool,
}

/// Shared between the layer and the harness.
#[derive(Debug, Clone, Default)]
pub struct TraceHandle(Arc<Mutex<Trace>>);

impl TraceHandle {
    pub fn lock(&self) -> MutexGuard<'_, Trace> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a line of the harness itself (faults, checks) in the same trace.
    pub fn note(&self, ms: u64, message: String) {
        let mut t = self.lock();
        if t.print {
            eprintln!("{ms:>8}ms [harness] {message}");
        }
        t.lines.push(Line { ms, node: "harness".into(), level: Level::INFO, target: "sim".into(), message, fields: BTreeMap::new() });
    }
}

impl Trace {
    /// A stable hash of every line (FNV-1a over their rendering): equal for two runs of a seed.
    pub fn hash(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut s = String::new();
        for l in &self.lines {
            s.clear();
            let _ = writeln!(s, "{} {} {} {} {} {:?}", l.ms, l.node, l.level, l.target, l.message, l.fields);
            for b in s.bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }

    /// Every pull a node started, with the term it leads (upstream.rs logs it).
    /// When a node's binraft ended by itself ("node stopped"), and which node.
    pub fn stops(&self) -> Vec<(u64, String)> {
        self.lines.iter().filter(|l| l.message == "node stopped").map(|l| (l.ms, l.node.clone())).collect()
    }

    pub fn pulls(&self) -> Vec<Pull> {
        self.lines
            .iter()
            .filter(|l| l.message.starts_with("raft: this node leads"))
            .filter_map(|l| Some(Pull { ms: l.ms, node: l.node.clone(), term: l.fields.get("term")?.parse().ok()? }))
            .collect()
    }
}

/// The layer: install with [`TraceLayer::install`] on the simulation's thread.
pub struct TraceLayer {
    trace: TraceHandle,
    start: std::time::Instant,
}

struct NodeName(String);

#[derive(Default)]
struct Fields {
    message: String,
    fields: BTreeMap<String, String>,
    name: Option<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "name" => self.name = Some(format!("{value:?}").trim_matches('"').to_string()),
            other => {
                self.fields.insert(other.to_string(), format!("{value:?}"));
            }
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "name" => self.name = Some(value.to_string()),
            other => {
                self.fields.insert(other.to_string(), value.to_string());
            }
        }
    }
}

impl TraceLayer {
    /// Captures this thread's events (the simulation's) into a new trace, until the guard drops.
    pub fn install() -> (TraceHandle, tracing::subscriber::DefaultGuard) {
        use tracing_subscriber::layer::SubscriberExt;
        let trace = TraceHandle::default();
        trace.lock().print = std::env::var_os("BINRAFT_SIM_LOG").is_some();
        let layer = TraceLayer { trace: trace.clone(), start: std::time::Instant::now() };
        // BINRAFT_SIM_LEVEL=debug records more (and changes the trace's hash).
        let level = match std::env::var("BINRAFT_SIM_LEVEL").as_deref() {
            Ok("debug") => tracing_subscriber::filter::LevelFilter::DEBUG,
            Ok("trace") => tracing_subscriber::filter::LevelFilter::TRACE,
            _ => tracing_subscriber::filter::LevelFilter::INFO,
        };
        let subscriber = tracing_subscriber::registry().with(layer.with_filter(level));
        let guard = tracing::subscriber::set_default(subscriber);
        (trace, guard)
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for TraceLayer {
    fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, id: &tracing::span::Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "node" {
            return;
        }
        let mut f = Fields::default();
        attrs.record(&mut f);
        if let (Some(name), Some(span)) = (f.name, ctx.span(id)) {
            span.extensions_mut().insert(NodeName(name));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let node = ctx
            .event_scope(event)
            .and_then(|scope| scope.from_root().find_map(|s| s.extensions().get::<NodeName>().map(|n| n.0.clone())))
            .unwrap_or_default();
        let mut f = Fields::default();
        event.record(&mut f);
        if let Some(n) = f.name {
            f.fields.insert("name".into(), n);
        }
        // The simulated clock: std's Instant is madsim's under --cfg madsim.
        let ms = self.start.elapsed().as_millis() as u64;
        let meta = event.metadata();
        let line = Line { ms, node, level: *meta.level(), target: meta.target().to_string(), message: f.message, fields: f.fields };
        let mut t = self.trace.lock();
        if t.print {
            eprintln!("{:>8}ms [{}] {} {}: {} {:?}", line.ms, line.node, line.level, line.target, line.message, line.fields);
        }
        t.lines.push(line);
    }
}
