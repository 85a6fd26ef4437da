//! The strict shape check of `verify_credential`, our equivalent of Digital Bazaar's JSON-LD
//! "safe mode": a member that is not part of the documented shape is refused with
//! `VcError::UnexpectedMember` and its path, before the proof is checked. With eddsa-rdfc-2022
//! an undefined member is dropped by JSON-LD, so the proof alone (`verify_proof`) still holds:
//! each test shows that too where it applies.

use serde_json::{json, Value};
use skill_ledger_vc::*;

/// The sample issuer, with the test's helpers.
struct Fixture(sample::Issuer);

impl std::ops::Deref for Fixture {
    type Target = sample::Issuer;
    fn deref(&self) -> &sample::Issuer {
        &self.0
    }
}

fn fixture() -> Fixture {
    Fixture(sample::issuer())
}

impl Fixture {
    fn issued(&self, suite: Suite) -> Value {
        issue(
            &sample::credential(3),
            suite,
            &self.key,
            &self.method,
            sample::CREATED,
        )
        .expect("issues")
    }

    fn signed(&self, doc: &Value, suite: Suite) -> Value {
        sign_document(doc, suite, &self.key, &self.method, sample::CREATED).expect("signs")
    }

    fn status_list(&self, suite: Suite) -> Value {
        let mut list = StatusList::new();
        list.set(3).expect("in range");
        self.signed(
            &status_list_credential(
                sample::STATUS_LIST,
                sample::ISSUER,
                sample::VALID_FROM,
                &list,
            ),
            suite,
        )
    }
}

fn unexpected(path: &str) -> Result<Verified, VcError> {
    Err(VcError::UnexpectedMember { path: path.into() })
}

/// Adds `value` at `pointer` (a JSON pointer to an object member) of `doc`.
fn add(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, name) = pointer.rsplit_once('/').expect("a member pointer");
    doc.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .expect("the parent is an object")
        .insert(name.into(), value);
}

/// Given a credential the issuer signed with each suite, when `value` is added at `pointer`,
/// then `verify_credential` refuses it naming `path`; and with eddsa-rdfc-2022 the proof alone
/// still holds (JSON-LD dropped the member), which is the hole the strict check closes.
fn assert_added_member_refused(pointer: &str, value: Value, path: &str) {
    let f = fixture();
    for suite in Suite::ALL {
        let mut vc = f.issued(suite);
        add(&mut vc, pointer, value.clone());
        assert_eq!(
            verify_credential(&vc, &f.controller, None),
            unexpected(path),
            "{suite} {pointer}"
        );
        if suite == Suite::EddsaRdfc2022 {
            assert!(
                verify_proof(&vc, &f.key.verifying_key()).is_ok(),
                "{pointer}: JSON-LD drops the member, so the RDFC proof alone holds"
            );
        }
    }
}

#[test]
fn an_undefined_member_at_the_top_level_is_refused() {
    assert_added_member_refused("/note", "approved by the minister".into(), "note");
}

#[test]
fn an_undefined_member_in_credential_subject_is_refused() {
    assert_added_member_refused(
        "/credentialSubject/skillLevelOverride",
        "高级技师".into(),
        "credentialSubject.skillLevelOverride",
    );
}

#[test]
fn an_undefined_member_in_issuing_body_is_refused() {
    assert_added_member_refused(
        "/credentialSubject/issuingBody/nickname",
        "鉴定中心".into(),
        "credentialSubject.issuingBody.nickname",
    );
}

#[test]
fn an_undefined_member_in_an_evidence_entry_is_refused() {
    assert_added_member_refused(
        "/evidence/0/note",
        json!({"verified": true}),
        "evidence[0].note",
    );
}

#[test]
fn an_undefined_member_in_credential_status_is_refused() {
    assert_added_member_refused(
        "/credentialStatus/note",
        "never revoked".into(),
        "credentialStatus.note",
    );
}

#[test]
fn an_undefined_member_in_the_proof_is_refused() {
    assert_added_member_refused("/proof/note", "trust me".into(), "proof.note");
    // A member Data Integrity defines (so signed, here unsigned) but this crate does not write
    // is refused too, before the signature is checked.
    let f = fixture();
    for suite in Suite::ALL {
        let mut vc = f.issued(suite);
        vc["proof"]["expires"] = "2099-01-01T00:00:00Z".into();
        assert_eq!(
            verify_credential(&vc, &f.controller, None),
            unexpected("proof.expires"),
            "{suite}"
        );
        assert_eq!(
            verify_proof(&vc, &f.key.verifying_key()),
            Err(VcError::SignatureInvalid)
        );
    }
}

#[test]
fn a_proof_context_is_accepted_for_jcs_only() {
    let f = fixture();
    // Given an eddsa-jcs-2022 credential: its proof has `@context` (as the spec's vector), and
    // it verifies.
    let jcs = f.issued(Suite::EddsaJcs2022);
    assert!(jcs["proof"].get("@context").is_some());
    assert!(verify_credential(&jcs, &f.controller, None).is_ok());
    // When an eddsa-rdfc-2022 proof is given an `@context`, then it is refused.
    let mut rdfc = f.issued(Suite::EddsaRdfc2022);
    rdfc["proof"]["@context"] = jcs["@context"].clone();
    assert_eq!(
        verify_credential(&rdfc, &f.controller, None),
        unexpected("proof.@context")
    );
}

#[test]
fn an_undefined_member_in_a_proof_array_is_named_with_its_index() {
    let f = fixture();
    // Given a credential whose proof is a one-element array (accepted, as Data Integrity allows)
    let mut vc = f.issued(Suite::EddsaRdfc2022);
    vc["proof"] = json!([vc["proof"].clone()]);
    assert!(verify_credential(&vc, &f.controller, None).is_ok());
    // When a member is added to that proof, then its path has the index.
    vc["proof"][0]["note"] = "x".into();
    assert_eq!(
        verify_credential(&vc, &f.controller, None),
        unexpected("proof[0].note")
    );
}

#[test]
fn an_undefined_member_in_the_status_list_credential_is_refused() {
    let f = fixture();
    for suite in Suite::ALL {
        let vc = f.issued(suite);
        for (pointer, path) in [
            ("/note", "statusList.note"),
            (
                "/credentialSubject/note",
                "statusList.credentialSubject.note",
            ),
            ("/proof/note", "statusList.proof.note"),
        ] {
            // Given the issuer's signed status list, which verifies (entry 3 is revoked)
            let mut list = f.status_list(suite);
            let verified = verify_credential(&vc, &f.controller, Some(&list)).expect("verifies");
            assert_eq!(verified.status, Some(Status::Revoked));
            // When a member is added to it
            add(&mut list, pointer, "x".into());
            // Then the credential's verification refuses the list, naming the member.
            assert_eq!(
                verify_credential(&vc, &f.controller, Some(&list)),
                unexpected(path),
                "{suite} {pointer}"
            );
        }
    }
}

#[test]
fn a_status_list_with_another_context_or_subject_id_is_refused() {
    let f = fixture();
    let vc = f.issued(Suite::EddsaJcs2022);
    // Given a list signed with one more (bundled) context than status_list_credential writes
    let mut unsecured = status_list_credential(
        sample::STATUS_LIST,
        sample::ISSUER,
        sample::VALID_FROM,
        &StatusList::new(),
    );
    unsecured["@context"] = json!([contexts::CREDENTIALS_V2, contexts::DATA_INTEGRITY_V2]);
    let list = f.signed(&unsecured, Suite::EddsaJcs2022);
    // Then it is refused, at the extra context.
    assert_eq!(
        verify_credential(&vc, &f.controller, Some(&list)),
        unexpected("statusList.@context[1]")
    );
    // Given a list whose subject id is not `{id}#list`, then it is refused there.
    let mut unsecured = status_list_credential(
        sample::STATUS_LIST,
        sample::ISSUER,
        sample::VALID_FROM,
        &StatusList::new(),
    );
    unsecured["credentialSubject"]["id"] = "urn:x:another-subject".into();
    let list = f.signed(&unsecured, Suite::EddsaJcs2022);
    assert_eq!(
        verify_credential(&vc, &f.controller, Some(&list)),
        unexpected("statusList.credentialSubject.id")
    );
}

#[test]
fn a_status_list_credential_given_as_the_credential_has_its_shape_checked() {
    let f = fixture();
    // Given the issuer's signed status list, verified as a credential of its own
    let mut list = f.status_list(Suite::EddsaRdfc2022);
    let verified = verify_credential(&list, &f.controller, None).expect("verifies");
    assert_eq!(verified.certificate_number, None);
    // When a member is added, then it is refused (top-level paths, no prefix).
    list["credentialSubject"]["note"] = "x".into();
    assert_eq!(
        verify_credential(&list, &f.controller, None),
        unexpected("credentialSubject.note")
    );
}

#[test]
fn a_member_signed_by_the_issuer_but_undefined_is_still_refused() {
    let f = fixture();
    // Given a credential with a member no context defines, signed as it is by the issuer
    let mut doc = sample::credential(5).to_json();
    doc["credentialSubject"]["nickname"] = "not defined anywhere".into();
    let vc = f.signed(&doc, Suite::EddsaRdfc2022);
    // When it is verified: the proof holds (JSON-LD dropped the member before signing too)
    assert!(verify_proof(&vc, &f.key.verifying_key()).is_ok());
    // Then verify_credential refuses it all the same: nothing unsigned is accepted.
    assert_eq!(
        verify_credential(&vc, &f.controller, None),
        unexpected("credentialSubject.nickname")
    );
}

#[test]
fn a_number_where_a_string_belongs_is_refused_by_path() {
    let f = fixture();
    for suite in Suite::ALL {
        for (pointer, value, field, expected) in [
            (
                "/credentialSubject/certificateNumber",
                json!(12345),
                "credentialSubject.certificateNumber",
                "a string",
            ),
            (
                "/credentialStatus/statusListIndex",
                json!(3),
                "credentialStatus.statusListIndex",
                "a string",
            ),
            (
                "/credentialSubject/issuingBody/name",
                json!(7),
                "credentialSubject.issuingBody.name",
                "a string",
            ),
            // And the other way round: a string, or a float, where an integer belongs.
            (
                "/credentialSubject/levelRank",
                json!("4"),
                "credentialSubject.levelRank",
                "a non-negative integer (a JSON number)",
            ),
            (
                "/evidence/0/treeSize",
                json!(103.0),
                "evidence[0].treeSize",
                "a non-negative integer (a JSON number)",
            ),
            // `null` is not an absent optional member.
            (
                "/credentialSubject/workType",
                Value::Null,
                "credentialSubject.workType",
                "a string",
            ),
        ] {
            // Given a signed credential, when a member is given another JSON type
            let mut vc = f.issued(suite);
            add(&mut vc, pointer, value);
            // Then it is refused as the wrong type, by path.
            assert_eq!(
                verify_credential(&vc, &f.controller, None),
                Err(VcError::WrongType {
                    field: field.into(),
                    expected
                }),
                "{suite} {pointer}"
            );
        }
    }
}

#[test]
fn a_value_not_in_the_issuers_form_is_refused_by_path() {
    let f = fixture();
    let vc = f.issued(Suite::EddsaRdfc2022);
    let invalid_field = |doc: &Value| match verify_credential(doc, &f.controller, None) {
        Err(VcError::InvalidField { field, .. }) => field,
        other => panic!("expected InvalidField, got {other:?}"),
    };
    // A status list index with a leading zero (the same number, another text).
    let mut v = vc.clone();
    v["credentialStatus"]["statusListIndex"] = "03".into();
    assert_eq!(invalid_field(&v), "credentialStatus.statusListIndex");
    // A status entry id that is not `{statusListCredential}#{statusListIndex}`.
    let mut v = vc.clone();
    v["credentialStatus"]["id"] = "urn:x:entry".into();
    assert_eq!(invalid_field(&v), "credentialStatus.id");
    // A node type that is not the one written.
    let mut v = vc.clone();
    v["credentialSubject"]["issuingBody"]["type"] = "Organization".into();
    assert_eq!(invalid_field(&v), "credentialSubject.issuingBody.type");
    // `type` without MutualRecognitionCredential, on a recognition.
    let mut v = issue(
        &sample::recognised_credential(4),
        Suite::EddsaJcs2022,
        &f.key,
        &f.method,
        sample::CREATED,
    )
    .expect("issues");
    v["type"] = json!(["VerifiableCredential", "SkillLevelCredential"]);
    assert_eq!(invalid_field(&v), "type");
    // An empty evidence array (the issuer omits `evidence` instead).
    let mut v = vc.clone();
    v["evidence"] = json!([]);
    assert_eq!(
        verify_credential(&v, &f.controller, None),
        unexpected("evidence")
    );
    // A recognition date without the recognised credential it belongs to.
    let mut v = vc;
    v["credentialSubject"]["recognitionDate"] = "2025-03-01".into();
    assert_eq!(
        verify_credential(&v, &f.controller, None),
        unexpected("credentialSubject.recognitionDate")
    );
}

#[test]
fn a_document_of_another_type_is_refused_by_verify_credential() {
    let f = fixture();
    // Given a plain VerifiableCredential signed by the issuer
    let doc = json!({
        "@context": [contexts::CREDENTIALS_V2],
        "id": "urn:x:plain",
        "type": ["VerifiableCredential"],
        "issuer": sample::ISSUER,
        "credentialSubject": {"id": "urn:x:subject"},
    });
    let vc = f.signed(&doc, Suite::EddsaJcs2022);
    // When verified: its proof holds
    assert!(verify_proof(&vc, &f.key.verifying_key()).is_ok());
    // Then verify_credential refuses it: it has no documented shape to check.
    match verify_credential(&vc, &f.controller, None) {
        Err(VcError::InvalidField { field, .. }) => assert_eq!(field, "type"),
        other => panic!("expected InvalidField for type, got {other:?}"),
    }
}

#[test]
fn from_json_reads_back_what_to_json_writes() {
    let f = fixture();
    for c in [sample::credential(1), sample::recognised_credential(2)] {
        // Given a credential, unsecured or issued with either suite (the proof is ignored)
        assert_eq!(SkillCredential::from_json(&c.to_json()), Ok(c.clone()));
        for suite in Suite::ALL {
            let vc = issue(&c, suite, &f.key, &f.method, sample::CREATED).expect("issues");
            assert_eq!(SkillCredential::from_json(&vc), Ok(c.clone()), "{suite}");
        }
    }
    // Optional members absent.
    let mut c = sample::credential(9);
    c.status = None;
    c.evidence.clear();
    c.subject.work_type = None;
    c.subject.national_level = None;
    assert_eq!(SkillCredential::from_json(&c.to_json()), Ok(c));
}

#[test]
fn from_json_names_the_member_it_cannot_read() {
    let base = sample::recognised_credential(2);
    let mut two = base.clone();
    two.evidence.push(two.evidence[0].clone());
    type Change = fn(&mut Value);
    let cases: Vec<(Change, VcError)> = vec![
        (
            |v| {
                v["credentialSubject"]["issuingBody"]
                    .as_object_mut()
                    .expect("object")
                    .remove("name");
            },
            VcError::MissingField("credentialSubject.issuingBody.name".into()),
        ),
        (
            |v| {
                v["credentialSubject"]
                    .as_object_mut()
                    .expect("object")
                    .remove("recognitionDate");
            },
            VcError::MissingField("credentialSubject.recognitionDate".into()),
        ),
        (
            |v| v["credentialSubject"]["recognisedCredential"]["entryIndex"] = json!(-1),
            VcError::WrongType {
                field: "credentialSubject.recognisedCredential.entryIndex".into(),
                expected: "a non-negative integer (a JSON number)",
            },
        ),
        (
            |v| v["evidence"][1]["treeSize"] = json!("100"),
            VcError::WrongType {
                field: "evidence[1].treeSize".into(),
                expected: "a non-negative integer (a JSON number)",
            },
        ),
        (
            |v| v["evidence"] = json!({"type": "LedgerInclusionEvidence"}),
            VcError::WrongType {
                field: "evidence".into(),
                expected: "an array",
            },
        ),
        (
            |v| v["credentialSubject"]["levelRank"] = json!(256),
            VcError::WrongType {
                field: "credentialSubject.levelRank".into(),
                expected: "an integer from 0 to 255",
            },
        ),
        (
            |v| v["issuer"] = json!({"id": sample::ISSUER}),
            VcError::WrongType {
                field: "issuer".into(),
                expected: "a string",
            },
        ),
        (
            |v| v["type"] = json!("SkillLevelCredential"),
            VcError::WrongType {
                field: "type".into(),
                expected: "an array of strings",
            },
        ),
        (
            |v| {
                v.as_object_mut().expect("object").remove("validFrom");
            },
            VcError::MissingField("validFrom".into()),
        ),
    ];
    for (change, expected) in cases {
        // Given what to_json wrote, when one member is damaged
        let mut doc = two.to_json();
        change(&mut doc);
        // Then from_json names it.
        assert_eq!(
            SkillCredential::from_json(&doc),
            Err(expected.clone()),
            "{expected}"
        );
    }
    assert!(matches!(
        SkillCredential::from_json(&json!([1])),
        Err(VcError::NotJson(_))
    ));
    assert_eq!(
        SkillCredential::from_json(
            &json!({"@context": [contexts::CREDENTIALS_V2, contexts::SKILL_LEDGER_V1]})
        ),
        Err(VcError::MissingField("credentialSubject".into()))
    );
}

#[test]
fn the_error_says_what_is_wrong() {
    let e = VcError::UnexpectedMember {
        path: "credentialSubject.skillLevelOverride".into(),
    };
    assert_eq!(
        e.to_string(),
        "credentialSubject.skillLevelOverride is not part of the document's documented shape \
         (a member the issuer does not write, which the proof need not cover, or a value not \
         in the issuer's form)"
    );
}
