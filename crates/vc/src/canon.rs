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
pub(crate) fn to_rdf(doc: &serde_json::Value, extra: &Extra) -> Result<Vec<oxrdf02::Quad>, VcError> {
    let text = doc.to_string();
    let unbundled: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = Arc::clone(&unbundled);
    let extra = extra.clone();
    let parser = oxjsonld::JsonLdParser::new().for_slice(text.as_bytes()).with_load_document_callback(
        move |url, _options| {
            let found = bundled_context(url).map(str::to_owned).or_else(|| {
                extra.as_ref().and_then(|e| e.iter().find(|(u, _)| u == url).map(|(_, t)| t.clone()))
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
        },
    );
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
                    oxrdf02::Literal::new_typed_literal(value, oxrdf02::NamedNode::new_unchecked(datatype))
                }
                (_, Some(lang), None) => oxrdf02::Literal::new_language_tagged_literal_unchecked(value, lang),
                (Some(dt), None, None) => oxrdf02::Literal::new_typed_literal(value, named(dt)),
                (None, None, None) => oxrdf02::Literal::new_simple_literal(value),
            }
            .into()
        }
        oxrdf::Term::Triple(_) => return Err(VcError::JsonLd("RDF 1.2 triple terms are not supported".into())),
    };
    let graph = match q.graph_name {
        oxrdf::GraphName::DefaultGraph => oxrdf02::GraphName::DefaultGraph,
        oxrdf::GraphName::NamedNode(n) => named(n).into(),
        oxrdf::GraphName::BlankNode(b) => blank(b).into(),
    };
    Ok(oxrdf02::Quad::new(subject, named(q.predicate), object, graph))
}

/// RDFC-1.0 canonical N-Quads of a set of quads (every line ends with `\n`).
pub(crate) fn rdfc(quads: Vec<oxrdf02::Quad>) -> Result<String, VcError> {
    // A dataset is a set: merge duplicates (both paths come through here), keeping the order.
    let has_duplicates = {
        let mut seen = HashSet::with_capacity(quads.len());
        !quads.iter().all(|q| seen.insert(q))
    };
    let quads = if has_duplicates {
        let mut seen = HashSet::with_capacity(quads.len());
        quads.into_iter().filter(|q| seen.insert(q.clone())).collect()
    } else {
        quads
    };
    let options = rdf_canon::CanonicalizationOptions { hndq_call_limit: Some(HNDQ_CALL_LIMIT) };
    rdf_canon::canonicalize_quads_with::<sha2::Sha256>(&quads, &options)
        .map_err(|e| VcError::Canonicalization(e.to_string()))
}

/// JSON-LD → RDF → RDFC-1.0, for any document.
pub(crate) fn rdfc_document(doc: &serde_json::Value, extra: &Extra) -> Result<String, VcError> {
    rdfc(to_rdf(doc, extra)?)
}

/// RFC 8785 JSON Canonicalization Scheme.
pub(crate) fn jcs(doc: &serde_json::Value) -> Result<String, VcError> {
    serde_json_canonicalizer::to_string(doc).map_err(|e| VcError::Canonicalization(e.to_string()))
}
