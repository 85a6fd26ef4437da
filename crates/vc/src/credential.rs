//! A skill-ledger credential as a W3C Verifiable Credential 2.0, and its issuance.
//!
//! # The JSON (every term defined by credentials/v2 or by skill-ledger-v1)
//! ```json
//! {
//!   "@context": ["https://www.w3.org/ns/credentials/v2", "https://skill-ledger.example/ns/credentials/v1"],
//!   "credentialStatus": {"id": "<list>#<index>", "statusListCredential": "<list>",
//!     "statusListIndex": "<index>", "statusPurpose": "revocation", "type": "BitstringStatusListEntry"},
//!   "credentialSubject": {
//!     "id": "urn:skill-ledger:subject:<64 hex>", "nameCommitment": "<64 hex>",
//!     "certificateNumber": "S000050010100001A0001", "occupationCode": "4-01-02-01",
//!     "occupationName": "电工", "workType": "…", "skillLevel": "高级工", "nationalLevel": "三级",
//!     "levelRank": 4, "route": "evaluation",
//!     "issuingBody": {"type": "EvaluationBody", "registrationNumber": "…", "name": "…"},
//!     "issueDate": "2025-03-01",
//!     "recognisedCredential": {"type": "PartnerCredential", "origin": "…", "certificateNumber": "…",
//!       "entryIndex": 12, "leafHash": "<64 hex>", "issueDate": "2024-05-01"},
//!     "recognitionDate": "2025-03-01"
//!   },
//!   "evidence": [{"type": "LedgerInclusionEvidence", "origin": "…", "entryIndex": 12,
//!     "leafHash": "<64 hex>", "treeSize": 100, "rootHash": "<64 hex>", "checkpoint": "<note text>"}],
//!   "id": "https://…", "issuer": "https://…",
//!   "type": ["VerifiableCredential", "SkillLevelCredential"],
//!   "validFrom": "2025-03-01T00:00:00+08:00"
//! }
//! ```
//! Shapes chosen here: `evidence` is always an array (of one entry per ledger inclusion proof),
//! and each entry's `type` is the single string `"LedgerInclusionEvidence"`; `issuingBody` and
//! `recognisedCredential` are embedded nodes without `id` (blank nodes); `type` gains
//! `"MutualRecognitionCredential"` exactly when `recognisedCredential` is there; optional
//! members (`workType`, `nationalLevel`, `recognisedCredential` + `recognitionDate`,
//! `credentialStatus`, `evidence`) are omitted, never `null`. Integers are JSON numbers
//! (`xsd:integer`), at most 2^53 - 1; `statusListIndex` is a decimal string, as the Bitstring
//! Status List spec wants. Names and other texts are plain strings: no language tag and never
//! `@direction`. Keys are written in sorted order, so the text does not depend on serde_json's
//! `preserve_order`.
//!
//! # Why issuance does not use JSON-LD
//! JSON-LD context processing alone costs about 0.85 ms a document, far too slow for issuing
//! in bulk. But for a [`SkillCredential`] the contexts are fixed and bundled, so the RDF is fixed
//! too: `SkillCredential::quads` writes the quads directly (the term IRIs and datatypes below
//! are those of the bundled contexts), and RDFC-1.0 runs its first-degree hashes only (every
//! blank node of a credential has a distinct one; if not, rdf-canon runs instead). The proof
//! configuration has a single blank node, so its canonical form is written directly. For
//! eddsa-jcs-2022 a small JCS writer for strings and integers replaces the general one. The
//! property tests in `tests/direct_path.rs` check, over arbitrary credentials, that `issue`
//! gives exactly what the general [`sign_document`](crate::sign_document) gives on
//! [`SkillCredential::to_json`] (JSON-LD + rdf-canon, serde_json_canonicalizer); verification
//! always takes the general path. The [`validate`](crate::validate) rules are what makes the
//! direct terms safe.

use ed25519_dalek::SigningKey;
use serde_json::{Map, Value};

use crate::contexts::{CREDENTIALS_V2, SKILL_LEDGER_V1};
use crate::proof::{attach_proof, proof_options, sign_canonical};
use crate::validate;
use crate::{canon, Suite, VcError};

/// A skill credential, in plain strings and integers (no skill-ledger-domain types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillCredential {
    /// The credential's id: an `https`/`http` URL (or `urn:`) chosen by the caller.
    pub id: String,
    /// The issuer: the id of its [`ControllerDocument`](crate::ControllerDocument).
    pub issuer: String,
    /// `xsd:dateTime` with a timezone, e.g. `2025-03-01T00:00:00+08:00`.
    pub valid_from: String,
    pub subject: CredentialSubject,
    pub status: Option<StatusEntry>,
    /// Ledger inclusion proofs; none omits `evidence`.
    pub evidence: Vec<LedgerEvidence>,
}

/// `credentialSubject`: a pseudonym and the credential's facts, never a name or an ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSubject {
    /// `urn:skill-ledger:subject:<64 hex>`.
    pub id: String,
    /// 64 lowercase hex digits.
    pub name_commitment: String,
    pub certificate_number: String,
    pub occupation_code: String,
    pub occupation_name: String,
    pub work_type: Option<String>,
    pub skill_level: String,
    /// `None` for the levels without a national level (学徒工, 特级技师, 首席技师).
    pub national_level: Option<String>,
    /// 1..=8, the rank on the eight-level ladder.
    pub level_rank: u8,
    pub route: String,
    pub issuing_body: IssuingBody,
    /// `xsd:date`, `YYYY-MM-DD`.
    pub issue_date: String,
    /// For a recognised partner credential (互认) only.
    pub recognised: Option<RecognisedCredential>,
}

/// `issuingBody`, of type `EvaluationBody`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuingBody {
    pub registration_number: String,
    pub name: String,
}

/// `recognisedCredential` (type `PartnerCredential`): the partner ledger's credential that this
/// one recognises. `recognition_date` is written on the subject, as `recognitionDate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecognisedCredential {
    pub origin: String,
    pub certificate_number: String,
    pub entry_index: u64,
    /// 64 lowercase hex digits.
    pub leaf_hash: String,
    /// `xsd:date`.
    pub issue_date: String,
    /// `xsd:date`.
    pub recognition_date: String,
}

/// `credentialStatus`: a `BitstringStatusListEntry` for `revocation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// The status list credential's URL (its `id`).
    pub list_url: String,
    pub index: u64,
}

impl StatusEntry {
    /// The entry's id, `{list_url}#{index}`.
    pub fn id(&self) -> String {
        format!("{}#{}", self.list_url, self.index)
    }
}

/// One `evidence` entry: the credential's inclusion in a ledger, under a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEvidence {
    pub origin: String,
    pub entry_index: u64,
    /// 64 lowercase hex digits.
    pub leaf_hash: String,
    pub tree_size: u64,
    /// 64 lowercase hex digits.
    pub root_hash: String,
    /// The C2SP signed checkpoint note, newlines included.
    pub checkpoint: String,
}

/// A JSON object from (key, value) pairs, keys inserted in sorted order.
pub(crate) fn object(mut entries: Vec<(&str, Value)>) -> Value {
    entries.sort_by(|a, b| a.0.cmp(b.0));
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<_, _>>(),
    )
}

impl SkillCredential {
    /// The `type` values.
    pub fn types(&self) -> Vec<&'static str> {
        let mut t = vec!["VerifiableCredential", "SkillLevelCredential"];
        if self.subject.recognised.is_some() {
            t.push("MutualRecognitionCredential");
        }
        t
    }

    /// The unsecured credential (see the module documentation for its shape).
    pub fn to_json(&self) -> Value {
        let s = &self.subject;
        let mut subject = vec![
            ("id", Value::from(s.id.as_str())),
            ("nameCommitment", s.name_commitment.as_str().into()),
            ("certificateNumber", s.certificate_number.as_str().into()),
            ("occupationCode", s.occupation_code.as_str().into()),
            ("occupationName", s.occupation_name.as_str().into()),
            ("skillLevel", s.skill_level.as_str().into()),
            ("levelRank", s.level_rank.into()),
            ("route", s.route.as_str().into()),
            (
                "issuingBody",
                object(vec![
                    ("type", "EvaluationBody".into()),
                    (
                        "registrationNumber",
                        s.issuing_body.registration_number.as_str().into(),
                    ),
                    ("name", s.issuing_body.name.as_str().into()),
                ]),
            ),
            ("issueDate", s.issue_date.as_str().into()),
        ];
        if let Some(w) = &s.work_type {
            subject.push(("workType", w.as_str().into()));
        }
        if let Some(n) = &s.national_level {
            subject.push(("nationalLevel", n.as_str().into()));
        }
        if let Some(r) = &s.recognised {
            subject.push((
                "recognisedCredential",
                object(vec![
                    ("type", "PartnerCredential".into()),
                    ("origin", r.origin.as_str().into()),
                    ("certificateNumber", r.certificate_number.as_str().into()),
                    ("entryIndex", r.entry_index.into()),
                    ("leafHash", r.leaf_hash.as_str().into()),
                    ("issueDate", r.issue_date.as_str().into()),
                ]),
            ));
            subject.push(("recognitionDate", r.recognition_date.as_str().into()));
        }
        let mut vc = vec![
            (
                "@context",
                Value::from(vec![CREDENTIALS_V2, SKILL_LEDGER_V1]),
            ),
            ("id", self.id.as_str().into()),
            ("type", self.types().into()),
            ("issuer", self.issuer.as_str().into()),
            ("validFrom", self.valid_from.as_str().into()),
            ("credentialSubject", object(subject)),
        ];
        if let Some(st) = &self.status {
            vc.push((
                "credentialStatus",
                object(vec![
                    ("id", st.id().into()),
                    ("type", "BitstringStatusListEntry".into()),
                    ("statusPurpose", "revocation".into()),
                    ("statusListIndex", st.index.to_string().into()),
                    ("statusListCredential", st.list_url.as_str().into()),
                ]),
            ));
        }
        if !self.evidence.is_empty() {
            let entries = self
                .evidence
                .iter()
                .map(|e| {
                    object(vec![
                        ("type", "LedgerInclusionEvidence".into()),
                        ("origin", e.origin.as_str().into()),
                        ("entryIndex", e.entry_index.into()),
                        ("leafHash", e.leaf_hash.as_str().into()),
                        ("treeSize", e.tree_size.into()),
                        ("rootHash", e.root_hash.as_str().into()),
                        ("checkpoint", e.checkpoint.as_str().into()),
                    ])
                })
                .collect::<Vec<_>>();
            vc.push(("evidence", Value::Array(entries)));
        }
        object(vc)
    }

    /// Checks every value that [`issue`] would sign (the errors name the JSON member).
    pub fn validate(&self) -> Result<(), VcError> {
        validate::iri("id", &self.id)?;
        validate::iri("issuer", &self.issuer)?;
        validate::date_time("validFrom", &self.valid_from)?;
        let s = &self.subject;
        let subject_id = "credentialSubject.id";
        match s.id.strip_prefix("urn:skill-ledger:subject:") {
            Some(h) => validate::hex64(subject_id, h)?,
            None => {
                return Err(VcError::invalid(
                    subject_id,
                    format!("{:?} is not urn:skill-ledger:subject:<64 hex>", s.id),
                ))
            }
        }
        validate::hex64("credentialSubject.nameCommitment", &s.name_commitment)?;
        validate::non_empty("credentialSubject.certificateNumber", &s.certificate_number)?;
        validate::non_empty("credentialSubject.occupationCode", &s.occupation_code)?;
        validate::non_empty("credentialSubject.skillLevel", &s.skill_level)?;
        if !(1..=8).contains(&s.level_rank) {
            return Err(VcError::invalid(
                "credentialSubject.levelRank",
                format!("{} is not in 1..=8", s.level_rank),
            ));
        }
        validate::non_empty("credentialSubject.route", &s.route)?;
        validate::non_empty(
            "credentialSubject.issuingBody.registrationNumber",
            &s.issuing_body.registration_number,
        )?;
        validate::date("credentialSubject.issueDate", &s.issue_date)?;
        if let Some(r) = &s.recognised {
            validate::non_empty("credentialSubject.recognisedCredential.origin", &r.origin)?;
            validate::non_empty(
                "credentialSubject.recognisedCredential.certificateNumber",
                &r.certificate_number,
            )?;
            validate::safe_integer(
                "credentialSubject.recognisedCredential.entryIndex",
                r.entry_index,
            )?;
            validate::hex64(
                "credentialSubject.recognisedCredential.leafHash",
                &r.leaf_hash,
            )?;
            validate::date(
                "credentialSubject.recognisedCredential.issueDate",
                &r.issue_date,
            )?;
            validate::date("credentialSubject.recognitionDate", &r.recognition_date)?;
        }
        if let Some(st) = &self.status {
            validate::iri("credentialStatus.statusListCredential", &st.list_url)?;
            if st.list_url.contains('#') {
                return Err(VcError::invalid(
                    "credentialStatus.statusListCredential",
                    "must not have a fragment ('#')",
                ));
            }
            if st.index >= crate::StatusList::BITS {
                return Err(VcError::IndexOutOfRange {
                    index: st.index,
                    bits: crate::StatusList::BITS,
                });
            }
        }
        for e in &self.evidence {
            validate::non_empty("evidence.origin", &e.origin)?;
            validate::safe_integer("evidence.entryIndex", e.entry_index)?;
            validate::hex64("evidence.leafHash", &e.leaf_hash)?;
            validate::safe_integer("evidence.treeSize", e.tree_size)?;
            validate::hex64("evidence.rootHash", &e.root_hash)?;
            validate::non_empty("evidence.checkpoint", &e.checkpoint)?;
        }
        Ok(())
    }

    /// The RDF quads of [`to_json`](Self::to_json), built directly (no JSON-LD processing).
    /// Call on a credential that passed [`validate`](Self::validate).
    pub(crate) fn quads(&self) -> Vec<oxrdf02::Quad> {
        use rdf::*;
        let mut q = Quads::default();
        let vc = Node::named(&self.id);
        for t in self.types() {
            let iri = match t {
                "VerifiableCredential" => CRED_VC,
                "SkillLevelCredential" => SL_SKILL_LEVEL_CREDENTIAL,
                _ => SL_MUTUAL_RECOGNITION_CREDENTIAL,
            };
            q.iri(&vc, RDF_TYPE, iri);
        }
        q.iri(&vc, CRED_ISSUER, &self.issuer);
        q.typed(&vc, CRED_VALID_FROM, &self.valid_from, XSD_DATE_TIME);
        let s = &self.subject;
        let subject = Node::named(&s.id);
        q.node(&vc, CRED_SUBJECT, &subject);
        q.string(&subject, SL_NAME_COMMITMENT, &s.name_commitment);
        q.string(&subject, SL_CERTIFICATE_NUMBER, &s.certificate_number);
        q.string(&subject, SL_OCCUPATION_CODE, &s.occupation_code);
        q.string(&subject, SL_OCCUPATION_NAME, &s.occupation_name);
        if let Some(w) = &s.work_type {
            q.string(&subject, SL_WORK_TYPE, w);
        }
        q.string(&subject, SL_SKILL_LEVEL, &s.skill_level);
        if let Some(n) = &s.national_level {
            q.string(&subject, SL_NATIONAL_LEVEL, n);
        }
        q.typed(
            &subject,
            SL_LEVEL_RANK,
            &s.level_rank.to_string(),
            XSD_INTEGER,
        );
        q.string(&subject, SL_ROUTE, &s.route);
        let body = q.blank();
        q.node(&subject, SL_ISSUING_BODY, &body);
        q.iri(&body, RDF_TYPE, SL_EVALUATION_BODY);
        q.string(
            &body,
            SL_REGISTRATION_NUMBER,
            &s.issuing_body.registration_number,
        );
        q.string(&body, SCHEMA_NAME, &s.issuing_body.name);
        q.typed(&subject, SL_ISSUE_DATE, &s.issue_date, XSD_DATE);
        if let Some(r) = &s.recognised {
            let rc = q.blank();
            q.node(&subject, SL_RECOGNISED_CREDENTIAL, &rc);
            q.iri(&rc, RDF_TYPE, SL_PARTNER_CREDENTIAL);
            q.string(&rc, SL_ORIGIN, &r.origin);
            q.string(&rc, SL_CERTIFICATE_NUMBER, &r.certificate_number);
            q.typed(&rc, SL_ENTRY_INDEX, &r.entry_index.to_string(), XSD_INTEGER);
            q.string(&rc, SL_LEAF_HASH, &r.leaf_hash);
            q.typed(&rc, SL_ISSUE_DATE, &r.issue_date, XSD_DATE);
            q.typed(&subject, SL_RECOGNITION_DATE, &r.recognition_date, XSD_DATE);
        }
        if let Some(st) = &self.status {
            let entry = Node::named(&st.id());
            q.node(&vc, CRED_STATUS, &entry);
            q.iri(&entry, RDF_TYPE, STATUS_ENTRY);
            q.string(&entry, STATUS_PURPOSE, "revocation");
            q.string(&entry, STATUS_LIST_INDEX, &st.index.to_string());
            q.iri(&entry, STATUS_LIST_CREDENTIAL, &st.list_url);
        }
        for e in &self.evidence {
            let ev = q.blank();
            q.node(&vc, CRED_EVIDENCE, &ev);
            q.iri(&ev, RDF_TYPE, SL_LEDGER_INCLUSION_EVIDENCE);
            q.string(&ev, SL_ORIGIN, &e.origin);
            q.typed(&ev, SL_ENTRY_INDEX, &e.entry_index.to_string(), XSD_INTEGER);
            q.string(&ev, SL_LEAF_HASH, &e.leaf_hash);
            q.typed(&ev, SL_TREE_SIZE, &e.tree_size.to_string(), XSD_INTEGER);
            q.string(&ev, SL_ROOT_HASH, &e.root_hash);
            q.string(&ev, SL_CHECKPOINT, &e.checkpoint);
        }
        q.0
    }
}

/// RDFC-1.0 canonical N-Quads of a credential, by the direct path (validated first).
pub fn canonical_nquads_direct(credential: &SkillCredential) -> Result<String, VcError> {
    credential.validate()?;
    canon::rdfc_fast(credential.quads())
}

/// RDFC-1.0 canonical N-Quads of a proof configuration (`@context` = [credentials/v2,
/// skill-ledger-v1]), by the direct path. The configuration has one blank node, so its
/// canonical form is its five quads with that node labelled `_:c14n0`, sorted.
pub fn canonical_proof_config_direct(
    suite: Suite,
    verification_method: &str,
    created: &str,
) -> Result<String, VcError> {
    validate::iri("verificationMethod", verification_method)?;
    validate::date_time("created", created)?;
    Ok(proof_config_nquads(suite, verification_method, created))
}

fn proof_config_nquads(suite: Suite, verification_method: &str, created: &str) -> String {
    // The values passed validation: no character here needs N-Quads escaping.
    let mut lines = [
        format!(
            "_:c14n0 <{}> <{}> .\n",
            rdf::RDF_TYPE,
            rdf::SEC_DATA_INTEGRITY_PROOF
        ),
        format!(
            "_:c14n0 <{}> \"{}\"^^<{}> .\n",
            rdf::SEC_CRYPTOSUITE,
            suite.as_str(),
            rdf::SEC_CRYPTOSUITE_STRING
        ),
        format!(
            "_:c14n0 <{}> \"{created}\"^^<{}> .\n",
            rdf::DC_CREATED,
            rdf::XSD_DATE_TIME
        ),
        format!(
            "_:c14n0 <{}> <{}> .\n",
            rdf::SEC_PROOF_PURPOSE,
            rdf::SEC_ASSERTION_METHOD
        ),
        format!(
            "_:c14n0 <{}> <{verification_method}> .\n",
            rdf::SEC_VERIFICATION_METHOD
        ),
    ];
    lines.sort();
    lines.concat()
}

/// Issues `credential`: validates it, and signs [`SkillCredential::to_json`] with a Data
/// Integrity proof of `suite` for `assertionMethod`, made by `key` under the verification
/// method id `verification_method` (normally [`ControllerDocument::method_id`](crate::ControllerDocument::method_id)),
/// `created` an `xsd:dateTime` such as `2026-12-07T10:00:00Z`.
///
/// The output is the same as [`sign_document`](crate::sign_document) on `to_json()` (tested),
/// but eddsa-rdfc-2022 builds the RDF directly instead of running JSON-LD (see the module
/// documentation).
pub fn issue(
    credential: &SkillCredential,
    suite: Suite,
    key: &SigningKey,
    verification_method: &str,
    created: &str,
) -> Result<Value, VcError> {
    credential.validate()?;
    validate::iri("verificationMethod", verification_method)?;
    validate::date_time("created", created)?;
    let unsecured = credential.to_json();
    let options = proof_options(suite, verification_method, created);
    let (document, config) = match suite {
        Suite::EddsaRdfc2022 => (
            canon::rdfc_fast(credential.quads())?,
            proof_config_nquads(suite, verification_method, created),
        ),
        Suite::EddsaJcs2022 => {
            let mut config = options.clone();
            config.insert("@context".into(), unsecured["@context"].clone());
            let config = Value::Object(config);
            let fast = |v: &Value| canon::jcs_fast(v).map_or_else(|| canon::jcs(v), Ok);
            (fast(&unsecured)?, fast(&config)?)
        }
    };
    let im = sign_canonical(document, config, key);
    match unsecured {
        Value::Object(map) => Ok(attach_proof(map, suite, options, im.proof_value)),
        _ => Err(VcError::NotJson("the credential is not an object".into())),
    }
}

/// The RDF terms of the bundled contexts that a [`SkillCredential`] uses.
mod rdf {
    use oxrdf02::{BlankNode, GraphName, Literal, NamedNode, Quad, Subject, Term};

    pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
    pub const XSD_DATE_TIME: &str = "http://www.w3.org/2001/XMLSchema#dateTime";
    pub const XSD_DATE: &str = "http://www.w3.org/2001/XMLSchema#date";
    pub const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
    pub const SCHEMA_NAME: &str = "https://schema.org/name";
    // credentials/v2
    pub const CRED_VC: &str = "https://www.w3.org/2018/credentials#VerifiableCredential";
    pub const CRED_ISSUER: &str = "https://www.w3.org/2018/credentials#issuer";
    pub const CRED_VALID_FROM: &str = "https://www.w3.org/2018/credentials#validFrom";
    pub const CRED_SUBJECT: &str = "https://www.w3.org/2018/credentials#credentialSubject";
    pub const CRED_STATUS: &str = "https://www.w3.org/2018/credentials#credentialStatus";
    pub const CRED_EVIDENCE: &str = "https://www.w3.org/2018/credentials#evidence";
    pub const STATUS_ENTRY: &str =
        "https://www.w3.org/ns/credentials/status#BitstringStatusListEntry";
    pub const STATUS_PURPOSE: &str = "https://www.w3.org/ns/credentials/status#statusPurpose";
    pub const STATUS_LIST_INDEX: &str = "https://www.w3.org/ns/credentials/status#statusListIndex";
    pub const STATUS_LIST_CREDENTIAL: &str =
        "https://www.w3.org/ns/credentials/status#statusListCredential";
    pub const SEC_DATA_INTEGRITY_PROOF: &str = "https://w3id.org/security#DataIntegrityProof";
    pub const SEC_CRYPTOSUITE: &str = "https://w3id.org/security#cryptosuite";
    pub const SEC_CRYPTOSUITE_STRING: &str = "https://w3id.org/security#cryptosuiteString";
    pub const SEC_PROOF_PURPOSE: &str = "https://w3id.org/security#proofPurpose";
    pub const SEC_ASSERTION_METHOD: &str = "https://w3id.org/security#assertionMethod";
    pub const SEC_VERIFICATION_METHOD: &str = "https://w3id.org/security#verificationMethod";
    pub const DC_CREATED: &str = "http://purl.org/dc/terms/created";
    // skill-ledger-v1
    pub const SL_SKILL_LEVEL_CREDENTIAL: &str =
        "https://skill-ledger.example/ns#SkillLevelCredential";
    pub const SL_MUTUAL_RECOGNITION_CREDENTIAL: &str =
        "https://skill-ledger.example/ns#MutualRecognitionCredential";
    pub const SL_EVALUATION_BODY: &str = "https://skill-ledger.example/ns#EvaluationBody";
    pub const SL_PARTNER_CREDENTIAL: &str = "https://skill-ledger.example/ns#PartnerCredential";
    pub const SL_LEDGER_INCLUSION_EVIDENCE: &str =
        "https://skill-ledger.example/ns#LedgerInclusionEvidence";
    pub const SL_NAME_COMMITMENT: &str = "https://skill-ledger.example/ns#nameCommitment";
    pub const SL_CERTIFICATE_NUMBER: &str = "https://skill-ledger.example/ns#certificateNumber";
    pub const SL_OCCUPATION_CODE: &str = "https://skill-ledger.example/ns#occupationCode";
    pub const SL_OCCUPATION_NAME: &str = "https://skill-ledger.example/ns#occupationName";
    pub const SL_WORK_TYPE: &str = "https://skill-ledger.example/ns#workType";
    pub const SL_SKILL_LEVEL: &str = "https://skill-ledger.example/ns#skillLevel";
    pub const SL_NATIONAL_LEVEL: &str = "https://skill-ledger.example/ns#nationalLevel";
    pub const SL_LEVEL_RANK: &str = "https://skill-ledger.example/ns#levelRank";
    pub const SL_ROUTE: &str = "https://skill-ledger.example/ns#route";
    pub const SL_ISSUING_BODY: &str = "https://skill-ledger.example/ns#issuingBody";
    pub const SL_REGISTRATION_NUMBER: &str = "https://skill-ledger.example/ns#registrationNumber";
    pub const SL_ISSUE_DATE: &str = "https://skill-ledger.example/ns#issueDate";
    pub const SL_RECOGNISED_CREDENTIAL: &str =
        "https://skill-ledger.example/ns#recognisedCredential";
    pub const SL_RECOGNITION_DATE: &str = "https://skill-ledger.example/ns#recognitionDate";
    pub const SL_ORIGIN: &str = "https://skill-ledger.example/ns#origin";
    pub const SL_ENTRY_INDEX: &str = "https://skill-ledger.example/ns#entryIndex";
    pub const SL_LEAF_HASH: &str = "https://skill-ledger.example/ns#leafHash";
    pub const SL_TREE_SIZE: &str = "https://skill-ledger.example/ns#treeSize";
    pub const SL_ROOT_HASH: &str = "https://skill-ledger.example/ns#rootHash";
    pub const SL_CHECKPOINT: &str = "https://skill-ledger.example/ns#checkpoint";

    /// A subject/object node.
    pub enum Node {
        Named(NamedNode),
        Blank(BlankNode),
    }

    impl Node {
        pub fn named(iri: &str) -> Node {
            Node::Named(NamedNode::new_unchecked(iri))
        }
        fn subject(&self) -> Subject {
            match self {
                Node::Named(n) => n.clone().into(),
                Node::Blank(b) => b.clone().into(),
            }
        }
        fn term(&self) -> Term {
            match self {
                Node::Named(n) => n.clone().into(),
                Node::Blank(b) => b.clone().into(),
            }
        }
    }

    #[derive(Default)]
    pub struct Quads(pub Vec<Quad>, usize);

    impl Quads {
        pub fn blank(&mut self) -> Node {
            self.1 += 1;
            Node::Blank(BlankNode::new_unchecked(format!("b{}", self.1)))
        }
        fn push(&mut self, s: &Node, p: &str, o: Term) {
            self.0.push(Quad::new(
                s.subject(),
                NamedNode::new_unchecked(p),
                o,
                GraphName::DefaultGraph,
            ));
        }
        pub fn node(&mut self, s: &Node, p: &str, o: &Node) {
            self.push(s, p, o.term());
        }
        pub fn iri(&mut self, s: &Node, p: &str, o: &str) {
            self.push(s, p, NamedNode::new_unchecked(o).into());
        }
        pub fn string(&mut self, s: &Node, p: &str, o: &str) {
            self.push(s, p, Literal::new_simple_literal(o).into());
        }
        pub fn typed(&mut self, s: &Node, p: &str, o: &str, datatype: &str) {
            self.push(
                s,
                p,
                Literal::new_typed_literal(o, NamedNode::new_unchecked(datatype)).into(),
            );
        }
    }
}
