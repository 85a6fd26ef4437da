//! The VC issuer key (`VcIssuerKeySet`): the authority registers the key its W3C Verifiable
//! Credentials are signed with, and the controller document id, in its own log; a later one
//! replaces it and the ledger record keeps every one (VCs signed before keep verifying).

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use skill_ledger_domain::{EventKind, MemoryLedger, SignedEvent, Signer, VcIssuerKeySet};

const CONTROLLER: &str = "https://zscx.example.cn/v1/vc/issuer";

fn set_key(
    fx: &Fx,
    signer: Signer,
    by: &SigningKey,
    key: [u8; 32],
    controller: &str,
) -> SignedEvent {
    fx.sign(
        signer,
        by,
        EventKind::VcIssuerKeySet(VcIssuerKeySet {
            controller: controller.to_string(),
            public_key: key,
            date: d("2024-01-02"),
        }),
    )
}

fn vc_key() -> [u8; 32] {
    key(70).verifying_key().to_bytes()
}

fn submit(ledger: &mut MemoryLedger, signed: SignedEvent) -> Result<u64, &'static str> {
    ledger.submit(signed).map_err(|rejection| rejection.code())
}

fn issuer_keys(ledger: &MemoryLedger) -> Vec<([u8; 32], String, u64)> {
    ledger
        .registry
        .ledger
        .as_ref()
        .map(|info| {
            info.vc_issuer_keys
                .iter()
                .map(|k| (k.public_key, k.controller.clone(), k.entry_index))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn given_a_ledger_when_the_authority_sets_a_vc_key_then_the_record_holds_it_with_its_entry() {
    let fx = Fx::new();
    let mut ledger = given(fx.setup());
    let index = submit(
        &mut ledger,
        set_key(
            &fx,
            Signer::Authority,
            &authority_key(),
            vc_key(),
            CONTROLLER,
        ),
    )
    .expect("the authority sets its VC key");
    assert_eq!(
        issuer_keys(&ledger),
        vec![(vc_key(), CONTROLLER.to_string(), index)]
    );

    // A rotation (or a new base URL) appends; the old key stays listed.
    let second = key(71).verifying_key().to_bytes();
    let moved = "http://127.0.0.1:8050/v1/vc/issuer";
    let later = submit(
        &mut ledger,
        set_key(&fx, Signer::Authority, &authority_key(), second, moved),
    )
    .expect("a second VC key");
    assert_eq!(
        issuer_keys(&ledger),
        vec![
            (vc_key(), CONTROLLER.to_string(), index),
            (second, moved.to_string(), later)
        ]
    );
}

#[test]
fn given_a_ledger_when_a_body_sets_a_vc_key_then_it_is_refused_and_nothing_changes() {
    let fx = Fx::new();
    let mut ledger = given(fx.setup());
    let body = y_body();
    let by_body = set_key(
        &fx,
        Signer::Body(body.number),
        &body.key,
        vc_key(),
        CONTROLLER,
    );
    assert_eq!(submit(&mut ledger, by_body), Err("wrong-signer"));
    assert!(issuer_keys(&ledger).is_empty());
}

#[test]
fn given_a_ledger_when_the_vc_key_is_weak_or_an_authority_key_then_it_is_refused() {
    let fx = Fx::new();
    let mut ledger = given(fx.setup());
    // The identity point: a "key" anyone can sign for.
    let mut weak = [0u8; 32];
    weak[0] = 1;
    assert_eq!(
        submit(
            &mut ledger,
            set_key(&fx, Signer::Authority, &authority_key(), weak, CONTROLLER)
        ),
        Err("weak-key")
    );
    let authority = authority_key().verifying_key().to_bytes();
    assert_eq!(
        submit(
            &mut ledger,
            set_key(
                &fx,
                Signer::Authority,
                &authority_key(),
                authority,
                CONTROLLER
            )
        ),
        Err("key-reused")
    );
    assert!(issuer_keys(&ledger).is_empty());
}

#[test]
fn given_a_ledger_when_the_controller_is_not_a_plain_http_url_then_it_is_refused_by_field() {
    let fx = Fx::new();
    for bad in [
        "",
        "did:web:zscx.example.cn",
        "ftp://zscx.example.cn/v1/vc/issuer",
        "https:///v1/vc/issuer",
        "https://zscx.example.cn/v1/vc/issuer#key-1",
        "https://zscx.example.cn/v1/vc/issuer?x=1",
        "https://zscx.example.cn/a b",
    ] {
        let mut ledger = given(fx.setup());
        let signed = set_key(&fx, Signer::Authority, &authority_key(), vc_key(), bad);
        let rejection = ledger.submit(signed).expect_err(bad);
        assert!(
            matches!(rejection.code(), "malformed" | "empty-field"),
            "{bad:?}: {rejection}"
        );
        assert!(
            rejection.to_string().contains("controller"),
            "{bad:?}: {rejection}"
        );
        assert!(issuer_keys(&ledger).is_empty());
    }
    let mut ledger = given(fx.setup());
    let long = format!("https://zscx.example.cn/{}", "a".repeat(200));
    let signed = set_key(&fx, Signer::Authority, &authority_key(), vc_key(), &long);
    assert_eq!(submit(&mut ledger, signed), Err("field-too-long"));
}
