//! Offline proof bundles: several log entries, each with a C2SP `tlog-proof@v1` inclusion
//! proof, all against one signed checkpoint, in one text file.
//!
//! The crate does not know what the entries mean: a section is a label (chosen by the caller,
//! `[a-z0-9-]`), the entry bytes and the proof. What the log alone can vouch for comes in two
//! checks: [`Bundle::verify_inclusion`], that every entry is included at its index in the tree
//! of the checkpoint all sections carry, and [`Bundle::verify_checkpoint`], that the checkpoint
//! is signed by a verifier key the caller chooses. They are separate because which key signs a
//! checkpoint may depend on the entries (a ledger whose authority key rotates logs each new
//! key): the caller reads the proven entries, decides the key, then verifies the note.
//! [`Bundle::verify`] runs both with one key. Labels are not authenticated; whoever reads the
//! entries checks them against their content.
//!
//! After the sections a bundle carries zero or more *notes*: C2SP signed notes under a label,
//! statements about the entries that the log's proofs cannot make (the node's signed status
//! of a credential as of the checkpoint). The crate checks their shape; the caller verifies
//! and reads them ([`Bundle::note`], [`verify_note`]).
//!
//! Pure: no I/O, no clock. The text format is specified byte by byte in docs/formats.md
//! ("Offline credential bundle").

use std::fmt;

use base64::prelude::{Engine, BASE64_STANDARD};

use crate::checkpoint::{
    note_signature_key_ids, parse_and_verify_checkpoint, parse_checkpoint_unverified, verify_note,
    Checkpoint,
};
use crate::merkle::{leaf_hash, verify_inclusion, Hash};

/// First line of every C2SP tlog-proof.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";
/// First line of every bundle.
pub const BUNDLE_HEADER: &str = "skill-ledger/bundle/v2";
/// First line of the bundles written before notes existed: refused, as a verifier cannot
/// tell such a bundle from one whose notes were stripped.
pub const BUNDLE_HEADER_V1: &str = "skill-ledger/bundle/v1";
/// Most notes in one bundle.
pub const BUNDLE_NOTES_MAX: usize = 8;
/// Most sections in one bundle.
pub const BUNDLE_SECTIONS_MAX: usize = 64;
/// Largest bundle text accepted by [`Bundle::parse`] (bytes).
pub const BUNDLE_BYTES_MAX: usize = 8 << 20;
/// Longest section label (bytes).
pub const SECTION_LABEL_BYTES_MAX: usize = 32;
/// Most hashes in one inclusion proof (a tree of 2^64 leaves needs 64).
pub const PROOF_HASHES_MAX: usize = 64;

/// The prefix of a signed-note signature line: U+2014 EM DASH, then a space.
const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// What is wrong with a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleErrorKind {
    /// The text does not follow the format (the error names the line).
    Malformed,
    /// The checkpoint does not verify with the trusted key, or does not parse.
    BadCheckpoint,
    /// Two sections carry different checkpoints.
    CheckpointsDiffer,
    /// An entry's inclusion proof does not verify against the checkpoint.
    InclusionFailed,
    /// A note's signature does not verify with the key the caller chose.
    BadNote,
}

impl fmt::Display for BundleErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BundleErrorKind::Malformed => "malformed bundle",
            BundleErrorKind::BadCheckpoint => "checkpoint does not verify",
            BundleErrorKind::CheckpointsDiffer => "sections carry different checkpoints",
            BundleErrorKind::InclusionFailed => "inclusion proof does not verify",
            BundleErrorKind::BadNote => "note does not verify",
        })
    }
}

/// A bundle error with where it happened: the line (1-based) and the section (1-based, and
/// its label) when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleError {
    kind: BundleErrorKind,
    detail: String,
    line: Option<u64>,
    section: Option<(usize, String)>,
}

impl BundleError {
    fn new(kind: BundleErrorKind, detail: impl Into<String>) -> BundleError {
        BundleError {
            kind,
            detail: detail.into(),
            line: None,
            section: None,
        }
    }

    fn at_line(mut self, line: u64) -> BundleError {
        self.line = Some(line);
        self
    }

    fn in_section(mut self, number: usize, label: &str) -> BundleError {
        self.section = Some((number, label.to_string()));
        self
    }

    pub fn kind(&self) -> &BundleErrorKind {
        &self.kind
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The line at fault (1-based), for parse errors.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// The section at fault: its number (1-based) and label.
    pub fn section(&self) -> Option<(usize, &str)> {
        self.section.as_ref().map(|(n, l)| (*n, l.as_str()))
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        match (&self.section, self.line) {
            (Some((n, label)), Some(line)) => write!(f, " (section {n} `{label}`, line {line})")?,
            (Some((n, label)), None) => write!(f, " (section {n} `{label}`)")?,
            (None, Some(line)) => write!(f, " (line {line})")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.detail)
    }
}

impl std::error::Error for BundleError {}

/// A C2SP tlog-proof: an entry's index, its RFC 6962 inclusion proof and the signed checkpoint
/// (a signed note, verbatim) the proof is against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    pub index: u64,
    /// From the leaf's sibling up to the root's child.
    pub hashes: Vec<Hash>,
    pub checkpoint_note: String,
}

impl TlogProof {
    /// The text form (no `extra` line): header, `index N`, one base64 hash per line, an empty
    /// line, the checkpoint note.
    pub fn to_text(&self) -> String {
        let mut text = format!("{TLOG_PROOF_HEADER}\nindex {}\n", self.index);
        for hash in &self.hashes {
            text.push_str(&BASE64_STANDARD.encode(hash));
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&self.checkpoint_note);
        text
    }
}

/// One section of a bundle: a label, an entry and its proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSection {
    pub label: String,
    pub entry: Vec<u8>,
    pub proof: TlogProof,
}

/// A signed note a bundle carries under a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleNote {
    pub label: String,
    /// The signed note, verbatim: body lines, an empty line, signature lines.
    pub note: String,
}

/// Sections against one checkpoint, in order, then notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    sections: Vec<BundleSection>,
    notes: Vec<BundleNote>,
}

/// An entry whose inclusion a verified bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenEntry {
    pub label: String,
    pub index: u64,
    pub entry: Vec<u8>,
}

/// What [`Bundle::verify`] established: a checkpoint signed by the trusted key, and entries
/// included in its tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBundle {
    pub checkpoint: Checkpoint,
    pub entries: Vec<ProvenEntry>,
}

fn malformed(detail: impl Into<String>) -> BundleError {
    BundleError::new(BundleErrorKind::Malformed, detail)
}

fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() || label.len() > SECTION_LABEL_BYTES_MAX {
        return Err(format!(
            "a section label has 1 to {SECTION_LABEL_BYTES_MAX} characters, not {}",
            label.len()
        ));
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "section label {label:?} may hold only a-z, 0-9 and '-'"
        ));
    }
    Ok(())
}

/// Checks a checkpoint note's shape: non-empty body lines, an empty line, then one or more
/// signature lines, ending in a newline.
fn check_note_shape(note: &str) -> Result<(), BundleError> {
    let lines: Vec<&str> = note
        .strip_suffix('\n')
        .ok_or_else(|| malformed("the checkpoint does not end with a newline"))?
        .split('\n')
        .collect();
    let blank = lines
        .iter()
        .position(|line| line.is_empty())
        .ok_or_else(|| malformed("the checkpoint has no empty line before its signatures"))?;
    if blank == 0 {
        return Err(malformed("the checkpoint body is empty"));
    }
    if blank + 1 == lines.len()
        || !lines[blank + 1..]
            .iter()
            .all(|line| line.starts_with(SIGNATURE_LINE_PREFIX))
    {
        return Err(malformed(
            "the checkpoint must end with one or more signature lines (starting with \"\u{2014} \")",
        ));
    }
    Ok(())
}

impl Bundle {
    /// A bundle of `sections`, which must be 1 to [`BUNDLE_SECTIONS_MAX`], carry valid labels,
    /// byte-identical checkpoint notes of a well-formed shape and proofs of at most
    /// [`PROOF_HASHES_MAX`] hashes. It does not verify anything: see [`Bundle::verify`].
    pub fn new(sections: Vec<BundleSection>) -> Result<Bundle, BundleError> {
        if sections.is_empty() || sections.len() > BUNDLE_SECTIONS_MAX {
            return Err(malformed(format!(
                "a bundle holds 1 to {BUNDLE_SECTIONS_MAX} sections, not {}",
                sections.len()
            )));
        }
        check_note_shape(&sections[0].proof.checkpoint_note)
            .map_err(|e| e.in_section(1, &sections[0].label))?;
        for (k, section) in sections.iter().enumerate() {
            let place = |e: BundleError| e.in_section(k + 1, &section.label);
            check_label(&section.label).map_err(|why| place(malformed(why)))?;
            if section.proof.hashes.len() > PROOF_HASHES_MAX {
                return Err(place(malformed("the proof has more than 64 hashes")));
            }
            if section.proof.checkpoint_note != sections[0].proof.checkpoint_note {
                return Err(place(BundleError::new(
                    BundleErrorKind::CheckpointsDiffer,
                    "its checkpoint differs from the first section's",
                )));
            }
        }
        Ok(Bundle {
            sections,
            notes: Vec::new(),
        })
    }

    /// The bundle with `notes` after its sections: at most [`BUNDLE_NOTES_MAX`], with valid
    /// and distinct labels, each a well-formed signed note. Nothing is verified.
    pub fn with_notes(mut self, notes: Vec<BundleNote>) -> Result<Bundle, BundleError> {
        if notes.len() > BUNDLE_NOTES_MAX {
            return Err(malformed(format!(
                "a bundle holds at most {BUNDLE_NOTES_MAX} notes, not {}",
                notes.len()
            )));
        }
        for (k, note) in notes.iter().enumerate() {
            check_label(&note.label).map_err(|why| malformed(format!("note {}: {why}", k + 1)))?;
            if notes[..k].iter().any(|other| other.label == note.label) {
                return Err(malformed(format!(
                    "note {}: a second note labelled {:?}",
                    k + 1,
                    note.label
                )));
            }
            check_note_shape(&note.note).map_err(|error| {
                malformed(format!(
                    "note {} `{}`: {}",
                    k + 1,
                    note.label,
                    error.detail().replace("checkpoint", "note")
                ))
            })?;
        }
        self.notes = notes;
        Ok(self)
    }

    pub fn sections(&self) -> &[BundleSection] {
        &self.sections
    }

    pub fn notes(&self) -> &[BundleNote] {
        &self.notes
    }

    /// The note labelled `label`, verbatim and unverified ([`verify_note`] checks it).
    pub fn note(&self, label: &str) -> Option<&str> {
        self.notes
            .iter()
            .find(|note| note.label == label)
            .map(|note| note.note.as_str())
    }

    /// The body of the note labelled `label` once its signature verifies with
    /// `verifier_key_text`; `Ok(None)` when the bundle has no such note.
    pub fn verified_note(
        &self,
        label: &str,
        verifier_key_text: &str,
    ) -> Result<Option<String>, BundleError> {
        let Some(note) = self.note(label) else {
            return Ok(None);
        };
        verify_note(note, verifier_key_text)
            .map(Some)
            .map_err(|e| BundleError::new(BundleErrorKind::BadNote, format!("`{label}`: {e}")))
    }

    /// The bundle text: header, `sections N`, then per section `section LABEL`,
    /// `entry BASE64` and the section's tlog-proof; then `notes M` and per note
    /// `note LABEL` and the signed note.
    pub fn to_text(&self) -> String {
        let mut text = format!("{BUNDLE_HEADER}\nsections {}\n", self.sections.len());
        for section in &self.sections {
            text.push_str("section ");
            text.push_str(&section.label);
            text.push_str("\nentry ");
            text.push_str(&BASE64_STANDARD.encode(&section.entry));
            text.push('\n');
            text.push_str(&section.proof.to_text());
        }
        text.push_str(&format!("notes {}\n", self.notes.len()));
        for note in &self.notes {
            text.push_str("note ");
            text.push_str(&note.label);
            text.push('\n');
            text.push_str(&note.note);
        }
        text
    }

    /// Parses the text form. Only the exact form [`Bundle::to_text`] writes is accepted (one
    /// bundle has one encoding); every error names the line and, inside a section, the section.
    pub fn parse(text: &str) -> Result<Bundle, BundleError> {
        if text.len() > BUNDLE_BYTES_MAX {
            return Err(malformed(format!(
                "the bundle is {} bytes, over the limit of {BUNDLE_BYTES_MAX}",
                text.len()
            )));
        }
        let Some(inner) = text.strip_suffix('\n') else {
            let last = text.split('\n').count() as u64;
            return Err(malformed("the bundle does not end with a newline").at_line(last));
        };
        let lines: Vec<&str> = inner.split('\n').collect();
        if let Some(k) = lines.iter().position(|line| line.contains('\r')) {
            return Err(malformed("carriage return: lines end with LF only").at_line(k as u64 + 1));
        }
        let mut cursor = Cursor {
            lines: &lines,
            next: 0,
        };
        let header = cursor.take("the header line")?;
        if header.1 == BUNDLE_HEADER_V1 {
            return Err(malformed(format!(
                "this is a {BUNDLE_HEADER_V1:?} bundle, written before bundles carried the \
                 credential's signed status; it cannot show a revocation: download the \
                 credential's bundle again"
            ))
            .at_line(1));
        }
        if header.1 != BUNDLE_HEADER {
            return Err(malformed(format!("the first line must be {BUNDLE_HEADER:?}")).at_line(1));
        }
        let (line, count_text) = cursor.take("the `sections N` line")?;
        let count = count_text
            .strip_prefix("sections ")
            .and_then(parse_decimal)
            .ok_or_else(|| malformed("expected `sections N`").at_line(line))?;
        if count == 0 || count > BUNDLE_SECTIONS_MAX as u64 {
            return Err(malformed(format!(
                "a bundle holds 1 to {BUNDLE_SECTIONS_MAX} sections, not {count}"
            ))
            .at_line(line));
        }
        let mut sections = Vec::with_capacity(count as usize);
        for number in 1..=count as usize {
            let (line, label_line) = cursor.take(&format!("section {number} of {count}"))?;
            let label = label_line
                .strip_prefix("section ")
                .ok_or_else(|| malformed("expected `section LABEL`").at_line(line))?;
            check_label(label).map_err(|why| malformed(why).at_line(line))?;
            let section =
                parse_section(&mut cursor, label).map_err(|e| e.in_section(number, label))?;
            sections.push(section);
        }
        let (line, notes_line) = cursor.take("the `notes M` line")?;
        let notes_count = notes_line
            .strip_prefix("notes ")
            .and_then(parse_decimal)
            .ok_or_else(|| malformed("expected `notes M`").at_line(line))?;
        if notes_count > BUNDLE_NOTES_MAX as u64 {
            return Err(malformed(format!(
                "a bundle holds at most {BUNDLE_NOTES_MAX} notes, not {notes_count}"
            ))
            .at_line(line));
        }
        let mut notes = Vec::with_capacity(notes_count as usize);
        for number in 1..=notes_count as usize {
            let (line, label_line) = cursor.take(&format!("note {number} of {notes_count}"))?;
            let label = label_line
                .strip_prefix("note ")
                .ok_or_else(|| malformed("expected `note LABEL`").at_line(line))?;
            check_label(label).map_err(|why| malformed(why).at_line(line))?;
            let note = take_signed_note(&mut cursor, "note")?;
            notes.push(BundleNote {
                label: label.to_string(),
                note,
            });
        }
        if let Some((line, _)) = cursor.peek() {
            return Err(
                malformed(format!("text after the last of {notes_count} notes")).at_line(line),
            );
        }
        let bundle = Bundle::new(sections)?.with_notes(notes)?;
        // Every field was parsed strictly, so this holds; checked because a bundle must have
        // exactly one encoding (the golden vector pins it).
        if bundle.to_text() != text {
            return Err(malformed("the bundle is not in canonical form"));
        }
        Ok(bundle)
    }

    /// The checkpoint note every section carries (byte-identical, [`Bundle::new`] checks it).
    pub fn checkpoint_note(&self) -> &str {
        &self.sections[0].proof.checkpoint_note
    }

    /// The checkpoint the sections carry, parsed but **not** verified: its origin says whose
    /// keys to look for, its size and root are what [`Bundle::verify_inclusion`] checks
    /// against. Trust nothing in it before [`Bundle::verify_checkpoint`] has passed.
    pub fn unverified_checkpoint(&self) -> Result<Checkpoint, BundleError> {
        parse_checkpoint_unverified(self.checkpoint_note())
            .map_err(|e| BundleError::new(BundleErrorKind::BadCheckpoint, e.to_string()))
    }

    /// Verifies the checkpoint note with `verifier_key_text` (`name+hex(keyID)+base64(0x01‖key)`):
    /// the key the caller chose, e.g. the one in force at the checkpoint on a log whose key
    /// rotates. Signature lines by other keys are ignored. Returns the checkpoint.
    pub fn verify_checkpoint(&self, verifier_key_text: &str) -> Result<Checkpoint, BundleError> {
        parse_and_verify_checkpoint(self.checkpoint_note(), verifier_key_text)
            .map_err(|e| BundleError::new(BundleErrorKind::BadCheckpoint, e.to_string()))
    }

    /// Key ids of the checkpoint's signature lines by keys named `name` (unverified): a caller
    /// that knows every key of that name can refuse a note signed by one it does not know.
    pub fn checkpoint_signature_key_ids(&self, name: &str) -> Result<Vec<u32>, BundleError> {
        note_signature_key_ids(self.checkpoint_note(), name)
            .map_err(|e| BundleError::new(BundleErrorKind::BadCheckpoint, e.to_string()))
    }

    /// Checks every section's inclusion proof against `checkpoint`'s size and root and
    /// returns the entries. The checkpoint is taken as given: verify its note too
    /// ([`Bundle::verify_checkpoint`]) before relying on the entries.
    pub fn verify_inclusion(
        &self,
        checkpoint: &Checkpoint,
    ) -> Result<Vec<ProvenEntry>, BundleError> {
        let first = &self.sections[0];
        let mut entries = Vec::with_capacity(self.sections.len());
        for (k, section) in self.sections.iter().enumerate() {
            let place = |e: BundleError| e.in_section(k + 1, &section.label);
            // `Bundle::new` refused differing notes; checked again, as the proofs rest on it.
            if section.proof.checkpoint_note != first.proof.checkpoint_note {
                return Err(place(BundleError::new(
                    BundleErrorKind::CheckpointsDiffer,
                    "its checkpoint differs from the first section's",
                )));
            }
            let index = section.proof.index;
            verify_inclusion(
                leaf_hash(&section.entry),
                index,
                checkpoint.size,
                &section.proof.hashes,
                checkpoint.root,
            )
            .map_err(|e| {
                place(BundleError::new(
                    BundleErrorKind::InclusionFailed,
                    format!(
                        "entry {index} is not proven in the checkpoint of size {}: {}",
                        checkpoint.size,
                        e.detail()
                    ),
                ))
            })?;
            entries.push(ProvenEntry {
                label: section.label.clone(),
                index,
                entry: section.entry.clone(),
            });
        }
        Ok(entries)
    }

    /// Verifies the checkpoint with `verifier_key_text` ([`Bundle::verify_checkpoint`]), then
    /// every section's inclusion proof against it ([`Bundle::verify_inclusion`]). Returns the
    /// checkpoint and the entries. For a log with one key for life; a caller whose key
    /// depends on the entries calls the two steps itself.
    pub fn verify(&self, verifier_key_text: &str) -> Result<VerifiedBundle, BundleError> {
        let checkpoint = self.verify_checkpoint(verifier_key_text)?;
        let entries = self.verify_inclusion(&checkpoint)?;
        Ok(VerifiedBundle {
            checkpoint,
            entries,
        })
    }
}

/// Lines of the text with 1-based numbers.
struct Cursor<'a> {
    lines: &'a [&'a str],
    next: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<(u64, &'a str)> {
        self.lines
            .get(self.next)
            .map(|line| (self.next as u64 + 1, *line))
    }

    fn take(&mut self, expected: &str) -> Result<(u64, &'a str), BundleError> {
        let found = self.peek().ok_or_else(|| {
            malformed(format!("the text ends where {expected} was expected"))
                .at_line(self.lines.len() as u64 + 1)
        })?;
        self.next += 1;
        Ok(found)
    }
}

/// A decimal u64 without sign or leading zeros (except `0` itself).
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical {
        text.parse().ok()
    } else {
        None
    }
}

fn parse_section(cursor: &mut Cursor<'_>, label: &str) -> Result<BundleSection, BundleError> {
    let (line, entry_line) = cursor.take("the `entry BASE64` line")?;
    let entry = entry_line
        .strip_prefix("entry ")
        .and_then(|b64| BASE64_STANDARD.decode(b64).ok())
        .ok_or_else(|| {
            malformed("expected `entry BASE64` (standard base64, padded)").at_line(line)
        })?;
    if entry.len() > crate::format::ENTRY_BYTES_MAX_FORMAT as usize {
        return Err(
            malformed(format!("the entry is {} bytes, over 65535", entry.len())).at_line(line),
        );
    }
    let (line, header) = cursor.take(&format!("the {TLOG_PROOF_HEADER} line"))?;
    if header != TLOG_PROOF_HEADER {
        return Err(malformed(format!("expected {TLOG_PROOF_HEADER:?}")).at_line(line));
    }
    let (line, index_line) = cursor.take("the `index N` line")?;
    if index_line.starts_with("extra ") {
        return Err(malformed("a bundle's proofs carry no `extra` line").at_line(line));
    }
    let index = index_line
        .strip_prefix("index ")
        .and_then(parse_decimal)
        .ok_or_else(|| malformed("expected `index N` (decimal, no leading zeros)").at_line(line))?;
    let mut hashes = Vec::new();
    loop {
        let (line, text) = cursor.take("a proof hash or the empty line after the proof")?;
        if text.is_empty() {
            break;
        }
        if hashes.len() == PROOF_HASHES_MAX {
            return Err(malformed("the proof has more than 64 hashes").at_line(line));
        }
        let hash: Hash = BASE64_STANDARD
            .decode(text)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                malformed("a proof hash must be 32 bytes in standard base64").at_line(line)
            })?;
        hashes.push(hash);
    }
    let checkpoint_note = take_signed_note(cursor, "checkpoint")?;
    Ok(BundleSection {
        label: label.to_string(),
        entry,
        proof: TlogProof {
            index,
            hashes,
            checkpoint_note,
        },
    })
}

/// A signed note: body lines up to an empty line, then one or more signature lines (`what`
/// names it in errors: "checkpoint" or "note").
fn take_signed_note(cursor: &mut Cursor<'_>, what: &str) -> Result<String, BundleError> {
    let start = cursor.next;
    loop {
        let (line, text) = cursor.take(&format!(
            "the empty line between the {what} and its signatures"
        ))?;
        if text.is_empty() {
            if cursor.next == start + 1 {
                return Err(malformed(format!("the {what} body is empty")).at_line(line));
            }
            break;
        }
    }
    let mut signatures = 0;
    while let Some((_, text)) = cursor.peek() {
        if !text.starts_with(SIGNATURE_LINE_PREFIX) {
            break;
        }
        cursor.next += 1;
        signatures += 1;
    }
    if signatures == 0 {
        let line = cursor.next as u64 + 1;
        return Err(malformed(format!(
            "expected a {what} signature line (starting with \"\u{2014} \")"
        ))
        .at_line(line));
    }
    let mut note = cursor.lines[start..cursor.next].join("\n");
    note.push('\n');
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{sign_note, verifier_key_text, Checkpoint};
    use crate::merkle::node_hash;
    use ed25519_dalek::SigningKey;

    /// A tree of four entries, a checkpoint over it, and a bundle of entries 0 and 3.
    fn fixture() -> (Bundle, String) {
        let entries: Vec<&[u8]> = vec![b"zero", b"one", b"two", b"three"];
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        let left = node_hash(leaves[0], leaves[1]);
        let right = node_hash(leaves[2], leaves[3]);
        let root = node_hash(left, right);
        let key = SigningKey::from_bytes(&[7; 32]);
        let origin = "example.test/log";
        let checkpoint = Checkpoint {
            origin: origin.to_string(),
            size: 4,
            root,
            time_unix_s: 1_700_000_000,
        };
        let note = sign_note(&checkpoint.body(), origin, &key).expect("sign");
        let section = |label: &str, index: u64, hashes: Vec<Hash>| BundleSection {
            label: label.to_string(),
            entry: entries[index as usize].to_vec(),
            proof: TlogProof {
                index,
                hashes,
                checkpoint_note: note.clone(),
            },
        };
        let bundle = Bundle::new(vec![
            section("first", 0, vec![leaves[1], right]),
            section("last", 3, vec![leaves[2], left]),
        ])
        .expect("bundle");
        (bundle, verifier_key_text(origin, &key))
    }

    #[test]
    fn round_trip_and_verify() {
        let (bundle, vkey) = fixture();
        let text = bundle.to_text();
        assert!(text.starts_with("skill-ledger/bundle/v2\nsections 2\nsection first\nentry emVybw==\nc2sp.org/tlog-proof@v1\nindex 0\n"), "{text}");
        let parsed = Bundle::parse(&text).expect("parses");
        assert_eq!(parsed, bundle);
        let verified = parsed.verify(&vkey).expect("verifies");
        assert_eq!(verified.checkpoint.size, 4);
        assert_eq!(verified.entries[1].entry, b"three");
        assert_eq!(verified.entries[1].index, 3);
    }

    #[test]
    fn notes_round_trip_verify_and_refuse_bad_shapes() {
        let (bundle, vkey) = fixture();
        let key = SigningKey::from_bytes(&[9; 32]);
        let origin = vkey.split('+').next().expect("name");
        let note = sign_note("a statement\nof two lines\n", origin, &key).expect("sign");
        let with_note = bundle
            .clone()
            .with_notes(vec![BundleNote {
                label: "status".to_string(),
                note: note.clone(),
            }])
            .expect("a note");
        let text = with_note.to_text();
        assert!(
            text.contains("notes 1\nnote status\na statement\n"),
            "{text}"
        );
        let parsed = Bundle::parse(&text).expect("parses");
        assert_eq!(parsed, with_note);
        assert_eq!(parsed.note("status"), Some(note.as_str()));
        assert_eq!(parsed.note("other"), None);
        // the note verifies with its own key, not with another
        let note_key = verifier_key_text(origin, &key);
        assert_eq!(
            parsed.verified_note("status", &note_key).expect("verifies"),
            Some("a statement\nof two lines\n".to_string())
        );
        let error = parsed
            .verified_note("status", &vkey)
            .expect_err("another key");
        assert_eq!(error.kind(), &BundleErrorKind::BadNote, "{error}");
        assert_eq!(parsed.verified_note("other", &vkey), Ok(None));
        // two notes of one label, a note without signatures, a bad label
        let twice = BundleNote {
            label: "status".to_string(),
            note: note.clone(),
        };
        assert!(bundle
            .clone()
            .with_notes(vec![twice.clone(), twice])
            .is_err());
        let unsigned = BundleNote {
            label: "status".to_string(),
            note: "a statement\n\n".to_string(),
        };
        assert!(bundle.clone().with_notes(vec![unsigned]).is_err());
        let label = BundleNote {
            label: "Status".to_string(),
            note,
        };
        assert!(bundle.with_notes(vec![label]).is_err());
        // text after the notes, or a note count that lies
        let error = Bundle::parse(&format!("{text}extra\n")).expect_err("trailing text");
        assert!(
            error.to_string().contains("after the last of 1 notes"),
            "{error}"
        );
        let error = Bundle::parse(&text.replace("notes 1\n", "notes 2\n")).expect_err("count");
        assert!(error.to_string().contains("note 2 of 2"), "{error}");
    }

    /// Replaces line `number` (1-based) of the bundle text and returns the parse error.
    fn parse_with_line(number: usize, replacement: Option<&str>) -> BundleError {
        let (bundle, _) = fixture();
        let text = bundle.to_text();
        let mut lines: Vec<&str> = text.strip_suffix('\n').unwrap().split('\n').collect();
        match replacement {
            Some(r) => lines[number - 1] = r,
            None => {
                lines.remove(number - 1);
            }
        }
        let changed = format!("{}\n", lines.join("\n"));
        Bundle::parse(&changed).expect_err("must not parse")
    }

    fn check_malformed(error: &BundleError, line: u64, section: Option<usize>, words: &str) {
        assert_eq!(error.kind(), &BundleErrorKind::Malformed, "{error}");
        assert_eq!(error.line(), Some(line), "{error}");
        assert_eq!(error.section().map(|(n, _)| n), section, "{error}");
        assert!(
            error.to_string().contains(words),
            "'{words}' not in: {error}"
        );
    }

    // Layout of the fixture text: 1 header, 2 sections, 3 section first, 4 entry,
    // 5 tlog-proof header, 6 index, 7-8 hashes, 9 empty, 10-13 checkpoint body, 14 empty,
    // 15 signature, 16 section last, ...
    #[test]
    fn every_malformed_line_is_named() {
        check_malformed(
            &parse_with_line(1, Some("skill-ledger/bundle/v3")),
            1,
            None,
            "skill-ledger/bundle/v2",
        );
        check_malformed(
            &parse_with_line(1, Some("skill-ledger/bundle/v1")),
            1,
            None,
            "download the credential's bundle again",
        );
        check_malformed(
            &parse_with_line(2, Some("sections two")),
            2,
            None,
            "sections N",
        );
        check_malformed(
            &parse_with_line(2, Some("sections 02")),
            2,
            None,
            "sections N",
        );
        check_malformed(&parse_with_line(2, Some("sections 0")), 2, None, "not 0");
        check_malformed(&parse_with_line(2, Some("sections 65")), 2, None, "not 65");
        check_malformed(
            &parse_with_line(3, Some("sektion first")),
            3,
            None,
            "section LABEL",
        );
        check_malformed(&parse_with_line(3, Some("section First")), 3, None, "a-z");
        check_malformed(&parse_with_line(3, Some("section ")), 3, None, "1 to 32");
        check_malformed(
            &parse_with_line(4, Some("entry %%%")),
            4,
            Some(1),
            "entry BASE64",
        );
        check_malformed(
            &parse_with_line(4, Some("entries emVybw==")),
            4,
            Some(1),
            "entry BASE64",
        );
        check_malformed(
            &parse_with_line(5, Some("c2sp.org/tlog-proof@v2")),
            5,
            Some(1),
            "tlog-proof@v1",
        );
        check_malformed(&parse_with_line(6, Some("index -1")), 6, Some(1), "index N");
        check_malformed(
            &parse_with_line(6, Some("index 00")),
            6,
            Some(1),
            "leading zeros",
        );
        check_malformed(&parse_with_line(6, Some("extra AAAA")), 6, Some(1), "extra");
        check_malformed(&parse_with_line(7, Some("AAAA")), 7, Some(1), "32 bytes");
        check_malformed(
            &parse_with_line(8, Some("not base64!")),
            8,
            Some(1),
            "32 bytes",
        );
        check_malformed(
            &parse_with_line(15, Some("- example.test/log AAAA")),
            15,
            Some(1),
            "signature line",
        );
        check_malformed(
            &parse_with_line(10, Some("")),
            10,
            Some(1),
            "checkpoint body is empty",
        );
        // The section's signature line removed: the next section's label line is then where
        // a signature line was expected.
        check_malformed(&parse_with_line(15, None), 15, Some(1), "signature line");
        // The empty line before the signatures removed: the body runs on to the end.
        let error = parse_with_line(27, None);
        assert_eq!(error.section(), Some((2, "last")), "{error}");
        // A second section whose checkpoint differs.
        let error = parse_with_line(28, Some("— example.test/log AAAA"));
        assert_eq!(error.kind(), &BundleErrorKind::CheckpointsDiffer, "{error}");
        assert_eq!(error.section(), Some((2, "last")), "{error}");
    }

    #[test]
    fn truncation_trailing_text_and_line_endings_are_named() {
        let (bundle, _) = fixture();
        let text = bundle.to_text();
        let error = Bundle::parse(text.strip_suffix('\n').unwrap()).expect_err("no final newline");
        check_malformed(&error, 29, None, "newline");
        let error = Bundle::parse(&format!("{text}section more\n")).expect_err("trailing");
        check_malformed(&error, 30, None, "after the last of 0 notes");
        let no_notes_line = text.strip_suffix("notes 0\n").expect("the notes line");
        let error = Bundle::parse(no_notes_line).expect_err("no notes line");
        check_malformed(&error, 29, None, "`notes M`");
        let cut: String = text.lines().take(15).map(|l| format!("{l}\n")).collect();
        let error = Bundle::parse(&cut).expect_err("one section missing");
        check_malformed(&error, 16, None, "section 2 of 2");
        let error = Bundle::parse(&text.replace('\n', "\r\n")).expect_err("CRLF");
        check_malformed(&error, 1, None, "carriage return");
        let error = Bundle::parse("").expect_err("empty");
        assert_eq!(error.kind(), &BundleErrorKind::Malformed);
    }

    #[test]
    fn wrong_key_changed_entry_and_changed_proof_fail_verification() {
        let (bundle, vkey) = fixture();
        let other = verifier_key_text("example.test/log", &SigningKey::from_bytes(&[8; 32]));
        let error = bundle.verify(&other).expect_err("another key");
        assert_eq!(error.kind(), &BundleErrorKind::BadCheckpoint, "{error}");

        let mut sections = bundle.sections().to_vec();
        sections[1].entry = b"thrEe".to_vec();
        let error = Bundle::new(sections)
            .unwrap()
            .verify(&vkey)
            .expect_err("entry");
        assert_eq!(error.kind(), &BundleErrorKind::InclusionFailed, "{error}");
        assert_eq!(error.section(), Some((2, "last")), "{error}");

        let mut sections = bundle.sections().to_vec();
        sections[0].proof.index = 1;
        let error = Bundle::new(sections)
            .unwrap()
            .verify(&vkey)
            .expect_err("index");
        assert_eq!(error.kind(), &BundleErrorKind::InclusionFailed, "{error}");

        let mut sections = bundle.sections().to_vec();
        sections[0].proof.index = 4;
        let error = Bundle::new(sections)
            .unwrap()
            .verify(&vkey)
            .expect_err("beyond");
        assert_eq!(error.kind(), &BundleErrorKind::InclusionFailed, "{error}");
    }

    /// The fixture's note with a second signature line by another key of the same name, as a
    /// log signs during a key rotation, and a witness's line.
    fn note_signed_twice(bundle: &Bundle, second: &SigningKey) -> String {
        let note = bundle.checkpoint_note();
        let body = bundle.unverified_checkpoint().expect("body").body();
        let line = |name: &str, key: &SigningKey| {
            let other = sign_note(&body, name, key).expect("sign");
            other.rsplit_once("\n\n").expect("signatures").1.to_string()
        };
        format!(
            "{note}{}{}",
            line("example.test/log", second),
            line(
                "example.test/log/witness",
                &SigningKey::from_bytes(&[6; 32])
            )
        )
    }

    #[test]
    fn inclusion_and_the_checkpoint_signature_are_checked_apart() {
        // given: a bundle whose note is signed by the old key and, during a rotation, the new
        let (bundle, old_vkey) = fixture();
        let new = SigningKey::from_bytes(&[9; 32]);
        let new_vkey = verifier_key_text("example.test/log", &new);
        let note = note_signed_twice(&bundle, &new);
        let mut sections = bundle.sections().to_vec();
        for section in &mut sections {
            section.proof.checkpoint_note = note.clone();
        }
        let rotated = Bundle::parse(&Bundle::new(sections).unwrap().to_text()).expect("parses");

        // when: the proofs are checked against the unverified checkpoint
        let unverified = rotated.unverified_checkpoint().expect("checkpoint body");
        let entries = rotated.verify_inclusion(&unverified).expect("proofs");

        // then: the entries are proven without any key, and the note verifies with either key
        assert_eq!(unverified.size, 4);
        assert_eq!(entries[1].index, 3);
        for vkey in [&old_vkey, &new_vkey] {
            assert_eq!(rotated.verify_checkpoint(vkey).expect("signed"), unverified);
        }
        let other = verifier_key_text("example.test/log", &SigningKey::from_bytes(&[8; 32]));
        let error = rotated
            .verify_checkpoint(&other)
            .expect_err("not signed by it");
        assert_eq!(error.kind(), &BundleErrorKind::BadCheckpoint, "{error}");
        // and the signature lines by the log's name list both keys, not the witness's
        let (_, old_public) = crate::checkpoint::parse_verifier_key(&old_vkey).expect("vkey");
        assert_eq!(
            rotated
                .checkpoint_signature_key_ids("example.test/log")
                .expect("ids"),
            [
                crate::checkpoint::verifier_key_id("example.test/log", &old_public),
                crate::checkpoint::verifier_key_id(
                    "example.test/log",
                    new.verifying_key().as_bytes()
                ),
            ]
        );
        // and a proof against another checkpoint's size fails without any key
        let mut smaller = unverified.clone();
        smaller.size = 3;
        let error = rotated.verify_inclusion(&smaller).expect_err("size 3");
        assert_eq!(error.kind(), &BundleErrorKind::InclusionFailed, "{error}");
    }

    #[test]
    fn verifier_keys_round_trip_between_text_and_bytes() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let text = verifier_key_text("example.test/log", &key);
        let (name, public) = crate::checkpoint::parse_verifier_key(&text).expect("parses");
        assert_eq!(name, "example.test/log");
        assert_eq!(&public, key.verifying_key().as_bytes());
        assert_eq!(
            crate::checkpoint::verifier_key_text_of(&name, &public).expect("text"),
            text
        );
        let id = format!("{:08x}", crate::checkpoint::verifier_key_id(&name, &public));
        assert_eq!(text.split('+').nth(1), Some(id.as_str()));
        // not a point on the curve, and not a key text
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        off_curve[31] = 0x80;
        let refused = (1u8..=255).find_map(|byte| {
            off_curve[1] = byte;
            crate::checkpoint::verifier_key_text_of(&name, &off_curve).err()
        });
        assert!(refused.is_some(), "some 32 bytes are not an Ed25519 point");
        assert!(crate::checkpoint::parse_verifier_key("example.test/log+00000000+AAAA").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_single_bit_flipped_in_a_proof_hash_fails(
            section in 0usize..2, hash in 0usize..2, bit in 0usize..256,
        ) {
            let (bundle, vkey) = fixture();
            let mut sections = bundle.sections().to_vec();
            sections[section].proof.hashes[hash][bit / 8] ^= 1 << (bit % 8);
            let flipped = Bundle::new(sections).unwrap();
            // Through the text too: the flipped bundle parses back to itself.
            let reparsed = Bundle::parse(&flipped.to_text()).unwrap();
            let error = reparsed.verify(&vkey).expect_err("a flipped hash must fail");
            proptest::prop_assert_eq!(error.kind(), &BundleErrorKind::InclusionFailed);
        }
    }
}
