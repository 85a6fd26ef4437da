//! Holder data typed on the command line, checked by the domain's rules before it is
//! pseudonymised (`skill_ledger_domain::check_document_number`, `check_holder_name`): a
//! malformed number or an empty name is a usage error (exit 2), and nothing is written.

use anyhow::anyhow;
use skill_ledger_domain::{check_document_number, check_holder_name, IdDocumentType};

use crate::Failure;

/// The `--id-number` of `--id-type`, checked and normalised.
pub fn identity_number(document_type: IdDocumentType, number: &str) -> Result<String, Failure> {
    check_document_number(document_type, number)
        .map_err(|error| anyhow!("--id-number: {error}").into())
}

/// The `--name` of a holder, checked.
pub fn holder_name(name: &str) -> Result<(), Failure> {
    check_holder_name(name).map_err(|error| anyhow!("--name: {error}").into())
}
