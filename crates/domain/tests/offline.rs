//! Given/when/then tests of `check_credential_offline`: which proven entries establish a
//! credential, for a verifier trusting which key, and the named reason when they do not.
//!
//! Setup as in `rules.rs` ([`Fx::setup`]): entries 0 ledger, 1 catalogue, 2 policy, 3 the Y
//! body, 4 the S body; later entries follow in the order given.

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    check_credential_offline, AuthorityKeyRotated, AuthorityRecoveryKeySet, BodyKeyRotated,
    BundleRole, EventKind, Level, OfflineCredential, ProvenEvent, SignedEvent, Signer, TrustedKey,
};

const Y_INDEX: u64 = 3;
const S_INDEX: u64 = 4;

fn proven(role: BundleRole, index: u64, signed: &SignedEvent) -> ProvenEvent {
    ProvenEvent {
        role,
        index,
        signed: signed.clone(),
    }
}

/// What a verifier who learned the ledger's first authority key trusts.
fn trusting(key: &SigningKey) -> TrustedKey {
    TrustedKey {
        name: ORIGIN.to_string(),
        public_key: key.verifying_key().to_bytes(),
    }
}

/// The one assertion: `events` checked offline by a verifier trusting the ledger's first
/// authority key give `then` (`Err` holds the code and the section at fault).
fn check(events: &[ProvenEvent], then: Result<(), (&str, usize)>) -> Option<OfflineCredential> {
    check_trusting(events, &trusting(&authority_key()), then)
}

/// [`check`] for a verifier trusting `trusted`.
fn check_trusting(
    events: &[ProvenEvent],
    trusted: &TrustedKey,
    then: Result<(), (&str, usize)>,
) -> Option<OfflineCredential> {
    let result = check_credential_offline(ORIGIN, events, trusted);
    match (result, then) {
        (Ok(credential), Ok(())) => Some(credential),
        (Err(error), Err((code, section))) => {
            assert_eq!(error.code, code, "{error}");
            assert_eq!(error.section, section, "{error}");
            assert!(
                error.to_string().contains(&format!("section {section}")),
                "{error}"
            );
            None
        }
        (outcome, expected) => panic!("expected {expected:?}, got {outcome:?}"),
    }
}

/// The setup, then `later` accepted in order; returns the log.
fn log(fx: &Fx, later: Vec<SignedEvent>) -> Vec<SignedEvent> {
    let mut events = fx.setup();
    events.extend(later);
    given(events.clone());
    events
}

fn rotation(fx: &Fx, effective: &str, key: u8) -> SignedEvent {
    fx.by_authority(EventKind::BodyKeyRotated(BodyKeyRotated {
        registration_number: y_body().number,
        public_key: common::key(key).verifying_key().to_bytes(),
        effective: d(effective),
        reason: "密钥定期轮换".to_string(),
    }))
}

#[test]
fn a_credential_with_its_body_and_ledger_is_established() {
    let fx = Fx::new();
    let entries = log(
        &fx,
        vec![fx.certify(
            &y_body(),
            1,
            turner(),
            Level::Junior,
            "2020-06-01",
            attested(),
        )],
    );
    let events = [
        proven(BundleRole::Ledger, 0, &entries[0]),
        proven(BundleRole::Body, Y_INDEX, &entries[3]),
        proven(BundleRole::Credential, 5, &entries[5]),
    ];
    let credential = check(&events, Ok(())).expect("established");
    assert_eq!(credential.entry_index, 5);
    assert_eq!(credential.body.registration_number, y_body().number);
    assert_eq!(
        credential.signer_key,
        y_body().key.verifying_key().to_bytes()
    );
    assert_eq!(credential.ledger.origin, ORIGIN);
}

#[test]
fn a_key_rotation_before_the_credential_is_needed_to_establish_the_new_key() {
    let fx = Fx::new();
    let mut rotated = y_body();
    rotated.key = common::key(9);
    let entries = log(
        &fx,
        vec![
            rotation(&fx, "2022-01-01", 9),
            fx.certify(
                &rotated,
                1,
                turner(),
                Level::Junior,
                "2023-06-01",
                attested(),
            ),
        ],
    );
    let ledger = proven(BundleRole::Ledger, 0, &entries[0]);
    let body = proven(BundleRole::Body, Y_INDEX, &entries[3]);
    let change = proven(BundleRole::BodyChange, 5, &entries[5]);
    let credential = proven(BundleRole::Credential, 6, &entries[6]);
    check(
        &[ledger.clone(), body.clone(), change, credential.clone()],
        Ok(()),
    );
    // without the rotation, the registration's key is the one valid at the issue date
    check(
        &[ledger, body, credential],
        Err(("key-not-valid-at-date", 3)),
    );
}

#[test]
fn a_credential_signed_with_the_old_key_before_a_logged_rotation_takes_effect_stands() {
    let fx = Fx::new();
    let entries = log(
        &fx,
        vec![
            rotation(&fx, "2024-01-01", 9),
            fx.certify(
                &y_body(),
                1,
                turner(),
                Level::Junior,
                "2023-06-01",
                attested(),
            ),
        ],
    );
    check(
        &[
            proven(BundleRole::Ledger, 0, &entries[0]),
            proven(BundleRole::Body, Y_INDEX, &entries[3]),
            proven(BundleRole::BodyChange, 5, &entries[5]),
            proven(BundleRole::Credential, 6, &entries[6]),
        ],
        Ok(()),
    );
}

#[test]
fn another_bodys_registration_is_named() {
    let fx = Fx::new();
    let entries = log(
        &fx,
        vec![fx.certify(
            &y_body(),
            1,
            turner(),
            Level::Junior,
            "2020-06-01",
            attested(),
        )],
    );
    check(
        &[
            proven(BundleRole::Ledger, 0, &entries[0]),
            proven(BundleRole::Body, S_INDEX, &entries[4]),
            proven(BundleRole::Credential, 5, &entries[5]),
        ],
        Err(("certificate-body-mismatch", 3)),
    );
}

/// Credentials the rules would never accept, fabricated to reach each offline check.
#[test]
fn scope_window_status_and_key_are_checked_at_the_issue_date() {
    let fx = Fx::new();
    let entries = fx.setup();
    let ledger = proven(BundleRole::Ledger, 0, &entries[0]);
    let body = proven(BundleRole::Body, Y_INDEX, &entries[3]);
    let issued = |level, date: &str, occupation| {
        proven(
            BundleRole::Credential,
            10,
            &fx.certify(&y_body(), 1, occupation, level, date, attested()),
        )
    };

    // 焊工 only up to 技师
    check(
        &[
            ledger.clone(),
            body.clone(),
            issued(Level::SeniorTechnician, "2020-06-01", welder()),
        ],
        Err(("out-of-scope", 3)),
    );
    // not in the scope at all
    check(
        &[
            ledger.clone(),
            body.clone(),
            issued(Level::Junior, "2020-06-01", cook()),
        ],
        Err(("out-of-scope", 3)),
    );
    // registered 2019–2040
    check(
        &[
            ledger.clone(),
            body.clone(),
            issued(Level::Junior, "2041-06-01", turner()),
        ],
        Err(("outside-registration-window", 3)),
    );
    // suspended from 2021-01-01 (logged before the credential)
    let suspension = proven(
        BundleRole::BodyChange,
        5,
        &fx.suspend(&y_body(), "2021-01-01"),
    );
    check(
        &[
            ledger.clone(),
            body.clone(),
            suspension.clone(),
            issued(Level::Junior, "2021-06-01", turner()),
        ],
        Err(("body-not-active", 4)),
    );
    // issued before the suspension took effect: stands
    check(
        &[
            ledger.clone(),
            body.clone(),
            suspension,
            issued(Level::Junior, "2020-06-01", turner()),
        ],
        Ok(()),
    );
    // signed by a key the body never held
    let mut impostor = y_body();
    impostor.key = common::key(42);
    let forged = proven(
        BundleRole::Credential,
        10,
        &fx.certify(
            &impostor,
            1,
            turner(),
            Level::Junior,
            "2020-06-01",
            attested(),
        ),
    );
    check(&[ledger, body, forged], Err(("key-not-valid-at-date", 3)));
}

#[test]
fn signatures_origin_and_authority_are_checked() {
    let fx = Fx::new();
    let entries = log(
        &fx,
        vec![fx.certify(
            &y_body(),
            1,
            turner(),
            Level::Junior,
            "2020-06-01",
            attested(),
        )],
    );
    let ledger = proven(BundleRole::Ledger, 0, &entries[0]);
    let body = proven(BundleRole::Body, Y_INDEX, &entries[3]);
    let credential = proven(BundleRole::Credential, 5, &entries[5]);

    // the credential's content changed after signing
    let mut changed = credential.clone();
    if let EventKind::LevelCertified(certified) = &mut changed.signed.event.kind {
        certified.name_commitment.0[0] ^= 1;
    }
    check(
        &[ledger.clone(), body.clone(), changed],
        Err(("bad-signature", 3)),
    );

    // a registration signed by a key other than the ledger's authority key
    let mut registration = body.clone();
    registration.signed = fx.sign(
        skill_ledger_domain::Signer::Authority,
        &common::key(77),
        entries[3].event.kind.clone(),
    );
    check(
        &[ledger.clone(), registration, credential.clone()],
        Err(("key-not-valid-at-date", 2)),
    );

    // the ledger of another origin
    let result = check_credential_offline(
        OTHER_ORIGIN,
        &[ledger.clone(), body.clone(), credential.clone()],
        &trusting(&authority_key()),
    );
    let error = result.expect_err("origin");
    assert_eq!(error.code, "origin-mismatch", "{error}");
}

#[test]
fn sections_in_the_wrong_roles_or_order_are_named() {
    let fx = Fx::new();
    let entries = log(
        &fx,
        vec![
            fx.suspend(&s_body(), "2021-01-01"),
            fx.certify(
                &y_body(),
                1,
                turner(),
                Level::Junior,
                "2020-06-01",
                attested(),
            ),
        ],
    );
    let ledger = proven(BundleRole::Ledger, 0, &entries[0]);
    let body = proven(BundleRole::Body, Y_INDEX, &entries[3]);
    let credential = proven(BundleRole::Credential, 6, &entries[6]);

    check(
        &[ledger.clone(), credential.clone()],
        Err(("bundle-structure", 2)),
    );
    check(
        &[body.clone(), ledger.clone(), credential.clone()],
        Err(("bundle-structure", 1)),
    );
    // the catalogue in the ledger's place
    check(
        &[
            proven(BundleRole::Ledger, 1, &entries[1]),
            body.clone(),
            credential.clone(),
        ],
        Err(("bundle-structure", 1)),
    );
    // entry 0 claimed at another index
    let mut moved = ledger.clone();
    moved.index = 2;
    check(
        &[moved, body.clone(), credential.clone()],
        Err(("bundle-structure", 1)),
    );
    // a change about another body
    check(
        &[
            ledger.clone(),
            body.clone(),
            proven(BundleRole::BodyChange, 5, &entries[5]),
            credential.clone(),
        ],
        Err(("bundle-structure", 3)),
    );
    // log order
    let mut early = credential.clone();
    early.index = 2;
    check(&[ledger, body, early], Err(("bundle-structure", 3)));
}

// ---------------------------------------------------------------------------------------
// The authority key's rotation and recovery: `authority-change` sections
// ---------------------------------------------------------------------------------------

fn recovery() -> SigningKey {
    common::key(90)
}

fn new_authority() -> SigningKey {
    common::key(91)
}

fn authority_rotation(fx: &Fx, signer: Signer, by: &SigningKey, new: &SigningKey) -> SignedEvent {
    fx.sign(
        signer,
        by,
        EventKind::AuthorityKeyRotated(AuthorityKeyRotated {
            public_key: new.verifying_key().to_bytes(),
            date: d("2024-06-01"),
            reason: "年度密钥轮换".to_string(),
        }),
    )
}

fn recovery_key_set(fx: &Fx) -> SignedEvent {
    fx.by_authority(EventKind::AuthorityRecoveryKeySet(
        AuthorityRecoveryKeySet {
            public_key: recovery().verifying_key().to_bytes(),
            date: d("2024-01-02"),
        },
    ))
}

/// The Y body's key rotated to `key(new)`, signed by the authority key `by`.
fn body_rotation_by(fx: &Fx, by: &SigningKey, new: u8) -> SignedEvent {
    fx.sign(
        Signer::Authority,
        by,
        EventKind::BodyKeyRotated(BodyKeyRotated {
            registration_number: y_body().number,
            public_key: common::key(new).verifying_key().to_bytes(),
            effective: d("2024-07-01"),
            reason: "密钥定期轮换".to_string(),
        }),
    )
}

fn y_with_key(n: u8) -> Body {
    let mut body = y_body();
    body.key = common::key(n);
    body
}

fn junior_turner(fx: &Fx, body: &Body, issued: &str) -> SignedEvent {
    fx.certify(body, 1, turner(), Level::Junior, issued, attested())
}

fn authority_keys(credential: &OfflineCredential) -> Vec<[u8; 32]> {
    credential
        .ledger
        .authority_keys
        .iter()
        .map(|period| period.public_key)
        .collect()
}

#[test]
fn given_a_rotation_before_the_credential_when_the_bundle_carries_it_then_the_new_key_judges_what_follows(
) {
    // given: the authority key rotates (5), the new key rotates the Y body's key (6), the
    // body issues with its new key (7)
    let fx = Fx::new();
    let entries = log(
        &fx,
        vec![
            authority_rotation(&fx, Signer::Authority, &authority_key(), &new_authority()),
            body_rotation_by(&fx, &new_authority(), 9),
            junior_turner(&fx, &y_with_key(9), "2024-08-01"),
        ],
    );
    let ledger = proven(BundleRole::Ledger, 0, &entries[0]);
    let body = proven(BundleRole::Body, Y_INDEX, &entries[3]);
    let rotation = proven(BundleRole::AuthorityChange, 5, &entries[5]);
    let change = proven(BundleRole::BodyChange, 6, &entries[6]);
    let credential = proven(BundleRole::Credential, 7, &entries[7]);

    // when / then: established, and the checkpoint must be signed by the new key
    let established = check(
        &[
            ledger.clone(),
            body.clone(),
            rotation,
            change.clone(),
            credential.clone(),
        ],
        Ok(()),
    )
    .expect("established");
    assert_eq!(
        authority_keys(&established),
        [
            authority_key().verifying_key().to_bytes(),
            new_authority().verifying_key().to_bytes()
        ]
    );
    assert_eq!(
        established.ledger.authority_key(),
        Some(new_authority().verifying_key().to_bytes())
    );
    assert_eq!(established.ledger.authority_changes, [5]);

    // and without the rotation, the body change is signed by a key not in force there
    check(
        &[ledger, body, change, credential],
        Err(("key-not-valid-at-date", 3)),
    );
}

#[test]
fn given_a_rotation_after_the_credential_when_the_bundle_carries_it_then_the_checkpoint_key_is_the_new_one(
) {
    // given: a credential (5), then the authority key rotates (6)
    let fx = Fx::new();
    let entries = log(
        &fx,
        vec![
            junior_turner(&fx, &y_body(), "2020-06-01"),
            authority_rotation(&fx, Signer::Authority, &authority_key(), &new_authority()),
        ],
    );
    let ledger = proven(BundleRole::Ledger, 0, &entries[0]);
    let body = proven(BundleRole::Body, Y_INDEX, &entries[3]);
    let credential = proven(BundleRole::Credential, 5, &entries[5]);
    let rotation = proven(BundleRole::AuthorityChange, 6, &entries[6]);

    // when: the rotation follows the credential in the bundle
    let established = check(
        &[ledger.clone(), body.clone(), credential.clone(), rotation],
        Ok(()),
    )
    .expect("established");

    // then: the credential is judged as before, and the checkpoint key is the new one
    assert_eq!(established.entry_index, 5);
    assert_eq!(
        established.ledger.authority_key(),
        Some(new_authority().verifying_key().to_bytes())
    );

    // and a bundle missing the rotation names the old key as the checkpoint's: the node's
    // check of the checkpoint then fails (crates/node/tests/bundle.rs)
    let missing = check(&[ledger, body, credential], Ok(())).expect("the entries alone stand");
    assert_eq!(
        missing.ledger.authority_key(),
        Some(authority_key().verifying_key().to_bytes())
    );
}

#[test]
fn given_a_recovery_when_the_bundle_carries_the_recovery_key_and_the_rotation_then_the_recovered_key_judges(
) {
    // given: the recovery key set (5), the authority key recovered by it (6), the recovered
    // key rotates the Y body's key (7), the body issues with its new key (8)
    let fx = Fx::new();
    let recovered = common::key(94);
    let entries = log(
        &fx,
        vec![
            recovery_key_set(&fx),
            authority_rotation(&fx, Signer::Recovery, &recovery(), &recovered),
            body_rotation_by(&fx, &recovered, 9),
            junior_turner(&fx, &y_with_key(9), "2024-08-01"),
        ],
    );
    let ledger = proven(BundleRole::Ledger, 0, &entries[0]);
    let body = proven(BundleRole::Body, Y_INDEX, &entries[3]);
    let set = proven(BundleRole::AuthorityChange, 5, &entries[5]);
    let recovery_rotation = proven(BundleRole::AuthorityChange, 6, &entries[6]);
    let change = proven(BundleRole::BodyChange, 7, &entries[7]);
    let credential = proven(BundleRole::Credential, 8, &entries[8]);

    // when / then
    let established = check(
        &[
            ledger.clone(),
            body.clone(),
            set,
            recovery_rotation.clone(),
            change.clone(),
            credential.clone(),
        ],
        Ok(()),
    )
    .expect("established");
    assert_eq!(
        established.ledger.authority_key(),
        Some(recovered.verifying_key().to_bytes())
    );
    assert_eq!(
        established.ledger.recovery_key,
        Some(recovery().verifying_key().to_bytes())
    );

    // and without the recovery key's entry, the recovery proves nothing
    check(
        &[ledger, body, recovery_rotation, change, credential],
        Err(("no-recovery-key", 3)),
    );
}

#[test]
fn given_a_rotated_ledger_when_the_verifier_trusts_the_old_or_new_key_then_it_verifies_and_not_another(
) {
    // given: a bundle whose chain runs from the first authority key to a new one
    let fx = Fx::new();
    let entries = log(
        &fx,
        vec![
            recovery_key_set(&fx),
            junior_turner(&fx, &y_body(), "2020-06-01"),
            authority_rotation(&fx, Signer::Authority, &authority_key(), &new_authority()),
        ],
    );
    let bundle = [
        proven(BundleRole::Ledger, 0, &entries[0]),
        proven(BundleRole::Body, Y_INDEX, &entries[3]),
        proven(BundleRole::AuthorityChange, 5, &entries[5]),
        proven(BundleRole::Credential, 6, &entries[6]),
        proven(BundleRole::AuthorityChange, 7, &entries[7]),
    ];

    // when / then: a verifier who learned either key of the chain verifies it
    for key in [authority_key(), new_authority()] {
        check_trusting(&bundle, &trusting(&key), Ok(()));
    }
    // and one who trusts an unrelated key, the recovery key (it signs no checkpoint), or the
    // right key under another ledger's name is refused
    for trusted in [
        trusting(&common::key(77)),
        trusting(&recovery()),
        TrustedKey {
            name: OTHER_ORIGIN.to_string(),
            public_key: new_authority().verifying_key().to_bytes(),
        },
    ] {
        check_trusting(&bundle, &trusted, Err(("untrusted-key", 1)));
    }
}

#[test]
fn an_authority_change_signed_by_a_retired_key_or_posing_as_the_recovery_key_is_refused() {
    // given: the recovery key set (5) and a planned rotation (6)
    let fx = Fx::new();
    let entries = log(
        &fx,
        vec![
            recovery_key_set(&fx),
            authority_rotation(&fx, Signer::Authority, &authority_key(), &new_authority()),
            junior_turner(&fx, &y_body(), "2020-06-01"),
        ],
    );
    let head = [
        proven(BundleRole::Ledger, 0, &entries[0]),
        proven(BundleRole::Body, Y_INDEX, &entries[3]),
        proven(BundleRole::AuthorityChange, 5, &entries[5]),
        proven(BundleRole::AuthorityChange, 6, &entries[6]),
    ];
    let credential = proven(BundleRole::Credential, 7, &entries[7]);
    let with = |forged: SignedEvent| {
        let mut events = head.to_vec();
        events.push(credential.clone());
        events.push(proven(BundleRole::AuthorityChange, 8, &forged));
        events
    };

    // when: a further rotation signed by the key the first one retired
    let by_retired = authority_rotation(&fx, Signer::Authority, &authority_key(), &common::key(95));
    // then: the key in force at that position is the new one
    check(&with(by_retired), Err(("key-not-valid-at-date", 6)));

    // and a rotation by a key posing as the recovery key
    let posing = authority_rotation(&fx, Signer::Recovery, &common::key(96), &common::key(95));
    check(&with(posing), Err(("key-not-valid-at-date", 6)));

    // and a rotation whose content changed after signing
    let mut changed =
        authority_rotation(&fx, Signer::Authority, &new_authority(), &common::key(95));
    if let EventKind::AuthorityKeyRotated(rotated) = &mut changed.event.kind {
        rotated.reason.push('!');
    }
    check(&with(changed), Err(("bad-signature", 6)));

    // and the same rotation signed right stands
    let right = authority_rotation(&fx, Signer::Authority, &new_authority(), &common::key(95));
    check(&with(right), Ok(()));
}

#[test]
fn authority_change_sections_sit_after_the_ledger_and_hold_only_authority_changes() {
    let fx = Fx::new();
    let entries = log(
        &fx,
        vec![
            authority_rotation(&fx, Signer::Authority, &authority_key(), &new_authority()),
            junior_turner(&fx, &y_body(), "2020-06-01"),
        ],
    );
    let ledger = proven(BundleRole::Ledger, 0, &entries[0]);
    let body = proven(BundleRole::Body, Y_INDEX, &entries[3]);
    let rotation = proven(BundleRole::AuthorityChange, 5, &entries[5]);
    let credential = proven(BundleRole::Credential, 6, &entries[6]);

    // before the ledger
    check(
        &[
            rotation.clone(),
            ledger.clone(),
            body.clone(),
            credential.clone(),
        ],
        Err(("bundle-structure", 1)),
    );
    // a catalogue posing as an authority change
    check(
        &[
            ledger.clone(),
            proven(BundleRole::AuthorityChange, 1, &entries[1]),
            body.clone(),
            rotation.clone(),
            credential.clone(),
        ],
        Err(("bundle-structure", 2)),
    );
    // out of log order
    check(
        &[ledger, rotation, body, credential],
        Err(("bundle-structure", 3)),
    );
}
