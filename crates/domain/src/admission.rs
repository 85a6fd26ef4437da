//! The checks a node runs on an event *before* it is queued for `decide`, with its own clock:
//! not dated in the future, not backdated further than the ledger allows. They are not part
//! of `decide`, which reads no clock: replays, rebuilds and mirrors never run them, so an
//! entry admitted once stays valid on every replay.

use crate::date::Date;
use crate::event::{EventKind, SignedEvent, Signer};
use crate::rejection::Rejection;

/// Days an event's date may run ahead of the admitting node's UTC date (the ledgers keep
/// China time, UTC+8, so "today" there is up to a day ahead of UTC).
pub const FUTURE_DATE_TOLERANCE_DAYS: i32 = 1;

/// The admission check against backdating, when the ledger bounds it (`days_max` > 0,
/// `ledger.toml` `[sequencer] backdate_days_max`): an event signed by an evaluation body may
/// not be dated more than `days_max` days before `today`. A thief holding a body's key can
/// then date its events at most that far back, whatever rotation it is dodging; events signed
/// by the authority (which records history, e.g. when a ledger takes over older credentials)
/// are not bounded. Like [`check_not_dated_in_future`] it reads the admitting node's clock,
/// so it is not part of `decide`: replays never run it.
pub fn check_not_backdated(
    signed: &SignedEvent,
    today: Date,
    days_max: u32,
) -> Result<(), Rejection> {
    if days_max == 0 || !matches!(signed.signer, Signer::Body(_)) {
        return Ok(());
    }
    let date = signed.event.kind.date();
    let earliest_days = today
        .days_since_unix_epoch()
        .saturating_sub(i32::try_from(days_max).unwrap_or(i32::MAX));
    if date.days_since_unix_epoch() < earliest_days {
        return Err(Rejection::DatedTooFarBack {
            date,
            earliest: Date::from_days_since_unix_epoch(earliest_days).unwrap_or(date),
            days_max,
        });
    }
    Ok(())
}

/// The admission check a node runs with its own clock *before* an event is queued for
/// `decide`: the event's date ([`EventKind::date`]: issue, effective or adoption date) is
/// not after `today` (plus [`FUTURE_DATE_TOLERANCE_DAYS`]). It is not part of `decide`,
/// which reads no clock: replays, rebuilds and mirrors never run it, so an entry admitted
/// once stays valid on every replay.
pub fn check_not_dated_in_future(kind: &EventKind, today: Date) -> Result<(), Rejection> {
    let date = kind.date();
    if date.days_since_unix_epoch()
        > today
            .days_since_unix_epoch()
            .saturating_add(FUTURE_DATE_TOLERANCE_DAYS)
    {
        return Err(Rejection::DatedInFuture { date, today });
    }
    Ok(())
}
