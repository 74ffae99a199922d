//! Rounds: every engine runs in a process of its own (so its memory is its own), once per
//! round, the engines' order reversed every other round (so none always runs first on a cold
//! or last on a tired machine); each figure is the median of the rounds.
//!
//! A child process prints one [`Record`] line per workload on its stdout; the parent reads
//! them, and gathers each (engine, workload)'s rounds into a [`Summary`].

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::engines::{BoxError, EngineKind};
use crate::workloads::{Measurement, Workload};

/// The first field of a record line; other lines of a child's stdout are passed through.
const TAG: &str = "lightning-bench-record";

/// One workload's outcome in one round.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub engine: EngineKind,
    pub workload: Workload,
    /// Operations per second; `None` if the workload failed.
    pub rate: Option<f64>,
    pub peak_rss: Option<u64>,
    pub disk_per_key: Option<f64>,
    /// Transaction workloads: (failed, attempted) commits.
    pub conflicts: Option<(u64, u64)>,
    pub error: Option<String>,
}

impl Record {
    pub fn of(
        engine: EngineKind,
        workload: Workload,
        outcome: &Result<Measurement, BoxError>,
    ) -> Record {
        match outcome {
            Ok(m) => Record {
                engine,
                workload,
                rate: Some(m.ops_per_sec()),
                peak_rss: m.peak_rss,
                disk_per_key: m.disk_bytes_per_key(),
                conflicts: m.conflicts.map(|failed| (failed, m.ops + failed)),
                error: None,
            },
            Err(e) => Record {
                engine,
                workload,
                rate: None,
                peak_rss: None,
                disk_per_key: None,
                conflicts: None,
                error: Some(e.to_string()),
            },
        }
    }

    /// The record as one tab-separated line.
    pub fn encode(&self) -> String {
        fn opt<T: ToString>(v: Option<T>) -> String {
            v.map_or_else(|| "-".into(), |v| v.to_string())
        }
        let error = self
            .error
            .as_deref()
            .map(|e| e.replace(['\t', '\n', '\r'], " "));
        [
            TAG.to_string(),
            self.engine.name().into(),
            self.workload.name().into(),
            opt(self.rate),
            opt(self.peak_rss),
            opt(self.disk_per_key),
            opt(self.conflicts.map(|c| c.0)),
            opt(self.conflicts.map(|c| c.1)),
            opt(error),
        ]
        .join("\t")
    }

    /// A record from a line made by [`encode`](Self::encode), or `None` for any other line.
    pub fn decode(line: &str) -> Option<Record> {
        let f: Vec<&str> = line.splitn(9, '\t').collect();
        if f.len() != 9 || f[0] != TAG {
            return None;
        }
        fn opt<T: std::str::FromStr>(s: &str) -> Option<T> {
            (s != "-").then(|| s.parse().ok()).flatten()
        }
        let conflicts = match (opt(f[6]), opt(f[7])) {
            (Some(failed), Some(attempted)) => Some((failed, attempted)),
            _ => None,
        };
        Some(Record {
            engine: EngineKind::from_name(f[1])?,
            workload: Workload::from_name(f[2])?,
            rate: opt(f[3]),
            peak_rss: opt(f[4]),
            disk_per_key: opt(f[5]),
            conflicts,
            error: (f[8] != "-").then(|| f[8].to_string()),
        })
    }
}

/// An (engine, workload)'s rounds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// The median rate; `None` if any round failed (or none ran).
    pub rate: Option<f64>,
    pub peak_rss: Option<u64>,
    pub disk_per_key: Option<f64>,
    pub conflicts: Option<(u64, u64)>,
    /// Rounds that reported this workload.
    pub rounds: usize,
    /// The first failure, if any round failed.
    pub error: Option<String>,
}

/// The median of `values` (the mean of the middle two for an even count); `None` if empty.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// Gathers the records of every round into one summary per (engine, workload).
pub fn summarize(records: &[Record]) -> HashMap<(EngineKind, Workload), Summary> {
    let mut groups: HashMap<(EngineKind, Workload), Vec<&Record>> = HashMap::new();
    for r in records {
        groups.entry((r.engine, r.workload)).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|(key, rs)| {
            let error = rs.iter().find_map(|r| r.error.clone());
            let all_ran = rs.iter().all(|r| r.rate.is_some());
            let med = |f: &dyn Fn(&Record) -> Option<f64>| {
                median(rs.iter().filter_map(|r| f(r)).collect())
            };
            let summary = Summary {
                rate: if all_ran { med(&|r| r.rate) } else { None },
                peak_rss: med(&|r| r.peak_rss.map(|b| b as f64)).map(|b| b as u64),
                disk_per_key: med(&|r| r.disk_per_key),
                conflicts: match (
                    med(&|r| r.conflicts.map(|c| c.0 as f64)),
                    med(&|r| r.conflicts.map(|c| c.1 as f64)),
                ) {
                    (Some(failed), Some(attempted)) => Some((failed as u64, attempted as u64)),
                    _ => None,
                },
                rounds: rs.len(),
                error,
            };
            (key, summary)
        })
        .collect()
}

/// Runs `rounds` rounds: in each, every engine of `engines` in a child process made by
/// `child_command(engine)`, in the given order on even rounds and reversed on odd ones. The
/// children's stderr (their progress) goes to ours. A child that fails or dies gets a failed
/// record for each wanted workload it did not report.
pub fn run_rounds(
    rounds: u32,
    engines: &[EngineKind],
    workloads: &[Workload],
    child_command: impl Fn(EngineKind) -> Command,
) -> Vec<Record> {
    let mut records = Vec::new();
    for round in 0..rounds {
        let mut order = engines.to_vec();
        if round % 2 == 1 {
            order.reverse();
        }
        for engine in order {
            eprintln!("[{engine}] round {} of {rounds}", round + 1);
            let mut got = run_child(engine, child_command(engine));
            for &w in workloads {
                if !got.iter().any(|r| r.workload == w) {
                    got.push(Record::of(
                        engine,
                        w,
                        &Err("the engine's process ended without a figure for it".into()),
                    ));
                }
            }
            records.extend(got);
        }
    }
    records
}

fn run_child(engine: EngineKind, mut command: Command) -> Vec<Record> {
    let mut child = match command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("[{engine}] could not start its process: {e}");
            return Vec::new();
        }
    };
    let mut records = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            match Record::decode(&line) {
                Some(r) => records.push(r),
                None => println!("{line}"),
            }
        }
    }
    match child.wait() {
        Ok(status) if status.success() => {}
        Ok(status) => eprintln!("[{engine}] its process ended with {status}"),
        Err(e) => eprintln!("[{engine}] waiting for its process failed: {e}"),
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_their_line() {
        let ok = Record {
            engine: EngineKind::Fjall,
            workload: Workload::TxnRmw,
            rate: Some(1234.5),
            peak_rss: Some(1 << 30),
            disk_per_key: Some(201.25),
            conflicts: Some((3, 100)),
            error: None,
        };
        assert_eq!(Record::decode(&ok.encode()), Some(ok));
        let failed = Record {
            engine: EngineKind::Lmdb,
            workload: Workload::Scan,
            rate: None,
            peak_rss: None,
            disk_per_key: None,
            conflicts: None,
            error: Some("bad\tthing\nhappened".into()),
        };
        let back = Record::decode(&failed.encode()).unwrap();
        assert_eq!(back.error.as_deref(), Some("bad thing happened"));
        assert_eq!(Record::decode("not a record"), None);
    }

    #[test]
    fn medians_and_failures() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        let r = |rate: Option<f64>| Record {
            engine: EngineKind::Lightning,
            workload: Workload::Scan,
            rate,
            peak_rss: Some(10),
            disk_per_key: None,
            conflicts: None,
            error: rate.is_none().then(|| "boom".to_string()),
        };
        let s = summarize(&[r(Some(5.0)), r(Some(1.0)), r(Some(3.0))]);
        let one = &s[&(EngineKind::Lightning, Workload::Scan)];
        assert_eq!(
            (one.rate, one.peak_rss, one.rounds),
            (Some(3.0), Some(10), 3)
        );
        let s = summarize(&[r(Some(5.0)), r(None), r(Some(3.0))]);
        let one = &s[&(EngineKind::Lightning, Workload::Scan)];
        assert_eq!(one.rate, None, "a failed round fails the figure");
        assert_eq!(one.error.as_deref(), Some("boom"));
    }
}
