//! The samples of a suite, their medians, and the Markdown and JSON they are reported as.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

/// The samples of one suite: for each row and column, one value per run.
pub(crate) struct Table {
    pub(crate) title: String,
    pub(crate) rows: Vec<String>,
    pub(crate) columns: Vec<String>,
    samples: BTreeMap<(usize, usize), Vec<f64>>,
    /// Columns derived from the medians, appended after the measured ones.
    derived: Vec<Derived>,
}

/// A column computed from two medians of each row: `numerator / denominator`, or a column
/// of another row.
pub(crate) struct Derived {
    pub(crate) name: String,
    /// The median this ratio is of, for each row: `(row, column)`.
    pub(crate) numerator: Box<dyn Fn(usize) -> Option<(usize, usize)>>,
    /// The median it is divided by, for each row.
    pub(crate) denominator: Box<dyn Fn(usize) -> Option<(usize, usize)>>,
}

impl Table {
    pub(crate) fn new(title: &str, rows: &[&str], columns: &[&str]) -> Self {
        Table {
            title: title.to_owned(),
            rows: rows.iter().map(|&row| row.to_owned()).collect(),
            columns: columns.iter().map(|&column| column.to_owned()).collect(),
            samples: BTreeMap::new(),
            derived: Vec::new(),
        }
    }

    pub(crate) fn derive(&mut self, derived: Derived) {
        self.derived.push(derived);
    }

    /// Records one run's value of `row` in `column`; a missing value records nothing.
    pub(crate) fn record(&mut self, row: usize, column: usize, value: Option<f64>) {
        if let Some(value) = value.filter(|value| value.is_finite()) {
            self.samples.entry((row, column)).or_default().push(value);
        }
    }

    /// The median of the samples of `row` in `column`.
    pub(crate) fn median(&self, row: usize, column: usize) -> Option<f64> {
        median(self.samples.get(&(row, column))?)
    }

    fn derived_value(&self, derived: &Derived, row: usize) -> Option<f64> {
        let (numerator_row, numerator_column) = (derived.numerator)(row)?;
        let (denominator_row, denominator_column) = (derived.denominator)(row)?;
        let denominator = self.median(denominator_row, denominator_column)?;
        (denominator != 0.0).then_some(self.median(numerator_row, numerator_column)? / denominator)
    }

    /// The table in Markdown: a heading, then one line per row with every median.
    pub(crate) fn markdown(&self) -> String {
        let mut text = format!("### {}\n\n| |", self.title);
        for name in self
            .columns
            .iter()
            .chain(self.derived.iter().map(|derived| &derived.name))
        {
            write!(text, " {name} |").expect("writing to a String cannot fail");
        }
        text.push_str("\n|---|");
        for _ in 0..self.columns.len() + self.derived.len() {
            text.push_str("---:|");
        }
        text.push('\n');
        for (row, name) in self.rows.iter().enumerate() {
            write!(text, "| {name} |").expect("writing to a String cannot fail");
            for column in 0..self.columns.len() {
                write!(text, " {} |", format_number(self.median(row, column)))
                    .expect("writing to a String cannot fail");
            }
            for derived in &self.derived {
                let ratio = self
                    .derived_value(derived, row)
                    .map_or_else(|| "–".to_owned(), |ratio| format!("{ratio:.2}×"));
                write!(text, " {ratio} |").expect("writing to a String cannot fail");
            }
            text.push('\n');
        }
        text
    }

    /// The table as JSON: the medians and every sample, by row and column name.
    pub(crate) fn json(&self) -> Value {
        let mut rows = serde_json::Map::new();
        for (row, row_name) in self.rows.iter().enumerate() {
            let mut cells = serde_json::Map::new();
            for (column, column_name) in self.columns.iter().enumerate() {
                let samples = self
                    .samples
                    .get(&(row, column))
                    .cloned()
                    .unwrap_or_default();
                cells.insert(
                    column_name.clone(),
                    json!({ "median": self.median(row, column), "samples": samples }),
                );
            }
            for derived in &self.derived {
                cells.insert(
                    derived.name.clone(),
                    json!({ "ratio": self.derived_value(derived, row) }),
                );
            }
            rows.insert(row_name.clone(), Value::Object(cells));
        }
        json!({ "title": self.title, "rows": rows })
    }
}

/// The median of `values`: the middle one, or the mean of the two middle ones.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        length if length % 2 == 1 => Some(sorted[middle]),
        _ => Some((sorted[middle - 1] + sorted[middle]) / 2.0),
    }
}

/// A median as the table shows it: three significant digits or so, thousands as `k`.
fn format_number(value: Option<f64>) -> String {
    match value {
        None => "–".to_owned(),
        Some(value) if value.abs() >= 10_000.0 => format!("{:.1}k", value / 1000.0),
        Some(value) if value.abs() >= 100.0 => format!("{value:.0}"),
        Some(value) if value.abs() >= 10.0 => format!("{value:.1}"),
        Some(value) if value.abs() >= 0.01 || value == 0.0 => format!("{value:.2}"),
        // A rare event per request (a Redis command every thousand requests) stays visible.
        Some(value) => format!("{value:.1e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn the_markdown_shows_medians_and_ratios() {
        let mut table = Table::new("t", &["req/s", "p50"], &["a", "b"]);
        for value in [10.0, 30.0, 20.0] {
            table.record(0, 0, Some(value));
            table.record(0, 1, Some(value * 2.0));
        }
        table.record(1, 0, None);
        table.record(1, 1, Some(f64::NAN));
        table.derive(Derived {
            name: "a / b".to_owned(),
            numerator: Box::new(|row| Some((row, 0))),
            denominator: Box::new(|row| Some((row, 1))),
        });
        let markdown = table.markdown();
        assert!(markdown.contains("| | a | b | a / b |"), "{markdown}");
        assert!(
            markdown.contains("| req/s | 20.0 | 40.0 | 0.50× |"),
            "{markdown}"
        );
        assert!(markdown.contains("| p50 | – | – | – |"), "{markdown}");
        assert_eq!(table.json()["rows"]["req/s"]["a"]["median"], 20.0);
        assert_eq!(format_number(Some(53_123.0)), "53.1k");
        assert_eq!(format_number(Some(1.234)), "1.23");
        assert_eq!(format_number(Some(0.0)), "0.00");
        assert_eq!(format_number(Some(0.00123)), "1.2e-3");
    }
}
