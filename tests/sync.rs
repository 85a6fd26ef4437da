//! Black-box tests of `skill-ledger sync` through the built binary: the demo's two partner
//! ledgers (Chongqing `D/50`, Sichuan `D/51`, one shared pseudonym key) mirror and witness
//! each other from their directories.
//!
//! Exit codes under test: 0 success, 1 verification failed, 2 usage, configuration or I/O.

use std::path::Path;

use serde_json::Value;

mod support;

use support::{json_ok, run, s};

#[test]
fn given_the_demo_partners_when_chongqing_pulls_sichuan_from_its_directory_then_status_shows_the_mirror(
) {
    // Given the demo's two ledgers.
    let temp = tempfile::tempdir().expect("temporary directory");
    let demo = temp.path().join("demo");
    let summary = json_ok(
        &["demo", "--dir", s(&demo), "--no-serve", "--workers", "300"],
        0,
    );
    let sichuan_entries = summary["nodes"]["51"]["entries"].as_u64().expect("entries");
    let (chongqing, sichuan) = (demo.join("50"), demo.join("51"));
    // The demo makes the two partners already; this test configures them by hand, so it
    // starts from the demo's ledgers without their federation state.
    for dir in [&chongqing, &sichuan] {
        assert!(
            dir.join("partners.toml").exists(),
            "the demo configures partners"
        );
        std::fs::remove_file(dir.join("partners.toml")).expect("remove partners.toml");
        for sub in ["mirrors", "witness", "cosigned"] {
            std::fs::remove_dir_all(dir.join(sub)).expect("remove federation state");
        }
    }
    let vkey = |dir: &Path| {
        json_ok(&["checkpoint", "--dir", s(dir), "--vkey"], 0)["verifier_key"]
            .as_str()
            .expect("vkey")
            .to_string()
    };
    let witness_key = |dir: &Path| {
        json_ok(&["sync", "witness-key", "--dir", s(dir)], 0)["witness_vkey"]
            .as_str()
            .expect("witness vkey")
            .to_string()
    };
    let (vkey_50, vkey_51) = (vkey(&chongqing), vkey(&sichuan));
    let (witness_50, witness_51) = (witness_key(&chongqing), witness_key(&sichuan));

    // A partner whose pseudonym key differs is refused, naming the field.
    let (code, _, stderr) = run(&[
        "sync",
        "add-partner",
        "--dir",
        s(&chongqing),
        "--origin",
        "skill-ledger/51",
        "--vkey",
        &vkey_51,
        "--pseudonym-key-fingerprint",
        "0000000000000000",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("pseudonym_key_fingerprint"), "{stderr}");

    // Each registers the other.
    json_ok(
        &[
            "sync",
            "add-partner",
            "--dir",
            s(&chongqing),
            "--origin",
            "skill-ledger/51",
            "--vkey",
            &vkey_51,
            "--witness-vkey",
            &witness_51,
        ],
        0,
    );
    json_ok(
        &[
            "sync",
            "add-partner",
            "--dir",
            s(&sichuan),
            "--origin",
            "skill-ledger/50",
            "--vkey",
            &vkey_50,
            "--witness-vkey",
            &witness_50,
        ],
        0,
    );

    // When Chongqing pulls Sichuan in one small batch, then resumes.
    let first = json_ok(
        &[
            "sync",
            "pull",
            "--dir",
            s(&chongqing),
            "--from-dir",
            s(&sichuan),
            "--batch-entries",
            "256",
            "--batches",
            "1",
        ],
        0,
    );
    assert_eq!(first["cursor_after"], 256, "{first}");
    assert_eq!(first["caught_up"], false);
    let second = json_ok(
        &[
            "sync",
            "pull",
            "--dir",
            s(&chongqing),
            "--partner",
            "skill-ledger/51",
            "--from-dir",
            s(&sichuan),
        ],
        0,
    );
    assert_eq!(second["cursor_before"], 256, "{second}");
    assert_eq!(second["cursor_after"], sichuan_entries);
    assert_eq!(second["caught_up"], true);

    // Then status shows the mirror caught up, with credentials and no alarm.
    let status = json_ok(&["sync", "status", "--dir", s(&chongqing)], 0);
    let partner = &status["partners"][0];
    assert_eq!(partner["origin"], "skill-ledger/51", "{status}");
    assert_eq!(partner["cursor"], sichuan_entries);
    assert_eq!(partner["checkpoint"]["size"], sichuan_entries);
    assert!(
        partner["credentials"].as_u64().expect("count") > 0,
        "{status}"
    );
    assert!(partner["alarm"].is_null());
    assert!(partner["last_pull_unix_s"].as_u64().is_some());
    let evidence = json_ok(&["sync", "evidence", "--dir", s(&chongqing)], 0);
    assert_eq!(evidence["records"], Value::Array(Vec::new()));

    // Pulling the wrong ledger as the partner is a usage error.
    let (code, _, stderr) = run(&[
        "sync",
        "pull",
        "--dir",
        s(&sichuan),
        "--from-dir",
        s(&sichuan),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("not the partner skill-ledger/50"),
        "{stderr}"
    );

    // Sichuan's witness cosigns Chongqing's checkpoint.
    let cosigned = json_ok(
        &[
            "sync",
            "cosign",
            "--dir",
            s(&chongqing),
            "--from-dir",
            s(&sichuan),
        ],
        0,
    );
    assert!(
        cosigned["note"]
            .as_str()
            .expect("note")
            .contains("\u{2014} skill-ledger/51/witness "),
        "{cosigned}"
    );

    // `sync` without a subcommand mirrors the partner once: Sichuan catches up on Chongqing.
    let chongqing_entries = summary["nodes"]["50"]["entries"].as_u64().expect("entries");
    let once = json_ok(
        &["sync", "--dir", s(&sichuan), "--from-dir", s(&chongqing)],
        0,
    );
    assert_eq!(once["partner"], "skill-ledger/50", "{once}");
    assert_eq!(once["cursor_after"], chongqing_entries);
    assert_eq!(once["caught_up"], true);

    // With --loop it pulls again every interval, one JSON line per round.
    let (code, stdout, stderr) = run(&[
        "sync",
        "--dir",
        s(&sichuan),
        "--from-dir",
        s(&chongqing),
        "--loop",
        "--interval-s",
        "1",
        "--rounds",
        "2",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let rounds: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(rounds.len(), 2, "{stdout}");
    for (number, round) in rounds.iter().enumerate() {
        assert_eq!(round["round"], number as u64 + 1, "{round}");
        assert_eq!(round["ok"], true);
        assert_eq!(round["cursor_before"], chongqing_entries);
        assert_eq!(round["cursor_after"], chongqing_entries);
    }

    // In text, a line per round; a partner that cannot be reached is retried, not fatal.
    let (code, stdout, stderr) = run(&[
        "sync",
        "--dir",
        s(&sichuan),
        "--from-dir",
        s(&chongqing),
        "--loop",
        "--interval-s",
        "1",
        "--rounds",
        "1",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("round 1: mirror of skill-ledger/50: "),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&[
        "sync",
        "--dir",
        s(&sichuan),
        "--url",
        "http://127.0.0.1:9",
        "--loop",
        "--interval-s",
        "1",
        "--rounds",
        "1",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let failed: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(failed["ok"], false, "{failed}");
    assert!(
        stderr.is_empty() || !stderr.contains("panicked"),
        "{stderr}"
    );

    // Without --dir it is a usage error.
    let (code, _, stderr) = run(&["sync"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("needs --dir"), "{stderr}");
}
