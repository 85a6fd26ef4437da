//! The statistics document built from the counters: what `stats --json` and `/v1/stats` print.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use skill_ledger_domain::{stat, Level};

fn group(counters: &BTreeMap<String, i64>, prefix: &str) -> Map<String, Value> {
    counters
        .iter()
        .filter_map(|(name, value)| {
            name.strip_prefix(prefix)
                .map(|key| (key.to_string(), Value::from(*value)))
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
        }
    })
}
