//! The mirror of a partner ledger, through a real partner node: catch-up, resumption without
//! refetching, growth, refusal of tampered or unverifiable data, rule violations and forks.

mod common;

use common::*;
use skill_ledger_domain::{CertificateNumber, CredentialStatus, EventKind};
use skill_ledger_log::{leaf_hash, parse_and_verify_checkpoint, verify_inclusion};
use skill_ledger_node::store::{Store, StoreOptions, StoreTree};
use skill_ledger_node::Node;
use skill_ledger_sync::{
    EvidenceKind, Mirror, NodeLog, PullReport, SyncError, SyncErrorKind, TransportError,
    TransportErrorKind,
};

/// What a failed pull must leave as it was.
#[derive(Debug, PartialEq, Eq)]
struct Held {
    cursor: u64,
    checkpoint_size: Option<u64>,
    credentials: u64,
    alarm: bool,
}

fn held(mirror: &Mirror) -> Held {
    let status = mirror.status().expect("status");
    Held {
        cursor: status.cursor,
        checkpoint_size: status.checkpoint.map(|checkpoint| checkpoint.size),
        credentials: status.credentials,
        alarm: status.alarm.is_some(),
    }
}

fn open_mirror(home: &HomeLedger, partner: &Partner) -> Mirror {
    Mirror::open(&home.home, &partner.config()).expect("open the mirror")
}

fn pull(mirror: &mut Mirror, log: &dyn skill_ledger_sync::PartnerLog) -> PullReport {
    mirror
        .pull(log, &options(), &mut |_| {})
        .expect("pull succeeds")
}

/// Every credential of the partner node is in the mirror with the same record, and the leaf
/// hash of the entry that certified it.
fn check_mirrors(mirror: &Mirror, partner: &Partner, numbers: &[CertificateNumber]) {
    for number in numbers {
        let expected = partner
            .node
            .credential(number)
            .expect("partner query")
            .expect("partner holds it");
        let found = mirror
            .credential(number)
            .expect("mirror query")
            .unwrap_or_else(|| panic!("{number} is not mirrored"));
        assert_eq!(found.record, expected, "record of {number}");
        let entry = partner
            .node
            .log_reader()
            .read(expected.entry_index)
            .expect("read the entry");
        assert_eq!(found.leaf_hash, leaf_hash(&entry), "leaf hash of {number}");
    }
}

fn check_refused(
    result: Result<PullReport, SyncError>,
    kind: SyncErrorKind,
    names: &str,
) -> String {
    match result {
        Err(error) => {
            assert_eq!(error.kind(), kind, "error: {error}");
            assert!(
                error.message().contains(names),
                "the error should name {names:?}: {error}"
            );
            error.to_string()
        }
        Ok(report) => panic!("expected {kind:?}, the pull succeeded: {report:?}"),
    }
}

#[test]
fn given_a_partner_ledger_when_the_mirror_pulls_then_it_holds_every_credential() {
    let partner = Partner::sichuan();
    let numbers = partner.issue(600, "a");
    partner.revoke(numbers[7]);
    let home = HomeLedger::chongqing();
    let mut mirror = open_mirror(&home, &partner);

    let mut progress = Vec::new();
    let report = mirror
        .pull(&NodeLog::new(&partner.node), &options(), &mut |p| {
            progress.push(p)
        })
        .expect("pull");

    let size = partner.node.entry_count();
    assert_eq!(size, SETUP_ENTRIES + 601);
    assert!(report.caught_up(), "{report:?}");
    assert_eq!((report.cursor_before, report.cursor_after), (0, size));
    assert_eq!(report.credentials, 600);
    assert_eq!(
        report.fetches.bundles, 3,
        "one fetch per bundle: {report:?}"
    );
    assert_eq!(
        progress.last().map(|p| (p.cursor, p.target)),
        Some((size, size))
    );
    check_mirrors(&mirror, &partner, &numbers);
    let revoked = mirror
        .credential(&numbers[7])
        .expect("query")
        .expect("held");
    assert!(
        matches!(revoked.record.status, CredentialStatus::Revoked { entry_index, .. } if entry_index == size - 1)
    );
    assert!(
        mirror.body(&partner.body).is_some(),
        "the partner's registry is mirrored"
    );
    let person = mirror
        .person(&revoked.record.subject)
        .expect("query")
        .expect("the person is mirrored");
    assert_eq!(person.holdings.len(), 1);

    // The mirror proves what it holds against the partner's signed checkpoint.
    let (proof, checkpoint) = mirror
        .inclusion_proof(revoked.record.entry_index)
        .expect("proof");
    let verified =
        parse_and_verify_checkpoint(&checkpoint.note_text, partner.node.verifier_key_text())
            .expect("the held checkpoint is the partner's");
    verify_inclusion(
        revoked.leaf_hash,
        revoked.record.entry_index,
        verified.size,
        &proof,
        verified.root,
    )
    .expect("inclusion proof verifies");

    // Reopening shows the same state (the registry is rebuilt from the store).
    drop(mirror);
    let mirror = open_mirror(&home, &partner);
    let status = mirror.status().expect("status");
    assert!(status.caught_up());
    assert_eq!(status.credentials, 600);
    assert_eq!(status.last_pull_unix_s, Some(1_750_000_000));
    assert!(mirror.body(&partner.body).is_some());
}

#[test]
fn given_a_home_with_the_smallest_projection_cache_when_the_mirror_pulls_then_its_store_uses_it_and_holds_everything(
) {
    // given a home ledger whose `[projections] cache_mb` is the smallest allowed
    let partner = Partner::sichuan();
    let numbers = partner.issue(300, "s");
    let mut options = skill_ledger_node::InitOptions::chongqing().importing_history();
    options.projections.cache_mb = 16;
    let home = HomeLedger::chongqing_with(options);
    // then the mirror store is given that cache, not sled's default of 1 GiB
    assert_eq!(home.home.store_cache_bytes, 16 << 20);
    // when the mirror pulls
    let mut mirror = open_mirror(&home, &partner);
    let report = pull(&mut mirror, &NodeLog::new(&partner.node));
    // then it holds every credential
    assert!(report.caught_up(), "{report:?}");
    assert_eq!(report.credentials, 300);
    check_mirrors(&mirror, &partner, &numbers);
}

#[test]
fn given_a_pull_interrupted_after_some_batches_when_it_resumes_then_nothing_held_is_fetched_again()
{
    let partner = Partner::sichuan();
    let numbers = partner.issue(1000, "b");
    let home = HomeLedger::chongqing();
    let log = NodeLog::new(&partner.node);
    let recording = Recording::new(&log);
    let mut small = options();
    small.batch_entries_max = 256;
    small.batches_max = Some(2);

    let mut mirror = open_mirror(&home, &partner);
    let first = mirror
        .pull(&recording, &small, &mut |_| {})
        .expect("first pull");
    assert_eq!((first.batches, first.cursor_after), (2, 512));
    assert!(!first.caught_up());
    drop(mirror); // an interruption: the process goes away

    let mut mirror = open_mirror(&home, &partner);
    assert_eq!(mirror.cursor(), 512, "the committed cursor survives");
    small.batches_max = None;
    let second = mirror
        .pull(&recording, &small, &mut |_| {})
        .expect("resumed pull");
    assert!(second.caught_up(), "{second:?}");
    assert_eq!(second.cursor_before, 512);

    let bundles = recording.bundles();
    let mut indexes: Vec<u64> = bundles.iter().map(|(index, _)| *index).collect();
    indexes.dedup();
    assert_eq!(
        indexes,
        vec![0, 1, 2, 3],
        "each bundle fetched once: {bundles:?}"
    );
    assert_eq!(bundles.len(), 4, "no bundle refetched: {bundles:?}");
    check_mirrors(&mirror, &partner, &numbers);
}

#[test]
fn given_the_partner_grows_when_the_mirror_pulls_again_then_it_checks_consistency_and_takes_only_new_entries(
) {
    let partner = Partner::sichuan();
    let mut numbers = partner.issue(300, "c");
    let home = HomeLedger::chongqing();
    let mut mirror = open_mirror(&home, &partner);
    let log = NodeLog::new(&partner.node);
    pull(&mut mirror, &log);

    numbers.extend(partner.issue(300, "d"));
    let recording = Recording::new(&log);
    let report = pull(&mut mirror, &recording);

    assert!(report.caught_up());
    assert_eq!(report.cursor_before, SETUP_ENTRIES + 300);
    // Bundle 1 was partial at size 304 and is full now; bundle 0 is not fetched again.
    assert_eq!(recording.bundles(), vec![(1, 256), (2, 92)]);
    check_mirrors(&mirror, &partner, &numbers);

    // Nothing new: one checkpoint fetch, nothing else.
    let idle = Recording::new(&log);
    let report = pull(&mut mirror, &idle);
    assert_eq!((report.batches, report.fetches.bundles), (0, 0));
    assert_eq!(*idle.fetches.borrow(), vec![Fetch::Checkpoint]);
}

#[test]
fn given_tampered_or_unverifiable_data_when_the_mirror_pulls_then_it_refuses_naming_it_and_holds_what_it_held(
) {
    let partner = Partner::sichuan();
    let numbers = partner.issue(700, "e");
    let home = HomeLedger::chongqing();
    let log = NodeLog::new(&partner.node);
    let mut mirror = open_mirror(&home, &partner);
    let mut one_batch = options();
    one_batch.batch_entries_max = 256;
    one_batch.batches_max = Some(1);
    mirror
        .pull(&log, &one_batch, &mut |_| {})
        .expect("a first batch");
    let before = held(&mirror);
    assert_eq!(before.cursor, 256);

    let flip_tile = Recording::corrupting(&log, |fetch, mut bytes| {
        if let Fetch::Tile(0, 1, _) = fetch {
            bytes[40] ^= 0x01;
        }
        Ok(bytes)
    });
    let flip_entry = Recording::corrupting(&log, |fetch, mut bytes| {
        if let Fetch::Bundle(1, _) = fetch {
            let last = bytes.len() - 1;
            bytes[last] ^= 0x01;
        }
        Ok(bytes)
    });
    let cut_bundle = Recording::corrupting(&log, |fetch, mut bytes| {
        if let Fetch::Bundle(1, _) = fetch {
            bytes.truncate(bytes.len() - 3);
        }
        Ok(bytes)
    });
    let short_tile = Recording::corrupting(&log, |fetch, mut bytes| {
        if let Fetch::Tile(0, 1, _) = fetch {
            bytes.pop();
        }
        Ok(bytes)
    });
    let bad_signature = Recording::corrupting(&log, |fetch, bytes| {
        if *fetch != Fetch::Checkpoint {
            return Ok(bytes);
        }
        let text = String::from_utf8(bytes).expect("UTF-8");
        // Change one base64 character of the signature (not the key id).
        let position = text.rfind(' ').expect("signature line") + 12;
        let mut chars: Vec<char> = text.chars().collect();
        let index = text[..position].chars().count();
        chars[index] = if chars[index] == 'A' { 'B' } else { 'A' };
        Ok(chars.into_iter().collect::<String>().into_bytes())
    });
    let cases: [(
        &str,
        &dyn skill_ledger_sync::PartnerLog,
        SyncErrorKind,
        &str,
    ); 5] = [
        (
            "altered tile",
            &flip_tile,
            SyncErrorKind::BadTile,
            "do not hash to the signed root",
        ),
        (
            "altered entry",
            &flip_entry,
            SyncErrorKind::BadEntry,
            "entry 511",
        ),
        (
            "cut bundle",
            &cut_bundle,
            SyncErrorKind::BadEntry,
            "tile/entries/001",
        ),
        (
            "short tile",
            &short_tile,
            SyncErrorKind::BadTile,
            "tile/0/001 ",
        ),
        (
            "bad signature",
            &bad_signature,
            SyncErrorKind::BadCheckpoint,
            "does not verify",
        ),
    ];
    for (case, transport, kind, names) in cases {
        let mut whole = options();
        whole.batch_entries_max = 256;
        let message = check_refused(mirror.pull(transport, &whole, &mut |_| {}), kind, names);
        // The fault is in the next batch: a failed batch commits nothing.
        assert_eq!(
            held(&mirror),
            before,
            "{case} changed the mirror: {message}"
        );
    }

    // A checkpoint signed by another key of the same name (the wrong vkey configured).
    let stranger = Partner::sichuan();
    let mut wrong = partner.config();
    wrong.vkey = stranger.node.verifier_key_text().to_string();
    drop(mirror);
    let mut wrong_mirror = Mirror::open(&home.home, &wrong);
    match &mut wrong_mirror {
        Err(error) => assert_eq!(error.kind(), SyncErrorKind::Config, "{error}"),
        Ok(_) => panic!(
            "a held checkpoint that does not verify with the configured key must refuse to open"
        ),
    }
    let other_home = HomeLedger::chongqing();
    let mut fresh = Mirror::open(&other_home.home, &wrong).expect("open");
    check_refused(
        fresh.pull(&log, &options(), &mut |_| {}),
        SyncErrorKind::BadCheckpoint,
        "configured key of skill-ledger/51",
    );
    assert_eq!(fresh.status().expect("status").checkpoint, None);

    // The untampered partner is then mirrored completely.
    let mut mirror = open_mirror(&home, &partner);
    assert!(pull(&mut mirror, &log).caught_up());
    check_mirrors(&mirror, &partner, &numbers);
}

#[test]
fn given_a_flaky_partner_when_the_mirror_pulls_then_it_retries_with_backoff() {
    let partner = Partner::sichuan();
    partner.issue(10, "f");
    let home = HomeLedger::chongqing();
    let log = NodeLog::new(&partner.node);
    let failures = std::cell::Cell::new(0);
    let flaky = Recording::corrupting(&log, move |fetch, bytes| {
        let _ = fetch;
        Ok(bytes)
    });
    // Two failures then success, on every kind of fetch, through a wrapper of the wrapper.
    struct Flaky<'a> {
        inner: &'a dyn skill_ledger_sync::PartnerLog,
        failures: &'a std::cell::Cell<u32>,
    }
    impl Flaky<'_> {
        fn fail(&self) -> Result<(), TransportError> {
            if self.failures.get() % 3 < 2 {
                self.failures.set(self.failures.get() + 1);
                return Err(TransportError::new(
                    TransportErrorKind::Unavailable,
                    "HTTP 503",
                ));
            }
            self.failures.set(self.failures.get() + 1);
            Ok(())
        }
    }
    impl skill_ledger_sync::PartnerLog for Flaky<'_> {
        fn checkpoint(&self) -> skill_ledger_sync::transport::FetchResult<String> {
            self.fail()?;
            self.inner.checkpoint()
        }
        fn tile(
            &self,
            l: u8,
            n: u64,
            w: u16,
        ) -> skill_ledger_sync::transport::FetchResult<Vec<u8>> {
            self.fail()?;
            self.inner.tile(l, n, w)
        }
        fn entry_bundle(
            &self,
            n: u64,
            w: u16,
        ) -> skill_ledger_sync::transport::FetchResult<Vec<u8>> {
            self.fail()?;
            self.inner.entry_bundle(n, w)
        }
        fn describe(&self) -> String {
            "flaky".to_string()
        }
    }
    let flaky = Flaky {
        inner: &flaky,
        failures: &failures,
    };
    let mut mirror = open_mirror(&home, &partner);
    let report = pull(&mut mirror, &flaky);
    assert!(report.caught_up());
    assert!(report.fetches.retries >= 4, "{report:?}");

    // With fewer retries allowed than failures, the pull fails naming the source.
    let mut impatient = options();
    impatient.retries_max = 1;
    partner.issue(1, "g");
    failures.set(0);
    let mut other = Mirror::open(&HomeLedger::chongqing().home, &partner.config()).expect("open");
    check_refused(
        other.pull(&flaky, &impatient, &mut |_| {}),
        SyncErrorKind::Transport,
        "flaky",
    );
}

#[test]
fn given_a_partner_past_its_checkpoint_when_partial_tiles_are_gone_then_the_mirror_uses_full_ones()
{
    let partner = Partner::sichuan();
    let numbers = partner.issue(200, "h");
    let old_note = partner
        .node
        .checkpoint()
        .expect("checkpoint")
        .note_text
        .clone();
    partner.issue(100, "i");
    let log = NodeLog::new(&partner.node);
    // Serves the old checkpoint; partial tiles and bundles of it are gone (404).
    let past = Recording::corrupting(&log, move |fetch, bytes| match fetch {
        Fetch::Checkpoint => Ok(old_note.clone().into_bytes()),
        Fetch::Tile(_, _, width) | Fetch::Bundle(_, width) if *width < 256 => Err(
            TransportError::new(TransportErrorKind::NotFound, "HTTP 404"),
        ),
        _ => Ok(bytes),
    });
    let home = HomeLedger::chongqing();
    let mut mirror = open_mirror(&home, &partner);
    let report = pull(&mut mirror, &past);
    assert!(report.caught_up());
    assert_eq!(report.cursor_after, SETUP_ENTRIES + 200);
    check_mirrors(&mirror, &partner, &numbers);
}

#[test]
fn given_a_partner_that_signed_an_entry_the_rules_refuse_when_mirrored_then_evidence_is_kept_and_mirroring_stops(
) {
    let partner = Partner::sichuan();
    partner.issue(5, "j");
    let mut entries = MemoryLog::entries_of(&partner.node);
    // A second certification with an existing certificate number: correctly signed by the
    // body, refused by the rules (duplicate certificate number).
    let first_certification = SETUP_ENTRIES as usize;
    let duplicate = {
        let original = skill_ledger_domain::SignedEvent::from_entry(&entries[first_certification])
            .expect("decode");
        let mut again = partner.junior("k0");
        if let (EventKind::LevelCertified(new), EventKind::LevelCertified(old)) =
            (&mut again.event.kind, &original.event.kind)
        {
            new.certificate_number = old.certificate_number;
        }
        partner.by_body(again.event.kind)
    };
    let bad_index = entries.len() as u64;
    entries.push(duplicate.to_entry().expect("encode"));
    entries.push(partner.junior("k1").to_entry().expect("encode"));
    let log = MemoryLog::new(partner.node.origin(), partner.node.authority_key(), entries);

    let home = HomeLedger::chongqing();
    let mut mirror = open_mirror(&home, &partner);
    let message = check_refused(
        mirror.pull(&log, &options(), &mut |_| {}),
        SyncErrorKind::RuleViolation,
        &format!("entry {bad_index}"),
    );
    assert!(message.contains("duplicate"), "{message}");
    assert_eq!(
        mirror.cursor(),
        bad_index,
        "entries before the bad one are held"
    );
    let alarm = mirror.alarm().expect("read").expect("an alarm");
    assert_eq!(alarm.summary.kind, EvidenceKind::RuleViolation);
    let file = |name: &str| {
        alarm
            .files
            .iter()
            .find(|(file, _)| file == name)
            .map(|(_, text)| text.clone())
            .unwrap_or_else(|| panic!("evidence file {name}"))
    };
    assert_eq!(file("checkpoint"), log.note);
    assert_eq!(
        file("entry.hex").trim(),
        hex::encode(&log.entries[bad_index as usize])
    );
    assert!(file("inclusion-proof.txt").starts_with(&format!("index {bad_index}\n")));

    // Further pulls are refused, even after reopening.
    drop(mirror);
    let mut mirror = open_mirror(&home, &partner);
    check_refused(
        mirror.pull(&log, &options(), &mut |_| {}),
        SyncErrorKind::Alarm,
        "rule-violation",
    );
    assert_eq!(mirror.cursor(), bad_index);
}

#[test]
fn given_a_forked_partner_when_the_mirror_sees_both_branches_then_it_keeps_both_checkpoints_and_refuses_until_cleared(
) {
    let partner = Partner::sichuan();
    partner.issue(3, "l");
    let (left, right) = partner.fork();
    left.issue(2, "left");
    right.issue(2, "right"); // same size, another root
    let home = HomeLedger::chongqing();
    let mut mirror = open_mirror(&home, &left);
    pull(&mut mirror, &NodeLog::new(&left.node));
    let held_before = held(&mirror);

    let message = check_refused(
        mirror.pull(&NodeLog::new(&right.node), &options(), &mut |_| {}),
        SyncErrorKind::Fork,
        "different roots",
    );
    let alarm = mirror.alarm().expect("read").expect("fork alarm");
    assert_eq!(alarm.summary.kind, EvidenceKind::Fork, "{message}");
    let notes: Vec<&str> = alarm.files.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(
        notes,
        vec![
            left.node.checkpoint().expect("left").note_text.as_str(),
            right.node.checkpoint().expect("right").note_text.as_str()
        ]
    );
    for note in notes {
        parse_and_verify_checkpoint(note, left.node.verifier_key_text())
            .expect("both are signed by the partner");
    }
    assert_eq!(
        held(&mirror),
        Held {
            alarm: true,
            ..held_before
        }
    );

    // Even the branch the mirror followed is not taken any more.
    left.issue(1, "left-more");
    check_refused(
        mirror.pull(&NodeLog::new(&left.node), &options(), &mut |_| {}),
        SyncErrorKind::Alarm,
        "fork",
    );

    // Clearing keeps the evidence and starts over.
    let cleared = mirror
        .clear_alarm("settled with the partner", 1_750_000_100)
        .expect("clear");
    assert_eq!(cleared, 1);
    assert_eq!(
        mirror.evidence().expect("list").len(),
        1,
        "evidence is never deleted"
    );
    assert!(pull(&mut mirror, &NodeLog::new(&right.node)).caught_up());
}

#[test]
fn given_a_forked_partner_when_a_larger_checkpoint_does_not_extend_the_held_one_then_it_is_a_fork()
{
    let partner = Partner::sichuan();
    partner.issue(300, "m");
    let (left, right) = partner.fork();
    left.issue(1, "left");
    right.issue(400, "right");
    let home = HomeLedger::chongqing();
    let mut mirror = open_mirror(&home, &left);
    pull(&mut mirror, &NodeLog::new(&left.node));

    check_refused(
        mirror.pull(&NodeLog::new(&right.node), &options(), &mut |_| {}),
        SyncErrorKind::Fork,
        "does not extend",
    );
    assert!(mirror.alarm().expect("read").is_some());
}

#[test]
fn given_an_older_checkpoint_when_pulled_then_it_is_stale_not_a_fork() {
    let partner = Partner::sichuan();
    partner.issue(3, "n");
    let old_note = partner
        .node
        .checkpoint()
        .expect("checkpoint")
        .note_text
        .clone();
    partner.issue(3, "o");
    let home = HomeLedger::chongqing();
    let log = NodeLog::new(&partner.node);
    let mut mirror = open_mirror(&home, &partner);
    pull(&mut mirror, &log);
    let stale = Recording::corrupting(&log, move |fetch, bytes| match fetch {
        Fetch::Checkpoint => Ok(old_note.clone().into_bytes()),
        _ => Ok(bytes),
    });
    let report = pull(&mut mirror, &stale);
    assert!(report.stale_checkpoint);
    assert_eq!(report.checkpoint.size, partner.node.entry_count());
    assert!(mirror.alarm().expect("read").is_none());
    let _ = Node::open; // the partner node stays open for the whole test
}

/// The mirror's records, opened as the mirror opens its store (closed when dropped).
fn mirror_store(home: &HomeLedger, partner: &Partner) -> StoreTree {
    Store::open(
        &home.home.mirror_dir(partner.node.origin()).join("db"),
        StoreOptions::with_cache(1 << 20),
    )
    .and_then(|store| store.tree("mirror"))
    .expect("open the store")
}

/// Rewrites a mirror store to the layout of stores written before event ids were packed:
/// one `e` ‖ event id key per entry instead of the `i` chunks.
fn unpack_event_ids(home: &HomeLedger, partner: &Partner) {
    let records = mirror_store(home, partner);
    let mut batch = sled::Batch::default();
    let mut count = 0u64;
    for item in records.scan_prefix(b"i") {
        let (key, ids) = item.expect("read a chunk");
        let first = u64::from_be_bytes(key[1..9].try_into().expect("chunk key"));
        for (offset, id) in ids.chunks_exact(16).enumerate() {
            let mut event_key = vec![b'e'];
            event_key.extend_from_slice(id);
            batch.insert(event_key, &(first + offset as u64).to_le_bytes());
            count += 1;
        }
        batch.remove(key);
    }
    assert!(count > 0, "the store held packed ids");
    records.apply_batch(batch).expect("rewrite");
    records.flush().expect("flush");
}

#[test]
fn given_a_partner_that_repeats_an_event_id_when_mirrored_then_the_repeat_is_refused_wherever_the_first_is_held(
) {
    let partner = Partner::sichuan();
    partner.issue(300, "d");
    let entries = MemoryLog::entries_of(&partner.node);
    let first = (SETUP_ENTRIES + 5) as usize;
    // (the entry the repeat copies, how far the first pull goes, store layout on reopen)
    let cases: [(usize, Option<u64>, bool); 4] = [
        (first, None, false),             // in a batch committed (or committing) before
        (entries.len() - 1, None, false), // in the same batch
        (first, Some(2), false),          // in the store, after reopening
        (first, Some(2), true),           // in an older store's `e` keys, converted on open
    ];
    for (copied, first_pull_batches, legacy) in cases {
        let mut repeated = entries.clone();
        let bad_index = repeated.len() as u64;
        repeated.push(entries[copied].clone());
        repeated.push(partner.junior("after").to_entry().expect("encode"));
        let log = MemoryLog::new(
            partner.node.origin(),
            partner.node.authority_key(),
            repeated,
        );
        let home = HomeLedger::chongqing();
        let mut small = options();
        small.batch_entries_max = 64;
        let mut mirror = open_mirror(&home, &partner);
        if let Some(batches) = first_pull_batches {
            small.batches_max = Some(batches);
            mirror.pull(&log, &small, &mut |_| {}).expect("first pull");
            assert_eq!(mirror.cursor(), 128);
            drop(mirror);
            if legacy {
                unpack_event_ids(&home, &partner);
            }
            mirror = open_mirror(&home, &partner);
            assert_eq!(mirror.cursor(), 128, "the cursor survives the reopening");
            small.batches_max = None;
        }
        let message = check_refused(
            mirror.pull(&log, &small, &mut |_| {}),
            SyncErrorKind::RuleViolation,
            &format!("entry {bad_index}"),
        );
        assert!(
            message.contains("duplicate-event-id"),
            "copy of {copied}: {message}"
        );
        assert_eq!(
            mirror.cursor(),
            bad_index,
            "copy of {copied}: all before held"
        );
        assert_eq!(
            mirror.status().expect("status").credentials,
            300,
            "copy of {copied}"
        );
        if legacy {
            drop(mirror);
            let records = mirror_store(&home, &partner);
            assert_eq!(
                records.scan_prefix(b"e").count(),
                0,
                "the `e` keys are gone"
            );
            assert!(records.scan_prefix(b"i").count() > 1, "packed ids since");
        }
    }
}

#[test]
fn given_credentials_a_crash_left_past_the_cursor_when_the_mirror_reopens_then_they_are_absent_until_folded_again(
) {
    let partner = Partner::sichuan();
    let numbers = partner.issue(300, "x");
    let log = NodeLog::new(&partner.node);
    let mut small = options();
    small.batch_entries_max = 64;

    // A mirror that holds everything, to copy records from.
    let whole_home = HomeLedger::chongqing();
    let mut whole = open_mirror(&whole_home, &partner);
    whole.pull(&log, &small, &mut |_| {}).expect("whole pull");
    let ahead: Vec<_> = numbers
        .iter()
        .map(|number| whole.credential(number).expect("read").expect("held"))
        .filter(|found| found.record.entry_index >= 128)
        .collect();
    assert!(ahead.len() > 100);
    drop(whole);
    let whole_records = mirror_store(&whole_home, &partner);

    // Two batches commit; the credential records of later entries are in the store, as
    // a crash while later batches were written leaves them (ahead of their cursor).
    let home = HomeLedger::chongqing();
    let mut mirror = open_mirror(&home, &partner);
    small.batches_max = Some(2);
    mirror.pull(&log, &small, &mut |_| {}).expect("first pull");
    drop(mirror);
    {
        let records = mirror_store(&home, &partner);
        for found in &ahead {
            let mut credential_key = vec![b'c'];
            credential_key.extend_from_slice(found.record.certificate_number.as_bytes());
            let value = whole_records
                .get(&credential_key)
                .expect("read")
                .expect("held");
            records.insert(credential_key, value).expect("write");
        }
        records.flush().expect("flush");
    }

    let mut mirror = open_mirror(&home, &partner);
    assert_eq!(mirror.cursor(), 128);
    let number = &ahead[0].record.certificate_number;
    assert_eq!(
        mirror.credential(number).expect("read"),
        None,
        "not folded yet"
    );
    assert_eq!(mirror.reader().credential(number).expect("read"), None);
    small.batches_max = None;
    let report = mirror
        .pull(&log, &small, &mut |_| {})
        .expect("the fold takes them for absent, not for duplicates");
    assert!(report.caught_up());
    check_mirrors(&mirror, &partner, &numbers);
    assert_eq!(mirror.status().expect("status").credentials, 300);
    assert_eq!(
        mirror.reader().credential(number).expect("read"),
        Some(ahead[0].clone())
    );
}

fn today() -> skill_ledger_domain::Date {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / 86_400;
    skill_ledger_domain::Date::from_days_since_unix_epoch(days as i32).expect("a date")
}

#[test]
fn given_a_partner_whose_authority_key_rotates_then_is_recovered_when_pulled_then_the_mirror_and_witness_follow_it(
) {
    use ed25519_dalek::SigningKey;
    use skill_ledger_domain::AuthorityRecoveryKeySet;
    use skill_ledger_sync::witness::witness_name;
    use skill_ledger_sync::{AddCheckpointRequest, Cosigner, Witness};

    // given: a partner with a recovery key, mirrored, and a witness configured with its
    // first key
    let partner = Partner::sichuan();
    let recovery = SigningKey::from_bytes(&[0x77; 32]);
    let set = partner
        .node
        .sign_as_authority(EventKind::AuthorityRecoveryKeySet(
            AuthorityRecoveryKeySet {
                public_key: recovery.verifying_key().to_bytes(),
                date: d("2019-01-01"),
            },
        ));
    partner.node.submit(set).expect("recovery key set");
    let mut numbers = partner.issue(20, "a");
    let first_vkey = partner.node.verifier_key_text().to_string();
    let home = HomeLedger::chongqing();
    let mut mirror = open_mirror(&home, &partner);
    pull(&mut mirror, &NodeLog::new(&partner.node));
    let cosigner = Cosigner::new(
        &witness_name("skill-ledger/50"),
        SigningKey::from_bytes(&[7; 32]),
    )
    .expect("cosigner");
    let witness = Witness::new(
        home.dir(),
        cosigner,
        std::collections::BTreeMap::from([(partner.node.origin().to_string(), first_vkey.clone())]),
    );
    let witness_request = |partner: &Partner, old_size: u64| {
        let latest = partner.node.checkpoint().expect("a checkpoint");
        let proof = if old_size == 0 {
            Vec::new()
        } else {
            partner
                .node
                .tree_reader()
                .consistency_proof(old_size, latest.checkpoint.size)
                .expect("proof")
        };
        let body = AddCheckpointRequest {
            old_size,
            proof,
            checkpoint_note: latest.note_text.clone(),
        }
        .to_bytes();
        (
            witness.add_checkpoint(&body, 1_750_000_500).status(),
            latest.checkpoint.size,
        )
    };
    let (status, witnessed) = witness_request(&partner, 0);
    assert_eq!(status, 200);

    // when: a planned rotation (the retired key cosigns the checkpoints for a while)
    let partner = partner.reopened_after(|dir| {
        let change =
            skill_ledger_node::rotate_authority_key(dir, today(), "定期轮换").expect("rotated");
        assert!(change.cosigned);
    });
    numbers.extend(partner.issue(20, "b"));
    // then: the mirror verifies with the key it knows and folds the rotation
    assert!(pull(&mut mirror, &NodeLog::new(&partner.node)).caught_up());
    check_mirrors(&mirror, &partner, &numbers);

    // when: the key is stolen and recovered: checkpoints signed by the recovered key alone
    let partner = partner.reopened_after(|dir| {
        let change =
            skill_ledger_node::recover_authority_key(dir, &recovery, today(), "授权密钥被盗")
                .expect("recovered");
        assert!(!change.cosigned);
    });
    numbers.extend(partner.issue(20, "c"));
    let latest = partner.node.checkpoint().expect("a checkpoint");
    assert!(parse_and_verify_checkpoint(&latest.note_text, &first_vkey).is_err());
    // then: before the mirror has read the recovery, the witness refuses the new key
    let (status, _) = witness_request(&partner, witnessed);
    assert_eq!(status, 403, "the witness cannot know the new key yet");
    // and the mirror follows the recovery from the log, signed by the recovery key
    assert!(pull(&mut mirror, &NodeLog::new(&partner.node)).caught_up());
    check_mirrors(&mirror, &partner, &numbers);
    // and the witness, reading what its mirror learned, cosigns
    let (status, _) = witness_request(&partner, witnessed);
    assert_eq!(status, 200);
    // and a reopened mirror verifies what it holds
    drop(mirror);
    let mut mirror = open_mirror(&home, &partner);
    assert!(pull(&mut mirror, &NodeLog::new(&partner.node)).caught_up());

    // when: a checkpoint of the same entries signed by a key no logged rotation names
    let thief = SigningKey::from_bytes(&[0x99; 32]);
    numbers.extend(partner.issue(5, "d"));
    let forged = MemoryLog::new(
        partner.node.origin(),
        &thief,
        MemoryLog::entries_of(&partner.node),
    );
    let error = mirror
        .pull(&forged, &options(), &mut |_| {})
        .expect_err("an unknown key is refused");
    // then: refused, and nothing more is held
    assert_eq!(error.kind(), SyncErrorKind::BadCheckpoint, "{error}");
}

#[test]
fn given_a_storage_failure_during_a_pull_when_the_mirror_pulls_again_then_it_resumes_at_its_cursor_and_holds_everything(
) {
    use skill_ledger_log::faults::{self, Operation};

    let partner = Partner::sichuan();
    let numbers = partner.issue(1000, "f");
    let home = HomeLedger::chongqing();
    let log = NodeLog::new(&partner.node);
    let mut one_batch = options();
    one_batch.batch_entries_max = 256;
    one_batch.batches_max = Some(1);
    let mut mirror = open_mirror(&home, &partner);
    mirror
        .pull(&log, &one_batch, &mut |_| {})
        .expect("first batch");
    let before = held(&mirror);
    assert_eq!(before.cursor, 256);

    // The store refuses the next batch's commit after its leaves reached the tree; then the
    // tree refuses to sync.
    for (part, operation) in [("db", Operation::Write), ("tree", Operation::Fsync)] {
        let dir = mirror.dir().join(part);
        faults::fail(&dir, operation);
        let error = mirror
            .pull(&log, &one_batch, &mut |_| {})
            .expect_err("the pull fails");
        faults::clear(&dir);
        assert_eq!(error.kind(), SyncErrorKind::Store, "{part}: {error}");
        assert_eq!(
            held(&mirror),
            before,
            "{part}: a failed pull keeps what it held"
        );
    }

    // The same handle resumes at its cursor (the tree is cut back to it first), and the
    // whole, checked against the signed root at the end, is the partner's.
    let report = pull(&mut mirror, &log);
    assert_eq!(report.cursor_before, 256);
    assert!(report.caught_up(), "{report:?}");
    check_mirrors(&mirror, &partner, &numbers);
    drop(mirror);
    let reopened = open_mirror(&home, &partner);
    assert_eq!(reopened.cursor(), report.cursor_after);
    check_mirrors(&reopened, &partner, &numbers);
}
