//! A body key reported stolen at date D: what the ledger does, and what it does not do
//! (docs/security.md, "Key compromise"). The rules judge a body's key, status and
//! registration window at the date the event itself carries (the issue date of a
//! credential, the effective date of a revocation), never at the date it was logged; these
//! tests pin both sides of that choice.

mod common;

use common::*;
use skill_ledger_domain::{
    check_not_backdated, BodyKeyRevoked, BodyKeyRotated, CredentialStatus, EventKind, Level,
    MemoryLedger, SignedEvent,
};

/// The day the key is reported stolen.
const D: &str = "2024-03-01";

fn rotate(
    fx: &Fx,
    body: &Body,
    new_key: &ed25519_dalek::SigningKey,
    effective: &str,
) -> SignedEvent {
    fx.by_authority(EventKind::BodyKeyRotated(BodyKeyRotated {
        registration_number: body.number,
        public_key: new_key.verifying_key().to_bytes(),
        effective: d(effective),
        reason: "私钥被盗, 报案登记".to_string(),
    }))
}

fn submit(ledger: &mut MemoryLedger, signed: SignedEvent) -> Result<u64, &'static str> {
    ledger.submit(signed).map_err(|rejection| rejection.code())
}

/// The authority revokes the credential `signed` certified, effective `date`, and it is.
fn the_authority_revokes(fx: &Fx, ledger: &mut MemoryLedger, signed: &SignedEvent, date: &str) {
    let revoked = fx.by_authority(EventKind::CredentialRevoked(fx.revocation(signed, date)));
    submit(ledger, revoked).expect("the authority revokes it");
    assert!(matches!(
        status(ledger, signed),
        CredentialStatus::Revoked { .. }
    ));
}

fn status(ledger: &MemoryLedger, signed: &SignedEvent) -> CredentialStatus {
    ledger
        .credentials
        .get(&number_of(signed))
        .expect("credential on the ledger")
        .status
        .clone()
}

#[test]
fn after_a_rotation_at_d_the_stolen_key_cannot_issue_or_revoke_dated_d_or_later() {
    let fx = Fx::new();
    let stolen = y_body();
    let fresh = Body {
        key: key(30),
        ..y_body()
    };
    let mut ledger = given(fx.setup());
    submit(&mut ledger, rotate(&fx, &stolen, &fresh.key, D)).expect("rotation accepted");

    let thief = fx.certify(&stolen, 1, turner(), Level::Junior, D, attested());
    assert_eq!(submit(&mut ledger, thief), Err("key-not-valid-at-date"));
    let genuine = fx.certify(&fresh, 2, turner(), Level::Junior, "2024-03-02", attested());
    submit(&mut ledger, genuine.clone()).expect("the new key issues from D on");
    let revocation = fx.by_body(
        &stolen,
        EventKind::CredentialRevoked(fx.revocation(&genuine, "2024-03-05")),
    );
    assert_eq!(
        submit(&mut ledger, revocation),
        Err("key-not-valid-at-date")
    );
    assert_eq!(status(&ledger, &genuine), CredentialStatus::Valid);
}

/// Known gap: the key is judged at the date the event claims, and a signer chooses that
/// date. A thief holding the old key can still issue a credential dated before D, after the
/// rotation is logged. Nothing in the ledger tells it from one issued before the theft.
#[test]
fn known_gap_the_stolen_key_still_issues_credentials_backdated_before_d() {
    let fx = Fx::new();
    let stolen = y_body();
    let fresh = Body {
        key: key(30),
        ..y_body()
    };
    let mut ledger = given(fx.setup());
    submit(&mut ledger, rotate(&fx, &stolen, &fresh.key, D)).expect("rotation accepted");

    let backdated = fx.certify(
        &stolen,
        1,
        turner(),
        Level::Junior,
        "2024-02-29",
        attested(),
    );
    submit(&mut ledger, backdated.clone()).expect("accepted: the old key was valid on 2024-02-29");
    assert_eq!(status(&ledger, &backdated), CredentialStatus::Valid);
    // The authority can revoke it, one certificate at a time.
    the_authority_revokes(&fx, &mut ledger, &backdated, "2024-03-10");
}

/// Known gap, the other direction: revocation is final, and a revocation is judged at its
/// own effective date. A thief can revoke the body's genuine credentials with an effective
/// date before D, and no event undoes a revocation.
#[test]
fn known_gap_the_stolen_key_can_still_revoke_genuine_credentials_backdated_before_d() {
    let fx = Fx::new();
    let (stolen, fresh, genuine, mut ledger) = given_a_genuine_credential_and_a_rotation_at_d(&fx);

    let malicious = fx.by_body(
        &stolen,
        EventKind::CredentialRevoked(fx.revocation(&genuine, "2024-02-28")),
    );
    submit(&mut ledger, malicious).expect("accepted: the old key was valid on 2024-02-28");
    assert!(matches!(
        status(&ledger, &genuine),
        CredentialStatus::Revoked { .. }
    ));
    // A second revocation (to correct it) is refused: there is no reinstatement.
    let again = fx.by_body(
        &fresh,
        EventKind::CredentialRevoked(fx.revocation(&genuine, "2024-03-05")),
    );
    assert_eq!(submit(&mut ledger, again), Err("already-revoked"));
}

/// Known gap: a rotation (or suspension) does not reach back. Credentials the thief issued
/// dated D or later, logged before the authority learned of the theft, stay valid after a
/// rotation effective D is logged: the ledger has no event that revokes everything a key
/// signed after a date. Each must be revoked on its own, by the authority.
#[test]
fn known_gap_a_rotation_effective_d_leaves_credentials_logged_before_it_valid() {
    let fx = Fx::new();
    let stolen = y_body();
    let fresh = Body {
        key: key(30),
        ..y_body()
    };
    let mut ledger = given(fx.setup());
    let forged = fx.certify(
        &stolen,
        1,
        turner(),
        Level::Junior,
        "2024-03-03",
        attested(),
    );
    submit(&mut ledger, forged.clone()).expect("the theft is not known yet");
    submit(&mut ledger, rotate(&fx, &stolen, &fresh.key, D)).expect("rotation effective D");
    assert_eq!(status(&ledger, &forged), CredentialStatus::Valid);

    // Suspending the body from D does not reach back either.
    submit(&mut ledger, fx.suspend(&stolen, D)).expect("suspension effective D");
    assert_eq!(status(&ledger, &forged), CredentialStatus::Valid);
    // And it blocks new credentials dated from D on, by any key …
    let after = fx.certify(&fresh, 2, turner(), Level::Junior, "2024-03-04", attested());
    assert_eq!(submit(&mut ledger, after), Err("body-not-active"));

    // … while the authority revokes the forged one itself.
    the_authority_revokes(&fx, &mut ledger, &forged, "2024-03-03");
}

/// A rotation cannot be dated before the key period in force began, so the ledger cannot
/// express "this key was stolen before it was even rotated in".
#[test]
fn a_rotation_cannot_be_dated_before_the_current_key_began() {
    let fx = Fx::new();
    let stolen = y_body();
    let fresh = Body {
        key: key(30),
        ..y_body()
    };
    let mut ledger = given(fx.setup());
    submit(&mut ledger, rotate(&fx, &stolen, &fresh.key, "2022-01-01")).expect("rotation");
    let earlier = rotate(&fx, &fresh, &key(31), "2021-06-01");
    assert_eq!(submit(&mut ledger, earlier), Err("date-before-last-change"));
}

/// The body (its key to be stolen), the same body with its new key, a genuine credential
/// issued in 2023, and a ledger holding it and the rotation to the new key effective D.
fn given_a_genuine_credential_and_a_rotation_at_d(
    fx: &Fx,
) -> (Body, Body, SignedEvent, MemoryLedger) {
    let stolen = y_body();
    let fresh = Body {
        key: key(30),
        ..y_body()
    };
    let genuine = fx.certify(
        &stolen,
        1,
        turner(),
        Level::Junior,
        "2023-06-01",
        attested(),
    );
    let mut ledger = given(with_events(fx.setup(), [genuine.clone()]));
    submit(&mut ledger, rotate(fx, &stolen, &fresh.key, D)).expect("rotation effective D");
    (stolen, fresh, genuine, ledger)
}

fn with_events(
    mut events: Vec<SignedEvent>,
    more: impl IntoIterator<Item = SignedEvent>,
) -> Vec<SignedEvent> {
    events.extend(more);
    events
}

fn revoke_key(fx: &Fx, body: &Body, date: &str) -> SignedEvent {
    fx.by_authority(EventKind::BodyKeyRevoked(BodyKeyRevoked {
        registration_number: body.number,
        public_key: body.key.verifying_key().to_bytes(),
        date: d(date),
        reason: "私钥被盗, 报案登记".to_string(),
    }))
}

/// The gaps above closed: once the authority logs `BodyKeyRevoked`, the stolen key signs
/// nothing more, whatever date it puts on an event; the body's new key keeps working.
#[test]
fn after_a_key_revocation_the_stolen_key_signs_nothing_whatever_the_date() {
    let fx = Fx::new();
    let (stolen, fresh, genuine, mut ledger) = given_a_genuine_credential_and_a_rotation_at_d(&fx);
    let revocation_index =
        submit(&mut ledger, revoke_key(&fx, &stolen, "2024-03-02")).expect("key revoked");
    let body = &ledger.registry.bodies[&stolen.number];
    assert_eq!(body.revoked_keys.len(), 1);
    assert_eq!(body.revoked_keys[0].entry_index, revocation_index);

    // Backdated issuance and backdated revocation: both refused now.
    let backdated = fx.certify(
        &stolen,
        2,
        turner(),
        Level::Junior,
        "2024-02-29",
        attested(),
    );
    assert_eq!(submit(&mut ledger, backdated), Err("key-revoked"));
    let malicious = fx.by_body(
        &stolen,
        EventKind::CredentialRevoked(fx.revocation(&genuine, "2024-02-28")),
    );
    assert_eq!(submit(&mut ledger, malicious), Err("key-revoked"));
    assert_eq!(status(&ledger, &genuine), CredentialStatus::Valid);
    // The new key still issues.
    let after = fx.certify(&fresh, 3, turner(), Level::Junior, "2024-03-04", attested());
    submit(&mut ledger, after).expect("the new key issues");
}

#[test]
fn a_key_revocation_names_a_key_the_body_held_once_by_the_authority() {
    let fx = Fx::new();
    let stolen = y_body();
    let mut ledger = given(fx.setup());
    let stranger = Body {
        key: key(41),
        ..y_body()
    };
    assert_eq!(
        submit(&mut ledger, revoke_key(&fx, &stranger, "2024-03-02")),
        Err("not-a-body-key")
    );
    let by_the_body = fx.by_body(
        &stolen,
        EventKind::BodyKeyRevoked(BodyKeyRevoked {
            registration_number: stolen.number,
            public_key: stolen.key.verifying_key().to_bytes(),
            date: d("2024-03-02"),
            reason: "自行声明".to_string(),
        }),
    );
    assert_eq!(submit(&mut ledger, by_the_body), Err("wrong-signer"));
    assert_eq!(
        submit(&mut ledger, revoke_key(&fx, &stolen, "2000-01-01")),
        Err("date-before-last-change")
    );
    submit(&mut ledger, revoke_key(&fx, &stolen, "2024-03-02")).expect("revoked");
    assert_eq!(
        submit(&mut ledger, revoke_key(&fx, &stolen, "2024-03-03")),
        Err("key-already-revoked")
    );
    // A body whose only key is revoked issues nothing until the authority rotates its key.
    let next = fx.certify(
        &stolen,
        9,
        turner(),
        Level::Junior,
        "2024-03-04",
        attested(),
    );
    assert_eq!(submit(&mut ledger, next), Err("key-revoked"));
}

/// The admission bound on backdating (`ledger.toml` `backdate_days_max`): a body's events
/// may be dated at most that many days back; the authority's are not bounded; 0 is off.
#[test]
fn a_backdating_bound_refuses_body_events_dated_before_it_and_nothing_else() {
    let fx = Fx::new();
    let body = y_body();
    let today = d("2024-03-31");
    let on = |date: &str| fx.certify(&body, 1, turner(), Level::Junior, date, attested());
    let code = |result: Result<(), skill_ledger_domain::Rejection>| result.map_err(|r| r.code());
    assert_eq!(
        code(check_not_backdated(&on("2024-03-01"), today, 30)),
        Ok(()),
        "30 days back is inside the bound"
    );
    assert_eq!(
        code(check_not_backdated(&on("2024-02-29"), today, 30)),
        Err("dated-too-far-back")
    );
    assert_eq!(
        code(check_not_backdated(&on("2020-06-01"), today, 0)),
        Ok(()),
        "0 bounds nothing"
    );
    let by_authority = fx.by_authority(EventKind::CredentialRevoked(
        fx.revocation(&on("2020-06-01"), "2020-07-01"),
    ));
    assert_eq!(code(check_not_backdated(&by_authority, today, 30)), Ok(()));
}
