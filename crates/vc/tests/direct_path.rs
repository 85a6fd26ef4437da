//! The direct RDF path of `issue` (eddsa-rdfc-2022 without JSON-LD) is only safe if it gives the
//! same canonical bytes as the general path (JSON-LD toRdf of `to_json()` with the bundled
//! contexts, then RDFC-1.0) for every credential. These properties check that over arbitrary
//! credentials: unicode texts (quotes, backslashes, newlines, control characters, CJK, emoji),
//! optional members present and absent, recognitions, several evidence entries, and IRIs with
//! every character the validator admits.

use proptest::prelude::*;
use serde_json::{json, Value};
use skill_ledger_vc::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\"\\\\\n\r\t\u{0}\u{7f} a-z电工高级工重庆四川é\u{1F600}\u{202E}<>{}]{0,24}",
        Just("a \"quoted\" \\ back\\slash\nnew line".to_owned()),
    ]
}

fn non_empty() -> impl Strategy<Value = String> {
    text().prop_map(|s| if s.is_empty() { "x".into() } else { s })
}

fn hex64() -> impl Strategy<Value = String> {
    "[0-9a-f]{64}"
}

fn date() -> impl Strategy<Value = String> {
    "(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
}

fn date_time() -> impl Strategy<Value = String> {
    "(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])"
}

fn iri() -> impl Strategy<Value = String> {
    let seg = "(\\.|\\.\\.|([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2}){0,8})";
    prop_oneof![
        proptest::string::string_regex(&format!(
            "https?://[a-z0-9][a-z0-9.-]{{0,10}}(:[0-9]{{1,4}})?(/{seg}){{0,4}}(\\?[a-z0-9=&]{{0,6}})?(#[A-Za-z0-9:/]{{0,6}})?"
        ))
        .expect("regex"),
        proptest::string::string_regex("urn:[a-z][a-z0-9-]{0,8}:[A-Za-z0-9:._-]{1,20}").expect("regex"),
        proptest::string::string_regex("did:web:[a-z0-9.]{1,10}(:[a-z0-9]{1,6}){0,2}").expect("regex"),
    ]
}

fn list_url() -> impl Strategy<Value = String> {
    iri()
        .prop_map(|s| s.split('#').next().unwrap_or_default().to_owned())
        .prop_filter("valid", |s| validate::iri("u", s).is_ok())
}

fn recognised() -> impl Strategy<Value = RecognisedCredential> {
    (
        non_empty(),
        non_empty(),
        0..=validate::MAX_SAFE_INTEGER,
        hex64(),
        date(),
        date(),
    )
        .prop_map(
            |(origin, certificate_number, entry_index, leaf_hash, issue_date, recognition_date)| {
                RecognisedCredential {
                    origin,
                    certificate_number,
                    entry_index,
                    leaf_hash,
                    issue_date,
                    recognition_date,
                }
            },
        )
}

fn evidence() -> impl Strategy<Value = LedgerEvidence> {
    (
        non_empty(),
        0..=validate::MAX_SAFE_INTEGER,
        hex64(),
        0..=validate::MAX_SAFE_INTEGER,
        hex64(),
        non_empty(),
    )
        .prop_map(
            |(origin, entry_index, leaf_hash, tree_size, root_hash, checkpoint)| LedgerEvidence {
                origin,
                entry_index,
                leaf_hash,
                tree_size,
                root_hash,
                checkpoint,
            },
        )
}

fn subject() -> impl Strategy<Value = CredentialSubject> {
    (
        (
            hex64(),
            hex64(),
            non_empty(),
            non_empty(),
            text(),
            proptest::option::of(text()),
        ),
        (
            non_empty(),
            proptest::option::of(text()),
            1u8..=8,
            non_empty(),
            non_empty(),
            text(),
        ),
        (date(), proptest::option::of(recognised())),
    )
        .prop_map(
            |(
                (
                    id,
                    name_commitment,
                    certificate_number,
                    occupation_code,
                    occupation_name,
                    work_type,
                ),
                (skill_level, national_level, level_rank, route, registration_number, body_name),
                (issue_date, recognised),
            )| CredentialSubject {
                id: format!("urn:skill-ledger:subject:{id}"),
                name_commitment,
                certificate_number,
                occupation_code,
                occupation_name,
                work_type,
                skill_level,
                national_level,
                level_rank,
                route,
                issuing_body: IssuingBody {
                    registration_number,
                    name: body_name,
                },
                issue_date,
                recognised,
            },
        )
}

fn credential() -> impl Strategy<Value = SkillCredential> {
    (
        iri(),
        iri(),
        date_time(),
        subject(),
        proptest::option::of((list_url(), 0..StatusList::BITS)),
        proptest::collection::vec(evidence(), 0..3),
    )
        .prop_map(
            |(id, issuer, valid_from, subject, status, evidence)| SkillCredential {
                id,
                issuer,
                valid_from,
                subject,
                status: status.map(|(list_url, index)| StatusEntry { list_url, index }),
                evidence,
            },
        )
}

fn proof_config_json(suite: Suite, method: &str, created: &str, ours: bool) -> Value {
    let context = if ours {
        vec![contexts::CREDENTIALS_V2, contexts::SKILL_LEDGER_V1]
    } else {
        vec![contexts::CREDENTIALS_V2]
    };
    json!({
        "@context": context,
        "type": "DataIntegrityProof", "cryptosuite": suite.as_str(), "created": created,
        "verificationMethod": method, "proofPurpose": "assertionMethod",
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn direct_quads_equal_json_ld(c in credential()) {
        prop_assert_eq!(c.validate(), Ok(()));
        let direct = canonical_nquads_direct(&c).expect("direct path");
        let general = canonical_nquads(&c.to_json()).expect("general path");
        prop_assert_eq!(direct, general);
    }

    #[test]
    /// Also what `verify_proof` relies on for eddsa-rdfc-2022 proofs of the standard shape, under
    /// `[credentials/v2]` (status lists) or `[credentials/v2, skill-ledger-v1]` (credentials).
    fn direct_proof_config_equals_json_ld(method in iri(), created in date_time(), jcs in any::<bool>(), ours in any::<bool>()) {
        let suite = if jcs { Suite::EddsaJcs2022 } else { Suite::EddsaRdfc2022 };
        let direct = canonical_proof_config_direct(suite, &method, &created).expect("direct path");
        let general = canonical_nquads(&proof_config_json(suite, &method, &created, ours)).expect("general path");
        prop_assert_eq!(direct, general);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Ed25519 is deterministic, so `issue` must give exactly what the general `sign_document`
    /// gives on `to_json()`, and that must verify through the general `verify_proof`.
    #[test]
    fn issue_equals_sign_document_and_verifies(c in credential(), method in iri()) {
        let key = ed25519_dalek::SigningKey::from_bytes(&sample::SEED);
        for suite in Suite::ALL {
            let issued = issue(&c, suite, &key, &method, sample::CREATED).expect("issues");
            let signed = sign_document(&c.to_json(), suite, &key, &method, sample::CREATED).expect("signs");
            prop_assert_eq!(&issued, &signed);
            let info = verify_proof(&issued, &key.verifying_key()).expect("verifies");
            prop_assert_eq!(info.suite, suite);
        }
    }
}

proptest! {
    /// `from_json` is the exact inverse of `to_json`, for every credential.
    #[test]
    fn from_json_inverts_to_json(c in credential()) {
        prop_assert_eq!(SkillCredential::from_json(&c.to_json()), Ok(c));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Whatever `issue` writes passes `verify_credential`, strict shape check included, and
    /// reads back into the credential.
    #[test]
    fn issued_credentials_pass_the_strict_check(c in credential()) {
        let key = ed25519_dalek::SigningKey::from_bytes(&sample::SEED);
        let controller = ControllerDocument { id: c.issuer.clone(), keys: vec![key.verifying_key()] };
        let method = controller.method_id(&key.verifying_key());
        // An issuer IRI with a fragment makes no valid method id: nothing to verify then.
        prop_assume!(validate::iri("m", &method).is_ok());
        for suite in Suite::ALL {
            let vc = issue(&c, suite, &key, &method, sample::CREATED).expect("issues");
            let verified = verify_credential(&vc, &controller, None).expect("verifies");
            prop_assert_eq!(verified.suite, suite);
            prop_assert_eq!(SkillCredential::from_json(&vc), Ok(c.clone()));
        }
    }
}

#[test]
fn samples_take_both_paths_alike() {
    for c in [sample::credential(7), sample::recognised_credential(8)] {
        assert_eq!(canonical_nquads_direct(&c), canonical_nquads(&c.to_json()));
    }
}

#[test]
fn duplicate_quads_are_merged_on_both_paths() {
    // Two identical evidence entries are one blank node each (distinct), but their literal
    // quads coincide per node; and a status entry whose id is the subject's merges quads.
    let mut c = sample::credential(3);
    c.evidence.push(c.evidence[0].clone());
    assert_eq!(canonical_nquads_direct(&c), canonical_nquads(&c.to_json()));
}
