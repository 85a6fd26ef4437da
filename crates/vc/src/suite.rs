//! The two Data Integrity cryptosuites of W3C vc-di-eddsa v1.0. Both sign
//! `SHA-256(canonical proof configuration) || SHA-256(canonical document)` with Ed25519; they
//! differ in the canonicalization: RDF Dataset Canonicalization (RDFC-1.0) of the document's
//! JSON-LD meaning, or the JSON Canonicalization Scheme (RFC 8785) of its JSON text.

use std::fmt;
use std::str::FromStr;

use crate::VcError;

/// A Data Integrity cryptosuite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Suite {
    /// `eddsa-rdfc-2022`: signs the RDF meaning, so any JSON-LD re-serialisation still verifies.
    EddsaRdfc2022,
    /// `eddsa-jcs-2022`: signs the JSON itself; cheaper, and needs no context processing.
    EddsaJcs2022,
}

impl Suite {
    /// Both suites, RDFC first.
    pub const ALL: [Suite; 2] = [Suite::EddsaRdfc2022, Suite::EddsaJcs2022];

    /// The `cryptosuite` value in a proof.
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::EddsaRdfc2022 => "eddsa-rdfc-2022",
            Suite::EddsaJcs2022 => "eddsa-jcs-2022",
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Suite {
    type Err = VcError;

    fn from_str(s: &str) -> Result<Self, VcError> {
        match s {
            "eddsa-rdfc-2022" => Ok(Suite::EddsaRdfc2022),
            "eddsa-jcs-2022" => Ok(Suite::EddsaJcs2022),
            other => Err(VcError::UnknownSuite(other.to_owned())),
        }
    }
}
