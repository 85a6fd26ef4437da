//! Concurrent submitters: every acknowledgement names its own entry, and the log holds
//! exactly the accepted events.

mod common;

use std::collections::BTreeSet;

use common::*;
use skill_ledger_domain::{EventKind, Level, SignedEvent};
use skill_ledger_node::{Node, SubmitError};

const THREADS: usize = 4;
const EVENTS_PER_THREAD: usize = 200;

/// What one submitting thread saw.
#[derive(Default)]
struct Seen {
    accepted: Vec<(u64, SignedEvent)>,
    rejected: usize,
}

/// Checks every acknowledgement names a distinct entry that holds exactly that event, and
/// that the log holds nothing else after the setup.
fn check_distinct_entries(node: &Node, seen: &[Seen]) {
    let accepted: Vec<&(u64, SignedEvent)> =
        seen.iter().flat_map(|thread| &thread.accepted).collect();
    let indexes: BTreeSet<u64> = accepted.iter().map(|(index, _)| *index).collect();
    assert_eq!(
        indexes.len(),
        accepted.len(),
        "two receipts name the same entry"
    );
    let expected: BTreeSet<u64> = (SETUP_ENTRIES..SETUP_ENTRIES + accepted.len() as u64).collect();
    assert_eq!(
        indexes, expected,
        "accepted entries are contiguous after the setup"
    );
    assert_eq!(
        node.entry_count(),
        accepted.len() as u64 + INIT_ENTRIES + REGISTRATIONS
    );
    for (index, signed) in accepted {
        assert_eq!(
            &node.read_event(*index).expect("read entry"),
            signed,
            "entry {index}"
        );
    }
}

#[test]
fn given_four_threads_when_each_submits_two_hundred_events_then_every_receipt_has_its_own_entry() {
    let (fx, node) = Fixture::init();
    let seen: Vec<Seen> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (fx, node) = (&fx, &node);
                scope.spawn(move || {
                    let mut seen = Seen::default();
                    for n in 0..EVENTS_PER_THREAD {
                        let document = format!("5001{thread:02}19900101{n:04}");
                        let body = if n % 2 == 0 { y_body() } else { s_body() };
                        // Every tenth event is out of the S body's scope: rejected.
                        let level = if n % 10 == 9 {
                            Level::Technician
                        } else {
                            Level::Junior
                        };
                        let route = if level == Level::Junior {
                            attested()
                        } else {
                            prior()
                        };
                        let certified = fx.certified(
                            &body,
                            &document,
                            "张三",
                            turner(),
                            level,
                            "2021-06-01",
                            route,
                        );
                        let signed = fx.by_body(&body, EventKind::LevelCertified(certified));
                        match node.submit(signed.clone()) {
                            Ok(receipt) => {
                                assert!(!receipt.duplicate);
                                seen.accepted.push((receipt.index, signed));
                            }
                            Err(SubmitError::Rejected(rejection)) => {
                                assert_eq!(rejection.code(), "out-of-scope");
                                seen.rejected += 1;
                            }
                            Err(other) => panic!("submission failed: {other}"),
                        }
                    }
                    seen
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().expect("submitter thread"))
            .collect()
    });

    let rejected: usize = seen.iter().map(|thread| thread.rejected).sum();
    assert_eq!(
        rejected,
        THREADS * EVENTS_PER_THREAD / 10,
        "the S body's technician events"
    );
    check_distinct_entries(&node, &seen);
    let accepted = (THREADS * EVENTS_PER_THREAD - rejected) as i64;
    assert_eq!(
        node.stats().expect("stats").get("certificates.issued"),
        Some(&accepted)
    );
    assert_eq!(
        node.checkpoint().expect("checkpoint").checkpoint.size,
        node.entry_count()
    );
}
