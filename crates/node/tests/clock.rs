//! The node's clock: admission (an event dated after the node's date, beyond one day of
//! tolerance for China time, is refused before it reaches `decide`, writes nothing, and is
//! counted as a rejection; a replay never applies the check), and a wall clock stepped back
//! (checkpoint times never go backwards, and the node keeps acknowledging).

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::*;
use skill_ledger_domain::{Date, EventKind, Level};
use skill_ledger_node::{Clock, Node};

/// A clock stopped at noon UTC of one day.
struct FixedClock(Date);

impl Clock for FixedClock {
    fn now_unix_s(&self) -> u64 {
        self.0.days_since_unix_epoch() as u64 * 86_400 + 12 * 3_600
    }
}

fn junior_issued(fx: &Fixture, document: &str, issued: &str) -> skill_ledger_domain::SignedEvent {
    let body = y_body();
    let certified = fx.certified(
        &body,
        document,
        "张三",
        turner(),
        Level::Junior,
        issued,
        attested(),
    );
    fx.by_body(&body, EventKind::LevelCertified(certified))
}

#[test]
fn given_a_node_whose_date_is_2024_06_01_when_an_event_is_dated_later_then_it_is_refused_and_nothing_is_written(
) {
    let (fx, node) = Fixture::init();
    node.close().expect("close");
    let clock = Arc::new(FixedClock(d("2024-06-01")));
    let (node, _) = Node::open_with_clock(&fx.path(), clock).expect("reopen");
    let log_before = snapshot(&fx.log_dir());

    // Two days ahead: refused, typed, nothing written.
    let message = check_rejected(
        node.submit(junior_issued(&fx, "500101199001011234", "2024-06-03")),
        "dated-in-future",
    );
    assert!(message.contains("2024-06-03"), "{message}");
    assert_eq!(node.entry_count(), SETUP_ENTRIES);
    assert_eq!(snapshot(&fx.log_dir()), log_before, "the log changed");
    assert_eq!(node.metrics().rejections().get("dated-in-future"), Some(&1));

    // A revocation effective in the future is refused the same way.
    let accepted = junior_issued(&fx, "500101199001011235", "2024-05-01");
    let number = number_of(&accepted);
    node.submit(accepted).expect("dated before today: accepted");
    check_rejected(
        node.submit(fx.revocation(&y_body(), number, "2025-01-01")),
        "dated-in-future",
    );

    // The node's date and the next day (China is ahead of UTC) are accepted.
    node.submit(junior_issued(&fx, "500101199001011236", "2024-06-01"))
        .expect("dated today");
    node.submit(junior_issued(&fx, "500101199001011237", "2024-06-02"))
        .expect("dated tomorrow (UTC), today in China");
    node.close().expect("close");

    // A node whose clock is earlier still opens and replays the log: admission is not a rule
    // of the log.
    let clock = Arc::new(FixedClock(d("2020-01-01")));
    let (node, _) = Node::open_with_clock(&fx.path(), clock).expect("reopen with an older clock");
    assert_eq!(node.entry_count(), SETUP_ENTRIES + 3);
}

/// A clock the test sets.
struct SetClock(Arc<AtomicU64>);

impl Clock for SetClock {
    fn now_unix_s(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[test]
fn given_a_running_node_when_its_wall_clock_steps_back_then_it_keeps_acknowledging_with_times_that_never_go_back(
) {
    let (fx, node) = Fixture::init();
    let signed_time = node
        .checkpoint()
        .expect("checkpoint")
        .checkpoint
        .time_unix_s;
    node.close().expect("close");
    let now = Arc::new(AtomicU64::new(signed_time + 3_600));
    let (node, _) =
        Node::open_with_clock(&fx.path(), Arc::new(SetClock(now.clone()))).expect("reopen");
    let first = node
        .submit(junior_issued(&fx, "500101199001011234", "2021-06-01"))
        .expect("accepted");
    assert_eq!(first.checkpoint.checkpoint.time_unix_s, signed_time + 3_600);

    // NTP steps the clock back by two hours.
    now.store(signed_time - 3_600, Ordering::Relaxed);
    let second = node
        .submit(junior_issued(&fx, "500101199001011235", "2021-06-01"))
        .expect("still accepted after the clock stepped back");
    assert!(node.stopped().is_none(), "{:?}", node.stopped());
    assert!(
        second.checkpoint.checkpoint.time_unix_s >= first.checkpoint.checkpoint.time_unix_s,
        "checkpoint time went backwards"
    );
    assert_eq!(second.checkpoint.checkpoint.size, SETUP_ENTRIES + 2);
}
