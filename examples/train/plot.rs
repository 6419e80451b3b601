//! The example's figures: loss curves, a scatter of 2-D samples over the modes, and a grid of
//! generated digits.

use std::error::Error;
use std::path::Path;

use crate::canvas::{Canvas, Rgb, BLACK, GREY, WHITE};
use crate::data::Mixture;
use crate::metrics::THRESHOLD_STDS;

const D_COLOUR: Rgb = [31, 119, 180];
const D_RAW_COLOUR: Rgb = [190, 215, 235];
const G_COLOUR: Rgb = [230, 110, 0];
const G_RAW_COLOUR: Rgb = [250, 215, 180];
const SAMPLE_COLOUR: Rgb = [31, 119, 180];
const MODE_COLOUR: Rgb = [214, 39, 40];

/// A plot area inside a canvas and the data ranges it shows.
struct Frame {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    x_range: (f64, f64),
    y_range: (f64, f64),
}

impl Frame {
    fn to_pixel(&self, x: f64, y: f64) -> (f64, f64) {
        let fx = (x - self.x_range.0) / (self.x_range.1 - self.x_range.0);
        let fy = (y - self.y_range.0) / (self.y_range.1 - self.y_range.0);
        (
            self.left + fx * self.width,
            self.top + (1.0 - fy) * self.height,
        )
    }

    /// Draws the grid, the border, the tick labels and the axis labels.
    fn draw_axes(&self, canvas: &mut Canvas, x_label: &str, y_label: &str) {
        let bottom = self.top + self.height;
        let right = self.left + self.width;
        for tick in nice_ticks(self.x_range.0, self.x_range.1) {
            let (px, _) = self.to_pixel(tick, self.y_range.0);
            canvas.line((px, self.top), (px, bottom), 1, GREY);
            let label = format_tick(tick);
            let half = Canvas::text_width(&label, 1) as f64 / 2.0;
            canvas.text((px - half) as i64, bottom as i64 + 6, &label, 1, BLACK);
        }
        for tick in nice_ticks(self.y_range.0, self.y_range.1) {
            let (_, py) = self.to_pixel(self.x_range.0, tick);
            canvas.line((self.left, py), (right, py), 1, GREY);
            let label = format_tick(tick);
            let width = Canvas::text_width(&label, 1);
            canvas.text(
                self.left as i64 - width - 6,
                py as i64 - 4,
                &label,
                1,
                BLACK,
            );
        }

        let corners = [
            (self.left, self.top),
            (right, self.top),
            (right, bottom),
            (self.left, bottom),
        ];
        for index in 0..4 {
            canvas.line(corners[index], corners[(index + 1) % 4], 1, BLACK);
        }

        let x_width = Canvas::text_width(x_label, 1) as f64;
        let x_centre = self.left + self.width / 2.0 - x_width / 2.0;
        canvas.text(x_centre as i64, bottom as i64 + 22, x_label, 1, BLACK);
        canvas.text(
            self.left as i64 - 50,
            self.top as i64 - 16,
            y_label,
            1,
            BLACK,
        );
    }
}

/// Returns about five round tick values (1, 2, 2.5 or 5 times a power of ten apart) inside
/// [low, high].
fn nice_ticks(low: f64, high: f64) -> Vec<f64> {
    let span = high - low;
    if !(span.is_finite() && span > 0.0) {
        return vec![low];
    }
    let raw_step = span / 6.0;
    let magnitude = 10f64.powf(raw_step.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|factor| factor * magnitude)
        .find(|&step| step >= raw_step)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    (first..=last).map(|index| index as f64 * step).collect()
}

/// Formats a tick value compactly: thousands as "k", few decimals.
fn format_tick(value: f64) -> String {
    if value.abs() >= 1000.0 && (value / 1000.0).fract() == 0.0 {
        format!("{}k", value / 1000.0)
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').to_string()
    }
}

/// Computes the trailing moving average over `window` values.
fn moving_average(values: &[f32], window: usize) -> Vec<f64> {
    let mut averages = Vec::with_capacity(values.len());
    let mut sum = 0.0;
    for (index, &value) in values.iter().enumerate() {
        sum += f64::from(value);
        if index >= window {
            sum -= f64::from(values[index - window]);
        }
        averages.push(sum / (index + 1).min(window) as f64);
    }
    averages
}

/// Returns the value at quantile `q` of the finite entries of `values`, or `None` if there are
/// none.
fn quantile(values: &[f32], q: f64) -> Option<f64> {
    let mut finite = values
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| f64::from(v))
        .collect::<Vec<_>>();
    if finite.is_empty() {
        return None;
    }
    finite.sort_by(f64::total_cmp);
    let index = ((finite.len() - 1) as f64 * q).round() as usize;
    Some(finite[index])
}

/// Draws the per-iteration D and G losses (light) and their moving averages (dark).
///
/// # Errors
/// When the PNG cannot be written.
pub fn loss_curves(path: &Path, d: &[f32], g: &[f32], title: &str) -> Result<(), Box<dyn Error>> {
    let mut canvas = Canvas::new(900, 520, WHITE);
    let window = (d.len() / 100).max(1);
    let d_smooth = moving_average(d, window);
    let g_smooth = moving_average(g, window);

    // The 1st to 99th percentiles of the raw values, so a few spikes do not flatten the curves.
    let both = [d, g].concat();
    let low = quantile(&both, 0.01).unwrap_or(0.0);
    let high = quantile(&both, 0.99).unwrap_or(1.0);
    let pad = ((high - low) * 0.05).max(1e-3);
    let frame = Frame {
        left: 80.0,
        top: 50.0,
        width: 790.0,
        height: 410.0,
        x_range: (0.0, d.len().max(2) as f64 - 1.0),
        y_range: (low - pad, high + pad),
    };
    frame.draw_axes(&mut canvas, "iteration", "loss");

    let clamp = |y: f64| y.clamp(frame.y_range.0, frame.y_range.1);
    let series = [
        (
            d.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
            D_RAW_COLOUR,
            1,
        ),
        (g.iter().map(|&v| f64::from(v)).collect(), G_RAW_COLOUR, 1),
        (d_smooth, D_COLOUR, 2),
        (g_smooth, G_COLOUR, 2),
    ];
    for (values, colour, thickness) in &series {
        for (index, pair) in values.windows(2).enumerate() {
            if !(pair[0].is_finite() && pair[1].is_finite()) {
                continue;
            }
            let from = frame.to_pixel(index as f64, clamp(pair[0]));
            let to = frame.to_pixel(index as f64 + 1.0, clamp(pair[1]));
            canvas.line(from, to, *thickness, *colour);
        }
    }

    canvas.text(80, 14, title, 2, BLACK);
    let note = format!("light: per iteration, dark: mean of {window}");
    let legend_x = (frame.left + frame.width) as i64 - Canvas::text_width(&note, 1) - 10;
    canvas.fill_rect(
        legend_x - 4,
        56,
        Canvas::text_width(&note, 1) + 8,
        50,
        WHITE,
    );
    canvas.fill_rect(legend_x, 62, 20, 4, D_COLOUR);
    canvas.text(legend_x + 28, 60, "D loss", 1, BLACK);
    canvas.fill_rect(legend_x, 78, 20, 4, G_COLOUR);
    canvas.text(legend_x + 28, 76, "G loss", 1, BLACK);
    canvas.text(legend_x, 92, &note, 1, BLACK);
    canvas.save(path)
}

/// Draws 2-D samples (row-major pairs) over the mixture's centres, each centre circled at the
/// evaluation threshold, under a large `title` and a small `subtitle`.
///
/// # Errors
/// When the PNG cannot be written.
pub fn scatter(
    path: &Path,
    samples: &[f32],
    mixture: &Mixture,
    title: &str,
    subtitle: &str,
) -> Result<(), Box<dyn Error>> {
    let mut canvas = Canvas::new(640, 690, WHITE);
    let reach = mixture
        .centres
        .iter()
        .flat_map(|c| [c[0].abs(), c[1].abs()])
        .fold(0.0, f64::max);
    let extent = reach * 1.35 + 10.0 * mixture.std;
    let frame = Frame {
        left: 70.0,
        top: 70.0,
        width: 550.0,
        height: 550.0,
        x_range: (-extent, extent),
        y_range: (-extent, extent),
    };
    frame.draw_axes(&mut canvas, "x", "y");

    let inside = |v: f64| v.abs() <= extent;
    for pair in samples.chunks_exact(2) {
        let (x, y) = (f64::from(pair[0]), f64::from(pair[1]));
        if inside(x) && inside(y) {
            let (px, py) = frame.to_pixel(x, y);
            canvas.disc(px, py, 1.3, SAMPLE_COLOUR);
        }
    }

    let pixels_per_unit = frame.width / (2.0 * extent);
    let radius = THRESHOLD_STDS * mixture.std * pixels_per_unit;
    for centre in &mixture.centres {
        let (px, py) = frame.to_pixel(centre[0], centre[1]);
        canvas.circle(px, py, radius.max(3.0), MODE_COLOUR);
        canvas.line((px - 3.0, py), (px + 3.0, py), 1, MODE_COLOUR);
        canvas.line((px, py - 3.0), (px, py + 3.0), 1, MODE_COLOUR);
    }

    canvas.text(70, 8, title, 2, BLACK);
    canvas.text(70, 30, subtitle, 1, BLACK);
    let legend = "blue: samples; red: mode centres, circled at 3 std";
    canvas.text(70, 42, legend, 1, BLACK);
    canvas.save(path)
}

/// Draws images of 8×8 values in [−1, 1] as dark ink on white, `columns` to a row.
///
/// # Errors
/// When the PNG cannot be written.
pub fn digit_grid(
    path: &Path,
    images: &[f32],
    columns: usize,
    title: &str,
) -> Result<(), Box<dyn Error>> {
    const SIDE: usize = 8;
    const ZOOM: usize = 5;
    const GAP: usize = 4;
    const MARGIN: usize = 20;
    const TITLE_HEIGHT: usize = 40;

    let count = images.len() / (SIDE * SIDE);
    let columns = columns.max(1);
    let rows = count.div_ceil(columns).max(1);
    let cell = SIDE * ZOOM + GAP;
    let title_width = Canvas::text_width(title, 2) as usize;
    let width = (2 * MARGIN + columns * cell).max(2 * MARGIN + title_width);
    let height = TITLE_HEIGHT + MARGIN + rows * cell;
    let mut canvas = Canvas::new(width, height, WHITE);
    canvas.text(MARGIN as i64, 12, title, 2, BLACK);

    for (index, image) in images.chunks_exact(SIDE * SIDE).enumerate() {
        let left = MARGIN + (index % columns) * cell;
        let top = TITLE_HEIGHT + (index / columns) * cell;
        for (pixel, &value) in image.iter().enumerate() {
            let ink = ((f64::from(value).clamp(-1.0, 1.0) + 1.0) / 2.0 * 255.0).round() as u8;
            let shade = 255 - ink;
            let x = left + (pixel % SIDE) * ZOOM;
            let y = top + (pixel / SIDE) * ZOOM;
            let size = ZOOM as i64;
            canvas.fill_rect(x as i64, y as i64, size, size, [shade; 3]);
        }
    }
    canvas.save(path)
}
