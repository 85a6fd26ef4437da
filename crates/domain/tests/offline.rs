//! Given/when/then tests of `check_credential_offline`: which proven entries establish a
//! credential, and the named reason when they do not.
//!
//! Setup as in `rules.rs` ([`Fx::setup`]): entries 0 ledger, 1 catalogue, 2 policy, 3 the Y
//! body, 4 the S body; later entries follow in the order given.

mod common;

use common::*;
use skill_ledger_domain::{
    check_credential_offline, BodyKeyRotated, BundleRole, EventKind, Level, OfflineCredential,
    ProvenEvent, SignedEvent,
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

/// The one assertion: `events` checked offline give `then` (`Err` holds the code and a
/// fragment of the reason, and the section at fault).
fn check(events: &[ProvenEvent], then: Result<(), (&str, usize)>) -> Option<OfflineCredential> {
    let result = check_credential_offline(ORIGIN, events);
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
