//! Bar charts drawn on the server as inline SVG: no script and no outside request, so
//! the console works with JavaScript off and under the strict content security policy.

/// One bar group: a label under it, and one value per series.
pub struct Column {
    pub label: String,
    pub values: Vec<i64>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 16.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A bar chart of `columns`, series side by side; `series` names each one (the `<title>`
/// of every bar says its label, series and value, for screen readers and hover).
/// `label_every` thins out the labels under crowded charts.
pub fn bar_chart(title: &str, series: &[&str], columns: &[Column], label_every: usize) -> String {
    let max = columns
        .iter()
        .flat_map(|c| c.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = WIDTH / columns.len().max(1) as f64;
    let bar = (slot * 0.8) / series.len().max(1) as f64;
    let plot = HEIGHT - BOTTOM - TOP;
    let mut out = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title)
    );
    out.push_str(&format!(
        "<text class=\"chart-max\" x=\"0\" y=\"11\">{max}</text><line class=\"chart-axis\" x1=\"0\" y1=\"{y}\" x2=\"{WIDTH}\" y2=\"{y}\"/>",
        y = HEIGHT - BOTTOM
    ));
    for (i, column) in columns.iter().enumerate() {
        let left = i as f64 * slot + slot * 0.1;
        for (s, value) in column.values.iter().enumerate() {
            let height = plot * (*value as f64) / (max as f64);
            out.push_str(&format!(
                "<rect class=\"bar series-{s}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}: {} {}</title></rect>",
                left + s as f64 * bar,
                HEIGHT - BOTTOM - height,
                (bar - 1.0).max(1.0),
                height,
                escape(&column.label),
                value,
                escape(series.get(s).copied().unwrap_or("")),
            ));
        }
        if i % label_every.max(1) == 0 {
            out.push_str(&format!(
                "<text class=\"chart-label\" x=\"{:.1}\" y=\"{}\">{}</text>",
                left,
                HEIGHT - 6.0,
                escape(&column.label)
            ));
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_as_tall_as_their_values_and_labels_are_escaped() {
        let svg = bar_chart(
            "Sign-ups <per day>",
            &["sign-ups"],
            &[
                Column {
                    label: "a&b".into(),
                    values: vec![2],
                },
                Column {
                    label: "c".into(),
                    values: vec![1],
                },
                Column {
                    label: "d".into(),
                    values: vec![0],
                },
            ],
            1,
        );
        assert!(svg.contains("aria-label=\"Sign-ups &lt;per day&gt;\""));
        assert!(svg.contains("<title>a&amp;b: 2 sign-ups</title>"));
        let plot = HEIGHT - BOTTOM - TOP;
        assert!(svg.contains(&format!("height=\"{plot:.1}\"")), "{svg}");
        assert!(svg.contains(&format!("height=\"{:.1}\"", plot / 2.0)));
        assert!(svg.contains("height=\"0.0\""));
    }
}
