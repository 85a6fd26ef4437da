//! The authority key: set up with a recovery key, rotated by the key in force, recovered by
//! the recovery key when it is lost or stolen (docs/security.md, "The authority key").
//! The authority's events are judged by log position: once a new key is logged, the old one
//! signs nothing, whatever date the event carries.

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    AuthorityKeyRotated, AuthorityRecoveryKeySet, EventKind, MemoryLedger, SignedEvent, Signer,
};

fn recovery() -> SigningKey {
    key(90)
}

fn submit(ledger: &mut MemoryLedger, signed: SignedEvent) -> Result<u64, &'static str> {
    ledger.submit(signed).map_err(|rejection| rejection.code())
}

fn set_recovery(fx: &Fx, signer: Signer, by: &SigningKey, new: &SigningKey) -> SignedEvent {
    fx.sign(
        signer,
        by,
        EventKind::AuthorityRecoveryKeySet(AuthorityRecoveryKeySet {
            public_key: new.verifying_key().to_bytes(),
            date: d("2024-01-02"),
        }),
    )
}

fn rotation(fx: &Fx, signer: Signer, by: &SigningKey, new: &SigningKey, date: &str) -> SignedEvent {
    fx.sign(
        signer,
        by,
        EventKind::AuthorityKeyRotated(AuthorityKeyRotated {
            public_key: new.verifying_key().to_bytes(),
            date: d(date),
            reason: "年度密钥轮换".to_string(),
        }),
    )
}

/// A ledger set up as `init` does it: established, then the recovery key.
fn given_a_ledger_with_a_recovery_key(fx: &Fx) -> MemoryLedger {
    let mut ledger = given(fx.setup());
    submit(
        &mut ledger,
        set_recovery(fx, Signer::Authority, &authority_key(), &recovery()),
    )
    .expect("the authority sets the recovery key");
    ledger
}

fn current_key(ledger: &MemoryLedger) -> [u8; 32] {
    ledger
        .registry
        .ledger
        .as_ref()
        .and_then(|ledger| ledger.authority_key())
        .expect("an authority key")
}

#[test]
fn given_a_planned_rotation_when_logged_then_only_the_new_key_signs_the_authoritys_events() {
    let fx = Fx::new();
    let mut ledger = given_a_ledger_with_a_recovery_key(&fx);
    let new = key(91);
    submit(
        &mut ledger,
        rotation(&fx, Signer::Authority, &authority_key(), &new, "2024-06-01"),
    )
    .expect("the key in force rotates itself");
    assert_eq!(current_key(&ledger), new.verifying_key().to_bytes());

    // The old key signs nothing more, not even backdated before the rotation.
    let old = fx.by_authority(EventKind::BodySuspended(fx.status(&y_body(), "2024-01-05")));
    assert_eq!(submit(&mut ledger, old), Err("key-not-valid-at-date"));
    let by_new = fx.sign(
        Signer::Authority,
        &new,
        EventKind::BodySuspended(fx.status(&y_body(), "2024-06-02")),
    );
    submit(&mut ledger, by_new).expect("the new key signs");
}

#[test]
fn given_a_stolen_authority_key_when_the_recovery_key_rotates_then_the_thief_signs_nothing() {
    let fx = Fx::new();
    let mut ledger = given_a_ledger_with_a_recovery_key(&fx);
    // The thief moves first: a rotation to a key of its own, signed with the stolen key.
    let thief = key(92);
    submit(
        &mut ledger,
        rotation(
            &fx,
            Signer::Authority,
            &authority_key(),
            &thief,
            "2024-06-01",
        ),
    )
    .expect("the stolen key is still the key in force");
    // It cannot replace the recovery key: only the recovery key can.
    assert_eq!(
        submit(
            &mut ledger,
            set_recovery(&fx, Signer::Authority, &thief, &key(93))
        ),
        Err("wrong-signer")
    );
    // The authority recovers with the offline recovery key.
    let recovered = key(94);
    submit(
        &mut ledger,
        rotation(&fx, Signer::Recovery, &recovery(), &recovered, "2024-06-02"),
    )
    .expect("the recovery key replaces whatever key is in force");
    assert_eq!(current_key(&ledger), recovered.verifying_key().to_bytes());
    for stolen in [authority_key(), thief] {
        let event = fx.sign(
            Signer::Authority,
            &stolen,
            EventKind::BodySuspended(fx.status(&y_body(), "2024-06-03")),
        );
        assert_eq!(submit(&mut ledger, event), Err("key-not-valid-at-date"));
    }
}

#[test]
fn a_recovery_needs_the_recovery_key_set_at_init_and_signs_nothing_else() {
    let fx = Fx::new();
    let mut without = given(fx.setup());
    assert_eq!(
        submit(
            &mut without,
            rotation(&fx, Signer::Recovery, &recovery(), &key(95), "2024-06-01")
        ),
        Err("no-recovery-key")
    );
    let mut ledger = given_a_ledger_with_a_recovery_key(&fx);
    // Another key posing as the recovery key.
    assert_eq!(
        submit(
            &mut ledger,
            rotation(&fx, Signer::Recovery, &key(96), &key(95), "2024-06-01")
        ),
        Err("key-not-valid-at-date")
    );
    // The recovery key signs no ordinary authority event.
    let suspension = fx.sign(
        Signer::Recovery,
        &recovery(),
        EventKind::BodySuspended(fx.status(&y_body(), "2024-06-03")),
    );
    assert_eq!(submit(&mut ledger, suspension), Err("wrong-signer"));
    // The recovery key replaces itself, signed by itself.
    submit(
        &mut ledger,
        set_recovery(&fx, Signer::Recovery, &recovery(), &key(97)),
    )
    .expect("the recovery key hands over to a new one");
    assert_eq!(
        ledger.registry.ledger.as_ref().and_then(|l| l.recovery_key),
        Some(key(97).verifying_key().to_bytes())
    );
}

#[test]
fn authority_keys_are_used_once_and_rotations_go_forward_in_date() {
    let fx = Fx::new();
    let mut ledger = given_a_ledger_with_a_recovery_key(&fx);
    for (new, code) in [(authority_key(), "key-reused"), (recovery(), "key-reused")] {
        assert_eq!(
            submit(
                &mut ledger,
                rotation(&fx, Signer::Authority, &authority_key(), &new, "2024-06-01")
            ),
            Err(code)
        );
    }
    submit(
        &mut ledger,
        rotation(
            &fx,
            Signer::Authority,
            &authority_key(),
            &key(98),
            "2024-06-01",
        ),
    )
    .expect("rotated");
    assert_eq!(
        submit(
            &mut ledger,
            rotation(&fx, Signer::Authority, &key(98), &key(99), "2024-05-01")
        ),
        Err("date-before-last-change")
    );
    // A key retired by a rotation is never taken back.
    assert_eq!(
        submit(
            &mut ledger,
            rotation(
                &fx,
                Signer::Authority,
                &key(98),
                &authority_key(),
                "2024-07-01"
            )
        ),
        Err("key-reused")
    );
}
