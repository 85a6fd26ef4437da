//! 川渝 federation over HTTP, in given/when/then form.
//!
//! Through the built binary: two ledgers (Chongqing `skill-ledger/50`, Sichuan
//! `skill-ledger/51`, one shared pseudonym key) served on loopback as each other's partners
//! mirror each other, cosign each other's checkpoints and answer for each other's
//! certificates; a forked copy of Sichuan served in its place raises the alarm. 互认:
//! Chongqing recognises Sichuan credentials against its mirror (CLI and `POST /v1/events`,
//! every refusal typed), and withdraws a recognition by itself when Sichuan revokes the
//! credential, once, across a restart. Joint contests: a result recorded on Sichuan is
//! accepted on Chongqing only as the mirror holds it.
//!
//! In-process: the statuses of `POST /add-checkpoint` (C2SP tlog-witness).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use skill_ledger_sync::witness::verify_cosignatures;
use skill_ledger_sync::CosignatureVerifier;

mod support;

use support::{get, post_json, Reply};

/// One request with a content type (`add-checkpoint` takes `text/plain`).
fn request(address: &str, method: &str, path: &str, content_type: &str, body: &[u8]) -> Reply {
    support::request(
        address,
        method,
        path,
        &[("Content-Type", content_type)],
        body,
    )
}

/// Polls `probe` until it returns `Some`, for at most a minute.
fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

// ---------------------------------------------------------------------------------------
// Ledgers made and served by the binary
// ---------------------------------------------------------------------------------------

const BIN: &str = env!("CARGO_BIN_EXE_skill-ledger");
const SICHUAN_BODY: &str = "Y000051000001";
const SICHUAN_CERT: &str = "Y000051000001205000001";
/// 李四's identity number (GB 11643, a Chengdu number).
const LI_SI: &str = "510104199203041235";
const CHONGQING_BODY: &str = "Y000050000001";
const CHONGQING_CERT: &str = "Y000050000001215000001";

fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env_remove("SKILL_LEDGER_DIR")
        .env_remove("SKILL_LEDGER_LOG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .output()
        .expect("the binary runs");
    (
        output.status.code().expect("exits normally"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn cli(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let (code, stdout, stderr) = run(&all);
    assert_eq!(code, 0, "`{}` failed: {stdout}{stderr}", all.join(" "));
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// A body registered on the ledger in `dir` with a new key (kept in `keys`).
fn register_body(dir: &Path, keys: &Path, reg_no: &str, name: &str) -> PathBuf {
    let key = keys.join(format!("{reg_no}-{name}.key"));
    cli(&["key", "new", "--name", reg_no, "--out", s(&key)]);
    cli(&[
        "body",
        "register",
        "--dir",
        s(dir),
        "--reg-no",
        reg_no,
        "--name",
        name,
        "--key-file",
        s(&key),
        "--scope",
        "6-18-01-01:高级技师",
        "--valid-from",
        "2020-01-01",
        "--valid-until",
        "2029-12-31",
    ]);
    key
}

fn issue(dir: &Path, key: &Path, cert_no: &str, id_number: &str, name: &str, date: &str) {
    cli(&[
        "issue",
        "--dir",
        s(dir),
        "--key",
        s(key),
        "--cert-no",
        cert_no,
        "--id-number",
        id_number,
        "--name",
        name,
        "--occupation",
        "6-18-01-01",
        "--level",
        "初级工",
        "--date",
        date,
        "--attested",
        "本职业工作满1年",
    ]);
}

/// The binary serving a ledger; killed when dropped.
struct Served {
    child: Child,
    address: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, listen: &str) -> Served {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--dir",
            s(dir),
            "--listen",
            listen,
            "--sync-interval-s",
            "1",
            "--sync-backoff-max-s",
            "2",
            "--json",
        ])
        .env_remove("SKILL_LEDGER_DIR")
        .env_remove("SKILL_LEDGER_LOG")
        .env_remove("SKILL_LEDGER_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("serve prints its address");
    let printed: Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|error| panic!("serve printed {line:?}, not JSON: {error}"));
    let address = printed["listening"].as_str().expect("address").to_string();
    Served { child, address }
}

/// A free loopback port (the partners' URLs must be written before they listen).
fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.local_addr().expect("address").to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

fn checkpoint_size(note: &str) -> u64 {
    note.lines()
        .nth(1)
        .and_then(|size| size.parse().ok())
        .expect("a checkpoint size line")
}

#[test]
fn partners_served_on_loopback_mirror_cosign_answer_for_each_other_and_detect_a_fork() {
    // Given two ledgers sharing one pseudonym key, each with a body and a credential.
    let temp = tempfile::tempdir().expect("temporary directory");
    let root = temp.path();
    let keys = root.join("keys");
    std::fs::create_dir_all(&keys).expect("keys dir");
    let pseudonym_key = root.join("pseudonym.hex");
    std::fs::write(&pseudonym_key, format!("{}\n", "5a".repeat(32))).expect("key file");
    let (chongqing, sichuan, fork) = (root.join("50"), root.join("51"), root.join("51-fork"));
    for (dir, province) in [(&chongqing, "50"), (&sichuan, "51")] {
        cli(&[
            "init",
            "--dir",
            s(dir),
            "--province",
            province,
            "--pseudonym-key",
            s(&pseudonym_key),
            "--backdate-days-max",
            "0",
        ]);
    }
    let chongqing_key = register_body(
        &chongqing,
        &keys,
        CHONGQING_BODY,
        "重庆测试装备制造有限公司",
    );
    issue(
        &chongqing,
        &chongqing_key,
        CHONGQING_CERT,
        "50010119900101123X",
        "张三",
        "2021-06-01",
    );
    let sichuan_key = register_body(&sichuan, &keys, SICHUAN_BODY, "四川测试职业技能评价中心");
    // A copy of Sichuan made here diverges below: the same origin and key, another entry.
    copy_dir(&sichuan, &fork);
    issue(
        &sichuan,
        &sichuan_key,
        SICHUAN_CERT,
        "510104199203041235",
        "李四",
        "2020-06-01",
    );
    register_body(&fork, &keys, "Y000051000002", "另一个评价机构");

    // And each configured as the other's partner, with the address it will listen on.
    let (address_50, address_51) = (free_address(), free_address());
    let vkey = |dir: &Path| {
        cli(&["checkpoint", "--dir", s(dir), "--vkey"])["verifier_key"]
            .as_str()
            .expect("vkey")
            .to_string()
    };
    let witness_key = |dir: &Path| {
        cli(&["sync", "witness-key", "--dir", s(dir)])["witness_vkey"]
            .as_str()
            .expect("witness vkey")
            .to_string()
    };
    let (vkey_50, vkey_51) = (vkey(&chongqing), vkey(&sichuan));
    let (witness_50, witness_51) = (witness_key(&chongqing), witness_key(&sichuan));
    for (dir, origin, partner_vkey, partner_witness, address) in [
        (
            &chongqing,
            "skill-ledger/51",
            &vkey_51,
            &witness_51,
            &address_51,
        ),
        (
            &sichuan,
            "skill-ledger/50",
            &vkey_50,
            &witness_50,
            &address_50,
        ),
    ] {
        cli(&[
            "sync",
            "add-partner",
            "--dir",
            s(dir),
            "--origin",
            origin,
            "--vkey",
            partner_vkey,
            "--witness-vkey",
            partner_witness,
            "--url",
            &format!("http://{address}"),
        ]);
    }
    let size_51 = checkpoint_size(&run(&["checkpoint", "--dir", s(&sichuan)]).1);

    // When both are served, syncing every second.
    let served_50 = serve(&chongqing, &address_50);
    let served_51 = serve(&sichuan, &address_51);
    assert_eq!(served_50.address, address_50);

    // Then Chongqing's health shows its partner's mirror caught up, with no alarm.
    let health = wait_for("Chongqing to mirror Sichuan", || {
        let health = get(&address_50, "/healthz").json();
        (health["partners"][0]["mirror"]["entries_held"] == size_51).then_some(health)
    });
    let partner = &health["partners"][0];
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(partner["origin"], "skill-ledger/51", "{health}");
    assert_eq!(partner["mirror"]["caught_up"], true, "{health}");
    assert!(partner["alarm"].is_null(), "{health}");
    assert!(partner["mirror"]["last_pull_unix_s"].as_u64().is_some());
    assert!(get(&address_50, "/metrics").text().contains(&format!(
        "skill_ledger_partner_mirror_size{{partner=\"skill-ledger/51\"}} {size_51}"
    )));

    // And an employer verifies a Sichuan certificate on the Chongqing node.
    let answer = post_json(
        &address_50,
        "/v1/verify",
        &json!({"certificate_number": SICHUAN_CERT, "name": "李四", "id_number": "510104199203041235"}),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = answer.json();
    assert_eq!(answer["matched"], true, "{answer}");
    assert_eq!(answer["status"], "valid", "{answer}");
    assert_eq!(answer["ledger"], "skill-ledger/51", "{answer}");
    assert_eq!(
        answer["credential"]["body_name"],
        "四川测试职业技能评价中心"
    );
    assert_eq!(answer["checked_against"]["origin"], "skill-ledger/51");
    assert_eq!(answer["mirror"]["checkpoint_size"], size_51, "{answer}");
    assert_eq!(answer["mirror"]["alarm"], false);
    let wrong = post_json(
        &address_50,
        "/v1/verify",
        &json!({"certificate_number": SICHUAN_CERT, "name": "王五"}),
    )
    .json();
    assert_eq!(
        (&wrong["status"], &wrong["ledger"]),
        (&json!("mismatch"), &json!("skill-ledger/51")),
        "{wrong}"
    );
    // Both ways: Sichuan answers for the Chongqing certificate, and its own as before.
    let answer = wait_for("Sichuan to answer for Chongqing", || {
        let answer = post_json(
            &address_51,
            "/v1/verify",
            &json!({"certificate_number": CHONGQING_CERT, "name": "张三"}),
        )
        .json();
        (answer["status"] == "valid").then_some(answer)
    });
    assert_eq!(answer["ledger"], "skill-ledger/50", "{answer}");
    let own = post_json(
        &address_51,
        "/v1/verify",
        &json!({"certificate_number": SICHUAN_CERT, "name": "李四"}),
    )
    .json();
    assert_eq!(
        (&own["status"], &own["ledger"]),
        (&json!("valid"), &json!("skill-ledger/51"))
    );
    assert!(own["mirror"].is_null(), "{own}");
    let credential = get(&address_50, &format!("/v1/credentials/{SICHUAN_CERT}")).json();
    assert_eq!(credential["ledger"], "skill-ledger/51", "{credential}");
    assert_eq!(credential["status"], "valid", "{credential}");
    get(&address_50, "/v1/credentials/Y000051000001205000099")
        .json()
        .get("certificate_status")
        .expect("an unknown partner certificate is a 404 problem");

    // And each node's /checkpoint carries the other's witness cosignature.
    for (address, own_vkey, partner_witness) in [
        (&address_50, &vkey_50, &witness_51),
        (&address_51, &vkey_51, &witness_50),
    ] {
        let note = wait_for("a cosigned checkpoint", || {
            let note = get(address, "/checkpoint").text();
            note.contains("/witness ").then_some(note)
        });
        skill_ledger_log::parse_and_verify_checkpoint(&note, own_vkey)
            .expect("the ledger's own signature still verifies");
        let verifier = CosignatureVerifier::from_vkey(partner_witness).expect("witness vkey");
        let times = verify_cosignatures(&note, &verifier).expect("the cosignature verifies");
        assert_eq!(times.len(), 1, "{note}");
    }

    // And the offline bundle carries both signatures and still verifies with the home key.
    let bundle = get(
        &address_50,
        &format!("/v1/credentials/{CHONGQING_CERT}/bundle"),
    );
    assert_eq!(bundle.status, 200, "{}", bundle.text());
    assert!(bundle.text().contains("\u{2014} skill-ledger/51/witness "));
    let bundle_file = root.join("cert.bundle");
    std::fs::write(&bundle_file, &bundle.body).expect("write the bundle");
    let (code, stdout, stderr) = run(&["verify-bundle", s(&bundle_file), "--trust", &vkey_50]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // When the partner is replaced by a fork of its log (same origin and key, same size,
    // another root).
    drop(served_51);
    let _fork = serve(&fork, &address_51);

    // Then Chongqing's health raises the alarm (503) naming the partner.
    let health = wait_for("the fork alarm", || {
        let reply = get(&address_50, "/healthz");
        (reply.status == 503).then(|| reply.json())
    });
    assert_eq!(health["status"], "alarm", "{health}");
    assert_eq!(health["partners"][0]["alarm"]["kind"], "fork", "{health}");
    assert!(
        health["alarm"]
            .as_str()
            .is_some_and(|alarm| alarm.contains("skill-ledger/51")),
        "{health}"
    );
    assert!(get(&address_50, "/metrics")
        .text()
        .contains("skill_ledger_partner_alarm{partner=\"skill-ledger/51\"} 1"));
    // And the verification answer says the mirror is under an alarm.
    let answer = post_json(
        &address_50,
        "/v1/verify",
        &json!({"certificate_number": SICHUAN_CERT, "name": "李四"}),
    )
    .json();
    assert_eq!(answer["mirror"]["alarm"], true, "{answer}");

    // And `sync evidence` prints both signed checkpoints, each verifying with the key.
    let (code, stdout, stderr) = run(&["sync", "evidence", "--dir", s(&chongqing)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ALARM"), "{stdout}");
    assert!(
        stdout.contains("verified with the partner's key alone: "),
        "{stdout}"
    );
    let (code, json_out, stderr) = run(&["sync", "evidence", "--dir", s(&chongqing), "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let records: Value = serde_json::from_str(json_out.trim()).expect("one JSON object");
    assert_eq!(
        records["records"][0]["fork_verified"]["ok"], true,
        "{records}"
    );
    let notes: Vec<&str> = stdout
        .split("--- ")
        .filter(|part| part.starts_with("held.checkpoint") || part.starts_with("seen.checkpoint"))
        .map(|part| part.split_once('\n').map_or("", |(_, note)| note))
        .collect();
    assert_eq!(notes.len(), 2, "{stdout}");
    let roots: Vec<String> = notes
        .iter()
        .map(|note| {
            let note = format!("{}\n", note.trim_end());
            skill_ledger_log::parse_and_verify_checkpoint(&note, &vkey_51)
                .expect("each checkpoint is signed by the partner's key");
            note.lines().nth(2).expect("root line").to_string()
        })
        .collect();
    assert_ne!(roots[0], roots[1], "{stdout}");
    drop(served_50);
}

/// Two ledgers sharing one pseudonym key (`5a` × 32) at `root/50` and `root/51`, each the
/// other's partner at a free loopback address; returns (Chongqing, Sichuan, their addresses).
fn given_two_partners(root: &Path) -> (PathBuf, PathBuf, String, String) {
    let pseudonym_key = root.join("pseudonym.hex");
    std::fs::write(&pseudonym_key, format!("{}\n", "5a".repeat(32))).expect("key file");
    let (chongqing, sichuan) = (root.join("50"), root.join("51"));
    for (dir, province) in [(&chongqing, "50"), (&sichuan, "51")] {
        cli(&[
            "init",
            "--dir",
            s(dir),
            "--province",
            province,
            "--pseudonym-key",
            s(&pseudonym_key),
            "--backdate-days-max",
            "0",
        ]);
    }
    let (address_50, address_51) = (free_address(), free_address());
    let vkey = |dir: &Path| {
        cli(&["checkpoint", "--dir", s(dir), "--vkey"])["verifier_key"]
            .as_str()
            .expect("vkey")
            .to_string()
    };
    let (vkey_50, vkey_51) = (vkey(&chongqing), vkey(&sichuan));
    for (dir, origin, partner_vkey, address) in [
        (&chongqing, "skill-ledger/51", &vkey_51, &address_51),
        (&sichuan, "skill-ledger/50", &vkey_50, &address_50),
    ] {
        cli(&[
            "sync",
            "add-partner",
            "--dir",
            s(dir),
            "--origin",
            origin,
            "--vkey",
            partner_vkey,
            "--url",
            &format!("http://{address}"),
        ]);
    }
    (chongqing, sichuan, address_50, address_51)
}

/// [`given_two_partners`], and a body registered on Sichuan's ledger (its key file last).
fn given_two_partners_and_a_sichuan_body(
    root: &Path,
) -> (PathBuf, PathBuf, String, String, PathBuf) {
    let keys = root.join("keys");
    std::fs::create_dir_all(&keys).expect("keys dir");
    let (chongqing, sichuan, address_50, address_51) = given_two_partners(root);
    let sichuan_key = register_body(&sichuan, &keys, SICHUAN_BODY, "四川测试职业技能评价中心");
    (chongqing, sichuan, address_50, address_51, sichuan_key)
}

fn subject_of(id_number: &str) -> String {
    skill_ledger_domain::PseudonymKey::from_bytes([0x5a; 32])
        .subject(
            skill_ledger_domain::IdDocumentType::ResidentIdCard,
            id_number,
        )
        .to_hex()
}

/// A recognition signed by the authority key of the ledger in `dir`, as `POST /v1/events`
/// takes it.
fn recognition_entry(dir: &Path, recognised: skill_ledger_domain::RecognitionRecorded) -> Value {
    authority_entry(
        dir,
        skill_ledger_domain::EventKind::RecognitionRecorded(recognised),
    )
}

/// An event signed by the authority key of the ledger in `dir` (`…/50` or `…/51`).
fn authority_entry(dir: &Path, kind: skill_ledger_domain::EventKind) -> Value {
    let province = dir
        .file_name()
        .and_then(|name| name.to_str())
        .expect("a ledger directory named by its province");
    let origin = format!("skill-ledger/{province}");
    use base64::Engine as _;
    let text = std::fs::read_to_string(dir.join("keys/authority.key")).expect("authority key");
    let (_, key) = skill_ledger_log::parse_signer_key_text(text.trim()).expect("key text");
    let signed = skill_ledger_domain::SignedEvent::sign(
        &origin,
        skill_ledger_domain::Signer::Authority,
        &key,
        skill_ledger_domain::Event {
            id: skill_ledger_domain::EventId(rand::random()),
            kind,
        },
    );
    let entry = signed.to_entry().expect("entry");
    json!({"entry": base64::engine::general_purpose::STANDARD.encode(entry)})
}

/// Issue 17: `verify` on the home ledger said UNKNOWN for a partner certificate that the
/// portal and `POST /v1/verify` answer from the partner's mirror. One answer everywhere.
#[test]
fn verify_on_the_home_ledger_answers_a_partner_certificate_from_the_mirror_as_the_api_does() {
    // Given Sichuan with 李四's credential and 王五's revoked, and Chongqing's mirror of it.
    let temp = tempfile::tempdir().expect("temporary directory");
    let (chongqing, sichuan, _, _, sichuan_key) =
        given_two_partners_and_a_sichuan_body(temp.path());
    let revoked_cert = "Y000051000001205000002";
    issue(
        &sichuan,
        &sichuan_key,
        SICHUAN_CERT,
        "510104199203041235",
        "李四",
        "2020-06-01",
    );
    issue(
        &sichuan,
        &sichuan_key,
        revoked_cert,
        "510104199305061237",
        "王五",
        "2020-06-01",
    );
    cli(&[
        "revoke",
        "--dir",
        s(&sichuan),
        "--cert-no",
        revoked_cert,
        "--reason",
        "考核作弊",
        "--date",
        "2024-09-01",
    ]);
    cli(&[
        "sync",
        "pull",
        "--dir",
        s(&chongqing),
        "--from-dir",
        s(&sichuan),
    ]);
    let verify = |cert: &str, name: &str| {
        let (code, stdout, stderr) = run(&[
            "verify",
            "--dir",
            s(&chongqing),
            "--cert-no",
            cert,
            "--name",
            name,
            "--json",
        ]);
        let value: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|_| panic!("one JSON object: {stdout}{stderr}"));
        (code, value)
    };

    // When Chongqing's command line verifies 李四's certificate.
    let (code, answer) = verify(SICHUAN_CERT, "李四");
    // Then it is valid, answered by Sichuan's ledger as the mirror holds it.
    assert_eq!(code, 0, "{answer}");
    assert_eq!(answer["status"], "valid", "{answer}");
    assert_eq!(answer["matched"], true, "{answer}");
    assert_eq!(answer["ledger"], "skill-ledger/51", "{answer}");
    assert_eq!(answer["checked_against"]["origin"], "skill-ledger/51");
    assert_eq!(answer["mirror"]["partner"], "skill-ledger/51", "{answer}");
    assert_eq!(answer["mirror"]["caught_up"], true, "{answer}");
    assert_eq!(answer["body_name"], "四川测试职业技能评价中心", "{answer}");
    // And the text says where the answer comes from.
    let (code, stdout, _) = run(&[
        "verify",
        "--dir",
        s(&chongqing),
        "--cert-no",
        SICHUAN_CERT,
        "--name",
        "李四",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("VALID (有效)"), "{stdout}");
    assert!(
        stdout.contains("from the mirrored ledger of partner skill-ledger/51"),
        "{stdout}"
    );
    // And revoked, wrong name and unknown are answered from the mirror too.
    let (code, revoked) = verify(revoked_cert, "王五");
    assert_eq!((code, revoked["status"].as_str()), (1, Some("revoked")));
    assert_eq!(revoked["ledger"], "skill-ledger/51", "{revoked}");
    let (code, mismatch) = verify(SICHUAN_CERT, "张三");
    assert_eq!(
        (code, mismatch["status"].as_str()),
        (1, Some("name_mismatch"))
    );
    let (code, unknown) = verify("Y000051000001205000099", "李四");
    assert_eq!((code, unknown["status"].as_str()), (1, Some("unknown")));
    assert_eq!(unknown["ledger"], "skill-ledger/51", "{unknown}");

    // And `show credential` answers the partner's certificate from the mirror too, as the
    // API's GET /v1/credentials/{cert_no} does.
    let shown = cli(&["show", "credential", "--dir", s(&chongqing), SICHUAN_CERT]);
    assert_eq!(shown["certificate_number"], SICHUAN_CERT, "{shown}");
    assert_eq!(shown["ledger"], "skill-ledger/51", "{shown}");
    assert_eq!(shown["mirror"]["partner"], "skill-ledger/51", "{shown}");
    assert_eq!(shown["body_name"], "四川测试职业技能评价中心", "{shown}");
    let (code, stdout, _) = run(&[
        "show",
        "credential",
        "--dir",
        s(&chongqing),
        "Y000051000001205000099",
        "--json",
    ]);
    assert_eq!(code, 1, "{stdout}");
    let missing: Value = serde_json::from_str(stdout.trim()).expect("JSON");
    assert_eq!(missing["status"], "unknown", "{missing}");
    assert_eq!(missing["ledger"], "skill-ledger/51", "{missing}");

    // And a recognition refused against the mirror is told in Chinese with --lang zh.
    let (code, _, stderr) = run(&[
        "recognize",
        "--dir",
        s(&chongqing),
        "Y000051000001205000099",
        "--date",
        "2024-05-01",
        "--lang",
        "zh",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("互认被拒绝（credential-not-in-mirror）：合作方账本的镜像中没有该证书"),
        "{stderr}"
    );

    // When Chongqing is served, its API gives the same answers.
    let served = serve(&chongqing, "127.0.0.1:0");
    for (cert, name, cli_answer) in [
        (SICHUAN_CERT, "李四", &answer),
        (revoked_cert, "王五", &revoked),
        ("Y000051000001205000099", "李四", &unknown),
    ] {
        let api = post_json(
            &served.address,
            "/v1/verify",
            &json!({"certificate_number": cert, "name": name}),
        )
        .json();
        assert_eq!(api["status"], cli_answer["status"], "{cert}: {api}");
        assert_eq!(api["ledger"], cli_answer["ledger"], "{cert}: {api}");
        assert_eq!(
            api["checked_against"]["size"], cli_answer["checked_against"]["size"],
            "{cert}: {api}"
        );
    }
}

#[test]
fn a_recognition_is_checked_against_the_mirror_and_withdraws_itself_when_the_origin_revokes() {
    // Given Sichuan with three credentials, the third revoked at once, and Chongqing's mirror
    // of it.
    let temp = tempfile::tempdir().expect("temporary directory");
    let (chongqing, sichuan, address_50, address_51, sichuan_key) =
        given_two_partners_and_a_sichuan_body(temp.path());
    let (recognised_cert, other_cert, revoked_cert) = (
        SICHUAN_CERT,
        "Y000051000001205000002",
        "Y000051000001205000003",
    );
    let li_si = "510104199203041235";
    issue(
        &sichuan,
        &sichuan_key,
        recognised_cert,
        li_si,
        "李四",
        "2020-06-01",
    );
    issue(
        &sichuan,
        &sichuan_key,
        other_cert,
        "510104199305061237",
        "王五",
        "2020-06-01",
    );
    issue(
        &sichuan,
        &sichuan_key,
        revoked_cert,
        "510104199407081239",
        "赵六",
        "2020-06-01",
    );
    let revoke = |cert: &str| {
        cli(&[
            "revoke",
            "--dir",
            s(&sichuan),
            "--cert-no",
            cert,
            "--reason",
            "考核作弊, 经核查撤销",
            "--date",
            "2024-09-01",
        ])
    };
    revoke(revoked_cert);
    cli(&[
        "sync",
        "pull",
        "--dir",
        s(&chongqing),
        "--from-dir",
        s(&sichuan),
    ]);

    // When Chongqing recognises 李四's credential from its mirror.
    let accepted = cli(&[
        "recognize",
        "--dir",
        s(&chongqing),
        "--partner",
        "skill-ledger/51",
        recognised_cert,
        "--date",
        "2024-05-01",
    ]);
    // Then it is accepted, and refused again as a duplicate.
    assert_eq!(accepted["event"], "recognition_recorded", "{accepted}");
    let (code, stdout, _) = run(&[
        "recognize",
        "--dir",
        s(&chongqing),
        recognised_cert,
        "--date",
        "2024-05-02",
        "--json",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("duplicate-recognition"), "{stdout}");
    // And a credential the origin revoked, or one the mirror does not hold, is refused.
    for (cert, problem) in [
        (revoked_cert, "credential-revoked-at-origin"),
        ("Y000051000001205000099", "credential-not-in-mirror"),
    ] {
        let (code, stdout, _) = run(&[
            "recognize",
            "--dir",
            s(&chongqing),
            cert,
            "--date",
            "2024-05-01",
            "--json",
        ]);
        assert_eq!(code, 1, "{stdout}");
        let answer: Value = serde_json::from_str(stdout.trim()).expect("JSON");
        assert_eq!(answer["problem"], problem, "{answer}");
    }

    // And the authority withdraws a recognition by its own decision, giving its reason.
    cli(&[
        "recognize",
        "--dir",
        s(&chongqing),
        other_cert,
        "--date",
        "2024-05-01",
    ]);
    let withdrawn = cli(&[
        "recognize",
        "--dir",
        s(&chongqing),
        other_cert,
        "--date",
        "2024-06-01",
        "--withdraw",
        "复核: 申报材料不全",
    ]);
    assert_eq!(withdrawn["event"], "recognition_withdrawn", "{withdrawn}");

    // When both are served.
    let served_50 = serve(&chongqing, &address_50);
    let wang_wu = get(
        &address_50,
        &format!("/v1/persons/{}", subject_of("510104199305061237")),
    )
    .json();
    let withdrawal = &wang_wu["recognitions"][0]["withdrawn"];
    assert_eq!(withdrawal["reason"], "authority_decision", "{wang_wu}");
    assert_eq!(withdrawal["note"], "复核: 申报材料不全", "{wang_wu}");
    assert_eq!(wang_wu["credentials"][0]["status"], "revoked", "{wang_wu}");
    let served_51 = serve(&sichuan, &address_51);
    let person_path = format!("/v1/persons/{}", subject_of(li_si));
    let person = get(&address_50, &person_path).json();
    assert_eq!(person["credentials"][0]["route"], "recognition", "{person}");
    assert_eq!(
        person["credentials"][0]["certificate_number"],
        recognised_cert
    );
    assert_eq!(
        person["recognitions"][0]["origin"], "skill-ledger/51",
        "{person}"
    );
    assert_eq!(person["recognitions"][0]["status"], "active", "{person}");
    assert_eq!(person["current_levels"]["6-18-01-01"], "junior", "{person}");
    let stats = get(&address_50, "/v1/stats?by=route").json();
    assert_eq!(stats["recognition"]["active"], 1, "{stats}");

    // Then recognitions submitted over HTTP are checked against the mirror, each refusal a
    // typed problem.
    let held = |cert: &str| get(&address_51, &format!("/v1/credentials/{cert}")).json();
    let other = held(other_cert);
    let base = skill_ledger_domain::RecognitionRecorded {
        origin: "skill-ledger/51".to_string(),
        entry_index: other["entry_index"].as_u64().expect("entry index") + 1,
        leaf_hash: [0; 32],
        certificate_number: other_cert.parse().expect("number"),
        subject: skill_ledger_domain::SubjectId::from_hex(&subject_of("510104199305061237"))
            .expect("subject"),
        level: skill_ledger_domain::Level::Junior,
        partner_occupation: "6-18-01-01".parse().expect("occupation"),
        occupation: "6-18-01-01".parse().expect("occupation"),
        issued: "2020-06-01".parse().expect("date"),
        date: "2024-05-01".parse().expect("date"),
    };
    let mut not_held = base.clone();
    not_held.certificate_number = "Y000051000001205000099".parse().expect("number");
    let mut revoked = base.clone();
    revoked.certificate_number = revoked_cert.parse().expect("number");
    let mut unknown_partner = base.clone();
    unknown_partner.origin = "skill-ledger/44".to_string();
    let mut home = base.clone();
    home.origin = "skill-ledger/50".to_string();
    for (recognised, problem) in [
        (base, "mirror-disagrees"),
        (not_held, "credential-not-in-mirror"),
        (revoked, "credential-revoked-at-origin"),
        (unknown_partner, "unknown-partner"),
        (home, "recognition-of-home-credential"),
    ] {
        let reply = post_json(
            &address_50,
            "/v1/events",
            &recognition_entry(&chongqing, recognised),
        );
        assert_eq!(reply.status, 422, "{}", reply.text());
        let problem_document = reply.json();
        assert_eq!(
            problem_document["type"],
            format!("urn:skill-ledger:problem:{problem}"),
            "{problem_document}"
        );
    }

    // And the rules of `decide` refuse what the mirror agrees with: the same credential again,
    // another home occupation than the policy's mapping gives, and any recognition once a
    // policy without a [recognition] section is in force.
    let view = &person["recognitions"][0];
    let hex32 = |text: &Value| -> [u8; 32] {
        hex::decode(text.as_str().expect("hex"))
            .expect("hex")
            .try_into()
            .expect("32 bytes")
    };
    let again = skill_ledger_domain::RecognitionRecorded {
        origin: "skill-ledger/51".to_string(),
        entry_index: view["origin_entry_index"].as_u64().expect("index"),
        leaf_hash: hex32(&view["leaf_hash"]),
        certificate_number: recognised_cert.parse().expect("number"),
        subject: skill_ledger_domain::SubjectId::from_hex(&subject_of(li_si)).expect("subject"),
        level: skill_ledger_domain::Level::Junior,
        partner_occupation: "6-18-01-01".parse().expect("occupation"),
        occupation: "6-18-01-01".parse().expect("occupation"),
        issued: "2020-06-01".parse().expect("date"),
        date: "2024-05-02".parse().expect("date"),
    };
    let mut elsewhere = again.clone();
    elsewhere.occupation = "6-18-01-02".parse().expect("occupation");
    let mut after_closing = again.clone();
    after_closing.date = "2024-07-01".parse().expect("date");
    let closed_policy = skill_ledger_domain::DEFAULT_POLICY_TOML
        .split("[recognition]")
        .next()
        .expect("policy text")
        .replace("version = 1", "version = 2")
        .replace("effective = \"2019-01-01\"", "effective = \"2024-06-01\"");
    let adopted = post_json(
        &address_50,
        "/v1/events",
        &authority_entry(
            &chongqing,
            skill_ledger_domain::EventKind::PolicyAdopted(skill_ledger_domain::PolicyAdopted {
                source_toml: closed_policy,
                date: "2024-06-01".parse().expect("date"),
            }),
        ),
    );
    assert_eq!(adopted.status, 200, "{}", adopted.text());
    for (recognised, problem) in [
        (again, "duplicate-recognition"),
        (elsewhere, "recognition-occupation-mismatch"),
        (after_closing, "recognition-not-allowed"),
    ] {
        let reply = post_json(
            &address_50,
            "/v1/events",
            &recognition_entry(&chongqing, recognised),
        );
        assert_eq!(reply.status, 422, "{}", reply.text());
        assert_eq!(reply.json()["code"], problem, "{}", reply.text());
    }

    // When Sichuan revokes 李四's credential (its node restarted for the CLI).
    drop(served_51);
    revoke(recognised_cert);
    let _served_51 = serve(&sichuan, &address_51);

    // Then Chongqing withdraws the recognition by itself, saying why.
    let person = wait_for("the recognition to be withdrawn", || {
        let person = get(&address_50, &person_path).json();
        (person["recognitions"][0]["status"] == "withdrawn").then_some(person)
    });
    let withdrawn = &person["recognitions"][0]["withdrawn"];
    assert_eq!(withdrawn["reason"], "origin_revoked", "{person}");
    assert!(withdrawn["revocation_index"].as_u64().is_some(), "{person}");
    assert_eq!(withdrawn["effective"], "2024-09-01", "{person}");
    assert_eq!(person["credentials"][0]["status"], "revoked", "{person}");
    let stats = get(&address_50, "/v1/stats").json();
    assert_eq!(stats["recognitions"]["active"], 0, "{stats}");
    assert_eq!(stats["recognitions"]["withdrawn"], 2, "{stats}");
    // And a withdrawal of it by decision is refused: it is no longer active.
    let recognition_id = person["recognitions"][0]["id"].as_str().expect("id");
    let again = authority_entry(
        &chongqing,
        skill_ledger_domain::EventKind::RecognitionWithdrawn(
            skill_ledger_domain::RecognitionWithdrawn {
                recognition: skill_ledger_domain::EventId::from_hex(recognition_id).expect("id"),
                subject: skill_ledger_domain::SubjectId::from_hex(&subject_of(li_si))
                    .expect("subject"),
                effective: "2024-10-01".parse().expect("date"),
                reason: skill_ledger_domain::WithdrawalReason::AuthorityDecision {
                    reason: "复核".to_string(),
                },
            },
        ),
    );
    let reply = post_json(&address_50, "/v1/events", &again);
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(
        reply.json()["code"],
        "recognition-not-active",
        "{}",
        reply.text()
    );

    // (One withdrawal by decision above, one for the origin's revocation.)
    // And after a restart the withdrawal is not made twice: the node's resubmission is a
    // duplicate, and the partner's cycles stay clean.
    let size_before = checkpoint_size(&get(&address_50, "/checkpoint").text());
    drop(served_50);
    let served_50 = serve(&chongqing, &address_50);
    let health = wait_for("a clean sync cycle after the restart", || {
        let health = get(&served_50.address, "/healthz").json();
        let partner = &health["partners"][0];
        (partner["last_attempt_unix_s"].as_u64().is_some()
            || partner["mirror"]["last_pull_unix_s"].as_u64().is_some())
        .then_some(health)
    });
    std::thread::sleep(Duration::from_secs(3));
    let health_after = get(&served_50.address, "/healthz").json();
    assert!(
        health_after["partners"][0]["last_error"].is_null(),
        "{health} {health_after}"
    );
    let stats = get(&served_50.address, "/v1/stats").json();
    assert_eq!(stats["recognitions"]["withdrawn"], 2, "{stats}");
    assert_eq!(
        checkpoint_size(&get(&served_50.address, "/checkpoint").text()),
        size_before
    );
    // And the projections with recognitions and withdrawals are a pure fold of the log.
    drop(served_50);
    let rebuilt = cli(&["rebuild", "--dir", s(&chongqing)]);
    assert_eq!(rebuilt["identical"], true, "{rebuilt}");
}

#[test]
fn a_result_of_a_joint_contest_recorded_on_the_partner_is_accepted_after_the_mirror_check() {
    use skill_ledger_domain::{
        ContestJoined, ContestRegistered, ContestResultRecorded, ContestTier, EventId, EventKind,
        PartnerContestResultAccepted, SubjectId,
    };
    // Given two partners serving, each with a national 车工 contest.
    let temp = tempfile::tempdir().expect("temporary directory");
    let (chongqing, sichuan, address_50, address_51) = given_two_partners(temp.path());
    let _served_50 = serve(&chongqing, &address_50);
    let _served_51 = serve(&sichuan, &address_51);
    let submit = |address: &str, dir: &Path, kind: EventKind| {
        let reply = post_json(address, "/v1/events", &authority_entry(dir, kind));
        assert_eq!(reply.status, 200, "{}", reply.text());
        let answer = reply.json();
        let id = EventId::from_hex(answer["event_id"].as_str().expect("id")).expect("id");
        (id, answer["index"].as_u64().expect("index"))
    };
    let contest = || {
        EventKind::ContestRegistered(ContestRegistered {
            name: "川渝职业技能大赛 (车工)".to_string(),
            tier: ContestTier::National,
            occupations: vec!["6-18-01-01".parse().expect("occupation")],
            date: "2022-05-01".parse().expect("date"),
        })
    };
    let (contest_50, _) = submit(&address_50, &chongqing, contest());
    let (contest_51, _) = submit(&address_51, &sichuan, contest());
    // When both record it as joint, and Sichuan records a result.
    let joined = |contest, origin: &str, partner_contest| {
        EventKind::ContestJoined(ContestJoined {
            contest,
            partner_origin: origin.to_string(),
            partner_contest,
            date: "2022-04-01".parse().expect("date"),
        })
    };
    submit(
        &address_50,
        &chongqing,
        joined(contest_50, "skill-ledger/51", contest_51),
    );
    submit(
        &address_51,
        &sichuan,
        joined(contest_51, "skill-ledger/50", contest_50),
    );
    let subject = SubjectId::from_hex(&subject_of("510104199203041235")).expect("subject");
    let (result, result_index) = submit(
        &address_51,
        &sichuan,
        EventKind::ContestResultRecorded(ContestResultRecorded {
            contest: contest_51,
            subject,
            occupation: "6-18-01-01".parse().expect("occupation"),
            rank: 3,
            award: "三等奖".to_string(),
            date: "2022-05-02".parse().expect("date"),
        }),
    );
    wait_for("Chongqing to mirror the result", || {
        let health = get(&address_50, "/healthz").json();
        (health["partners"][0]["mirror"]["entries_held"].as_u64() > Some(result_index))
            .then_some(())
    });
    // Then Chongqing accepts it only as the mirror holds it.
    let accepted = |rank| {
        EventKind::PartnerContestResultAccepted(PartnerContestResultAccepted {
            contest: contest_50,
            origin: "skill-ledger/51".to_string(),
            partner_result: result,
            entry_index: result_index,
            subject,
            occupation: "6-18-01-01".parse().expect("occupation"),
            rank,
            award: "三等奖".to_string(),
            date: "2022-05-02".parse().expect("date"),
        })
    };
    let reply = post_json(
        &address_50,
        "/v1/events",
        &authority_entry(&chongqing, accepted(1)),
    );
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(reply.json()["code"], "mirror-disagrees", "{}", reply.text());
    submit(&address_50, &chongqing, accepted(3));
    // And the person on Chongqing has the result in the home contest, for the home table.
    let person = get(&address_50, &format!("/v1/persons/{}", subject.to_hex())).json();
    assert_eq!(
        person["contest_results"][0]["contest"],
        contest_50.to_hex(),
        "{person}"
    );
    assert_eq!(person["contest_results"][0]["rank"], 3, "{person}");
    let stats = get(&address_50, "/v1/stats?by=route").json();
    assert_eq!(stats["contest"]["results"], 1, "{stats}");
}

// ---------------------------------------------------------------------------------------
// In process: POST /add-checkpoint
// ---------------------------------------------------------------------------------------

struct Witnessing {
    address: String,
    partner: skill_ledger_node::Node,
    witness_vkey: String,
    _runtime: tokio::runtime::Runtime,
    _temp: tempfile::TempDir,
}

/// Chongqing's node served in-process with Sichuan (a node in this process) as its partner.
fn given_a_witness_for_sichuan() -> Witnessing {
    use skill_ledger_domain::Province;
    use skill_ledger_node::{InitOptions, Node};
    use skill_ledger_sync::{Home, PartnerConfig, Partners};
    let temp = tempfile::tempdir().expect("temporary directory");
    let init = |name: &str, province: Province| {
        let mut options = InitOptions::for_province(province, "测试").importing_history();
        options.pseudonym_key = Some([7; 32]);
        Node::init(&temp.path().join(name), options).expect("init")
    };
    let home = init("50", Province::CHONGQING);
    let partner = init("51", Province::SICHUAN);
    let home_dir = Home::load(home.dir()).expect("home");
    let partners = Partners {
        partners: vec![PartnerConfig {
            origin: "skill-ledger/51".to_string(),
            vkey: partner.verifier_key_text().to_string(),
            url: None,
            witness_vkey: None,
            pseudonym_key_fingerprint: home_dir.pseudonym_key_fingerprint.clone(),
        }],
    };
    partners.save(&home_dir).expect("partners.toml");
    let federation = skill_ledger_server::federation::Federation::open(
        &home,
        &std::collections::BTreeMap::new(),
    )
    .expect("federation");
    let witness_vkey = federation
        .witness()
        .expect("a witness with partners")
        .verifier_key_text();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("non-blocking");
    let address = listener.local_addr().expect("address").to_string();
    let state = skill_ledger_server::AppState::new(
        Arc::new(home),
        skill_ledger_server::ServerConfig::default(),
    )
    .with_federation(federation);
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let _ = skill_ledger_server::serve(listener, state, std::future::pending()).await;
    });
    Witnessing {
        address,
        partner,
        witness_vkey,
        _runtime: runtime,
        _temp: temp,
    }
}

fn add_checkpoint(address: &str, body: &[u8]) -> Reply {
    request(address, "POST", "/add-checkpoint", "text/plain", body)
}

fn witness_request(old: u64, proof: &[[u8; 32]], note: &str) -> Vec<u8> {
    skill_ledger_sync::AddCheckpointRequest {
        old_size: old,
        proof: proof.to_vec(),
        checkpoint_note: note.to_string(),
    }
    .to_bytes()
}

#[test]
fn add_checkpoint_answers_the_c2sp_witness_statuses() {
    use skill_ledger_domain::{Audience, BodyRegistered, Date, EventKind, Level, ScopeItem};
    let witnessing = given_a_witness_for_sichuan();
    let address = &witnessing.address;
    let signed = witnessing.partner.checkpoint().expect("a checkpoint");
    let note = signed.note_text.clone();
    let size = signed.checkpoint.size;

    // Malformed: 400.
    let reply = add_checkpoint(address, b"old x\n\nnot a note");
    assert_eq!(reply.status, 400, "{}", reply.text());
    // An origin this witness does not witness: 404.
    let other = note.replacen("skill-ledger/51", "skill-ledger/99", 1);
    assert_eq!(
        add_checkpoint(address, &witness_request(0, &[], &other)).status,
        404
    );
    // A checkpoint whose signature does not verify with the partner's key: 403.
    let root_line = note.split('\n').nth(2).expect("root line");
    let tampered = note.replacen(root_line, &format!("{}=", "A".repeat(43)), 1);
    assert_ne!(tampered, note);
    assert_eq!(
        add_checkpoint(address, &witness_request(0, &[], &tampered)).status,
        403
    );
    // The first checkpoint: 200 with a cosignature line by the witness key.
    let reply = add_checkpoint(address, &witness_request(0, &[], &note));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let verifier = CosignatureVerifier::from_vkey(&witnessing.witness_vkey).expect("vkey");
    let cosigned = format!("{note}{}", reply.text());
    assert_eq!(
        verify_cosignatures(&cosigned, &verifier)
            .expect("verifies")
            .len(),
        1
    );
    // The same old size again: 409 with the size last cosigned.
    let reply = add_checkpoint(address, &witness_request(0, &[], &note));
    assert_eq!(reply.status, 409);
    assert_eq!(reply.header("content-type"), Some("text/x.tlog.size"));
    assert_eq!(reply.text(), format!("{size}\n"));
    // A larger checkpoint with a proof that does not verify: 422.
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let date = |text: &str| text.parse::<Date>().expect("date");
    witnessing
        .partner
        .submit(
            witnessing
                .partner
                .sign_as_authority(EventKind::BodyRegistered(BodyRegistered {
                    registration_number: "S000051000009".parse().expect("registration number"),
                    name: "证明用评价机构".to_string(),
                    public_key: key.verifying_key().to_bytes(),
                    valid_from: date("2020-01-01"),
                    valid_until: date("2029-12-31"),
                    audience: Audience::Public,
                    scope: vec![ScopeItem {
                        occupation: "6-18-01-01".parse().expect("occupation"),
                        level_max: Level::Senior,
                    }],
                    direct_recognition: false,
                    date: date("2020-01-01"),
                })),
        )
        .expect("committed");
    let grown = witnessing.partner.checkpoint().expect("a checkpoint");
    assert!(grown.checkpoint.size > size);
    let reply = add_checkpoint(
        address,
        &witness_request(size, &[[1; 32]], &grown.note_text),
    );
    assert_eq!(reply.status, 422, "{}", reply.text());
    // With the right proof: 200.
    let proof = witnessing
        .partner
        .tree_reader()
        .consistency_proof(size, grown.checkpoint.size)
        .expect("proof");
    let reply = add_checkpoint(address, &witness_request(size, &proof, &grown.note_text));
    assert_eq!(reply.status, 200, "{}", reply.text());
    // A body over 16 KiB: 413.
    let reply = add_checkpoint(address, &vec![b'x'; 17 * 1024]);
    assert_eq!(reply.status, 413, "{}", reply.text());
}

/// `sync pull` of Sichuan's ledger into Chongqing's mirror, from the command line.
fn pull(chongqing: &Path, sichuan: &Path) -> Value {
    cli(&[
        "sync",
        "pull",
        "--dir",
        s(chongqing),
        "--from-dir",
        s(sichuan),
    ])
}

/// Two partners, 李四's Sichuan credential [`SICHUAN_CERT`] issued (2020-06-01), and
/// Chongqing's mirror pulled from the command line: (Chongqing, Sichuan, first pull's report).
fn given_li_sis_credential_in_chongqings_mirror(root: &Path) -> (PathBuf, PathBuf, Value) {
    let (chongqing, sichuan, _, _, sichuan_key) = given_two_partners_and_a_sichuan_body(root);
    issue(
        &sichuan,
        &sichuan_key,
        SICHUAN_CERT,
        LI_SI,
        "李四",
        "2020-06-01",
    );
    let report = pull(&chongqing, &sichuan);
    (chongqing, sichuan, report)
}

/// `recognize` of [`SICHUAN_CERT`] on Chongqing's ledger, dated 2024-05-01.
fn recognise_li_si(chongqing: &Path) {
    cli(&[
        "recognize",
        "--dir",
        s(chongqing),
        SICHUAN_CERT,
        "--date",
        "2024-05-01",
    ]);
}

#[test]
fn a_recognised_partner_credential_exports_as_a_vc_of_the_recognising_authority() {
    // Given Chongqing's recognition of 李四's Sichuan credential, and Chongqing's VC issuer.
    let temp = tempfile::tempdir().expect("temporary directory");
    let (chongqing, sichuan, _) = given_li_sis_credential_in_chongqings_mirror(temp.path());
    let pull = || pull(&chongqing, &sichuan);
    cli(&[
        "vc",
        "setup",
        "--dir",
        s(&chongqing),
        "--base-url",
        "https://zscx.example.cn",
    ]);
    let (code, _, stderr) = run(&["vc", "issue", "--dir", s(&chongqing), SICHUAN_CERT]);
    assert_eq!(code, 1, "not recognised yet: {stderr}");
    assert!(stderr.contains("recognised here"), "{stderr}");
    recognise_li_si(&chongqing);

    // When its VC is exported from Chongqing's ledger.
    let export = |name: &str| {
        let out = temp.path().join(name);
        let (code, stdout, stderr) = run(&[
            "vc",
            "issue",
            "--dir",
            s(&chongqing),
            SICHUAN_CERT,
            "--out",
            s(&out),
        ]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        out
    };
    let file = export("recognised.json");
    let write_out = |args: &[&str], name: &str| {
        let out = temp.path().join(name);
        let mut all = args.to_vec();
        all.extend_from_slice(&["--out", s(&out)]);
        let (code, stdout, stderr) = run(&all);
        assert_eq!(code, 0, "{stdout}{stderr}");
        out
    };
    let controller = write_out(
        &["vc", "controller", "--dir", s(&chongqing)],
        "controller.json",
    );
    let list = write_out(&["vc", "status-list", "--dir", s(&chongqing)], "list.json");

    // Then it is issued by Chongqing, names the origin's credential, and verifies.
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("JSON");
    assert_eq!(document["issuer"], "https://zscx.example.cn/v1/vc/issuer");
    assert!(
        document["type"]
            .as_array()
            .is_some_and(|types| types.iter().any(|t| t == "MutualRecognitionCredential")),
        "{document}"
    );
    let recognised = &document["credentialSubject"]["recognisedCredential"];
    assert_eq!(recognised["origin"], "skill-ledger/51", "{document}");
    assert_eq!(recognised["certificateNumber"], SICHUAN_CERT);
    assert_eq!(document["evidence"][0]["origin"], "skill-ledger/50");
    let verify = |file: &Path, list: &Path| {
        support::json(&[
            "vc",
            "verify",
            s(file),
            "--controller",
            s(&controller),
            "--status-list",
            s(list),
        ])
    };
    let (code, answer) = verify(&file, &list);
    assert_eq!(
        (code, answer["status"].as_str()),
        (0, Some("valid")),
        "{answer}"
    );

    // And once Sichuan revokes it and the pull withdraws the recognition, its list says so.
    cli(&[
        "revoke",
        "--dir",
        s(&sichuan),
        "--cert-no",
        SICHUAN_CERT,
        "--reason",
        "考核作弊, 经核查撤销",
        "--date",
        "2024-09-01",
    ]);
    assert_eq!(pull()["recognitions_withdrawn"], 1);
    let after = write_out(&["vc", "status-list", "--dir", s(&chongqing)], "after.json");
    let withdrawn = export("withdrawn.json");
    let (code, answer) = verify(&withdrawn, &after);
    assert_eq!(
        (code, answer["status"].as_str()),
        (1, Some("revoked")),
        "{answer}"
    );
    if let Some(answers) = support::js_verify(&[&file], &controller, Some(&list)) {
        assert_eq!(answers, ["VERIFIED"]);
    }
    if let Some(answers) = support::js_verify(&[&withdrawn], &controller, Some(&after)) {
        assert_eq!(answers, ["REVOKED"]);
    }
}

#[test]
fn a_pull_from_the_command_line_withdraws_the_recognitions_the_origin_revoked() {
    // Given Chongqing's recognition of 李四's Sichuan credential, from its mirror.
    let temp = tempfile::tempdir().expect("temporary directory");
    let (chongqing, sichuan, first) = given_li_sis_credential_in_chongqings_mirror(temp.path());
    let li_si = LI_SI;
    let pull = || pull(&chongqing, &sichuan);
    assert_eq!(first["recognitions_withdrawn"], 0);
    recognise_li_si(&chongqing);
    let person = || {
        cli(&[
            "show",
            "person",
            "--id-number",
            li_si,
            "--dir",
            s(&chongqing),
        ])
    };
    assert_eq!(person()["recognitions"][0]["status"], "active");

    // When Sichuan revokes it and Chongqing pulls from the command line (no server running).
    cli(&[
        "revoke",
        "--dir",
        s(&sichuan),
        "--cert-no",
        SICHUAN_CERT,
        "--reason",
        "考核作弊, 经核查撤销",
        "--date",
        "2024-09-01",
    ]);
    let report = pull();

    // Then the pull withdraws the recognition, and the person view says why.
    assert_eq!(report["recognitions_withdrawn"], 1, "{report}");
    let person = person();
    let recognition = &person["recognitions"][0];
    assert_eq!(recognition["status"], "withdrawn", "{person}");
    assert_eq!(
        recognition["withdrawn"]["reason"], "origin_revoked",
        "{person}"
    );
    assert_eq!(
        recognition["withdrawn"]["effective"], "2024-09-01",
        "{person}"
    );
    // And pulling again withdraws nothing twice.
    assert_eq!(pull()["recognitions_withdrawn"], 0);
}

#[test]
fn the_portal_serves_a_partner_body_page_from_the_mirror() {
    // Given Chongqing's mirror of Sichuan holding a Sichuan credential, pulled from the
    // command line, and Chongqing served.
    let temp = tempfile::tempdir().expect("temporary directory");
    let (chongqing, sichuan, address_50, _address_51, sichuan_key) =
        given_two_partners_and_a_sichuan_body(temp.path());
    issue(
        &sichuan,
        &sichuan_key,
        SICHUAN_CERT,
        "510104199203041235",
        "李四",
        "2020-06-01",
    );
    cli(&[
        "sync",
        "pull",
        "--dir",
        s(&chongqing),
        "--from-dir",
        s(&sichuan),
    ]);
    let served = serve(&chongqing, &address_50);

    // When an employer looks the Sichuan certificate up on the Chongqing portal.
    let form = format!("cert_no={SICHUAN_CERT}&name=%E6%9D%8E%E5%9B%9B");
    let page = request(
        &served.address,
        "POST",
        "/query",
        "application/x-www-form-urlencoded",
        form.as_bytes(),
    );
    let page = page.text();
    assert!(page.contains("data-status=\"valid\""), "{page}");
    let link = format!("href=\"/bodies/{SICHUAN_BODY}\"");
    assert!(page.contains(&link), "{page}");

    // Then the body link it shows opens the Sichuan body's page, read from the mirror.
    let body = get(&served.address, &format!("/bodies/{SICHUAN_BODY}"));
    assert_eq!(body.status, 200, "{}", body.text());
    let body = body.text();
    assert!(body.contains("四川测试职业技能评价中心"), "{body}");
    assert!(body.contains("四川省"), "{body}");
    assert!(body.contains("镜像"), "{body}");

    // And a Sichuan number the mirror does not hold is still a clear Chinese 404.
    let unknown = get(&served.address, "/bodies/Y000051000099");
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert!(
        unknown.text().contains("未找到评价机构"),
        "{}",
        unknown.text()
    );

    // And the API gives the same answer: the Sichuan body from the mirror, naming the ledger.
    let api = get(&served.address, &format!("/v1/bodies/{SICHUAN_BODY}"));
    assert_eq!(api.status, 200, "{}", api.text());
    let api = api.json();
    assert_eq!(api["registration_number"], SICHUAN_BODY, "{api}");
    assert_eq!(api["name"], "四川测试职业技能评价中心", "{api}");
    assert_eq!(api["ledger"], "skill-ledger/51", "{api}");
    get(&served.address, "/v1/bodies/Y000051000099").problem(404, "unknown-body");
    // And a Chongqing number this ledger does not hold is not looked for in a mirror.
    get(&served.address, "/v1/bodies/Y000050000099").problem(404, "unknown-body");
}

#[test]
fn the_authority_recognises_a_partner_credential_through_its_serving_node() {
    // Given Sichuan with two credentials, one revoked, mirrored by Chongqing, which serves.
    let temp = tempfile::tempdir().expect("temporary directory");
    let (chongqing, sichuan, address_50, _, sichuan_key) =
        given_two_partners_and_a_sichuan_body(temp.path());
    let li_si = "510104199203041235";
    issue(
        &sichuan,
        &sichuan_key,
        SICHUAN_CERT,
        li_si,
        "李四",
        "2020-06-01",
    );
    let revoked_cert = "Y000051000001205000002";
    issue(
        &sichuan,
        &sichuan_key,
        revoked_cert,
        "510104199305061237",
        "王五",
        "2020-06-01",
    );
    cli(&[
        "revoke",
        "--dir",
        s(&sichuan),
        "--cert-no",
        revoked_cert,
        "--reason",
        "考核作弊",
        "--date",
        "2024-09-01",
    ]);
    cli(&[
        "sync",
        "pull",
        "--dir",
        s(&chongqing),
        "--from-dir",
        s(&sichuan),
    ]);
    let _served = serve(&chongqing, &address_50);
    let node = format!("http://{address_50}");
    let authority_key = chongqing.join("keys/authority.key");
    let recognize = |cert: &str| {
        run(&[
            "recognize",
            "--node",
            &node,
            "--authority-key",
            s(&authority_key),
            cert,
            "--date",
            "2024-05-01",
            "--json",
        ])
    };
    // When the authority recognises 李四's credential with --node (the directory is served),
    let (code, stdout, stderr) = recognize(SICHUAN_CERT);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let accepted: Value = serde_json::from_str(stdout.trim()).expect("JSON");
    assert_eq!(accepted["event"], "recognition_recorded", "{accepted}");
    // then the person's recognition is active through the API,
    let person = get(&address_50, &format!("/v1/persons/{}", subject_of(li_si))).json();
    assert_eq!(person["recognitions"][0]["status"], "active", "{person}");
    assert_eq!(
        person["recognitions"][0]["certificate_number"],
        SICHUAN_CERT
    );
    // a second one is the rule's rejection, and a credential the origin revoked the mirror's
    // refusal, each exit 1 with its code.
    let (code, stdout, _) = recognize(SICHUAN_CERT);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("duplicate-recognition"), "{stdout}");
    let (code, stdout, _) = recognize(revoked_cert);
    assert_eq!(code, 1, "{stdout}");
    let refused: Value = serde_json::from_str(stdout.trim()).expect("JSON");
    assert_eq!(
        refused["problem"], "credential-revoked-at-origin",
        "{refused}"
    );
    // When the authority withdraws it with --node by its own decision, the API shows it
    // withdrawn, and a second withdrawal finds no active recognition (exit 1).
    let withdraw = || {
        run(&[
            "recognize",
            "--node",
            &node,
            "--authority-key",
            s(&authority_key),
            SICHUAN_CERT,
            "--date",
            "2024-06-01",
            "--withdraw",
            "复核: 申报材料不全",
            "--json",
        ])
    };
    let (code, stdout, stderr) = withdraw();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("recognition_withdrawn"), "{stdout}");
    let person = get(&address_50, &format!("/v1/persons/{}", subject_of(li_si))).json();
    assert_eq!(person["recognitions"][0]["status"], "withdrawn", "{person}");
    assert_eq!(
        person["recognitions"][0]["withdrawn"]["note"], "复核: 申报材料不全",
        "{person}"
    );
    let (code, stdout, _) = withdraw();
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("no active recognition"), "{stdout}");
    // And the body's key cannot sign a recognition: the key file is not the ledger's.
    let (code, _, stderr) = run(&[
        "recognize",
        "--node",
        &node,
        "--authority-key",
        s(&sichuan_key),
        SICHUAN_CERT,
    ]);
    assert_eq!(code, 2, "{stderr}");
}
