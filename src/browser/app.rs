//! The event loop: terminal events and worker events become actions, `update` applies them,
//! effects go out, and the screen is drawn once after all ready events are handled, only when
//! something changed.

use std::time::Instant;

use crossterm::event::{Event, KeyEventKind, MouseButton, MouseEventKind};
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
        // Pointer motion and drags are dropped here: some terminals report every move.
        Event::Mouse(m)
            if matches!(
                m.kind,
                MouseEventKind::ScrollUp
                    | MouseEventKind::ScrollDown
                    | MouseEventKind::Down(MouseButton::Left)
            ) =>
        {
            Some(Action::Mouse(m))
        }
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        _ => None,
    }
}

/// What the event loop needs from the real terminal beyond drawing: the clipboard and
/// suspending the screen for `$EDITOR`.
pub trait Host {
    /// Puts text on the clipboard.
    fn copy(&mut self, text: &str);
    /// Gives the terminal to `$VISUAL`/`$EDITOR` on `text` and takes it back.
    fn external_edit(
        &mut self,
        text: String,
    ) -> impl std::future::Future<Output = Result<String, String>>;
}

/// A host without a terminal (benchmarks, tests): no clipboard, no external editor.
#[allow(dead_code)] // used by benches/browser.rs through event_loop
pub struct NoHost;

impl Host for NoHost {
    fn copy(&mut self, _text: &str) {}
    async fn external_edit(&mut self, _text: String) -> Result<String, String> {
        Err("no terminal to run an editor in".into())
    }
}

/// Returns the pages freed since the last trim to the system. glibc's allocator keeps freed
/// memory for reuse: after the history of a 5 MB value closes, the process would stay at its
/// peak size until it exits.
fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Allocations of at least this size get pages of their own, returned when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const OWN_PAGES: libc::c_int = 256 * 1024;

/// Makes large buffers go back to the system when freed. glibc otherwise raises its mmap
/// threshold to the largest block freed so far (up to 32 MB), after which megabyte buffers
/// (a history's versions and diffs) come from arenas whose free tops `malloc_trim` does not
/// release: measured: 44 MB lay free in them, resident, after the history of a 5 MB value closed.
/// Setting the thresholds turns that adjustment off. Called once, before the worker starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; it takes no pointers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_PAGES);
        libc::mallopt(libc::M_TRIM_THRESHOLD, OWN_PAGES);
    }
}

/// Applies an action and performs its effects; true when the user quits. Effects that need
/// the terminal are left in `outside`.
fn apply(model: &mut Model, action: Action, link: &WorkerLink, outside: &mut Vec<Effect>) -> bool {
    let mut quit = false;
    for fx in update(model, action) {
        match fx {
            Effect::Worker(cmd) => {
                // The worker only goes away at shutdown; a lost command then is harmless.
                let _ = link.cmds.send(cmd);
            }
            Effect::Quit => quit = true,
            Effect::ReleaseMemory => release_memory(),
            other => outside.push(other),
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
#[allow(dead_code)] // used by benches/browser.rs
pub async fn event_loop<B>(
    terminal: &mut Terminal<B>,
    model: &mut Model,
    input: &mut mpsc::UnboundedReceiver<std::io::Result<Event>>,
    link: &mut WorkerLink,
    after_draw: impl FnMut(&Model, Instant),
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    event_loop_with(terminal, model, input, link, &mut NoHost, after_draw).await
}

/// [`event_loop`] with a [`Host`] for the clipboard and `$EDITOR`.
pub async fn event_loop_with<B>(
    terminal: &mut Terminal<B>,
    model: &mut Model,
    input: &mut mpsc::UnboundedReceiver<std::io::Result<Event>>,
    link: &mut WorkerLink,
    host: &mut impl Host,
    mut after_draw: impl FnMut(&Model, Instant),
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    let mut outside: Vec<Effect> = Vec::new();
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
        let (mut quit, mut key_seen) = drain(model, first, input, link, &mut outside);
        if !quit {
            let (q, edited) = perform_outside(terminal, model, link, host, &mut outside).await?;
            quit |= q;
            key_seen |= edited;
        }
        if quit {
            return Ok(());
        }
        if model.next_wakeup().is_some_and(|w| w <= model.now()) {
            apply(model, Action::Tick, link, &mut outside);
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

/// Applies `first` and then the queued events. A key press is drawn at once; otherwise queued
/// events are drained for a bounded time, so a flood of scan batches neither costs a frame
/// each nor delays the next key. Returns (quit, a key was pressed).
fn drain(
    model: &mut Model,
    first: Option<Action>,
    input: &mut mpsc::UnboundedReceiver<std::io::Result<Event>>,
    link: &mut WorkerLink,
    outside: &mut Vec<Effect>,
) -> (bool, bool) {
    // The user's own input (keys, the mouse) is drawn at once.
    let mut key_seen = matches!(first, Some(Action::Key(_) | Action::Mouse(_)));
    let mut quit = first.is_some_and(|a| apply(model, a, link, outside));
    let budget = Instant::now() + DRAIN_BUDGET;
    for _ in 0..DRAIN_LIMIT {
        if quit || key_seen || Instant::now() >= budget {
            break;
        }
        if let Ok(Ok(e)) = input.try_recv() {
            if let Some(a) = to_action(e) {
                key_seen = matches!(a, Action::Key(_) | Action::Mouse(_));
                quit |= apply(model, a, link, outside);
            }
            continue;
        }
        match link.events.try_recv() {
            Ok(e) => quit |= apply(model, Action::Worker(e), link, outside),
            Err(_) => break,
        }
    }
    (quit, key_seen)
}

/// Performs the effects that leave the program (clipboard, `$EDITOR`). Returns (quit, an
/// external edit ran: its result is drawn at once).
async fn perform_outside<B>(
    terminal: &mut Terminal<B>,
    model: &mut Model,
    link: &mut WorkerLink,
    host: &mut impl Host,
    outside: &mut Vec<Effect>,
) -> anyhow::Result<(bool, bool)>
where
    B: Backend,
{
    let (mut quit, mut edited) = (false, false);
    while !quit && !outside.is_empty() {
        match outside.remove(0) {
            Effect::Copy(text) => host.copy(&text),
            Effect::ExternalEdit { text } => {
                let result = host.external_edit(text).await;
                // The editor drew over everything: the next frame repaints it all.
                // (`resize` clears without `clear`'s cursor-position query, whose answer
                // can be lost to the input reader and fail the whole browser.)
                let area = terminal
                    .size()
                    .map(|s| ratatui::layout::Rect::new(0, 0, s.width, s.height))
                    .map_err(|e| anyhow::anyhow!("reading the terminal size failed: {e}"))?;
                terminal
                    .resize(area)
                    .map_err(|e| anyhow::anyhow!("redrawing the screen failed: {e}"))?;
                edited = true;
                quit |= apply(model, Action::ExternalEdited(result), link, outside);
            }
            _ => {}
        }
    }
    Ok((quit, edited))
}

async fn sleep_until(t: Option<Instant>) {
    if let Some(t) = t {
        tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await;
    }
}

/// Forwards terminal events to a channel. Reading the stream from its own task keeps its
/// wake-ups intact (polling it with a no-op waker to drain it can lose them).
#[allow(dead_code)] // used by benches/browser.rs
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

/// Controls the terminal input task.
enum InputCtl {
    /// Stop reading the terminal; the sender learns when reading has stopped.
    Pause(tokio::sync::oneshot::Sender<()>),
    Resume,
}

/// The real terminal as a [`Host`]: OSC 52 on stdout, and `$EDITOR` with input paused.
pub struct TerminalHost {
    ctl: mpsc::UnboundedSender<InputCtl>,
}

/// Reads the real terminal from its own task; the returned host can pause it (for `$EDITOR`).
/// The crossterm stream is dropped while paused, so nothing reads keys meant for the editor.
pub fn forward_terminal_input() -> (
    mpsc::UnboundedReceiver<std::io::Result<Event>>,
    TerminalHost,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (ctl_tx, mut ctl_rx) = mpsc::unbounded_channel::<InputCtl>();
    tokio::spawn(async move {
        loop {
            let mut stream = crossterm::event::EventStream::new();
            loop {
                tokio::select! {
                    ev = stream.next() => match ev {
                        Some(ev) => {
                            if tx.send(ev).is_err() {
                                return;
                            }
                        }
                        None => return,
                    },
                    ctl = ctl_rx.recv() => match ctl {
                        Some(InputCtl::Pause(ack)) => {
                            drop(stream);
                            let _ = ack.send(());
                            break;
                        }
                        Some(InputCtl::Resume) => {}
                        None => return,
                    },
                }
            }
            loop {
                match ctl_rx.recv().await {
                    Some(InputCtl::Resume) => break,
                    Some(InputCtl::Pause(ack)) => {
                        let _ = ack.send(());
                    }
                    None => return,
                }
            }
        }
    });
    (rx, TerminalHost { ctl: ctl_tx })
}

impl Host for TerminalHost {
    fn copy(&mut self, text: &str) {
        terminal::write_raw(&crate::browser::clipboard::osc52(text));
    }

    async fn external_edit(&mut self, text: String) -> Result<String, String> {
        let (ack_tx, ack_rx) = tokio::sync::oneshot::channel();
        if self.ctl.send(InputCtl::Pause(ack_tx)).is_ok() {
            let _ = ack_rx.await;
        }
        let result = match terminal::suspend() {
            Ok(()) => {
                let r = tokio::task::spawn_blocking(move || {
                    crate::browser::external_editor::edit(&text)
                })
                .await
                .unwrap_or_else(|e| Err(format!("the editor task failed: {e}")));
                match terminal::resume() {
                    Ok(()) => r,
                    Err(e) => Err(format!("taking the terminal back failed: {e}")),
                }
            }
            Err(e) => Err(format!("cannot give the terminal to the editor: {e}")),
        };
        let _ = self.ctl.send(InputCtl::Resume);
        result
    }
}
