//! The SVG bar chart of the report's ratios (plotters, SVG backend only).

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// One bar: a label, a ratio, and the category that colours it.
#[derive(Clone, Debug)]
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) ratio: f64,
    pub(crate) category: Category,
}

/// What a bar compares, which sets its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Category {
    /// hookrt / tokio on one workload.
    HookrtVsTokio,
    /// hookrt with a hook or context / hookrt.
    Instrumented,
    /// tokio with a wrapper or task-local / tokio.
    TokioInstrumented,
    /// Node.js modes / Node.js plain.
    Node,
    /// Heap bytes per idle task, hookrt / tokio.
    Memory,
}

impl Category {
    fn color(self) -> RGBColor {
        match self {
            Category::HookrtVsTokio => RGBColor(0x1f, 0x77, 0xb4),
            Category::Instrumented => RGBColor(0x2c, 0xa0, 0x2c),
            Category::TokioInstrumented => RGBColor(0xff, 0x7f, 0x0e),
            Category::Node => RGBColor(0x94, 0x67, 0xbd),
            Category::Memory => RGBColor(0x8c, 0x56, 0x4b),
        }
    }

    fn legend(self) -> &'static str {
        match self {
            Category::HookrtVsTokio => "hookrt / tokio",
            Category::Instrumented => "hookrt + hook or context / hookrt",
            Category::TokioInstrumented => "tokio + metrics or task_local / tokio",
            Category::Node => "Node.js mode / Node.js plain",
            Category::Memory => "heap per idle task, hookrt / tokio",
        }
    }
}

const ALL_CATEGORIES: [Category; 5] = [
    Category::HookrtVsTokio,
    Category::Instrumented,
    Category::TokioInstrumented,
    Category::Node,
    Category::Memory,
];

/// Draws `bars` top to bottom as horizontal bars, with a rule at 1.0, into an SVG file
/// at `path`.
pub(crate) fn draw(path: &Path, title: &str, bars: &[Bar]) -> Result<(), String> {
    let n = bars.len();
    if n == 0 {
        return Err("no ratio to draw".to_owned());
    }
    let categories: Vec<Category> = ALL_CATEGORIES
        .into_iter()
        .filter(|c| bars.iter().any(|b| b.category == *c))
        .collect();
    let rows = u32::try_from(n).map_err(|e| e.to_string())?;
    let chart_height = 100 + 22 * rows;
    let legend_height = 10 + 20 * u32::try_from(categories.len()).unwrap_or(0);
    let root = SVGBackend::new(path, (1000, chart_height + legend_height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (upper, legend) = root.split_vertically(chart_height);
    let max = bars.iter().map(|b| b.ratio).fold(1.0_f64, f64::max) * 1.15;

    let mut chart = ChartBuilder::on(&upper)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(330)
        .build_cartesian_2d(0.0..max, (0..n).into_segmented())
        .map_err(|e| e.to_string())?;
    // Row 0 is at the bottom of a segmented axis: bar i goes to row n - 1 - i.
    let label_of = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(row) if *row < n => bars[n - 1 - row].label.clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&label_of)
        .x_desc("ratio (lower is faster / smaller; 1.0 = same as the baseline)")
        .draw()
        .map_err(|e| e.to_string())?;

    chart
        .draw_series(bars.iter().enumerate().map(|(i, bar)| {
            let row = n - 1 - i;
            let mut rect = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row)),
                    (bar.ratio, SegmentValue::Exact(row + 1)),
                ],
                bar.category.color().filled(),
            );
            rect.set_margin(3, 3, 0, 0);
            rect
        }))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, bar)| {
            Text::new(
                format!(" {:.2}", bar.ratio),
                (bar.ratio, SegmentValue::CenterOf(n - 1 - i)),
                ("sans-serif", 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )
        }))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(1.0, SegmentValue::Exact(0)), (1.0, SegmentValue::Exact(n))],
            BLACK.stroke_width(1),
        )))
        .map_err(|e| e.to_string())?;

    // The legend: one swatch per category present, under the chart.
    for (i, category) in categories.into_iter().enumerate() {
        let (x, y) = (342, 20 * i32::try_from(i).unwrap_or(0));
        legend
            .draw(&Rectangle::new(
                [(x, y), (x + 14, y + 14)],
                category.color().filled(),
            ))
            .map_err(|e| e.to_string())?;
        legend
            .draw(&Text::new(
                category.legend(),
                (x + 20, y + 1),
                ("sans-serif", 13).into_font(),
            ))
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}
