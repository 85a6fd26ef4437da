//! Evidence of a partner's misbehaviour, kept on disk for anyone to check, and the alarm it
//! raises.
//!
//! Each record is a directory `mirrors/<origin>/evidence/<NNNNNN>-<kind>/` holding
//! `record.json` (what, when, why) and the signed material itself: for a fork the two signed
//! checkpoints that are inconsistent (`held.checkpoint`, `seen.checkpoint`) and, when their
//! sizes differ, `consistency-proof.txt` ([`ConsistencyProof`], or a chain of them): the
//! root of the smaller size in the larger checkpoint's tree with the proof that ties it to the
//! larger signed root, so [`verify_fork`] shows the fork from the two notes and the proofs
//! alone; for a rule
//! violation the signed checkpoint covering the entry, the entry (`entry.hex`) and its
//! inclusion proof (`inclusion-proof.txt`). A record is written under a temporary name and
//! renamed, so it is whole or absent. Records are never deleted: an operator who has settled
//! the matter adds `cleared.json`, which ends the alarm but keeps the evidence.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use base64::prelude::{Engine, BASE64_STANDARD};
use skill_ledger_log::{parse_and_verify_checkpoint, verify_consistency, Checkpoint, Hash};

use crate::error::{Result, SyncError, SyncErrorKind};
use crate::fsutil;

/// The evidence file holding a [`ConsistencyProof`].
pub const CONSISTENCY_PROOF_FILE: &str = "consistency-proof.txt";

/// What the larger of two signed trees says its first `size` leaves hash to, with the RFC
/// 6962 consistency proof from (`size`, `root_at_size`) to the larger checkpoint's root.
///
/// Text form (`consistency-proof.txt`):
/// ```text
/// consistency <size> <larger_size>
/// root <base64 root_at_size>
/// <base64 hash>      (one line per proof hash)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub size: u64,
    pub root_at_size: Hash,
    pub larger_size: u64,
    pub hashes: Vec<Hash>,
}

/// Most proof lines read (a consistency proof of a 2^63-leaf tree has fewer).
const PROOF_HASHES_MAX: usize = 128;

impl ConsistencyProof {
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "consistency {} {}\nroot {}\n",
            self.size,
            self.larger_size,
            BASE64_STANDARD.encode(self.root_at_size)
        );
        for hash in &self.hashes {
            text.push_str(&BASE64_STANDARD.encode(hash));
            text.push('\n');
        }
        text
    }

    /// Parses the text form; the error (kind `Evidence`) names the faulty line.
    pub fn parse(text: &str) -> Result<ConsistencyProof> {
        ConsistencyProof::parse_text(text).map_err(evidence_error)
    }

    fn parse_text(text: &str) -> std::result::Result<ConsistencyProof, String> {
        let hash = |line: &str, what: &str| -> std::result::Result<Hash, String> {
            BASE64_STANDARD
                .decode(line)
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| format!("{what} is not a base64 hash of 32 bytes: {line:?}"))
        };
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let sizes: Vec<u64> = header
            .strip_prefix("consistency ")
            .map(|rest| rest.split(' ').filter_map(|n| n.parse().ok()).collect())
            .unwrap_or_default();
        let [size, larger_size] = sizes[..] else {
            return Err(format!(
                "first line is not `consistency <size> <size>`: {header:?}"
            ));
        };
        let root_line = lines.next().unwrap_or_default();
        let root_at_size = hash(
            root_line
                .strip_prefix("root ")
                .ok_or_else(|| format!("second line is not `root <hash>`: {root_line:?}"))?,
            "the root",
        )?;
        let mut hashes = Vec::new();
        for line in lines.filter(|line| !line.is_empty()) {
            if hashes.len() == PROOF_HASHES_MAX {
                return Err(format!("more than {PROOF_HASHES_MAX} proof hashes"));
            }
            hashes.push(hash(line, "a proof line")?);
        }
        Ok(ConsistencyProof {
            size,
            root_at_size,
            larger_size,
            hashes,
        })
    }
}

/// A chain of consistency proofs, one after the other, as `consistency-proof.txt` holds it:
/// each proof's larger size is the next one's size, and the next one's root is the root it
/// proves to (the last proves to the larger checkpoint's signed root).
pub fn chain_text(chain: &[ConsistencyProof]) -> String {
    chain.iter().map(ConsistencyProof::to_text).collect()
}

/// Parses a chain written by [`chain_text`] (a single proof is a chain of one).
pub fn parse_chain(text: &str) -> std::result::Result<Vec<ConsistencyProof>, String> {
    let mut blocks: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("consistency ") || blocks.is_empty() {
            if blocks.len() == PROOF_CHAIN_MAX {
                return Err(format!("more than {PROOF_CHAIN_MAX} proofs in a chain"));
            }
            blocks.push(String::new());
        }
        if let Some(block) = blocks.last_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    blocks
        .iter()
        .map(|block| ConsistencyProof::parse_text(block))
        .collect()
}

/// Most proofs in a chain (the mirror writes at most two).
const PROOF_CHAIN_MAX: usize = 4;

/// Checks a fork record with the partner's checkpoint verifier key alone (no network, no
/// mirror): both checkpoints are signed by the partner, and they cannot both be true, either
/// because they have one size and two roots, or because the consistency proof shows the
/// larger tree's first leaves hash to another root than the smaller checkpoint signs.
/// Returns what was shown, or why the record does not show a fork (kind `Evidence`).
pub fn verify_fork(record: &EvidenceRecord, vkey: &str) -> Result<String> {
    fork_shown(record, vkey).map_err(evidence_error)
}

fn evidence_error(why: String) -> SyncError {
    SyncError::new(SyncErrorKind::Evidence, why)
}

fn fork_shown(record: &EvidenceRecord, vkey: &str) -> std::result::Result<String, String> {
    if record.summary.kind != EvidenceKind::Fork {
        return Err(format!("{} is not a fork record", record.path.display()));
    }
    let file = |name: &str| {
        record
            .files
            .iter()
            .find(|(file, _)| file == name)
            .map(|(_, text)| text.as_str())
    };
    let checkpoint = |name: &str| -> std::result::Result<Checkpoint, String> {
        let text = file(name).ok_or_else(|| format!("the record has no {name}"))?;
        parse_and_verify_checkpoint(text, vkey)
            .map_err(|error| format!("{name} is not signed by the partner's key: {error}"))
    };
    let (held, seen) = (
        checkpoint("held.checkpoint")?,
        checkpoint("seen.checkpoint")?,
    );
    if held.origin != seen.origin {
        return Err("the two checkpoints name different logs".to_string());
    }
    if held.size == seen.size {
        return if held.root != seen.root {
            Ok(format!(
                "two checkpoints of {} signed for size {} with different roots",
                held.origin, held.size
            ))
        } else {
            Err("the two checkpoints are the same tree".to_string())
        };
    }
    let (smaller, larger) = if held.size < seen.size {
        (&held, &seen)
    } else {
        (&seen, &held)
    };
    let text = file(CONSISTENCY_PROOF_FILE).ok_or_else(|| {
        format!("checkpoints of two sizes need {CONSISTENCY_PROOF_FILE} to show a fork")
    })?;
    let chain = parse_chain(text)?;
    let (Some(first), Some(last)) = (chain.first(), chain.last()) else {
        return Err(format!("{CONSISTENCY_PROOF_FILE} holds no proof"));
    };
    if (first.size, last.larger_size) != (smaller.size, larger.size) {
        return Err(format!(
            "the proofs go from size {} to {}, the checkpoints are {} and {}",
            first.size, last.larger_size, smaller.size, larger.size
        ));
    }
    for (position, proof) in chain.iter().enumerate() {
        let (to_size, to_root) = match chain.get(position + 1) {
            Some(next) => (next.size, next.root_at_size),
            None => (larger.size, larger.root),
        };
        if proof.larger_size != to_size {
            return Err(format!(
                "proof {position} ends at size {}, the next step starts at {to_size}",
                proof.larger_size
            ));
        }
        verify_consistency(
            proof.size,
            proof.larger_size,
            proof.root_at_size,
            to_root,
            &proof.hashes,
        )
        .map_err(|error| {
            format!("proof {position} does not tie to the larger signed root: {error}")
        })?;
    }
    let proof = first;
    if proof.root_at_size == smaller.root {
        return Err("the larger tree extends the smaller one: no fork".to_string());
    }
    Ok(format!(
        "{} signed a tree of size {} whose first {} leaves have root {}, and a checkpoint of \
         size {} with root {}",
        larger.origin,
        larger.size,
        smaller.size,
        BASE64_STANDARD.encode(proof.root_at_size),
        smaller.size,
        BASE64_STANDARD.encode(smaller.root)
    ))
}

/// What a record proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// Two signed checkpoints of the partner are inconsistent.
    Fork,
    /// An entry covered by a signed checkpoint breaks the ledger rules.
    RuleViolation,
}

impl EvidenceKind {
    pub fn id(self) -> &'static str {
        match self {
            EvidenceKind::Fork => "fork",
            EvidenceKind::RuleViolation => "rule-violation",
        }
    }
}

/// Who cleared an alarm, when and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cleared {
    pub cleared_unix_s: u64,
    pub reason: String,
}

/// The `record.json` of an evidence record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSummary {
    pub kind: EvidenceKind,
    pub partner: String,
    pub detected_unix_s: u64,
    pub detail: String,
    /// The files of the record besides `record.json`, in order.
    pub files: Vec<String>,
}

/// One evidence record read back from disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceRecord {
    /// The record directory.
    pub path: PathBuf,
    pub summary: RecordSummary,
    /// `(file name, content)` of each evidence file, as text.
    pub files: Vec<(String, String)>,
    pub cleared: Option<Cleared>,
}

const RECORD_FILE: &str = "record.json";
const CLEARED_FILE: &str = "cleared.json";
/// Most records kept per partner; a partner past this is plainly misbehaving, and the first
/// ones are what matters.
pub const EVIDENCE_RECORDS_MAX: usize = 1000;

fn store_error(message: String) -> SyncError {
    SyncError::new(SyncErrorKind::Store, message)
}

fn record_directories(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(SyncError::io(dir, "list", error)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| SyncError::io(dir, "list", error))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.ends_with(".tmp") && entry.path().join(RECORD_FILE).exists() {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// Writes a new record in `dir` (the partner's evidence directory).
pub fn record(
    dir: &Path,
    kind: EvidenceKind,
    partner: &str,
    detail: &str,
    files: &[(&str, &[u8])],
    now_unix_s: u64,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|error| SyncError::io(dir, "create", error))?;
    let existing = record_directories(dir)?;
    if existing.len() >= EVIDENCE_RECORDS_MAX {
        return Err(store_error(format!(
            "{} already holds {EVIDENCE_RECORDS_MAX} evidence records; not adding more",
            dir.display()
        )));
    }
    let number = existing
        .iter()
        .filter_map(|path| path.file_name()?.to_str()?.get(..6)?.parse::<u32>().ok())
        .max()
        .map_or(1, |n| n + 1);
    let name = format!("{number:06}-{}", kind.id());
    let temporary = dir.join(format!("{name}.tmp"));
    if temporary.exists() {
        std::fs::remove_dir_all(&temporary)
            .map_err(|error| SyncError::io(&temporary, "remove", error))?;
    }
    let summary = RecordSummary {
        kind,
        partner: partner.to_string(),
        detected_unix_s: now_unix_s,
        detail: detail.to_string(),
        files: files.iter().map(|(name, _)| name.to_string()).collect(),
    };
    let json = serde_json::to_vec_pretty(&summary)
        .map_err(|error| store_error(format!("evidence record: {error}")))?;
    for (file, contents) in files
        .iter()
        .copied()
        .chain([(RECORD_FILE, json.as_slice())])
    {
        fsutil::write_atomically(&temporary, file, contents)?;
    }
    let target = dir.join(&name);
    std::fs::rename(&temporary, &target)
        .map_err(|error| SyncError::io(&target, "rename to", error))?;
    fsutil::sync_directory(dir)?;
    Ok(target)
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|error| SyncError::io(path, "read", error))?;
    String::from_utf8(bytes).map_err(|_| store_error(format!("{} is not UTF-8", path.display())))
}

/// Reads one record directory.
pub fn read_record(path: &Path) -> Result<EvidenceRecord> {
    let summary: RecordSummary = serde_json::from_str(&read_text(&path.join(RECORD_FILE))?)
        .map_err(|error| store_error(format!("{}: {error}", path.join(RECORD_FILE).display())))?;
    let mut files = Vec::new();
    for name in &summary.files {
        files.push((name.clone(), read_text(&path.join(name))?));
    }
    let cleared = match fsutil::read_optional(&path.join(CLEARED_FILE))? {
        None => None,
        Some(bytes) => Some(serde_json::from_slice(&bytes).map_err(|error| {
            store_error(format!("{}: {error}", path.join(CLEARED_FILE).display()))
        })?),
    };
    Ok(EvidenceRecord {
        path: path.to_path_buf(),
        summary,
        files,
        cleared,
    })
}

/// Every record in `dir`, oldest first.
pub fn list(dir: &Path) -> Result<Vec<EvidenceRecord>> {
    record_directories(dir)?
        .iter()
        .map(|path| read_record(path))
        .collect()
}

/// The oldest record not yet cleared: while there is one, the partner is not mirrored.
pub fn active_alarm(dir: &Path) -> Result<Option<EvidenceRecord>> {
    for path in record_directories(dir)? {
        if !path.join(CLEARED_FILE).exists() {
            return read_record(&path).map(Some);
        }
    }
    Ok(None)
}

/// Marks every uncleared record cleared (the evidence stays); returns how many.
pub fn clear(dir: &Path, reason: &str, now_unix_s: u64) -> Result<usize> {
    if reason.trim().is_empty() {
        return Err(SyncError::new(
            SyncErrorKind::Config,
            "clearing an alarm needs a reason",
        ));
    }
    let mut cleared = 0;
    for path in record_directories(dir)? {
        if path.join(CLEARED_FILE).exists() {
            continue;
        }
        let json = serde_json::to_vec_pretty(&Cleared {
            cleared_unix_s: now_unix_s,
            reason: reason.to_string(),
        })
        .map_err(|error| store_error(format!("cleared record: {error}")))?;
        fsutil::write_atomically(&path, CLEARED_FILE, &json)?;
        cleared += 1;
    }
    Ok(cleared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_chain_reads_back_as_written_and_names_what_is_malformed() {
        let chain = vec![
            ConsistencyProof {
                size: 3,
                root_at_size: [1; 32],
                larger_size: 7,
                hashes: vec![[2; 32], [3; 32]],
            },
            ConsistencyProof {
                size: 7,
                root_at_size: [4; 32],
                larger_size: 9,
                hashes: vec![],
            },
        ];
        let text = chain_text(&chain);
        // The golden form (docs/formats.md, evidence records).
        assert_eq!(
            text,
            "consistency 3 7\nroot AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\
             AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n\
             AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=\n\
             consistency 7 9\nroot BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ=\n"
        );
        assert_eq!(parse_chain(&text).expect("parse"), chain);
        assert!(parse_chain("consistency 3\nroot x\n")
            .expect_err("one size")
            .contains("first line"));
        assert!(parse_chain("consistency 3 7\nroot AQ==\n")
            .expect_err("short root")
            .contains("the root"));
        assert!(parse_chain(
            "consistency 3 7\nroot AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n!\n"
        )
        .expect_err("bad line")
        .contains("a proof line"));
    }
}
