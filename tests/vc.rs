//! Black-box tests of the W3C Verifiable Credentials export (`vc setup|issue|controller|
//! status-list|verify` and the `/v1/vc` routes), through the built binary and HTTP on
//! loopback. Every VC made here is also checked by a verifier we did not write: Digital
//! Bazaar's JavaScript stack (`tests/interop/vc/verify.mjs`), when node and its packages are
//! installed (`npm ci` in tests/interop/vc); `SKILL_LEDGER_REQUIRE_NODE=1` (set by .ci/run)
//! makes its absence a failure instead of a skip.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod support;

use support::{
    cli, get, given_ledger_with_a_body, issue_junior, js_verify, json_ok, run, s, serve_with,
};

const CERT: &str = "Y000050000001205000001";
const SECOND: &str = "Y000050000001205000002";
const BASE: &str = "https://zscx.example.cn";

struct Vc {
    ledger: support::Ledger,
}

impl Vc {
    /// A ledger with two credentials and its VC issuer set up under [`BASE`].
    fn given() -> Vc {
        let ledger = given_ledger_with_a_body();
        let key = ledger.temp.path().join("K");
        issue_junior(&ledger.dir, &key, CERT);
        issue_second(&ledger.dir, &key);
        let vc = Vc { ledger };
        let setup = json_ok(&["vc", "setup", "--dir", vc.d(), "--base-url", BASE], 0);
        assert_eq!(setup["logged"], true, "{setup}");
        assert_eq!(setup["controller"], format!("{BASE}/v1/vc/issuer"));
        vc
    }

    fn d(&self) -> &str {
        s(&self.ledger.dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.ledger.temp.path().join(name)
    }

    /// `vc issue CERT --suite SUITE --out FILE`.
    fn issue(&self, cert: &str, suite: &str, name: &str) -> PathBuf {
        let out = self.path(name);
        let (code, stdout, stderr) = run(&[
            "vc",
            "issue",
            "--dir",
            self.d(),
            cert,
            "--suite",
            suite,
            "--out",
            s(&out),
        ]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        out
    }

    fn controller(&self) -> PathBuf {
        let out = self.path("controller.json");
        let (code, stdout, stderr) =
            run(&["vc", "controller", "--dir", self.d(), "--out", s(&out)]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        out
    }

    fn status_list(&self, name: &str) -> PathBuf {
        let out = self.path(name);
        let (code, stdout, stderr) =
            run(&["vc", "status-list", "--dir", self.d(), "--out", s(&out)]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        out
    }

    /// `vc verify FILE --controller C [--status-list L] --json`: (exit code, answer).
    fn verify(&self, file: &Path, status_list: Option<&Path>) -> (i32, Value) {
        let controller = self.controller();
        let mut args = vec!["vc", "verify", s(file), "--controller", s(&controller)];
        if let Some(list) = status_list {
            args.extend_from_slice(&["--status-list", s(list)]);
        }
        support::json(&args)
    }
}

fn issue_second(dir: &Path, key: &Path) {
    cli(&[
        "issue",
        "--dir",
        s(dir),
        "--key",
        s(key),
        "--cert-no",
        SECOND,
        "--id-number",
        "510104199203041235",
        "--name",
        "李四",
        "--occupation",
        "6-18-01-01",
        "--level",
        "初级工",
        "--date",
        "2020-07-01",
        "--attested",
        "本职业工作满1年",
    ]);
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).expect("JSON")).expect("write");
}

fn revoke(dir: &str, cert: &str) {
    json_ok(
        &[
            "revoke",
            "--dir",
            dir,
            "--cert-no",
            cert,
            "--reason",
            "作弊",
            "--date",
            "2025-01-01",
        ],
        0,
    );
}

#[test]
fn a_credential_exports_with_both_suites_and_verifies_here_and_with_the_js_verifier() {
    let vc = Vc::given();
    let rdfc = vc.issue(CERT, "eddsa-rdfc-2022", "rdfc.json");
    let jcs = vc.issue(CERT, "eddsa-jcs-2022", "jcs.json");
    let list = vc.status_list("list.json");

    // What is in it: the pseudonym and commitment, never the name or the identity number.
    let document = read(&rdfc);
    let text = document.to_string();
    assert!(
        !text.contains("张三") && !text.contains("50010119900101123X"),
        "{text}"
    );
    assert_eq!(document["issuer"], format!("{BASE}/v1/vc/issuer"));
    assert_eq!(document["type"][0], "VerifiableCredential");
    let subject = &document["credentialSubject"];
    assert_eq!(subject["certificateNumber"], CERT);
    assert_eq!(subject["skillLevel"], "初级工");
    assert_eq!(subject["nationalLevel"], "五级");
    assert_eq!(subject["occupationCode"], "6-18-01-01");
    assert_eq!(
        subject["issuingBody"]["registrationNumber"],
        "Y000050000001"
    );
    assert!(subject["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("urn:skill-ledger:subject:"))); // The subject is the holder's pseudonym, and the commitment is the credential's: a
                                                                         // verifier told the name (and holding the certificate's name key) can check it.
    let pseudonyms = skill_ledger_domain::PseudonymKey::from_bytes(
        hex::decode(
            std::fs::read_to_string(vc.ledger.dir.join("keys/pseudonym.key"))
                .expect("pseudonym key")
                .trim(),
        )
        .expect("hex")
        .try_into()
        .expect("32 bytes"),
    );
    let pseudonym = pseudonyms.subject(
        skill_ledger_domain::IdDocumentType::ResidentIdCard,
        "50010119900101123X",
    );
    assert_eq!(
        subject["id"],
        format!("urn:skill-ledger:subject:{}", pseudonym.to_hex())
    );
    assert_eq!(
        subject["nameCommitment"],
        hex::encode(pseudonyms.name_key(CERT).commit(CERT, "张三").0)
    );

    assert_eq!(
        document["credentialStatus"]["type"],
        "BitstringStatusListEntry"
    );
    assert_eq!(document["credentialStatus"]["statusPurpose"], "revocation");
    assert_eq!(
        document["credentialStatus"]["statusListCredential"],
        format!("{BASE}/v1/vc/status/0")
    );
    let evidence = &document["evidence"][0];
    // The status index is the issuing entry's index, which the evidence names.
    assert_eq!(
        document["credentialStatus"]["statusListIndex"],
        evidence["entryIndex"].to_string()
    );
    assert_eq!(evidence["origin"], "skill-ledger/50");
    assert_eq!(document["proof"]["cryptosuite"], "eddsa-rdfc-2022");
    assert_eq!(read(&jcs)["proof"]["cryptosuite"], "eddsa-jcs-2022");

    for file in [&rdfc, &jcs] {
        let (code, answer) = vc.verify(file, Some(&list));
        assert_eq!(code, 0, "{answer}");
        assert_eq!(answer["status"], "valid", "{answer}");
    }
    // Without the list: valid proof, status not checked (and said so).
    let (code, answer) = vc.verify(&rdfc, None);
    assert_eq!(
        (code, answer["status"].as_str()),
        (0, Some("not_checked")),
        "{answer}"
    );

    // Tampered: the level raised after signing.
    let mut forged = document.clone();
    forged["credentialSubject"]["skillLevel"] = "高级技师".into();
    let forged_file = vc.path("forged.json");
    write(&forged_file, &forged);
    let (code, answer) = vc.verify(&forged_file, Some(&list));
    assert_eq!(code, 1, "{answer}");
    assert_eq!(answer["verified"], false, "{answer}");

    let controller = vc.controller();
    if let Some(answers) = js_verify(&[&rdfc, &jcs, &forged_file], &controller, Some(&list)) {
        assert_eq!(answers, ["VERIFIED", "VERIFIED", "FAILED"]);
    }
}

#[test]
fn a_revoked_credential_still_exports_and_its_status_list_says_revoked() {
    let vc = Vc::given();
    let before = vc.status_list("before.json");
    revoke(vc.d(), CERT);
    let revoked = vc.issue(CERT, "eddsa-rdfc-2022", "revoked.json");
    let valid = vc.issue(SECOND, "eddsa-rdfc-2022", "valid.json");
    let after = vc.status_list("after.json");
    assert_ne!(
        read(&before)["credentialSubject"]["encodedList"],
        read(&after)["credentialSubject"]["encodedList"],
        "the revocation set a bit"
    );
    let (code, answer) = vc.verify(&revoked, Some(&after));
    assert_eq!(
        (code, answer["status"].as_str()),
        (1, Some("revoked")),
        "{answer}"
    );
    let (code, answer) = vc.verify(&valid, Some(&after));
    assert_eq!(
        (code, answer["status"].as_str()),
        (0, Some("valid")),
        "{answer}"
    );
    // The list from before the revocation does not know it: offline status is as of a list.
    let (code, answer) = vc.verify(&revoked, Some(&before));
    assert_eq!(
        (code, answer["status"].as_str()),
        (0, Some("valid")),
        "{answer}"
    );

    // A list whose bits were changed after signing is refused.
    let mut forged = read(&after);
    forged["credentialSubject"]["encodedList"] =
        read(&before)["credentialSubject"]["encodedList"].clone();
    let forged_list = vc.path("forged-list.json");
    write(&forged_list, &forged);
    let (code, answer) = vc.verify(&revoked, Some(&forged_list));
    assert_eq!(
        (code, answer["verified"].as_bool()),
        (1, Some(false)),
        "{answer}"
    );

    let controller = vc.controller();
    if let Some(answers) = js_verify(&[&revoked, &valid], &controller, Some(&after)) {
        assert_eq!(answers, ["REVOKED", "VERIFIED"]);
    }
}

#[test]
fn bad_input_gets_clear_errors_and_nothing_is_logged() {
    let ledger = given_ledger_with_a_body();
    let key = ledger.temp.path().join("K");
    issue_junior(&ledger.dir, &key, CERT);
    let d = s(&ledger.dir);
    // Before the issuer is set up.
    let (code, _, stderr) = run(&["vc", "issue", "--dir", d, CERT]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("vc setup"), "{stderr}");
    // Set up needs a base URL, and a plain one.
    let (code, _, stderr) = run(&["vc", "setup", "--dir", d]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--base-url"), "{stderr}");
    let size = json_ok(&["checkpoint", "--dir", d], 0)["size"].clone();
    for bad in [
        "zscx.example.cn",
        "https://zscx.example.cn/?a=1",
        "https://",
    ] {
        let (code, _, stderr) = run(&["vc", "setup", "--dir", d, "--base-url", bad]);
        assert_eq!(code, 1, "{bad}: {stderr}");
        assert!(stderr.contains("base URL"), "{bad}: {stderr}");
    }
    assert_eq!(
        json_ok(&["checkpoint", "--dir", d], 0)["size"],
        size,
        "nothing logged"
    );

    json_ok(&["vc", "setup", "--dir", d, "--base-url", BASE], 0);
    // Unknown certificate, unknown suite.
    let (code, _, stderr) = run(&["vc", "issue", "--dir", d, "Y000050000001205000099"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("Y000050000001205000099"), "{stderr}");
    let (code, _, stderr) = run(&["vc", "issue", "--dir", d, CERT, "--suite", "ed25519-2020"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("eddsa-rdfc-2022"), "{stderr}");

    // A damaged VC file: not JSON, no proof, a proof value cut short.
    let controller = ledger.temp.path().join("c.json");
    std::fs::write(&controller, run(&["vc", "controller", "--dir", d]).1).expect("write");
    let out = ledger.temp.path().join("vc.json");
    run(&["vc", "issue", "--dir", d, CERT, "--out", s(&out)]);
    let good = read(&out);
    let mut no_proof = good.clone();
    no_proof.as_object_mut().expect("object").remove("proof");
    let mut short = good.clone();
    short["proof"]["proofValue"] = "z3FXQ".into();
    let cases: [(&str, String); 3] = [
        ("not JSON", "{\"@context\": ".to_string()),
        ("proof", no_proof.to_string()),
        ("proof", short.to_string()),
    ];
    for (expected, text) in cases {
        let file = ledger.temp.path().join("damaged.json");
        std::fs::write(&file, text).expect("write");
        let (code, stdout, stderr) =
            run(&["vc", "verify", s(&file), "--controller", s(&controller)]);
        assert_eq!(code, 1, "{stdout}{stderr}");
        assert!(
            format!("{stdout}{stderr}")
                .to_lowercase()
                .contains(&expected.to_lowercase()),
            "{expected}: {stdout}{stderr}"
        );
    }
}

#[test]
fn setup_again_is_idempotent_and_a_rotation_keeps_earlier_vcs_verifying() {
    let vc = Vc::given();
    let size = json_ok(&["checkpoint", "--dir", vc.d()], 0)["size"].clone();
    let again = json_ok(&["vc", "setup", "--dir", vc.d()], 0);
    assert_eq!(again["logged"], false, "{again}");
    assert_eq!(json_ok(&["checkpoint", "--dir", vc.d()], 0)["size"], size);

    let old = vc.issue(CERT, "eddsa-rdfc-2022", "old.json");
    let rotated = json_ok(&["vc", "setup", "--dir", vc.d(), "--rotate"], 0);
    assert_eq!(rotated["logged"], true, "{rotated}");
    let new = vc.issue(CERT, "eddsa-rdfc-2022", "new.json");
    assert_ne!(
        read(&old)["proof"]["verificationMethod"],
        read(&new)["proof"]["verificationMethod"]
    );
    let controller = read(&vc.controller());
    assert_eq!(
        controller["assertionMethod"].as_array().map(Vec::len),
        Some(2),
        "{controller}"
    );
    // Each key's registering entry, to prove against a checkpoint.
    let listed = json_ok(&["vc", "controller", "--dir", vc.d()], 0);
    let registrations = listed["registrations"].as_array().expect("registrations");
    assert_eq!(registrations.len(), 2, "{listed}");
    assert_eq!(listed["controller"], controller);
    assert_eq!(registrations[1]["entry_index"], rotated["entry_index"]);
    for registration in registrations {
        let key = registration["public_key_multibase"].as_str().expect("key");
        assert!(controller.to_string().contains(key), "{listed}");
    }
    let list = vc.status_list("list.json");
    for file in [&old, &new] {
        let (code, answer) = vc.verify(file, Some(&list));
        assert_eq!(code, 0, "{answer}");
    }
}

#[test]
fn the_vc_routes_serve_the_credential_issuer_context_and_status_list() {
    let vc = Vc::given();
    let served = serve_with(&vc.ledger.dir, &[], &vc.path("serve.stderr"));
    let address = served.address.as_str();

    let reply = get(address, &format!("/v1/credentials/{CERT}/vc"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/vc"));
    let document = reply.json();
    assert_eq!(document["credentialSubject"]["certificateNumber"], CERT);
    let jcs = get(
        address,
        &format!("/v1/credentials/{CERT}/vc?suite=eddsa-jcs-2022"),
    )
    .json();
    assert_eq!(jcs["proof"]["cryptosuite"], "eddsa-jcs-2022");

    let issuer = get(address, "/v1/vc/issuer");
    assert_eq!(issuer.status, 200);
    assert_eq!(issuer.json()["id"], format!("{BASE}/v1/vc/issuer"));

    let context = get(address, "/v1/vc/contexts/v1");
    assert_eq!(context.status, 200);
    assert_eq!(context.header("content-type"), Some("application/ld+json"));
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vc/contexts/skill-ledger-v1.jsonld"),
    )
    .expect("the context ships in the repository");
    assert_eq!(context.text(), shipped);

    let list = get(address, "/v1/vc/status/0");
    assert_eq!(list.status, 200);
    assert_eq!(list.header("cache-control"), Some("public, max-age=60"));
    let etag = list.header("etag").expect("an ETag").to_string();
    let again = support::request(
        address,
        "GET",
        "/v1/vc/status/0",
        &[("if-none-match", etag.as_str())],
        b"",
    );
    assert_eq!(again.status, 304);

    // The files served verify offline, as downloaded.
    let file = vc.path("served.json");
    std::fs::write(&file, reply.text()).expect("write");
    let list_file = vc.path("served-list.json");
    std::fs::write(&list_file, list.text()).expect("write");
    let controller_file = vc.path("served-controller.json");
    std::fs::write(&controller_file, issuer.text()).expect("write");
    let (code, stdout, stderr) = run(&[
        "vc",
        "verify",
        s(&file),
        "--controller",
        s(&controller_file),
        "--status-list",
        s(&list_file),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    if let Some(answers) = js_verify(&[&file], &controller_file, Some(&list_file)) {
        assert_eq!(answers, ["VERIFIED"]);
    }

    // Typed problems.
    get(address, "/v1/credentials/Y000050000001205000099/vc").problem(404, "unknown-certificate");
    get(address, "/v1/credentials/nonsense/vc").problem(400, "bad-request");
    get(address, &format!("/v1/credentials/{CERT}/vc?suite=rsa")).problem(400, "bad-request");
    get(address, "/v1/vc/status/99").problem(404, "not-found");
    get(address, "/v1/vc/status/x").problem(400, "bad-request");
    get(address, "/v1/vc/contexts/v9").problem(404, "not-found");
    served.kill();
}

#[test]
fn a_ledger_without_a_vc_issuer_answers_vc_not_set_up() {
    let ledger = given_ledger_with_a_body();
    issue_junior(&ledger.dir, &ledger.temp.path().join("K"), CERT);
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.stderr"));
    let address = served.address.as_str();
    get(address, &format!("/v1/credentials/{CERT}/vc")).problem(404, "vc-not-set-up");
    get(address, "/v1/vc/issuer").problem(404, "vc-not-set-up");
    get(address, "/v1/vc/status/0").problem(404, "vc-not-set-up");
    served.kill();
}
