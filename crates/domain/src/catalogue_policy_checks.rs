//! Checks for the two documents an authority adopts: the catalogue and the policy.

use crate::event::{CatalogueAdopted, PolicyAdopted};
use crate::guards::DOCUMENT_BYTES_MAX;
use crate::occupation::Catalogue;
use crate::policy::Policy;
use crate::rejection::Rejection;
use crate::state::Registry;

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

pub(crate) fn check_catalogue(
    registry: &Registry,
    adopted: &CatalogueAdopted,
) -> Result<(), Rejection> {
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

pub(crate) fn check_policy(registry: &Registry, adopted: &PolicyAdopted) -> Result<(), Rejection> {
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
