//! Black-box tests of the offline credential bundle (`bundle`, `verify-bundle`) and of
//! tampering with a ledger's files, through the built `skill-ledger` binary only.
//!
//! Exit codes under test: 0 valid, 1 invalid (with a reason naming what is wrong), 2 usage or
//! I/O error. The helpers are those of `tests/support`.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

mod support;

use support::{json_ok, run, s};

const BODY: &str = "Y000050000001";
const OTHER_BODY: &str = "S000050000002";
const CERT: &str = "Y000050000001205000001";
const OTHER_CERT: &str = "S000050000002205000001";
const NAME: &str = "张三";

/// A ledger with two bodies, each of which issued one 初级工 credential (2020).
struct Ledger {
    _temp: tempfile::TempDir,
    root: PathBuf,
    dir: PathBuf,
}

impl Ledger {
    fn d(&self) -> &str {
        s(&self.dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// `bundle CERT --out FILE`; returns the file's path.
    fn bundle(&self, cert: &str, name: &str) -> PathBuf {
        let out = self.path(name);
        json_ok(&["bundle", "--dir", self.d(), cert, "--out", s(&out)], 0);
        out
    }

    /// The verifier key, written to a file; returns (text, path).
    fn vkey(&self) -> (String, PathBuf) {
        let (code, text, stderr) = run(&["checkpoint", "--dir", self.d(), "--vkey"]);
        assert_eq!(code, 0, "{stderr}");
        let path = self.path("vkey");
        std::fs::write(&path, &text).expect("write vkey");
        (text.trim().to_string(), path)
    }

    fn size(&self) -> u64 {
        json_ok(&["checkpoint", "--dir", self.d()], 0)["size"]
            .as_u64()
            .expect("size")
    }
}

fn register(dir: &str, number: &str, key: &str) {
    json_ok(
        &[
            "body",
            "register",
            "--dir",
            dir,
            "--reg-no",
            number,
            "--name",
            "重庆测试评价机构",
            "--key-file",
            key,
            "--scope",
            "6-18-01-01:技师",
            "--valid-from",
            "2019-06-01",
            "--valid-until",
            "2029-12-31",
        ],
        0,
    );
}

fn issue(dir: &str, key: &str, cert: &str, id_number: &str) {
    json_ok(
        &[
            "issue",
            "--dir",
            dir,
            "--key",
            key,
            "--cert-no",
            cert,
            "--id-number",
            id_number,
            "--name",
            NAME,
            "--occupation",
            "6-18-01-01",
            "--level",
            "初级工",
            "--date",
            "2020-06-01",
            "--attested",
            "本职业工作满1年",
        ],
        0,
    );
}

/// Given: a ledger (entries 0–3, the last the recovery key `init` logs), two bodies registered
/// (4, 5), then one credential each (6, 7).
fn given_ledger() -> Ledger {
    let temp = tempfile::tempdir().expect("temporary directory");
    let root = temp.path().to_path_buf();
    let dir = root.join("D");
    json_ok(&["init", "--dir", s(&dir), "--backdate-days-max", "0"], 0);
    let bodies = [
        (BODY, root.join("K1"), CERT, "50010119900101123X"),
        (
            OTHER_BODY,
            root.join("K2"),
            OTHER_CERT,
            "500101199202021231",
        ),
    ];
    for (number, key, _, _) in &bodies {
        json_ok(&["key", "new", "--name", number, "--out", s(key)], 0);
        register(s(&dir), number, s(key));
    }
    for (_, key, cert, id) in &bodies {
        issue(s(&dir), s(key), cert, id);
    }
    Ledger {
        _temp: temp,
        root,
        dir,
    }
}

/// `verify-bundle FILE --trust KEY --json`, asserting the exit code.
fn verify_bundle(file: &Path, trust: &str, expected: i32) -> Value {
    json_ok(&["verify-bundle", s(file), "--trust", trust], expected)
}

/// Checks an invalid verdict: exit 1, the code, and every fragment in the reason.
fn check_invalid(file: &Path, trust: &str, code: &str, fragments: &[&str]) {
    let value = verify_bundle(file, trust, 1);
    assert_eq!(value["valid"], false, "{value}");
    assert_eq!(value["status"], "invalid", "{value}");
    assert_eq!(value["code"], code, "{value}");
    let reason = value["reason"].as_str().expect("reason");
    for fragment in fragments {
        assert!(reason.contains(fragment), "'{fragment}' not in: {reason}");
    }
}

/// The bundle's lines, changed by `change`, written to `name`.
fn tampered(
    ledger: &Ledger,
    from: &Path,
    name: &str,
    change: impl FnOnce(&mut Vec<String>),
) -> PathBuf {
    let text = std::fs::read_to_string(from).expect("read bundle");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    change(&mut lines);
    let path = ledger.path(name);
    std::fs::write(&path, format!("{}\n", lines.join("\n"))).expect("write");
    path
}

/// Line number (0-based) of the first line after `section LABEL` that starts with `prefix`.
fn line_in_section(lines: &[String], label: &str, prefix: &str) -> usize {
    let start = lines
        .iter()
        .position(|line| line == &format!("section {label}"))
        .unwrap_or_else(|| panic!("no section {label}"));
    start
        + lines[start..]
            .iter()
            .position(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in section {label}"))
}

// ---------------------------------------------------------------------------------------
// bundle → verify-bundle
// ---------------------------------------------------------------------------------------

#[test]
fn a_bundle_verifies_offline_with_the_verifier_key_only() {
    // given
    let ledger = given_ledger();
    let (vkey, vkey_file) = ledger.vkey();

    // when
    let file = ledger.bundle(CERT, "cert.bundle");
    // then: the ledger directory is not needed any more
    let copy = ledger.path("elsewhere.bundle");
    std::fs::copy(&file, &copy).expect("copy");
    std::fs::remove_dir_all(&ledger.dir).expect("remove the ledger");
    for trust in [s(&vkey_file), vkey.as_str()] {
        let value = verify_bundle(&copy, trust, 0);
        assert_eq!(value["valid"], true, "{value}");
        assert_eq!(value["status"], "valid", "{value}");
        assert_eq!(value["certificate_number"], CERT);
        assert_eq!(value["body"], BODY);
        assert_eq!(value["level"], "junior");
        assert_eq!(value["issued"], "2020-06-01");
        assert_eq!(value["ledger"], "skill-ledger/50");
        assert_eq!(value["revocation"], Value::Null);
        assert!(
            value["note"].as_str().unwrap().contains("revocation"),
            "{value}"
        );
        assert_eq!(value["checkpoint"]["size"], 8, "{value}");
        assert!(value["checkpoint"]["time_unix_s"].as_u64().unwrap() > 1_700_000_000);
    }
    // and the human form says the same, with freshness and the caveat
    let (code, stdout, stderr) = run(&["verify-bundle", s(&copy), "--trust", &vkey]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("VALID") && stdout.contains(CERT),
        "{stdout}"
    );
    assert!(stdout.contains("checkpoint: size 8"), "{stdout}");
    assert!(stdout.contains("revocation"), "{stdout}");
}

#[test]
fn bundle_prints_on_stdout_without_out_and_refuses_an_unknown_certificate() {
    let ledger = given_ledger();
    let file = ledger.bundle(CERT, "cert.bundle");
    let (code, stdout, stderr) = run(&["bundle", "--dir", ledger.d(), CERT]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, std::fs::read_to_string(&file).unwrap());
    assert!(
        // ledger, the recovery key `init` logs (an authority change), body, credential
        stdout.starts_with("skill-ledger/bundle/v2\nsections 4\nsection ledger\n"),
        "{stdout}"
    );

    let value = json_ok(
        &["bundle", "--dir", ledger.d(), "Y000050000001205999999"],
        1,
    );
    assert_eq!(value["status"], "unknown", "{value}");
}

#[test]
fn usage_errors_of_verify_bundle_exit_2() {
    let ledger = given_ledger();
    let file = ledger.bundle(CERT, "cert.bundle");
    let (vkey, _) = ledger.vkey();
    let value = verify_bundle(&file, "not-a-key", 2);
    assert!(
        value["error"].as_str().unwrap().contains("--trust"),
        "{value}"
    );
    let value = verify_bundle(&ledger.path("missing.bundle"), &vkey, 2);
    assert!(
        value["error"].as_str().unwrap().contains("missing.bundle"),
        "{value}"
    );
    let (code, _, _) = run(&["verify-bundle", s(&file)]);
    assert_eq!(code, 2, "--trust is required");
}

// ---------------------------------------------------------------------------------------
// tampering with a bundle
// ---------------------------------------------------------------------------------------

#[test]
fn each_kind_of_tampering_is_invalid_with_a_reason_naming_it() {
    // given
    let ledger = given_ledger();
    let (vkey, _) = ledger.vkey();
    let file = ledger.bundle(CERT, "cert.bundle");
    verify_bundle(&file, &vkey, 0);
    // sections: 1 ledger, 2 authority-change (the recovery key), 3 body, 4 credential
    let b64 = base64::engine::general_purpose::STANDARD;

    // a byte of the credential entry flipped (re-encoded, so the text still parses)
    let flipped = tampered(&ledger, &file, "entry.bundle", |lines| {
        let k = line_in_section(lines, "credential", "entry ");
        let mut entry = b64.decode(&lines[k]["entry ".len()..]).unwrap();
        let middle = entry.len() / 2;
        entry[middle] ^= 0x01;
        lines[k] = format!("entry {}", b64.encode(entry));
    });
    check_invalid(
        &flipped,
        &vkey,
        "inclusion-failed",
        &["section 4 `credential`", "entry"],
    );

    // a proof hash of the body section changed
    let changed = tampered(&ledger, &file, "hash.bundle", |lines| {
        let k = line_in_section(lines, "body", "index ") + 1;
        let mut hash = b64.decode(&lines[k]).unwrap();
        hash[0] ^= 0x80;
        lines[k] = b64.encode(hash);
    });
    check_invalid(&changed, &vkey, "inclusion-failed", &["section 3 `body`"]);

    // the checkpoint's size changed in every section: its signature no longer verifies
    let size = ledger.size().to_string();
    let other_size = (ledger.size() + 1).to_string();
    let resized = tampered(&ledger, &file, "size.bundle", |lines| {
        for line in lines.iter_mut().filter(|line| **line == size) {
            *line = other_size.clone();
        }
    });
    check_invalid(&resized, &vkey, "bad-checkpoint", &["signature"]);

    // the checkpoint changed in one section only
    let one = tampered(&ledger, &file, "one.bundle", |lines| {
        let k = line_in_section(lines, "credential", "time ");
        lines[k] = "time 1".to_string();
    });
    check_invalid(&one, &vkey, "checkpoints-differ", &["section 4"]);

    // the checkpoint replaced by one signed by another key for the same origin
    let other = tempfile::tempdir().unwrap();
    let other_dir = other.path().join("D");
    json_ok(
        &["init", "--dir", s(&other_dir), "--backdate-days-max", "0"],
        0,
    );
    let other_note = json_ok(&["checkpoint", "--dir", s(&other_dir)], 0)["note"]
        .as_str()
        .unwrap()
        .to_string();
    let own_note = json_ok(&["checkpoint", "--dir", ledger.d()], 0)["note"]
        .as_str()
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(&file).unwrap();
    let forged = ledger.path("forged.bundle");
    std::fs::write(&forged, text.replace(&own_note, &other_note)).unwrap();
    check_invalid(&forged, &vkey, "bad-checkpoint", &[]);

    // the right bundle, the wrong trusted key (another ledger's, under the same name): a key
    // this ledger never had
    let (code, other_vkey, _) = run(&["checkpoint", "--dir", s(&other_dir), "--vkey"]);
    assert_eq!(code, 0);
    check_invalid(
        &file,
        other_vkey.trim(),
        "untrusted-key",
        &["trusted key", "authority key"],
    );

    // the body section taken from another body's bundle (same checkpoint): not the issuer
    let other_bundle = ledger.bundle(OTHER_CERT, "other.bundle");
    let other_lines: Vec<String> = std::fs::read_to_string(&other_bundle)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let swapped = tampered(&ledger, &file, "swapped.bundle", |lines| {
        let (from, to) = (
            line_in_section(lines, "body", "section"),
            line_in_section(lines, "credential", "section"),
        );
        let (other_from, other_to) = (
            line_in_section(&other_lines, "body", "section"),
            line_in_section(&other_lines, "credential", "section"),
        );
        lines.splice(from..to, other_lines[other_from..other_to].iter().cloned());
    });
    check_invalid(
        &swapped,
        &vkey,
        "certificate-body-mismatch",
        &[OTHER_BODY, "section 4"],
    );

    // the ledger section removed: the authority key is not established
    let dropped = tampered(&ledger, &file, "dropped.bundle", |lines| {
        let to = line_in_section(lines, "body", "section");
        lines.drain(2..to);
        lines[1] = "sections 2".to_string();
    });
    check_invalid(&dropped, &vkey, "bundle-structure", &["section"]);

    // a truncated file names the line where it ends
    let text = std::fs::read_to_string(&file).unwrap();
    let truncated = ledger.path("truncated.bundle");
    let cut: String = text
        .lines()
        .take(30)
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&truncated, cut).unwrap();
    check_invalid(&truncated, &vkey, "malformed", &["line 31"]);
}

// ---------------------------------------------------------------------------------------
// the authority key's rotation: bundles follow it
// ---------------------------------------------------------------------------------------

fn section_labels(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .expect("read bundle")
        .lines()
        .filter_map(|line| line.strip_prefix("section "))
        .map(str::to_string)
        .collect()
}

#[test]
fn after_a_planned_rotation_a_credentials_bundle_verifies_with_the_old_and_the_new_key() {
    // given: a ledger whose verifier key a verifier learned before the rotation, and a bundle
    // made then
    let ledger = given_ledger();
    let (old_vkey, _) = ledger.vkey();
    let before = ledger.bundle(CERT, "before.bundle");

    // when: the authority rotates its key (planned: signed by the old key), and the holder
    // downloads the bundle again
    json_ok(&["authority", "rotate-key", "--dir", ledger.d()], 0);
    let (new_vkey, _) = ledger.vkey();
    assert_ne!(old_vkey, new_vkey, "the ledger's key changed");
    let after = ledger.bundle(CERT, "after.bundle");

    // then: the bundle carries the recovery key's entry and the rotation, in log order, the
    // rotation after the credential
    assert_eq!(
        section_labels(&after),
        [
            "ledger",
            "authority-change",
            "body",
            "credential",
            "authority-change"
        ]
    );
    // and a verifier of the old key and one of the new key both verify it
    for trust in [&old_vkey, &new_vkey] {
        let value = verify_bundle(&after, trust, 0);
        assert_eq!(value["valid"], true, "{value}");
        assert_eq!(value["certificate_number"], CERT, "{value}");
    }
    // and the bundle made before the rotation still verifies with the old key, but cannot
    // show the new one
    verify_bundle(&before, &old_vkey, 0);
    check_invalid(&before, &new_vkey, "untrusted-key", &["authority key"]);
    // and a key the ledger never had is refused
    let other = tempfile::tempdir().unwrap();
    let other_dir = other.path().join("D");
    json_ok(&["init", "--dir", s(&other_dir)], 0);
    let (code, other_vkey, _) = run(&["checkpoint", "--dir", s(&other_dir), "--vkey"]);
    assert_eq!(code, 0);
    check_invalid(&after, other_vkey.trim(), "untrusted-key", &["trusted key"]);

    // and the bundle with the rotation left out fails on its checkpoint, though the note
    // still carries the old key's signature
    let without = tampered(&ledger, &after, "without.bundle", |lines| {
        let last = lines
            .iter()
            .rposition(|line| line == "section authority-change")
            .expect("the rotation's section");
        let notes = lines
            .iter()
            .position(|line| line.starts_with("notes "))
            .expect("the notes");
        lines.drain(last..notes);
        lines[1] = "sections 4".to_string();
    });
    check_invalid(
        &without,
        &old_vkey,
        "bad-checkpoint",
        &["an authority change is missing"],
    );
}

// ---------------------------------------------------------------------------------------
// revocation: proven offline as of the checkpoint; the holder cannot strip it
// ---------------------------------------------------------------------------------------

/// `revoke CERT` (作弊, from 2025-01-01) with the ledger's authority key; its JSON receipt.
fn revoke(ledger: &Ledger) -> Value {
    json_ok(
        &[
            "revoke",
            "--dir",
            ledger.d(),
            "--cert-no",
            CERT,
            "--reason",
            "作弊",
            "--date",
            "2025-01-01",
        ],
        0,
    )
}

#[test]
fn a_bundle_made_after_the_revocation_proves_it_offline() {
    // given: a bundle made before the revocation
    let ledger = given_ledger();
    let (vkey, _) = ledger.vkey();
    let before = ledger.bundle(CERT, "before.bundle");
    let size_before = ledger.size();

    // when: the credential is revoked, and its bundle downloaded again
    let revoked = revoke(&ledger);
    let revocation_index = revoked["index"].as_u64().expect("index");
    let after = ledger.bundle(CERT, "after.bundle");

    // then: the new bundle proves the revocation offline (exit 1), naming its entry
    let value = verify_bundle(&after, &vkey, 1);
    assert_eq!(value["status"], "revoked", "{value}");
    assert_eq!(value["valid"], false, "{value}");
    assert_eq!(
        value["revocation"]["entry_index"], revocation_index,
        "{value}"
    );
    assert_eq!(value["revocation"]["effective"], "2025-01-01", "{value}");
    assert_eq!(value["revocation"]["reason"], "作弊", "{value}");
    // `revoke --dir` signs as the authority
    assert_eq!(value["revocation"]["by"], "authority", "{value}");
    assert!(section_labels(&after).contains(&"revocation".to_string()));
    let (code, stdout, _) = run(&["verify-bundle", s(&after), "--trust", &vkey]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(&format!("REVOKED (已撤销) at entry {revocation_index}")),
        "{stdout}"
    );
    // and the bundle made before it says valid as of its own, earlier checkpoint
    let value = verify_bundle(&before, &vkey, 0);
    assert_eq!(value["status"], "valid", "{value}");
    assert_eq!(value["checkpoint"]["size"], size_before, "{value}");
    let (code, stdout, _) = run(&["verify-bundle", s(&before), "--trust", &vkey]);
    assert_eq!(code, 0);
    assert!(stdout.contains("as of this checkpoint"), "{stdout}");
    // and the online verification says revoked
    let value = json_ok(
        &[
            "verify",
            "--dir",
            ledger.d(),
            "--cert-no",
            CERT,
            "--name",
            NAME,
        ],
        1,
    );
    assert_eq!(value["status"], "revoked", "{value}");
}

/// The lines of `text` without the section labelled `label` (its `section` line up to the
/// next `section` or `notes` line), with `sections N` counted down.
fn without_section(lines: &mut Vec<String>, label: &str) {
    let start = lines
        .iter()
        .position(|line| line == &format!("section {label}"))
        .unwrap_or_else(|| panic!("no section {label}"));
    let end = start
        + 1
        + lines[start + 1..]
            .iter()
            .position(|line| line.starts_with("section ") || line.starts_with("notes "))
            .expect("an end");
    lines.drain(start..end);
    let count = lines
        .iter()
        .position(|line| line.starts_with("sections "))
        .expect("sections line");
    let n: usize = lines[count]["sections ".len()..].parse().expect("count");
    lines[count] = format!("sections {}", n - 1);
}

#[test]
fn a_holder_cannot_strip_the_revocation_from_their_bundle() {
    // given: the bundle of a revoked credential
    let ledger = given_ledger();
    let (vkey, _) = ledger.vkey();
    revoke(&ledger);
    let file = ledger.bundle(CERT, "revoked.bundle");

    // when / then: the revocation section dropped: the status note still names it
    let stripped = tampered(&ledger, &file, "stripped.bundle", |lines| {
        without_section(lines, "revocation")
    });
    check_invalid(
        &stripped,
        &vkey,
        "status-mismatch",
        &["revoked at entry", "no `revocation`"],
    );

    // the status note dropped too
    let no_status = tampered(&ledger, &file, "no-status.bundle", |lines| {
        without_section(lines, "revocation");
        let notes = lines
            .iter()
            .position(|line| line == "notes 1")
            .expect("notes");
        lines.truncate(notes);
        lines.push("notes 0".to_string());
    });
    check_invalid(&no_status, &vkey, "status-missing", &["status", "revoked"]);

    // the note's status line rewritten to valid: its signature fails
    let rewritten = tampered(&ledger, &file, "rewritten.bundle", |lines| {
        without_section(lines, "revocation");
        let k = lines
            .iter()
            .position(|line| line.starts_with("status revoked "))
            .expect("status line");
        lines[k] = "status valid".to_string();
    });
    check_invalid(&rewritten, &vkey, "bad-status-note", &["status"]);

    // a bundle of the old format, which carried no status
    let old = tampered(&ledger, &file, "v1.bundle", |lines| {
        lines[0] = "skill-ledger/bundle/v1".to_string();
    });
    check_invalid(&old, &vkey, "malformed", &["download", "again"]);
}

#[test]
fn a_bundle_made_with_the_holders_name_checks_a_name_offline() {
    // given
    let ledger = given_ledger();
    let (vkey, _) = ledger.vkey();
    let bound = ledger.path("bound.bundle");
    json_ok(
        &[
            "bundle",
            "--dir",
            ledger.d(),
            CERT,
            "--holder-name",
            NAME,
            "--out",
            s(&bound),
        ],
        0,
    );
    let unbound = ledger.bundle(CERT, "unbound.bundle");

    // when / then: the holder's name matches, another does not
    let value = json_ok(
        &[
            "verify-bundle",
            s(&bound),
            "--trust",
            &vkey,
            "--name",
            " 张 三 ",
        ],
        0,
    );
    assert_eq!(value["holder"]["matched"], true, "{value}");
    assert_eq!(value["holder_bound"], true, "{value}");
    let value = json_ok(
        &[
            "verify-bundle",
            s(&bound),
            "--trust",
            &vkey,
            "--name",
            "李四",
        ],
        1,
    );
    assert_eq!(value["code"], "name-mismatch", "{value}");
    // and a bundle by number only cannot check a name
    let value = json_ok(
        &[
            "verify-bundle",
            s(&unbound),
            "--trust",
            &vkey,
            "--name",
            NAME,
        ],
        1,
    );
    assert_eq!(value["code"], "holder-not-bound", "{value}");
    // and a wrong name gets no holder-bound bundle at all
    let refused = ledger.path("refused.bundle");
    let value = json_ok(
        &[
            "bundle",
            "--dir",
            ledger.d(),
            CERT,
            "--holder-name",
            "李四",
            "--out",
            s(&refused),
        ],
        1,
    );
    assert_eq!(value["status"], "name_mismatch", "{value}");
    assert!(!refused.exists());
}

// ---------------------------------------------------------------------------------------
// tampering with the ledger's files: detected at open / audit, named, nothing overwritten
// ---------------------------------------------------------------------------------------

/// (start, end) byte ranges of the frames of a segment (32-byte header, then u32 LE length,
/// u32 crc, payload).
fn frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut frames = Vec::new();
    let mut offset = 32;
    while offset + 8 <= bytes.len() {
        let length = u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap()) as usize;
        frames.push((offset, offset + 8 + length));
        offset += 8 + length;
    }
    frames
}

fn segment(ledger: &Ledger) -> PathBuf {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(ledger.dir.join("log"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "seg"))
        .collect();
    segments.sort();
    assert_eq!(segments.len(), 1);
    segments.remove(0)
}

/// Every file under the log and tree directories, with its bytes.
fn snapshot(ledger: &Ledger) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for sub in ["log", "tree"] {
        for entry in std::fs::read_dir(ledger.dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files.sort();
    files
}

/// `audit` and a query both refuse (exit 2) with every fragment named, and change nothing.
fn check_refused(ledger: &Ledger, fragments: &[&str]) {
    let before = snapshot(ledger);
    for args in [
        vec!["audit", "--dir", ledger.d()],
        vec![
            "verify",
            "--dir",
            ledger.d(),
            "--cert-no",
            CERT,
            "--name",
            NAME,
        ],
    ] {
        let value = json_ok(&args, 2);
        let error = value["error"].as_str().expect("error");
        for fragment in fragments {
            assert!(error.contains(fragment), "'{fragment}' not in: {error}");
        }
        assert!(
            snapshot(ledger) == before,
            "a refused open changed the ledger's files"
        );
    }
}

#[test]
fn an_entry_dropped_from_the_middle_of_the_log_is_refused() {
    let ledger = given_ledger();
    let size = ledger.size();
    let path = segment(&ledger);
    let bytes = std::fs::read(&path).unwrap();
    let (start, end) = frames(&bytes)[3];
    let mut dropped = bytes[..start].to_vec();
    dropped.extend_from_slice(&bytes[end..]);
    std::fs::write(&path, &dropped).unwrap();

    check_refused(
        &ledger,
        &[&format!("holds {} entries", size - 1), &size.to_string()],
    );
}

#[test]
fn two_entries_swapped_in_the_log_are_refused_naming_the_first() {
    let ledger = given_ledger();
    let path = segment(&ledger);
    let bytes = std::fs::read(&path).unwrap();
    let all = frames(&bytes);
    let ((a0, a1), (b0, b1)) = (all[3], all[4]);
    let mut swapped = bytes[..a0].to_vec();
    swapped.extend_from_slice(&bytes[b0..b1]);
    swapped.extend_from_slice(&bytes[a0..a1]);
    swapped.extend_from_slice(&bytes[b1..]);
    assert_eq!(swapped.len(), bytes.len());
    std::fs::write(&path, &swapped).unwrap();

    check_refused(&ledger, &["entry 3", "checkpoint"]);
}

#[test]
fn a_checkpoint_signed_by_another_key_is_refused() {
    let ledger = given_ledger();
    let other = tempfile::tempdir().unwrap();
    let other_dir = other.path().join("D");
    json_ok(
        &["init", "--dir", s(&other_dir), "--backdate-days-max", "0"],
        0,
    );
    std::fs::copy(
        other_dir.join("tree/checkpoint"),
        ledger.dir.join("tree/checkpoint"),
    )
    .unwrap();

    check_refused(&ledger, &["checkpoint", "signature"]);
}

#[test]
fn a_suspension_dated_back_over_the_issue_date_shows_offline_and_cannot_be_stripped() {
    // given: the body suspended from before the credential's issue date, logged after it
    let ledger = given_ledger();
    let (vkey, _) = ledger.vkey();
    let suspended = support::suspend_body(&ledger.dir, BODY, "2020-05-01");
    let suspension = suspended["index"].as_u64().expect("the suspension's entry");

    // when
    let file = ledger.bundle(CERT, "suspended.bundle");

    // then: the bundle carries the suspension, and the offline check warns (not revoked)
    assert!(section_labels(&file).contains(&"issuer-change".to_string()));
    let value = verify_bundle(&file, &vkey, 0);
    assert_eq!(value["status"], "valid", "{value}");
    let warning = &value["issuer_status_warning"];
    assert_eq!(warning["status"], "suspended", "{value}");
    assert_eq!(warning["effective"], "2020-05-01", "{value}");
    assert_eq!(warning["entry_index"], suspension, "{value}");
    let (code, stdout, _) = run(&["verify-bundle", s(&file), "--trust", &vkey]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("WARNING: the issuing body is suspended"),
        "{stdout}"
    );
    // and a holder who drops the suspension gets an invalid bundle: the note lists it
    let stripped = tampered(&ledger, &file, "no-suspension.bundle", |lines| {
        without_section(lines, "issuer-change")
    });
    check_invalid(&stripped, &vkey, "status-mismatch", &["issuer-change"]);
    // and another body's bundle carries no issuer change and no warning
    let other = ledger.bundle(OTHER_CERT, "other.bundle");
    let value = verify_bundle(&other, &vkey, 0);
    assert_eq!(value["issuer_status_warning"], Value::Null, "{value}");
}
