//! Rebuild equals incremental: the projections a node maintains batch by batch are exactly
//! the fold of its log, and its decisions are those of the reference `MemoryLedger`.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;
use skill_ledger_domain::{
    apply, decide, CertificateNumber, EventKind, Level, LevelCertified, MemoryLedger,
    OccupationCode, RecordView, Rejection, SignedEvent,
};
use skill_ledger_log::{Log, LogOptions};
use skill_ledger_node::store::{Store, StoreOptions};
use skill_ledger_node::{
    rebuild, rebuild_with, Clock, Node, NodeError, NodeErrorKind, PendingReceipt, RebuildOptions,
    RebuildReport, Receipt, SubmitError,
};

/// Checks that a full rebuild of the closed ledger at `fx` reproduces `digest` exactly.
fn check_rebuild_reproduces(fx: &Fixture, digest: [u8; 32], entries: u64) {
    let mut progress = Vec::new();
    let report =
        rebuild(&fx.path(), &mut |done, total| progress.push((done, total))).expect("rebuild");
    assert_eq!(report.entries, entries);
    assert_eq!(
        report.digest_before,
        Some(digest),
        "digest before the rebuild"
    );
    assert_eq!(report.digest_after, digest, "digest after the rebuild");
    assert_eq!(
        progress.last(),
        Some(&(entries, entries)),
        "progress ends at the end"
    );
    for leftover in ["projections.rebuild", "projections.old"] {
        assert!(!fx.path().join(leftover).exists(), "{leftover} is gone");
    }
}

#[test]
fn given_a_ledger_with_history_when_it_is_rebuilt_then_the_projections_are_unchanged() {
    let (fx, node) = Fixture::init();
    let (y, s) = (y_body(), s_body());
    let mut issued = Vec::new();
    for n in 0..20 {
        let body = if n % 3 == 0 { &s } else { &y };
        let signed = fx.junior(body, &format!("50010119900101{n:04}"), "张三");
        node.submit(signed.clone()).expect("accepted");
        issued.push((body.clone(), signed));
    }
    for (body, signed) in issued.iter().step_by(4) {
        node.submit(fx.revocation(body, number_of(signed), "2022-01-01"))
            .expect("revocation accepted");
    }
    let entries = node.entry_count();
    let digest = node.projection_digest().expect("digest");
    let stats = node.stats().expect("stats");
    node.close().expect("close");

    check_rebuild_reproduces(&fx, digest, entries);

    let (node, report) = fx.reopen().expect("reopen after the rebuild");
    assert_eq!(report.replayed, 0);
    assert_eq!(node.stats().expect("stats"), stats);
    assert!(!node
        .credential(&number_of(&issued[0].1))
        .expect("query")
        .expect("credential")
        .is_valid());
}

/// A closed ledger of a few accepted certifications, and its projection digest.
fn small_closed_ledger() -> (Fixture, [u8; 32], u64) {
    let (fx, node) = Fixture::init();
    for n in 0..5 {
        node.submit(fx.junior(&y_body(), &format!("50010119900101{n:04}"), "张三"))
            .expect("accepted");
    }
    let digest = node.projection_digest().expect("digest");
    let entries = node.entry_count();
    node.close().expect("close");
    (fx, digest, entries)
}

/// Writes entries straight into the log of a closed ledger, bypassing the sequencer, as
/// someone with access to the files could; the node replays them at its next open.
fn smuggle_into_log(fx: &Fixture, events: &[SignedEvent]) {
    let (mut log, _) =
        Log::open(&fx.log_dir(), LogOptions::default(), 0).expect("open the log directly");
    let entries: Vec<Vec<u8>> = events
        .iter()
        .map(|signed| signed.to_entry().expect("entry bytes"))
        .collect();
    let slices: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    log.append_batch(&slices).expect("append");
}

#[test]
fn given_a_sound_ledger_when_rebuilt_verifying_signatures_then_the_projections_are_unchanged() {
    let (fx, digest, entries) = small_closed_ledger();
    let report = rebuild_with(
        &fx.path(),
        RebuildOptions {
            verify_signatures: true,
        },
        &mut |_, _| {},
    )
    .expect("rebuild verifying every signature");
    assert!(report.verified_signatures);
    assert_eq!(report.entries, entries);
    assert_eq!(report.digest_after, digest);
}

#[test]
fn given_an_entry_with_a_forged_signature_in_the_log_when_rebuilt_verifying_then_it_is_named() {
    let (fx, _, entries) = small_closed_ledger();
    let mut forged = fx.junior(&y_body(), "500101199001019999", "李四");
    forged.signature[10] ^= 0x01;
    smuggle_into_log(&fx, &[forged]);
    // The default rebuild trusts entries the log holds (their Merkle root is what the node
    // signs); re-verification finds the one that never passed the sequencer.
    rebuild(&fx.path(), &mut |_, _| {}).expect("the default rebuild does not look");
    let error = rebuild_with(
        &fx.path(),
        RebuildOptions {
            verify_signatures: true,
        },
        &mut |_, _| {},
    )
    .expect_err("the forged signature is found");
    assert_eq!(error.kind(), NodeErrorKind::Integrity, "{error}");
    assert!(
        error
            .to_string()
            .contains(&format!("entry {entries}: its signature does not verify")),
        "{error}"
    );
}

/// Smuggles 26,000 juniors (a little over three replay batches of 8,192 entries) into a small
/// closed ledger, the ones at the log indexes `forged` with a spoiled signature, and rebuilds
/// it verifying every signature.
fn rebuild_with_forged_entries(forged: &[u64]) -> (Result<RebuildReport, NodeError>, Fixture) {
    let (fx, _, entries) = small_closed_ledger();
    let smuggled: Vec<SignedEvent> = (0..26_000u64)
        .map(|n| {
            let mut signed = fx.junior(&y_body(), &format!("5001011990{n:08}"), "李四");
            if forged.contains(&(entries + n)) {
                signed.signature[10] ^= 0x01;
            }
            signed
        })
        .collect();
    smuggle_into_log(&fx, &smuggled);
    let report = rebuild_with(
        &fx.path(),
        RebuildOptions {
            verify_signatures: true,
        },
        &mut |_, _| {},
    );
    (report, fx)
}

/// Given forged signatures in two batches that different replay readers verify, when the
/// ledger is rebuilt verifying, then the first forged entry in log order is the one named,
/// whichever reader finishes first.
#[test]
fn given_forged_signatures_in_several_batches_when_rebuilt_verifying_then_the_first_is_named() {
    for forged in [
        [8_192 + 100, 2 * 8_192 + 5],
        [2 * 8_192 + 5, 3 * 8_192 + 10],
    ] {
        let (report, _fx) = rebuild_with_forged_entries(&forged);
        let error = report.expect_err("a forged signature is found");
        assert_eq!(error.kind(), NodeErrorKind::Integrity, "{error}");
        assert!(
            error.to_string().contains(&format!(
                "entry {}: its signature does not verify",
                forged[0]
            )),
            "{forged:?}: {error}"
        );
    }
}

/// Given a ledger of several replay batches, all sound, when rebuilt verifying, then every
/// entry is replayed in order and the projections are those of the trusting rebuild.
#[test]
fn given_a_ledger_of_several_batches_when_rebuilt_verifying_then_it_equals_the_trusting_rebuild() {
    let (report, fx) = rebuild_with_forged_entries(&[]);
    let verified = report.expect("a sound ledger rebuilds verifying");
    assert!(verified.verified_signatures);
    let trusted = rebuild(&fx.path(), &mut |_, _| {}).expect("trusting rebuild");
    assert_eq!(verified.entries, trusted.entries);
    assert!(verified.entries > 3 * 8_192);
    assert_eq!(verified.digest_after, trusted.digest_after);
}

#[test]
fn given_an_entry_breaking_the_rules_in_the_log_when_rebuilt_verifying_then_it_is_named() {
    let (fx, _, entries) = small_closed_ledger();
    // Validly signed by a registered body, but a second certificate under a number the
    // ledger already holds: the sequencer would have refused it.
    let first = fx.junior(&y_body(), "500101199001017777", "张三");
    let number = number_of(&first);
    let mut again = fx.junior(&y_body(), "500101199001018888", "王五");
    if let EventKind::LevelCertified(certified) = &mut again.event.kind {
        certified.certificate_number = number;
    }
    let again = fx.by_body(&y_body(), again.event.kind.clone());
    smuggle_into_log(&fx, &[first, again]);
    let error = rebuild_with(
        &fx.path(),
        RebuildOptions {
            verify_signatures: true,
        },
        &mut |_, _| {},
    )
    .expect_err("the rule breach is found");
    assert_eq!(error.kind(), NodeErrorKind::Integrity, "{error}");
    assert!(
        error
            .to_string()
            .contains(&format!("entry {} breaks the ledger's rules", entries + 1)),
        "{error}"
    );
}

#[test]
fn given_an_open_node_when_a_rebuild_is_attempted_then_the_directory_lock_refuses_it() {
    let (fx, node) = Fixture::init();
    let error = rebuild(&fx.path(), &mut |_, _| {}).expect_err("the directory is locked");
    assert_eq!(error.kind(), NodeErrorKind::Directory, "{error}");
    assert!(error.to_string().contains("in use"), "{error}");
    node.submit(fx.junior(&y_body(), "500101199001011234", "张三"))
        .expect("the node still works");
}

/// One generated submission.
#[derive(Clone, Debug)]
enum Op {
    /// A certification; `s_body` picks the issuer, `person` one of a handful of subjects.
    Certify {
        s_body: bool,
        person: u8,
        occupation: u8,
        level: u8,
        year: u8,
        prior: bool,
    },
    /// A new event that reuses an earlier certificate number for another person.
    ReuseNumber { target: Index, person: u8 },
    /// A revocation of an earlier certificate number, by its issuer or by the other body.
    Revoke {
        target: Index,
        by_issuer: bool,
        year: u8,
    },
    /// A certification whose signature is broken.
    Forged { person: u8 },
    /// An earlier submission again, byte for byte.
    Resubmit { target: Index },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (
            prop::bool::weighted(0.3),
            0..5u8,
            0..8u8,
            prop_oneof![4 => Just(1u8), 3 => Just(2u8), 2 => Just(3u8), 1 => Just(4u8)],
            0..12u8,
            any::<bool>(),
        )
            .prop_map(
            |(s_body, person, occupation, level, year, prior)| Op::Certify {
                s_body,
                person,
                occupation,
                level,
                year,
                prior,
            }
        ),
        1 => (any::<Index>(), 0..5u8).prop_map(|(target, person)| Op::ReuseNumber { target, person }),
        3 => (any::<Index>(), prop::bool::weighted(0.8), 0..12u8)
            .prop_map(|(target, by_issuer, year)| Op::Revoke { target, by_issuer, year }),
        1 => (0..5u8).prop_map(|person| Op::Forged { person }),
        1 => any::<Index>().prop_map(|target| Op::Resubmit { target }),
    ]
}

/// Generated submissions, each with whether to wait for the answers queued so far after it.
fn ops() -> impl Strategy<Value = Vec<(Op, bool)>> {
    prop::collection::vec((op(), prop::bool::weighted(0.1)), 1..200)
}

/// Turns generated operations into signed events, remembering what it made.
struct Generator<'a> {
    fx: &'a Fixture,
    certified: Vec<LevelCertified>,
    /// The certifications the model accepted: what revocations and reused numbers refer to.
    issued: Vec<LevelCertified>,
    /// Every submission so far, and whether its signature was broken on purpose.
    submitted: Vec<(SignedEvent, bool)>,
}

impl Generator<'_> {
    fn document(person: u8) -> String {
        format!("5001011990010{person:05}")
    }

    fn body(s: bool) -> Body {
        if s {
            s_body()
        } else {
            y_body()
        }
    }

    fn body_of(number: &CertificateNumber) -> Body {
        Self::body(number.registration_number() == s_body().number)
    }

    /// Mostly 车工 (both bodies), some 焊工 (Y only), a little 中式烹调师 (nobody).
    fn occupation(code: u8) -> OccupationCode {
        match code {
            0..=4 => turner(),
            5 | 6 => welder(),
            _ => cook(),
        }
    }

    fn certify(&mut self, body: &Body, certified: LevelCertified) -> SignedEvent {
        self.certified.push(certified.clone());
        self.fx.by_body(body, EventKind::LevelCertified(certified))
    }

    /// The signed event for `op`, and whether its signature is broken.
    fn event(&mut self, op: &Op) -> (SignedEvent, bool) {
        let fx = self.fx;
        let (signed, forged) = match op {
            Op::Certify {
                s_body,
                person,
                occupation,
                level,
                year,
                prior: use_prior,
            } => {
                let body = Self::body(*s_body);
                let level = Level::from_rank(*level).expect("a certifiable level");
                let certified = fx.certified(
                    &body,
                    &Self::document(*person),
                    &format!("持证人{person}"),
                    Self::occupation(*occupation),
                    level,
                    &format!("{}-06-01", 2019 + u32::from(*year)),
                    if *use_prior { prior() } else { attested() },
                );
                (self.certify(&body, certified), false)
            }
            Op::ReuseNumber { target, person } if !self.issued.is_empty() => {
                let mut certified = target.get(&self.issued).clone();
                certified.subject = fx.subject(&Self::document(*person));
                let body = Self::body_of(&certified.certificate_number);
                (self.certify(&body, certified), false)
            }
            Op::Revoke {
                target,
                by_issuer,
                year,
            } if !self.certified.is_empty() => {
                // Mostly credentials on the ledger, sometimes any number ever generated.
                let pool = if self.issued.is_empty() || target.index(4) == 0 {
                    &self.certified
                } else {
                    &self.issued
                };
                let number = target.get(pool).certificate_number;
                let issuer = Self::body_of(&number);
                let signer = if *by_issuer {
                    issuer
                } else {
                    Self::body(issuer.number != s_body().number)
                };
                let effective = format!("{}-09-01", 2019 + u32::from(*year));
                (fx.revocation(&signer, number, &effective), false)
            }
            Op::Resubmit { target } if !self.submitted.is_empty() => {
                target.get(&self.submitted).clone()
            }
            Op::Forged { person } => {
                let mut signed = fx.junior(&y_body(), &Self::document(*person), "伪造");
                signed.signature[0] ^= 0x80;
                (signed, true)
            }
            // Nothing to refer to yet: a revocation of a number nobody issued.
            _ => {
                let unknown =
                    CertificateNumber::compose(y_body().number, 2021, Level::Junior, 999_999)
                        .expect("certificate number");
                (fx.revocation(&y_body(), unknown, "2022-01-01"), false)
            }
        };
        self.submitted.push((signed.clone(), forged));
        (signed, forged)
    }
}

/// An answer as compared: `(index, duplicate)` or the rejection code.
type Answer = Result<(u64, bool), String>;

/// What the reference model says the node must answer. The model decides like
/// `MemoryLedger::submit` but takes the signature check from the generator (`forged`): a
/// debug-build Ed25519 verification costs ~10 ms, and the node verifies every one anyway.
fn expected_answer(model: &mut MemoryLedger, signed: &SignedEvent, forged: bool) -> Answer {
    if let Some(first_index) = model.event_index(&signed.event.id) {
        return if model.entries[first_index as usize] == *signed {
            Ok((first_index, true))
        } else {
            Err(Rejection::DuplicateEventId {
                event_id: signed.event.id,
                first_index,
            }
            .code()
            .to_string())
        };
    }
    if forged {
        return Err(Rejection::BadSignature.code().to_string());
    }
    decide(&model.registry, model, signed).map_err(|rejection| rejection.code().to_string())?;
    let index = model.entries.len() as u64;
    let changes = apply(&model.registry, model, signed, index);
    model.absorb(changes);
    model.entries.push(signed.clone());
    Ok((index, false))
}

/// Checks the node answered what the model decided.
fn check_answer(answer: Result<Receipt, SubmitError>, expected: Answer, signed: &SignedEvent) {
    let found = match answer {
        Ok(receipt) => Ok((receipt.index, receipt.duplicate)),
        Err(SubmitError::Rejected(rejection)) => Err(rejection.code().to_string()),
        Err(other) => panic!("submission failed: {other}"),
    };
    assert_eq!(found, expected, "answer to {signed:?}");
}

/// Checks the node's projections against the fold of its own log.
fn check_projections_are_the_fold(node: &Node, model: &MemoryLedger) {
    let entries: Vec<SignedEvent> = (0..node.entry_count())
        .map(|index| node.read_event(index).expect("read entry"))
        .collect();
    assert_eq!(
        entries, model.entries,
        "the log holds what the model accepted"
    );
    let fold = MemoryLedger::fold(&entries);
    assert_eq!(node.stats().expect("stats"), fold.stats, "statistics");
    for (number, record) in &fold.credentials {
        assert_eq!(
            node.credential(number).expect("query").as_ref(),
            Some(record)
        );
    }
    for (subject, record) in &fold.persons {
        assert_eq!(node.person(subject).expect("query").as_ref(), Some(record));
    }
    assert_eq!(fold.stats, model.stats, "fold equals the incremental model");
}

/// A clock in 2100: the generated dates (up to 2030) are never refused at admission as dated
/// in the future, which the model (`decide` only, no clock) knows nothing of.
struct Year2100;

impl Clock for Year2100 {
    fn now_unix_s(&self) -> u64 {
        4_102_444_800
    }
}

fn run(ops: &[(Op, bool)]) {
    let (fx, node) = Fixture::init();
    node.close().expect("close");
    let (node, _) =
        Node::open_with_clock(&fx.path(), std::sync::Arc::new(Year2100)).expect("reopen");
    let setup: Vec<SignedEvent> = (0..node.entry_count())
        .map(|index| node.read_event(index).expect("read entry"))
        .collect();
    let mut model = MemoryLedger::fold(&setup);
    let mut generator = Generator {
        fx: &fx,
        certified: Vec::new(),
        issued: Vec::new(),
        submitted: Vec::new(),
    };
    let mut queued: Vec<(PendingReceipt, Answer, SignedEvent)> = Vec::new();
    for (position, (op, wait)) in ops.iter().enumerate() {
        let (signed, forged) = generator.event(op);
        let expected = expected_answer(&mut model, &signed, forged);
        if let (Ok((_, false)), EventKind::LevelCertified(certified)) =
            (&expected, &signed.event.kind)
        {
            generator.issued.push(certified.clone());
        }
        let pending = node.submit_pending(signed.clone()).expect("queued");
        queued.push((pending, expected, signed));
        if *wait || position + 1 == ops.len() {
            for (pending, expected, signed) in queued.drain(..) {
                check_answer(pending.wait(), expected, &signed);
            }
        }
    }
    check_projections_are_the_fold(&node, &model);
    let entries = node.entry_count();
    let digest = node.projection_digest().expect("digest");
    node.close().expect("close");
    check_rebuild_reproduces(&fx, digest, entries);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 8,
        max_shrink_iters: 200,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn given_random_submissions_when_the_node_decides_them_then_projections_equal_the_fold_and_a_rebuild(
        ops in ops()
    ) {
        run(&ops);
    }
}

/// Given a re-verifying rebuild that stops at a forged entry, when the ledger reopens, then
/// the projections are the ones from before the rebuild (the rebuild wrote into a database of
/// its own), and that database's leftover is removed.
#[test]
fn given_a_rebuild_that_fails_part_way_when_the_ledger_reopens_then_the_old_projections_stand() {
    let (fx, digest, entries) = small_closed_ledger();
    let forged = {
        let mut forged = fx.junior(&y_body(), "500101199001019999", "李四");
        forged.signature[10] ^= 0x01;
        forged
    };
    smuggle_into_log(&fx, &[forged]);
    let (node, _) = fx.reopen().expect("reopen");
    let before = node.projection_digest().expect("digest");
    node.close().expect("close");
    rebuild_with(
        &fx.path(),
        RebuildOptions {
            verify_signatures: true,
        },
        &mut |_, _| {},
    )
    .expect_err("the forged signature is found");
    assert!(
        fx.path().join("projections.rebuild").exists(),
        "the failed rebuild left its own database, not the ledger's"
    );

    let (node, report) = fx.reopen().expect("reopen");
    assert!(!report.projections_rebuilt);
    assert_eq!(report.replayed, 0);
    assert_eq!(node.projection_digest().expect("digest"), before);
    assert_ne!(
        before, digest,
        "the smuggled entry is folded (trusted) at reopen"
    );
    assert_eq!(node.entry_count(), entries + 1);
    assert!(!fx.path().join("projections.rebuild").exists());
}

/// Given a crash between the two renames that swap a rebuilt database in (the old one moved
/// aside, the new one not yet in place), when the ledger reopens, then it rebuilds from the
/// log, reproducing the projections, and removes both leftovers.
#[test]
fn given_a_crash_while_swapping_in_a_rebuild_when_the_ledger_reopens_then_it_rebuilds() {
    let (fx, digest, _) = small_closed_ledger();
    std::fs::rename(
        fx.path().join("projections"),
        fx.path().join("projections.old"),
    )
    .expect("move aside");
    std::fs::create_dir(fx.path().join("projections.rebuild")).expect("half a rebuild");

    let (node, report) = fx.reopen().expect("reopen");
    assert!(report.projections_rebuilt, "no projections: rebuilt");
    assert_eq!(node.projection_digest().expect("digest"), digest);
    for leftover in ["projections.rebuild", "projections.old"] {
        assert!(!fx.path().join(leftover).exists(), "{leftover} is removed");
    }
}

#[test]
fn given_projections_of_an_older_layout_when_the_node_opens_then_they_are_rebuilt_not_misread() {
    let (fx, node) = Fixture::init();
    let y = y_body();
    let signed = fx.junior(&y, "500101199001010001", "张三");
    node.submit(signed.clone()).expect("accepted");
    let digest = node.projection_digest().expect("digest");
    let credential = node.credential(&number_of(&signed)).expect("read");
    node.close().expect("close");

    // Projections written before the layout marker existed carry no `m/format`.
    {
        let store = Store::open(
            &fx.path().join("projections"),
            StoreOptions::with_cache(1 << 20),
        )
        .expect("sled");
        let tree = store.tree("projection").expect("tree");
        assert!(tree.remove(b"m/format").expect("remove").is_some());
        store.db().flush().expect("flush");
    }

    let (node, report) = fx.reopen().expect("reopen");
    assert!(report.projections_rebuilt, "an old layout is rebuilt");
    assert_eq!(node.projection_digest().expect("digest"), digest);
    assert_eq!(
        node.credential(&number_of(&signed)).expect("read"),
        credential
    );
}
