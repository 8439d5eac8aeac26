//! Live mode: an app writing new keys at rising rates while keys are pressed, on a server of
//! its own.

use super::*;

/// Writes per second tried, lowest first.
const LIVE_RATES: [usize; 4] = [5_000, 20_000, 50_000, 100_000];
/// The load: 5,000 writes/s for a minute.
const LIVE_MINUTE_RATE: usize = 5_000;
/// How long the writer runs at the other rates (shorter, so the bench ends in minutes).
const LIVE_WRITE_TIME: Duration = Duration::from_secs(5);

/// How long the writer runs at `rate`.
fn write_time(rate: usize) -> Duration {
    if rate == LIVE_MINUTE_RATE {
        Duration::from_secs(60)
    } else {
        LIVE_WRITE_TIME
    }
}
/// The index must be exact this soon after the writer stops.
const CATCH_UP: Duration = Duration::from_secs(2);

struct LiveRun {
    rate: usize,
    written: usize,
    presses: Vec<Duration>,
    write_to_row: Vec<Duration>,
    catch_up: Option<Duration>,
    rss_mb: f64,
}

impl LiveRun {
    fn kept_up(&self) -> bool {
        pct(&self.presses, 0.99) < Duration::from_millis(50)
            && self.catch_up.is_some_and(|c| c <= CATCH_UP)
    }
}

pub(crate) fn live_bench() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut runs = Vec::new();
    for rate in LIVE_RATES {
        let server = RedisServer::start_with(&["--notify-keyspace-events", "K$gx"]);
        seed(&server, 1000, 10);
        eprintln!(
            "live mode at {rate} writes/s for {} s ...",
            write_time(rate).as_secs()
        );
        let run = rt.block_on(live_run(&server, rate));
        let stop = !run.kept_up();
        runs.push(run);
        if stop {
            break;
        }
    }
    println!();
    println!(
        "live mode: new keys written for {} s at {LIVE_MINUTE_RATE} writes/s and {} s at each \
         higher rate, j/k pressed every 20 ms",
        write_time(LIVE_MINUTE_RATE).as_secs(),
        LIVE_WRITE_TIME.as_secs()
    );
    println!(
        "{:>9} {:>6} {:>9} {:>11} {:>11} {:>11} {:>11} {:>8} {:>8}",
        "writes/s",
        "for",
        "written",
        "press p99",
        "row p50",
        "row p99",
        "exact after",
        "RSS",
        "kept up"
    );
    for r in &runs {
        println!(
            "{:>9} {:>6} {:>9} {:>11} {:>11} {:>11} {:>11} {:>8} {:>8}",
            r.rate,
            format!("{} s", write_time(r.rate).as_secs()),
            r.written,
            ms(pct(&r.presses, 0.99)),
            ms(pct(&r.write_to_row, 0.5)),
            ms(pct(&r.write_to_row, 0.99)),
            r.catch_up.map(ms).unwrap_or_else(|| "never".into()),
            format!("{:.0} MB", r.rss_mb),
            if r.kept_up() { "yes" } else { "no" }
        );
    }
    let best = runs.iter().filter(|r| r.kept_up()).map(|r| r.rate).max();
    println!(
        "highest write rate kept up with (press p99 < 50 ms, index exact within {}s): {}  (target 50000)",
        CATCH_UP.as_secs(),
        best.map(|b| b.to_string()).unwrap_or_else(|| "none".into())
    );
    if let Some(r) = runs.iter().find(|r| r.rate == LIVE_MINUTE_RATE) {
        let p99 = pct(&r.write_to_row, 0.99);
        println!(
            "write -> row at {LIVE_MINUTE_RATE} writes/s: p99 {}  (target < 200 ms) {}",
            ms(p99),
            if p99 < Duration::from_millis(200) {
                "MET"
            } else {
                "NOT MET"
            }
        );
        let press = pct(&r.presses, 0.99);
        let met = |ok: bool| if ok { "MET" } else { "NOT MET" };
        println!(
            "{LIVE_MINUTE_RATE} writes/s for {} s: key press p99 {} over {} presses (target < 50 ms) {}; \
             index exact (key count = DBSIZE) {} after the writer stopped (target <= {} s) {}",
            write_time(LIVE_MINUTE_RATE).as_secs(),
            ms(press),
            r.presses.len(),
            met(press < Duration::from_millis(50)),
            r.catch_up.map(ms).unwrap_or_else(|| "never".into()),
            CATCH_UP.as_secs(),
            met(r.catch_up.is_some_and(|c| c <= CATCH_UP))
        );
    }
}

async fn live_run(server: &RedisServer, rate: usize) -> LiveRun {
    let config = server.config();
    let opts = BrowserOptions::default();
    let mut model = initial_model(&config, &opts, Keymap::default(), Arc::new(SystemClock));
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).unwrap();
    let (tx, mut input) = tokio::sync::mpsc::unbounded_channel();
    let (mut link, worker) = spawn_worker(config);

    #[derive(Default)]
    struct Shared {
        ready: bool,
        writing: bool,
        stopped: Option<Instant>,
        expected: usize,
        catch_up: Option<Duration>,
        sent: Vec<Instant>,
        presses: Vec<Duration>,
        answered: u64,
        samples: Vec<(String, String, Instant)>,
        write_to_row: Vec<Duration>,
        rss_mb: f64,
        done: bool,
    }
    let shared = Arc::new(Mutex::new(Shared::default()));

    // Waits for live mode, writes for a while, then presses keys until the index is exact.
    let url = server.url();
    let driver = {
        let shared = shared.clone();
        tokio::spawn(async move {
            while !shared.lock().unwrap().ready {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let client = redis::Client::open(url).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let per_tick = rate / 100;
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            let end = Instant::now() + write_time(rate);
            let mut written = 0usize;
            shared.lock().unwrap().writing = true;
            let mut presses = 0u64;
            while Instant::now() < end {
                tick.tick().await;
                let mut pipe = redis::pipe();
                let at = Instant::now();
                let mut samples = Vec::new();
                for _ in 0..per_tick {
                    let trace = format!("w-{}", written / 50);
                    let key = format!("k{}", written % 50);
                    pipe.cmd("SET")
                        .arg(format!("{PREFIX}{trace}:{key}"))
                        .arg(written)
                        .ignore();
                    if written.is_multiple_of(100) {
                        samples.push((trace, key, at));
                    }
                    written += 1;
                }
                let () = pipe.query_async(&mut conn).await.unwrap();
                let mut s = shared.lock().unwrap();
                s.samples.extend(samples);
                if at.duration_since(s.sent.last().copied().unwrap_or(start_of(at)))
                    >= Duration::from_millis(20)
                {
                    s.sent.push(Instant::now());
                    let _ = tx.send(press(if presses.is_multiple_of(2) { 'j' } else { 'k' }));
                    presses += 1;
                }
            }
            {
                let mut s = shared.lock().unwrap();
                s.expected = 1000 + written;
                s.stopped = Some(Instant::now());
            }
            // Frames keep coming while the index catches up (a press each 20 ms).
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let mut s = shared.lock().unwrap();
                if s.done || Instant::now() > deadline {
                    let _ = tx.send(press('q'));
                    return written;
                }
                s.sent.push(Instant::now());
                let _ = tx.send(press(if presses.is_multiple_of(2) { 'j' } else { 'k' }));
                presses += 1;
            }
        })
    };

    let after_draw = {
        let shared = shared.clone();
        move |m: &browser::model::Model, at: Instant| {
            let mut s = shared.lock().unwrap();
            if !s.ready && m.live.is_live() && m.scan.completed_once && !m.scan.running {
                s.ready = true;
            }
            while s.answered < m.keys_handled {
                let i = s.answered as usize;
                if let Some(sent) = s.sent.get(i).copied() {
                    s.presses.push(at - sent);
                }
                s.answered += 1;
            }
            let mut arrived = Vec::new();
            s.samples.retain(|(t, k, sent)| {
                let there = m
                    .index
                    .traces
                    .get(t.as_str())
                    .is_some_and(|keys| keys.contains(k.as_str()));
                if there {
                    arrived.push(at - *sent);
                }
                !there
            });
            s.write_to_row.extend(arrived);
            if let Some(stopped) = s.stopped
                && s.catch_up.is_none()
                && m.index.total_keys == s.expected
                && s.samples.is_empty()
            {
                s.catch_up = Some(at.saturating_duration_since(stopped));
                s.rss_mb = rss_mb();
                s.done = true;
            }
        }
    };
    app::event_loop(&mut terminal, &mut model, &mut input, &mut link, after_draw)
        .await
        .unwrap();
    let _ = link.cmds.send(browser::action::WorkerCmd::Shutdown);
    worker.abort();
    let written = driver.await.unwrap_or(0);
    let s = shared.lock().unwrap();
    LiveRun {
        rate,
        written,
        presses: s.presses.clone(),
        write_to_row: s.write_to_row.clone(),
        catch_up: s.catch_up,
        rss_mb: if s.rss_mb > 0.0 { s.rss_mb } else { rss_mb() },
    }
}

/// An instant far enough back that the first press goes out at once.
fn start_of(at: Instant) -> Instant {
    at.checked_sub(Duration::from_secs(1)).unwrap_or(at)
}
