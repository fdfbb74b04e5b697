//! Bar and stacked-bar charts, drawn on the server as SVG by one small
//! template (`templates/dashboard/chart.html`): this file only works out
//! the geometry. No script, no inline style (the CSP forbids both): every
//! mark carries a class that the stylesheet colours. The chart is hidden
//! from screen readers; the table beside it says the same in words, and is
//! what a printout or a reader uses.
//!
//! Each row is a label line above its bar, so a long stage name never
//! squeezes the bar and the chart keeps its width on a 390-pixel phone (the
//! SVG scales to its box; its units are not pixels).

/// The drawing's width in SVG units.
const WIDTH: u32 = 360;
/// Room at the right of the longest bar for its value.
const VALUE_ROOM: u32 = 44;
const ROW: u32 = 34;
const BAR: u32 = 12;
const LABEL_BASELINE: u32 = 12;
const BAR_TOP: u32 = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub x: u32,
    pub width: u32,
    /// One of the `chart-*` classes of app.css.
    pub class: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub label: String,
    pub label_y: u32,
    pub bar_y: u32,
    pub value_y: u32,
    pub value_x: u32,
    pub value: String,
    pub segments: Vec<Segment>,
    /// A vertical mark at this x (a shelter's capacity).
    pub marker: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    /// The length of a full bar (the faint track behind each bar).
    pub track: u32,
    pub bar: u32,
    pub rows: Vec<Row>,
}

/// One bar: its label, its parts (value, class) stacked left to right, the
/// text shown after it, and an optional marker value on the same scale.
pub struct Bar {
    pub label: String,
    pub parts: Vec<(usize, &'static str)>,
    pub value: String,
    pub marker: Option<usize>,
}

/// Lay out bars on one scale: the longest bar (or marker) spans the width
/// less the room for its value.
pub fn bars(input: Vec<Bar>) -> Chart {
    let span = WIDTH - VALUE_ROOM;
    let largest = input
        .iter()
        .map(|b| b.parts.iter().map(|(v, _)| *v).sum::<usize>().max(b.marker.unwrap_or(0)))
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |v: usize| -> u32 {
        // Rounded, and at least one unit for a value above zero, so a small
        // figure is still seen.
        let w = (v as u64 * u64::from(span) + largest as u64 / 2) / largest as u64;
        let w = u32::try_from(w).unwrap_or(span);
        if v > 0 { w.max(1) } else { 0 }
    };
    let mut rows = Vec::with_capacity(input.len());
    for (i, bar) in input.into_iter().enumerate() {
        let top = u32::try_from(i).unwrap_or(u32::MAX / ROW).saturating_mul(ROW);
        let mut x = 0;
        let mut segments = Vec::new();
        let mut total = 0;
        for (value, class) in bar.parts {
            total += value;
            // Each segment ends where the running total ends, so rounding
            // never makes the stack longer than the total's own bar.
            let end = scale(total);
            if end > x {
                segments.push(Segment { x, width: end - x, class });
                x = end;
            }
        }
        let marker = bar.marker.map(scale);
        rows.push(Row {
            label: bar.label,
            label_y: top + LABEL_BASELINE,
            bar_y: top + BAR_TOP,
            value_y: top + BAR_TOP + BAR - 1,
            value_x: x.max(marker.unwrap_or(0)) + 4,
            value: bar.value,
            segments,
            marker,
        });
    }
    let height = u32::try_from(rows.len()).unwrap_or(0).saturating_mul(ROW).max(ROW);
    Chart { width: WIDTH, height, track: span, bar: BAR, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(parts: Vec<(usize, &'static str)>, marker: Option<usize>) -> Bar {
        Bar { label: "x".into(), parts, value: String::new(), marker }
    }

    #[test]
    fn the_longest_bar_fills_the_span_and_stacks_never_overrun() {
        let chart = bars(vec![bar(vec![(1, "a"), (1, "b"), (1, "c")], None), bar(vec![(9, "a")], None)]);
        let span = WIDTH - VALUE_ROOM;
        assert_eq!(chart.rows[1].segments, vec![Segment { x: 0, width: span, class: "a" }]);
        let stack = &chart.rows[0].segments;
        assert_eq!(stack.len(), 3);
        assert_eq!(stack.iter().map(|s| s.width).sum::<u32>(), (3 * span + 4) / 9);
        assert!(stack.windows(2).all(|w| w[0].x + w[0].width == w[1].x), "no gaps, no overlap");
        assert_eq!(chart.height, 2 * ROW);
    }

    #[test]
    fn zero_draws_nothing_and_a_tiny_value_still_shows() {
        let chart =
            bars(vec![bar(vec![(0, "a")], None), bar(vec![(1, "a")], None), bar(vec![(10_000, "a")], None)]);
        assert!(chart.rows[0].segments.is_empty());
        assert_eq!(chart.rows[1].segments[0].width, 1);
        let empty = bars(Vec::new());
        assert!(empty.rows.is_empty() && empty.height > 0);
    }

    #[test]
    fn a_marker_shares_the_scale() {
        // Capacity 10 with 5 people: the bar is half the marker's position.
        let chart = bars(vec![bar(vec![(5, "a")], Some(10))]);
        let row = &chart.rows[0];
        assert_eq!(row.marker, Some(WIDTH - VALUE_ROOM));
        assert_eq!(row.segments[0].width * 2, WIDTH - VALUE_ROOM);
    }
}
