//! The event loop: terminal events and worker events become actions, `update` applies them,
//! effects go out, and the screen is drawn once after all ready events are handled, only when
//! something changed.

use std::time::Instant;

use crossterm::event::{Event, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use crate::browser::action::{Action, Effect, WorkerCmd, WorkerEvent};
use crate::browser::model::Model;
use crate::browser::terminal;
use crate::browser::ui;
use crate::browser::update::update;

/// At most this many queued events are handled before a frame is drawn, so a flood of scan
/// batches cannot hold a key press's frame back.
const DRAIN_LIMIT: usize = 64;
/// Shortest time between two frames that no key press asked for (about 30 fps).
const FRAME: std::time::Duration = std::time::Duration::from_millis(33);
/// Longest time spent on queued events before a frame is drawn.
const DRAIN_BUDGET: std::time::Duration = std::time::Duration::from_millis(12);

/// The two ends of the worker's channels.
pub struct WorkerLink {
    pub cmds: mpsc::UnboundedSender<WorkerCmd>,
    pub events: mpsc::Receiver<WorkerEvent>,
}

fn to_action(ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind == KeyEventKind::Press => Some(Action::Key(k)),
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        _ => None,
    }
}

/// Applies an action and performs its effects; true when the user quits.
fn apply(model: &mut Model, action: Action, link: &WorkerLink) -> bool {
    let mut quit = false;
    for fx in update(model, action) {
        match fx {
            Effect::Worker(cmd) => {
                // The worker only goes away at shutdown; a lost command then is harmless.
                let _ = link.cmds.send(cmd);
            }
            Effect::Quit => quit = true,
        }
    }
    quit
}

fn draw<B: Backend>(terminal: &mut Terminal<B>, model: &mut Model) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    terminal
        .draw(|f| ui::draw(f, model))
        .map_err(|e| anyhow::anyhow!("drawing the screen failed: {e}"))?;
    model.dirty = false;
    Ok(())
}

/// Runs until the user quits or the input ends (see [`forward_input`]). `after_draw` sees the model after every frame
/// (the benchmark measures with it).
pub async fn event_loop<B>(
    terminal: &mut Terminal<B>,
    model: &mut Model,
    input: &mut mpsc::UnboundedReceiver<std::io::Result<Event>>,
    link: &mut WorkerLink,
    mut after_draw: impl FnMut(&Model, Instant),
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    if let Ok(size) = terminal.size() {
        model.size = (size.width, size.height);
    }
    draw(terminal, model)?;
    let mut last_draw = Instant::now();
    after_draw(model, last_draw);
    let mut worker_alive = true;
    loop {
        // A frame held back by the pacing below is due at `last_draw + FRAME`.
        let draw_due = model.dirty.then_some(last_draw + FRAME);
        let wake = match (model.next_wakeup(), draw_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let first = tokio::select! {
            ev = input.recv() => match ev {
                Some(Ok(e)) => to_action(e),
                Some(Err(e)) => return Err(anyhow::anyhow!("reading the terminal failed: {e}")),
                None => return Ok(()),
            },
            ev = link.events.recv(), if worker_alive => match ev {
                Some(e) => Some(Action::Worker(e)),
                None => {
                    worker_alive = false;
                    None
                }
            },
            _ = sleep_until(wake), if wake.is_some() => Some(Action::Tick),
        };
        if terminal::panicked() {
            anyhow::bail!("an internal error stopped the browser (see the log file)");
        }
        // A key press is drawn at once; otherwise queued events are drained for a bounded
        // time, so a flood of scan batches neither costs a frame each nor delays the next key.
        let mut key_seen = matches!(first, Some(Action::Key(_)));
        let mut quit = first.is_some_and(|a| apply(model, a, link));
        let budget = Instant::now() + DRAIN_BUDGET;
        for _ in 0..DRAIN_LIMIT {
            if quit || key_seen || Instant::now() >= budget {
                break;
            }
            if let Ok(Ok(e)) = input.try_recv() {
                if let Some(a) = to_action(e) {
                    key_seen = matches!(a, Action::Key(_));
                    quit |= apply(model, a, link);
                }
                continue;
            }
            match link.events.try_recv() {
                Ok(e) => quit |= apply(model, Action::Worker(e), link),
                Err(_) => break,
            }
        }
        if quit {
            return Ok(());
        }
        if model.next_wakeup().is_some_and(|w| w <= model.now()) {
            apply(model, Action::Tick, link);
        }
        // Key presses are drawn at once; changes from the worker at most once per FRAME, so
        // a scan does not spend its CPU on frames nobody can see.
        if model.dirty && (key_seen || last_draw.elapsed() >= FRAME) {
            draw(terminal, model)?;
            last_draw = Instant::now();
            after_draw(model, last_draw);
        }
    }
}

async fn sleep_until(t: Option<Instant>) {
    if let Some(t) = t {
        tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await;
    }
}

/// Forwards terminal events to a channel. Reading the stream from its own task keeps its
/// wake-ups intact (polling it with a no-op waker to drain it can lose them).
pub fn forward_input<S>(mut stream: S) -> mpsc::UnboundedReceiver<std::io::Result<Event>>
where
    S: Stream<Item = std::io::Result<Event>> + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(ev) = stream.next().await {
            if tx.send(ev).is_err() {
                break;
            }
        }
    });
    rx
}
