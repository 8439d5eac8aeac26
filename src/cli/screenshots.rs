//! The README's screenshots, drawn by the browser itself on the data of `demo --static`: the
//! demo's redis-server seeded with the fixed set, the real worker, and a clock stopped at the
//! fixed set's "now", so every run draws the same frames.
//!
//! Regenerate: `cargo test --bin motia-state screenshots -- --ignored`.
//! `checked_in_screenshots_match_the_browser` fails when a file in assets/screenshots/ differs
//! from what the code draws now.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use motia_state::Ttl;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::browser::action::{Action, Effect, WorkerEvent};
use crate::browser::app::WorkerLink;
use crate::browser::keymap::Keymap;
use crate::browser::model::Clock;
use crate::browser::model::clock::ManualClock;
use crate::browser::model::live::LiveState;
use crate::browser::model::{Model, Pane, keys};
use crate::browser::update::update;
use crate::browser::{BrowserOptions, initial_model, spawn_worker, svg, ui};
use crate::cli::demo::{self, DemoServer};
use crate::cli::seed;
use crate::cli::simulate::Prefixes;

const REGENERATE: &str = "cargo test --bin motia-state screenshots -- --ignored";
const SIZE: (u16, u16) = (150, 40);
/// Generous: the machine may be busy with other builds.
const DEADLINE: Duration = Duration::from_secs(90);
/// The port shown in the status bar: the demo's own is a free one, different every run.
const SHOWN_URL: &str = "redis://127.0.0.1:6379";
/// The server's `used_memory` shown in the stats view.
const SHOWN_USED_MEMORY: u64 = 8 << 20;
/// How a screenshot's title names the redis-server version it was drawn with.
const DRAWN_WITH: &str = "(demo --static, Redis ";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots")
}

/// The browser without a terminal, on a stopped clock.
struct Shooter {
    m: Model,
    clock: Arc<ManualClock>,
    /// The stopped clock's start: "now" of the fixed set.
    started: std::time::Instant,
    link: WorkerLink,
    _server: DemoServer,
}

impl Shooter {
    async fn start() -> Self {
        let server = DemoServer::start().await.expect("the demo's redis-server");
        let url = server.url();
        let config = motia_state::Config::from_url(&url).expect("the demo's URL");
        let prefixes = Prefixes {
            state: config.key_prefix.clone(),
            trace: config.trace_prefix.clone(),
        };
        let client = redis::Client::open(url.as_str()).expect("the demo's URL");
        let mut conn = client
            .get_multiplexed_async_connection_with_config(
                &redis::AsyncConnectionConfig::new().set_response_timeout(None),
            )
            .await
            .expect("a connection to the demo's server");
        demo::seed(&mut conn, &prefixes, seed::FIXED_BASE_MS)
            .await
            .expect("the fixed set written");
        // As `demo` starts the browser: the demo's "now" is the fixed set's end.
        let now_ms = seed::FIXED_BASE_MS + demo::SINCE_BASE_MS;
        let wall = chrono::DateTime::from_timestamp_millis(now_ms)
            .expect("a valid time")
            .fixed_offset();
        let clock = Arc::new(ManualClock::new(wall));
        let opts = BrowserOptions {
            refresh: None,
            profiles: crate::profiles::Profiles::demo(SHOWN_URL),
            profile: Some("demo".into()),
            ..BrowserOptions::default()
        };
        let shown = motia_state::Config::from_url(SHOWN_URL).expect("a URL");
        let mut m = initial_model(&shown, &opts, Keymap::default(), clock.clone());
        update(&mut m, Action::Resize(SIZE.0, SIZE.1));
        let (link, _worker) = spawn_worker(config);
        let mut s = Self {
            m,
            started: clock.now(),
            clock,
            link,
            _server: server,
        };
        s.apply(Action::Tick);
        s
    }

    fn apply(&mut self, action: Action) {
        for fx in update(&mut self.m, action) {
            if let Effect::Worker(cmd) = fx {
                let _ = self.link.cmds.send(cmd);
            }
        }
    }

    /// A key press, then enough of the stopped clock for its debounce, the same every run.
    fn press(&mut self, code: KeyCode) {
        self.apply(Action::Key(KeyEvent::new_with_kind(
            code,
            KeyModifiers::NONE,
            KeyEventKind::Press,
        )));
        self.clock.advance(Duration::from_millis(300));
        self.apply(Action::Tick);
    }

    /// Handles worker events until the frame shows what `ready` wants.
    async fn until(&mut self, what: &str, ready: impl Fn(&Model, &str) -> bool) {
        let end = Instant::now() + DEADLINE;
        loop {
            let text = self.text();
            if ready(&self.m, &text) {
                return;
            }
            assert!(
                Instant::now() < end,
                "timed out waiting for {what}; the screen:\n{text}"
            );
            let wait = tokio::time::timeout(Duration::from_millis(50), self.link.events.recv());
            match wait.await {
                Ok(Some(e)) => {
                    let e = steady(e, self.clock.now() - self.started);
                    self.apply(Action::Worker(e));
                }
                Ok(None) => panic!("the worker stopped"),
                Err(_) => self.apply(Action::Tick),
            }
        }
    }

    fn terminal(&self) -> Terminal<TestBackend> {
        let mut t = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).expect("a test terminal");
        t.draw(|f| ui::draw(f, &self.m)).expect("a frame");
        t
    }

    fn text(&self) -> String {
        self.terminal().backend().to_string()
    }

    /// The frame as SVG; its title names the redis-server it was drawn with.
    fn svg(&mut self, what: &str) -> String {
        // A scan's duration is the machine's: a loaded one rescans (live mode's resync) while
        // keys are pressed on the stopped clock, and the status bar would read that.
        if self.m.scan.took.is_some() {
            self.m.scan.took = Some(Duration::ZERO);
        }
        let title = format!(
            "motia-state: {what} {DRAWN_WITH}{})",
            self.m.server_version.as_deref().unwrap_or("unknown")
        );
        svg::render(self.terminal().backend().buffer(), &title)
    }
}

/// What depends on the moment, made the same every run. (The server's version and the keys'
/// sizes are the redis-server's own: the pictures are drawn with Debian's, as CI has.)
fn steady(e: WorkerEvent, elapsed: Duration) -> WorkerEvent {
    match e {
        // The server's memory moves with its allocator and connections; the state's own
        // bytes (MEMORY USAGE of each key) do not.
        WorkerEvent::Stats {
            id,
            result: Ok(stats),
        } => {
            let mut stats = (*stats).clone();
            stats.server.used_memory = Some(SHOWN_USED_MEMORY);
            stats.server.peak_memory = Some(2 * SHOWN_USED_MEMORY);
            stats.share_of_server_memory = stats.bytes.map(|b| b as f64 / SHOWN_USED_MEMORY as f64);
            WorkerEvent::Stats {
                id,
                result: Ok(Arc::new(stats)),
            }
        }
        // TTLs count down in real time from the seeding: each is taken as the demo set it
        // (whole minutes) at the stopped clock's start, whenever it was read.
        WorkerEvent::Meta { mut rows } => {
            for (_, meta) in &mut rows {
                if let Ttl::Expires(d) = meta.ttl {
                    let set = Duration::from_secs(d.as_secs().div_ceil(60) * 60);
                    meta.ttl = Ttl::Expires(set.saturating_sub(elapsed));
                }
            }
            WorkerEvent::Meta { rows }
        }
        e => e,
    }
}

/// Every screenshot, in order: (file name, SVG).
async fn shoot() -> Vec<(&'static str, String)> {
    let mut s = Shooter::start().await;
    let mut shots = Vec::new();
    s.until("the scan and the rows' flows", |m, text| {
        m.scan.completed_once && m.live.state == LiveState::Live && !text.contains('…')
    })
    .await;

    // A completed order (the second row, newest first) with its `order` value open.
    s.press(KeyCode::Char('j'));
    s.press(KeyCode::Tab);
    for _ in 0..40 {
        if keys::selected_key(&s.m).is_some_and(|k| k.ends_with(":order")) {
            break;
        }
        s.press(KeyCode::Char('j'));
    }
    s.until("the order value", |m, _| {
        m.value
            .full_key
            .as_deref()
            .is_some_and(|k| k.ends_with(":order"))
            && m.value.doc.is_some()
            && m.meta_inflight.is_empty()
    })
    .await;
    shots.push(("panes", s.svg("traces, keys and a value")));

    // The first failed flow's timeline, on its failed step.
    s.press(KeyCode::Char('h'));
    s.until("the traces pane", |m, _| m.focus == Pane::Traces)
        .await;
    s.press(KeyCode::Char('j'));
    s.press(KeyCode::Char('T'));
    s.until("the timeline", |m, _| {
        m.timeline.as_ref().is_some_and(|t| t.records.is_some())
    })
    .await;
    for _ in 0..3 {
        s.press(KeyCode::Char('j'));
    }
    shots.push(("timeline", s.svg("a failed flow's timeline")));

    s.press(KeyCode::Esc);
    s.press(KeyCode::Char('S'));
    s.until("the stats", |m, _| {
        m.stats
            .as_ref()
            .is_some_and(|v| !v.running && v.stats.is_some())
    })
    .await;
    shots.push(("stats", s.svg("the stats view")));
    shots
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes assets/screenshots/; run it with: cargo test --bin motia-state screenshots -- --ignored"]
async fn screenshots() {
    std::fs::create_dir_all(dir()).expect("assets/screenshots");
    for (name, svg) in shoot().await {
        std::fs::write(dir().join(format!("{name}.svg")), svg).expect("a screenshot written");
    }
}

/// The redis-server version a screenshot was drawn with, from its title.
fn drawn_with(svg: &str) -> Option<&str> {
    let from = svg.find(DRAWN_WITH)? + DRAWN_WITH.len();
    let len = svg[from..].find(")</title>")?;
    Some(&svg[from..from + len])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checked_in_screenshots_match_the_browser() {
    let mut differ = Vec::new();
    for (name, svg) in shoot().await {
        let path = dir().join(format!("{name}.svg"));
        let stored = std::fs::read_to_string(&path).unwrap_or_default();
        // Another server version shows other figures (its version, key sizes, warnings): the
        // pictures are checked where they were drawn (CI), and said to be skipped elsewhere.
        if let (Some(then), Some(now)) = (drawn_with(&stored), drawn_with(&svg))
            && then != now
        {
            eprintln!(
                "SKIPPED: {} was drawn with Redis {then}, this redis-server is {now}",
                path.display()
            );
            continue;
        }
        if stored != svg {
            // Kept for a look at what changed.
            let now = std::env::temp_dir().join(format!("motia-state-screenshot-{name}.svg"));
            let _ = std::fs::write(&now, &svg);
            differ.push(format!("{} (drawn now: {})", path.display(), now.display()));
        }
    }
    assert!(
        differ.is_empty(),
        "screenshots differ from what the browser draws now: {}; regenerate them with \
         `{REGENERATE}` and read the change with git diff",
        differ.join(", ")
    );
}

#[test]
fn a_screenshot_names_the_server_it_was_drawn_with() {
    let svg = "<svg><title>motia-state: x (demo --static, Redis 7.0.15)</title></svg>";
    assert_eq!(drawn_with(svg), Some("7.0.15"));
    assert_eq!(drawn_with("<svg></svg>"), None);
}
