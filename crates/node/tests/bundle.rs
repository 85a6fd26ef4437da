//! Offline credential bundles: the golden vector (docs/formats.md, "Offline credential
//! bundle"), bundles of a real node with body changes and authority changes, single-bit
//! damage anywhere, and bundles of a ledger whose authority key rotated (built by hand: the
//! checkpoint signed by the old key, the new one, or both).

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    Audience, AuthorityKeyRotated, AuthorityRecoveryKeySet, BodyKeyRotated, BodyRegistered,
    BodyStatusChange, BundleRole, CertificateNumber, EvaluationBasis, Event, EventId, EventKind,
    IdDocumentType, LedgerEstablished, Level, LevelCertified, Province, PseudonymKey, Route,
    ScopeItem, SignedEvent, Signer,
};
use skill_ledger_domain::{StatedStatus, StatusStatement, STATUS_NOTE_LABEL};
use skill_ledger_log::{
    leaf_hash, sign_note, verifier_key_text, Bundle, BundleNote, BundleSection, Checkpoint,
    MerkleTree, TlogProof,
};
use skill_ledger_node::verify_credential_bundle;

const ORIGIN: &str = "skill-ledger/50";
const GOLDEN_CERTIFICATE: &str = "Y000050000001243000017";
const GOLDEN_TIME_UNIX_S: u64 = 1_750_000_000;
/// The golden bundle, byte for byte (also printed in docs/formats.md).
const GOLDEN_BUNDLE: &str = include_str!("data/golden.bundle");

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn body_key() -> SigningKey {
    SigningKey::from_bytes(&[2; 32])
}

/// The golden ledger's three entries: the `LedgerEstablished` and `LevelCertified` golden
/// entries of docs/formats.md part 3 (6.3, 6.4) around the body's registration.
fn golden_events() -> [SignedEvent; 3] {
    let sign = |signer, key: &SigningKey, id, kind| {
        SignedEvent::sign(
            ORIGIN,
            signer,
            key,
            Event {
                id: EventId(id),
                kind,
            },
        )
    };
    let mut id = [0u8; 16];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = i as u8;
    }
    let established = sign(
        Signer::Authority,
        &authority(),
        id,
        EventKind::LedgerEstablished(LedgerEstablished {
            origin: ORIGIN.to_string(),
            province: Province::CHONGQING,
            authority_name: "重庆人社".to_string(),
            authority_key: authority().verifying_key().to_bytes(),
            date: d("2019-01-01"),
        }),
    );
    let registered = sign(
        Signer::Authority,
        &authority(),
        [0xbb; 16],
        EventKind::BodyRegistered(BodyRegistered {
            registration_number: "Y000050000001".parse().expect("number"),
            name: "重庆测试装备制造有限公司".to_string(),
            public_key: body_key().verifying_key().to_bytes(),
            valid_from: d("2019-01-01"),
            valid_until: d("2029-12-31"),
            audience: Audience::Public,
            scope: vec![ScopeItem {
                occupation: welder(),
                level_max: Level::Technician,
            }],
            direct_recognition: false,
            date: d("2019-01-01"),
        }),
    );
    let pseudonym = PseudonymKey::from_bytes([0x11; 32]);
    let certified = sign(
        Signer::Body("Y000050000001".parse().expect("number")),
        &body_key(),
        [0xaa; 16],
        EventKind::LevelCertified(LevelCertified {
            certificate_number: GOLDEN_CERTIFICATE.parse().expect("number"),
            subject: pseudonym.subject(IdDocumentType::ResidentIdCard, "11010519491231002X"),
            name_commitment: pseudonym.commit_name(GOLDEN_CERTIFICATE, "张三"),
            occupation: welder(),
            work_type: Some("电焊工".to_string()),
            level: Level::Senior,
            issued: d("2024-06-30"),
            route: Route::Evaluation(EvaluationBasis::PriorLevel),
        }),
    );
    [established, registered, certified]
}

/// The `status` note of the golden certificate at `size` with `root`, signed by each of
/// `signers` (one signature line each).
fn status_note(
    size: u64,
    root: [u8; 32],
    status: StatedStatus,
    signers: &[&SigningKey],
) -> Vec<BundleNote> {
    let body = StatusStatement {
        origin: ORIGIN.to_string(),
        size,
        root,
        certificate_number: GOLDEN_CERTIFICATE.parse().expect("number"),
        status,
        issuer_changes: Vec::new(),
        holder_key: None,
    }
    .to_body();
    let mut note = sign_note(&body, ORIGIN, signers[0]).expect("sign");
    for key in &signers[1..] {
        let other = sign_note(&body, ORIGIN, key).expect("sign");
        note.push_str(other.rsplit_once("\n\n").expect("signature").1);
    }
    vec![BundleNote {
        label: STATUS_NOTE_LABEL.to_string(),
        note,
    }]
}

/// Builds the golden bundle: the three entries in a tree of size 3, a checkpoint signed at
/// the golden time by the authority key, the status note (valid) signed by it too.
fn golden_bundle() -> String {
    let entries: Vec<Vec<u8>> = golden_events()
        .iter()
        .map(|signed| signed.to_entry().expect("entry"))
        .collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut tree = MerkleTree::open(dir.path()).expect("tree");
    let leaves: Vec<_> = entries.iter().map(|entry| leaf_hash(entry)).collect();
    let root = tree.append(&leaves).expect("append");
    let checkpoint = Checkpoint {
        origin: ORIGIN.to_string(),
        size: 3,
        root,
        time_unix_s: GOLDEN_TIME_UNIX_S,
    };
    let note = sign_note(&checkpoint.body(), ORIGIN, &authority()).expect("sign");
    let roles = [BundleRole::Ledger, BundleRole::Body, BundleRole::Credential];
    let sections = roles
        .iter()
        .zip(entries)
        .enumerate()
        .map(|(index, (role, entry))| BundleSection {
            label: role.label().to_string(),
            entry,
            proof: TlogProof {
                index: index as u64,
                hashes: tree
                    .reader()
                    .inclusion_proof(index as u64, 3)
                    .expect("proof"),
                checkpoint_note: note.clone(),
            },
        })
        .collect();
    Bundle::new(sections)
        .and_then(|bundle| {
            bundle.with_notes(status_note(3, root, StatedStatus::Valid, &[&authority()]))
        })
        .expect("bundle")
        .to_text()
}

fn golden_vkey() -> String {
    verifier_key_text(ORIGIN, &authority())
}

#[test]
fn golden_bundle_bytes_and_verification() {
    let built = golden_bundle();
    assert!(
        built == GOLDEN_BUNDLE,
        "the bundle format changed; built:\n{built}"
    );
    let documented = include_str!("../../../docs/formats.md");
    assert!(
        documented.contains(&format!("```text\n{GOLDEN_BUNDLE}```")),
        "docs/formats.md must print the golden bundle verbatim"
    );
    assert_eq!(
        golden_vkey(),
        "skill-ledger/50+18bdde88+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
    );
    let verified = verify_credential_bundle(GOLDEN_BUNDLE, &golden_vkey()).expect("verifies");
    assert_eq!(verified.checkpoint.size, 3);
    assert_eq!(verified.checkpoint.time_unix_s, GOLDEN_TIME_UNIX_S);
    assert_eq!(
        verified.credential.credential.certificate_number.as_str(),
        GOLDEN_CERTIFICATE
    );
    assert_eq!(verified.credential.entry_index, 2);
    assert_eq!(verified.credential.body.name, "重庆测试装备制造有限公司");
}

#[test]
fn golden_bundle_with_another_key_is_invalid() {
    // a key the ledger never had: refused before the checkpoint is even read
    let other = verifier_key_text(ORIGIN, &SigningKey::from_bytes(&[3; 32]));
    let error = verify_credential_bundle(GOLDEN_BUNDLE, &other).expect_err("another key");
    assert_eq!(error.code(), "untrusted-key", "{error}");
    assert!(
        error.to_string().contains("none of the 1 authority key"),
        "{error}"
    );
    // the ledger's key under another name
    let renamed = verifier_key_text("skill-ledger/51", &authority());
    let error = verify_credential_bundle(GOLDEN_BUNDLE, &renamed).expect_err("another name");
    assert_eq!(error.code(), "untrusted-key", "{error}");
    // not a key at all
    let error = verify_credential_bundle(GOLDEN_BUNDLE, "skill-ledger/50").expect_err("text");
    assert_eq!(error.code(), "untrusted-key", "{error}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
    /// Any single bit flipped anywhere in the file: not UTF-8, or invalid with a reason.
    #[test]
    fn any_single_bit_flipped_in_the_golden_bundle_is_invalid(
        position in 0usize..GOLDEN_BUNDLE.len(), bit in 0u8..8,
    ) {
        let mut bytes = GOLDEN_BUNDLE.as_bytes().to_vec();
        bytes[position] ^= 1 << bit;
        if let Ok(text) = String::from_utf8(bytes) {
            let result = verify_credential_bundle(&text, &golden_vkey());
            proptest::prop_assert!(result.is_err(), "byte {} bit {} still verifies", position, bit);
        }
    }
}

fn rotate(node: &skill_ledger_node::Node, body: &Body, key: &SigningKey, effective: &str) {
    let signed = node.sign_as_authority(EventKind::BodyKeyRotated(BodyKeyRotated {
        registration_number: body.number,
        public_key: key.verifying_key().to_bytes(),
        effective: d(effective),
        reason: "密钥定期轮换".to_string(),
    }));
    node.submit(signed).expect("rotation accepted");
}

/// 张三's 初级工 车工 certification by `body`, issued 2022-06-01 on an attested basis.
fn zhang_san_junior(fx: &Fixture, body: &Body) -> LevelCertified {
    fx.certified(
        body,
        "500101199001011234",
        "张三",
        turner(),
        Level::Junior,
        "2022-06-01",
        attested(),
    )
}

fn labels(bundle: &str) -> Vec<&str> {
    bundle
        .lines()
        .filter_map(|line| line.strip_prefix("section "))
        .collect()
}

#[test]
fn a_bundle_carries_the_body_changes_logged_before_the_credential() {
    // given: the Y body rotates its key, the S body (not the issuer) is suspended, a credential
    // is issued with the new key, then the Y body is suspended and rotates again
    let (fx, node) = Fixture::init();
    let mut body = y_body();
    body.key = SigningKey::from_bytes(&[0x71; 32]);
    rotate(&node, &y_body(), &body.key, "2021-01-01");
    let suspension = |of: &Body, effective| {
        node.sign_as_authority(EventKind::BodySuspended(BodyStatusChange {
            registration_number: of.number,
            effective: d(effective),
            reason: "督导检查".to_string(),
        }))
    };
    node.submit(suspension(&s_body(), "2021-06-01"))
        .expect("accepted");
    let certified = fx.by_body(
        &body,
        EventKind::LevelCertified(zhang_san_junior(&fx, &body)),
    );
    let number: CertificateNumber = number_of(&certified);
    let receipt = node.submit(certified).expect("certified");
    node.submit(suspension(&y_body(), "2023-01-01"))
        .expect("accepted");
    rotate(
        &node,
        &y_body(),
        &SigningKey::from_bytes(&[0x72; 32]),
        "2024-01-01",
    );

    // when
    let bundle = node
        .credential_bundle(&number)
        .expect("bundle")
        .expect("the credential is on the ledger");

    // then: ledger, body, the first rotation only, the credential, and the later suspension
    // as an issuer change (it starts after the issue date: no warning)
    assert_eq!(
        labels(&bundle),
        [
            "ledger",
            "body",
            "body-change",
            "credential",
            "issuer-change"
        ]
    );
    let verified = verify_credential_bundle(&bundle, node.verifier_key_text()).expect("verifies");
    assert_eq!(verified.credential.entry_index, receipt.index);
    assert_eq!(verified.credential.issuer_warning, None);
    assert_eq!(verified.statement.issuer_changes.len(), 1);
    assert_eq!(
        verified.credential.signer_key,
        body.key.verifying_key().to_bytes()
    );
    assert_eq!(verified.checkpoint.size, node.entry_count());

    // and an unknown certificate has no bundle
    let unknown: CertificateNumber = "Y000050000001225999999".parse().expect("number");
    assert!(node.credential_bundle(&unknown).expect("query").is_none());
}

// ---------------------------------------------------------------------------------------
// A ledger whose authority key rotated (bundles built by hand)
// ---------------------------------------------------------------------------------------

fn new_authority() -> SigningKey {
    SigningKey::from_bytes(&[4; 32])
}

fn vkey_of(key: &SigningKey) -> String {
    verifier_key_text(ORIGIN, key)
}

fn rotation_event(by: &SigningKey, id: u8) -> SignedEvent {
    SignedEvent::sign(
        ORIGIN,
        Signer::Authority,
        by,
        Event {
            id: EventId([id; 16]),
            kind: EventKind::AuthorityKeyRotated(AuthorityKeyRotated {
                public_key: new_authority().verifying_key().to_bytes(),
                date: d("2025-01-01"),
                reason: "年度密钥轮换".to_string(),
            }),
        },
    )
}

/// The golden ledger's entries with the authority key's rotation logged after the credential
/// (entry 3).
fn rotated_after_the_credential() -> Vec<SignedEvent> {
    let mut events = golden_events().to_vec();
    events.push(rotation_event(&authority(), 0xcc));
    events
}

/// A bundle of `sections` (role, entry index) of the log `events`, against a checkpoint of the
/// whole log whose note is signed by each of `signers` in turn (a node signs with the old and
/// the new key for a while after a planned rotation).
fn hand_made_bundle(
    events: &[SignedEvent],
    sections: &[(BundleRole, u64)],
    signers: &[&SigningKey],
) -> String {
    let entries: Vec<Vec<u8>> = events
        .iter()
        .map(|signed| signed.to_entry().expect("entry"))
        .collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut tree = MerkleTree::open(dir.path()).expect("tree");
    let leaves: Vec<_> = entries.iter().map(|entry| leaf_hash(entry)).collect();
    let root = tree.append(&leaves).expect("append");
    let size = entries.len() as u64;
    let body = Checkpoint {
        origin: ORIGIN.to_string(),
        size,
        root,
        time_unix_s: GOLDEN_TIME_UNIX_S,
    }
    .body();
    let mut note = sign_note(&body, ORIGIN, signers[0]).expect("sign");
    for key in &signers[1..] {
        let other = sign_note(&body, ORIGIN, key).expect("sign");
        note.push_str(other.rsplit_once("\n\n").expect("signature").1);
    }
    let sections = sections
        .iter()
        .map(|&(role, index)| BundleSection {
            label: role.label().to_string(),
            entry: entries[index as usize].clone(),
            proof: TlogProof {
                index,
                hashes: tree.reader().inclusion_proof(index, size).expect("proof"),
                checkpoint_note: note.clone(),
            },
        })
        .collect();
    Bundle::new(sections)
        .and_then(|bundle| bundle.with_notes(status_note(size, root, StatedStatus::Valid, signers)))
        .expect("bundle")
        .to_text()
}

const WITH_THE_ROTATION: [(BundleRole, u64); 4] = [
    (BundleRole::Ledger, 0),
    (BundleRole::Body, 1),
    (BundleRole::Credential, 2),
    (BundleRole::AuthorityChange, 3),
];
const WITHOUT_THE_ROTATION: [(BundleRole, u64); 3] = [
    (BundleRole::Ledger, 0),
    (BundleRole::Body, 1),
    (BundleRole::Credential, 2),
];

#[test]
fn a_rotation_after_the_credential_verifies_for_a_verifier_of_the_old_or_the_new_key() {
    // given: the rotation logged after the credential, the checkpoint signed by the new key,
    // or by both during the planned rotation
    let events = rotated_after_the_credential();
    for signers in [vec![&new_authority()], vec![&authority(), &new_authority()]] {
        let bundle = hand_made_bundle(&events, &WITH_THE_ROTATION, &signers);
        // when / then: either key of the chain verifies it
        for trusted in [authority(), new_authority()] {
            let verified = verify_credential_bundle(&bundle, &vkey_of(&trusted)).expect("verifies");
            assert_eq!(verified.credential.entry_index, 2);
            assert_eq!(verified.credential.ledger.authority_keys.len(), 2);
            assert_eq!(verified.checkpoint.size, 4);
        }
        // and an unrelated key does not
        let error = verify_credential_bundle(&bundle, &vkey_of(&SigningKey::from_bytes(&[3; 32])))
            .expect_err("unrelated");
        assert_eq!(error.code(), "untrusted-key", "{error}");
    }
}

#[test]
fn a_bundle_that_leaves_out_the_rotation_fails_on_the_checkpoint() {
    let events = rotated_after_the_credential();
    // given: the checkpoint signed by the new key only, the rotation left out
    let bundle = hand_made_bundle(&events, &WITHOUT_THE_ROTATION, &[&new_authority()]);
    // then: the chain ends at the old key, which did not sign the checkpoint
    for trusted in [authority(), new_authority()] {
        let error = verify_credential_bundle(&bundle, &vkey_of(&trusted)).expect_err("missing");
        let expected = if trusted == authority() {
            "bad-checkpoint"
        } else {
            // the new key is not in a chain that never reaches it
            "untrusted-key"
        };
        assert_eq!(error.code(), expected, "{error}");
    }
    // given: the checkpoint signed by both keys, as during a planned rotation
    let bundle = hand_made_bundle(
        &events,
        &WITHOUT_THE_ROTATION,
        &[&authority(), &new_authority()],
    );
    // then: the old key's signature verifies, but the note names a key the chain lacks
    let error = verify_credential_bundle(&bundle, &vkey_of(&authority())).expect_err("missing");
    assert_eq!(error.code(), "bad-checkpoint", "{error}");
    assert!(
        error.to_string().contains("an authority change is missing"),
        "{error}"
    );
}

#[test]
fn a_checkpoint_signed_by_the_retired_key_after_a_rotation_fails() {
    // given: the rotation in the bundle, the checkpoint signed by the old key alone
    let bundle = hand_made_bundle(
        &rotated_after_the_credential(),
        &WITH_THE_ROTATION,
        &[&authority()],
    );
    // then: whichever key the verifier trusts, the key in force after entry 3 must sign it
    for trusted in [authority(), new_authority()] {
        let error = verify_credential_bundle(&bundle, &vkey_of(&trusted)).expect_err("retired");
        assert_eq!(error.code(), "bad-checkpoint", "{error}");
        assert!(error.to_string().contains("entry 3"), "{error}");
    }
}

#[test]
fn a_rotation_before_the_registration_is_needed_to_judge_the_registration() {
    // given: the rotation is entry 1, and the body is registered by the new key (entry 2)
    let [established, registered, certified] = golden_events();
    let registered_by_new = SignedEvent::sign(
        ORIGIN,
        Signer::Authority,
        &new_authority(),
        registered.event.clone(),
    );
    let events = vec![
        established,
        rotation_event(&authority(), 0xcc),
        registered_by_new,
        certified,
    ];
    let with = [
        (BundleRole::Ledger, 0),
        (BundleRole::AuthorityChange, 1),
        (BundleRole::Body, 2),
        (BundleRole::Credential, 3),
    ];
    let bundle = hand_made_bundle(&events, &with, &[&new_authority()]);
    verify_credential_bundle(&bundle, &vkey_of(&authority())).expect("verifies");

    // when the rotation is left out, then the registration is signed by a key not in force
    // there (and the checkpoint by a key the chain never reaches)
    let without = [with[0], with[2], with[3]];
    let bundle = hand_made_bundle(&events, &without, &[&authority(), &new_authority()]);
    let error = verify_credential_bundle(&bundle, &vkey_of(&authority())).expect_err("missing");
    assert_eq!(error.code(), "bad-checkpoint", "{error}");
    // and with the old key alone on the checkpoint, the registration itself is refused
    let bundle = hand_made_bundle(&events, &without, &[&authority()]);
    let error = verify_credential_bundle(&bundle, &vkey_of(&authority())).expect_err("missing");
    assert_eq!(error.code(), "key-not-valid-at-date", "{error}");
    assert!(error.to_string().contains("section 2"), "{error}");
}

#[test]
fn a_nodes_bundle_carries_the_authority_changes_up_to_its_checkpoint() {
    // given: a credential, then the authority sets its recovery key (an authority change
    // signed by the key in force, which stays in force)
    let (fx, node) = Fixture::init();
    let certified = fx.junior(&y_body(), "500101199001011234", "张三");
    let number = number_of(&certified);
    node.submit(certified).expect("certified");
    let recovery = SigningKey::from_bytes(&[0x73; 32]);
    let set = node.sign_as_authority(EventKind::AuthorityRecoveryKeySet(
        AuthorityRecoveryKeySet {
            public_key: recovery.verifying_key().to_bytes(),
            date: d("2024-01-02"),
        },
    ));
    let receipt = node.submit(set).expect("recovery key set");

    // when
    let bundle = node
        .credential_bundle(&number)
        .expect("bundle")
        .expect("the credential is on the ledger");

    // then: the authority change follows the credential, in log order
    assert_eq!(
        labels(&bundle),
        ["ledger", "body", "credential", "authority-change"]
    );
    assert!(bundle.contains(&format!("\nindex {}\n", receipt.index)));
    let verified = verify_credential_bundle(&bundle, node.verifier_key_text()).expect("verifies");
    assert_eq!(
        verified.credential.ledger.recovery_key,
        Some(recovery.verifying_key().to_bytes())
    );
    assert_eq!(
        verified.credential.ledger.authority_changes,
        [receipt.index]
    );
}

#[test]
fn a_credential_committed_before_name_keys_still_verifies_by_name_but_its_bundle_binds_no_holder() {
    // given: a credential whose name commitment has the form written before name keys
    let (fx, node) = Fixture::init();
    let mut certified = zhang_san_junior(&fx, &y_body());
    let number = certified.certificate_number;
    certified.name_commitment = fx.pseudonym.commit_name_v1(number.as_str(), "张三");
    node.submit(fx.by_body(&y_body(), EventKind::LevelCertified(certified)))
        .expect("certified");

    // when / then: the online name check still matches, a wrong name does not
    assert!(matches!(
        node.check_name(&number, "张 三").expect("check"),
        skill_ledger_node::NameCheck::Matched(_)
    ));
    assert!(matches!(
        node.check_name(&number, "李四").expect("check"),
        skill_ledger_node::NameCheck::Mismatch
    ));
    // and the bundle asked for with the name verifies, without a holder key (a name key
    // cannot open the old form)
    let skill_ledger_node::HolderBundle::Bundle(text) = node
        .credential_bundle_for_holder(&number, "张三")
        .expect("bundle")
    else {
        panic!("a bundle for the holder's name");
    };
    let verified = verify_credential_bundle(&text, node.verifier_key_text()).expect("verifies");
    assert_eq!(verified.statement.holder_key, None);
    assert_eq!(verified.holder_matches("张三"), None);
}
