//! The verification portal: server-rendered zh-CN pages for employers (证书查询), planners
//! (统计) and anyone checking a body (评价机构). Plain HTML and one inline stylesheet, no
//! script, readable on a phone.
//!
//! The lookup form calls the same [`verify::verify`](crate::verify::verify) as
//! `POST /v1/verify` and is under the same per-client rate limit. The answer to an unknown
//! number and to a name that does not match is the same page, so the form cannot be used to
//! learn which numbers exist; nothing personal is shown that the visitor did not type.
//!
//! The form is posted (`POST /query`, form-urlencoded) and answered with the result page
//! itself, `Cache-Control: no-store`: a holder's name and identity-document number are in no
//! address, so not in browser history, bookmarks, `Referer` headers or proxy logs. The QR
//! code of a result opens the lookup form with only the certificate number filled in
//! (`/?cert_no=…`). `GET /query` performs no lookup: it answers the form, with the
//! certificate number of its address (an old bookmark or QR code) and nothing else kept.
//!
//! * `charts.rs`: SVG bar and line charts. `pages.rs`: the pages from plain view models.
//! * `model.rs`: from ledger state and API views to those view models; the QR code.

pub mod charts;
pub mod model;
pub mod pages;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;
use serde::Deserialize;
use skill_ledger_domain::{CertificateNumber, Level, RegistrationNumber};
use skill_ledger_node::{stats_document, HolderBundle};

use crate::limits::verify_rate_limit;
use crate::state::AppState;
use crate::verify::{verify, VerifyRequest, VerifyStatus};
use pages::{Lookup, ProvinceStats};

/// Whether a request is for a page meant for people: one of the portal's paths, or any
/// other path outside the API and the log asked for by a browser (`Accept: text/html`).
fn wants_page(request: &Request) -> bool {
    let path = request.uri().path();
    if matches!(
        path,
        "/" | "/query" | "/person" | "/stats" | "/bodies" | "/verifier-key"
    ) || path.starts_with("/bodies/")
        || path.starts_with("/recognitions/")
    {
        return true;
    }
    let machine = [
        "/v1/",
        "/tile/",
        "/checkpoint",
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/add-checkpoint",
        "/verifier-key.txt",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix));
    !machine
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// The Chinese title and message of an error page, by status.
fn error_text(status: StatusCode, retry_after: Option<&str>) -> (&'static str, String) {
    match status {
        StatusCode::NOT_FOUND => (
            "页面不存在",
            "您访问的页面不存在，请从证书查询页面重新进入。".to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "请求方式有误",
            "本页面不支持该请求方式，请从证书查询页面重新进入。".to_string(),
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            "查询过于频繁",
            match retry_after {
                Some(seconds) => format!("您的查询过于频繁，请 {seconds} 秒后再试。"),
                None => "您的查询过于频繁，请稍后再试。".to_string(),
            },
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("请求内容过长", "提交的内容过长，请核对后重试。".to_string())
        }
        StatusCode::REQUEST_TIMEOUT => ("请求超时", "请求未在规定时间内送达，请重试。".to_string()),
        StatusCode::SERVICE_UNAVAILABLE => ("服务繁忙", "服务暂时繁忙，请稍后再试。".to_string()),
        status if status.is_client_error() => (
            "请求有误",
            "请求有误，请从证书查询页面重新进入。".to_string(),
        ),
        _ => (
            "服务暂不可用",
            "服务暂时无法完成请求，请稍后再试。".to_string(),
        ),
    }
}

/// Middleware (outermost): a problem document answering a request for a page (a 404, a
/// 405, the rate limit's 429, the layers' 413, 408 and 503) becomes a Chinese page with the
/// same status and headers (`Retry-After` kept): the problem's title and detail are the
/// API's English, meant for programs.
pub async fn html_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let page = wants_page(&request);
    let response = next.run(request).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with(crate::problem::PROBLEM_CONTENT_TYPE));
    if !page || !is_problem {
        return response;
    }
    let (mut parts, _problem) = response.into_parts();
    let retry_after = parts
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let (title, message) = error_text(parts.status, retry_after.as_deref());
    let markup = pages::message_page(ledger_label(&state), title, &message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, axum::body::Body::from(markup.into_string()))
}

/// The portal's routes.
pub fn routes(state: AppState) -> Router<AppState> {
    // The rate limit is on the lookup (POST) only; GET answers the form.
    let query_route = post(query)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            verify_rate_limit,
        ))
        .get(lookup);
    // A holder-bound bundle checks the name like a lookup: the same limit.
    let bundle_route = post(holder_bundle).route_layer(middleware::from_fn_with_state(
        state.clone(),
        verify_rate_limit,
    ));
    // A person lookup checks a name too (and pseudonymises a document number): the same
    // limit, on the posted lookup only.
    let person_route = post(person_query)
        .route_layer(middleware::from_fn_with_state(state, verify_rate_limit))
        .get(person_lookup);
    Router::new()
        .route("/", get(lookup))
        .route("/query", query_route)
        .route("/bundle", bundle_route)
        .route("/person", person_route)
        .route("/recognitions/{cert_no}", get(recognition))
        .route("/stats", get(stats))
        .route("/bodies", get(bodies))
        .route("/bodies/{reg_no}", get(body))
        .route("/verifier-key", get(verifier_key))
        .route("/verifier-key.txt", get(verifier_key_text))
}

/// 查询暂不可用: the page of a lookup the node could not answer (500, not kept).
fn unavailable(label: &str, message: &str) -> Response {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::message_page(label, "查询暂不可用", message),
        "no-store",
    )
}

fn html(status: StatusCode, markup: Markup, cache: &'static str) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

fn ledger_label(state: &AppState) -> &'static str {
    state.node.province().name_zh()
}

/// The certificate number a lookup address may fill in (`/?cert_no=…`); any other parameter
/// (an old address's `name`, `id_no`) is ignored.
#[derive(Deserialize)]
struct Prefill {
    #[serde(default)]
    cert_no: String,
}

/// 证书查询: the form, with the certificate number of the address filled in (the QR code of
/// a result links here). Also the answer to `GET /query`, which looks nothing up.
async fn lookup(State(state): State<AppState>, uri: Uri) -> Response {
    let cert_no = Query::<Prefill>::try_from_uri(&uri)
        .map(|Query(prefill)| prefill.cert_no.trim().to_string())
        .unwrap_or_default();
    // A certificate number is 22 characters; anything much longer is not one.
    let cert_no = if cert_no.chars().count() <= 64 {
        cert_no
    } else {
        String::new()
    };
    let cache = if uri.query().is_none() {
        "public, max-age=60"
    } else {
        "no-store"
    };
    html(
        StatusCode::OK,
        pages::lookup_page(ledger_label(&state), &cert_no),
        cache,
    )
}

#[derive(Deserialize)]
struct LookupQuery {
    #[serde(default)]
    cert_no: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    id_no: String,
}

/// The address the QR code of a result opens: the lookup form with the certificate number
/// filled in, under the configured public address (`public_base_url`, never the request's
/// `Host`, which the client chooses: a forged one would make the QR code point elsewhere).
/// Never the name or the document number: whoever scans it types the name again.
fn result_url(state: &AppState, cert_no: &str) -> String {
    format!(
        "{}/?cert_no={}",
        state.config.public_base_url(),
        model::query_escape(cert_no)
    )
}

/// The posted lookup form, read within the body limit and the request timeout; a page
/// saying what is wrong otherwise.
async fn read_lookup_form(request: Request, state: &AppState) -> Result<LookupQuery, Response> {
    read_form(request, state).await
}

/// A posted form, read within the body limit and the request timeout; a page saying what
/// is wrong otherwise.
async fn read_form<T: serde::de::DeserializeOwned>(
    request: Request,
    state: &AppState,
) -> Result<T, Response> {
    let label = ledger_label(state);
    let refuse = |status: StatusCode, message: &str| {
        html(
            status,
            pages::message_page(label, "查询请求有误", message),
            "no-store",
        )
    };
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "查询须通过本页的查询表单提交。",
        ));
    }
    let read = Bytes::from_request(request, state);
    let bytes = match tokio::time::timeout(state.config.request_timeout(), read).await {
        Err(_) => {
            return Err(refuse(
                StatusCode::REQUEST_TIMEOUT,
                "表单未在规定时间内送达，请重试。",
            ))
        }
        Ok(Err(rejection)) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "表单内容过长。"))
        }
        Ok(Err(_)) => return Err(refuse(StatusCode::BAD_REQUEST, "表单读取失败，请重试。")),
        Ok(Ok(bytes)) => bytes,
    };
    // The parser's own message is English and names Rust types: logged, not shown.
    serde_urlencoded::from_bytes::<T>(&bytes).map_err(|error| {
        tracing::debug!(%error, "portal lookup form refused");
        refuse(
            StatusCode::BAD_REQUEST,
            "表单内容有误（例如同一项填写了两次），请通过本页的查询表单重新提交。",
        )
    })
}

/// 下载离线核验包: the bundle of a credential bound to its holder, posted from the result page
/// with the certificate number and the name typed there. A wrong name, or a certificate not
/// on this ledger, gets a Chinese page and no bundle.
async fn holder_bundle(State(state): State<AppState>, request: Request) -> Response {
    let form = match read_lookup_form(request, &state).await {
        Ok(form) => form,
        Err(page) => return page,
    };
    let label = ledger_label(&state);
    let refuse = |status: StatusCode, title: &str, message: &str| {
        html(
            status,
            pages::message_page(label, title, message),
            "no-store",
        )
    };
    let Ok(number) = form.cert_no.trim().parse::<CertificateNumber>() else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "查询请求有误",
            "证书编号应为 22 位（1 位字母 Y 或 S 加 21 位数字），请通过查询页下载核验包。",
        );
    };
    if form.name.trim().is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "查询请求有误",
            "请先在查询页填写证书上的姓名，再下载核验包。",
        );
    }
    match crate::api::built_bundle(&state, number, Some(form.name.clone())).await {
        Ok(HolderBundle::Bundle(text)) => crate::api::bundle_response(&number, text),
        Ok(HolderBundle::NameMismatch) => refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "姓名与证书不符",
            "所填姓名与该证书的持证人不符，未生成核验包。请核对后重新查询。",
        ),
        Ok(HolderBundle::Unknown) => refuse(
            StatusCode::NOT_FOUND,
            "未查询到相关证书信息",
            "本账本中没有该编号的证书；外省证书的核验包请到发证地的证书查询网站下载。",
        ),
        Err(problem) => {
            tracing::error!(detail = %problem.detail, "portal bundle failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "核验包暂不可用",
                "数据读取失败，请稍后再试。",
            )
        }
    }
}

/// 证书查询: the result of a posted lookup, answered directly (no redirect, `no-store`).
async fn query(State(state): State<AppState>, request: Request) -> Response {
    let form = match read_lookup_form(request, &state).await {
        Ok(form) => form,
        Err(page) => return page,
    };
    let label = ledger_label(&state);
    let cert_no = form.cert_no.trim().to_string();
    let id_no = form.id_no.trim();
    let request = VerifyRequest {
        certificate_number: cert_no.clone(),
        name: form.name.clone(),
        id_number: (!id_no.is_empty()).then(|| id_no.to_string()),
        id_type: None,
    };
    let (status, lookup) = match crate::verify::VerifyQuery::from_request(&request) {
        Err(problem) => {
            let field = match problem
                .extensions
                .get("field")
                .and_then(|value| value.as_str())
            {
                Some("certificate_number") => "cert_no",
                Some("name") => "name",
                Some("id_number") => "id_no",
                _ => "form",
            };
            // The problem's detail is the API's English: the page says it in Chinese.
            let message = match field {
                "cert_no" => format!(
                    "证书编号应为 22 位（1 位字母 Y 或 S 加 21 位数字），您填写的是 {} 位，请核对证书上的编号。",
                    cert_no.chars().count()
                ),
                "name" => "请填写证书上的姓名（不超过 200 字）。".to_string(),
                "id_no" => "身份证件号码过长。".to_string(),
                _ => "查询内容有误，请核对后重新提交。".to_string(),
            };
            (StatusCode::BAD_REQUEST, Lookup::BadInput { field, message })
        }
        Ok(query) => {
            let shared = state.clone();
            let answer = tokio::task::spawn_blocking(move || {
                verify(&shared, &query).map(|verification| {
                    let authority = issuing_authority(&shared, verification.ledger.as_deref());
                    // A partner's credential this ledger recognised links its recognition.
                    let recognition = verification
                        .credential
                        .as_ref()
                        .and(verification.ledger.as_deref())
                        .filter(|origin| *origin != shared.node.origin())
                        .and_then(|origin| {
                            recognition_of(&shared, origin, &query.certificate_number)
                        })
                        .map(|record| pages::RecognitionLink {
                            url: model::recognition_url(record.certificate_number.as_str()),
                            active: record.is_active(),
                        });
                    (verification, authority, recognition)
                })
            })
            .await;
            match answer {
                Ok(Ok((verification, authority, recognition))) => {
                    let checked = verification
                        .checked_against
                        .as_ref()
                        .map(model::checked_against);
                    match (
                        &verification.status,
                        &verification.credential,
                        &verification.special_ability,
                        checked,
                    ) {
                        (
                            VerifyStatus::Valid | VerifyStatus::Revoked,
                            Some(credential),
                            _,
                            Some(checked),
                        ) => {
                            // The VC of a credential of this ledger, once the ledger issues VCs.
                            let vc_url = (verification.mirror.is_none()
                                && state.node.vc_controller_document().is_ok())
                            .then(|| {
                                format!("/v1/credentials/{}/vc", model::query_escape(&cert_no))
                            });
                            let url = match (&vc_url, state.config.qr_code) {
                                (Some(vc), crate::config::QrCode::Vc) => {
                                    format!("{}{vc}", state.config.public_base_url())
                                }
                                _ => result_url(&state, &cert_no),
                            };
                            let mut view = model::credential_page_view(
                                credential,
                                &issuing_ledger_label(&cert_no, label),
                                &authority,
                                checked,
                            );
                            view.mirror = verification.mirror.as_ref().map(model::mirror_note);
                            view.recognition = recognition;
                            (
                                StatusCode::OK,
                                Lookup::Found {
                                    credential: Box::new(view),
                                    qr_svg: model::qr_svg(&url),
                                    result_url: url,
                                    // A partner's bundle comes from the partner's node.
                                    bundle_url: if verification.mirror.is_some() {
                                        String::new()
                                    } else {
                                        "/bundle".to_string()
                                    },
                                    vc_url,
                                },
                            )
                        }
                        // A 专项职业能力证书 (no level): its ability instead of a credential.
                        (
                            VerifyStatus::Valid | VerifyStatus::Revoked,
                            None,
                            Some(found),
                            Some(checked),
                        ) => {
                            let view = model::special_ability_page_view(
                                found,
                                &issuing_ledger_label(&cert_no, label),
                                &authority,
                                checked,
                            );
                            let url = result_url(&state, &cert_no);
                            (
                                StatusCode::OK,
                                Lookup::Found {
                                    credential: Box::new(view),
                                    qr_svg: model::qr_svg(&url),
                                    result_url: url,
                                    bundle_url: String::new(),
                                    vc_url: None,
                                },
                            )
                        }
                        (_, _, _, checked) => (
                            StatusCode::OK,
                            Lookup::NotFound {
                                cert_no: cert_no.clone(),
                                checked: checked.map(|mut checked| {
                                    checked.authority_name = Some(authority.clone());
                                    checked
                                }),
                            },
                        ),
                    }
                }
                Ok(Err(error)) => {
                    tracing::error!(%error, "portal lookup failed");
                    return unavailable(label, "数据读取失败，请稍后再试。");
                }
                Err(error) => {
                    tracing::error!(%error, "portal lookup task failed");
                    return unavailable(label, "请稍后再试。");
                }
            }
        }
    };
    html(
        status,
        pages::result_page(label, &lookup, &cert_no, &form.name),
        "no-store",
    )
}

/// The authority that signs the ledger that answered (`Verification::ledger`): this one's,
/// or a partner's from its mirror's registry (entry 0 names it).
fn issuing_authority(state: &AppState, ledger: Option<&str>) -> String {
    let partner = ledger
        .filter(|origin| *origin != state.node.origin())
        .and_then(|origin| {
            state
                .federation
                .partners()
                .iter()
                .find(|partner| partner.origin() == origin)
        });
    match partner {
        Some(partner) => partner
            .reader()
            .registry()
            .map(|registry| authority_name(&registry))
            .unwrap_or_else(|_| "伙伴省份人力资源社会保障部门".to_string()),
        None => authority_name(&state.node.registry()),
    }
}

/// The province that issued a certificate, by name.
fn issuing_ledger_label(cert_no: &str, home: &str) -> String {
    cert_no
        .parse::<skill_ledger_domain::CertificateNumber>()
        .map_or_else(
            |_| home.to_string(),
            |number| number.province().name_zh().to_string(),
        )
}

/// The year-end high-skill shares from a statistics document (`holders.by_year`).
fn share_by_year(document: &serde_json::Value) -> Vec<(String, f64)> {
    document["holders"]["by_year"]
        .as_object()
        .map(|years| {
            years
                .iter()
                .filter_map(|(year, figures)| {
                    figures["high_skill_share"]
                        .as_f64()
                        .map(|share| (year.clone(), share))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn issued_latest_year(document: &serde_json::Value) -> Option<String> {
    document["certificates"]["issued_by_year"]
        .as_object()
        .and_then(|years| years.keys().max().cloned())
}

fn province_stats(label: &str, document: &serde_json::Value) -> ProvinceStats {
    let (holders_by_level, issued_by_year) = model::stats_series(document);
    let holders = &document["holders"];
    let high_skill: u64 = Level::ALL
        .iter()
        .filter(|level| level.is_high_skill())
        .map(|level| {
            holders["by_highest_level"][level.id()]
                .as_u64()
                .unwrap_or(0)
        })
        .sum();
    ProvinceStats {
        label: label.to_string(),
        holders_total: holders["total"].as_u64().unwrap_or(0),
        high_skill,
        high_skill_share: holders["high_skill_share"].as_f64().unwrap_or(0.0),
        holders_by_level,
        issued_by_year,
        recognitions_active: document["recognitions"]["active"].as_u64().unwrap_or(0),
        recognitions_withdrawn: document["recognitions"]["withdrawn"].as_u64().unwrap_or(0),
        share_by_year: {
            let by_year = share_by_year(document);
            if by_year.is_empty() {
                // Without year-end figures, today's share at the latest issue year.
                issued_latest_year(document)
                    .map(|year| vec![(year, holders["high_skill_share"].as_f64().unwrap_or(0.0))])
                    .unwrap_or_default()
            } else {
                by_year
            }
        },
        checked: None,
        mirror: None,
    }
}

/// The partners' figures, from the verified mirrors of their ledgers.
fn partner_stats(state: &AppState) -> Vec<ProvinceStats> {
    let health = state.federation.health();
    state
        .federation
        .partners()
        .iter()
        .filter_map(|partner| {
            let reader = partner.reader();
            let counters = reader.stats().ok()?;
            let label = model::origin_label(reader.origin());
            let mut figures = province_stats(&label, &stats_document(&counters));
            let checkpoint = reader.checkpoint().ok().flatten();
            let authority = reader
                .registry()
                .ok()
                .map(|registry| authority_name(&registry));
            figures.checked = checkpoint.as_ref().map(|signed| {
                let mut checked =
                    model::checked_against(&crate::views::CheckpointView::new(signed));
                checked.authority_name = authority.clone();
                checked
            });
            figures.mirror = health
                .iter()
                .find(|item| item.origin == reader.origin())
                .and_then(|item| item.mirror.as_ref())
                .map(model::mirror_note);
            Some(figures)
        })
        .collect()
}

/// 统计: holders per level, the high-skill share per year, new certificates per year, for
/// this ledger and (from the mirrors) its partners.
async fn stats(State(state): State<AppState>) -> Response {
    let label = ledger_label(&state);
    let shared = state.clone();
    let read = tokio::task::spawn_blocking(move || {
        let checkpoint = shared.node.checkpoint();
        let partners = partner_stats(&shared);
        shared
            .node
            .stats()
            .map(|counters| (counters, checkpoint, partners))
    })
    .await;
    let (counters, checkpoint, partners) = match read {
        Ok(Ok(read)) => read,
        _ => {
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::message_page(label, "统计暂不可用", "数据读取失败，请稍后再试。"),
                "no-store",
            )
        }
    };
    let mut home = province_stats(label, &stats_document(&counters));
    let authority = authority_name(&state.node.registry());
    home.checked = checkpoint.as_deref().map(|signed| {
        let mut checked = model::checked_against(&crate::views::CheckpointView::new(signed));
        checked.authority_name = Some(authority.clone());
        checked
    });
    let mut provinces = vec![home];
    provinces.extend(partners);
    html(
        StatusCode::OK,
        pages::stats_page(label, &provinces),
        "public, max-age=5",
    )
}

/// 评价机构: the bodies registered on this ledger.
async fn bodies(State(state): State<AppState>) -> Response {
    let label = ledger_label(&state);
    let registry = state.node.registry();
    let list: Vec<pages::BodySummary> = registry.bodies.values().map(model::body_summary).collect();
    html(
        StatusCode::OK,
        pages::bodies_page(label, &list),
        "public, max-age=5",
    )
}

/// 评价机构: one body's registration, scope and status. A body of a partner's province (a
/// certificate from the mirror links to it) is read from the partner's mirror.
async fn body(
    State(state): State<AppState>,
    reg_no: Result<Path<String>, PathRejection>,
) -> Response {
    let label = ledger_label(&state);
    let bad_number = || {
        html(
            StatusCode::BAD_REQUEST,
            pages::message_page(
                label,
                "备案编号有误",
                "评价机构备案编号应为 13 位（1 位字母 Y 或 S 加 12 位数字）。",
            ),
            "no-store",
        )
    };
    let Ok(Path(reg_no)) = reg_no else {
        return bad_number();
    };
    let Ok(number) = reg_no.trim().parse::<RegistrationNumber>() else {
        return bad_number();
    };
    let shared = state.clone();
    let read = tokio::task::spawn_blocking(move || body_view_of(&shared, number)).await;
    match read {
        Ok(Ok(Some(view))) => html(
            StatusCode::OK,
            pages::body_page(label, &view),
            "public, max-age=5",
        ),
        Ok(Ok(None)) => html(
            StatusCode::NOT_FOUND,
            pages::message_page(
                label,
                "未找到评价机构",
                &format!("没有备案编号为 {number} 的评价机构。"),
            ),
            "no-store",
        ),
        Ok(Err(error)) => {
            tracing::error!(%error, "portal body page: the partner mirror could not be read");
            unavailable(label, "伙伴账本镜像读取失败，请稍后再试。")
        }
        Err(error) => {
            tracing::error!(%error, "portal body page task failed");
            unavailable(label, "请稍后再试。")
        }
    }
}

/// A body's page view: from this ledger's registry, or, for a body of a partner's province,
/// from the partner's mirror (with the mirror's freshness).
fn body_view_of(
    state: &AppState,
    number: RegistrationNumber,
) -> Result<Option<pages::BodyView>, skill_ledger_sync::SyncError> {
    if number.province() == state.node.province() {
        let registry = state.node.registry();
        return Ok(registry
            .bodies
            .get(&number)
            .map(|record| model::body_view(record, registry.catalogue.as_deref())));
    }
    let Some((partner, registry)) = state.federation.partner_registry(number.province())? else {
        return Ok(None);
    };
    let Some(record) = registry.bodies.get(&number) else {
        return Ok(None);
    };
    let mut view = model::body_view(record, registry.catalogue.as_deref());
    view.mirror = state
        .federation
        .health()
        .iter()
        .find(|item| item.origin == partner.origin())
        .and_then(|item| item.mirror.as_ref())
        .map(model::mirror_note);
    Ok(Some(view))
}

/// The authority that runs this ledger, as entry 0 names it.
fn authority_name(registry: &skill_ledger_domain::Registry) -> String {
    registry.ledger.as_ref().map_or_else(
        || "人力资源和社会保障部门".to_string(),
        |ledger| ledger.authority_name.clone(),
    )
}

/// 离线核验公钥: the checkpoint verifier key offline bundles are checked with, and its
/// fingerprint.
async fn verifier_key(State(state): State<AppState>) -> Response {
    let vkey = state.node.verifier_key_text().to_string();
    let view = pages::VerifierKeyView {
        origin: state.node.origin().to_string(),
        authority_name: authority_name(&state.node.registry()),
        fingerprint: model::key_fingerprint(&vkey),
        vkey,
    };
    html(
        StatusCode::OK,
        pages::verifier_key_page(ledger_label(&state), &view),
        "public, max-age=60",
    )
}

/// The verifier key as a file (what `verify-bundle --trust` reads), one line.
async fn verifier_key_text(State(state): State<AppState>) -> Response {
    let mut response = format!("{}\n", state.node.verifier_key_text()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"verifier-key.txt\""),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    response
}

/// This ledger's recognition (互认) of the partner credential `number` of `origin`, the
/// latest when there are several; `None` when there is none or the ledger cannot be read.
fn recognition_of(
    state: &AppState,
    origin: &str,
    number: &CertificateNumber,
) -> Option<skill_ledger_domain::RecognitionRecord> {
    match state.node.recognitions(origin) {
        Ok(recognitions) => recognitions
            .into_iter()
            .map(|(_, record)| record)
            .filter(|record| record.certificate_number == *number)
            .max_by_key(|record| record.entry_index),
        Err(error) => {
            tracing::error!(%error, "portal: the recognitions could not be read");
            None
        }
    }
}

/// The posted person form.
#[derive(Deserialize)]
struct PersonForm {
    #[serde(default)]
    id_type: String,
    #[serde(default)]
    id_no: String,
    #[serde(default)]
    name: String,
}

/// 个人查询: the form. The lookup is posted: no address carries a name or a document number.
async fn person_lookup(State(state): State<AppState>) -> Response {
    html(
        StatusCode::OK,
        pages::person_lookup_page(ledger_label(&state)),
        "public, max-age=60",
    )
}

/// Why a document number was refused, in Chinese, for the person who typed it.
fn document_number_message(error: &skill_ledger_domain::DocumentNumberError) -> String {
    use skill_ledger_domain::DocumentNumberErrorKind as Kind;
    let why = match &error.kind {
        Kind::Empty => "请填写身份证件号码".to_string(),
        Kind::WrongLength { length } => {
            format!("居民身份证号码应为 18 位，您填写的是 {length} 位")
        }
        Kind::FirstGeneration => "不受理 15 位的第一代身份证号码，请填写 18 位号码".to_string(),
        Kind::BadCharacter { position, .. } => {
            format!("第 {position} 位字符有误（前 17 位为数字，最后一位为数字或 X）")
        }
        Kind::UnknownProvince { .. } => "前两位不是有效的省份代码".to_string(),
        Kind::BadBirthDate { .. } => "第 7 至 14 位不是有效的出生日期".to_string(),
        Kind::CheckDigit { .. } => "校验位不符，请逐位核对".to_string(),
        Kind::LengthOutOfBounds {
            length_min,
            length_max,
            ..
        } => format!("证件号码应为 {length_min} 至 {length_max} 位字母或数字"),
        _ => "格式有误".to_string(),
    };
    format!("身份证件号码有误：{why}。")
}

/// Whether `name` is the holder named by one of the person's credentials: a credential of
/// this ledger (its name commitment, as the lookup checks it), or a partner's credential
/// the person holds here by recognition, checked in the partner's mirror (the partners
/// share the pseudonym key, so the commitment opens the same way). The credential must
/// carry the same subject.
fn name_matches_person(
    state: &AppState,
    subject: &skill_ledger_domain::SubjectId,
    person: &skill_ledger_domain::PersonRecord,
    career: &skill_ledger_domain::CareerRecord,
    name: &str,
) -> Result<bool, skill_ledger_node::NodeError> {
    // A 专项职业能力证书 carries the holder's name commitment too.
    let key = state.node.pseudonym_key();
    if career.special_abilities.iter().any(|record| {
        record.subject == *subject
            && key.name_matches(
                record.certificate_number.as_str(),
                name,
                &record.name_commitment,
            )
    }) {
        return Ok(true);
    }
    let numbers = person
        .holdings
        .iter()
        .map(|holding| holding.certificate_number)
        .chain(
            career
                .recognitions
                .iter()
                .map(|recognition| recognition.certificate_number),
        );
    let mirrors = state.federation.mirrors();
    for number in numbers {
        if number.province() == state.node.province() {
            if let skill_ledger_node::NameCheck::Matched(credential) =
                state.node.check_name(&number, name)?
            {
                if credential.subject == *subject {
                    return Ok(true);
                }
            }
            continue;
        }
        let found = match crate::federation::answering_partner(&mirrors, &number) {
            Ok(Some((_, Some(found)))) => found,
            Ok(_) => continue,
            Err(error) => {
                tracing::warn!(%error, "portal person lookup: a partner mirror could not answer");
                continue;
            }
        };
        if found.record.subject == *subject
            && state.node.pseudonym_key().name_matches(
                number.as_str(),
                name,
                &found.record.name_commitment,
            )
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The partner occupation's name, from the partner's mirror catalogue.
fn partner_occupation_view(
    state: &AppState,
    origin: &str,
    code: skill_ledger_domain::OccupationCode,
) -> pages::OccupationView {
    let registry = state
        .federation
        .partners()
        .iter()
        .find(|partner| partner.origin() == origin)
        .and_then(|partner| partner.reader().registry().ok());
    model::occupation_view(
        registry
            .as_ref()
            .and_then(|registry| registry.catalogue.as_deref()),
        code,
    )
}

/// The person's page, or `None` for an unknown person or a name matching none of the
/// person's credentials (one answer for both).
fn person_view_of(
    state: &AppState,
    kind: skill_ledger_domain::IdDocumentType,
    number: &str,
    name: &str,
) -> Result<Option<pages::PersonPageView>, skill_ledger_node::NodeError> {
    // Computed here, kept nowhere: the subject is the keyed hash of the document.
    let subject = state.node.pseudonym_key().subject(kind, number);
    let person = state.node.person(&subject)?;
    let career = state.node.career(&subject)?;
    if person.is_none() && career.is_none() {
        return Ok(None);
    }
    let person = person.unwrap_or_default();
    let career = career.unwrap_or_default();
    if !name_matches_person(state, &subject, &person, &career, name)? {
        return Ok(None);
    }
    let registry = state.node.registry();
    let partner_occupation = |origin: &str, code| partner_occupation_view(state, origin, code);
    Ok(Some(model::person_page_view(
        name,
        model::mask_document_number(number),
        &person,
        &career,
        &registry,
        state.node.today(),
        &partner_occupation,
    )))
}

/// The home checkpoint line of a page, with the authority's name.
fn home_checked(state: &AppState) -> Option<pages::CheckedAgainst> {
    let authority = authority_name(&state.node.registry());
    state.node.checkpoint().map(|signed| {
        let mut checked = model::checked_against(&crate::views::CheckpointView::new(&signed));
        checked.authority_name = Some(authority);
        checked
    })
}

/// 个人查询: the person's page for a posted identity-document number and name. The subject
/// is computed on the server from the number and kept nowhere; the page is `no-store`. An
/// unknown person and a name matching none of the person's credentials get the same page.
async fn person_query(State(state): State<AppState>, request: Request) -> Response {
    let form: PersonForm = match read_form(request, &state).await {
        Ok(form) => form,
        Err(page) => return page,
    };
    let label = ledger_label(&state);
    let id_type = if form.id_type.trim().is_empty() {
        "resident_id".to_string()
    } else {
        form.id_type.trim().to_string()
    };
    let answer = |status: StatusCode, lookup: pages::PersonLookup| {
        html(
            status,
            pages::person_result_page(label, &lookup, &form.name, &id_type),
            "no-store",
        )
    };
    let bad = |field: &'static str, message: String| {
        answer(
            StatusCode::BAD_REQUEST,
            pages::PersonLookup::BadInput { field, message },
        )
    };
    let Some(kind) = skill_ledger_domain::IdDocumentType::from_code(&id_type) else {
        return bad("id_type", "请选择证件类型。".to_string());
    };
    if form.id_no.chars().count() > crate::verify::HOLDER_TEXT_CHARS_MAX {
        return bad("id_no", "身份证件号码过长。".to_string());
    }
    let number = match skill_ledger_domain::check_document_number(kind, &form.id_no) {
        Ok(number) => number,
        Err(error) => return bad("id_no", document_number_message(&error)),
    };
    if skill_ledger_domain::check_holder_name(&form.name).is_err() {
        return bad(
            "name",
            "请填写证书上的姓名（不超过 64 字，不含控制字符）。".to_string(),
        );
    }
    let shared = state.clone();
    let name = form.name.clone();
    let read = tokio::task::spawn_blocking(move || {
        person_view_of(&shared, kind, &number, &name).map(|view| (view, home_checked(&shared)))
    })
    .await;
    match read {
        Ok(Ok((Some(mut view), checked))) => {
            view.checked = checked;
            answer(StatusCode::OK, pages::PersonLookup::Found(Box::new(view)))
        }
        Ok(Ok((None, checked))) => {
            answer(StatusCode::OK, pages::PersonLookup::NotFound { checked })
        }
        Ok(Err(error)) => {
            tracing::error!(%error, "portal person lookup failed");
            unavailable(label, "数据读取失败，请稍后再试。")
        }
        Err(error) => {
            tracing::error!(%error, "portal person lookup task failed");
            unavailable(label, "请稍后再试。")
        }
    }
}

/// 互认: a partner credential this ledger recognised, by its number (not personal: the
/// page shows no name). Origin ledger and the freshness of this node's mirror of it, the
/// occupation mapping, the status (withdrawn with reason and date).
async fn recognition(
    State(state): State<AppState>,
    cert_no: Result<Path<String>, PathRejection>,
) -> Response {
    let label = ledger_label(&state);
    let page = |status: StatusCode, title: &str, message: &str| {
        html(
            status,
            pages::message_page(label, title, message),
            "no-store",
        )
    };
    let number = match cert_no {
        Ok(Path(cert_no)) => cert_no.trim().parse::<CertificateNumber>().ok(),
        Err(_) => None,
    };
    let Some(number) = number else {
        return page(
            StatusCode::BAD_REQUEST,
            "证书编号有误",
            "证书编号应为 22 位（1 位字母 Y 或 S 加 21 位数字），请核对后重试。",
        );
    };
    let shared = state.clone();
    let read = tokio::task::spawn_blocking(move || recognition_view_of(&shared, number)).await;
    match read {
        Ok(Ok(Some(view))) => html(
            StatusCode::OK,
            pages::recognition_page(label, &view),
            "public, max-age=5",
        ),
        Ok(Ok(None)) => page(
            StatusCode::NOT_FOUND,
            "未查询到互认记录",
            &format!("本账本没有编号为 {number} 的外省证书的互认记录。本地颁发的证书请在证书查询页查询。"),
        ),
        Ok(Err(error)) => {
            tracing::error!(%error, "portal recognition page failed");
            unavailable(label, "数据读取失败，请稍后再试。")
        }
        Err(error) => {
            tracing::error!(%error, "portal recognition page task failed");
            unavailable(label, "请稍后再试。")
        }
    }
}

/// A recognition's page view: this ledger's record, and from the origin's mirror its
/// catalogue, its authority, the credential's status there and the mirror's freshness.
fn recognition_view_of(
    state: &AppState,
    number: CertificateNumber,
) -> Result<Option<pages::RecognitionPageView>, String> {
    if number.province() == state.node.province() {
        return Ok(None);
    }
    let partner = state
        .federation
        .partner_for(&number)
        .map_err(|error| error.to_string())?;
    // The origin: the answering partner's; without one, whichever origin recorded it.
    let origins: Vec<String> = match &partner {
        Some((partner, _)) => vec![partner.origin().to_string()],
        None => Vec::new(),
    };
    let Some(record) = origins
        .iter()
        .find_map(|origin| recognition_of(state, origin, &number))
    else {
        return Ok(None);
    };
    let registry = state.node.registry();
    let partner_registry = partner
        .as_ref()
        .and_then(|(partner, _)| partner.reader().registry().ok());
    let mut view = model::recognition_page_view(
        &record,
        registry.catalogue.as_deref(),
        partner_registry
            .as_ref()
            .and_then(|registry| registry.catalogue.as_deref()),
        &authority_name(&registry),
    );
    view.origin_authority = partner_registry.as_deref().map(authority_name);
    if let Some((partner, found)) = &partner {
        view.revoked_at_origin = found.as_ref().map(|found| !found.record.is_valid());
        view.mirror = state
            .federation
            .health()
            .iter()
            .find(|item| item.origin == partner.origin())
            .and_then(|item| item.mirror.as_ref())
            .map(model::mirror_note);
        view.origin_checked = partner
            .reader()
            .checkpoint()
            .ok()
            .flatten()
            .map(|held| model::checked_against(&crate::views::CheckpointView::new(&held)));
    }
    view.checked = home_checked(state);
    Ok(Some(view))
}
