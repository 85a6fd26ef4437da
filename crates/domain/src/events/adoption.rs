//! The two documents the authority adopts, `CatalogueAdopted` and `PolicyAdopted`: each
//! parses, stays within [`DOCUMENT_BYTES_MAX`] and raises the version.

use std::sync::Arc;

use crate::changes::{Changes, RegistryChange};
use crate::event::{CatalogueAdopted, PolicyAdopted, SignedEvent};
use crate::guards::{authority_signed, DOCUMENT_BYTES_MAX};
use crate::occupation::Catalogue;
use crate::policy::Policy;
use crate::rejection::Rejection;
use crate::state::{PolicyVersion, Registry};

pub(super) fn check_catalogue(
    registry: &Registry,
    signed: &SignedEvent,
    adopted: &CatalogueAdopted,
) -> Result<(), Rejection> {
    authority_signed(registry, signed, "catalogue_adopted", adopted.date)?;
    check_document_size("source_toml", &adopted.source_toml)?;
    let catalogue = Catalogue::from_toml(&adopted.source_toml).map_err(|error| {
        Rejection::InvalidCatalogue {
            message: error.to_string(),
        }
    })?;
    if let Some(current) = &registry.catalogue {
        if catalogue.version <= current.version {
            return Err(Rejection::CatalogueVersionNotIncreasing {
                version: catalogue.version,
                latest: current.version,
            });
        }
    }
    Ok(())
}

pub(super) fn check_policy(
    registry: &Registry,
    signed: &SignedEvent,
    adopted: &PolicyAdopted,
) -> Result<(), Rejection> {
    authority_signed(registry, signed, "policy_adopted", adopted.date)?;
    check_document_size("source_toml", &adopted.source_toml)?;
    let policy =
        Policy::from_toml(&adopted.source_toml).map_err(|error| Rejection::InvalidPolicy {
            message: error.to_string(),
        })?;
    if let Some(latest) = registry.latest_policy() {
        if policy.version <= latest.version {
            return Err(Rejection::PolicyVersionNotIncreasing {
                version: policy.version,
                latest: latest.version,
            });
        }
    }
    Ok(())
}

fn check_document_size(field: &'static str, text: &str) -> Result<(), Rejection> {
    if text.len() > DOCUMENT_BYTES_MAX {
        return Err(Rejection::FieldTooLong {
            field,
            length: text.len(),
            length_max: DOCUMENT_BYTES_MAX,
        });
    }
    Ok(())
}

/// # Panics
/// When the catalogue does not parse: `decide` parsed it.
pub(super) fn apply_catalogue(adopted: &CatalogueAdopted, changes: &mut Changes) {
    let index = changes.index;
    let catalogue = Catalogue::from_toml(&adopted.source_toml)
        .unwrap_or_else(|error| panic!("entry {index}: decided catalogue: {error}"));
    changes.registry = Some(RegistryChange::Catalogue(Arc::new(catalogue)));
}

/// # Panics
/// When the policy does not parse: `decide` parsed it.
pub(super) fn apply_policy(adopted: &PolicyAdopted, changes: &mut Changes) {
    let index = changes.index;
    let policy = Policy::from_toml(&adopted.source_toml)
        .unwrap_or_else(|error| panic!("entry {index}: decided policy: {error}"));
    changes.registry = Some(RegistryChange::Policy(PolicyVersion {
        policy: Arc::new(policy),
        entry_index: index,
    }));
}
