//! `verify_credential`: each failure is its own `VcError` variant.

use ed25519_dalek::SigningKey;
use serde_json::Value;
use skill_ledger_vc::*;

type Fixture = sample::Issuer;

fn fixture() -> Fixture {
    sample::issuer()
}

fn issued(f: &Fixture, suite: Suite) -> Value {
    issue(
        &sample::credential(3),
        suite,
        &f.key,
        &f.method,
        sample::CREATED,
    )
    .expect("issues")
}

fn status_list(f: &Fixture, revoked: &[u64], url: &str, issuer: &str) -> Value {
    let mut list = StatusList::new();
    for &i in revoked {
        list.set(i).expect("in range");
    }
    let unsecured = status_list_credential(url, issuer, sample::VALID_FROM, &list);
    sign_document(
        &unsecured,
        Suite::EddsaRdfc2022,
        &f.key,
        &f.method,
        sample::CREATED,
    )
    .expect("signs")
}

#[test]
fn valid_with_both_suites() {
    let f = fixture();
    for suite in Suite::ALL {
        let v = verify_credential(&issued(&f, suite), &f.controller, None).expect("verifies");
        assert_eq!(
            v,
            Verified {
                suite,
                verification_method: f.method.clone(),
                certificate_number: Some("S000050010100001A0003".into()),
                status: None,
                valid_from: Some("2025-03-01T00:00:00+08:00".into()),
            }
        );
        assert!(v.is_valid());
        let list = status_list(&f, &[1, 2], sample::STATUS_LIST, sample::ISSUER);
        let v =
            verify_credential(&issued(&f, suite), &f.controller, Some(&list)).expect("verifies");
        assert_eq!(v.status, Some(Status::Valid));
    }
}

#[test]
fn a_tampered_subject_field_fails_the_signature() {
    let f = fixture();
    for suite in Suite::ALL {
        for (field, value) in [
            ("skillLevel", Value::from("技师")),
            ("levelRank", Value::from(5)),
            ("occupationName", "电工 ".into()),
        ] {
            let mut vc = issued(&f, suite);
            vc["credentialSubject"][field] = value;
            assert_eq!(
                verify_credential(&vc, &f.controller, None),
                Err(VcError::SignatureInvalid),
                "{suite} {field}"
            );
        }
    }
}

#[test]
fn the_wrong_key_fails_the_signature() {
    let f = fixture();
    // Signed by another key under our method id: the controller's key does not verify it.
    let other = SigningKey::from_bytes(&[8; 32]);
    for suite in Suite::ALL {
        let vc = issue(
            &sample::credential(3),
            suite,
            &other,
            &f.method,
            sample::CREATED,
        )
        .expect("issues");
        assert_eq!(
            verify_credential(&vc, &f.controller, None),
            Err(VcError::SignatureInvalid)
        );
        assert_eq!(
            verify_proof(&vc, &other.verifying_key()).map(|i| i.suite),
            Ok(suite)
        );
    }
}

#[test]
fn an_issuer_that_is_not_the_controller_is_refused() {
    let f = fixture();
    let mut c = sample::credential(3);
    c.issuer = "https://impostor.example/issuer".into();
    let vc = issue(&c, Suite::EddsaRdfc2022, &f.key, &f.method, sample::CREATED).expect("issues");
    assert_eq!(
        verify_credential(&vc, &f.controller, None),
        Err(VcError::IssuerMismatch {
            expected: sample::ISSUER.into(),
            found: "https://impostor.example/issuer".into()
        })
    );
}

#[test]
fn a_verification_method_not_in_the_controller_document_is_refused() {
    let f = fixture();
    let other = SigningKey::from_bytes(&[9; 32]);
    let other_method = f.controller.method_id(&other.verifying_key());
    let vc = issue(
        &sample::credential(3),
        Suite::EddsaJcs2022,
        &other,
        &other_method,
        sample::CREATED,
    )
    .expect("issues");
    assert_eq!(
        verify_credential(&vc, &f.controller, None),
        Err(VcError::UnknownVerificationMethod(other_method.clone()))
    );
    // After a rotation that adds the key, it verifies; old credentials still do.
    let rotated = ControllerDocument {
        id: sample::ISSUER.into(),
        keys: vec![f.key.verifying_key(), other.verifying_key()],
    };
    assert!(verify_credential(&vc, &rotated, None).is_ok());
    assert!(verify_credential(&issued(&f, Suite::EddsaRdfc2022), &rotated, None).is_ok());
    assert_eq!(rotated.current_key(), Some(&other.verifying_key()));
    // Another controller's method id (another document) is not ours either.
    let foreign = format!(
        "https://elsewhere.example/#{}",
        encode_multikey_public(&f.key.verifying_key())
    );
    let vc = issue(
        &sample::credential(3),
        Suite::EddsaJcs2022,
        &f.key,
        &foreign,
        sample::CREATED,
    )
    .expect("issues");
    assert_eq!(
        verify_credential(&vc, &f.controller, None),
        Err(VcError::UnknownVerificationMethod(foreign))
    );
}

#[test]
fn a_revoked_bit_is_reported() {
    let f = fixture();
    for suite in Suite::ALL {
        let list = status_list(&f, &[3], sample::STATUS_LIST, sample::ISSUER);
        let v =
            verify_credential(&issued(&f, suite), &f.controller, Some(&list)).expect("verifies");
        assert_eq!(v.status, Some(Status::Revoked));
        assert!(!v.is_valid());
    }
}

#[test]
fn a_status_list_of_another_url_or_issuer_is_refused() {
    let f = fixture();
    let vc = issued(&f, Suite::EddsaRdfc2022);
    let other_url = status_list(
        &f,
        &[],
        "https://issuer.skill-ledger.example/cq/status/2",
        sample::ISSUER,
    );
    assert_eq!(
        verify_credential(&vc, &f.controller, Some(&other_url)),
        Err(VcError::StatusListMismatch {
            field: "id",
            expected: sample::STATUS_LIST.into(),
            found: "https://issuer.skill-ledger.example/cq/status/2".into()
        })
    );
    let other_issuer = status_list(
        &f,
        &[],
        sample::STATUS_LIST,
        "https://impostor.example/issuer",
    );
    assert_eq!(
        verify_credential(&vc, &f.controller, Some(&other_issuer)),
        Err(VcError::StatusListMismatch {
            field: "issuer",
            expected: sample::ISSUER.into(),
            found: "https://impostor.example/issuer".into()
        })
    );
    // A list whose bits were changed after signing: its own proof fails.
    let mut forged = status_list(&f, &[3], sample::STATUS_LIST, sample::ISSUER);
    forged["credentialSubject"]["encodedList"] = StatusList::new().encode().into();
    assert_eq!(
        verify_credential(&vc, &f.controller, Some(&forged)),
        Err(VcError::SignatureInvalid)
    );
    // Another purpose.
    let mut suspension = status_list_credential(
        sample::STATUS_LIST,
        sample::ISSUER,
        sample::VALID_FROM,
        &StatusList::new(),
    );
    suspension["credentialSubject"]["statusPurpose"] = "suspension".into();
    let suspension = sign_document(
        &suspension,
        Suite::EddsaJcs2022,
        &f.key,
        &f.method,
        sample::CREATED,
    )
    .expect("signs");
    assert_eq!(
        verify_credential(&vc, &f.controller, Some(&suspension)),
        Err(VcError::StatusListMismatch {
            field: "statusPurpose",
            expected: "revocation".into(),
            found: "suspension".into()
        })
    );
    // A credential without a status entry, checked against a list.
    let mut c = sample::credential(3);
    c.status = None;
    let vc = issue(&c, Suite::EddsaJcs2022, &f.key, &f.method, sample::CREATED).expect("issues");
    let list = status_list(&f, &[], sample::STATUS_LIST, sample::ISSUER);
    assert_eq!(
        verify_credential(&vc, &f.controller, Some(&list)),
        Err(VcError::MissingField("credentialStatus".into()))
    );
}

#[test]
fn damaged_json_is_named() {
    let f = fixture();
    let text = serde_json::to_string(&issued(&f, Suite::EddsaRdfc2022)).expect("serializes");
    // Truncated text is not JSON at all (what a caller's parse reports).
    assert!(matches!(
        parse_document(&text[..text.len() / 2]),
        Err(VcError::NotJson(_))
    ));
    assert!(matches!(parse_document("[1, 2]"), Err(VcError::NotJson(_))));
    assert!(matches!(
        verify_credential(&Value::from("a string"), &f.controller, None),
        Err(VcError::NotJson(_))
    ));

    let vc = parse_document(&text).expect("parses");
    let mut no_proof = vc.clone();
    no_proof.as_object_mut().expect("object").remove("proof");
    assert_eq!(
        verify_credential(&no_proof, &f.controller, None),
        Err(VcError::MissingField("proof".into()))
    );
    let mut no_value = vc.clone();
    no_value["proof"]
        .as_object_mut()
        .expect("object")
        .remove("proofValue");
    assert_eq!(
        verify_credential(&no_value, &f.controller, None),
        Err(VcError::MissingField("proof.proofValue".into()))
    );
    let mut bad_value = vc.clone();
    bad_value["proof"]["proofValue"] = "z1111".into();
    assert_eq!(
        verify_credential(&bad_value, &f.controller, None),
        Err(VcError::BadProofValue)
    );
    let mut bad_suite = vc.clone();
    bad_suite["proof"]["cryptosuite"] = "ecdsa-rdfc-2019".into();
    assert_eq!(
        verify_credential(&bad_suite, &f.controller, None),
        Err(VcError::UnknownSuite("ecdsa-rdfc-2019".into()))
    );
    let mut wrong_type = vc.clone();
    wrong_type["proof"] = "z".into();
    assert!(matches!(
        verify_credential(&wrong_type, &f.controller, None),
        Err(VcError::WrongType { .. })
    ));
    let mut no_v2 = vc.clone();
    no_v2["@context"] = serde_json::json!(["https://www.w3.org/2018/credentials/v1"]);
    assert!(matches!(
        verify_credential(&no_v2, &f.controller, None),
        Err(VcError::NotACredential { .. })
    ));
    let mut unbundled = vc.clone();
    unbundled["@context"][1] = "https://evil.example/context".into();
    assert_eq!(
        verify_credential(&unbundled, &f.controller, None),
        Err(VcError::UnbundledContext(
            "https://evil.example/context".into()
        ))
    );
    let mut no_issuer = vc;
    no_issuer.as_object_mut().expect("object").remove("issuer");
    assert_eq!(
        verify_credential(&no_issuer, &f.controller, None),
        Err(VcError::MissingField("issuer".into()))
    );
}

#[test]
fn a_recognition_verifies() {
    let f = fixture();
    for suite in Suite::ALL {
        let vc = issue(
            &sample::recognised_credential(4),
            suite,
            &f.key,
            &f.method,
            sample::CREATED,
        )
        .expect("issues");
        assert!(vc["type"]
            .as_array()
            .expect("types")
            .contains(&"MutualRecognitionCredential".into()));
        assert!(verify_credential(&vc, &f.controller, None).is_ok());
    }
}

#[test]
fn issue_refuses_invalid_credentials_with_the_field_named() {
    let f = fixture();
    type Change = fn(&mut SkillCredential);
    let cases: Vec<(Change, &str)> = vec![
        (|c| c.id = "not a url".into(), "id"),
        (
            |c| c.subject.id = "urn:x:110101199003077777".into(),
            "credentialSubject.id",
        ),
        (|c| c.subject.level_rank = 9, "credentialSubject.levelRank"),
        (|c| c.valid_from = "2025-03-01".into(), "validFrom"),
        (
            |c| c.subject.issue_date = "2025-3-1".into(),
            "credentialSubject.issueDate",
        ),
        (|c| c.evidence[0].tree_size = 1 << 60, "evidence.treeSize"),
        (
            |c| c.evidence[0].leaf_hash = "ABC".into(),
            "evidence.leafHash",
        ),
    ];
    for (change, field) in cases {
        let mut c = sample::credential(1);
        change(&mut c);
        match issue(&c, Suite::EddsaRdfc2022, &f.key, &f.method, sample::CREATED) {
            Err(VcError::InvalidField { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(matches!(
        issue(
            &sample::credential(1),
            Suite::EddsaRdfc2022,
            &f.key,
            "not an iri",
            sample::CREATED
        ),
        Err(VcError::InvalidField { .. })
    ));
}

#[test]
fn controller_documents_round_trip_and_refuse_damage() {
    let f = fixture();
    let two = ControllerDocument {
        id: sample::ISSUER.into(),
        keys: vec![
            SigningKey::from_bytes(&[1; 32]).verifying_key(),
            f.key.verifying_key(),
        ],
    };
    assert_eq!(
        ControllerDocument::from_json(&two.to_json()),
        Ok(two.clone())
    );
    assert_eq!(two.assertion_key(&f.method), Some(f.key.verifying_key()));
    assert_eq!(
        two.assertion_key("https://issuer.skill-ledger.example/cq#z6Mkfoo"),
        None
    );
    let mut bad = two.to_json();
    bad["verificationMethod"][0]["publicKeyMultibase"] =
        "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".into();
    assert!(matches!(
        ControllerDocument::from_json(&bad),
        Err(VcError::InvalidField { .. })
    ));
    let mut bad = two.to_json();
    bad["verificationMethod"][1]["publicKeyMultibase"] =
        "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme".into();
    assert!(matches!(
        ControllerDocument::from_json(&bad),
        Err(VcError::BadMultikey(_))
    ));
    assert!(matches!(
        decode_multikey_public("6Mk"),
        Err(VcError::BadMultikey(_))
    ));
}
