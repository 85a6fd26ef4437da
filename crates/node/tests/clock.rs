//! The node's clock: a wall clock stepped back (checkpoint times never go backwards, and the
//! node keeps acknowledging).

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::*;
use skill_ledger_domain::{EventKind, Level};
use skill_ledger_node::{Clock, Node};

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
