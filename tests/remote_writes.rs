//! Writing while the node serves: `serve` holds the ledger directory, so `--dir` commands
//! cannot write to it (the baseline); with `--node URL` they sign locally and submit over
//! HTTP. Through the binary only, on loopback: `issue` by a body holding only its key file (no
//! ledger directory, no pseudonym key), `revoke` by the body and by the authority, `body
//! register`, `suspend` and `rotate-key` with the authority's key file, an authority action
//! signed with a body's key or a random key refused by the ledger, and usage errors. The
//! `recognize --node` path is in tests/federation.rs, beside the partners it needs.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

mod support;

use support::{get, issue_args, json, json_ok, post_json, run, s, serve_with, Served, BODY};

const ID: &str = "50010119900101123X";
const NAME: &str = "张三";
const CERT: &str = "Y000050000001205000001";

/// A served ledger with body Y000050000001 registered, the body's key file in a directory of
/// its own (beside no ledger and no pseudonym key), and the node's URL.
struct Given {
    ledger: support::Ledger,
    body_key: PathBuf,
    served: Served,
    url: String,
}

impl Given {
    fn dir(&self) -> &Path {
        &self.ledger.dir
    }

    fn authority_key(&self) -> PathBuf {
        self.dir().join("keys/authority.key")
    }
}

fn given_served_ledger_with_a_body() -> Given {
    let ledger = support::given_ledger_with_a_body();
    // The body's system: its own key file, nothing of the ledger's.
    let body_system = ledger.temp.path().join("body-system");
    std::fs::create_dir(&body_system).expect("body directory");
    let body_key = body_system.join("body.key");
    std::fs::copy(ledger.temp.path().join("K"), &body_key).expect("copy the body key");
    let stderr = ledger.temp.path().join("serve.err");
    let served = serve_with(&ledger.dir, &[], &stderr);
    let url = format!("http://{}", served.address);
    Given {
        ledger,
        body_key,
        served,
        url,
    }
}

fn credential(given: &Given, cert_no: &str) -> Value {
    let reply = get(&given.served.address, &format!("/v1/credentials/{cert_no}"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

#[test]
fn baseline_a_dir_command_cannot_write_while_the_node_serves() {
    // Given a served ledger, when the body issues with --dir, then the directory is in use.
    let given = given_served_ledger_with_a_body();
    let args = issue_args(&["--dir", s(given.dir())], s(&given.body_key), CERT);
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is in use by another skill-ledger process"),
        "{stderr}"
    );
}

#[test]
fn a_body_without_the_pseudonym_key_issues_and_revokes_through_the_node() {
    let given = given_served_ledger_with_a_body();
    // When the body issues with --node, holding only its key file,
    let args = issue_args(&["--node", &given.url], s(&given.body_key), CERT);
    let issued = json_ok(&args, 0);
    // then the entry index is printed as --dir prints it,
    assert_eq!(issued["accepted"], true, "{issued}");
    assert_eq!(issued["event"], "level_certified");
    let index = issued["index"].as_u64().expect("index");
    assert!(issued["checkpoint_size"].as_u64().expect("size") > index);
    // the credential is on the ledger with the holder's pseudonyms: the name verifies,
    let view = credential(&given, CERT);
    assert_eq!(view["status"], "valid");
    assert_eq!(view["entry_index"], index);
    let verified = post_json(
        &given.served.address,
        "/v1/verify",
        &json!({"certificate_number": CERT, "name": NAME, "id_number": ID}),
    );
    assert_eq!(verified.json()["status"], "valid", "{}", verified.text());
    // and the node's audit file names the body and the subject, not the number or the name.
    let audit = std::fs::read_to_string(given.dir().join("pseudonym-requests.log")).expect("audit");
    assert!(audit.contains(BODY) && !audit.contains(ID) && !audit.contains(NAME));

    // A rule's rejection exits 1 with its code, as with --dir: the same number again.
    let (code, again) = json(&args);
    assert_eq!(code, 1, "{again}");
    assert_eq!(again["accepted"], false);
    assert!(
        again["rejection"].as_str().is_some_and(|c| !c.is_empty()),
        "{again}"
    );

    // When the body revokes with --node, the API shows it revoked.
    let revoked = json_ok(
        &[
            "revoke",
            "--node",
            &given.url,
            "--key",
            s(&given.body_key),
            "--cert-no",
            CERT,
            "--reason",
            "考核作弊",
            "--date",
            "2021-01-01",
        ],
        0,
    );
    assert_eq!(revoked["event"], "credential_revoked", "{revoked}");
    assert_eq!(credential(&given, CERT)["status"], "revoked");
    given.served.terminate();
}

#[test]
fn the_authority_registers_and_suspends_a_body_through_the_node_with_its_key_file() {
    let given = given_served_ledger_with_a_body();
    let new_key = given.ledger.temp.path().join("new-body.key");
    json_ok(
        &[
            "key",
            "new",
            "--name",
            "Y000050000002",
            "--out",
            s(&new_key),
        ],
        0,
    );
    let authority_key = given.authority_key();
    let register = |key_file: &Path| {
        json(&[
            "body",
            "register",
            "--node",
            &given.url,
            "--authority-key",
            s(key_file),
            "--reg-no",
            "Y000050000002",
            "--name",
            "重庆第二评价中心",
            "--key-file",
            s(&new_key),
            "--scope",
            "6-18-01-01:技师",
            "--valid-from",
            "2020-01-01",
            "--valid-until",
            "2029-12-31",
        ])
    };
    // When the authority registers a body with --node and its key file, it is registered.
    let (code, registered) = register(&authority_key);
    assert_eq!(code, 0, "{registered}");
    assert_eq!(registered["event"], "body_registered");
    let body = get(&given.served.address, "/v1/bodies/Y000050000002");
    assert_eq!(body.status, 200, "{}", body.text());
    // When it suspends the body, the API shows the suspension.
    json_ok(
        &[
            "body",
            "suspend",
            "--node",
            &given.url,
            "--authority-key",
            s(&authority_key),
            "--reg-no",
            "Y000050000002",
            "--date",
            "2024-01-01",
            "--reason",
            "以案示警",
        ],
        0,
    );
    let body = get(&given.served.address, "/v1/bodies/Y000050000002").json();
    assert_eq!(body["status"], "suspended", "{body}");
    // And the authority revokes a credential without a body key.
    json_ok(
        &issue_args(&["--node", &given.url], s(&given.body_key), CERT),
        0,
    );
    json_ok(
        &[
            "revoke",
            "--node",
            &given.url,
            "--authority-key",
            s(&authority_key),
            "--cert-no",
            CERT,
            "--reason",
            "弄虚作假",
            "--date",
            "2021-01-01",
        ],
        0,
    );
    assert_eq!(credential(&given, CERT)["status"], "revoked");
}

#[test]
fn an_authority_action_signed_with_a_body_key_or_a_random_key_is_refused() {
    let given = given_served_ledger_with_a_body();
    // A key file named like the ledger, so the command submits it: once a random key, once
    // a key registered as a body's.
    let random = given.ledger.temp.path().join("random.key");
    json_ok(
        &[
            "key",
            "new",
            "--name",
            "skill-ledger/50",
            "--out",
            s(&random),
        ],
        0,
    );
    let body_as_authority = given.ledger.temp.path().join("body-as-authority.key");
    json_ok(
        &[
            "key",
            "new",
            "--name",
            "skill-ledger/50",
            "--out",
            s(&body_as_authority),
        ],
        0,
    );
    json_ok(
        &[
            "body",
            "register",
            "--node",
            &given.url,
            "--authority-key",
            s(&given.authority_key()),
            "--reg-no",
            "Y000050000003",
            "--name",
            "重庆第三评价中心",
            "--key-file",
            s(&body_as_authority),
            "--scope",
            "6-18-01-01:技师",
            "--valid-from",
            "2020-01-01",
            "--valid-until",
            "2029-12-31",
        ],
        0,
    );
    let before = get(&given.served.address, "/v1/bodies/Y000050000001").json();
    for key in [&random, &body_as_authority] {
        let (code, refused) = json(&[
            "body",
            "suspend",
            "--node",
            &given.url,
            "--authority-key",
            s(key),
            "--reg-no",
            BODY,
            "--date",
            "2024-01-01",
            "--reason",
            "伪造",
        ]);
        // Then the ledger refuses it by its signature (exit 1, the rule's code) and nothing
        // changes.
        assert_eq!(code, 1, "{refused}");
        assert_eq!(refused["accepted"], false);
        assert_eq!(refused["rejection"], "key-not-valid-at-date", "{refused}");
    }
    // The body's own key file (named by its registration number) is not the ledger's.
    let (code, _, stderr) = run(&[
        "body",
        "suspend",
        "--node",
        &given.url,
        "--authority-key",
        s(&given.body_key),
        "--reg-no",
        BODY,
        "--date",
        "2024-01-01",
        "--reason",
        "伪造",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("serves 'skill-ledger/50'"), "{stderr}");
    let after = get(&given.served.address, "/v1/bodies/Y000050000001").json();
    assert_eq!(before, after);
    assert_eq!(after["status"], "active");
}

#[test]
fn usage_with_node_is_checked_before_anything_is_sent() {
    let given = given_served_ledger_with_a_body();
    // --dir and --node together, an authority action without the key file, an unreachable
    // node: usage or I/O errors (exit 2).
    let both = issue_args(
        &["--dir", s(given.dir()), "--node", &given.url],
        s(&given.body_key),
        CERT,
    );
    let (code, _, stderr) = run(&both);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    let (code, _, stderr) = run(&[
        "body",
        "suspend",
        "--node",
        &given.url,
        "--reg-no",
        BODY,
        "--date",
        "2024-01-01",
        "--reason",
        "x",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--authority-key"), "{stderr}");
    let (code, _, stderr) = run(&issue_args(
        &["--node", "http://127.0.0.1:9"],
        s(&given.body_key),
        CERT,
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("127.0.0.1:9"), "{stderr}");
}

#[test]
fn after_a_key_rotation_through_the_node_only_the_new_key_gets_pseudonyms_and_issues() {
    let given = given_served_ledger_with_a_body();
    let new_key = given.ledger.temp.path().join("body-system/body.new.key");
    json_ok(&["key", "new", "--name", BODY, "--out", s(&new_key)], 0);
    // When the authority rotates the body's key with --node from 2024-01-01,
    let rotated = json_ok(
        &[
            "body",
            "rotate-key",
            "--node",
            &given.url,
            "--authority-key",
            s(&given.authority_key()),
            "--reg-no",
            BODY,
            "--key-file",
            s(&new_key),
            "--date",
            "2024-01-01",
            "--reason",
            "定期轮换",
        ],
        0,
    );
    assert_eq!(rotated["event"], "body_key_rotated", "{rotated}");
    // then the old key is refused by the pseudonym service (exit 1, with its code),
    let (code, refused) = json(&issue_args(
        &["--node", &given.url],
        s(&given.body_key),
        CERT,
    ));
    assert_eq!(code, 1, "{refused}");
    assert_eq!(refused["rejection"], "key-not-current", "{refused}");
    // and the new key issues (a credential dated after the rotation).
    let mut args = issue_args(
        &["--node", &given.url],
        s(&new_key),
        "Y000050000001245000001",
    );
    let date = args
        .iter()
        .position(|arg| *arg == "2020-06-01")
        .expect("date");
    args[date] = "2024-06-01";
    let issued = json_ok(&args, 0);
    assert_eq!(issued["accepted"], true, "{issued}");
}
