//! Tables for people: `stats` without `--json`. Rendered from the same JSON documents `--json`
//! prints (`skill_ledger_node::stats_document`, `stats_by_route`), so the two never disagree.
//! Columns are aligned by display width: a CJK character takes two terminal columns.

use serde_json::Value;
use skill_ledger_domain::{Level, Province, RouteKind};

/// Terminal columns a character takes: two for the wide East Asian ranges, one otherwise.
fn char_width(c: char) -> usize {
    match u32::from(c) {
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

/// Terminal columns a text takes.
pub fn display_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// A table: the first column left-aligned, the others right-aligned (numbers), two spaces
/// between columns, a rule under the header.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|cell| display_width(cell)).collect();
    for row in rows {
        for (column, cell) in row.iter().enumerate().take(columns) {
            widths[column] = widths[column].max(display_width(cell));
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (column, cell) in cells.enumerate().take(columns) {
            let pad = " ".repeat(widths[column].saturating_sub(display_width(cell)));
            if column == 0 {
                out.push_str(cell);
                out.push_str(&pad);
            } else {
                out.push_str("  ");
                out.push_str(&pad);
                out.push_str(cell);
            }
        }
        out.trim_end().to_string()
    };
    let mut text = line(&mut header.iter().copied());
    text.push('\n');
    let total: usize = widths.iter().sum::<usize>() + 2 * columns.saturating_sub(1);
    text.push_str(&"-".repeat(total));
    text.push('\n');
    for row in rows {
        text.push_str(&line(&mut row.iter().map(String::as_str)));
        text.push('\n');
    }
    text
}

fn count(value: &Value, path: &[&str]) -> i64 {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Share as a percentage with one decimal, e.g. `33.3%`.
fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "0.0%".to_string();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// The counts of a `{key: count}` member as rows, in the map's (sorted) order.
fn group_rows(value: &Value, path: &[&str]) -> Vec<Vec<String>> {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(key, count)| vec![key.clone(), count.as_i64().unwrap_or(0).to_string()])
                .collect()
        })
        .unwrap_or_default()
}

/// `stats`: certificates, the ladder (valid certificates, holders by highest level,
/// recognised partner credentials), the high-skill share, recognitions, by province and year.
pub fn stats(document: &Value) -> String {
    let issued = count(document, &["certificates", "issued"]);
    let revoked = count(document, &["certificates", "revoked"]);
    let valid = count(document, &["certificates", "valid"]);
    let holders = count(document, &["holders", "total"]);
    let high_skill = count(document, &["holders", "high_skill"]);
    let mut text = format!(
        "证书 certificates: {issued} issued, {revoked} revoked, {valid} valid\n\
         持证人 holders: {holders}\n\n"
    );
    let mut rows: Vec<Vec<String>> = Level::ALL
        .iter()
        .map(|level| {
            let id = level.id();
            vec![
                level.name_zh().to_string(),
                count(document, &["certificates", "valid_by_level", id]).to_string(),
                count(document, &["holders", "by_highest_level", id]).to_string(),
                count(document, &["recognitions", "by_level", id]).to_string(),
            ]
        })
        .collect();
    let column_total = |column: usize| -> String {
        rows.iter()
            .map(|row| row[column].parse::<i64>().unwrap_or(0))
            .sum::<i64>()
            .to_string()
    };
    let totals = vec![
        "合计 total".to_string(),
        column_total(1),
        column_total(2),
        column_total(3),
    ];
    rows.push(totals);
    text.push_str(&render(
        &[
            "等级 level",
            "有效证书 valid",
            "持证人(最高等级) holders",
            "互认 recognised",
        ],
        &rows,
    ));
    text.push_str(&format!(
        "\n高技能人才 high-skill (高级工 and above): {high_skill} of {holders} holders, {}\n",
        percent(high_skill, holders)
    ));
    text.push_str(&format!(
        "互认 recognitions: {} active, {} withdrawn\n",
        count(document, &["recognitions", "active"]),
        count(document, &["recognitions", "withdrawn"])
    ));
    for (title, path) in [
        (
            ["省份 province", "有效证书 valid"],
            ["certificates", "valid_by_province"],
        ),
        (
            ["年份 year", "颁发 issued"],
            ["certificates", "issued_by_year"],
        ),
    ] {
        let mut rows = group_rows(document, &path);
        if path[1] == "valid_by_province" {
            for row in &mut rows {
                if let Ok(code) = row[0].parse::<u8>() {
                    row[0] = format!("{} {}", row[0], Province(code).name_zh());
                }
            }
        }
        if !rows.is_empty() {
            text.push('\n');
            text.push_str(&render(&title, &rows));
        }
    }
    text
}

fn route_name_zh(route: RouteKind) -> String {
    format!("{} {}", route.name_zh(), route.id())
}

/// `stats --by route`: per route, the talent standing now by level and how much is high-skill.
pub fn stats_by_route(document: &Value) -> String {
    let mut header = vec!["途径 route"];
    header.extend(Level::ALL.iter().map(|level| level.name_zh()));
    header.extend(["合计 total", "高技能 high-skill"]);
    let rows: Vec<Vec<String>> = RouteKind::ALL
        .iter()
        .map(|route| {
            let id = route.id();
            let mut row = vec![route_name_zh(*route).to_string()];
            let by_level: Vec<i64> = Level::ALL
                .iter()
                .map(|level| count(document, &[id, "by_level", level.id()]))
                .collect();
            row.extend(by_level.iter().map(i64::to_string));
            let total = match route {
                RouteKind::Apprenticeship => count(document, &[id, "in_progress"]),
                _ => by_level.iter().sum(),
            };
            row.push(total.to_string());
            row.push(count(document, &[id, "high_skill"]).to_string());
            row
        })
        .collect();
    let mut text = render(&header, &rows);
    text.push_str(&format!(
        "\n学徒制 apprenticeships: {} in progress, {} completed · 评聘 appointments ended: {} · \
         互认 withdrawn: {} · credentials whose basis was revoked: {}\n",
        count(document, &["apprenticeship", "in_progress"]),
        count(document, &["apprenticeship", "completed"]),
        count(document, &["appointment", "ended"]),
        count(document, &["recognition", "withdrawn"]),
        count(document, &["basis_revoked"]),
    ));
    text
}

/// `stats --by kind`: per credential kind, issued, revoked, standing now (by level for the
/// kinds with levels) and how much is high-skill.
pub fn stats_by_kind(document: &Value) -> String {
    let mut header = vec!["证书种类 kind"];
    header.extend(Level::ALL.iter().map(|level| level.name_zh()));
    header.extend([
        "有效 valid",
        "已撤销 revoked",
        "累计 issued",
        "高技能 high-skill",
    ]);
    let rows: Vec<Vec<String>> = skill_ledger_domain::CredentialKind::ALL
        .iter()
        .map(|kind| {
            let id = kind.id();
            let mut row = vec![format!("{} {id}", kind.name_zh())];
            row.extend(
                Level::ALL
                    .iter()
                    .map(|level| count(document, &[id, "by_level", level.id()]).to_string()),
            );
            for field in ["valid", "revoked", "issued", "high_skill"] {
                row.push(count(document, &[id, field]).to_string());
            }
            row
        })
        .collect();
    render(&header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_display_width() {
        let text = render(
            &["等级", "n"],
            &[
                vec!["学徒工".into(), "1".into()],
                vec!["technician".into(), "12".into()],
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        let widths: Vec<usize> = lines.iter().map(|line| display_width(line)).collect();
        assert!(
            widths.iter().all(|width| *width == widths[0]),
            "{text}{widths:?}"
        );
    }
}
