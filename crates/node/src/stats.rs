//! The statistics document built from the counters: what `stats --json` and `/v1/stats` print.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use skill_ledger_domain::{stat, Level, RouteKind};

fn group(counters: &BTreeMap<String, i64>, prefix: &str) -> Map<String, Value> {
    counters
        .iter()
        .filter_map(|(name, value)| {
            name.strip_prefix(prefix)
                .map(|key| (key.to_string(), Value::from(*value)))
        })
        .collect()
}

/// How many of a by-level count (level id → count) are high-skill (高级工 and above).
fn high_skill_of(by_level: &Map<String, Value>) -> i64 {
    Level::ALL
        .iter()
        .filter(|level| level.is_high_skill())
        .filter_map(|level| by_level.get(level.id()).and_then(Value::as_i64))
        .sum()
}

/// Share as a number with four decimals (stable bytes).
fn share_of(part: i64, whole: i64) -> f64 {
    if whole > 0 {
        format!("{:.4}", part as f64 / whole as f64)
            .parse()
            .unwrap_or(0.0)
    } else {
        0.0
    }
}

/// Holders and the high-skill share at the end of each year: the yearly net changes summed up
/// to that year. Each change counts in the year of the event that made it (an issue date or a
/// revocation's effective date).
fn holders_by_year(counters: &BTreeMap<String, i64>) -> Map<String, Value> {
    let added = group(counters, stat::HOLDERS_YEAR);
    let high_added = group(counters, stat::HIGH_SKILL_YEAR);
    let mut years: Vec<i32> = added
        .keys()
        .chain(high_added.keys())
        .filter_map(|year| year.parse().ok())
        .collect();
    years.sort_unstable();
    years.dedup();
    let (mut total, mut high) = (0_i64, 0_i64);
    years
        .into_iter()
        .map(|year| {
            let key = year.to_string();
            total += added.get(&key).and_then(Value::as_i64).unwrap_or(0);
            high += high_added.get(&key).and_then(Value::as_i64).unwrap_or(0);
            (
                key,
                json!({"total": total, "high_skill": high, "high_skill_share": share_of(high, total)}),
            )
        })
        .collect()
}

/// The statistics as one JSON object with sorted keys and no timestamps, so equal
/// states print equal bytes.
pub fn stats_document(counters: &BTreeMap<String, i64>) -> Value {
    let get = |name: &str| counters.get(name).copied().unwrap_or(0);
    let issued = get(stat::ISSUED);
    let revoked = get(stat::REVOKED);
    let holders = get(stat::HOLDERS);
    let by_highest = group(counters, stat::HOLDERS_HIGHEST);
    let high_skill: i64 = Level::ALL
        .iter()
        .filter(|level| level.is_high_skill())
        .map(|level| get(&format!("{}{}", stat::HOLDERS_HIGHEST, level.id())))
        .sum();
    // Parts per million, as an integer ratio rendered with fixed decimals: stable bytes.
    let share = if holders > 0 {
        format!("{:.4}", high_skill as f64 / holders as f64)
    } else {
        "0.0000".to_string()
    };
    json!({
        "certificates": {
            "issued": issued,
            "revoked": revoked,
            "valid": issued - revoked,
            "issued_by_year": group(counters, stat::ISSUED_YEAR),
            "valid_by_level": group(counters, stat::VALID_LEVEL),
            "valid_by_province": group(counters, stat::VALID_PROVINCE),
            "valid_by_occupation_group": group(counters, stat::VALID_GROUP),
            "valid_by_year": group(counters, stat::VALID_YEAR),
            "valid_by_route": group(counters, stat::VALID_ROUTE),
        },
        "holders": {
            "total": holders,
            "by_highest_level": by_highest,
            "high_skill": high_skill,
            "high_skill_share": share.parse::<f64>().unwrap_or(0.0),
            "by_year": holders_by_year(counters),
        },
        "recognitions": {
            "active": get(stat::RECOGNITIONS_ACTIVE),
            "withdrawn": get(stat::RECOGNITIONS_WITHDRAWN),
            "by_level": group(counters, stat::RECOGNITIONS_LEVEL),
        }
    })
}

/// The kind dimension (`stats --by kind`): per credential kind (`skill_level`,
/// `qualification`, `special_ability`), issued, revoked and standing now; for the kinds with
/// levels, the standing ones by level and how many are high-skill. Sorted keys.
pub fn stats_by_kind(counters: &BTreeMap<String, i64>) -> Value {
    let get = |name: String| counters.get(&name).copied().unwrap_or(0);
    let mut kinds = Map::new();
    for kind in skill_ledger_domain::CredentialKind::ALL {
        let prefix = format!("{}{}.", stat::KIND, kind.id());
        let mut value = json!({
            "name_zh": kind.name_zh(),
            "issued": get(format!("{prefix}issued")),
            "revoked": get(format!("{prefix}revoked")),
            "valid": get(format!("{prefix}valid")),
        });
        if kind != skill_ledger_domain::CredentialKind::SpecialAbility {
            let by_level = group(counters, &format!("{prefix}valid.level."));
            value["high_skill"] = Value::from(high_skill_of(&by_level));
            value["by_level"] = Value::Object(by_level);
        }
        kinds.insert(kind.id().to_string(), value);
    }
    Value::Object(kinds)
}

/// The route dimension (`stats --by route`): how the talent now standing was produced, keyed
/// `evaluation`, `direct`, `contest`, `conversion`, `appointment`, `apprenticeship`,
/// `foreign-comparison` and `recognition` (partner credentials recognised here: active, by
/// level, withdrawn). For
/// the credential routes, the valid credentials by level and how many are high-skill; for
/// appointments, the current posts by level and how many ended; for apprenticeships, how
/// many are in progress and completed. Sorted keys, no timestamps.
pub fn stats_by_route(counters: &BTreeMap<String, i64>) -> Value {
    let get = |name: &str| counters.get(name).copied().unwrap_or(0);
    let mut routes = Map::new();
    for route in RouteKind::ALL {
        let by_level = group(counters, &format!("{}{}.level.", stat::ROUTE, route.id()));
        let total: i64 = by_level.values().filter_map(Value::as_i64).sum();
        let high_skill = high_skill_of(&by_level);
        let value = match route {
            RouteKind::Appointment => json!({
                "current": total,
                "by_level": by_level,
                "ended": get(stat::APPOINTMENTS_ENDED),
            }),
            RouteKind::Apprenticeship => {
                let started = get(stat::APPRENTICESHIPS_STARTED);
                let completed = get(stat::APPRENTICESHIPS_COMPLETED);
                json!({"in_progress": started - completed, "completed": completed, "started": started})
            }
            RouteKind::Contest => json!({
                "valid": total,
                "by_level": by_level,
                "high_skill": high_skill,
                "results": get(stat::CONTEST_RESULTS),
            }),
            RouteKind::Conversion => json!({
                "valid": total,
                "by_level": by_level,
                "high_skill": high_skill,
                "title_eligibilities": group(counters, stat::TITLE_ELIGIBILITIES),
            }),
            RouteKind::Recognition => json!({
                "active": total,
                "by_level": by_level,
                "high_skill": high_skill,
                "withdrawn": get(stat::RECOGNITIONS_WITHDRAWN),
            }),
            RouteKind::Evaluation | RouteKind::DirectRecognition | RouteKind::ForeignComparison => {
                json!({
                    "valid": total,
                    "by_level": by_level,
                    "high_skill": high_skill,
                })
            }
        };
        routes.insert(route.id().to_string(), value);
    }
    routes.insert(
        "basis_revoked".to_string(),
        Value::from(get(stat::BASIS_REVOKED)),
    );
    Value::Object(routes)
}
