//! The portal as an employer meets it, through `skill-ledger serve` on loopback, in
//! given/when/then form: the links and the QR code of a result come from the configured
//! public address and never from the request's `Host`; the verifier key an offline check
//! needs is published with its fingerprint; a certificate issued while its body was, by a
//! status change logged later, suspended carries a warning (page, API, `verify`); the pages
//! speak Chinese, in Beijing time, name the issuing authority and keep ledger internals in a
//! collapsed 技术细节 section.

mod support;

use std::path::Path;

use sha2::{Digest, Sha256};
use support::{
    cli, exchange, get, given_ledger_with_a_body, issue_junior, post_form, run, s, serve_with,
};

const CERT: &str = "Y000050000001205000001";

/// A ledger with one credential (张三, 初级工, issued 2020-06-01) and its body's key file.
fn given_a_ledger_with_a_credential() -> support::Ledger {
    let ledger = given_ledger_with_a_body();
    issue_junior(&ledger.dir, &ledger.temp.path().join("K"), CERT);
    ledger
}

/// Posts the lookup form with the given `Host` header; returns (status, page).
fn look_up(address: &str, host: &str, form: &str) -> (u16, String) {
    let raw = format!(
        "POST /query HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let reply = exchange(address, raw.as_bytes(), support::REQUEST_TIMEOUT)
        .unwrap_or_else(|error| panic!("POST /query: {error}"));
    (reply.status, reply.text())
}

fn form_for(cert_no: &str, name: &str) -> String {
    support::form_encode(&[("cert_no", cert_no), ("name", name)])
}

/// The page without its collapsed `<details>` sections: what a visitor sees at first.
fn without_details(page: &str) -> String {
    let mut visible = String::new();
    let mut rest = page;
    while let Some(start) = rest.find("<details") {
        visible.push_str(&rest[..start]);
        match rest[start..].find("</details>") {
            Some(end) => rest = &rest[start + end + "</details>".len()..],
            None => panic!("an unclosed <details>: {page}"),
        }
    }
    visible.push_str(rest);
    visible
}

#[test]
fn links_and_the_qr_code_come_from_the_public_base_url_not_the_host_header() {
    // Given a served ledger with a credential, first with no public address configured.
    let ledger = given_a_ledger_with_a_credential();
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));

    // When a lookup arrives with a forged Host header.
    let (status, page) = look_up(&served.address, "evil.example", &form_for(CERT, "张三"));

    // Then the result's address (and QR code) is the listening address, never the Host's.
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-status=\"valid\""), "{page}");
    assert!(!page.contains("evil.example"), "{page}");
    assert!(
        page.contains(&format!("http://{}/?cert_no={CERT}", served.address)),
        "{page}"
    );
    served.kill();

    // And with a public address configured, that one, whatever the Host says.
    let served = serve_with(
        &ledger.dir,
        &["--public-base-url", "https://zscx.example.cn/portal/"],
        &ledger.temp.path().join("serve.err"),
    );
    let (status, page) = look_up(&served.address, "evil.example", &form_for(CERT, "张三"));
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("evil.example"), "{page}");
    assert!(
        page.contains(&format!("https://zscx.example.cn/portal/?cert_no={CERT}")),
        "{page}"
    );

    // And a public address that is not an http(s) base URL is refused at start.
    let (code, _, stderr) = run(&[
        "serve",
        "--dir",
        s(&ledger.dir),
        "--listen",
        "127.0.0.1:0",
        "--public-base-url",
        "javascript:alert(1)",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("public_base_url"), "{stderr}");
}

#[test]
fn the_certificate_page_offers_its_verifiable_credential_and_the_qr_code_can_carry_it() {
    // Given a served ledger with a credential, before the authority set up VCs.
    let ledger = given_a_ledger_with_a_credential();
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));
    let (_, page) = look_up(&served.address, &served.address, &form_for(CERT, "张三"));
    assert!(
        !page.contains("下载可验证凭证"),
        "no VC before setup: {page}"
    );
    served.kill();

    // When the VC issuer is set up, the page has the download button.
    cli(&[
        "vc",
        "setup",
        "--dir",
        s(&ledger.dir),
        "--base-url",
        "https://zscx.example.cn",
    ]);
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));
    let (status, page) = look_up(&served.address, &served.address, &form_for(CERT, "张三"));
    assert_eq!(status, 200, "{page}");
    let href = format!("href=\"/v1/credentials/{CERT}/vc\"");
    assert!(
        page.contains(&href) && page.contains("下载可验证凭证"),
        "{page}"
    );
    // The button's target is the VC itself.
    let vc = get(&served.address, &format!("/v1/credentials/{CERT}/vc"));
    assert_eq!(vc.status, 200, "{}", vc.text());
    assert_eq!(vc.json()["credentialSubject"]["certificateNumber"], CERT);
    // By default the QR code opens the page again.
    assert!(page.contains(&format!("/?cert_no={CERT}")), "{page}");
    served.kill();

    // And with `qr_code = "vc"` the QR code carries the VC's address, under the public base.
    let config = ledger.temp.path().join("serve.toml");
    std::fs::write(
        &config,
        "qr_code = \"vc\"\npublic_base_url = \"https://zscx.example.cn\"\n",
    )
    .expect("write the config");
    let served = serve_with(
        &ledger.dir,
        &["--config", s(&config)],
        &ledger.temp.path().join("serve.err"),
    );
    let (_, page) = look_up(&served.address, &served.address, &form_for(CERT, "张三"));
    assert!(
        page.contains(&format!(
            "https://zscx.example.cn/v1/credentials/{CERT}/vc</code>"
        )),
        "{page}"
    );
    served.kill();
}

/// Reads the key text the page shows between its `<pre class="vkey">` tags.
fn shown_vkey(page: &str) -> String {
    let start = page.find("<pre class=\"vkey\">").expect("the key block") + 18;
    let end = start + page[start..].find("</pre>").expect("its end");
    page[start..end].replace("&#43;", "+").replace("&amp;", "&")
}

#[test]
fn the_verifier_key_of_offline_bundles_is_published_with_its_fingerprint() {
    // Given a served ledger with a credential.
    let ledger = given_a_ledger_with_a_credential();
    let vkey = cli(&["checkpoint", "--dir", s(&ledger.dir), "--vkey"])["verifier_key"]
        .as_str()
        .expect("the verifier key")
        .to_string();
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));

    // When an employer looks the certificate up.
    let (_, page) = look_up(&served.address, &served.address, &form_for(CERT, "张三"));

    // Then next to the bundle download is a link to the verifier key's page.
    assert!(page.contains("下载离线核验包"), "{page}");
    assert!(page.contains("href=\"/verifier-key\""), "{page}");

    // And that page shows the key exactly as `checkpoint --vkey` prints it, its SHA-256
    // fingerprint in groups for reading aloud, and how to check a bundle with it.
    let key_page = get(&served.address, "/verifier-key");
    assert_eq!(key_page.status, 200, "{}", key_page.text());
    assert_eq!(
        key_page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let text = key_page.text();
    assert_eq!(shown_vkey(&text), vkey, "{text}");
    let digest = hex_lower(&Sha256::digest(vkey.as_bytes()));
    let grouped: Vec<&str> = (0..digest.len())
        .step_by(4)
        .map(|at| &digest[at..at + 4])
        .collect();
    assert!(text.contains(&grouped.join(" ")), "{text}");
    assert!(text.contains("离线核验包"), "{text}");
    assert!(text.contains("指纹"), "{text}");

    // And the key file it offers checks the certificate's bundle offline.
    let key_file = get(&served.address, "/verifier-key.txt");
    assert_eq!(key_file.text().trim(), vkey);
    let bundle = get(&served.address, &format!("/v1/credentials/{CERT}/bundle"));
    assert_eq!(bundle.status, 200, "{}", bundle.text());
    let (key_path, bundle_path) = (
        ledger.temp.path().join("verifier-key.txt"),
        ledger.temp.path().join("bundle.txt"),
    );
    std::fs::write(&key_path, &key_file.body).expect("key file");
    std::fs::write(&bundle_path, &bundle.body).expect("bundle file");
    let (code, stdout, stderr) = run(&["verify-bundle", s(&bundle_path), "--trust", s(&key_path)]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn suspend(dir: &Path, date: &str) {
    support::suspend_body(dir, support::BODY, date);
}

#[test]
fn a_certificate_issued_inside_a_suspension_logged_after_it_carries_a_warning() {
    // Given a credential issued 2020-06-01, then its body suspended from 2020-05-01 (logged
    // after the credential, so the credential was accepted).
    let ledger = given_a_ledger_with_a_credential();
    suspend(&ledger.dir, "2020-05-01");
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));

    // When an employer looks it up.
    let (status, page) = look_up(&served.address, &served.address, &form_for(CERT, "张三"));

    // Then the page does not just say 证书有效: it warns that the body was suspended on the
    // issue date, by a decision recorded after the certificate.
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("✔ 证书有效"), "{page}");
    assert!(
        page.contains("data-warning=\"retroactive-body-status\""),
        "{page}"
    );
    assert!(page.contains("暂停"), "{page}");
    assert!(page.contains("2020-05-01"), "{page}");
    assert!(page.contains("违规发证，暂停备案"), "{page}");

    // And the API's credential and verification views say so (an additive field).
    let credential = get(&served.address, &format!("/v1/credentials/{CERT}")).json();
    let warning = &credential["issuer_status_warning"];
    assert_eq!(warning["status"], "suspended", "{credential}");
    assert_eq!(warning["effective"], "2020-05-01", "{credential}");
    assert_eq!(warning["reason"], "违规发证，暂停备案", "{credential}");
    assert_eq!(credential["status"], "valid", "{credential}");
    let verification = support::post_json(
        &served.address,
        "/v1/verify",
        &serde_json::json!({"certificate_number": CERT, "name": "张三"}),
    )
    .json();
    assert_eq!(
        verification["credential"]["issuer_status_warning"]["status"], "suspended",
        "{verification}"
    );
    served.kill();

    // And `verify` prints the warning with the status.
    let (code, stdout, stderr) = run(&[
        "verify",
        "--dir",
        s(&ledger.dir),
        "--cert-no",
        CERT,
        "--name",
        "张三",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("VALID"), "{stdout}");
    assert!(stdout.contains("WARNING"), "{stdout}");
    assert!(stdout.contains("2020-05-01"), "{stdout}");
}

#[test]
fn a_suspension_that_starts_after_the_issue_date_raises_no_warning() {
    // Given a credential issued 2020-06-01 and a suspension from 2021-01-01.
    let ledger = given_a_ledger_with_a_credential();
    suspend(&ledger.dir, "2021-01-01");
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));

    // Then the certificate reads as valid, with no warning.
    let (_, page) = look_up(&served.address, &served.address, &form_for(CERT, "张三"));
    assert!(page.contains("✔ 证书有效"), "{page}");
    assert!(!page.contains("data-warning"), "{page}");
    let credential = get(&served.address, &format!("/v1/credentials/{CERT}")).json();
    assert!(
        credential.get("issuer_status_warning").is_none(),
        "{credential}"
    );
}

#[test]
fn pages_for_employers_speak_chinese_in_beijing_time_and_keep_internals_folded() {
    // Given a served ledger with a credential.
    let ledger = given_a_ledger_with_a_credential();
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));
    let address = &served.address;

    // When an employer looks it up.
    let (_, page) = look_up(address, address, &form_for(CERT, "张三"));

    // Then times are Beijing time, the issuing authority is named, and ledger internals
    // (entry indexes, checkpoint sizes, command lines) are only in the collapsed details.
    assert!(page.contains("北京时间"), "{page}");
    assert!(!page.contains("UTC"), "{page}");
    assert!(page.contains("重庆市人力资源和社会保障局"), "{page}");
    assert!(page.contains("技术细节"), "{page}");
    let visible = without_details(&page);
    for jargon in ["账本条目", "条目数", "skill-ledger verify", "检查点（"] {
        assert!(
            !visible.contains(jargon),
            "{jargon:?} on the page: {visible}"
        );
    }

    // And the body page keeps its entry indexes folded too.
    let body = get(address, &format!("/bodies/{}", support::BODY)).text();
    assert!(!without_details(&body).contains("账本条目"), "{body}");

    // And wrong input is answered in Chinese, never with a parser's English.
    let (status, page) = look_up(address, address, &form_for("Y123", "张三"));
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("证书编号"), "{page}");
    assert!(!page.contains("field certificate_number"), "{page}");
    assert!(!page.contains("characters"), "{page}");
    let (status, page) = look_up(address, address, "cert_no=a&cert_no=b&name=x");
    assert_eq!(status, 400, "{page}");
    assert!(!page.contains("duplicate"), "{page}");
    assert!(page.contains("表单"), "{page}");
    let bad_path = get(address, "/bodies/%FF");
    assert_eq!(bad_path.status, 400, "{}", bad_path.text());
    assert_eq!(
        bad_path.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(bad_path.text().contains("备案编号"), "{}", bad_path.text());
    assert!(!bad_path.text().contains("Invalid"), "{}", bad_path.text());

    // And a browser's wrong address or method gets a Chinese page, the API its problems.
    let html_accept = [("Accept", "text/html,application/xhtml+xml")];
    let missing = support::request(address, "GET", "/no-such-page", &html_accept, b"");
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("页面不存在"), "{}", missing.text());
    let wrong_method = support::request(address, "PUT", "/query", &html_accept, b"");
    assert_eq!(wrong_method.status, 405);
    assert!(
        wrong_method.text().contains("请求方式有误"),
        "{}",
        wrong_method.text()
    );
    get(address, "/v1/no-such-thing").problem(404, "not-found");

    // And the statistics page shows the appointed levels and the recognitions.
    let stats = get(address, "/stats").text();
    for shown in ["特级技师", "首席技师", "互认"] {
        assert!(stats.contains(shown), "{shown} missing: {stats}");
    }
    assert!(!stats.contains("UTC"), "{stats}");
}

/// Posts the result page's bundle form (certificate number and the name typed in the lookup);
/// returns (status, content type, body).
fn download_bundle(address: &str, form: &str) -> (u16, Option<String>, Vec<u8>) {
    let raw = format!(
        "POST /bundle HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let reply = exchange(address, raw.as_bytes(), support::REQUEST_TIMEOUT)
        .unwrap_or_else(|error| panic!("POST /bundle: {error}"));
    let content_type = reply.header("content-type").map(str::to_string);
    (reply.status, content_type, reply.body)
}

#[test]
fn the_bundle_from_a_revoked_certificates_page_proves_the_revocation_and_binds_the_holder() {
    // Given a credential, revoked, on a served ledger.
    let ledger = given_a_ledger_with_a_credential();
    let revoked = cli(&[
        "revoke",
        "--dir",
        s(&ledger.dir),
        "--cert-no",
        CERT,
        "--reason",
        "以欺骗手段取得",
        "--date",
        "2025-01-01",
    ]);
    let revocation = revoked["index"].as_u64().expect("the revocation's entry");
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));

    // When an employer looks it up, sees the red page, and downloads its bundle from there.
    let (_, page) = look_up(&served.address, &served.address, &form_for(CERT, "张三"));
    assert!(page.contains("data-status=\"revoked\""), "{page}");
    assert!(page.contains("action=\"/bundle\""), "{page}");
    let (status, content_type, bundle) = download_bundle(&served.address, &form_for(CERT, "张三"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bundle));
    assert_eq!(content_type.as_deref(), Some("text/plain; charset=utf-8"));
    let key_file = get(&served.address, "/verifier-key.txt");
    let (key_path, bundle_path) = (
        ledger.temp.path().join("verifier-key.txt"),
        ledger.temp.path().join("revoked.bundle"),
    );
    std::fs::write(&key_path, &key_file.body).expect("key file");
    std::fs::write(&bundle_path, &bundle).expect("bundle file");

    // Then, offline, the bundle says revoked at that entry (exit 1), and checks the holder.
    let (code, stdout, stderr) = run(&[
        "verify-bundle",
        s(&bundle_path),
        "--trust",
        s(&key_path),
        "--name",
        "张三",
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("REVOKED (已撤销) at entry {revocation}")),
        "{stdout}"
    );
    assert!(stdout.contains("持证人姓名相符"), "{stdout}");

    // And a download with a name that is not the holder's gets a Chinese page, no bundle.
    let (status, content_type, body) = download_bundle(&served.address, &form_for(CERT, "李四"));
    assert_eq!(status, 422);
    assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("姓名与证书不符"), "{text}");
    assert!(!text.contains("skill-ledger/bundle"), "{text}");
}

/// Posts a form to `path`; returns the reply.
fn person_form(id_no: &str, name: &str) -> String {
    support::form_encode(&[("id_type", "resident_id"), ("id_no", id_no), ("name", name)])
}

/// 张三's resident identity-card number in the fixture (support::issue_args).
const ID_NO: &str = "50010119900101123X";

#[test]
fn the_person_page_is_found_by_identity_number_and_name_and_never_by_the_number_alone() {
    // Given a served ledger where 张三 holds one credential.
    let ledger = given_a_ledger_with_a_credential();
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));
    let address = &served.address;

    // When the person form is opened from the navigation.
    let form = get(address, "/person");
    assert_eq!(form.status, 200, "{}", form.text());
    assert!(
        form.text().contains("method=\"post\" action=\"/person\""),
        "{}",
        form.text()
    );
    assert!(get(address, "/").text().contains("href=\"/person\""));

    // And the identity number and the name are posted.
    let found = post_form(address, "/person", &person_form(ID_NO, "张三"));

    // Then the person's page: current level, history with the certificate linked to its own
    // page by number only, the next step and its date; not cached; the number masked.
    assert_eq!(found.status, 200, "{}", found.text());
    assert_eq!(found.header("cache-control"), Some("no-store"));
    let page = found.text();
    assert!(page.contains("data-status=\"found\""), "{page}");
    assert!(page.contains("五级/初级工"), "{page}");
    assert!(
        page.contains(&format!("href=\"/?cert_no={CERT}\"")),
        "{page}"
    );
    assert!(page.contains("下一步可申报"), "{page}");
    assert!(page.contains("四级/中级工"), "the next level: {page}");
    assert!(page.contains("500***********123X"), "{page}");
    assert!(
        !page.contains(ID_NO),
        "the number is not spelled out: {page}"
    );
    assert!(!page.contains("UTC"), "{page}");

    // And a wrong name for that person reads exactly like an unknown person.
    let mismatched = post_form(address, "/person", &person_form(ID_NO, "李四"));
    let unknown = post_form(
        address,
        "/person",
        &person_form("11010519491231002X", "李四"),
    );
    assert_eq!(mismatched.status, 200);
    assert_eq!(unknown.status, 200);
    assert_eq!(mismatched.header("cache-control"), Some("no-store"));
    assert!(
        mismatched.text().contains("未查询到相关个人记录"),
        "{}",
        mismatched.text()
    );
    assert_eq!(mismatched.text(), unknown.text());
    assert!(!mismatched.text().contains(CERT));
}

#[test]
fn bad_person_input_is_answered_in_chinese_naming_the_field() {
    // Given a served ledger.
    let ledger = given_a_ledger_with_a_credential();
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));
    let address = &served.address;

    // When the number has a wrong check character, a wrong length, or the name is missing.
    for (form, field, said) in [
        (person_form("500101199001011230", "张三"), "id_no", "校验位"),
        (person_form("5001011990", "张三"), "id_no", "18 位"),
        (person_form(ID_NO, " "), "name", "姓名"),
        (
            format!("id_type=driving_licence&id_no={ID_NO}&name=x"),
            "id_type",
            "证件类型",
        ),
        ("id_no=1&id_no=2&name=x".to_string(), "form", "表单"),
    ] {
        let reply = post_form(address, "/person", &form);
        // Then a 400 page in Chinese that names the field, without the parser's English.
        assert_eq!(reply.status, 400, "{form}: {}", reply.text());
        let page = reply.text();
        assert!(page.contains(said), "{form}: {page}");
        if field != "form" {
            assert!(
                page.contains(&format!("data-field=\"{field}\"")),
                "{form}: {page}"
            );
        }
        assert!(
            !page.contains("duplicate") && !page.contains("check digit"),
            "{page}"
        );
    }
    // And a form that is not form-encoded is refused in Chinese too.
    let json = support::request(
        address,
        "POST",
        "/person",
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(json.status, 415, "{}", json.text());
    assert!(json.text().contains("表单"), "{}", json.text());
}

#[test]
fn the_person_lookup_shares_the_lookups_rate_limit() {
    // Given a served ledger allowing a burst of three lookups per client.
    let ledger = given_a_ledger_with_a_credential();
    let served = serve_with(
        &ledger.dir,
        &["--verify-rate-per-s", "0.2", "--verify-burst", "3"],
        &ledger.temp.path().join("serve.err"),
    );
    let address = &served.address;

    // When a client looks up two persons and one certificate.
    for _ in 0..2 {
        assert_eq!(
            post_form(address, "/person", &person_form(ID_NO, "张三")).status,
            200
        );
    }
    assert_eq!(
        post_form(address, "/query", &form_for(CERT, "张三")).status,
        200
    );

    // Then the next person lookup is refused with a Chinese page and Retry-After.
    let limited = post_form(address, "/person", &person_form(ID_NO, "张三"));
    assert_eq!(limited.status, 429, "{}", limited.text());
    assert!(limited.header("retry-after").is_some());
    assert!(
        limited.text().contains("查询过于频繁"),
        "{}",
        limited.text()
    );
    // And the form itself is not limited.
    assert_eq!(get(address, "/person").status, 200);
}

#[test]
fn a_recognition_page_is_only_for_recognised_partner_credentials() {
    // Given a served ledger with no partner.
    let ledger = given_a_ledger_with_a_credential();
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));
    let address = &served.address;

    // When a recognition page is asked for a home certificate, a partner number, or no
    // certificate number at all.
    let home = get(address, &format!("/recognitions/{CERT}"));
    let partner = get(address, "/recognitions/S000051000201254000014");
    let bad = get(address, "/recognitions/S0000");

    // Then 404 pages saying there is no recognition, and a 400 naming the number, in Chinese.
    for reply in [&home, &partner] {
        assert_eq!(reply.status, 404, "{}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(
            reply.text().contains("未查询到互认记录"),
            "{}",
            reply.text()
        );
    }
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert!(bad.text().contains("证书编号"), "{}", bad.text());
}
