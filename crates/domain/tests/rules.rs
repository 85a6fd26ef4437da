//! Given/when/then tests of `decide` through `MemoryLedger::submit`: one test per rejection
//! code (and per way of reaching it), plus the acceptance stories the rules exist for.
//!
//! Standard setup ([`Fx::setup`]): ledger `skill-ledger/50` established 2019-01-01, sample
//! catalogue v1, default policy v1 (effective 2019-01-01), enterprise `Y000050000001` (车工 up
//! to 高级技师, 焊工 up to 技师, direct recognition, valid 2019–2040) and social organisation
//! `S000050000002` (车工 up to 高级工, valid 2019–2035).

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    stat, BodyKeyRotated, BodyRegistered, CertificateNumber, CredentialStatus, EvaluationBasis,
    Event, EventKind, LedgerEstablished, Level, OccupationCode, Province, RegistrationNumber,
    Rejection, Route, ScopeItem, SignedEvent, Signer, BINCODE_CONFIG, DEFAULT_POLICY_TOML,
    DOCUMENT_BYTES_MAX, NAME_CHARS_MAX, SAMPLE_CATALOGUE_TOML, TEXT_CHARS_MAX,
};

/// The sample catalogue as version 2 without 车工 (6-18-01-01).
fn catalogue_v2_without_turner() -> String {
    let text = SAMPLE_CATALOGUE_TOML.replace("version = 1", "version = 2");
    let block = "[[occupation]]\ncode = \"6-18-01-01\"\nname = \"车工\"\n";
    assert!(text.contains(block));
    text.replace(block, "")
}

/// The identity point: a valid encoding of a small-order (weak) key.
const IDENTITY_KEY: [u8; 32] = {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    bytes
};

/// A third enterprise `Y000050000003` (key 5) whose registration the test shapes.
fn body3() -> Body {
    Body {
        number: "Y000050000003".parse().expect("registration number"),
        key: key(5),
    }
}

fn body3_registration(fx: &Fx) -> BodyRegistered {
    BodyRegistered {
        registration_number: body3().number,
        public_key: body3().key.verifying_key().to_bytes(),
        ..fx.y_registration()
    }
}

fn with_kind(signed: &SignedEvent, kind: EventKind) -> Event {
    Event {
        id: signed.event.id,
        kind,
    }
}

fn certified_of(signed: &SignedEvent) -> skill_ledger_domain::LevelCertified {
    match &signed.event.kind {
        EventKind::LevelCertified(certified) => certified.clone(),
        other => panic!("not a certification: {}", other.name()),
    }
}

/// Decodes a certificate number from raw bytes: the only way to hold a malformed one.
fn raw_certificate_number(text: &[u8; 22]) -> CertificateNumber {
    let (number, _) = bincode::decode_from_slice::<CertificateNumber, _>(text, BINCODE_CONFIG)
        .expect("22 bytes decode");
    number
}

fn raw_registration_number(text: &[u8; 13]) -> RegistrationNumber {
    let (number, _) = bincode::decode_from_slice::<RegistrationNumber, _>(text, BINCODE_CONFIG)
        .expect("13 bytes decode");
    number
}

// ---------------------------------------------------------------------------------------
// Ledger establishment, ids and signatures
// ---------------------------------------------------------------------------------------

#[test]
fn nothing_before_the_ledger_is_established() {
    let fx = Fx::new();
    check(
        vec![],
        fx.catalogue(SAMPLE_CATALOGUE_TOML),
        Err("ledger-not-established"),
    );
    let y = y_body();
    check(
        vec![],
        fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested()),
        Err("ledger-not-established"),
    );
}

#[test]
fn the_setup_is_accepted_and_establishment_is_entry_zero() {
    let fx = Fx::new();
    let (ledger, _) = check(vec![], fx.established(), Ok(()));
    let info = ledger.registry.ledger.as_ref().expect("established");
    assert_eq!(info.origin, ORIGIN);
    assert_eq!(info.province, Province::CHONGQING);
    let ledger = given(fx.setup());
    assert_eq!(ledger.entries.len(), 5);
    assert_eq!(ledger.registry.bodies.len(), 2);
}

#[test]
fn ledger_already_established() {
    let fx = Fx::new();
    check(
        fx.setup(),
        fx.established(),
        Err("ledger-already-established"),
    );
}

#[test]
fn duplicate_event_id() {
    let fx = Fx::new();
    let y = y_body();
    let first = fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    // A different event under the same id.
    let other = fx.cert(&y, 2, turner(), Level::Junior, "2020-01-01", attested());
    let reused = SignedEvent::sign(
        ORIGIN,
        Signer::Body(y.number),
        &y.key,
        with_kind(&first, EventKind::LevelCertified(other)),
    );
    let (_, rejection) = check(
        with(fx.setup(), [first.clone()]),
        reused,
        Err("duplicate-event-id"),
    );
    assert!(matches!(
        rejection,
        Some(Rejection::DuplicateEventId { first_index: 5, .. })
    ));
    // The very same event again is refused too (the node, not decide, makes it idempotent).
    check(
        with(fx.setup(), [first.clone()]),
        first,
        Err("duplicate-event-id"),
    );
}

#[test]
fn bad_signature() {
    let fx = Fx::new();
    let y = y_body();
    // Content changed after signing.
    let mut tampered = fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    if let EventKind::LevelCertified(certified) = &mut tampered.event.kind {
        certified.subject = subject(9);
    }
    check(fx.setup(), tampered, Err("bad-signature"));
    // Signature bytes changed.
    let mut flipped = fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    flipped.signature[0] ^= 1;
    check(fx.setup(), flipped, Err("bad-signature"));
    // Signed by the S key but claiming the Y key.
    let mut foreign = fx.sign(
        Signer::Body(y.number),
        &s_body().key,
        EventKind::LevelCertified(fx.cert(
            &y,
            1,
            turner(),
            Level::Junior,
            "2020-01-01",
            attested(),
        )),
    );
    foreign.public_key = y.key.verifying_key().to_bytes();
    check(fx.setup(), foreign, Err("bad-signature"));
    // Entry 0 with a broken signature: decided first, then verified.
    let mut established = fx.established();
    established.signature[63] ^= 0x40;
    check(vec![], established, Err("bad-signature"));
}

#[test]
fn an_event_signed_for_another_ledger_is_refused() {
    let fx = Fx::new();
    let y = y_body();
    let certified = fx.cert(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    let replayed = SignedEvent::sign(
        OTHER_ORIGIN,
        Signer::Body(y.number),
        &y.key,
        Event {
            id: fx.id(),
            kind: EventKind::LevelCertified(certified.clone()),
        },
    );
    assert!(replayed.verify_signature(OTHER_ORIGIN));
    check(fx.setup(), replayed, Err("bad-signature"));
    // The same content signed for this ledger is fine.
    check(fx.setup(), fx.issue(&y, certified), Ok(()));
}

#[test]
fn wrong_signer() {
    let fx = Fx::new();
    let y = y_body();
    // Only the authority registers bodies.
    let registration = fx.by_body(&y, EventKind::BodyRegistered(body3_registration(&fx)));
    check(fx.setup(), registration, Err("wrong-signer"));
    // Only the authority establishes the ledger.
    let established = fx.by_body(&y, EventKind::LedgerEstablished(fx.establishment()));
    check(vec![], established, Err("wrong-signer"));
    // Only bodies certify.
    let certification = fx.by_authority(EventKind::LevelCertified(fx.cert(
        &y,
        1,
        turner(),
        Level::Junior,
        "2020-01-01",
        attested(),
    )));
    check(fx.setup(), certification, Err("wrong-signer"));
    // Only the authority suspends.
    let suspension = fx.by_body(&y, EventKind::BodySuspended(fx.status(&y, "2022-01-01")));
    check(fx.setup(), suspension, Err("wrong-signer"));
}

#[test]
fn weak_key() {
    let fx = Fx::new();
    // Entry 0 naming a small-order authority key (no signature can be made: decide refuses
    // before the signature is checked).
    let established = SignedEvent {
        signer: Signer::Authority,
        public_key: IDENTITY_KEY,
        signature: [0; 64],
        event: Event {
            id: fx.id(),
            kind: EventKind::LedgerEstablished(LedgerEstablished {
                authority_key: IDENTITY_KEY,
                ..fx.establishment()
            }),
        },
    };
    check(vec![], established, Err("weak-key"));
    // A body registered with a weak key.
    let registration = fx.register(BodyRegistered {
        public_key: IDENTITY_KEY,
        ..body3_registration(&fx)
    });
    check(fx.setup(), registration, Err("weak-key"));
    // A rotation to a weak key.
    let rotation = fx.by_authority(EventKind::BodyKeyRotated(BodyKeyRotated {
        registration_number: y_body().number,
        public_key: IDENTITY_KEY,
        effective: d("2022-01-01"),
        reason: "key compromise".to_string(),
    }));
    check(fx.setup(), rotation, Err("weak-key"));
}

#[test]
fn unknown_body() {
    let fx = Fx::new();
    let stranger = Body {
        number: "Y000050000009".parse().expect("registration number"),
        key: key(9),
    };
    check(
        fx.setup(),
        fx.certify(
            &stranger,
            1,
            turner(),
            Level::Junior,
            "2020-01-01",
            attested(),
        ),
        Err("unknown-body"),
    );
    check(
        fx.setup(),
        fx.suspend(&stranger, "2022-01-01"),
        Err("unknown-body"),
    );
    let rotation = fx.by_authority(EventKind::BodyKeyRotated(BodyKeyRotated {
        registration_number: stranger.number,
        public_key: key(10).verifying_key().to_bytes(),
        effective: d("2022-01-01"),
        reason: "new key".to_string(),
    }));
    check(fx.setup(), rotation, Err("unknown-body"));
}

fn rotate(fx: &Fx, body: &Body, new_key: &SigningKey, effective: &str) -> SignedEvent {
    fx.by_authority(EventKind::BodyKeyRotated(BodyKeyRotated {
        registration_number: body.number,
        public_key: new_key.verifying_key().to_bytes(),
        effective: d(effective),
        reason: "annual key rotation".to_string(),
    }))
}

#[test]
fn key_not_valid_at_date() {
    let fx = Fx::new();
    let old = y_body();
    let new = Body {
        key: key(20),
        ..y_body()
    };
    let rotated = with(fx.setup(), [rotate(&fx, &old, &new.key, "2022-01-01")]);
    // The old key signs up to the day before the rotation …
    check(
        rotated.clone(),
        fx.certify(&old, 1, turner(), Level::Junior, "2021-12-31", attested()),
        Ok(()),
    );
    // … and not from the rotation on.
    check(
        rotated.clone(),
        fx.certify(&old, 1, turner(), Level::Junior, "2022-01-01", attested()),
        Err("key-not-valid-at-date"),
    );
    // The new key signs from the rotation on, not before.
    check(
        rotated.clone(),
        fx.certify(&new, 1, turner(), Level::Junior, "2022-01-01", attested()),
        Ok(()),
    );
    check(
        rotated,
        fx.certify(&new, 1, turner(), Level::Junior, "2021-12-31", attested()),
        Err("key-not-valid-at-date"),
    );
    // A body key is valid from min(valid_from, registration date): nothing signs before it.
    check(
        fx.setup(),
        fx.certify(&old, 1, turner(), Level::Junior, "2018-12-31", attested()),
        Err("key-not-valid-at-date"),
    );
    // An authority event signed by another key.
    let impostor = fx.sign(
        Signer::Authority,
        &key(30),
        EventKind::BodySuspended(fx.status(&old, "2022-01-01")),
    );
    check(fx.setup(), impostor, Err("key-not-valid-at-date"));
    // Entry 0 signed by a key other than the one it names.
    let established = fx.sign(
        Signer::Authority,
        &key(30),
        EventKind::LedgerEstablished(fx.establishment()),
    );
    check(vec![], established, Err("key-not-valid-at-date"));
    // The authority key also signs records dated before the ledger was established, but a
    // status change cannot predate the body's registration.
    check(
        fx.setup(),
        fx.suspend(&old, "2018-12-31"),
        Err("date-before-last-change"),
    );
}

#[test]
fn body_not_active() {
    let fx = Fx::new();
    let y = y_body();
    let suspended = with(fx.setup(), [fx.suspend(&y, "2022-01-01")]);
    let (_, rejection) = check(
        suspended.clone(),
        fx.certify(&y, 1, turner(), Level::Junior, "2022-01-01", attested()),
        Err("body-not-active"),
    );
    assert!(matches!(
        rejection,
        Some(Rejection::BodyNotActive {
            status: skill_ledger_domain::BodyStatus::Suspended,
            ..
        })
    ));
    // Status is judged at the issue date: the day before the suspension is fine.
    check(
        suspended,
        fx.certify(&y, 1, turner(), Level::Junior, "2021-12-31", attested()),
        Ok(()),
    );
    let cancelled = with(fx.setup(), [fx.cancel(&y, "2022-01-01")]);
    check(
        cancelled,
        fx.certify(&y, 1, turner(), Level::Junior, "2023-05-01", attested()),
        Err("body-not-active"),
    );
}

#[test]
fn outside_registration_window() {
    let fx = Fx::new();
    let y = y_body();
    check(
        fx.setup(),
        fx.certify(&y, 1, turner(), Level::Junior, "2041-01-01", attested()),
        Err("outside-registration-window"),
    );
    check(
        fx.setup(),
        fx.certify(&y, 1, turner(), Level::Junior, "2040-12-31", attested()),
        Ok(()),
    );
    // Registered on 2019-01-01 for a window opening 2020-01-01: the key is valid from the
    // registration, the window is not open yet.
    let b3 = body3();
    let registration = fx.register(BodyRegistered {
        valid_from: d("2020-01-01"),
        ..body3_registration(&fx)
    });
    check(
        with(fx.setup(), [registration]),
        fx.certify(&b3, 1, turner(), Level::Junior, "2019-06-01", attested()),
        Err("outside-registration-window"),
    );
}

#[test]
fn out_of_scope() {
    let fx = Fx::new();
    let y = y_body();
    let s = s_body();
    // An occupation in the catalogue but not in the body's scope.
    check(
        fx.setup(),
        fx.certify(&y, 1, cook(), Level::Junior, "2020-01-01", attested()),
        Err("out-of-scope"),
    );
    // Above the scope's level: 焊工 up to 技师 for the Y body.
    check(
        fx.setup(),
        fx.certify(
            &y,
            1,
            welder(),
            Level::SeniorTechnician,
            "2020-01-01",
            direct(),
        ),
        Err("out-of-scope"),
    );
    check(
        fx.setup(),
        fx.certify(&y, 1, welder(), Level::Technician, "2020-01-01", direct()),
        Ok(()),
    );
    // 车工 up to 高级工 for the S body.
    let junior = fx.certify(&s, 1, turner(), Level::Junior, "2019-02-01", attested());
    let intermediate = fx.certify(&s, 1, turner(), Level::Intermediate, "2023-02-01", prior());
    let senior = fx.certify(&s, 1, turner(), Level::Senior, "2028-02-01", prior());
    let given_events = with(fx.setup(), [junior, intermediate, senior]);
    check(
        given_events,
        fx.certify(&s, 1, turner(), Level::Technician, "2032-02-01", prior()),
        Err("out-of-scope"),
    );
}

#[test]
fn no_catalogue() {
    let fx = Fx::new();
    // Bodies need a catalogue to be registered; a catalogue is never removed, so a
    // certification can never meet "no catalogue" on a real log.
    let given_events = vec![fx.established(), fx.policy(DEFAULT_POLICY_TOML)];
    check(
        given_events,
        fx.register(fx.y_registration()),
        Err("no-catalogue"),
    );
}

#[test]
fn unknown_occupation() {
    let fx = Fx::new();
    let y = y_body();
    let not_in_catalogue: OccupationCode = occupation("6-18-01-09");
    check(
        fx.setup(),
        fx.certify(
            &y,
            1,
            not_in_catalogue,
            Level::Junior,
            "2020-01-01",
            attested(),
        ),
        Err("unknown-occupation"),
    );
    // A scope naming an occupation outside the catalogue.
    let registration = fx.register(BodyRegistered {
        scope: vec![ScopeItem {
            occupation: not_in_catalogue,
            level_max: Level::Senior,
        }],
        ..body3_registration(&fx)
    });
    check(fx.setup(), registration, Err("unknown-occupation"));
    // A later catalogue drops 车工: still in the body's scope, no longer certifiable.
    let given_events = with(fx.setup(), [fx.catalogue(&catalogue_v2_without_turner())]);
    check(
        given_events,
        fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested()),
        Err("unknown-occupation"),
    );
}

#[test]
fn unknown_work_type() {
    let fx = Fx::new();
    let y = y_body();
    let with_work_type = |occupation, work_type: &str| {
        let mut certified = fx.cert(&y, 1, occupation, Level::Junior, "2020-01-01", attested());
        certified.work_type = Some(work_type.to_string());
        fx.issue(&y, certified)
    };
    check(
        fx.setup(),
        with_work_type(welder(), "水下焊工"),
        Err("unknown-work-type"),
    );
    // 车工 has no work types at all.
    check(
        fx.setup(),
        with_work_type(turner(), "数控车工"),
        Err("unknown-work-type"),
    );
    check(fx.setup(), with_work_type(welder(), "电焊工"), Ok(()));
}

#[test]
fn no_policy_in_force() {
    let fx = Fx::new();
    let b3 = body3();
    // A body whose window (and so its key) opens in 2018, before the policy's 2019-01-01.
    let registration = fx.register(BodyRegistered {
        valid_from: d("2018-01-01"),
        ..body3_registration(&fx)
    });
    let given_events = with(fx.setup(), [registration]);
    let (_, rejection) = check(
        given_events.clone(),
        fx.certify(&b3, 1, turner(), Level::Junior, "2018-12-31", attested()),
        Err("no-policy-in-force"),
    );
    assert_eq!(
        rejection,
        Some(Rejection::NoPolicyInForce {
            date: d("2018-12-31")
        })
    );
    check(
        given_events,
        fx.certify(&b3, 1, turner(), Level::Junior, "2019-01-01", attested()),
        Ok(()),
    );
    // No policy adopted at all.
    let y = y_body();
    let given_events = vec![
        fx.established(),
        fx.catalogue(SAMPLE_CATALOGUE_TOML),
        fx.register(fx.y_registration()),
    ];
    check(
        given_events,
        fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested()),
        Err("no-policy-in-force"),
    );
}

#[test]
fn bad_certificate_number() {
    // `CertificateNumber` fields are private and `FromStr` validates, so a malformed number
    // only exists by decoding bytes (a hostile entry). decide must refuse it.
    let fx = Fx::new();
    let y = y_body();
    // Body Y000050000001, year 20, level digit, serial 000001: 13 + 2 + 1 + 6 bytes.
    for text in [
        "Y000050000001200000001", // level digit 0
        "Y000050000001207000001", // level digit 7
        "X000050000001205000001", // kind letter X
        "Y000050000001205000a01", // a letter among the digits
        "Y000099000001205000001", // province 99
    ] {
        let raw: &[u8; 22] = text.as_bytes().try_into().expect("22 bytes");
        let mut certified = fx.cert(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
        certified.certificate_number = raw_certificate_number(raw);
        assert!(!certified.certificate_number.is_well_formed());
        let (_, rejection) = check(
            fx.setup(),
            fx.issue(&y, certified),
            Err("bad-certificate-number"),
        );
        assert!(rejection.expect("refused").to_string().contains(text));
    }
    // Non-ASCII bytes must not panic either.
    let mut certified = fx.cert(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    certified.certificate_number = raw_certificate_number(&[0xff; 22]);
    check(
        fx.setup(),
        fx.issue(&y, certified),
        Err("bad-certificate-number"),
    );
}

#[test]
fn malformed_fields_from_decoded_bytes() {
    let fx = Fx::new();
    // A registration number that does not parse (province 99).
    let registration = fx.register(BodyRegistered {
        registration_number: raw_registration_number(b"Y000099000003"),
        ..body3_registration(&fx)
    });
    check(fx.setup(), registration, Err("malformed"));
    // An occupation code with major group 9.
    let y = y_body();
    let mut certified = fx.cert(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    let (bad_code, _) =
        bincode::decode_from_slice::<OccupationCode, _>(&[9, 18, 1, 1], BINCODE_CONFIG)
            .expect("four bytes decode");
    certified.occupation = bad_code;
    check(fx.setup(), fx.issue(&y, certified), Err("malformed"));
}

#[test]
fn certificate_body_mismatch() {
    let fx = Fx::new();
    let y = y_body();
    let s = s_body();
    // The S body signs a number carrying the Y body's registration number.
    let certified = fx.cert(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    check(
        fx.setup(),
        fx.issue(&s, certified),
        Err("certificate-body-mismatch"),
    );
}

#[test]
fn certificate_year_mismatch() {
    let fx = Fx::new();
    let y = y_body();
    let mut certified = fx.cert(&y, 1, turner(), Level::Junior, "2021-06-01", attested());
    certified.issued = d("2022-01-01");
    check(
        fx.setup(),
        fx.issue(&y, certified),
        Err("certificate-year-mismatch"),
    );
}

#[test]
fn certificate_level_mismatch() {
    let fx = Fx::new();
    let y = y_body();
    let mut certified = fx.cert(
        &y,
        1,
        turner(),
        Level::Intermediate,
        "2021-06-01",
        attested(),
    );
    certified.level = Level::Junior;
    check(
        fx.setup(),
        fx.issue(&y, certified),
        Err("certificate-level-mismatch"),
    );
}

#[test]
fn level_not_certifiable() {
    let fx = Fx::new();
    let y = y_body();
    for level in [
        Level::Apprentice,
        Level::PrincipalTechnician,
        Level::ChiefTechnician,
    ] {
        let mut certified = fx.cert(&y, 1, turner(), Level::Junior, "2021-06-01", direct());
        certified.level = level;
        check(
            fx.setup(),
            fx.issue(&y, certified),
            Err("level-not-certifiable"),
        );
    }
}

#[test]
fn duplicate_certificate() {
    let fx = Fx::new();
    let y = y_body();
    let first = fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    let mut again = certified_of(&first);
    again.subject = subject(2);
    check(
        with(fx.setup(), [first]),
        fx.issue(&y, again),
        Err("duplicate-certificate"),
    );
}

#[test]
fn already_holds_level() {
    let fx = Fx::new();
    let y = y_body();
    let intermediate = fx.certify(
        &y,
        1,
        turner(),
        Level::Intermediate,
        "2020-01-01",
        attested(),
    );
    let given_events = with(fx.setup(), [intermediate]);
    check(
        given_events.clone(),
        fx.certify(&y, 1, turner(), Level::Junior, "2021-01-01", attested()),
        Err("already-holds-level"),
    );
    check(
        given_events.clone(),
        fx.certify(
            &y,
            1,
            turner(),
            Level::Intermediate,
            "2021-01-01",
            attested(),
        ),
        Err("already-holds-level"),
    );
    // Backdated below what is held: a second 中级工 dated before the first would restart the
    // years counted toward 高级工, and a 初级工 before it adds nothing.
    check(
        given_events.clone(),
        fx.certify(
            &y,
            1,
            turner(),
            Level::Intermediate,
            "2019-06-01",
            attested(),
        ),
        Err("already-holds-level"),
    );
    check(
        given_events.clone(),
        fx.certify(&y, 1, turner(), Level::Junior, "2019-06-01", attested()),
        Err("already-holds-level"),
    );
    // Another occupation, or another person, is unaffected.
    check(
        given_events.clone(),
        fx.certify(&y, 1, welder(), Level::Junior, "2021-01-01", attested()),
        Ok(()),
    );
    check(
        given_events,
        fx.certify(&y, 2, turner(), Level::Junior, "2021-01-01", attested()),
        Ok(()),
    );
}

#[test]
fn level_not_reachable() {
    let fx = Fx::new();
    let y = y_body();
    let junior = fx.certify(&y, 1, turner(), Level::Junior, "2019-06-01", attested());
    // Skipping a level by evaluation.
    let (_, rejection) = check(
        with(fx.setup(), [junior.clone()]),
        fx.certify(&y, 1, turner(), Level::Senior, "2030-01-01", prior()),
        Err("level-not-reachable"),
    );
    assert!(matches!(
        rejection,
        Some(Rejection::LevelNotReachable {
            held: Some(Level::Junior),
            requested: Level::Senior,
            policy_version: 1,
            ..
        })
    ));
    // A prior-level basis with nothing held.
    check(
        fx.setup(),
        fx.certify(&y, 1, turner(), Level::Intermediate, "2030-01-01", prior()),
        Err("level-not-reachable"),
    );
    // The level below in another occupation is no basis.
    check(
        with(fx.setup(), [junior.clone()]),
        fx.certify(&y, 1, welder(), Level::Intermediate, "2030-01-01", prior()),
        Err("level-not-reachable"),
    );
    // A revoked level below is no basis.
    let revoked = fx.by_body(
        &y,
        EventKind::CredentialRevoked(fx.revocation(&junior, "2020-01-01")),
    );
    check(
        with(fx.setup(), [junior, revoked]),
        fx.certify(&y, 1, turner(), Level::Intermediate, "2030-01-01", prior()),
        Err("level-not-reachable"),
    );
}

#[test]
fn too_few_years() {
    let fx = Fx::new();
    let y = y_body();
    let junior = fx.certify(&y, 1, turner(), Level::Junior, "2020-03-15", attested());
    let given_events = with(fx.setup(), [junior]);
    // 中级工 needs 4 full years after 初级工: one day short …
    let (_, rejection) = check(
        given_events.clone(),
        fx.certify(&y, 1, turner(), Level::Intermediate, "2024-03-14", prior()),
        Err("too-few-years"),
    );
    assert_eq!(
        rejection,
        Some(Rejection::TooFewYears {
            occupation: turner(),
            level: Level::Intermediate,
            required_years: 4,
            since: d("2020-03-15"),
            earliest: d("2024-03-15"),
            policy_version: 1,
        })
    );
    // … and exactly four years later.
    check(
        given_events,
        fx.certify(&y, 1, turner(), Level::Intermediate, "2024-03-15", prior()),
        Ok(()),
    );
}

#[test]
fn too_few_years_from_a_leap_day() {
    let fx = Fx::new();
    let y = y_body();
    // 2020-02-29 + 4 years = 2024-02-29 (a leap day again).
    let junior = fx.certify(&y, 1, turner(), Level::Junior, "2020-02-29", attested());
    let given_events = with(fx.setup(), [junior]);
    check(
        given_events.clone(),
        fx.certify(&y, 1, turner(), Level::Intermediate, "2024-02-28", prior()),
        Err("too-few-years"),
    );
    check(
        given_events,
        fx.certify(&y, 1, turner(), Level::Intermediate, "2024-02-29", prior()),
        Ok(()),
    );
    // 2020-02-29 + 5 years lands on 2025-02-28 (no 29 February in 2025).
    let intermediate = fx.certify(
        &y,
        2,
        turner(),
        Level::Intermediate,
        "2020-02-29",
        attested(),
    );
    let given_events = with(fx.setup(), [intermediate]);
    check(
        given_events.clone(),
        fx.certify(&y, 2, turner(), Level::Senior, "2025-02-27", prior()),
        Err("too-few-years"),
    );
    check(
        given_events,
        fx.certify(&y, 2, turner(), Level::Senior, "2025-02-28", prior()),
        Ok(()),
    );
}

#[test]
fn occupation_overrides_change_the_years() {
    let fx = Fx::new();
    let y = y_body();
    // 高级工 needs 5 years in 车工 but 4 in 焊工 (override in the default policy).
    let given_events = with(
        fx.setup(),
        [
            fx.certify(
                &y,
                1,
                turner(),
                Level::Intermediate,
                "2020-01-01",
                attested(),
            ),
            fx.certify(
                &y,
                1,
                welder(),
                Level::Intermediate,
                "2020-01-01",
                attested(),
            ),
        ],
    );
    check(
        given_events.clone(),
        fx.certify(&y, 1, welder(), Level::Senior, "2024-01-01", prior()),
        Ok(()),
    );
    check(
        given_events.clone(),
        fx.certify(&y, 1, turner(), Level::Senior, "2024-01-01", prior()),
        Err("too-few-years"),
    );
    check(
        given_events,
        fx.certify(&y, 1, turner(), Level::Senior, "2025-01-01", prior()),
        Ok(()),
    );
}

#[test]
fn attested_basis_not_allowed() {
    let fx = Fx::new();
    let y = y_body();
    let (_, rejection) = check(
        fx.setup(),
        fx.certify(&y, 1, turner(), Level::Senior, "2020-01-01", attested()),
        Err("attested-basis-not-allowed"),
    );
    assert!(matches!(
        rejection,
        Some(Rejection::AttestedBasisNotAllowed {
            attested_entry_max: Level::Intermediate,
            ..
        })
    ));
    check(
        fx.setup(),
        fx.certify(
            &y,
            1,
            turner(),
            Level::Intermediate,
            "2020-01-01",
            attested(),
        ),
        Ok(()),
    );
}

#[test]
fn direct_recognition_not_allowed() {
    let fx = Fx::new();
    let s = s_body();
    // A social organisation may not recognise directly.
    check(
        fx.setup(),
        fx.certify(&s, 1, turner(), Level::Senior, "2020-01-01", direct()),
        Err("direct-recognition-not-allowed"),
    );
    // An enterprise whose registration does not grant the right.
    let b3 = body3();
    let registration = fx.register(BodyRegistered {
        direct_recognition: false,
        ..body3_registration(&fx)
    });
    check(
        with(fx.setup(), [registration]),
        fx.certify(&b3, 1, turner(), Level::Senior, "2020-01-01", direct()),
        Err("direct-recognition-not-allowed"),
    );
    // A policy that gives no body kind the right.
    let y = y_body();
    let v2 = policy_text(
        2,
        "2021-01-01",
        &[("body_kinds = [\"Y\"]", "body_kinds = []")],
    );
    check(
        with(fx.setup(), [fx.policy(&v2)]),
        fx.certify(&y, 1, turner(), Level::Senior, "2021-01-01", direct()),
        Err("direct-recognition-not-allowed"),
    );
}

#[test]
fn above_direct_recognition_limit() {
    let fx = Fx::new();
    let y = y_body();
    let v2 = policy_text(
        2,
        "2023-01-01",
        &[(
            "level_max = \"senior_technician\"",
            "level_max = \"technician\"",
        )],
    );
    let given_events = with(fx.setup(), [fx.policy(&v2)]);
    let (_, rejection) = check(
        given_events.clone(),
        fx.certify(
            &y,
            1,
            turner(),
            Level::SeniorTechnician,
            "2023-06-01",
            direct(),
        ),
        Err("above-direct-recognition-limit"),
    );
    assert!(matches!(
        rejection,
        Some(Rejection::AboveDirectRecognitionLimit {
            level_max: Level::Technician,
            policy_version: 2,
            ..
        })
    ));
    check(
        given_events.clone(),
        fx.certify(&y, 1, turner(), Level::Technician, "2023-06-01", direct()),
        Ok(()),
    );
    // Before v2 takes effect, v1 (up to 高级技师) judges.
    check(
        given_events,
        fx.certify(
            &y,
            1,
            turner(),
            Level::SeniorTechnician,
            "2022-12-31",
            direct(),
        ),
        Ok(()),
    );
}

#[test]
fn empty_field() {
    let fx = Fx::new();
    let y = y_body();
    let registration = fx.register(BodyRegistered {
        name: " \t ".to_string(),
        ..body3_registration(&fx)
    });
    check(fx.setup(), registration, Err("empty-field"));
    let registration = fx.register(BodyRegistered {
        scope: vec![],
        ..body3_registration(&fx)
    });
    check(fx.setup(), registration, Err("empty-field"));
    let blank_statement = Route::Evaluation(EvaluationBasis::Attested {
        statement: String::new(),
    });
    check(
        fx.setup(),
        fx.certify(
            &y,
            1,
            turner(),
            Level::Junior,
            "2020-01-01",
            blank_statement,
        ),
        Err("empty-field"),
    );
    let blank_justification = Route::DirectRecognition {
        justification: "  ".to_string(),
    };
    check(
        fx.setup(),
        fx.certify(
            &y,
            1,
            turner(),
            Level::Senior,
            "2020-01-01",
            blank_justification,
        ),
        Err("empty-field"),
    );
    let mut suspension = fx.status(&y, "2022-01-01");
    suspension.reason = String::new();
    check(
        fx.setup(),
        fx.by_authority(EventKind::BodySuspended(suspension)),
        Err("empty-field"),
    );
    let issued = fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    let mut revocation = fx.revocation(&issued, "2021-01-01");
    revocation.reason = "\n".to_string();
    check(
        with(fx.setup(), [issued]),
        fx.by_body(&y, EventKind::CredentialRevoked(revocation)),
        Err("empty-field"),
    );
    let mut established = fx.establishment();
    established.authority_name = String::new();
    check(
        vec![],
        fx.by_authority(EventKind::LedgerEstablished(established)),
        Err("empty-field"),
    );
}

#[test]
fn field_too_long() {
    let fx = Fx::new();
    let y = y_body();
    // Names count characters, not bytes: 200 CJK characters are fine, 201 are not.
    let registration = fx.register(BodyRegistered {
        name: "厂".repeat(NAME_CHARS_MAX),
        ..body3_registration(&fx)
    });
    check(fx.setup(), registration, Ok(()));
    let registration = fx.register(BodyRegistered {
        name: "厂".repeat(NAME_CHARS_MAX + 1),
        ..body3_registration(&fx)
    });
    let (_, rejection) = check(fx.setup(), registration, Err("field-too-long"));
    assert_eq!(
        rejection,
        Some(Rejection::FieldTooLong {
            field: "name",
            length: NAME_CHARS_MAX + 1,
            length_max: NAME_CHARS_MAX,
        })
    );
    let long_justification = Route::DirectRecognition {
        justification: "x".repeat(TEXT_CHARS_MAX + 1),
    };
    check(
        fx.setup(),
        fx.certify(
            &y,
            1,
            turner(),
            Level::Senior,
            "2020-01-01",
            long_justification,
        ),
        Err("field-too-long"),
    );
    let mut suspension = fx.status(&y, "2022-01-01");
    suspension.reason = "x".repeat(TEXT_CHARS_MAX + 1);
    check(
        fx.setup(),
        fx.by_authority(EventKind::BodySuspended(suspension)),
        Err("field-too-long"),
    );
    // Adopted documents are limited in bytes.
    let padded = format!(
        "{SAMPLE_CATALOGUE_TOML}\n# {}\n",
        "x".repeat(DOCUMENT_BYTES_MAX)
    )
    .replace("version = 1", "version = 2");
    check(fx.setup(), fx.catalogue(&padded), Err("field-too-long"));
}

#[test]
fn duplicate_body() {
    let fx = Fx::new();
    check(
        fx.setup(),
        fx.register(fx.y_registration()),
        Err("duplicate-body"),
    );
}

#[test]
fn province_mismatch() {
    let fx = Fx::new();
    let registration = fx.register(BodyRegistered {
        registration_number: "Y000051000003".parse().expect("Sichuan number"),
        ..body3_registration(&fx)
    });
    check(fx.setup(), registration, Err("province-mismatch"));
}

#[test]
fn invalid_validity_window() {
    let fx = Fx::new();
    for (from, until) in [("2025-01-01", "2025-01-01"), ("2025-01-02", "2025-01-01")] {
        let registration = fx.register(BodyRegistered {
            valid_from: d(from),
            valid_until: d(until),
            ..body3_registration(&fx)
        });
        check(fx.setup(), registration, Err("invalid-validity-window"));
    }
}

#[test]
fn duplicate_scope_occupation() {
    let fx = Fx::new();
    let registration = fx.register(BodyRegistered {
        scope: vec![
            ScopeItem {
                occupation: turner(),
                level_max: Level::Senior,
            },
            ScopeItem {
                occupation: turner(),
                level_max: Level::Technician,
            },
        ],
        ..body3_registration(&fx)
    });
    check(fx.setup(), registration, Err("duplicate-scope-occupation"));
}

#[test]
fn status_change_not_allowed() {
    let fx = Fx::new();
    let y = y_body();
    // Reinstating an active body.
    check(
        fx.setup(),
        fx.reinstate(&y, "2022-01-01"),
        Err("status-change-not-allowed"),
    );
    // Suspending a suspended body.
    let suspended = with(fx.setup(), [fx.suspend(&y, "2022-01-01")]);
    check(
        suspended,
        fx.suspend(&y, "2022-02-01"),
        Err("status-change-not-allowed"),
    );
    // Nothing after cancellation.
    let cancelled = with(fx.setup(), [fx.cancel(&y, "2022-01-01")]);
    check(
        cancelled.clone(),
        fx.suspend(&y, "2022-02-01"),
        Err("status-change-not-allowed"),
    );
    check(
        cancelled.clone(),
        fx.reinstate(&y, "2022-02-01"),
        Err("status-change-not-allowed"),
    );
    check(
        cancelled,
        fx.cancel(&y, "2022-02-01"),
        Err("status-change-not-allowed"),
    );
    // A suspended body may be cancelled.
    let suspended = with(fx.setup(), [fx.suspend(&y, "2022-01-01")]);
    check(suspended, fx.cancel(&y, "2022-02-01"), Ok(()));
}

#[test]
fn date_before_last_change() {
    let fx = Fx::new();
    let y = y_body();
    let suspended = with(fx.setup(), [fx.suspend(&y, "2022-01-01")]);
    check(
        suspended.clone(),
        fx.reinstate(&y, "2021-12-31"),
        Err("date-before-last-change"),
    );
    // The same day is allowed (and then the later entry wins for that day).
    check(suspended, fx.reinstate(&y, "2022-01-01"), Ok(()));
    // A key rotation must be strictly after the current key's start.
    let rotated = with(fx.setup(), [rotate(&fx, &y, &key(20), "2022-01-01")]);
    check(
        rotated.clone(),
        rotate(&fx, &y, &key(21), "2022-01-01"),
        Err("date-before-last-change"),
    );
    check(
        rotated,
        rotate(&fx, &y, &key(21), "2021-06-01"),
        Err("date-before-last-change"),
    );
}

#[test]
fn unknown_credential() {
    let fx = Fx::new();
    let y = y_body();
    let never_issued = fx.cert(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    let revocation = skill_ledger_domain::CredentialRevoked {
        certificate_number: never_issued.certificate_number,
        effective: d("2021-01-01"),
        reason: "核查".to_string(),
    };
    check(
        fx.setup(),
        fx.by_authority(EventKind::CredentialRevoked(revocation)),
        Err("unknown-credential"),
    );
}

#[test]
fn already_revoked() {
    let fx = Fx::new();
    let y = y_body();
    let issued = fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    let revoked = fx.by_body(
        &y,
        EventKind::CredentialRevoked(fx.revocation(&issued, "2021-01-01")),
    );
    check(
        with(fx.setup(), [issued.clone(), revoked]),
        fx.by_authority(EventKind::CredentialRevoked(
            fx.revocation(&issued, "2021-02-01"),
        )),
        Err("already-revoked"),
    );
}

#[test]
fn not_issuer() {
    let fx = Fx::new();
    let y = y_body();
    let s = s_body();
    let issued = fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    check(
        with(fx.setup(), [issued.clone()]),
        fx.by_body(
            &s,
            EventKind::CredentialRevoked(fx.revocation(&issued, "2021-01-01")),
        ),
        Err("not-issuer"),
    );
}

#[test]
fn revocation_before_issue() {
    let fx = Fx::new();
    let y = y_body();
    let issued = fx.certify(&y, 1, turner(), Level::Junior, "2020-06-01", attested());
    check(
        with(fx.setup(), [issued.clone()]),
        fx.by_body(
            &y,
            EventKind::CredentialRevoked(fx.revocation(&issued, "2020-05-31")),
        ),
        Err("revocation-before-issue"),
    );
    check(
        with(fx.setup(), [issued.clone()]),
        fx.by_body(
            &y,
            EventKind::CredentialRevoked(fx.revocation(&issued, "2020-06-01")),
        ),
        Ok(()),
    );
}

#[test]
fn invalid_policy() {
    let fx = Fx::new();
    for text in [
        "this is not toml = = =".to_string(),
        policy_text(
            2,
            "2021-01-01",
            &[("[direct_recognition]", "[direct_recognition_x]")],
        ),
        policy_text(
            2,
            "2021-01-01",
            &[(
                "level_max = \"senior_technician\"",
                "level_max = \"chief_technician\"",
            )],
        ),
        policy_text(
            2,
            "2021-01-01",
            &[("intermediate = 4", "intermediate = 51")],
        ),
        policy_text(2, "2021-01-01", &[("intermediate = 4", "junior = 1")]),
        DEFAULT_POLICY_TOML.replace("version = 1", "version = 0"),
    ] {
        check(
            vec![fx.established(), fx.catalogue(SAMPLE_CATALOGUE_TOML)],
            fx.policy(&text),
            Err("invalid-policy"),
        );
    }
}

#[test]
fn policy_version_not_increasing() {
    let fx = Fx::new();
    check(
        fx.setup(),
        fx.policy(DEFAULT_POLICY_TOML),
        Err("policy-version-not-increasing"),
    );
    let v3 = policy_text(3, "2021-01-01", &[]);
    let v2 = policy_text(2, "2022-01-01", &[]);
    check(
        with(fx.setup(), [fx.policy(&v3)]),
        fx.policy(&v2),
        Err("policy-version-not-increasing"),
    );
}

#[test]
fn invalid_catalogue() {
    let fx = Fx::new();
    for text in [
        "not = [toml".to_string(),
        "name = 'x'\nversion = 2\noccupation = []\n".to_string(),
        "name='x'\nversion=2\n[[occupation]]\ncode='6-18-01-01'\nname='a'\n[[occupation]]\ncode='6-18-01-01'\nname='b'\n".to_string(),
        "name='x'\nversion=2\n[[occupation]]\ncode='9-18-01-01'\nname='a'\n".to_string(),
    ] {
        check(fx.setup(), fx.catalogue(&text), Err("invalid-catalogue"));
    }
}

#[test]
fn catalogue_version_not_increasing() {
    let fx = Fx::new();
    check(
        fx.setup(),
        fx.catalogue(SAMPLE_CATALOGUE_TOML),
        Err("catalogue-version-not-increasing"),
    );
    check(
        fx.setup(),
        fx.catalogue(&catalogue_v2_without_turner()),
        Ok(()),
    );
}

// ---------------------------------------------------------------------------------------
// Acceptance stories
// ---------------------------------------------------------------------------------------

#[test]
fn evaluation_chain_from_junior_to_senior_technician() {
    let fx = Fx::new();
    let y = y_body();
    let steps = [
        (Level::Junior, "2019-01-01", attested()),
        (Level::Intermediate, "2023-01-01", prior()),
        (Level::Senior, "2028-01-01", prior()),
        (Level::Technician, "2032-01-01", prior()),
        (Level::SeniorTechnician, "2036-01-01", prior()),
    ];
    let mut events = fx.setup();
    for (level, date, route) in steps {
        let when = fx.certify(&y, 1, turner(), level, date, route);
        check(events.clone(), when.clone(), Ok(()));
        events.push(when);
    }
    let ledger = given(events);
    let person = &ledger.persons[&subject(1)];
    assert_eq!(person.holdings.len(), 5);
    assert_eq!(person.highest_overall(), Some(Level::SeniorTechnician));
    assert_eq!(ledger.stats[stat::ISSUED], 5);
    assert_eq!(ledger.stats[stat::HOLDERS], 1);
    assert_eq!(ledger.stats["holders.highest.senior_technician"], 1);
    assert_eq!(ledger.stats.get("holders.highest.junior"), None);
    assert_eq!(ledger.stats["certificates.valid.level.junior"], 1);
    assert_eq!(ledger.stats["certificates.valid.route.evaluation"], 5);
    assert_eq!(ledger.stats["certificates.valid.province.50"], 5);
    assert_eq!(ledger.stats["certificates.valid.group.6"], 5);
}

#[test]
fn direct_recognition_skips_levels() {
    let fx = Fx::new();
    let y = y_body();
    // From nothing straight to 技师.
    let (ledger, _) = check(
        fx.setup(),
        fx.certify(&y, 1, turner(), Level::Technician, "2021-01-01", direct()),
        Ok(()),
    );
    assert_eq!(ledger.stats["certificates.valid.route.direct"], 1);
    // From 初级工 straight to 高级技师, a year later.
    let junior = fx.certify(&y, 2, turner(), Level::Junior, "2020-01-01", attested());
    check(
        with(fx.setup(), [junior]),
        fx.certify(
            &y,
            2,
            turner(),
            Level::SeniorTechnician,
            "2021-01-01",
            direct(),
        ),
        Ok(()),
    );
}

#[test]
fn revocation_by_issuer_and_by_authority() {
    let fx = Fx::new();
    let y = y_body();
    let first = fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    let second = fx.certify(
        &y,
        2,
        turner(),
        Level::Intermediate,
        "2020-01-01",
        attested(),
    );
    let given_events = with(fx.setup(), [first.clone(), second.clone()]);
    let (ledger, _) = check(
        given_events.clone(),
        fx.by_body(
            &y,
            EventKind::CredentialRevoked(fx.revocation(&first, "2021-01-01")),
        ),
        Ok(()),
    );
    let record = &ledger.credentials[&number_of(&first)];
    assert!(matches!(
        record.status,
        CredentialStatus::Revoked {
            by: Signer::Body(_),
            ..
        }
    ));
    assert_eq!(ledger.stats[stat::REVOKED], 1);
    assert_eq!(ledger.stats[stat::HOLDERS], 1);
    assert_eq!(ledger.stats.get("certificates.valid.level.junior"), None);
    let (ledger, _) = check(
        given_events,
        fx.by_authority(EventKind::CredentialRevoked(
            fx.revocation(&second, "2021-01-01"),
        )),
        Ok(()),
    );
    assert!(matches!(
        ledger.credentials[&number_of(&second)].status,
        CredentialStatus::Revoked {
            by: Signer::Authority,
            ..
        }
    ));
}

#[test]
fn a_reinstated_body_issues_again() {
    let fx = Fx::new();
    let y = y_body();
    let events = with(
        fx.setup(),
        [fx.suspend(&y, "2022-01-01"), fx.reinstate(&y, "2022-07-01")],
    );
    check(
        events.clone(),
        fx.certify(&y, 1, turner(), Level::Junior, "2022-03-01", attested()),
        Err("body-not-active"),
    );
    check(
        events,
        fx.certify(&y, 1, turner(), Level::Junior, "2022-07-01", attested()),
        Ok(()),
    );
}

#[test]
fn credentials_issued_before_suspension_or_cancellation_stay_valid() {
    let fx = Fx::new();
    let y = y_body();
    let issued = fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested());
    let (ledger, _) = check(
        with(fx.setup(), [issued.clone()]),
        fx.suspend(&y, "2022-01-01"),
        Ok(()),
    );
    assert!(ledger.credentials[&number_of(&issued)].is_valid());
    let events = with(fx.setup(), [issued.clone(), fx.suspend(&y, "2022-01-01")]);
    let (ledger, _) = check(events.clone(), fx.cancel(&y, "2022-06-01"), Ok(()));
    assert!(ledger.credentials[&number_of(&issued)].is_valid());
    // It still serves as the basis for the next level with another body.
    let s = s_body();
    let events = with(events, [fx.cancel(&y, "2022-06-01")]);
    check(
        events,
        fx.certify(&s, 1, turner(), Level::Intermediate, "2024-01-01", prior()),
        Ok(()),
    );
}

#[test]
fn the_policy_in_force_at_the_event_date_judges() {
    let fx = Fx::new();
    let y = y_body();
    // v2 from 2023-06-01 asks 3 years for 中级工 instead of 4.
    let v2 = policy_text(2, "2023-06-01", &[("intermediate = 4", "intermediate = 3")]);
    let events = with(
        fx.setup(),
        [
            fx.certify(&y, 1, turner(), Level::Junior, "2020-01-01", attested()),
            fx.policy(&v2),
        ],
    );
    // The day before: v1 judges, 4 years.
    let (_, rejection) = check(
        events.clone(),
        fx.certify(&y, 1, turner(), Level::Intermediate, "2023-05-31", prior()),
        Err("too-few-years"),
    );
    assert!(matches!(
        rejection,
        Some(Rejection::TooFewYears {
            required_years: 4,
            policy_version: 1,
            ..
        })
    ));
    // The day it takes effect: v2 judges, 3 years have passed.
    check(
        events.clone(),
        fx.certify(&y, 1, turner(), Level::Intermediate, "2023-06-01", prior()),
        Ok(()),
    );
    // A stricter v3 from 2024-01-01 (5 years): the day before still passes under v2.
    let v3 = policy_text(3, "2024-01-01", &[("intermediate = 4", "intermediate = 5")]);
    let events = with(events, [fx.policy(&v3)]);
    check(
        events.clone(),
        fx.certify(&y, 1, turner(), Level::Intermediate, "2023-12-31", prior()),
        Ok(()),
    );
    let (_, rejection) = check(
        events,
        fx.certify(&y, 1, turner(), Level::Intermediate, "2024-01-01", prior()),
        Err("too-few-years"),
    );
    assert!(matches!(
        rejection,
        Some(Rejection::TooFewYears {
            required_years: 5,
            policy_version: 3,
            ..
        })
    ));
}
