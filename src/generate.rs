//! A seeded generator of realistic Musical Conductor console logs, with their ground truth —
//! for the tests (analyze must recover the truth exactly) and the benchmarks (gigabyte logs).
//!
//! It writes `logs/run-NN.log`, `json-sequences/demo/*.json` (the catalog of its demo app) and
//! `truth.json` (every sample per handler, and the failed / incomplete / orphan counts). Envelopes
//! are mixed per execution: Chrome `EventBus.ts:56 <ts>`, React DevTools `installHook.js:1 <ts>`,
//! plain one-space lines, Cypress `[ts] LOG ts` with the `%c` directive and its CSS residue; every
//! other file is CRLF. Hard cases are mixed in: an orphan completion at the start of a file, T3
//! before T2, beats with only the integer T3, failed and incomplete beats, duplicate beat numbers,
//! subscription lines naming `beat:started`, handler lines after completion under a `(Batched)`
//! name, stack traces, and a capture that ends mid-beat.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::rng::Rng;

#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// Output directory (created).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed: the same seed gives byte-identical output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of log files.
    #[arg(long, default_value_t = 1)]
    pub files: usize,
    /// Sequence executions per file (ignored when --bytes is given).
    #[arg(long, default_value_t = 100)]
    pub executions: usize,
    /// Write each file up to at least this many bytes instead of a fixed number of executions.
    #[arg(long)]
    pub bytes: Option<u64>,
    /// Unrelated lines per beat (React, Vite, EventBus subscriber timings…).
    #[arg(long, default_value_t = 4)]
    pub noise: usize,
    /// Leave out the hard cases (only clean, complete beats).
    #[arg(long)]
    pub clean: bool,
    /// Multiply a handler's durations: `Plugin.handler=FACTOR` (repeatable), or `*=FACTOR` for
    /// every handler — a regression to catch.
    #[arg(long, value_name = "HANDLER=FACTOR", value_parser = parse_slow)]
    pub slow: Vec<(String, f64)>,
    /// Instead of the demo app, a suite of N handlers shaped like a real end-to-end suite:
    /// sequences of three beats called log-uniformly 5–130 times per 1,000 executions, medians
    /// log-uniform 1–20 ms, σ_ln 0.3–0.8 per handler. The suite is fixed by --suite-seed, so runs
    /// with different --seed are runs of the same app.
    #[arg(long, value_name = "N")]
    pub suite: Option<usize>,
    /// The suite's seed (its handlers, durations and call frequencies).
    #[arg(long, default_value_t = 7)]
    pub suite_seed: u64,
    /// Multiply every duration: the runner's speed for this run (1.1 = 10% slower).
    #[arg(long, default_value_t = 1.0, value_parser = parse_factor)]
    pub drift: f64,
    /// How envelopes vary: per `execution` (one per sequence execution), per `line` (a captured
    /// console of several tabs and workers), or `chrome` throughout. The samples (truth.json)
    /// are the same for every choice.
    #[arg(long, value_enum, default_value = "execution")]
    pub envelopes: Envelopes,
}

#[cfg(test)]
impl GenerateArgs {
    /// The command line's defaults, writing into `out`: tests set what they vary.
    pub fn writing_to(out: &std::path::Path) -> Self {
        GenerateArgs {
            out: out.to_path_buf(),
            seed: 1,
            files: 1,
            executions: 100,
            bytes: None,
            noise: 4,
            clean: false,
            slow: Vec::new(),
            suite: None,
            suite_seed: 7,
            drift: 1.0,
            envelopes: Envelopes::Execution,
        }
    }
}

/// `--envelopes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Envelopes {
    Execution,
    Line,
    Chrome,
}

impl GenerateArgs {
    /// The suite's size, when a suite (of at least one handler) replaces the demo app.
    fn suite_size(&self) -> Option<usize> {
        self.suite.filter(|&n| n > 0)
    }
}

fn parse_factor(s: &str) -> Result<f64, String> {
    let f: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(f.is_finite() && f > 0.0) {
        return Err(format!("{s:?} must be positive"));
    }
    Ok(f)
}

fn parse_slow(s: &str) -> Result<(String, f64), String> {
    let (name, factor) = s.rsplit_once('=').ok_or("expected Plugin.handler=FACTOR")?;
    Ok((name.to_owned(), parse_factor(factor)?))
}

struct BeatDef {
    beat: u32,
    event: &'static str,
    title: &'static str,
    handler: &'static str,
    mean_ms: f64,
}

struct SequenceDef {
    id: &'static str,
    name: &'static str,
    plugin: &'static str,
    movement: &'static str,
    beats: &'static [BeatDef],
}

const fn b(beat: u32, event: &'static str, title: &'static str, handler: &'static str, mean_ms: f64) -> BeatDef {
    BeatDef { beat, event, title, handler, mean_ms }
}

/// The demo app: RenderX-like sequences, including `notifyUi` in three plugins (H11) and two
/// beat 3s in one movement (H3).
const APP: &[SequenceDef] = &[
    SequenceDef {
        id: "library-load-symphony",
        name: "Library Load",
        plugin: "LibraryPlugin",
        movement: "Load",
        beats: &[
            b(1, "library:components:load", "Load Components", "loadComponents", 4.0),
            b(2, "library:components:notify-ui", "Notify UI", "notifyUi", 2.5),
        ],
    },
    SequenceDef {
        id: "canvas-component-create-symphony",
        name: "Canvas Component Create",
        plugin: "CanvasComponentPlugin",
        movement: "Create",
        beats: &[
            b(1, "canvas:component:resolve-template", "Resolve Template", "resolveTemplate", 5.0),
            b(2, "canvas:component:register-instance", "Register Instance", "registerInstance", 3.0),
            b(3, "canvas:component:create", "Create Node", "createNode", 7.0),
            b(4, "canvas:component:render-react", "Render React", "renderReact", 9.0),
            b(5, "canvas:component:notify-ui", "Notify UI", "notifyUi", 2.0),
        ],
    },
    SequenceDef {
        id: "canvas-component-export-symphony",
        name: "Canvas Component Export",
        plugin: "CanvasComponentExportPlugin",
        movement: "Export",
        beats: &[
            b(1, "canvas:component:query-all", "Query All", "queryAllComponents", 2.0),
            b(2, "canvas:component:discover-components", "Discover", "discoverComponentsFromDom", 3.5),
            b(3, "canvas:component:collect-css", "Collect CSS", "collectCssClasses", 4.0),
            b(3, "canvas:component:collect-layout", "Collect Layout", "collectLayoutData", 6.0),
            b(4, "canvas:component:build-ui-file", "Build UI File", "buildUiFileContent", 3.0),
        ],
    },
    SequenceDef {
        id: "control-panel-ui-init-symphony",
        name: "Control Panel UI Init",
        plugin: "ControlPanelPlugin",
        movement: "Init",
        beats: &[
            b(1, "control:panel:ui:init:config", "Init Config", "initConfig", 6.0),
            b(2, "control:panel:ui:init:resolver", "Init Resolver", "initResolver", 7.0),
            b(3, "control:panel:ui:init:schemas", "Load Schemas", "loadSchemas", 5.0),
        ],
    },
    SequenceDef {
        id: "header-ui-theme-get-symphony",
        name: "Header UI Theme Get",
        plugin: "HeaderThemePlugin",
        movement: "Get Current Theme",
        beats: &[b(1, "app:ui:theme:get", "Get Theme", "getCurrentTheme", 3.0), b(2, "app:ui:theme:notify", "Notify UI", "notifyUi", 1.5)],
    },
];

/// A sequence as the generator writes it (the demo app's, or a suite's).
struct Seq {
    id: String,
    name: String,
    plugin: String,
    movement: String,
    beats: Vec<Beat>,
    /// Relative call frequency.
    weight: f64,
}

struct Beat {
    beat: u32,
    event: String,
    title: String,
    handler: String,
    mean_ms: f64,
    sigma: f64,
}

fn demo_app() -> Vec<Seq> {
    APP.iter()
        .map(|s| Seq {
            id: s.id.into(),
            name: s.name.into(),
            plugin: s.plugin.into(),
            movement: s.movement.into(),
            beats: s
                .beats
                .iter()
                .map(|b| Beat {
                    beat: b.beat,
                    event: b.event.into(),
                    title: b.title.into(),
                    handler: b.handler.into(),
                    mean_ms: b.mean_ms,
                    sigma: 0.3,
                })
                .collect(),
            weight: 1.0,
        })
        .collect()
}

/// A suite of `handlers` handlers in sequences of three beats (see [`GenerateArgs::suite`]).
fn suite_app(handlers: usize, seed: u64) -> Vec<Seq> {
    let mut rng = Rng::new(seed);
    (0..handlers.div_ceil(3))
        .map(|k| {
            let beats = (0..3.min(handlers - 3 * k))
                .map(|j| Beat {
                    beat: j as u32 + 1,
                    event: format!("suite:area{k:02}:step{}", j + 1),
                    title: format!("Step {}", j + 1),
                    handler: format!("step{}Area{k:02}", j + 1),
                    mean_ms: rng.log_uniform(1.0, 20.0),
                    sigma: 0.3 + 0.5 * rng.unit(),
                })
                .collect();
            Seq {
                id: format!("suite-area{k:02}-symphony"),
                name: format!("Suite Area {k:02}"),
                plugin: format!("SuiteArea{k:02}Plugin"),
                movement: "Run".into(),
                beats,
                weight: rng.log_uniform(5.0, 130.0),
            }
        })
        .collect()
}

/// What analyze must find.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Truth {
    /// `Plugin.handler` → every sample, in log order.
    pub samples: BTreeMap<String, Vec<f64>>,
    pub failed: u64,
    pub incomplete: u64,
    pub orphans: u64,
}

#[derive(Clone, Copy)]
enum Envelope {
    Chrome,
    DevTools,
    Plain,
    Cypress,
}

const ENVELOPES: [Envelope; 4] = [Envelope::Chrome, Envelope::DevTools, Envelope::Plain, Envelope::Cypress];

struct Writer<W: Write> {
    out: W,
    clock_ms: i64,
    envelope: Envelope,
    /// `--envelopes line`: each message's envelope drawn from this generator of its own (so
    /// that the samples do not depend on the choice).
    per_line: Option<Rng>,
    crlf: bool,
    bytes: u64,
    line: String,
}

impl<W: Write> Writer<W> {
    /// Writes one conductor message in the current envelope. `ts` false for `console.group`
    /// labels, which carry no inner timestamp.
    fn msg(&mut self, message: &str, ts: bool, css: Option<&str>) -> std::io::Result<()> {
        let stamp = crate::timestamp::format_iso(self.clock_ms);
        if let Some(r) = self.per_line.as_mut() {
            self.envelope = ENVELOPES[r.below(4)];
        }
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        match self.envelope {
            Envelope::Chrome => {
                l.push_str("EventBus.ts:56 ");
                if ts {
                    let _ = write!(l, "{stamp} ");
                }
            }
            Envelope::DevTools => {
                l.push_str("installHook.js:1 ");
                if ts {
                    let _ = write!(l, "{stamp} ");
                }
            }
            Envelope::Plain => l.push(' '),
            Envelope::Cypress => {
                let _ = write!(l, "[{stamp}] LOG ");
                if ts {
                    let _ = write!(l, "{stamp} ");
                }
            }
        }
        if let (Envelope::Cypress, Some(css)) = (self.envelope, css) {
            let _ = write!(l, "%c{message} {css}");
        } else {
            l.push_str(message);
        }
        l.push_str(if self.crlf { "\r\n" } else { "\n" });
        self.bytes += l.len() as u64;
        let r = self.out.write_all(l.as_bytes());
        self.line = l;
        r
    }

    fn raw(&mut self, text: &str) -> std::io::Result<()> {
        self.bytes += text.len() as u64 + if self.crlf { 2 } else { 1 };
        self.out.write_all(text.as_bytes())?;
        self.out.write_all(if self.crlf { b"\r\n" } else { b"\n" })
    }
}

pub fn run(args: &GenerateArgs) -> Result<(), Error> {
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path: path.clone(), source }
    };
    let logs = args.out.join("logs");
    let catalog = args.out.join("json-sequences").join("demo");
    std::fs::create_dir_all(&logs).map_err(werr(&logs))?;
    std::fs::create_dir_all(&catalog).map_err(werr(&catalog))?;
    let app = match args.suite_size() {
        Some(n) => suite_app(n, args.suite_seed),
        None => demo_app(),
    };
    for seq in &app {
        let json = serde_json::json!({
            "pluginId": seq.plugin,
            "id": seq.id,
            "name": seq.name,
            "movements": [{
                "id": seq.movement.to_lowercase().replace(' ', "-"),
                "name": seq.movement,
                "beats": seq.beats.iter().map(|b| serde_json::json!({
                    "beat": b.beat, "event": b.event, "title": b.title, "dynamics": "mf",
                    "handler": b.handler, "timing": "immediate", "kind": "pure"
                })).collect::<Vec<_>>()
            }]
        });
        let path = catalog.join(format!("{}.json", seq.id.trim_end_matches("-symphony")));
        std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json") + "\n").map_err(werr(&path))?;
    }
    let mut truth = Truth::default();
    let mut rng = Rng::new(args.seed);
    for f in 0..args.files {
        let path = logs.join(format!("run-{f:02}.log"));
        let file = std::fs::File::create(&path).map_err(werr(&path))?;
        let mut w = Writer {
            out: BufWriter::with_capacity(1 << 20, file),
            clock_ms: 1_762_811_776_932 + f as i64 * 3_600_000,
            envelope: Envelope::Chrome,
            per_line: (args.envelopes == Envelopes::Line).then(|| Rng::new(args.seed ^ 0x9e37_79b9_7f4a_7c15 ^ f as u64)),
            crlf: f % 2 == 1,
            bytes: 0,
            line: String::new(),
        };
        write_file(&mut w, &mut rng, args, &app, &mut truth).map_err(werr(&path))?;
        w.out.flush().map_err(werr(&path))?;
    }
    let path = args.out.join("truth.json");
    std::fs::write(&path, serde_json::to_string_pretty(&truth).expect("json") + "\n").map_err(werr(&path))?;
    Ok(())
}

fn write_file<W: Write>(w: &mut Writer<W>, rng: &mut Rng, args: &GenerateArgs, app: &[Seq], truth: &mut Truth) -> std::io::Result<()> {
    let total_weight: f64 = app.iter().map(|s| s.weight).sum();
    w.raw("")?;
    if !args.clean {
        // H4: the capture starts after a beat's T2 — its T4 and T3 are an orphan.
        w.msg("✅ Completed in 4.70ms", true, Some("color: #28A745; font-weight: bold;"))?;
        w.msg("✅ BeatExecutor: Beat 2 (library:components:notify-ui) completed in 5ms", true, None)?;
        truth.orphans += 1;
        for topic in ["musical-conductor:beat:started", "musical-conductor:beat:completed", "beat-started"] {
            w.msg(&format!("📡 EventBus: Subscribed to \"{topic}\" (1 total subscribers)"), true, None)?;
        }
    }
    let mut completed = 0u64;
    let mut executions = 0usize;
    loop {
        let done = match args.bytes {
            Some(target) => w.bytes >= target,
            None => executions >= args.executions,
        };
        if done {
            break;
        }
        executions += 1;
        // Drawn whatever the choice, so that the samples are the same for every --envelopes.
        let drawn = ENVELOPES[rng.below(4)];
        if args.envelopes == Envelopes::Execution {
            w.envelope = drawn;
        }
        let seq = if args.suite_size().is_some() {
            // Weighted: a few sequences run often, most rarely.
            let mut pick = rng.unit() * total_weight;
            app.iter()
                .find(|s| {
                    pick -= s.weight;
                    pick < 0.0
                })
                .unwrap_or(&app[app.len() - 1])
        } else {
            &app[rng.below(app.len())]
        };
        completed += 1;
        write_execution(w, rng, args, seq, completed, truth)?;
        w.clock_ms += 5 + rng.below(200) as i64;
    }
    if !args.clean {
        // The capture ends mid-beat.
        let seq = &app[0];
        w.msg(&format!("🎼 ExecutionQueue: Now executing \"{}\"", seq.name), true, None)?;
        w.msg(&format!("⏱️ PerformanceTracker: Started timing beat 1 for {}", seq.name), true, None)?;
        truth.incomplete += 1;
    }
    Ok(())
}

fn write_execution<W: Write>(
    w: &mut Writer<W>,
    rng: &mut Rng,
    args: &GenerateArgs,
    seq: &Seq,
    n: u64,
    truth: &mut Truth,
) -> std::io::Result<()> {
    let epoch = w.clock_ms;
    let request = format!("{}-{epoch}-{}", seq.id, rng.token(9));
    let k = seq.beats.len();
    w.msg(&format!("🎼 MusicalConductor.play: preserved 1 callback(s) for correlationId=mc-{epoch}-{}", rng.token(6)), true, None)?;
    w.msg(&format!("🎼 PluginInterfaceFacade.play(): {} -> {}", seq.plugin, seq.id), true, None)?;
    w.msg(&format!("🎼 ExecutionQueue: Enqueued \"{}\" with priority NORMAL (Queue size: 1)", seq.name), true, None)?;
    w.msg(&format!("🎼 ExecutionQueue: Now executing \"{}\"", seq.name), true, None)?;
    w.msg(&format!("🎼 SequenceExecutor: Executing movement \"{}\" (1/1)", seq.movement), true, None)?;
    w.msg(&format!("🎵 MovementExecutor: Starting movement \"{}\" with {k} beats", seq.movement), true, None)?;
    w.msg(&format!("🎵 Movement Started: {} ({k} beats)", seq.movement), false, None)?;
    w.msg(&format!("🎼 Sequence: {}", seq.name), true, Some("color: #007BFF; font-weight: bold;"))?;
    w.msg(&format!("🆔 Request ID: {request}"), true, Some("color: #6C757D;"))?;
    w.msg(&format!("🥁 Beats Count: {k}"), true, None)?;
    w.msg(&format!("🎼 SequenceOrchestrator: Sequence \"{}\" (id: {}) queued successfully", seq.name, seq.id), true, None)?;
    let start = w.clock_ms;
    for (i, beat) in seq.beats.iter().enumerate() {
        w.msg(&format!("🥁 MovementExecutor: Executing beat {} ({}/{k})", beat.beat, i + 1), true, None)?;
        w.msg(&format!("⏱️ PerformanceTracker: Started timing beat {} for {}", beat.beat, seq.name), true, None)?;
        w.msg(&format!("🎵 Beat {} Started: {} ({})", beat.beat, beat.title, beat.event), false, None)?;
        w.msg(&format!("🎵 Movement: Movement {}", beat.beat.div_ceil(4)), true, Some("color: #6F42C1; font-weight: bold;"))?;
        w.msg(&format!("🎯 Event: {}", beat.event), true, Some("color: #20C997; font-weight: bold;"))?;
        w.msg(
            &format!("{{sequence: '{}', movement: 'Movement 1', beat: {}, type: 'UNKNOWN', timing: 'immediate', …}}", seq.name, beat.beat),
            true,
            None,
        )?;
        for j in 0..args.noise {
            match (j + rng.below(3)) % 4 {
                0 => w.msg(&format!("🕐 [EVENTBUS] Subscriber 0 sync execution took {:.2}ms", rng.unit() * 9.0), true, None)?,
                1 => w.msg("Object", false, None)?,
                2 => w.msg("[vite] hot updated: /src/components/Canvas.tsx", false, None)?,
                _ => w.msg(&format!("🎼 PluginManager: rehydrated 2 callback(s) for event {}", beat.event), true, None)?,
            }
        }
        w.msg(&format!("🎽 DataBaton: No changes | seq={} beat={} event={} handler=?", seq.name, beat.beat, beat.event), true, None)?;
        let key = format!("{}.{}", seq.plugin, beat.handler);
        let slow: f64 = args.drift * args.slow.iter().filter(|(n, _)| n == "*" || *n == key).map(|(_, f)| f).product::<f64>();
        let perf = (beat.mean_ms * slow * (beat.sigma * rng.normal()).exp() * 100.0).round() / 100.0;
        w.clock_ms += perf.ceil() as i64;
        // Not `.max(0.0)`: of −0 and 0 it may return either (optimized builds differ), and a
        // `-0ms` the conductor never prints would go unrecognized.
        let exec = (perf + rng.unit() * 1.6 - 0.8).round();
        let exec = if exec > 0.0 { exec } else { 0.0 };
        let hard = !args.clean;
        let roll = rng.unit();
        if hard && roll < 0.01 {
            // A failed beat: no completion line, the sequence aborts (H6).
            w.msg(&format!("❌ BeatExecutor: Beat {} ({}) failed:", beat.beat, beat.event), true, None)?;
            w.raw("TypeError: Cannot read properties of undefined (reading 'id')")?;
            w.raw(&format!("    at {} (stage-crew.ts:42:17)", beat.handler))?;
            w.msg(&format!("❌ SequenceExecutor: Sequence \"{}\" failed at movement 0, beat {}:", seq.name, beat.beat), true, None)?;
            truth.failed += 1;
            return Ok(());
        } else if hard && roll < 0.02 {
            // Started, never completed; the next beat starts (incomplete).
            truth.incomplete += 1;
            continue;
        } else if hard && roll < 0.07 {
            // Only the BeatExecutor integer (T2 lost): the fallback.
            w.msg(&format!("✅ BeatExecutor: Beat {} ({}) completed in {exec}ms", beat.beat, beat.event), true, None)?;
            truth.samples.entry(key).or_default().push(exec);
        } else if hard && roll < 0.12 {
            // T3 before T2.
            w.msg(&format!("✅ BeatExecutor: Beat {} ({}) completed in {exec}ms", beat.beat, beat.event), true, None)?;
            w.msg(&format!("⏱️ PerformanceTracker: Beat {} completed in {perf:.2}ms", beat.beat), true, None)?;
            truth.samples.entry(key).or_default().push(perf);
        } else {
            w.msg(&format!("⏱️ PerformanceTracker: Beat {} completed in {perf:.2}ms", beat.beat), true, None)?;
            w.msg(&format!("✅ Completed in {perf:.2}ms"), true, Some("color: #28A745; font-weight: bold;"))?;
            w.msg(&format!("✅ BeatExecutor: Beat {} ({}) completed in {exec}ms", beat.beat, beat.event), true, None)?;
            truth.samples.entry(key).or_default().push(perf);
        }
        if hard && rng.chance(0.2) {
            // A handler-level line after completion, under the batched sequence's name (H10).
            w.msg(
                &format!(
                    "🎽 DataBaton: +result | seq={} (Batched) beat=? event={} handler={} plugin={} req={request} preview={{\"result\":\"a | seq=x\"}}",
                    seq.name, beat.event, beat.handler, seq.plugin
                ),
                true,
                None,
            )?;
        }
    }
    let total = (w.clock_ms - start) as f64;
    w.msg(&format!("⏱️ PerformanceTracker: Movement {} completed in {total:.2}ms", seq.movement), true, None)?;
    w.msg(&format!("✅ Movement completed in {total:.2}ms"), true, Some("color: #28A745;"))?;
    w.msg(&format!("✅ MovementExecutor: Movement \"{}\" completed successfully", seq.movement), true, None)?;
    w.msg(&format!("🎼 ExecutionQueue: Marked \"{}\" as completed (Total completed: {n})", seq.name), true, None)?;
    w.msg(&format!("✅ SequenceExecutor: Sequence \"{}\" completed in {}ms", seq.name, total.round()), true, None)?;
    Ok(())
}
