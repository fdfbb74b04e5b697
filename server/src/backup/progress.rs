//! Progress of a long copy, and the interruption flag it checks: a bar on a
//! terminal, a plain line every tenth (or every 256 MiB when the size is
//! unknown) otherwise, and Ctrl-C or SIGTERM stopping the copy between two
//! blocks so the caller can remove what it had started.

use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

const BLOCK: usize = 1 << 20;
const PLAIN_STEP_UNKNOWN: u64 = 256 << 20;

/// Set once Ctrl-C or SIGTERM arrives; the copy stops at the next block.
#[derive(Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Watch for Ctrl-C and SIGTERM (systemd's stop) from now on.
    pub fn watch() -> Interrupt {
        let flag = Interrupt::default();
        let set = flag.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            set.0.store(true, Ordering::SeqCst);
            eprintln!("\ninterrupted: stopping and removing what was started");
        });
        flag
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    pub fn check(&self) -> std::io::Result<()> {
        if self.is_set() {
            return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "interrupted"));
        }
        Ok(())
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

pub struct Progress {
    bar: Option<ProgressBar>,
    label: &'static str,
    total: Option<u64>,
    done: u64,
    next_line: u64,
}

impl Progress {
    pub fn new(label: &'static str, total: Option<u64>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(total) => ProgressBar::new(total).with_style(
                    ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {eta}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                ),
                None => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{spinner} {msg} {bytes}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                ),
            };
            bar.set_message(label);
            bar
        });
        let step = total.map_or(PLAIN_STEP_UNKNOWN, |t| (t / 10).max(1));
        Progress { bar, label, total, done: 0, next_line: step }
    }

    fn add(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None if self.done >= self.next_line => {
                let step = self.total.map_or(PLAIN_STEP_UNKNOWN, |t| (t / 10).max(1));
                while self.next_line <= self.done {
                    self.next_line += step;
                }
                match self.total {
                    Some(total) if total > 0 => eprintln!(
                        "{}: {} of {} ({}%)",
                        self.label,
                        HumanBytes(self.done),
                        HumanBytes(total),
                        self.done.saturating_mul(100) / total
                    ),
                    _ => eprintln!("{}: {}", self.label, HumanBytes(self.done)),
                }
            }
            None => {}
        }
    }

    pub fn finish(self) {
        match self.bar {
            Some(bar) => bar.finish_and_clear(),
            None => eprintln!("{}: done, {}", self.label, HumanBytes(self.done)),
        }
    }
}

/// Copy everything from `from` to `to`, a block at a time, with progress;
/// stops when the flag is set. `read_error` names a failed read (for a
/// backup being opened, age refusing a chunk).
pub fn copy(
    from: &mut impl Read,
    to: &mut impl Write,
    progress: &mut Progress,
    interrupt: &Interrupt,
    read_error: fn(std::io::Error) -> anyhow::Error,
) -> anyhow::Result<u64> {
    let mut buffer = vec![0u8; BLOCK];
    let mut total = 0u64;
    loop {
        interrupt.check()?;
        let n = match from.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e)),
        };
        to.write_all(buffer.get(..n).unwrap_or_default())?;
        total += n as u64;
        progress.add(n as u64);
    }
}
