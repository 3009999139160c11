//! Progress of long steps: a bar on a terminal, plain lines otherwise (cron logs, CI).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    label: &'static str,
    total: u64,
}

/// Steps shorter than this never show a bar.
const MIN_FOR_BAR: u64 = 200;

impl Progress {
    /// A progress report for `total` items; quiet unless `verbose`.
    pub(crate) fn new(label: &'static str, total: u64, verbose: bool) -> Progress {
        let bar = (verbose && total >= MIN_FOR_BAR && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(label);
            bar
        });
        if verbose && bar.is_none() && total >= MIN_FOR_BAR {
            eprintln!("{label}: {total} …");
        }
        Progress { bar, label, total }
    }

    pub(crate) fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
            eprintln!("{}: {} done", self.label, self.total);
        }
    }
}
