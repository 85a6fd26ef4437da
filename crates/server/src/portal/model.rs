//! From ledger state to the portal's view models: labels in Chinese, dates as text, the QR
//! code. Pure: the handlers read the node and pass what they read.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use serde_json::Value;
use skill_ledger_domain::{
    Audience, BodyRecord, BodyStatus, CareerRecord, Catalogue, Date, Level, OccupationCode,
    PersonRecord, RecognitionRecord, RecognitionWithdrawal, Registry, RouteKind, WithdrawalReason,
};

use super::pages::{
    BodySummary, BodyView, CheckedAgainst, CredentialView, CurrentLevelView, HoldingView,
    IssuerWarningView, MirrorNote, NextStepView, OccupationView, PersonPageView, PostView,
    RecognitionPageView, RecognitionSummary, ScopeView, SpecialAbilityRow, StatusView,
    WithdrawnView,
};
use crate::federation::MirrorView;
use crate::views::{CheckpointView, CredentialView as ApiCredential};

/// The QR code of `url` as inline SVG (medium error correction, quiet zone included).
pub fn qr_svg(url: &str) -> String {
    match QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(160, 160)
            .dark_color(svg::Color("#1d2733"))
            .light_color(svg::Color("#ffffff"))
            .build(),
        // Only an address longer than a QR code holds gets here; the page shows the address.
        Err(_) => String::new(),
    }
}

/// The fingerprint of a verifier key as the key page shows it: SHA-256 of the key text
/// (UTF-8, no line end) in lowercase hex, in groups of four for reading aloud. The same
/// as `printf %s "$KEY" | sha256sum`, grouped.
pub fn key_fingerprint(key_text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(key_text.as_bytes()));
    digest
        .as_bytes()
        .chunks(4)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
pub fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn audience_label(audience: Audience) -> &'static str {
    match audience {
        Audience::OwnStaff => "本单位职工",
        Audience::OwnStudents => "本校学生",
        Audience::Public => "社会人员",
    }
}

fn status_class(status: BodyStatus) -> &'static str {
    match status {
        BodyStatus::Active => "active",
        BodyStatus::Suspended => "suspended",
        BodyStatus::Cancelled => "cancelled",
    }
}

fn occupation_name(
    catalogue: Option<&Catalogue>,
    code: skill_ledger_domain::OccupationCode,
) -> String {
    catalogue
        .and_then(|catalogue| catalogue.get(code))
        .map_or_else(
            || "（目录外职业）".to_string(),
            |occupation| occupation.name.clone(),
        )
}

/// Beijing time (UTC+8, no daylight saving), in seconds east of UTC.
const BEIJING_OFFSET_S: u64 = 8 * 3600;

/// A checkpoint's `time` (Unix seconds) as Beijing time (UTC+8), labelled 北京时间: the
/// pages are read in Chongqing and Sichuan.
pub fn beijing_text(unix_s: u64) -> String {
    let local = unix_s.saturating_add(BEIJING_OFFSET_S);
    let days = i32::try_from(local / 86_400).ok();
    let seconds = local % 86_400;
    match days.and_then(Date::from_days_since_unix_epoch) {
        Some(date) => format!(
            "{date} {:02}:{:02}:{:02}（北京时间）",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        ),
        None => "（时间无法显示）".to_string(),
    }
}

/// The checkpoint line of a page, from the API's view of it. The signer of a skill-ledger
/// checkpoint is the key named after the origin; the authority's name is the caller's to
/// add (it is in the ledger's entry 0, not in the checkpoint).
pub fn checked_against(checkpoint: &CheckpointView) -> CheckedAgainst {
    CheckedAgainst {
        origin: checkpoint.origin.clone(),
        size: checkpoint.size,
        signer: checkpoint.origin.clone(),
        time: Some(beijing_text(checkpoint.time_unix_s)),
        authority_name: None,
    }
}

/// A ledger's province by name, from its origin (`skill-ledger/51` → 四川省); the origin
/// itself when it names no province.
pub fn origin_label(origin: &str) -> String {
    origin
        .rsplit('/')
        .next()
        .and_then(|code| code.parse::<u8>().ok())
        .map_or_else(
            || origin.to_string(),
            |code| skill_ledger_domain::Province(code).name_zh().to_string(),
        )
}

/// Where a partner's answer came from and how fresh the mirror is.
pub fn mirror_note(mirror: &MirrorView) -> MirrorNote {
    let signed = mirror
        .checkpoint_time_unix_s
        .map_or_else(String::new, |time| {
            format!("签发于 {}，", beijing_text(time))
        });
    let pulled = mirror.seconds_since_last_pull.map_or_else(
        || "尚未同步".to_string(),
        |seconds| format!("{} 分钟前同步", seconds / 60),
    );
    let partner = origin_label(&mirror.partner);
    MirrorNote {
        partner,
        as_of: format!(
            "{signed}{pulled}{}",
            if mirror.alarm {
                "；⚠ 该伙伴账本出现分叉告警，镜像已停止更新"
            } else {
                ""
            }
        ),
        held_size: mirror.checkpoint_size,
    }
}

/// Valid, or revoked with its date and reason.
fn status_of(revocation: Option<&crate::views::RevocationView>) -> StatusView {
    match revocation {
        None => StatusView::Valid,
        Some(revocation) => StatusView::Revoked {
            effective: revocation.effective.clone(),
            reason: revocation.reason.clone(),
        },
    }
}

fn occupation_or_unknown(name: Option<&str>) -> String {
    name.unwrap_or("（目录外职业）").to_string()
}

fn body_or_unknown(name: Option<&str>) -> String {
    name.unwrap_or("（未知机构）").to_string()
}

/// A credential as the result page shows it, from the API's view of it (the one
/// `verify::verify` answered with).
pub fn credential_page_view(
    credential: &ApiCredential,
    ledger_label: &str,
    authority_name: &str,
    mut checked: CheckedAgainst,
) -> CredentialView {
    checked.authority_name = Some(authority_name.to_string());
    CredentialView {
        cert_no: credential.certificate_number.clone(),
        ledger_label: ledger_label.to_string(),
        authority_name: authority_name.to_string(),
        level: credential.level_name.clone(),
        occupation_code: credential.occupation.clone(),
        occupation_name: occupation_or_unknown(credential.occupation_name.as_deref()),
        work_type: credential.work_type.clone(),
        body_reg_no: credential.body.clone(),
        body_name: body_or_unknown(credential.body_name.as_deref()),
        issued: credential.issued.clone(),
        route: RouteKind::ALL
            .into_iter()
            .find(|route| route.id() == credential.route)
            .map_or("评价考核", RouteKind::name_zh)
            .to_string(),
        kind_name: credential.kind_name.clone(),
        ability: None,
        foreign: credential
            .foreign
            .as_ref()
            .map(|foreign| {
                vec![
                    (
                        "境外证书".to_string(),
                        match &foreign.certificate_type_name {
                            Some(name) => format!("{name} ({})", foreign.certificate_type),
                            None => foreign.certificate_type.clone(),
                        },
                    ),
                    ("境外发证机构".to_string(), foreign.foreign_issuer.clone()),
                    ("境外证书编号".to_string(), foreign.document_id.clone()),
                    (
                        "比照目录版本".to_string(),
                        format!("第 {} 版", foreign.catalogue_version),
                    ),
                ]
            })
            .unwrap_or_default(),
        status: status_of(credential.revocation.as_ref()),
        issuer_warning: credential.issuer_status_warning.as_ref().map(|warning| {
            IssuerWarningView {
                status_name: match warning.status.as_str() {
                    "cancelled" => "取消",
                    _ => "暂停",
                }
                .to_string(),
                effective: warning.effective.clone(),
                reason: warning.reason.clone(),
            }
        }),
        entry_index: credential.entry_index,
        checked,
        mirror: None,
        recognition: None,
    }
}

/// A 专项职业能力证书 as the result page shows it, from the API's view of it.
pub fn special_ability_page_view(
    found: &crate::views::SpecialAbilityView,
    ledger_label: &str,
    authority_name: &str,
    mut checked: CheckedAgainst,
) -> CredentialView {
    checked.authority_name = Some(authority_name.to_string());
    CredentialView {
        cert_no: found.certificate_number.clone(),
        ledger_label: ledger_label.to_string(),
        authority_name: authority_name.to_string(),
        level: String::new(),
        occupation_code: found.occupation.clone(),
        occupation_name: occupation_or_unknown(found.occupation_name.as_deref()),
        work_type: None,
        body_reg_no: found.body.clone(),
        body_name: body_or_unknown(found.body_name.as_deref()),
        issued: found.issued.clone(),
        route: "专项职业能力考核".to_string(),
        kind_name: found.kind_name.clone(),
        ability: Some(match &found.ability_name {
            Some(name) => format!("{name} ({})", found.ability),
            None => found.ability.clone(),
        }),
        foreign: Vec::new(),
        status: status_of(found.revocation.as_ref()),
        issuer_warning: None,
        entry_index: found.entry_index,
        checked,
        mirror: None,
        recognition: None,
    }
}

/// An occupation by name (from `catalogue`) and code.
pub fn occupation_view(catalogue: Option<&Catalogue>, code: OccupationCode) -> OccupationView {
    OccupationView {
        code: code.to_string(),
        name: occupation_name(catalogue, code),
    }
}

/// A route by its Chinese name.
pub fn route_name(route: RouteKind) -> &'static str {
    route.name_zh()
}

/// A document number for the person's page: the first three and the last four characters,
/// the rest starred (the visitor typed it; the page still does not spell it out).
pub fn mask_document_number(normalised: &str) -> String {
    let characters: Vec<char> = normalised.chars().collect();
    if characters.len() <= 7 {
        return "*".repeat(characters.len());
    }
    let tail = characters.len() - 4;
    characters
        .iter()
        .enumerate()
        .map(|(position, character)| {
            if position < 3 || position >= tail {
                *character
            } else {
                '*'
            }
        })
        .collect()
}

/// The address of a recognition's page.
pub fn recognition_url(cert_no: &str) -> String {
    format!("/recognitions/{}", query_escape(cert_no))
}

/// A recognition's withdrawal, in words.
pub fn withdrawn_view(withdrawal: &RecognitionWithdrawal) -> WithdrawnView {
    WithdrawnView {
        effective: withdrawal.effective.to_string(),
        reason: match &withdrawal.reason {
            WithdrawalReason::OriginRevoked { .. } => "发证地已撤销该证书".to_string(),
            WithdrawalReason::AuthorityDecision { reason } => {
                format!("本地人力资源社会保障部门决定撤回：{reason}")
            }
        },
        entry_index: withdrawal.entry_index,
    }
}

/// What a next step builds on, in Chinese (the domain's basis is a note for people, partly
/// in English: the known forms are said again, anything else is shown as it is).
pub fn next_step_basis(basis: &str) -> String {
    if let Some((level, rest)) = basis.split_once(" since ") {
        let (date, right) = match rest.split_once(", by an enterprise with the right") {
            Some((date, _)) => (date, "；须由具有评聘权的企业聘任"),
            None => (rest, ""),
        };
        return format!("自 {date} 起持有{level}{right}");
    }
    if basis.starts_with("特级技师 post") {
        return "现聘特级技师；须在开展首席技师评聘的企业".to_string();
    }
    if let Some(date) = basis.strip_prefix("apprenticeship completed ") {
        return format!("学徒期满（{date}）");
    }
    if let Some(rest) = basis.strip_prefix("apprenticeship started ") {
        let date = rest.trim_end_matches(" (completion)");
        return format!("学徒自 {date} 开始，期满后");
    }
    basis.to_string()
}

/// The names a person's page needs from other ledgers: a partner occupation by the
/// partner's catalogue (the origin, the code).
pub type PartnerOccupation<'a> = &'a dyn Fn(&str, OccupationCode) -> OccupationView;

/// A recognition as a person's page lists it.
pub fn recognition_summary(
    recognition: &RecognitionRecord,
    home: Option<&Catalogue>,
    partner_occupation: PartnerOccupation<'_>,
) -> RecognitionSummary {
    let cert_no = recognition.certificate_number.as_str().to_string();
    RecognitionSummary {
        url: recognition_url(&cert_no),
        cert_no,
        origin_label: origin_label(&recognition.origin),
        partner_occupation: partner_occupation(&recognition.origin, recognition.partner_occupation),
        occupation: occupation_view(home, recognition.occupation),
        level: recognition.level.certificate_label(),
        date: recognition.date.to_string(),
        active: recognition.is_active(),
        withdrawn: recognition.withdrawn.as_ref().map(|withdrawal| {
            let view = withdrawn_view(withdrawal);
            format!("{} 撤回：{}", view.effective, view.reason)
        }),
    }
}

/// A person's page, from the person's records on this ledger (`registry` is this ledger's),
/// judged on `today`.
pub fn person_page_view(
    name: &str,
    id_masked: String,
    person: &PersonRecord,
    career: &CareerRecord,
    registry: &Registry,
    today: Date,
    partner_occupation: PartnerOccupation<'_>,
) -> PersonPageView {
    let catalogue = registry.catalogue.as_deref();
    let recognised: std::collections::BTreeSet<_> = career
        .recognitions
        .iter()
        .map(|recognition| recognition.certificate_number)
        .collect();
    let body_name = |number: &skill_ledger_domain::RegistrationNumber| {
        registry
            .bodies
            .get(number)
            .map_or_else(|| "（未知机构）".to_string(), |body| body.name.clone())
    };
    let steps = skill_ledger_domain::next_steps(registry, person, career);
    PersonPageView {
        name: name.trim().to_string(),
        id_masked,
        current: skill_ledger_domain::current_levels(person, career)
            .into_iter()
            .map(|(code, level)| CurrentLevelView {
                occupation: occupation_view(catalogue, code),
                level: level.certificate_label(),
            })
            .collect(),
        holdings: person
            .holdings
            .iter()
            .map(|holding| HoldingView {
                cert_no: holding.certificate_number.as_str().to_string(),
                occupation: occupation_view(catalogue, holding.occupation),
                level: holding.level.certificate_label(),
                issued: holding.issued.to_string(),
                route: route_name(holding.route).to_string(),
                kind_name: holding.certificate_number.kind().name_zh().to_string(),
                revoked: holding.revoked,
                basis_revoked: holding.basis_revoked,
                recognition_url: recognised
                    .contains(&holding.certificate_number)
                    .then(|| recognition_url(holding.certificate_number.as_str())),
            })
            .collect(),
        posts: career
            .appointments
            .iter()
            .map(|post| PostView {
                level: post.level.name_zh().to_string(),
                occupation: occupation_view(catalogue, post.occupation),
                body_reg_no: post.body.as_str().to_string(),
                body_name: body_name(&post.body),
                term: format!("{} 至 {}", post.term_start, post.term_end),
                status: match post.ended {
                    None if post.term_end < today => "聘期已满".to_string(),
                    None => "在聘".to_string(),
                    Some((date, reason)) => format!("{date} {}", end_reason_name(reason)),
                },
                current: post.ended.is_none() && post.term_end >= today,
            })
            .collect(),
        recognitions: career
            .recognitions
            .iter()
            .map(|recognition| recognition_summary(recognition, catalogue, partner_occupation))
            .collect(),
        special_abilities: career
            .special_abilities
            .iter()
            .map(|record| SpecialAbilityRow {
                cert_no: record.certificate_number.as_str().to_string(),
                ability: registry
                    .policy_at(record.issued)
                    .and_then(|policy| policy.special_ability(&record.ability))
                    .map_or_else(|| record.ability.clone(), |ability| ability.name.clone()),
                occupation: occupation_view(catalogue, record.occupation),
                issued: record.issued.to_string(),
                body_name: body_name(&record.body()),
                revoked: !record.is_valid(),
            })
            .collect(),
        policy_version: steps.first().map(|step| step.policy_version),
        next_steps: steps
            .iter()
            .map(|step| NextStepView {
                target: match (&step.title, step.occupation, step.level) {
                    (Some((title, series, field)), _, _) => {
                        format!("{}（{series}系列 {field}）", title.name_zh())
                    }
                    (None, Some(code), Some(level)) => {
                        let occupation = occupation_view(catalogue, code);
                        format!(
                            "{} ({}) {}",
                            occupation.name,
                            occupation.code,
                            level.certificate_label()
                        )
                    }
                    _ => "—".to_string(),
                },
                route: match step.route {
                    RouteKind::Appointment => "聘任",
                    RouteKind::Apprenticeship => "学徒期满",
                    RouteKind::Conversion => "贯通",
                    other => route_name(other),
                }
                .to_string(),
                earliest: step.earliest.to_string(),
                ready: step.earliest <= today,
                basis: next_step_basis(&step.basis),
            })
            .collect(),
        checked: None,
    }
}

fn end_reason_name(reason: skill_ledger_domain::AppointmentEndReason) -> &'static str {
    use skill_ledger_domain::AppointmentEndReason as Reason;
    match reason {
        Reason::TermOver => "聘期届满",
        Reason::LeftPost => "离岗",
        Reason::Dismissed => "解聘",
    }
}

/// A recognition's page, from this ledger's record of it (`home` is this ledger's
/// catalogue, `partner` the origin's, from the mirror).
pub fn recognition_page_view(
    recognition: &RecognitionRecord,
    home: Option<&Catalogue>,
    partner: Option<&Catalogue>,
    authority_name: &str,
) -> RecognitionPageView {
    RecognitionPageView {
        cert_no: recognition.certificate_number.as_str().to_string(),
        origin: recognition.origin.clone(),
        origin_label: origin_label(&recognition.origin),
        origin_authority: None,
        origin_entry_index: recognition.origin_entry_index,
        level: recognition.level.certificate_label(),
        partner_occupation: occupation_view(partner, recognition.partner_occupation),
        occupation: occupation_view(home, recognition.occupation),
        issued: recognition.issued.to_string(),
        date: recognition.date.to_string(),
        authority_name: authority_name.to_string(),
        withdrawn: recognition.withdrawn.as_ref().map(withdrawn_view),
        revoked_at_origin: None,
        mirror: None,
        origin_checked: None,
        checked: None,
        entry_index: recognition.entry_index,
    }
}

fn body_status_text(body: &BodyRecord) -> String {
    let status = body.status_now();
    match body.status_changes.last() {
        Some(change) if status != BodyStatus::Active => {
            format!("{}（{} 起）", status.name_zh(), change.effective)
        }
        _ => status.name_zh().to_string(),
    }
}

pub fn body_summary(body: &BodyRecord) -> BodySummary {
    BodySummary {
        reg_no: body.registration_number.as_str().to_string(),
        name: body.name.clone(),
        status: body_status_text(body),
        status_class: status_class(body.status_now()),
    }
}

pub fn body_view(body: &BodyRecord, catalogue: Option<&Catalogue>) -> BodyView {
    let mut history: Vec<String> = body
        .keys
        .iter()
        .skip(1)
        .map(|period| format!("{} 起启用新的签名密钥", period.from))
        .collect();
    history.extend(body.revoked_keys.iter().map(|revoked| {
        format!(
            "{} 声明签名密钥 {}… 泄露，此后以其签名的一律不予受理",
            revoked.date,
            hex::encode(&revoked.public_key[..4]),
        )
    }));
    history.extend(body.status_changes.iter().map(|change| {
        format!(
            "{} 起{}：{}",
            change.effective,
            change.status.name_zh(),
            change.reason,
        )
    }));
    BodyView {
        reg_no: body.registration_number.as_str().to_string(),
        name: body.name.clone(),
        kind: body.registration_number.kind().name_zh().to_string(),
        province: body.registration_number.province().name_zh().to_string(),
        status: body_status_text(body),
        status_class: status_class(body.status_now()),
        valid_from: body.valid_from.to_string(),
        valid_until: body.valid_until.to_string(),
        audience: audience_label(body.audience).to_string(),
        direct_recognition: body.direct_recognition,
        registered: body.registered.to_string(),
        entry_index: body.entry_index,
        scope: body
            .scope
            .iter()
            .map(|item| ScopeView {
                occupation_code: item.occupation.to_string(),
                occupation_name: occupation_name(catalogue, item.occupation),
                level_max: item.level_max.certificate_label(),
            })
            .collect(),
        history,
        change_entries: body
            .revoked_keys
            .iter()
            .map(|revoked| revoked.entry_index)
            .chain(body.status_changes.iter().map(|change| change.entry_index))
            .collect(),
        mirror: None,
    }
}

/// Labelled counts, in the order a chart draws them.
pub type Series = Vec<(String, u64)>;

fn count(value: &Value) -> u64 {
    value.as_i64().map_or(0, |count| count.max(0) as u64)
}

/// Holders by highest level (ladder order) and certificates per year, from a statistics
/// document (`stats_document`).
pub fn stats_series(document: &Value) -> (Series, Series) {
    let holders = &document["holders"]["by_highest_level"];
    let by_level = Level::ALL
        .iter()
        // Every certified and appointed rung, 特级技师 and 首席技师 included even at zero (a
        // planner reads their absence as a figure); 学徒工 only when there are some.
        .filter_map(|level| {
            let value = count(&holders[level.id()]);
            (value > 0 || *level != Level::Apprentice).then(|| (level.name_zh().to_string(), value))
        })
        .collect();
    let by_year = document["certificates"]["issued_by_year"]
        .as_object()
        .map(|years| {
            years
                .iter()
                .map(|(year, value)| (year.clone(), count(value)))
                .collect()
        })
        .unwrap_or_default();
    (by_level, by_year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_times_read_as_beijing_time() {
        assert_eq!(beijing_text(0), "1970-01-01 08:00:00（北京时间）");
        assert_eq!(
            beijing_text(1_795_000_000),
            "2026-11-18 19:06:40（北京时间）"
        );
        // 16:00 UTC is the next day in Beijing.
        assert_eq!(
            beijing_text(1_795_017_600),
            "2026-11-19 00:00:00（北京时间）"
        );
        assert_eq!(beijing_text(u64::MAX), "（时间无法显示）");
    }

    #[test]
    fn qr_code_is_an_svg() {
        let svg = qr_svg("http://127.0.0.1:8080/?cert_no=Y000050000102253000070");
        assert!(svg.contains("<svg"), "{svg}");
        assert!(svg.contains("#1d2733"), "{svg}");
    }

    #[test]
    fn a_key_fingerprint_is_sha256_hex_in_groups_of_four() {
        // printf %s abc | sha256sum
        assert_eq!(
            key_fingerprint("abc"),
            "ba78 16bf 8f01 cfea 4141 40de 5dae 2223 b003 61a3 9617 7a9c b410 ff61 f200 15ad"
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(query_escape("张三"), "%E5%BC%A0%E4%B8%89");
        assert_eq!(query_escape("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(
            query_escape("Y000050000102253000070"),
            "Y000050000102253000070"
        );
    }

    #[test]
    fn a_revoked_key_is_in_the_body_history() {
        let body = BodyRecord {
            registration_number: "Y000050000001".parse().expect("number"),
            name: "重庆测试装备制造有限公司".to_string(),
            keys: vec![skill_ledger_domain::KeyPeriod {
                from: "2020-01-01".parse().expect("date"),
                public_key: [0xab; 32],
            }],
            valid_from: "2020-01-01".parse().expect("date"),
            valid_until: "2029-12-31".parse().expect("date"),
            audience: skill_ledger_domain::Audience::OwnStaff,
            scope: Vec::new(),
            direct_recognition: false,
            registered: "2020-01-01".parse().expect("date"),
            status_changes: Vec::new(),
            entry_index: 3,
            revoked_keys: vec![skill_ledger_domain::RevokedKey {
                public_key: [0xab; 32],
                date: "2024-03-02".parse().expect("date"),
                entry_index: 41,
            }],
        };
        let view = body_view(&body, None);
        assert_eq!(
            view.history,
            vec!["2024-03-02 声明签名密钥 abababab… 泄露，此后以其签名的一律不予受理"]
        );
        assert_eq!(view.change_entries, vec![41]);
    }

    #[test]
    fn stats_series_follow_the_ladder() {
        let document = serde_json::json!({
            "certificates": {"issued_by_year": {"2024": 470, "2025": 654}},
            "holders": {"by_highest_level": {"senior": 578, "junior": 542, "technician": 0}},
        });
        let (levels, years) = stats_series(&document);
        let shown: Vec<(&str, u64)> = levels
            .iter()
            .map(|(name, count)| (name.as_str(), *count))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("初级工", 542),
                ("中级工", 0),
                ("高级工", 578),
                ("技师", 0),
                ("高级技师", 0),
                ("特级技师", 0),
                ("首席技师", 0)
            ]
        );
        assert_eq!(
            years,
            vec![("2024".to_string(), 470), ("2025".to_string(), 654)]
        );
    }

    #[test]
    fn a_document_number_is_shown_masked() {
        assert_eq!(
            mask_document_number("500101197403057602"),
            "500***********7602"
        );
        assert_eq!(mask_document_number("E1234567"), "E12*4567");
        assert_eq!(mask_document_number("AB123"), "*****");
    }

    #[test]
    fn next_step_bases_read_in_chinese() {
        assert_eq!(
            next_step_basis("中级工 since 2024-10-06"),
            "自 2024-10-06 起持有中级工"
        );
        assert_eq!(
            next_step_basis("高级技师 since 2019-06-01, by an enterprise with the right"),
            "自 2019-06-01 起持有高级技师；须由具有评聘权的企业聘任"
        );
        assert_eq!(
            next_step_basis("apprenticeship started 2025-03-01 (completion)"),
            "学徒自 2025-03-01 开始，期满后"
        );
        assert_eq!(
            next_step_basis("高级技师 S000050000101191900004"),
            "高级技师 S000050000101191900004"
        );
    }
}
