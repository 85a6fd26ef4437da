//! Offline credential bundles: the golden vector (docs/formats.md, "Offline credential
//! bundle"), bundles of a real node with body changes, and single-bit damage anywhere.

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    Audience, BodyKeyRotated, BodyRegistered, BodyStatusChange, BundleRole, CertificateNumber,
    EvaluationBasis, Event, EventId, EventKind, IdDocumentType, LedgerEstablished, Level,
    LevelCertified, Province, PseudonymKey, Route, ScopeItem, SignedEvent, Signer,
};
use skill_ledger_log::{
    leaf_hash, sign_note, verifier_key_text, Bundle, BundleSection, Checkpoint, MerkleTree,
    TlogProof,
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

/// Builds the golden bundle: the three entries in a tree of size 3, a checkpoint signed at
/// the golden time by the authority key.
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
    Bundle::new(sections).expect("bundle").to_text()
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
    let other = verifier_key_text(ORIGIN, &SigningKey::from_bytes(&[3; 32]));
    let error = verify_credential_bundle(GOLDEN_BUNDLE, &other).expect_err("another key");
    assert_eq!(error.code(), "bad-checkpoint", "{error}");
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
        EventKind::LevelCertified(fx.certified(
            &body,
            "500101199001011234",
            "张三",
            turner(),
            Level::Junior,
            "2022-06-01",
            attested(),
        )),
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

    // then: ledger, body, the first rotation only, the credential
    assert_eq!(
        labels(&bundle),
        ["ledger", "body", "body-change", "credential"]
    );
    let verified = verify_credential_bundle(&bundle, node.verifier_key_text()).expect("verifies");
    assert_eq!(verified.credential.entry_index, receipt.index);
    assert_eq!(
        verified.credential.signer_key,
        body.key.verifying_key().to_bytes()
    );
    assert_eq!(verified.checkpoint.size, node.entry_count());

    // and an unknown certificate has no bundle
    let unknown: CertificateNumber = "Y000050000001225999999".parse().expect("number");
    assert!(node.credential_bundle(&unknown).expect("query").is_none());
}
