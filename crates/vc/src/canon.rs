//! The general canonicalization path: JSON-LD 1.1 → RDF (oxjsonld, offline) → RDFC-1.0
//! (rdf-canon), and RFC 8785 JCS. Any document goes through here when it is verified, and every
//! document but a [`SkillCredential`](crate::SkillCredential) when it is signed.
//!
//! Two details decide interoperability (found in the spike, `crates/vc/README.md`):
//! * Digital Bazaar's eddsa-rdfc-2022 canonizes with `rdfDirection: "i18n-datatype"`, so a
//!   `@direction` becomes the datatype `https://www.w3.org/ns/i18n#{lang}_{dir}`. We do the same
//!   (oxjsonld's `rdf-12` feature keeps the direction), although skill-ledger never emits one.
//! * A dataset is a set: duplicate quads are merged before canonicalization, as jsonld.js does.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::contexts::bundled_context;
use crate::VcError;

/// Bound on the Hash N-Degree Quads calls of RDFC-1.0: a verifier must not spend unbounded time
/// on a hostile graph of indistinguishable blank nodes. Ours need a handful of calls.
const HNDQ_CALL_LIMIT: usize = 4_000;

/// Contexts the loader may serve besides the bundled ones (only the W3C test vectors need any).
pub(crate) type Extra = Option<Arc<Vec<(String, String)>>>;

/// JSON-LD toRdf, offline. Returns the quads in rdf-canon's model (oxrdf 0.2).
pub(crate) fn to_rdf(
    doc: &serde_json::Value,
    extra: &Extra,
) -> Result<Vec<oxrdf02::Quad>, VcError> {
    let text = doc.to_string();
    let unbundled: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = Arc::clone(&unbundled);
    let extra = extra.clone();
    let parser = oxjsonld::JsonLdParser::new()
        .for_slice(text.as_bytes())
        .with_load_document_callback(move |url, _options| {
            let found = bundled_context(url).map(str::to_owned).or_else(|| {
                extra
                    .as_ref()
                    .and_then(|e| e.iter().find(|(u, _)| u == url).map(|(_, t)| t.clone()))
            });
            match found {
                Some(text) => Ok(oxjsonld::JsonLdRemoteDocument {
                    document: text.into_bytes(),
                    document_url: url.to_owned(),
                }),
                None => {
                    if let Ok(mut slot) = seen.lock() {
                        slot.get_or_insert_with(|| url.to_owned());
                    }
                    Err(format!("context {url} is not bundled").into())
                }
            }
        });
    let mut out = Vec::new();
    for quad in parser {
        match quad {
            Ok(q) => out.push(ox03_to_ox02(q)?),
            Err(e) => {
                if let Some(url) = unbundled.lock().ok().and_then(|s| s.clone()) {
                    return Err(VcError::UnbundledContext(url));
                }
                return Err(VcError::JsonLd(e.to_string()));
            }
        }
    }
    if let Some(url) = unbundled.lock().ok().and_then(|s| s.clone()) {
        return Err(VcError::UnbundledContext(url));
    }
    Ok(out)
}

fn ox03_to_ox02(q: oxrdf::Quad) -> Result<oxrdf02::Quad, VcError> {
    fn named(n: oxrdf::NamedNode) -> oxrdf02::NamedNode {
        oxrdf02::NamedNode::new_unchecked(n.into_string())
    }
    fn blank(b: oxrdf::BlankNode) -> oxrdf02::BlankNode {
        oxrdf02::BlankNode::new_unchecked(b.into_string())
    }
    let subject: oxrdf02::Subject = match q.subject {
        oxrdf::NamedOrBlankNode::NamedNode(n) => named(n).into(),
        oxrdf::NamedOrBlankNode::BlankNode(b) => blank(b).into(),
    };
    let object: oxrdf02::Term = match q.object {
        oxrdf::Term::NamedNode(n) => named(n).into(),
        oxrdf::Term::BlankNode(b) => blank(b).into(),
        oxrdf::Term::Literal(l) => {
            let (value, datatype, language, direction) = l.destruct();
            match (datatype, language, direction) {
                // rdfDirection = "i18n-datatype", as Digital Bazaar's cryptosuite canonizes.
                (_, lang, Some(dir)) => {
                    let dir = match dir {
                        oxrdf::BaseDirection::Ltr => "ltr",
                        oxrdf::BaseDirection::Rtl => "rtl",
                    };
                    let lang = lang.unwrap_or_default().to_ascii_lowercase();
                    let datatype = format!("https://www.w3.org/ns/i18n#{lang}_{dir}");
                    oxrdf02::Literal::new_typed_literal(
                        value,
                        oxrdf02::NamedNode::new_unchecked(datatype),
                    )
                }
                (_, Some(lang), None) => {
                    oxrdf02::Literal::new_language_tagged_literal_unchecked(value, lang)
                }
                (Some(dt), None, None) => oxrdf02::Literal::new_typed_literal(value, named(dt)),
                (None, None, None) => oxrdf02::Literal::new_simple_literal(value),
            }
            .into()
        }
        oxrdf::Term::Triple(_) => {
            return Err(VcError::JsonLd(
                "RDF 1.2 triple terms are not supported".into(),
            ))
        }
    };
    let graph = match q.graph_name {
        oxrdf::GraphName::DefaultGraph => oxrdf02::GraphName::DefaultGraph,
        oxrdf::GraphName::NamedNode(n) => named(n).into(),
        oxrdf::GraphName::BlankNode(b) => blank(b).into(),
    };
    Ok(oxrdf02::Quad::new(
        subject,
        named(q.predicate),
        object,
        graph,
    ))
}

/// A dataset is a set: merge duplicate quads (jsonld.js does the same), keeping the order.
fn dedup(quads: Vec<oxrdf02::Quad>) -> Vec<oxrdf02::Quad> {
    let has_duplicates = {
        let mut seen = HashSet::with_capacity(quads.len());
        !quads.iter().all(|q| seen.insert(q))
    };
    if has_duplicates {
        let mut seen = HashSet::with_capacity(quads.len());
        quads
            .into_iter()
            .filter(|q| seen.insert(q.clone()))
            .collect()
    } else {
        quads
    }
}

/// RDFC-1.0 canonical N-Quads of a set of quads (every line ends with `\n`), by rdf-canon: the
/// reference implementation, used by every verification.
pub(crate) fn rdfc(quads: Vec<oxrdf02::Quad>) -> Result<String, VcError> {
    let quads = dedup(quads);
    let options = rdf_canon::CanonicalizationOptions {
        hndq_call_limit: Some(HNDQ_CALL_LIMIT),
    };
    rdf_canon::canonicalize_quads_with::<sha2::Sha256>(&quads, &options)
        .map_err(|e| VcError::Canonicalization(e.to_string()))
}

/// The same result as [`rdfc`], faster when no blank nodes need Hash N-Degree Quads (the
/// credentials this crate issues never do); used by issuance only.
pub(crate) fn rdfc_fast(quads: Vec<oxrdf02::Quad>) -> Result<String, VcError> {
    let quads = dedup(quads);
    match rdfc_unique_hashes(&quads) {
        Some(canonical) => Ok(canonical),
        None => rdfc(quads),
    }
}

/// JSON-LD → RDF → RDFC-1.0, for any document.
pub(crate) fn rdfc_document(doc: &serde_json::Value, extra: &Extra) -> Result<String, VcError> {
    rdfc(to_rdf(doc, extra)?)
}

/// RFC 8785 JSON Canonicalization Scheme.
pub(crate) fn jcs(doc: &serde_json::Value) -> Result<String, VcError> {
    serde_json_canonicalizer::to_string(doc).map_err(|e| VcError::Canonicalization(e.to_string()))
}

/// RDFC-1.0 for the common case where every blank node has a distinct first-degree hash
/// (RDFC-1.0 §4.4.3 steps 1–5 and 7; step 6, Hash N-Degree Quads, has nothing left to do).
/// Returns `None` when two blank nodes share a hash or a quad is in a named graph: the caller
/// then runs [`rdfc`]. Serializes terms as rdf-canon does (oxrdf's canonical N-Quads), so the
/// bytes are the same; `tests/direct_path.rs` checks that against the general path.
fn blank_index<'a>(blanks: &mut Vec<&'a str>, id: &'a str) -> usize {
    match blanks.iter().position(|b| *b == id) {
        Some(i) => i,
        None => {
            blanks.push(id);
            blanks.len() - 1
        }
    }
}

pub(crate) fn rdfc_unique_hashes(quads: &[oxrdf02::Quad]) -> Option<String> {
    use oxrdf02::{GraphName, Subject, Term};
    // A quad's subject and object, serialized once; blank nodes by their index in `blanks`.
    enum Part {
        Text(String),
        Blank(usize),
    }
    let mut blanks: Vec<&str> = Vec::new();
    let mut parts: Vec<(Part, String, Part)> = Vec::with_capacity(quads.len());
    for q in quads {
        if q.graph_name != GraphName::DefaultGraph {
            return None;
        }
        let s = match &q.subject {
            Subject::BlankNode(b) => Part::Blank(blank_index(&mut blanks, b.as_str())),
            other => Part::Text(other.to_string()),
        };
        let o = match &q.object {
            Term::BlankNode(b) => Part::Blank(blank_index(&mut blanks, b.as_str())),
            other => Part::Text(other.to_string()),
        };
        parts.push((s, q.predicate.to_string(), o));
    }
    let write = |line: &mut String, part: &Part, label: &dyn Fn(usize) -> String| match part {
        Part::Text(t) => line.push_str(t),
        Part::Blank(i) => {
            line.push_str("_:");
            line.push_str(&label(*i));
        }
    };
    let serialize = |s: &Part, p: &str, o: &Part, label: &dyn Fn(usize) -> String| {
        let mut line = String::with_capacity(128);
        write(&mut line, s, label);
        line.push(' ');
        line.push_str(p);
        line.push(' ');
        write(&mut line, o, label);
        line.push_str(" .\n");
        line
    };
    let mentions = |part: &Part, b: usize| matches!(part, Part::Blank(i) if *i == b);
    let mut hashes: Vec<(String, usize)> = Vec::with_capacity(blanks.len());
    for b in 0..blanks.len() {
        let label = |i: usize| {
            if i == b {
                "a".to_owned()
            } else {
                "z".to_owned()
            }
        };
        let mut lines: Vec<String> = parts
            .iter()
            .filter(|(s, _, o)| mentions(s, b) || mentions(o, b))
            .map(|(s, p, o)| serialize(s, p, o, &label))
            .collect();
        lines.sort_unstable();
        let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
        for l in &lines {
            sha2::Digest::update(&mut hasher, l.as_bytes());
        }
        hashes.push((hex::encode(sha2::Digest::finalize(hasher)), b));
    }
    hashes.sort_unstable();
    if hashes.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    let mut canonical = vec![String::new(); blanks.len()];
    for (n, (_, b)) in hashes.iter().enumerate() {
        canonical[*b] = format!("c14n{n}");
    }
    let label = |i: usize| canonical[i].clone();
    let mut lines: Vec<String> = parts
        .iter()
        .map(|(s, p, o)| serialize(s, p, o, &label))
        .collect();
    lines.sort_unstable();
    Some(lines.concat())
}

/// RFC 8785 for documents of strings, integers up to 2^53, booleans, null, arrays and objects:
/// the same bytes as [`jcs`] (keys ordered by UTF-16 code units, strings escaped as ECMAScript's
/// `JSON.stringify` does), without its general number formatting. `None` for any other number.
/// Used by issuance only; verification runs the reference crate.
pub(crate) fn jcs_fast(doc: &serde_json::Value) -> Option<String> {
    fn string(out: &mut String, s: &str) {
        out.push('"');
        let mut start = 0;
        for (i, b) in s.bytes().enumerate() {
            let escape = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                0x08 => "\\b",
                0x09 => "\\t",
                0x0a => "\\n",
                0x0c => "\\f",
                0x0d => "\\r",
                0x00..=0x1f => "",
                _ => continue,
            };
            out.push_str(&s[start..i]);
            if escape.is_empty() {
                out.push_str(&format!("\\u{b:04x}"));
            } else {
                out.push_str(escape);
            }
            start = i + 1;
        }
        out.push_str(&s[start..]);
        out.push('"');
    }
    fn value(out: &mut String, v: &serde_json::Value) -> Option<()> {
        use serde_json::Value;
        match v {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                let limit = crate::validate::MAX_SAFE_INTEGER + 1;
                if let Some(u) = n.as_u64().filter(|u| *u <= limit) {
                    out.push_str(&u.to_string());
                } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= limit) {
                    out.push_str(&i.to_string());
                } else {
                    return None;
                }
            }
            Value::String(s) => string(out, s),
            Value::Array(a) => {
                out.push('[');
                for (i, item) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    value(out, item)?;
                }
                out.push(']');
            }
            Value::Object(o) => {
                let mut entries: Vec<(&String, &Value)> = o.iter().collect();
                entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
                out.push('{');
                for (i, (k, item)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    string(out, k);
                    out.push(':');
                    value(out, item)?;
                }
                out.push('}');
            }
        }
        Some(())
    }
    let mut out = String::with_capacity(4096);
    value(&mut out, doc)?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0..=crate::validate::MAX_SAFE_INTEGER).prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[\"\\\\\u{0}-\u{1f}\u{7f}\u{2028}a-z]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((any::<String>(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn jcs_fast_equals_the_reference(v in json_value()) {
            prop_assert_eq!(jcs_fast(&v), Some(jcs(&v).expect("reference")));
        }
    }

    #[test]
    fn issued_credentials_take_the_unique_hash_path() {
        for c in [
            crate::sample::credential(1),
            crate::sample::recognised_credential(2),
        ] {
            let quads = c.quads();
            assert_eq!(
                rdfc_unique_hashes(&quads),
                Some(rdfc(quads).expect("rdf-canon"))
            );
        }
        // Two identical evidence entries: two blank nodes with one hash, so rdf-canon decides.
        let mut c = crate::sample::credential(1);
        c.evidence.push(c.evidence[0].clone());
        assert_eq!(rdfc_unique_hashes(&c.quads()), None);
    }

    #[test]
    fn jcs_fast_declines_other_numbers() {
        assert_eq!(jcs_fast(&serde_json::json!({"a": 1.5})), None);
        assert_eq!(jcs_fast(&serde_json::json!(9007199254740993u64)), None);
    }
}
