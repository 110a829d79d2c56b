//! Which MPI functions the student's code called in a cell, how often, with how many bytes, and
//! where each was first called; read from the records once the launch is over.

use super::records::TraceDir;
use super::stacks::{self, Symbolizer};
use crate::judge::outcome::Problem;
use mpi_grade_protocol::trace::{Func, MAX_CELLS};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering::{Acquire, Relaxed};

/// Calls and bytes of one function.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Count {
    /// Number of calls.
    pub calls: u64,
    /// Payload bytes the calls sent or received.
    pub bytes: u64,
}

/// One cell's use of MPI, summed over its ranks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Calls and bytes per MPI function.
    pub counts: BTreeMap<Func, Count>,
    /// Where each function was first called (student's source line), when known.
    pub sites: BTreeMap<Func, String>,
    /// Per rank (of one cell; `None` for a rank the tracer did not record): the payload bytes
    /// its student code sent to other ranks, and the `MPI_Pcontrol` calls of the cell.
    pub ranks: Vec<Option<RankTraffic>>,
}

/// What one rank's record says about a cell beyond the per-function counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RankTraffic {
    /// Payload bytes the student's code sent to other ranks (point-to-point and collectives).
    pub sent_to_others: u64,
    /// `MPI_Pcontrol` calls in marked scope; the runtime makes exactly two per call of the cell.
    pub marks: u64,
}

/// The first rank of a cell whose record shows a submission that worked around the tracer or
/// did not do the exchange: more `MPI_Pcontrol` calls than the runtime's two per call of the
/// function, or fewer bytes sent to other ranks than `needed[rank]`, what the challenge kind
/// must send at `elements` values per block (for an alltoall, each of the `ranks - 1` others
/// gets a block of `elements` 8-byte values). `usage` covers `calls` calls of the function
/// (before [`Usage::per_call`]).
pub fn cell_problem(
    usage: &Usage,
    needed: &[u64],
    elements: u64,
    calls: u32,
) -> Option<(u32, Problem)> {
    let calls = u64::from(calls.max(1));
    for (rank, traffic) in (0..).zip(&usage.ranks) {
        let Some(t) = traffic else { continue };
        if t.marks != 2 * calls {
            return Some((
                rank,
                Problem::Pcontrol {
                    extra: t.marks.abs_diff(2 * calls),
                },
            ));
        }
    }
    for (rank, traffic) in (0..).zip(&usage.ranks) {
        let Some(t) = traffic else { continue };
        let sent = t.sent_to_others / calls;
        let needed = needed.get(rank as usize).copied().unwrap_or(0);
        if sent < needed {
            return Some((
                rank,
                Problem::Traffic {
                    sent,
                    needed,
                    elements,
                },
            ));
        }
    }
    None
}

/// Functions that send a point-to-point message.
const SENDS: &[Func] = &[
    Func::Send,
    Func::Ssend,
    Func::Bsend,
    Func::Rsend,
    Func::Isend,
    Func::Issend,
    Func::Ibsend,
    Func::Irsend,
    Func::Sendrecv,
    Func::SendrecvReplace,
];

impl Usage {
    /// Point-to-point messages sent.
    pub fn messages(&self) -> u64 {
        SENDS
            .iter()
            .filter_map(|f| self.counts.get(f))
            .map(|c| c.calls)
            .sum()
    }

    /// Payload bytes of those messages.
    pub fn message_bytes(&self) -> u64 {
        SENDS
            .iter()
            .filter_map(|f| self.counts.get(f))
            .map(|c| c.bytes)
            .sum()
    }

    /// Collective calls made (blocking and non-blocking, `MPI_Barrier` included), over all
    /// ranks: each rank's call counts once.
    pub fn collective_calls(&self) -> u64 {
        self.collectives().map(|(_, c)| c.calls).sum()
    }

    /// Payload bytes of those calls: what each rank contributed, summed over the ranks.
    pub fn collective_bytes(&self) -> u64 {
        self.collectives().map(|(_, c)| c.bytes).sum()
    }

    fn collectives(&self) -> impl Iterator<Item = (&Func, &Count)> {
        use mpi_grade_protocol::trace::FuncClass;
        self.counts.iter().filter(|(f, _)| {
            matches!(
                f.class(),
                FuncClass::Collective | FuncClass::NonBlockingCollective
            )
        })
    }

    /// Adds another cell's usage (for a part's total).
    pub fn add(&mut self, other: &Usage) {
        for (f, c) in &other.counts {
            let mine = self.counts.entry(*f).or_default();
            mine.calls += c.calls;
            mine.bytes += c.bytes;
        }
        for (f, s) in &other.sites {
            self.sites.entry(*f).or_insert_with(|| s.clone());
        }
    }

    /// The counts of one call when these cover `calls` identical calls.
    pub fn per_call(mut self, calls: u32) -> Usage {
        let calls = u64::from(calls.max(1));
        for c in self.counts.values_mut() {
            c.calls /= calls;
            c.bytes /= calls;
        }
        self
    }

    /// Counts keyed by C name, for reports.
    pub fn by_name(&self) -> BTreeMap<String, Count> {
        self.counts
            .iter()
            .map(|(f, c)| (f.name().to_string(), *c))
            .collect()
    }
}

/// The usage of plan cell `cell` across every rank's record. `submission` is the student's
/// crate, to find the call sites in it; `program` the driver the grade launched, the only
/// executable read for them (see [`stacks::symbolizer_of`]).
///
/// `native`: whether the ranks run a native driver whose line tables name the student's lines
/// (not a Python interpreter).
pub fn cell_usage(
    traces: &TraceDir,
    cell: u32,
    submission: Option<&Path>,
    program: Option<&Path>,
    native: bool,
) -> Usage {
    let mut usage = Usage::default();
    if cell as usize >= MAX_CELLS {
        return usage;
    }
    let mut symbolizer: Option<Option<Symbolizer>> = None;
    for rank in 0..traces.ranks() {
        let record = traces.record(rank);
        if !record.is_initialised() {
            usage.ranks.push(None);
            continue;
        }
        let counters = &record.cells[cell as usize];
        usage.ranks.push(Some(RankTraffic {
            sent_to_others: counters.sent_to_others.load(Relaxed),
            marks: counters.marks.load(Relaxed),
        }));
        for (i, fc) in counters.funcs.iter().enumerate() {
            let calls = fc.calls.load(Relaxed);
            if calls == 0 {
                continue;
            }
            let func = Func::from_index(i as u32).expect("counters are indexed by Func");
            let c = usage.counts.entry(func).or_default();
            c.calls += calls;
            c.bytes += fc.bytes.load(Relaxed);
        }
        let sites = record.header.nsites.load(Acquire) as usize;
        for site in record.sites.iter().take(sites) {
            if site.cell.load(Acquire) != cell + 1 {
                continue;
            }
            let Some(func) = Func::from_index(site.func.load(Relaxed)) else {
                continue;
            };
            if usage.sites.contains_key(&func) || !native {
                continue;
            }
            let symbolizer =
                symbolizer.get_or_insert_with(|| stacks::symbolizer_of(traces, rank, program));
            let Some(symbolizer) = symbolizer else {
                continue;
            };
            let depth = (site.depth.load(Relaxed) as usize).min(site.ips.len());
            let ips: Vec<u64> = site.ips[..depth]
                .iter()
                .map(|ip| ip.load(Relaxed))
                .collect();
            let frames = symbolizer.frames(&ips);
            if let Some(frame) = stacks::pick(&frames, submission) {
                usage.sites.insert(func, frame.display(submission));
            }
        }
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_count_every_kind_of_send_once() {
        let mut u = Usage::default();
        u.counts.insert(
            Func::Send,
            Count {
                calls: 3,
                bytes: 24,
            },
        );
        u.counts.insert(
            Func::Isend,
            Count {
                calls: 2,
                bytes: 16,
            },
        );
        u.counts.insert(Func::Mprobe, Count { calls: 5, bytes: 0 });
        assert_eq!(u.messages(), 5);
        assert_eq!(u.message_bytes(), 40);
        assert_eq!(u.collective_calls(), 0);
        let mut c = Usage::default();
        c.counts.insert(
            Func::Bcast,
            Count {
                calls: 2,
                bytes: 80,
            },
        );
        c.counts.insert(Func::Barrier, Count { calls: 2, bytes: 0 });
        c.counts.insert(Func::Send, Count { calls: 1, bytes: 8 });
        assert_eq!((c.collective_calls(), c.collective_bytes()), (4, 80));
        assert_eq!(c.messages(), 1);
        let mut total = Usage::default();
        total.add(&u);
        total.add(&u);
        assert_eq!(
            total.counts[&Func::Send],
            Count {
                calls: 6,
                bytes: 48
            }
        );
        assert_eq!(total.by_name()["MPI_Isend"].calls, 4);
    }

    fn traffic(ranks: &[(u64, u64)]) -> Usage {
        Usage {
            ranks: ranks
                .iter()
                .map(|&(sent_to_others, marks)| {
                    Some(RankTraffic {
                        sent_to_others,
                        marks,
                    })
                })
                .collect(),
            ..Usage::default()
        }
    }

    #[test]
    fn a_real_exchange_with_the_runtimes_marks_passes() {
        // 3 ranks, 100 elements: each sends 2 blocks of 800 B per call, 3 calls.
        assert_eq!(
            cell_problem(
                &traffic(&[(4800, 6), (5000, 6), (4800, 6)]),
                &[1600; 3],
                100,
                3
            ),
            None
        );
        // One rank alone sends nothing, and a rank the tracer did not record is not judged.
        assert_eq!(cell_problem(&traffic(&[(0, 2)]), &[0], 100, 1), None);
        let mut u = traffic(&[(1600, 2)]);
        u.ranks.push(None);
        assert_eq!(cell_problem(&u, &[800; 2], 100, 1), None);
    }

    #[test]
    fn too_little_traffic_or_extra_marks_fail() {
        assert_eq!(
            cell_problem(
                &traffic(&[(1600, 2), (800, 2), (1600, 2)]),
                &[1600; 3],
                100,
                1
            ),
            Some((
                1,
                Problem::Traffic {
                    sent: 800,
                    needed: 1600,
                    elements: 100
                }
            ))
        );
        // A student's MPI_Pcontrol(0) and the runtime's: three marks in one call.
        assert_eq!(
            cell_problem(&traffic(&[(800, 2), (800, 3)]), &[800; 2], 100, 1),
            Some((1, Problem::Pcontrol { extra: 1 }))
        );
    }
}
