//! Partner configuration: `partners.toml` in the home ledger directory.
//!
//! ```toml
//! [[partner]]
//! origin = "skill-ledger/51"                       # the partner's log origin
//! vkey = "skill-ledger/51+1a2b3c4d+AU...="          # its checkpoint verifier key
//! url = "http://sichuan.example:8080"              # where it serves /checkpoint and /tile/
//! witness_vkey = "skill-ledger/51/witness+...+BA..." # its cosigner key (optional)
//! pseudonym_key_fingerprint = "0123456789abcdef"   # of the pseudonym key both share
//! ```
//!
//! Every field is checked when the file is read, and each error names the partner and the
//! field. The pseudonym key itself never appears here: both authorities hold it in
//! `keys/pseudonym.key`, and the fingerprint proves they hold the same one (otherwise one
//! person would have two unrelated subjects).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use skill_ledger_domain::PseudonymKey;
use skill_ledger_node::{load_pseudonym_key, LedgerConfig, LedgerPaths};

use crate::cosignature::CosignatureVerifier;
use crate::error::{Result, SyncError, SyncErrorKind};
use crate::fsutil;

/// The partner file's name inside the home ledger directory.
pub const PARTNERS_FILE_NAME: &str = "partners.toml";

/// Most partners one ledger mirrors (the file is read whole).
pub const PARTNERS_MAX: usize = 64;

/// Domain separation of the pseudonym key fingerprint.
const FINGERPRINT_CONTEXT: &[u8] = b"skill-ledger/pseudonym-key-fingerprint/v1\n";

fn config_error(message: impl Into<String>) -> SyncError {
    SyncError::new(SyncErrorKind::Config, message)
}

/// The first 8 bytes (16 hex characters) of SHA-256(context ‖ key): equal on two ledgers
/// exactly when they hold the same pseudonym key, and useless for deriving it.
pub fn pseudonym_key_fingerprint(key: &PseudonymKey) -> String {
    let mut hasher = Sha256::new();
    hasher.update(FINGERPRINT_CONTEXT);
    hasher.update(key.as_bytes());
    hex::encode(&hasher.finalize()[..8])
}

/// Checks that an origin is a valid note key name that is also a safe relative path
/// (`mirrors/<origin>/`): components of ASCII letters, digits, `.`, `-`, `_`, none empty,
/// none `.` or `..`.
pub fn check_origin(origin: &str) -> Result<()> {
    let bad = |why: &str| config_error(format!("origin {origin:?} {why}"));
    if origin.is_empty() || origin.len() > 200 {
        return Err(bad("must have 1 to 200 characters"));
    }
    if !signed_note::is_key_name_valid(origin) {
        return Err(bad("is not a valid key name (no spaces, no '+')"));
    }
    for component in origin.split('/') {
        if component.is_empty() || component == "." || component == ".." {
            return Err(bad("has an empty, '.' or '..' path component"));
        }
        if !component
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(bad(
                "may hold only ASCII letters, digits, '.', '-', '_' and '/'",
            ));
        }
    }
    Ok(())
}

/// One partner ledger as configured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerConfig {
    /// The partner's log origin, e.g. `skill-ledger/51`.
    pub origin: String,
    /// The partner's checkpoint verifier key (C2SP signed-note vkey, Ed25519).
    pub vkey: String,
    /// Base URL of the partner's log (`<url>/checkpoint`, `<url>/tile/...`), `http://` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The partner witness's cosigner key (C2SP tlog-cosignature vkey, type 0x04), needed to
    /// ask it to cosign this ledger's checkpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_vkey: Option<String>,
    /// [`pseudonym_key_fingerprint`] of the pseudonym key shared with this partner.
    pub pseudonym_key_fingerprint: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnersFile {
    #[serde(default, rename = "partner")]
    partners: Vec<PartnerConfig>,
}

/// What the sync code needs to know about the home ledger (read from its directory, without
/// opening the node, so a running node's lock is not needed).
#[derive(Clone, Debug)]
pub struct Home {
    pub dir: PathBuf,
    pub origin: String,
    pub pseudonym_key_fingerprint: String,
    /// The sled page cache of the stores this ledger keeps for its partners (their mirrors),
    /// bytes: the ledger's own `[projections] cache_mb`, so a mirror is bounded like the
    /// node's projections instead of taking sled's default of 1 GiB.
    pub store_cache_bytes: u64,
}

impl Home {
    /// Reads `ledger.toml` and the pseudonym key of the ledger in `dir`.
    pub fn load(dir: &Path) -> Result<Home> {
        let paths = LedgerPaths::new(dir);
        let config = LedgerConfig::load(&paths.config())
            .map_err(|error| config_error(format!("home ledger: {error}")))?;
        let key = load_pseudonym_key(&paths.pseudonym_key())
            .map_err(|error| config_error(format!("home ledger: {error}")))?;
        Ok(Home {
            dir: dir.to_path_buf(),
            origin: config.origin,
            pseudonym_key_fingerprint: pseudonym_key_fingerprint(&key),
            store_cache_bytes: config.projections.cache_bytes(),
        })
    }

    /// `partners.toml` of this ledger.
    pub fn partners_path(&self) -> PathBuf {
        self.dir.join(PARTNERS_FILE_NAME)
    }

    /// The directory holding a partner's mirror: `mirrors/<origin>/`.
    pub fn mirror_dir(&self, origin: &str) -> PathBuf {
        self.dir.join("mirrors").join(origin)
    }
}

impl PartnerConfig {
    /// Checks every field; `home` gives the home origin (a partner must differ from it) and
    /// the fingerprint of the home pseudonym key.
    pub fn validate(&self, home: &Home) -> Result<()> {
        let context = |error: SyncError| error.context(format!("partner {:?}", self.origin));
        check_origin(&self.origin).map_err(context)?;
        if self.origin == home.origin {
            return Err(context(config_error(
                "is this ledger itself; a partner is another ledger",
            )));
        }
        let name = skill_ledger_log::parse_verifier_key_text(&self.vkey).map_err(|error| {
            context(config_error(format!(
                "vkey {:?} is not an Ed25519 signed-note verifier key: {error}",
                self.vkey
            )))
        })?;
        if name != self.origin {
            return Err(context(config_error(format!(
                "vkey names {name:?}; the checkpoint key's name must be the origin"
            ))));
        }
        if let Some(url) = &self.url {
            crate::http::BaseUrl::parse(url).map_err(context)?;
        }
        if let Some(witness_vkey) = &self.witness_vkey {
            CosignatureVerifier::from_vkey(witness_vkey)
                .map_err(|error| context(error.context("witness_vkey")))?;
        }
        if self.pseudonym_key_fingerprint != home.pseudonym_key_fingerprint {
            return Err(context(config_error(format!(
                "pseudonym_key_fingerprint {:?} differs from this ledger's pseudonym key ({}): \
                 the two ledgers would give one person different subjects; install the shared \
                 key in keys/pseudonym.key on both",
                self.pseudonym_key_fingerprint, home.pseudonym_key_fingerprint
            ))));
        }
        Ok(())
    }
}

/// The partners of a home ledger, validated.
#[derive(Clone, Debug, Default)]
pub struct Partners {
    pub partners: Vec<PartnerConfig>,
}

impl Partners {
    /// Reads and validates `partners.toml`; a missing file means no partners.
    pub fn load(home: &Home) -> Result<Partners> {
        let path = home.partners_path();
        let Some(bytes) = fsutil::read_optional(&path)? else {
            return Ok(Partners::default());
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| config_error(format!("{} is not UTF-8", path.display())))?;
        Partners::parse(&text, home).map_err(|error| error.context(path.display()))
    }

    /// Parses and validates the text of a `partners.toml`.
    pub fn parse(text: &str, home: &Home) -> Result<Partners> {
        let file: PartnersFile =
            toml::from_str(text).map_err(|error| config_error(error.to_string()))?;
        if file.partners.len() > PARTNERS_MAX {
            return Err(config_error(format!(
                "{} partners, at most {PARTNERS_MAX}",
                file.partners.len()
            )));
        }
        for (position, partner) in file.partners.iter().enumerate() {
            partner.validate(home)?;
            if file.partners[..position]
                .iter()
                .any(|other| other.origin == partner.origin)
            {
                return Err(config_error(format!(
                    "partner {:?} is listed twice",
                    partner.origin
                )));
            }
        }
        Ok(Partners {
            partners: file.partners,
        })
    }

    /// The TOML text of these partners.
    pub fn to_toml(&self) -> String {
        let file = PartnersFile {
            partners: self.partners.clone(),
        };
        toml::to_string_pretty(&file).unwrap_or_default()
    }

    /// Writes `partners.toml` atomically.
    pub fn save(&self, home: &Home) -> Result<()> {
        let text = format!(
            "# Partner ledgers mirrored and witnessed by this ledger (docs/formats.md, Part 6).\n{}",
            self.to_toml()
        );
        fsutil::write_atomically(&home.dir, PARTNERS_FILE_NAME, text.as_bytes())
    }

    pub fn get(&self, origin: &str) -> Option<&PartnerConfig> {
        self.partners
            .iter()
            .find(|partner| partner.origin == origin)
    }

    /// The partner named `origin`, or the only one when `origin` is `None`.
    pub fn select(&self, origin: Option<&str>) -> Result<&PartnerConfig> {
        match origin {
            Some(origin) => self.get(origin).ok_or_else(|| {
                config_error(format!(
                    "no partner {origin:?} in {PARTNERS_FILE_NAME} (known: {})",
                    self.origins()
                ))
            }),
            None => match self.partners.as_slice() {
                [only] => Ok(only),
                [] => Err(config_error(format!(
                    "no partner configured: add one to {PARTNERS_FILE_NAME} (`skill-ledger sync add-partner`)"
                ))),
                _ => Err(config_error(format!(
                    "several partners configured ({}): choose one with --partner",
                    self.origins()
                ))),
            },
        }
    }

    fn origins(&self) -> String {
        let names: Vec<&str> = self.partners.iter().map(|p| p.origin.as_str()).collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    }

    /// Adds a partner after validating it; refuses a second entry for one origin.
    pub fn add(&mut self, partner: PartnerConfig, home: &Home) -> Result<()> {
        partner.validate(home)?;
        if self.get(&partner.origin).is_some() {
            return Err(config_error(format!(
                "partner {:?} is already configured; edit {PARTNERS_FILE_NAME} to change it",
                partner.origin
            )));
        }
        if self.partners.len() >= PARTNERS_MAX {
            return Err(config_error(format!("at most {PARTNERS_MAX} partners")));
        }
        self.partners.push(partner);
        Ok(())
    }
}
