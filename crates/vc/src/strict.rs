//! The strict shape check of [`verify_credential`](crate::verify_credential): this crate's
//! equivalent of Digital Bazaar's JSON-LD "safe mode".
//!
//! JSON-LD expansion drops a member that no context defines, silently, so an eddsa-rdfc-2022
//! proof does not cover it: anyone could add `"note": "…"` to a signed credential and the proof
//! would still hold. So before the proof is checked, a document must have exactly the shape the
//! issuer writes:
//!
//! * a `SkillLevelCredential`, without its `proof`, must equal
//!   `SkillCredential::from_json(doc)?.to_json()`: same members, same values, same JSON types;
//! * a `BitstringStatusListCredential` must have exactly the members that
//!   [`status_list_credential`](crate::status_list_credential) writes (its values are checked by
//!   the status list rules and the proof);
//! * a proof has only `type`, `cryptosuite`, `created`, `verificationMethod`, `proofPurpose`,
//!   `proofValue`, and `@context` for eddsa-jcs-2022.
//!
//! The first member that is not part of the shape is named by its path (`evidence[0].note`) in
//! [`VcError::UnexpectedMember`]. The check is a walk over two small JSON trees: microseconds,
//! against the milliseconds of JSON-LD and RDFC.

use serde_json::{Map, Value};

use crate::contexts::{CREDENTIALS_V2, SKILL_LEDGER_V1};
use crate::{
    CredentialSubject, IssuingBody, LedgerEvidence, RecognisedCredential, SkillCredential,
    StatusEntry, Suite, VcError,
};

/// The members of a proof that this crate writes (`@context` for eddsa-jcs-2022 only).
const PROOF_MEMBERS: [&str; 6] = [
    "type",
    "cryptosuite",
    "created",
    "verificationMethod",
    "proofPurpose",
    "proofValue",
];

/// A JSON object being read, with its path (`""` at the top, else `credentialSubject`, …).
struct Reader<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Reader<'a> {
    fn at(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    fn get(&self, name: &str) -> Result<&'a Value, VcError> {
        self.map
            .get(name)
            .ok_or_else(|| VcError::MissingField(self.at(name)))
    }

    fn wrong(&self, name: &str, expected: &'static str) -> VcError {
        VcError::WrongType {
            field: self.at(name),
            expected,
        }
    }

    fn string(&self, name: &str) -> Result<String, VcError> {
        match self.get(name)? {
            Value::String(s) => Ok(s.clone()),
            _ => Err(self.wrong(name, "a string")),
        }
    }

    /// An optional string: absent is `None`; `null` is not absent (`to_json` never writes it).
    fn optional_string(&self, name: &str) -> Result<Option<String>, VcError> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.wrong(name, "a string")),
        }
    }

    fn integer(&self, name: &str) -> Result<u64, VcError> {
        self.get(name)?
            .as_u64()
            .ok_or_else(|| self.wrong(name, "a non-negative integer (a JSON number)"))
    }

    /// A string member that `to_json` always writes with the value `expected`.
    fn constant(&self, name: &str, expected: &str) -> Result<(), VcError> {
        if self.string(name)? == expected {
            Ok(())
        } else {
            Err(VcError::invalid(
                self.at(name),
                format!("must be {expected:?}"),
            ))
        }
    }

    fn child(&self, name: &str, value: &'a Value) -> Result<Reader<'a>, VcError> {
        match value {
            Value::Object(map) => Ok(Reader {
                map,
                path: self.at(name),
            }),
            _ => Err(self.wrong(name, "an object")),
        }
    }

    fn object(&self, name: &str) -> Result<Reader<'a>, VcError> {
        self.child(name, self.get(name)?)
    }

    fn optional_object(&self, name: &str) -> Result<Option<Reader<'a>>, VcError> {
        self.map.get(name).map(|v| self.child(name, v)).transpose()
    }
}

/// The array of strings `expected`, or an error naming `path`.
fn string_array(value: &Value, path: &str, expected: &[&str]) -> Result<(), VcError> {
    let Value::Array(items) = value else {
        return Err(VcError::WrongType {
            field: path.into(),
            expected: "an array of strings",
        });
    };
    if items.len() == expected.len() && items.iter().zip(expected).all(|(v, e)| v == *e) {
        Ok(())
    } else {
        Err(VcError::invalid(path, format!("must be {expected:?}")))
    }
}

impl SkillCredential {
    /// Reads a credential that [`to_json`](Self::to_json) wrote: the exact inverse, so
    /// `from_json(&c.to_json()) == Ok(c)` for every credential (a property test holds it).
    ///
    /// Every member `to_json` writes is read and its JSON type checked: an absent one is
    /// [`VcError::MissingField`], another JSON type (a number given as a string, `null`, …)
    /// [`VcError::WrongType`], and a value `to_json` fixes or derives (`@context`, every `type`,
    /// `statusPurpose`, `credentialStatus.id`, the decimal form of `statusListIndex`) that is
    /// not the one it would write, [`VcError::InvalidField`]; each names the member's path, e.g.
    /// `credentialSubject.issuingBody.name` or `evidence[1].treeSize`. A `proof` is ignored.
    ///
    /// Members it does not read are not looked at here: [`verify_credential`](crate::verify_credential)
    /// refuses them (the document must equal `from_json(doc)?.to_json()`, see its docs). Nor
    /// does it apply [`validate`](Self::validate): the issuer's signature covers the values.
    pub fn from_json(doc: &Value) -> Result<SkillCredential, VcError> {
        let map = doc
            .as_object()
            .ok_or_else(|| VcError::NotJson("the credential is not a JSON object".into()))?;
        let top = Reader {
            map,
            path: String::new(),
        };
        string_array(
            top.get("@context")?,
            "@context",
            &[CREDENTIALS_V2, SKILL_LEDGER_V1],
        )?;
        let s = top.object("credentialSubject")?;
        let body = s.object("issuingBody")?;
        body.constant("type", "EvaluationBody")?;
        let recognised = match s.optional_object("recognisedCredential")? {
            None => None,
            Some(r) => {
                r.constant("type", "PartnerCredential")?;
                Some(RecognisedCredential {
                    origin: r.string("origin")?,
                    certificate_number: r.string("certificateNumber")?,
                    entry_index: r.integer("entryIndex")?,
                    leaf_hash: r.string("leafHash")?,
                    issue_date: r.string("issueDate")?,
                    recognition_date: s.string("recognitionDate")?,
                })
            }
        };
        let level_rank = u8::try_from(s.integer("levelRank")?)
            .map_err(|_| s.wrong("levelRank", "an integer from 0 to 255"))?;
        let subject = CredentialSubject {
            id: s.string("id")?,
            name_commitment: s.string("nameCommitment")?,
            certificate_number: s.string("certificateNumber")?,
            occupation_code: s.string("occupationCode")?,
            occupation_name: s.string("occupationName")?,
            work_type: s.optional_string("workType")?,
            skill_level: s.string("skillLevel")?,
            national_level: s.optional_string("nationalLevel")?,
            level_rank,
            route: s.string("route")?,
            issuing_body: IssuingBody {
                registration_number: body.string("registrationNumber")?,
                name: body.string("name")?,
            },
            issue_date: s.string("issueDate")?,
            recognised,
        };
        let status = top
            .optional_object("credentialStatus")?
            .map(|st| read_status_entry(&st))
            .transpose()?;
        let evidence = match top.map.get("evidence") {
            None => Vec::new(),
            Some(Value::Array(entries)) => entries
                .iter()
                .enumerate()
                .map(|(i, e)| read_evidence(&top.child(&format!("evidence[{i}]"), e)?))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(top.wrong("evidence", "an array")),
        };
        let credential = SkillCredential {
            id: top.string("id")?,
            issuer: top.string("issuer")?,
            valid_from: top.string("validFrom")?,
            subject,
            status,
            evidence,
        };
        string_array(top.get("type")?, "type", &credential.types())?;
        Ok(credential)
    }
}

fn read_status_entry(st: &Reader<'_>) -> Result<StatusEntry, VcError> {
    st.constant("type", "BitstringStatusListEntry")?;
    st.constant("statusPurpose", "revocation")?;
    let list_url = st.string("statusListCredential")?;
    let text = st.string("statusListIndex")?;
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    let index = text
        .parse::<u64>()
        .ok()
        .filter(|_| canonical)
        .ok_or_else(|| {
            VcError::invalid(
                st.at("statusListIndex"),
                format!("{text:?} is not a decimal integer without sign or leading zero"),
            )
        })?;
    let entry = StatusEntry { list_url, index };
    let expected_id = entry.id();
    if st.string("id")? != expected_id {
        return Err(VcError::invalid(
            st.at("id"),
            format!("must be {expected_id:?} (statusListCredential#statusListIndex)"),
        ));
    }
    Ok(entry)
}

fn read_evidence(e: &Reader<'_>) -> Result<LedgerEvidence, VcError> {
    e.constant("type", "LedgerInclusionEvidence")?;
    Ok(LedgerEvidence {
        origin: e.string("origin")?,
        entry_index: e.integer("entryIndex")?,
        leaf_hash: e.string("leafHash")?,
        tree_size: e.integer("treeSize")?,
        root_hash: e.string("rootHash")?,
        checkpoint: e.string("checkpoint")?,
    })
}

/// One step of a member's path.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Where two JSON trees first differ: the steps from the leaf up (built on the way back, so an
/// equal walk allocates nothing), and whether the member is missing from the document.
struct Difference<'a> {
    missing: bool,
    steps: Vec<Step<'a>>,
}

impl<'a> Difference<'a> {
    fn here(missing: bool) -> Self {
        Difference {
            missing,
            steps: Vec::new(),
        }
    }

    fn under(mut self, step: Step<'a>) -> Self {
        self.steps.push(step);
        self
    }

    /// `prefix` + the path, e.g. `statusList.` + `credentialSubject.note`.
    fn into_error(self, prefix: &str) -> VcError {
        let mut path = prefix.to_owned();
        for (i, step) in self.steps.iter().rev().enumerate() {
            match step {
                Step::Key(k) => {
                    if i > 0 {
                        path.push('.');
                    }
                    path.push_str(k);
                }
                Step::Index(n) => path.push_str(&format!("[{n}]")),
            }
        }
        if self.missing {
            VcError::MissingField(path)
        } else {
            VcError::UnexpectedMember { path }
        }
    }
}

/// The first place where `actual` is not `expected`. "First" does not depend on the maps' order
/// (serde_json's `preserve_order` may be on in a build): in an object, the smallest key.
fn difference<'a>(actual: &'a Value, expected: &'a Value) -> Option<Difference<'a>> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => object_difference(a, e, None),
        (Value::Array(a), Value::Array(e)) => (0..a.len().max(e.len())).find_map(|i| {
            match (a.get(i), e.get(i)) {
                (Some(av), Some(ev)) => difference(av, ev),
                (Some(_), None) => Some(Difference::here(false)),
                _ => Some(Difference::here(true)),
            }
            .map(|d| d.under(Step::Index(i)))
        }),
        _ if actual == expected => None,
        _ => Some(Difference::here(false)),
    }
}

/// [`difference`] of two objects, not looking at the member `skip` of either.
fn object_difference<'a>(
    actual: &'a Map<String, Value>,
    expected: &'a Map<String, Value>,
    skip: Option<&str>,
) -> Option<Difference<'a>> {
    let mut first: Option<(&'a str, Difference<'a>)> = None;
    let mut consider = |key: &'a str, d: Option<Difference<'a>>| {
        if let Some(d) = d {
            if first.as_ref().is_none_or(|(k, _)| key < *k) {
                first = Some((key, d));
            }
        }
    };
    for (key, av) in actual {
        if Some(key.as_str()) == skip {
            continue;
        }
        let d = match expected.get(key) {
            Some(ev) => difference(av, ev),
            None => Some(Difference::here(false)),
        };
        consider(key, d);
    }
    for key in expected.keys() {
        if Some(key.as_str()) != skip && !actual.contains_key(key) {
            consider(key, Some(Difference::here(true)));
        }
    }
    first.map(|(key, d)| d.under(Step::Key(key)))
}

/// `doc` (its `proof` aside) is exactly `expected`: else the first member that is not, as
/// [`VcError::UnexpectedMember`] (or [`VcError::MissingField`]), its path after `prefix`.
fn same_shape(doc: &Map<String, Value>, expected: &Value, prefix: &str) -> Result<(), VcError> {
    let Value::Object(expected) = expected else {
        return Err(VcError::NotJson(
            "the expected shape is not an object".into(),
        ));
    };
    match object_difference(doc, expected, Some("proof")) {
        None => Ok(()),
        Some(d) => Err(d.into_error(prefix)),
    }
}

/// A `SkillLevelCredential` without its proof is exactly `from_json(doc)?.to_json()`.
pub(crate) fn check_credential(doc: &Value) -> Result<(), VcError> {
    let map = doc
        .as_object()
        .ok_or_else(|| VcError::NotJson("the credential is not a JSON object".into()))?;
    same_shape(map, &SkillCredential::from_json(doc)?.to_json(), "")
}

/// A `BitstringStatusListCredential` has exactly the members
/// [`status_list_credential`](crate::status_list_credential) writes, with its `id`, `issuer`,
/// `validFrom` and `encodedList`; paths are reported after `prefix` (`statusList.`).
pub(crate) fn check_status_list(doc: &Map<String, Value>, prefix: &str) -> Result<(), VcError> {
    let top = Reader {
        map: doc,
        path: prefix.trim_end_matches('.').to_owned(),
    };
    let id = top.string("id")?;
    let issuer = match top.get("issuer")? {
        Value::String(s) => s.clone(),
        _ => return Err(top.wrong("issuer", "a string")),
    };
    let valid_from = top.string("validFrom")?;
    let subject = top.object("credentialSubject")?;
    let encoded = subject.string("encodedList")?;
    let expected = crate::status::status_list_shape(&id, &issuer, &valid_from, encoded);
    same_shape(doc, &expected, prefix)
}

/// A proof has only the members this crate writes; `path` is where it is (`proof`,
/// `statusList.proof[0]`).
pub(crate) fn check_proof(proof: &Map<String, Value>, path: &str) -> Result<(), VcError> {
    let jcs =
        proof.get("cryptosuite").and_then(Value::as_str) == Some(Suite::EddsaJcs2022.as_str());
    let unexpected = proof
        .keys()
        .map(String::as_str)
        .filter(|k| !(PROOF_MEMBERS.contains(k) || (jcs && *k == "@context")))
        .min();
    match unexpected {
        None => Ok(()),
        Some(k) => Err(VcError::UnexpectedMember {
            path: format!("{path}.{k}"),
        }),
    }
}
