//! Charts as inline SVG, drawn on the server: no script, no external assets, readable at any
//! width (the SVG scales to its container through its `viewBox`).

use std::fmt::Write;

/// Escapes text for SVG/XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A value with its thousands separated, as the pages print counts.
pub fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Horizontal bars, one per labelled count, longest first as given. `title` becomes the SVG's
/// accessible name.
pub fn bar_chart(title: &str, bars: &[(String, u64)]) -> String {
    const WIDTH: u32 = 640;
    const LABEL: u32 = 150;
    const VALUE: u32 = 90;
    const ROW: u32 = 30;
    let height = ROW * (bars.len().max(1) as u32) + 10;
    let max = bars
        .iter()
        .map(|(_, value)| *value)
        .max()
        .unwrap_or(0)
        .max(1);
    let span = WIDTH - LABEL - VALUE;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" aria-label="{title}" viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>"#,
        title = escape(title),
    );
    if bars.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{LABEL}" y="22" class="empty">暂无数据</text>"#
        );
    }
    for (row, (label, value)) in bars.iter().enumerate() {
        let y = 5 + ROW * row as u32;
        let length = ((*value as f64 / max as f64) * f64::from(span)).round() as u32;
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{ty}" text-anchor="end" class="label">{label}</text><rect x="{LABEL}" y="{y}" width="{length}" height="{h}" class="bar"/><text x="{vx}" y="{ty}" class="value">{value}</text>"#,
            x = LABEL - 8,
            ty = y + 16,
            label = escape(label),
            h = ROW - 8,
            vx = LABEL + length + 6,
            value = group_thousands(*value),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One line per series over shared x labels (e.g. years), values as fractions in 0..=1 printed
/// as percentages. Points that a series lacks are skipped, not drawn as zero.
pub fn share_chart(
    title: &str,
    x_labels: &[String],
    series: &[(String, Vec<Option<f64>>)],
) -> String {
    const WIDTH: u32 = 640;
    const HEIGHT: u32 = 260;
    const LEFT: u32 = 48;
    const RIGHT: u32 = 20;
    const TOP: u32 = 16;
    const BOTTOM: u32 = 56;
    let plot_w = f64::from(WIDTH - LEFT - RIGHT);
    let plot_h = f64::from(HEIGHT - TOP - BOTTOM);
    let top = series
        .iter()
        .flat_map(|(_, values)| values.iter().flatten())
        .fold(0.0_f64, |max, value| max.max(*value));
    // The y axis runs to the next 10 % above the highest value.
    let y_max = ((top * 10.0).ceil() / 10.0).clamp(0.1, 1.0);
    let x_at = |index: usize| -> f64 {
        if x_labels.len() <= 1 {
            f64::from(LEFT) + plot_w / 2.0
        } else {
            f64::from(LEFT) + plot_w * index as f64 / (x_labels.len() - 1) as f64
        }
    };
    let y_at = |value: f64| -> f64 { f64::from(TOP) + plot_h * (1.0 - value / y_max) };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" aria-label="{title}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>"#,
        title = escape(title),
    );
    // Grid lines every 10 % (every 20 % above 50 %), so the labels are round.
    let tick = if y_max > 0.5 { 0.2 } else { 0.1 };
    let ticks = (y_max / tick).round() as u32;
    for step in 0..=ticks {
        let value = tick * f64::from(step);
        let y = y_at(value);
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" class="grid"/><text x="{tx}" y="{ty:.1}" text-anchor="end" class="axis">{percent:.0}%</text>"#,
            x2 = WIDTH - RIGHT,
            tx = LEFT - 6,
            ty = y + 4.0,
            percent = value * 100.0,
        );
    }
    for (index, label) in x_labels.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="{y}" text-anchor="middle" class="axis">{label}</text>"#,
            x = x_at(index),
            y = HEIGHT - BOTTOM + 18,
            label = escape(label),
        );
    }
    for (number, (name, values)) in series.iter().enumerate() {
        let class = format!("series-{}", number % 4);
        let points: Vec<(f64, f64, f64)> = values
            .iter()
            .enumerate()
            .filter_map(|(index, value)| value.map(|value| (x_at(index), y_at(value), value)))
            .collect();
        if points.len() > 1 {
            let path: Vec<String> = points
                .iter()
                .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
                .collect();
            let _ = write!(
                svg,
                r#"<polyline points="{}" class="line {class}"/>"#,
                path.join(" ")
            );
        }
        for (x, y, value) in &points {
            let _ = write!(
                svg,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" class="dot {class}"><title>{name} {percent:.1}%</title></circle>"#,
                name = escape(name),
                percent = value * 100.0,
            );
        }
        let legend_x = LEFT + 160 * number as u32;
        let legend_y = HEIGHT - 14;
        let _ = write!(
            svg,
            r#"<rect x="{legend_x}" y="{ry}" width="14" height="4" class="key {class}"/><text x="{tx}" y="{legend_y}" class="legend">{name}</text>"#,
            ry = legend_y - 6,
            tx = legend_x + 20,
            name = escape(name),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(1234567), "1,234,567");
    }

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = bar_chart(
            "持证人数 <按等级>",
            &[("高级工".to_string(), 50), ("<b>".to_string(), 100)],
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("持证人数 &lt;按等级&gt;"), "{svg}");
        assert!(svg.contains("&lt;b&gt;"), "{svg}");
        assert!(!svg.contains("<b>"), "{svg}");
        // The largest bar spans the plot (640 - 150 - 90 = 400), the other half of it.
        assert!(svg.contains(r#"width="400""#), "{svg}");
        assert!(svg.contains(r#"width="200""#), "{svg}");
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn an_empty_chart_says_so() {
        let svg = bar_chart("空", &[]);
        assert!(svg.contains("暂无数据"), "{svg}");
    }

    #[test]
    fn shares_skip_missing_points_and_label_percentages() {
        let years = vec!["2023".to_string(), "2024".to_string(), "2025".to_string()];
        let svg = share_chart(
            "高技能人才占比",
            &years,
            &[
                ("重庆".to_string(), vec![Some(0.20), Some(0.25), Some(0.31)]),
                ("四川".to_string(), vec![None, Some(0.22), Some(0.24)]),
            ],
        );
        assert_eq!(svg.matches("<circle").count(), 5, "{svg}");
        assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
        assert!(svg.contains("重庆 31.0%"), "{svg}");
        // y axis up to 40 %, the next tenth above 31 %.
        assert!(svg.contains(">40%<"), "{svg}");
    }
}
