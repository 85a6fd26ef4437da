//! Witnessing per C2SP tlog-witness between two partner ledgers: the witness cosigns
//! consistent checkpoints and answers 400/403/404/409/422 as the spec says; the client builds
//! requests from the home node, follows a 409, and keeps the cosigned checkpoint.

mod common;

use std::collections::BTreeMap;

use common::*;
use ed25519_dalek::SigningKey;
use skill_ledger_log::{parse_and_verify_checkpoint, SignedCheckpoint};
use skill_ledger_sync::witness::{cosigned_path, verify_cosignatures, witness_name};
use skill_ledger_sync::{
    request_cosignature, AddCheckpointRequest, CosignatureVerifier, Cosigner, EvidenceKind,
    LocalWitness, Witness, WitnessAnswer,
};

const NOW: u64 = 1_750_000_500;

/// A Chongqing witness of the Sichuan partner, keyed with seed `[7; 32]`.
fn witness_of(partner: &Partner, home: &HomeLedger) -> Witness {
    let cosigner = Cosigner::new(
        &witness_name("skill-ledger/50"),
        SigningKey::from_bytes(&[7; 32]),
    )
    .expect("cosigner");
    let logs = BTreeMap::from([(
        partner.node.origin().to_string(),
        partner.node.verifier_key_text().to_string(),
    )]);
    Witness::new(home.dir(), cosigner, logs)
}

fn latest(partner: &Partner) -> SignedCheckpoint {
    (*partner.node.checkpoint().expect("signed checkpoint")).clone()
}

fn request(old_size: u64, partner: &Partner, note: &str) -> Vec<u8> {
    let size = parse_and_verify_checkpoint(note, partner.node.verifier_key_text())
        .expect("partner checkpoint")
        .size;
    let proof = if old_size == 0 || old_size == size {
        Vec::new()
    } else {
        partner
            .node
            .tree_reader()
            .consistency_proof(old_size, size)
            .expect("proof")
    };
    AddCheckpointRequest {
        old_size,
        proof,
        checkpoint_note: note.to_string(),
    }
    .to_bytes()
}

fn check_status(answer: &WitnessAnswer, status: u16) {
    assert_eq!(answer.status(), status, "answer: {answer:?}");
}

#[test]
fn given_consistent_checkpoints_when_submitted_then_the_witness_cosigns_each_and_the_cosignature_verifies(
) {
    let partner = Partner::sichuan();
    let home = HomeLedger::chongqing();
    let witness = witness_of(&partner, &home);
    let verifier = CosignatureVerifier::from_vkey(&witness.verifier_key_text()).expect("vkey");

    let first = latest(&partner);
    let answer = witness.add_checkpoint(&request(0, &partner, &first.note_text), NOW);
    check_status(&answer, 200);
    let WitnessAnswer::Cosigned { lines } = &answer else {
        unreachable!()
    };
    assert!(
        lines.starts_with("\u{2014} skill-ledger/50/witness "),
        "{lines}"
    );
    let cosigned = format!("{}{lines}", first.note_text);
    assert_eq!(
        verify_cosignatures(&cosigned, &verifier).expect("verify"),
        vec![NOW]
    );
    // The log's own verification ignores the witness signature.
    parse_and_verify_checkpoint(&cosigned, partner.node.verifier_key_text())
        .expect("still the partner's checkpoint");
    assert_eq!(
        witness.latest(partner.node.origin()).expect("read"),
        Some(first.clone())
    );

    partner.issue(300, "w");
    let second = latest(&partner);
    let answer = witness.add_checkpoint(
        &request(first.checkpoint.size, &partner, &second.note_text),
        NOW + 1,
    );
    check_status(&answer, 200);
    // Resubmitting the cosigned size is fine (same root, empty proof).
    let again = witness.add_checkpoint(
        &request(second.checkpoint.size, &partner, &second.note_text),
        NOW + 2,
    );
    check_status(&again, 200);
}

#[test]
fn given_wrong_or_inconsistent_submissions_then_the_witness_answers_as_the_specification_says() {
    let partner = Partner::sichuan();
    partner.issue(10, "x");
    let home = HomeLedger::chongqing();
    let witness = witness_of(&partner, &home);
    let first = latest(&partner);
    check_status(
        &witness.add_checkpoint(&request(0, &partner, &first.note_text), NOW),
        200,
    );
    partner.issue(10, "y");
    let second = latest(&partner);

    // 409: the old size is not the one last cosigned; the body is that size.
    let answer = witness.add_checkpoint(&request(0, &partner, &second.note_text), NOW);
    check_status(&answer, 409);
    assert_eq!(
        answer.body(),
        format!("{}\n", first.checkpoint.size).into_bytes()
    );
    assert_eq!(answer.content_type(), "text/x.tlog.size");

    // 422: a proof that does not verify.
    let mut bad_proof =
        AddCheckpointRequest::parse(&request(first.checkpoint.size, &partner, &second.note_text))
            .expect("parse");
    bad_proof.proof[0][0] ^= 1;
    check_status(&witness.add_checkpoint(&bad_proof.to_bytes(), NOW), 422);

    // 400: malformed, or old size above the checkpoint's.
    check_status(&witness.add_checkpoint(b"old 01\n\nx", NOW), 400);
    check_status(&witness.add_checkpoint(b"no blank line", NOW), 400);
    let too_old = AddCheckpointRequest {
        old_size: second.checkpoint.size + 1,
        proof: Vec::new(),
        checkpoint_note: second.note_text.clone(),
    };
    check_status(&witness.add_checkpoint(&too_old.to_bytes(), NOW), 400);

    // 403: not signed by the partner's key; 404: a log this witness does not witness.
    let stranger = Partner::sichuan();
    check_status(
        &witness.add_checkpoint(&request(0, &stranger, &latest(&stranger).note_text), NOW),
        403,
    );
    let unknown = MemoryLog::new(
        "skill-ledger/44",
        &SigningKey::from_bytes(&[9; 32]),
        vec![b"x".to_vec()],
    );
    let unknown_request = AddCheckpointRequest {
        old_size: 0,
        proof: Vec::new(),
        checkpoint_note: unknown.note.clone(),
    };
    check_status(
        &witness.add_checkpoint(&unknown_request.to_bytes(), NOW),
        404,
    );

    // None of these moved the witness.
    assert_eq!(
        witness.latest(partner.node.origin()).expect("read"),
        Some(first)
    );
}

#[test]
fn given_a_forked_partner_when_both_branches_are_submitted_then_the_witness_refuses_the_second_and_keeps_evidence(
) {
    let partner = Partner::sichuan();
    partner.issue(5, "z");
    let (left, right) = partner.fork();
    left.issue(3, "left");
    right.issue(3, "right");
    let home = HomeLedger::chongqing();
    let witness = witness_of(&left, &home);
    let left_note = latest(&left).note_text;
    check_status(
        &witness.add_checkpoint(&request(0, &left, &left_note), NOW),
        200,
    );
    let size = latest(&left).checkpoint.size;

    let right_note = latest(&right).note_text;
    let answer = witness.add_checkpoint(&request(size, &right, &right_note), NOW);
    check_status(&answer, 409);

    let records = skill_ledger_sync::evidence::list(
        &home.home.mirror_dir(left.node.origin()).join("evidence"),
    )
    .expect("evidence");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].summary.kind, EvidenceKind::Fork);
    assert_eq!(records[0].files[0].1, left_note);
    assert_eq!(records[0].files[1].1, right_note);

    // A larger checkpoint of the other branch: its proof fails from the cosigned size (422).
    right.issue(2, "right-more");
    let answer = witness.add_checkpoint(&request(size, &right, &latest(&right).note_text), NOW);
    check_status(&answer, 422);
}

#[test]
fn given_two_partners_when_the_home_asks_for_a_cosignature_then_it_keeps_its_checkpoint_with_the_partner_cosignature(
) {
    // Sichuan's node is the "home" asking; Chongqing's witness cosigns.
    let sichuan = Partner::sichuan();
    let chongqing = HomeLedger::chongqing();
    let witness = witness_of(&sichuan, &chongqing);
    let mut config_at_sichuan = sichuan.config();
    config_at_sichuan.origin = "skill-ledger/50".to_string();
    config_at_sichuan.witness_vkey = Some(witness.verifier_key_text());
    let transport = LocalWitness {
        witness: &witness,
        now_unix_s: NOW,
    };

    let cosigned = request_cosignature(
        &sichuan.dir(),
        &sichuan.node,
        &config_at_sichuan,
        &transport,
    )
    .expect("cosigned");
    assert_eq!(cosigned.cosigned_unix_s, NOW);
    let stored = std::fs::read_to_string(cosigned_path(&sichuan.dir(), "skill-ledger/50"))
        .expect("persisted");
    assert_eq!(stored, cosigned.note_text);
    let verifier = CosignatureVerifier::from_vkey(&witness.verifier_key_text()).expect("vkey");
    assert_eq!(
        verify_cosignatures(&stored, &verifier).expect("verify"),
        vec![NOW]
    );
    parse_and_verify_checkpoint(&stored, sichuan.node.verifier_key_text()).expect("ours");

    // The log grows: the next request proves consistency from the size cosigned.
    sichuan.issue(20, "q");
    let next = request_cosignature(
        &sichuan.dir(),
        &sichuan.node,
        &config_at_sichuan,
        &transport,
    )
    .expect("cosigned again");
    assert_eq!(next.checkpoint.size, sichuan.node.entry_count());

    // The client forgot what was cosigned: it sends old 0, gets 409 with the size, retries.
    std::fs::remove_file(cosigned_path(&sichuan.dir(), "skill-ledger/50")).expect("forget");
    sichuan.issue(1, "r");
    request_cosignature(
        &sichuan.dir(),
        &sichuan.node,
        &config_at_sichuan,
        &transport,
    )
    .expect("cosigned after a 409");

    // A cosignature by another key than the configured witness key is not accepted.
    let mut wrong = config_at_sichuan.clone();
    let other = Cosigner::new(
        &witness_name("skill-ledger/50"),
        SigningKey::from_bytes(&[8; 32]),
    )
    .expect("cosigner");
    wrong.witness_vkey = Some(other.verifier_key_text());
    sichuan.issue(1, "s");
    let error = request_cosignature(&sichuan.dir(), &sichuan.node, &wrong, &transport)
        .expect_err("unknown cosigner");
    assert!(error.message().contains("no cosignature by"), "{error}");
}
