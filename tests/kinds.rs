//! Every credential kind through the binary and HTTP on loopback (issue 19): a body issues a
//! 职业资格证书 (Q number), a 专项职业能力证书 (Z number, `--ability`) and a foreign comparison
//! (`--foreign-type`) with `skill-ledger issue`; the statistics count each kind and the
//! route; `verify`, `show`, the API and the portal answer for each, and the rules refuse
//! what the policy does not allow, naming the rule.

mod support;

use support::{
    cli, form_encode, get, given_ledger_with_a_body, json, post_form, post_json, run, s, serve_with,
};

const KINDS: &str = "S000050000009";
const QUALIFICATION: &str = "S00005000000920Q500001";
const ABILITY: &str = "S00005000000924Z000002";
const FOREIGN: &str = "S000050000009243000003";
const WELDER_ID: &str = "500101199202020028";
const COOK_ID: &str = "500101199303030030";
const FITTER_ID: &str = "500101199404040043";

fn issue(dir: &str, key: &str, cert_no: &str, id: &str, name: &str, rest: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "issue",
        "--dir",
        dir,
        "--key",
        key,
        "--cert-no",
        cert_no,
        "--id-number",
        id,
        "--name",
        name,
    ]
    .iter()
    .map(|text| text.to_string())
    .collect();
    args.extend(rest.iter().map(|text| text.to_string()));
    args
}

fn run_strings(args: &[String]) -> (i32, serde_json::Value) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    json(&args)
}

/// A ledger with the social organisation [`KINDS`] (焊工, 中式烹调师 and 装配钳工 in its scope)
/// and its key file; (ledger, directory, key file).
fn given_a_body_for_every_kind() -> (support::Ledger, String, String) {
    let ledger = given_ledger_with_a_body();
    let dir = s(&ledger.dir).to_string();
    let key = s(&ledger.temp.path().join("KINDS")).to_string();
    cli(&["key", "new", "--name", KINDS, "--out", &key]);
    cli(&[
        "body",
        "register",
        "--dir",
        &dir,
        "--reg-no",
        KINDS,
        "--name",
        "重庆测试职业技能鉴定中心",
        "--key-file",
        &key,
        "--scope",
        "6-18-02-04:高级技师,4-03-02-01:高级工,6-20-03-00:技师",
        "--valid-from",
        "2020-01-01",
        "--valid-until",
        "2029-12-31",
    ]);
    (ledger, dir, key)
}

#[test]
fn every_kind_is_issued_counted_verified_and_shown() {
    // Given a ledger with a social organisation whose scope has 焊工, 中式烹调师 and 装配钳工.
    let (ledger, dir, key) = given_a_body_for_every_kind();

    // When it issues one certificate of each kind.
    let qualification = issue(
        &dir,
        &key,
        QUALIFICATION,
        WELDER_ID,
        "王焊",
        &[
            "--occupation",
            "6-18-02-04",
            "--level",
            "初级工",
            "--date",
            "2020-06-01",
            "--attested",
            "中职焊接专业毕业",
        ],
    );
    let (code, receipt) = run_strings(&qualification);
    assert_eq!(code, 0, "{receipt}");
    let ability = issue(
        &dir,
        &key,
        ABILITY,
        COOK_ID,
        "李面",
        &[
            "--occupation",
            "4-03-02-01",
            "--ability",
            "4-03-02-01-Z01",
            "--date",
            "2024-05-01",
        ],
    );
    let (code, receipt) = run_strings(&ability);
    assert_eq!(code, 0, "{receipt}");
    let foreign = |cert_no: &str, id: &str| {
        issue(
            &dir,
            &key,
            cert_no,
            id,
            "赵钳",
            &[
                "--occupation",
                "6-20-03-00",
                "--level",
                "高级工",
                "--date",
                "2024-05-01",
                "--foreign-type",
                "DE-IHK-Industriemechaniker",
                "--foreign-issuer",
                "IHK München und Oberbayern",
                "--foreign-document",
                "IHK-2021-0042317",
                "--catalogue-version",
                "1",
            ],
        )
    };
    let (code, receipt) = run_strings(&foreign(FOREIGN, FITTER_ID));
    assert_eq!(code, 0, "{receipt}");

    // Then the rules refuse what the policy does not allow, naming the rule.
    let (code, refused) = run_strings(&foreign("S000050000009243000004", COOK_ID));
    assert_ne!(code, 0);
    assert_eq!(refused["rejection"], "foreign-document-used", "{refused}");
    let unknown_ability = issue(
        &dir,
        &key,
        "S00005000000924Z000005",
        COOK_ID,
        "李面",
        &[
            "--occupation",
            "4-03-02-01",
            "--ability",
            "4-03-02-01-Z77",
            "--date",
            "2024-05-01",
        ],
    );
    let (code, refused) = run_strings(&unknown_ability);
    assert_ne!(code, 0);
    assert_eq!(refused["rejection"], "unknown-special-ability", "{refused}");
    // A Z number without --ability is refused before anything is signed.
    let (code, _, stderr) = run(&[
        "issue",
        "--dir",
        &dir,
        "--key",
        &key,
        "--cert-no",
        "S00005000000924Z000006",
        "--id-number",
        COOK_ID,
        "--name",
        "李面",
        "--occupation",
        "4-03-02-01",
        "--level",
        "初级工",
        "--date",
        "2024-05-01",
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("--ability"), "{stderr}");

    // And the revocation of the special ability is a revocation like any other.
    cli(&[
        "revoke",
        "--dir",
        &dir,
        "--key",
        &key,
        "--cert-no",
        ABILITY,
        "--reason",
        "考核作弊",
        "--date",
        "2024-06-01",
    ]);

    // And the statistics count each kind, and the foreign comparison by route.
    let kinds = cli(&["stats", "--dir", &dir, "--by", "kind"]);
    assert_eq!(kinds["qualification"]["valid"], 1, "{kinds}");
    assert_eq!(kinds["qualification"]["by_level"]["junior"], 1, "{kinds}");
    assert_eq!(kinds["special_ability"]["issued"], 1, "{kinds}");
    assert_eq!(kinds["special_ability"]["revoked"], 1, "{kinds}");
    assert_eq!(kinds["special_ability"]["valid"], 0, "{kinds}");
    assert_eq!(kinds["skill_level"]["by_level"]["senior"], 1, "{kinds}");
    let routes = cli(&["stats", "--dir", &dir, "--by", "route"]);
    assert_eq!(routes["foreign-comparison"]["valid"], 1, "{routes}");
    let (code, text, _) = run(&["stats", "--dir", &dir, "--by", "kind"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("专项职业能力证书") && text.contains("职业资格证书"),
        "{text}"
    );

    // And `verify` and `show` answer for each kind.
    let (code, verified) = json(&[
        "verify",
        "--dir",
        &dir,
        "--cert-no",
        ABILITY,
        "--name",
        "李面",
    ]);
    assert_ne!(code, 0, "a revoked certificate exits non-zero");
    assert_eq!(verified["status"], "revoked", "{verified}");
    assert_eq!(verified["ability"], "4-03-02-01-Z01", "{verified}");
    let shown = cli(&["show", "credential", "--dir", &dir, FOREIGN]);
    assert_eq!(shown["route"], "foreign-comparison", "{shown}");
    assert_eq!(
        shown["foreign"]["document_id"], "IHK-2021-0042317",
        "{shown}"
    );
    assert_eq!(shown["foreign"]["catalogue_version"], 1, "{shown}");
    let shown = cli(&["show", "credential", "--dir", &dir, QUALIFICATION]);
    assert_eq!(shown["kind"], "qualification", "{shown}");
    assert_eq!(shown["kind_name"], "职业资格证书", "{shown}");

    // And over HTTP.
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));
    let address = &served.address;
    let found = get(address, &format!("/v1/special-abilities/{ABILITY}"));
    assert_eq!(found.status, 200, "{}", found.text());
    let found = found.json();
    assert_eq!(found["status"], "revoked", "{found}");
    assert_eq!(found["ability_name"], "重庆小面制作", "{found}");
    assert_eq!(found["kind"], "special_ability", "{found}");
    let not_a_level = get(address, &format!("/v1/credentials/{ABILITY}"));
    let problem = not_a_level.problem(404, "unknown-certificate");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("/v1/special-abilities/")),
        "{problem}"
    );
    let compared = get(address, &format!("/v1/credentials/{FOREIGN}")).json();
    assert_eq!(
        compared["foreign"]["foreign_issuer"],
        "IHK München und Oberbayern"
    );
    assert_eq!(compared["kind"], "skill_level", "{compared}");
    let verified = post_json(
        address,
        "/v1/verify",
        &serde_json::json!({"certificate_number": ABILITY, "name": "李面"}),
    )
    .json();
    assert_eq!(verified["status"], "revoked", "{verified}");
    assert_eq!(verified["special_ability"]["ability"], "4-03-02-01-Z01");
    let by_kind = get(address, "/v1/stats?by=kind").json();
    assert_eq!(by_kind["qualification"]["valid"], 1, "{by_kind}");

    // And in the portal: the 专项 holder's page (she holds nothing else) and its lookup.
    let page = post_form(
        address,
        "/person",
        &form_encode(&[
            ("id_type", "resident_id"),
            ("id_no", COOK_ID),
            ("name", "李面"),
        ]),
    );
    assert_eq!(page.status, 200);
    let page = page.text();
    assert!(page.contains("data-status=\"found\""), "{page}");
    assert!(
        page.contains("专项职业能力证书") && page.contains("重庆小面制作"),
        "{page}"
    );
    assert!(page.contains("已撤销"), "{page}");
    let page = post_form(
        address,
        "/person",
        &form_encode(&[
            ("id_type", "resident_id"),
            ("id_no", FITTER_ID),
            ("name", "赵钳"),
        ]),
    )
    .text();
    assert!(page.contains("境外证书比照认定"), "{page}");
    let result = post_form(
        address,
        "/query",
        &form_encode(&[("cert_no", FOREIGN), ("name", "赵钳")]),
    )
    .text();
    assert!(result.contains("data-status=\"valid\""), "{result}");
    assert!(
        result.contains("IHK-2021-0042317") && result.contains("比照目录版本"),
        "{result}"
    );
    let result = post_form(
        address,
        "/query",
        &form_encode(&[("cert_no", QUALIFICATION), ("name", "王焊")]),
    )
    .text();
    assert!(result.contains("职业资格证书"), "{result}");
    let result = post_form(
        address,
        "/query",
        &form_encode(&[("cert_no", ABILITY), ("name", "李面")]),
    )
    .text();
    assert!(result.contains("data-status=\"revoked\""), "{result}");
    assert!(result.contains("重庆小面制作"), "{result}");
}

const BATCH_HEADER: &str = "cert_no,id_number,name,occupation,level,date,attested,ability,\
foreign_type,foreign_issuer,foreign_document,catalogue_version";

#[test]
fn an_exam_session_file_issues_every_kind_and_names_each_problem() {
    // Given the body and a results file with one row of each kind and three bad rows: a Z
    // number with a level, a comparison without its document, an ability the policy lacks.
    let (ledger, _dir, key) = given_a_body_for_every_kind();
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));
    let url = format!("http://{}", served.address);
    let good = [
        format!(
            "{QUALIFICATION},{WELDER_ID},王焊,6-18-02-04,初级工,2020-06-01,中职焊接专业毕业,,,,,"
        ),
        format!("{ABILITY},{COOK_ID},李面,4-03-02-01,,2024-05-01,,4-03-02-01-Z01,,,,"),
        format!(
            "{FOREIGN},{FITTER_ID},赵钳,6-20-03-00,高级工,2024-05-01,,,DE-IHK-Industriemechaniker,\
             IHK München und Oberbayern,IHK-2021-0042317,1"
        ),
    ];
    let bad = [
        format!("S00005000000924Z000007,{COOK_ID},李面,4-03-02-01,初级工,2024-05-01,,4-03-02-01-Z02,,,,"),
        format!(
            "S000050000009243000008,{COOK_ID},李面,6-20-03-00,高级工,2024-05-01,,,\
             DE-IHK-Industriemechaniker,IHK München,,1"
        ),
        format!("S00005000000924Z000009,{COOK_ID},李面,4-03-02-01,,2024-05-01,,4-03-02-01-Z99,,,,"),
    ];
    let file = ledger.temp.path().join("session.csv");
    let all: Vec<&str> = good.iter().chain(&bad).map(String::as_str).collect();
    std::fs::write(&file, format!("{BATCH_HEADER}\n{}\n", all.join("\n"))).expect("write");
    let batch = |file: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "issue-batch",
            "--node",
            &url,
            "--key",
            &key,
            "--file",
            s(file),
        ];
        args.extend_from_slice(extra);
        json(&args)
    };

    // When it is checked against the node.
    let (code, value) = batch(&file, &["--dry-run"]);

    // Then each bad row is named by line, column and code, the good ones would pass.
    assert_eq!(code, 1, "{value}");
    let problems: Vec<(u64, String, String)> = value["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().expect("line"),
                p["column"].as_str().unwrap_or("-").to_string(),
                p["code"].as_str().expect("code").to_string(),
            )
        })
        .collect();
    let expected: Vec<(u64, String, String)> = [
        (5, "level", "malformed-field"),
        (6, "foreign_document", "empty-field"),
        (7, "ability", "unknown-special-ability"),
    ]
    .into_iter()
    .map(|(line, column, code)| (line, column.to_string(), code.to_string()))
    .collect();
    assert_eq!(problems, expected, "{value}");
    assert_eq!(value["would_accept"], 3, "{value}");

    // And the good rows issue, and a rerun answers them as duplicates.
    let file = ledger.temp.path().join("good.csv");
    std::fs::write(&file, format!("{BATCH_HEADER}\n{}\n", good.join("\n"))).expect("write");
    let (code, value) = batch(&file, &[]);
    assert_eq!((code, value["accepted"].as_u64()), (0, Some(3)), "{value}");
    let (code, value) = batch(&file, &[]);
    assert_eq!(
        (code, value["duplicates"].as_u64()),
        (0, Some(3)),
        "{value}"
    );
    let kinds = get(&served.address, "/v1/stats?by=kind").json();
    assert_eq!(kinds["qualification"]["valid"], 1, "{kinds}");
    assert_eq!(kinds["special_ability"]["valid"], 1, "{kinds}");
    assert_eq!(kinds["skill_level"]["valid"], 1, "{kinds}");
    let compared = get(&served.address, &format!("/v1/credentials/{FOREIGN}")).json();
    assert_eq!(compared["route"], "foreign-comparison", "{compared}");
}
