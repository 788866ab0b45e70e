//! Live progress while cells run: a bar naming the running cells on a
//! terminal, one plain line per finished cell otherwise (CI logs).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::observe::Observer;
use crate::escape;
use crate::model::{CellResult, Standing};

pub struct Progress {
    bar: Option<ProgressBar>,
    running: Vec<String>,
    total: usize,
    done: usize,
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(total as u64);
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Progress {
            bar,
            running: Vec::new(),
            total,
            done: 0,
        }
    }

    fn show_running(&self) {
        if let Some(b) = &self.bar {
            let running: Vec<_> = self.running.iter().map(|id| escape::line(id)).collect();
            b.set_message(running.join("  "));
        }
    }
}

impl Observer for Progress {
    fn started(&mut self, id: &str) {
        self.running.push(id.to_string());
        self.show_running();
    }

    fn finished(&mut self, r: &CellResult) {
        self.running.retain(|x| *x != r.cell.id);
        self.done += 1;
        let standing = r.standing();
        let mark = format!("{:<5}", super::summary::mark(standing));
        let width = self.total.to_string().len();
        let line = format!(
            "[{:>width$}/{}] {mark} {:<11} {} ({})",
            self.done,
            self.total,
            r.outcome.as_str(),
            escape::Line(&r.cell.id),
            if r.cached {
                "cached".to_string()
            } else {
                format!("{:.1}s", r.duration_ms as f64 / 1000.0)
            }
        );
        match &self.bar {
            Some(b) => {
                if standing != Standing::Passed {
                    b.println(line);
                }
                b.inc(1);
                self.show_running();
            }
            None => eprintln!("{line}"),
        }
    }

    fn all_finished(&mut self, _: &[CellResult]) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
